/**
 * The table `npm run verify` prints: one row a check, ✔ / ✘ / –, what was seen, and under a ✘
 * what to do. Credentials never reach it: any an answer echoed are blanked.
 */
import type { Mark, Row } from './checks';
import type { Verification } from './run';

export const MARKS: Readonly<Record<Mark, string>> = { pass: '✔', fail: '✘', skip: '–' };

/** Replace every credential in a text (an echoed token, a key in an error) with a marker. */
export function redact(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret !== undefined && secret.length > 0) out = out.split(secret).join('[credential]');
  }
  return out;
}

/** 1 when any row is ✘, else 0: the command's exit code. */
export function exitCodeOf(rows: readonly Row[]): 0 | 1 {
  return rows.some((row) => row.mark === 'fail') ? 1 : 0;
}

/** The printed report. */
export function renderReport(
  { target, rows }: Verification,
  secrets: readonly (string | undefined)[],
): string {
  const width = Math.max(...rows.map((row) => row.title.length));
  const indent = ' '.repeat(width + 5);
  const lines = [`Verifying ${target.mcpUrl}`, ''];
  for (const row of rows) {
    lines.push(`  ${MARKS[row.mark]} ${row.title.padEnd(width)}  ${row.detail}`);
    if (row.fix !== undefined) lines.push(`${indent}→ ${row.fix}`);
  }
  const count = (mark: Mark) => rows.filter((row) => row.mark === mark).length;
  lines.push(
    '',
    `${count('pass')} ${MARKS.pass}  ${count('fail')} ${MARKS.fail}  ${count('skip')} ${MARKS.skip} (not applicable)`,
  );
  return `${redact(lines.join('\n'), secrets)}\n`;
}
