/**
 * Every example the docs show is checked against the code (STYLE.md: "a README snippet that
 * does not type-check is a bug"):
 * - a ```ts block begins with `// <path>` naming a file of the repository, and its other lines
 *   are in that file (runs between `// …` lines contiguously, in order), so `tsc` checks them
 *   through the file;
 * - a ```sh or ```bash block names only `npm run` scripts package.json has, `-c` keys
 *   `lib/config.ts` reads, and paths that exist;
 * - a ```json block parses; ```text blocks are outputs, each page saying where they come from;
 * - every relative link resolves, to a file and, with `#`, to a heading of it; every path and
 *   `-c` key in the pages' inline code exists too.
 * The add-your-own-tool region of the README is left to its own test, which applies its
 * snippets to a copy of the project and runs them.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CONFIG_KEYS } from '../../../lib/config';
import {
  anchors,
  type CodeBlock,
  codeBlocks,
  contextKeys,
  isExternal,
  links,
  missingRun,
  npmScripts,
  REPO_FOLDERS,
  repoPaths,
  slug,
  withoutRegions,
} from '../../support/markdown';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

/** Regions of a page other work owns (`<!-- name:start -->` … `<!-- name:end -->`). */
const OWNED_REGIONS = new Set(['add-your-own-tool']);

/** README.md and docs/*.md: the pages whose code blocks are checked. */
const DOC_PAGES = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((file) => file.endsWith('.md'))
    .map((file) => `docs/${file}`),
];

/** Every page whose links are checked: the above and each folder's README. */
const LINKED_PAGES = [
  ...DOC_PAGES,
  ...REPO_FOLDERS.flatMap((folder) =>
    existsSync(join(ROOT, folder))
      ? readdirSync(join(ROOT, folder), { recursive: true, encoding: 'utf8' })
          .filter((file) => file.endsWith('README.md'))
          .map((file) => `${folder}/${file}`)
      : [],
  ),
];

const IGNORED = read('.gitignore')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line !== '' && !line.startsWith('#'));

/** A file git would track: it exists and no .gitignore line covers it. */
function isTrackedFile(path: string): boolean {
  if (!existsSync(join(ROOT, path)) || !statSync(join(ROOT, path)).isFile()) return false;
  const segments = path.split('/');
  return !IGNORED.some((pattern) =>
    pattern.startsWith('*')
      ? path.endsWith(pattern.slice(1))
      : segments.includes(pattern.replace(/\/$/, '')),
  );
}

const SCRIPTS = new Set(
  Object.keys((JSON.parse(read('package.json')) as { scripts: object }).scripts),
);
const KEYS = new Set<string>(CONFIG_KEYS);

const checked = (page: string): CodeBlock[] =>
  codeBlocks(read(page)).filter(
    (block) => block.region === undefined || !OWNED_REGIONS.has(block.region),
  );
const where = (page: string, block: CodeBlock) => `${page}:${block.line}`;

describe('the snippet rules', () => {
  const file = ['function f() {', '  const a = 1;', '  const b = 2;', '  return a + b;', '}'];

  it('finds a snippet quoted from inside a function at a different indentation', () => {
    expect(missingRun(['const a = 1;', 'const b = 2;'], file)).toBeUndefined();
  });

  it('refuses a snippet whose lines were changed', () => {
    expect(missingRun(['const a = 1;', 'const b = 3;'], file)).toBe(1);
  });

  it('takes runs left out with `// …` in order, and not out of order', () => {
    expect(missingRun(['function f() {', '// …', '  return a + b;'], file)).toBeUndefined();
    expect(missingRun(['  return a + b;', '// …', 'function f() {'], file)).toBe(3);
  });

  it('finds scripts, context keys and paths in a shell block, not in its comments', () => {
    const block = [
      'npm run --silent keys -- list   # npm run nothing',
      'npx cdk deploy -c alarmEmail=ops@example.com \\',
      '  -c abuseThreshold=100',
      'npx tsx tools/cost/model.ts',
    ];
    expect(npmScripts(block)).toEqual(['keys']);
    expect(contextKeys(block)).toEqual(['alarmEmail', 'abuseThreshold']);
    expect(repoPaths(block.join('\n'))).toEqual(['tools/cost/model.ts']);
  });

  it('leaves out a region another page owns, and only that region', () => {
    const page = 'a\n<!-- theirs:start -->\nb\n<!-- theirs:end -->\nc';
    expect(withoutRegions(page, new Set(['theirs'])).split('\n')).toEqual(['a', '', '', '', 'c']);
    expect(withoutRegions(page, new Set(['other']))).toBe(page);
  });

  it('makes the anchors GitHub makes', () => {
    expect(slug('Early deny at the gateway')).toBe('early-deny-at-the-gateway');
    expect(slug('What callers get back: status, JSON-RPC')).toBe(
      'what-callers-get-back-status-json-rpc',
    );
    expect([...anchors('# A `b` c\n## A b c\n```sh\n# not a heading\n```\n')]).toEqual([
      'a-b-c',
      'a-b-c-1',
    ]);
  });
});

