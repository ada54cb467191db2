/**
 * What the docs tests read in a Markdown page: its fenced code blocks, its links, its headings'
 * anchors, and whether a quoted snippet is really in the file it names. Pure functions over
 * text, so the rules they enforce are tested on small strings beside the real pages.
 */

/** A fenced code block: its language (the word after the fence) and its lines. */
export interface CodeBlock {
  readonly lang: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  readonly lines: readonly string[];
  /** Inside a region another page owns (`<!-- name:start -->` … `<!-- name:end -->`). */
  readonly region: string | undefined;
}

const FENCE = /^( {0,3})(`{3,})\s*([\w-]*)[^`]*$/;
const REGION_START = /^<!-- ([\w-]+):start -->$/;

/** Every fenced block of a page, with the outermost marked region it sits in, if any. */
export function codeBlocks(text: string): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  const regions: string[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const start = REGION_START.exec(line);
    if (start?.[1] !== undefined) regions.push(start[1]);
    else if (regions.length > 0 && line === `<!-- ${regions.at(-1)}:end -->`) regions.pop();
    const open = FENCE.exec(line);
    if (open === null) continue;
    const [, indent = '', ticks = '```', lang = ''] = open;
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && (lines[j] ?? '').trim() !== ticks) {
      const bodyLine = lines[j] ?? '';
      body.push(bodyLine.startsWith(indent) ? bodyLine.slice(indent.length) : bodyLine);
      j++;
    }
    blocks.push({ lang, line: i + 1, lines: body, region: regions[0] });
    i = j;
  }
  return blocks;
}

/** The page with the named regions' lines blanked (`<!-- name:start -->` … `<!-- name:end -->`). */
export function withoutRegions(text: string, names: ReadonlySet<string>): string {
  let inside: string | undefined;
  return text
    .split('\n')
    .map((line) => {
      const start = REGION_START.exec(line)?.[1];
      if (inside === undefined && start !== undefined && names.has(start)) inside = start;
      if (inside === undefined) return line;
      if (line === `<!-- ${inside}:end -->`) inside = undefined;
      return '';
    })
    .join('\n');
}

/** The page with fenced blocks and inline code spans blanked, so prose alone remains. */
export function prose(text: string): string {
  const lines = text.split('\n');
  let fence: string | undefined;
  return lines
    .map((line) => {
      const open = FENCE.exec(line);
      if (fence !== undefined) {
        if (line.trim() === fence) fence = undefined;
        return '';
      }
      if (open !== null) {
        fence = open[2];
        return '';
      }
      return line.replace(/(`+)[\s\S]*?\1/g, '');
    })
    .join('\n');
}

/** A link of the page: `[text](target)` or `<a href="target">`, with its line. */
export interface Link {
  readonly target: string;
  readonly line: number;
}

/** Every link in the page's prose (code blocks and code spans hold none). */
export function links(text: string): Link[] {
  const found: Link[] = [];
  prose(text)
    .split('\n')
    .forEach((line, index) => {
      for (const match of line.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)|href="([^"]+)"/g)) {
        const target = match[1] ?? match[2];
        if (target !== undefined) found.push({ target, line: index + 1 });
      }
    });
  return found;
}

/** A link that leaves the repository (a scheme such as `https:` or `mailto:`). */
export const isExternal = (target: string): boolean => /^[a-z][a-z0-9+.-]*:/i.test(target);

/**
 * The anchors GitHub gives a page: one per heading (lower-cased, punctuation dropped, spaces
 * as hyphens, `-1`, `-2` … for repeats) and every explicit `id`/`name` attribute.
 */
export function anchors(text: string): Set<string> {
  const found = new Set<string>();
  const seen = new Map<string, number>();
  const outsideCode = prose(text).split('\n');
  text.split('\n').forEach((line, index) => {
    if (outsideCode[index] === '' && line !== '') return;
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading?.[1] !== undefined) {
      const base = slug(heading[1].replace(/`([^`]*)`/g, '$1'));
      const count = seen.get(base) ?? 0;
      seen.set(base, count + 1);
      found.add(count === 0 ? base : `${base}-${count}`);
    }
    for (const match of line.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) {
      if (match[1] !== undefined) found.add(match[1]);
    }
  });
  return found;
}

/** GitHub's heading slug: links keep their text, markup and punctuation go. */
export function slug(heading: string): string {
  return heading
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\p{M}\p{Pc}\- ]/gu, '')
    .replace(/ /g, '-');
}

