import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ItemKind } from '../../../lambda/shared/policy';
import { POLICY } from '../../../modules/policy';

const KIND_LABELS: Record<ItemKind, string> = {
  tool: 'tool',
  resource: 'resource',
  resourceTemplate: 'resource template',
  prompt: 'prompt',
};

/** The README's role table, rendered from the policy table. */
function roleTable(): string {
  const roles = Object.keys(POLICY.roles);
  const header = `| Item | Kind | Needs permission | ${roles.join(' | ')} |`;
  const align = `|---|---|---|${roles.map(() => ':-:').join('|')}|`;
  const rows = (['tool', 'resource', 'resourceTemplate', 'prompt'] as const).flatMap((kind) =>
    POLICY.items[kind].map((item) => {
      const cells = roles.map((role) =>
        (POLICY.roles[role] ?? []).includes(item.permission) ? 'yes' : '—',
      );
      const name =
        item.uri === undefined ? `\`${item.name}\`` : `\`${item.name}\` (\`${item.uri}\`)`;
      return `| ${name} | ${KIND_LABELS[kind]} | \`${item.permission}\` | ${cells.join(' | ')} |`;
    }),
  );
  return [header, align, ...rows].join('\n');
}

describe('README', () => {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');

  it('shows the role table exactly as the policy table defines it', () => {
    const section = /<!-- role-table:start -->\n([\s\S]*?)\n<!-- role-table:end -->/.exec(readme);
    expect(section?.[1]).toBe(roleTable());
  });

  it('gives the command that runs the tests', () => {
    expect(readme).toContain('npm test');
  });
});
