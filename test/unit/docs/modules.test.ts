/**
 * docs/modules.md quotes compiled code only: each of its snippets names the file it is quoted
 * from, and is in that file word for word, whole lines.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { snippetsOf } from '../../support/doc-snippets';

const read = (path: string) => readFileSync(new URL(`../../../${path}`, import.meta.url), 'utf8');
const doc = read('docs/modules.md');
const snippets = snippetsOf(doc);

describe('docs/modules.md', () => {
  it('quotes the example module the README grows, and its rules and quota', () => {
    expect(new Set(snippets.map((snippet) => snippet.path))).toEqual(
      new Set([
        'examples/orders-module/full-module.ts',
        'examples/orders-module/rules.ts',
        'examples/orders-module/quotas.ts',
      ]),
    );
  });

  it.each(snippets.map((snippet) => [`${snippet.path} (line ${snippet.line})`, snippet] as const))(
    'has the snippet at %s word for word in its file',
    (_label, snippet) => {
      // Prepare
      expect(existsSync(new URL(`../../../${snippet.path}`, import.meta.url))).toBe(true);
      const lines = `\n${read(snippet.path)}`;

      // Assess: whole lines of the file, in order.
      expect(lines).toContain(`\n${snippet.body}\n`);
    },
  );
});
