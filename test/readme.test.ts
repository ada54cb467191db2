import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ROLE_PERMISSIONS, ROLES, TOOL_NAMES, TOOL_PERMISSIONS } from '../lambda/shared/policy';

/** The README's role table, rendered from the policy table. */
function roleTable(): string {
  const header = `| Tool | Needs permission | ${ROLES.join(' | ')} |`;
  const align = `|---|---|${ROLES.map(() => ':-:').join('|')}|`;
  const rows = TOOL_NAMES.map((tool) => {
    const permission = TOOL_PERMISSIONS[tool];
    const cells = ROLES.map((role) =>
      (ROLE_PERMISSIONS[role] as readonly string[]).includes(permission) ? 'yes' : '—',
    );
    return `| \`${tool}\` | \`${permission}\` | ${cells.join(' | ')} |`;
  });
  return [header, align, ...rows].join('\n');
}

describe('README', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

  it('shows the role table exactly as the policy table defines it', () => {
    const section = /<!-- role-table:start -->\n([\s\S]*?)\n<!-- role-table:end -->/.exec(readme);
    expect(section?.[1]).toBe(roleTable());
  });

  it('gives the command that runs the tests', () => {
    expect(readme).toContain('npm test');
  });
});
