import { describe, expect, it } from 'vitest';
import { applySnippet, type Snippet, sectionOf, snippetsOf } from './doc-snippets';

const DOC = [
  'Intro',
  '<!-- steps:start -->',
  '```ts',
  '// src/new.ts',
  "export const a = 'a';",
  '```',
  '',
  '```sh',
  'npm test',
  '```',
  '',
  '```ts',
  '// src/list.ts: the import, and the entry',
  "import { b } from './b';",
  '  b,',
  '```',
  '<!-- steps:end -->',
].join('\n');

const snippet = (path: string, body: string): Snippet => ({
  lang: 'ts',
  path,
  note: undefined,
  body,
  line: 1,
});

describe('sectionOf', () => {
  it('gives the text between the markers', () => {
    expect(sectionOf(DOC, 'steps')).toMatch(/^<!-- steps:start -->[\s\S]*entry[\s\S]*```\n$/);
  });

  it('throws when the markers are missing', () => {
    expect(() => sectionOf(DOC, 'other')).toThrow('No <!-- other:start/end --> section');
  });
});

describe('snippetsOf', () => {
  it('reads each snippet of the language: its path, note, body and line', () => {
    expect(snippetsOf(DOC)).toEqual([
      { lang: 'ts', path: 'src/new.ts', note: undefined, body: "export const a = 'a';", line: 3 },
      {
        lang: 'ts',
        path: 'src/list.ts',
        note: 'the import, and the entry',
        body: "import { b } from './b';\n  b,",
        line: 12,
      },
    ]);
  });

  it('refuses a snippet that does not name its file', () => {
    expect(() => snippetsOf('```ts\nconst x = 1;\n```\n')).toThrow(
      'The ts snippet at line 1 does not start with // <path>',
    );
  });
});

describe('applySnippet', () => {
  it('writes a new file whole', () => {
    expect(applySnippet(undefined, snippet('a.ts', 'const a = 1;'))).toBe('const a = 1;\n');
  });

  it('adds imports after the last import and entries at the end of the first exported list', () => {
    // Prepare
    const existing = [
      "import { a } from './a';",
      'import {',
      '  c,',
      "} from './c';",
      '',
      'export const LIST = [',
      '  a,',
      '] as const;',
      '',
      'export function f() {',
      '  return 1;',
      '}',
      '',
    ].join('\n');

    // Act
    const result = applySnippet(existing, snippet('list.ts', "import { b } from './b';\n  b,"));

    // Assess
    expect(result).toBe(
      [
        "import { a } from './a';",
        'import {',
        '  c,',
        "} from './c';",
        "import { b } from './b';",
        '',
        'export const LIST = [',
        '  a,',
        '  b,',
        '] as const;',
        '',
        'export function f() {',
        '  return 1;',
        '}',
        '',
      ].join('\n'),
    );
  });

  it('adds none of the lines the file has already', () => {
    // Prepare
    const done = "import { b } from './b';\n\nexport const LIST = [\n  b,\n];\n";

    // Act and Assess
    expect(applySnippet(done, snippet('list.ts', "import { b } from './b';\n  b,"))).toBe(done);
  });

  it('refuses lines for a file with nothing exported to add them to', () => {
    expect(() => applySnippet('const x = 1;\n', snippet('x.ts', '  y,'))).toThrow(
      'x.ts has no exported list or object',
    );
  });
});
