/**
 * docs/modules.md quotes compiled code only: the example module the README grows, its rules and
 * its quota. That each snippet is in its file word for word is `snippets.test.ts`'s check, as
 * for every page.
 */
import { readFileSync } from 'node:fs';
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
});