describe.each(DOC_PAGES)('the code blocks of %s', (page) => {
  const blocks = checked(page);

  it('each name their language', () => {
    const unnamed = blocks.filter((block) => block.lang === '').map((block) => where(page, block));
    const unknown = blocks
      .filter((block) => !['ts', 'sh', 'bash', 'json', 'text', 'mermaid', ''].includes(block.lang))
      .map((block) => `${where(page, block)} ${block.lang}`);
    expect(unnamed).toEqual([]);
    expect(unknown).toEqual([]);
  });

  it('quote TypeScript only from a file of the repository, exactly', () => {
    const problems = blocks
      .filter((block) => block.lang === 'ts')
      .flatMap((block) => {
        const path = /^\/\/ (\S+)/.exec(block.lines[0] ?? '')?.[1];
        if (path === undefined || !isTrackedFile(path)) {
          return [`${where(page, block)}: begins with no \`// <path>\` of a tracked file`];
        }
        const missing = missingRun(block.lines.slice(1), read(path).split('\n'));
        return missing === undefined
          ? []
          : [`${where(page, block)}: line ${missing + 1} of the block is not in ${path}`];
      });
    expect(problems).toEqual([]);
  });

  it('run only scripts, context keys and paths that exist', () => {
    const problems = blocks
      .filter((block) => block.lang === 'sh' || block.lang === 'bash')
      .flatMap((block) => [
        ...npmScripts(block.lines)
          .filter((script) => !SCRIPTS.has(script))
          .map((script) => `${where(page, block)}: npm run ${script} is not in package.json`),
        ...contextKeys(block.lines)
          .filter((key) => !KEYS.has(key))
          .map((key) => `${where(page, block)}: -c ${key} is not read by lib/config.ts`),
        ...repoPaths(block.lines.join('\n'))
          .filter((path) => !existsSync(join(ROOT, path)))
          .map((path) => `${where(page, block)}: ${path} does not exist`),
      ]);
    expect(problems).toEqual([]);
  });

  it('hold JSON that parses', () => {
    const problems = blocks
      .filter((block) => block.lang === 'json')
      .filter((block) => {
        try {
          JSON.parse(block.lines.join('\n'));
          return false;
        } catch {
          return true;
        }
      })
      .map((block) => where(page, block));
    expect(problems).toEqual([]);
  });
});

describe.each(LINKED_PAGES)('the links of %s', (page) => {
  const text = read(page);

  it('resolve to a file and, with #, to one of its headings', () => {
    const problems = links(text)
      .filter((link) => !isExternal(link.target))
      .flatMap((link) => {
        const [path = '', anchor] = link.target.split('#');
        const target = path === '' ? page : normalize(join(dirname(page), decodeURI(path)));
        const at = `${page}:${link.line} → ${link.target}`;
        if (target.startsWith('..') || !existsSync(join(ROOT, target)))
          return [`${at}: no such file`];
        if (anchor === undefined || anchor === '') return [];
        if (!target.endsWith('.md')) return [`${at}: an anchor into a file that is not a page`];
        return anchors(read(target)).has(anchor) ? [] : [`${at}: no such heading`];
      });
    expect(problems).toEqual([]);
  });

  it('name only paths and -c keys that exist in their inline code', () => {
    const own = withoutRegions(text, OWNED_REGIONS).replace(/```[\s\S]*?```/g, '');
    const spans = [...own.matchAll(/`([^`\n]+)`/g)].map((match) => match[1] ?? '');
    const problems = [
      ...spans
        .flatMap((span) => repoPaths(span))
        .map((path) => normalize(path))
        .filter((path) => !existsSync(join(ROOT, path)))
        .map((path) => `${path} does not exist`),
      ...spans
        .flatMap((span) => [...span.matchAll(/(?:^|\s)-c\s+([A-Za-z]\w*)/g)])
        .map((match) => match[1] ?? '')
        .filter((key) => !KEYS.has(key))
        .map((key) => `-c ${key} is not read by lib/config.ts`),
    ];
    expect([...new Set(problems)], relative(ROOT, join(ROOT, page))).toEqual([]);
  });
});
