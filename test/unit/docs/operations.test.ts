import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AUDIT_EVENTS, AUDIT_FIELDS, TOOL_CALL_STATUS } from '../../../lambda/shared/audit';
import { CONFIG_KEYS } from '../../../lib/config';

const read = (path: string) => readFileSync(new URL(`../../../${path}`, import.meta.url), 'utf8');

/** The keys named in the first column of a page section's table. */
function tableKeys(page: string, heading: string): string[] {
  const start = page.indexOf(`\n${heading}\n`);
  const end = page.indexOf('\n## ', start + heading.length + 2);
  const section = page.slice(start, end === -1 ? undefined : end);
  return section
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .flatMap((line) => [...(line.split('|')[1] ?? '').matchAll(/`(\w+)`/g)])
    .map((match) => match[1] ?? '');
}

describe('docs/operations.md', () => {
  const page = read('docs/operations.md');

  it('documents every -c key lib/config.ts reads, and no other', () => {
    const documented = new Set(tableKeys(page, '## Configuration'));
    // The alarm thresholds may be documented with their alarms instead.
    const alarms = existsSync(new URL('../../../docs/alarms.md', import.meta.url))
      ? read('docs/alarms.md')
      : '';
    const missing = CONFIG_KEYS.filter(
      (key) => !documented.has(key) && !alarms.includes(`\`${key}\``),
    );
    const unknown = [...documented].filter((key) => !(CONFIG_KEYS as string[]).includes(key));
    expect(documented.size).toBeGreaterThan(0);
    expect(missing).toEqual([]);
    expect(unknown).toEqual([]);
  });

  it('shows an audit record with only the field and event names the logger writes', () => {
    const shown =
      /<!-- audit-record:start -->\n```json\n([\s\S]*?)\n```\n<!-- audit-record:end -->/.exec(
        page,
      )?.[1];
    const record = JSON.parse(shown ?? 'null') as Record<string, unknown>;
    const logger = ['level', 'message', 'service', 'timestamp'];
    const fields = new Set<string>(Object.values(AUDIT_FIELDS));
    const unknown = Object.keys(record).filter((key) => !logger.includes(key) && !fields.has(key));
    expect(unknown).toEqual([]);
    expect(Object.values(AUDIT_EVENTS)).toContain(record.event);
    expect(record.message).toBe(record.event);
    expect(Object.values(TOOL_CALL_STATUS)).toContain(record.status);
  });
});
