/**
 * The role table as Markdown: which role may use which tool, resource, resource template and
 * prompt, rendered from the policy table. `npm run policy -- roles` prints the deployment's;
 * `docs/authorization.md` shows the example deployment's, held to the policy by its test.
 */
import type { ItemKind, PolicyTable } from '../../lambda/shared/policy';

const KIND_LABELS: Record<ItemKind, string> = {
  tool: 'tool',
  resource: 'resource',
  resourceTemplate: 'resource template',
  prompt: 'prompt',
};

/** How a table row names its item: the name, and for a resource its URI. */
export function itemLabel(item: { readonly name: string; readonly uri?: string }): string {
  return item.uri === undefined ? `\`${item.name}\`` : `\`${item.name}\` (\`${item.uri}\`)`;
}

/**
 * The table, one row per item in declaration order, one column per role.
 * @param only limits the table to these roles and item labels (in the policy's order)
 */
export function roleTable(
  policy: PolicyTable,
  only?: { readonly roles: ReadonlySet<string>; readonly items: ReadonlySet<string> },
): string {
  const roles = Object.keys(policy.roles).filter((role) => only?.roles.has(role) ?? true);
  const header = `| Item | Kind | Needs permission | ${roles.join(' | ')} |`;
  const align = `|---|---|---|${roles.map(() => ':-:').join('|')}|`;
  const rows = (['tool', 'resource', 'resourceTemplate', 'prompt'] as const).flatMap((kind) =>
    policy.items[kind]
      .filter((item) => only?.items.has(itemLabel(item)) ?? true)
      .map((item) => {
        const cells = roles.map((role) =>
          (policy.roles[role] ?? []).includes(item.permission) ? 'yes' : '—',
        );
        return `| ${itemLabel(item)} | ${KIND_LABELS[kind]} | \`${item.permission}\` | ${cells.join(' | ')} |`;
      }),
  );
  return [header, align, ...rows].join('\n');
}
