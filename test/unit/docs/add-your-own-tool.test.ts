/**
 * The README's "Add your own tool" shows compiled code: each new file exactly as
 * examples/orders-module has it, and lines to add that fit the deployment's files
 * (test/integration/examples/add-your-own-tool.test.ts then follows the steps on a copy).
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { applySnippet, sectionOf, snippetsOf } from '../../support/doc-snippets';

const read = (path: string) => readFileSync(new URL(`../../../${path}`, import.meta.url), 'utf8');
const exists = (path: string) => existsSync(new URL(`../../../${path}`, import.meta.url));
const snippets = snippetsOf(sectionOf(read('README.md'), 'add-your-own-tool'));
/** Where examples/ compiles a new file of the steps (modules/orders/x.ts). */
const exampleOf = (path: string) => path.replace(/^modules\/orders\//, 'examples/orders-module/');
// A new file is one examples/ compiles; the rest are lines to add to the deployment's files
// (whether or not a deployment has followed the steps already).
const newFiles = snippets.filter((snippet) => exampleOf(snippet.path) !== snippet.path);
const additions = snippets.filter((snippet) => exampleOf(snippet.path) === snippet.path);

describe('"Add your own tool" in the README', () => {
  it('shows each new file exactly as examples/orders-module compiles it', () => {
    // Assess
    expect(newFiles.map((snippet) => snippet.path)).toEqual([
      'modules/orders/module.ts',
      'modules/orders/infra.ts',
    ]);
    for (const snippet of newFiles) {
      const compiled = read(exampleOf(snippet.path));
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
      const after = applySnippet(read(snippet.path), snippet).split('\n');
      for (const line of snippet.body.split('\n')) expect(after).toContain(line);
    }
  });
});
