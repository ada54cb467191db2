/**
 * docs/authorization.md shows the example deployment's role table. The deployment is yours to
 * change (a module, a role), so the check is that every cell the page shows is what the policy
 * says, for the roles and items that still exist; `npm run policy -- roles` prints the whole
 * table of the deployment as it is.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { POLICY } from '../../../modules/policy';
import { itemLabel, roleTable } from '../../../tools/cli/role-table';

const page = readFileSync(new URL('../../../docs/authorization.md', import.meta.url), 'utf8');
const shown = /<!-- role-table:start -->\n([\s\S]*?)\n<!-- role-table:end -->/.exec(page)?.[1];

/** The page's table without the rows and columns of items and roles the policy no longer has. */
function shownForTheDeployment(table: string): {
  text: string;
  roles: Set<string>;
  items: Set<string>;
} {
  const [header = '', , ...rows] = table.split('\n');
  const cellsOf = (line: string) =>
    line.split(' | ').map((cell) => cell.replace(/^\| |\s\|$/g, ''));
  const columns = cellsOf(header);
  const keep = columns.map((name, index) => index < 3 || Object.hasOwn(POLICY.roles, name));
  const labels = new Set(
    Object.values(POLICY.items)
      .flat()
      .map((item) => itemLabel(item)),
  );
  const kept = rows.filter((row) => labels.has(cellsOf(row)[0] ?? ''));
  const project = (line: string) =>
    `| ${cellsOf(line)
      .filter((_, index) => keep[index])
      .join(' | ')} |`;
  const roles = new Set(columns.slice(3).filter((_, index) => keep[index + 3]));
  const text = [
    project(header),
    `|---|---|---|${[...roles].map(() => ':-:').join('|')}|`,
    ...kept.map(project),
  ].join('\n');
  return { text, roles, items: new Set(kept.map((row) => cellsOf(row)[0] ?? '')) };
}

describe('docs/authorization.md', () => {
  it('shows a role table', () => {
    expect(shown?.split('\n').length).toBeGreaterThan(2);
  });

  it('shows each role and item it names exactly as the policy table grants them', () => {
    // Prepare
    const { text, roles, items } = shownForTheDeployment(shown ?? '');

    // Assess: what remains of the page's table is the policy's table for those roles and items
    expect(text).toBe(roleTable(POLICY, { roles, items }));
  });

  it('names the scope of every permission its role table shows', () => {
    // The third column of each row: `| item | kind | \`permission\` | …`
    const permissions = (shown ?? '')
      .split('\n')
      .slice(2)
      .map((row) => /^\|[^|]*\|[^|]*\| `(\w+)` \|/.exec(row)?.[1]);
    const missing = permissions.filter(
      (permission) => !page.includes(`\`secure-mcp/${permission}\``),
    );
    expect(permissions.length).toBeGreaterThan(0);
    expect(missing).toEqual([]);
  });
});
