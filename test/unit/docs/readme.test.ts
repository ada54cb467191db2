import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ItemKind } from '../../../lambda/shared/policy';
import { POLICY } from '../../../modules/policy';
import { applySnippet, sectionOf, snippetsOf } from '../../support/doc-snippets';

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
    expect(
      section?.[1],
      'The role table is out of date (a role or an item was added or removed): replace it with the table expected here',
    ).toBe(roleTable());
  });

  describe('"Add your own tool"', () => {
    const snippets = snippetsOf(sectionOf(readme, 'add-your-own-tool'));
    /** Where examples/ compiles a new file of the steps (modules/orders/x.ts). */
    const exampleOf = (path: string) =>
      path.replace(/^modules\/orders\//, 'examples/orders-module/');
    const exists = (path: string) => existsSync(new URL(`../../../${path}`, import.meta.url));
    // A new file is one examples/ compiles; the rest are lines to add to the deployment's files
    // (whether or not a deployment has followed the steps already).
    const newFiles = snippets.filter((snippet) => exampleOf(snippet.path) !== snippet.path);
    const additions = snippets.filter((snippet) => exampleOf(snippet.path) === snippet.path);

    it('shows each new file exactly as examples/orders-module compiles it', () => {
      // Assess
      expect(newFiles.map((snippet) => snippet.path)).toEqual([
        'modules/orders/module.ts',
        'modules/orders/infra.ts',
      ]);
      for (const snippet of newFiles) {
        const example = exampleOf(snippet.path);
        const compiled = readFileSync(new URL(`../../../${example}`, import.meta.url), 'utf8');
        expect(`${snippet.body}\n`, `${snippet.path} (README line ${snippet.line})`).toBe(compiled);
      }
    });

    it('adds lines to the three files a deployment lists its modules and roles in, where they fit', () => {
      // Assess
      expect(additions.map((snippet) => snippet.path)).toEqual([
        'modules/index.ts',
        'modules/infra.ts',
        'modules/roles.ts',
      ]);
      for (const snippet of additions) {
        expect(exists(snippet.path)).toBe(true);
        const current = readFileSync(new URL(`../../../${snippet.path}`, import.meta.url), 'utf8');
        const after = applySnippet(current, snippet).split('\n');
        for (const line of snippet.body.split('\n')) expect(after).toContain(line);
      }
    });
  });

  it('gives the command that runs the tests', () => {
    expect(readme).toContain('npm test');
  });
});