/** The line that stands for lines left out of a quoted snippet. */
export const ELISION = '// …';

/**
 * Whether a snippet's lines are in a file's: each run between elision lines contiguously, the
 * runs in order, every line of a run indented by the same extra whitespace (a snippet may quote
 * code from inside a function). Returns the 1-based line of the first run not found, or
 * `undefined` when all are.
 */
export function missingRun(
  snippet: readonly string[],
  file: readonly string[],
): number | undefined {
  const runs: { start: number; lines: string[] }[] = [];
  let current: { start: number; lines: string[] } = { start: 0, lines: [] };
  snippet.forEach((line, index) => {
    if (line.trim() === ELISION) {
      runs.push(current);
      current = { start: index + 1, lines: [] };
    } else current.lines.push(line.trimEnd());
  });
  runs.push(current);
  let from = 0;
  for (const run of runs) {
    while (run.lines.length > 0 && run.lines[0] === '') {
      run.lines.shift();
      run.start++;
    }
    while (run.lines.length > 0 && run.lines.at(-1) === '') run.lines.pop();
    if (run.lines.length === 0) continue;
    const at = findRun(run.lines, file, from);
    if (at === undefined) return run.start + 1;
    from = at + run.lines.length;
  }
  return undefined;
}

function findRun(
  run: readonly string[],
  file: readonly string[],
  from: number,
): number | undefined {
  const first = run[0] ?? '';
  for (let i = from; i + run.length <= file.length; i++) {
    const candidate = (file[i] ?? '').trimEnd();
    if (!candidate.endsWith(first)) continue;
    const indent = candidate.slice(0, candidate.length - first.length);
    if (indent.trim() !== '') continue;
    const matches = run.every((line, k) => {
      const fileLine = (file[i + k] ?? '').trimEnd();
      return line === '' ? fileLine === '' : fileLine === indent + line;
    });
    if (matches) return i;
  }
  return undefined;
}

/** The `npm run` scripts a shell block names (`npm run --silent token` names `token`). */
export function npmScripts(block: readonly string[]): string[] {
  return [...shell(block).matchAll(/\bnpm run(?:\s+--?[\w-]+)*\s+([\w:.-]+)/g)].map(
    (match) => match[1] ?? '',
  );
}

/** The CDK context keys a shell block sets with `-c key=value`. */
export function contextKeys(block: readonly string[]): string[] {
  return [...shell(block).matchAll(/(?:^|\s)-c\s+([A-Za-z]\w*)=/g)].map((match) => match[1] ?? '');
}

/** Folders of this repository; a word starting with one of them is a path that must exist. */
export const REPO_FOLDERS = [
  'bin',
  'lib',
  'lambda',
  'modules',
  'tools',
  'examples',
  'conformance',
  'test',
  'docs',
  '.ci',
] as const;

/** MCP methods that read like paths under `tools/`. */
const MCP_METHODS = new Set(['tools/list', 'tools/call']);

/** The repository paths a text names (`tools/cost/model.ts`, `test/integration/browser/`). */
export function repoPaths(text: string): string[] {
  const folders = REPO_FOLDERS.map((folder) => folder.replace('.', '\\.')).join('|');
  const pattern = new RegExp(`(?:^|[\\s"'=(\`\\[])((?:${folders})/[\\w./*-]*)`, 'g');
  return [...text.matchAll(pattern)]
    .map((match) => (match[1] ?? '').replace(/[.,:;]+$/, ''))
    .filter((path) => !path.includes('*') && !MCP_METHODS.has(path));
}

/** A shell block without its comments, continuation lines joined. */
function shell(block: readonly string[]): string {
  return block
    .map((line) => line.replace(/(^|\s)#.*$/, ''))
    .join('\n')
    .replace(/\\\n/g, ' ');
}
