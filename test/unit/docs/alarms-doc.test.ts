/**
 * docs/alarms.md: its alarm table is the alarm table (`lib/monitoring/alarms.ts`), rendered, so
 * the page cannot drift from the alarms the stack creates.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ALARMS } from '../../../lib/monitoring';
import { ALARM_TABLE_MARKERS, alarmTableMarkdown } from '../../../lib/monitoring/alarm-doc';

describe('docs/alarms.md', () => {
  const page = readFileSync(new URL('../../../docs/alarms.md', import.meta.url), 'utf8');
  const { start, end } = ALARM_TABLE_MARKERS;

  it('shows the alarm table exactly as lib/monitoring/alarms.ts defines it', () => {
    // Act
    const section = page.slice(page.indexOf(start) + start.length, page.indexOf(end));

    // Assess: on a difference, paste the expected table between the markers.
    expect(page.indexOf(start)).toBeGreaterThan(-1);
    expect(page.indexOf(end)).toBeGreaterThan(page.indexOf(start));
    expect(section, 'docs/alarms.md is generated from the alarm table').toBe(
      `\n${alarmTableMarkdown()}\n`,
    );
  });

  it('gives every alarm one line, with what to do when it fires', () => {
    // Act
    const lines = alarmTableMarkdown().split('\n').slice(2);

    // Assess
    expect(lines.map((line) => line.split(' | ')[0])).toEqual(
      ALARMS.map((alarm) => `| \`${alarm.id}\``),
    );
    for (const line of lines) expect(line).toMatch(/\*\*What to do:\*\* \S/);
  });
});
