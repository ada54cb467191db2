/**
 * The code snippets of a Markdown document, as the docs write them: a fenced block whose first
 * line is `// <path>` (optionally `// <path>: what to do with it`). A snippet for a file that
 * does not exist yet is the whole file; one for a file that exists is the lines to add to it
 * (those it does not have yet): its imports after the file's last import, every other line at
 * the end of the file's first exported list or object (before the line that closes it). Tests read them to check a snippet
 * against compiled code, and to follow a document's steps exactly.
 */

import { codeBlocks } from './markdown';

export interface Snippet {
  /** The fence's language, e.g. `ts`. */
  readonly lang: string;
  /** The path the first line names, relative to the project root. */
  readonly path: string;
  /** What the first line says after the path (`: …`), if anything. */
  readonly note: string | undefined;
  /** The lines after the first, joined, without a final newline. */
  readonly body: string;
  /** The document line the fence opens on (1-based). */
  readonly line: number;
}

/** The text between `<!-- name:start -->` and `<!-- name:end -->`, or an error saying so. */
export function sectionOf(markdown: string, name: string): string {
  const start = markdown.indexOf(`<!-- ${name}:start -->`);
  const end = markdown.indexOf(`<!-- ${name}:end -->`);
  if (start < 0 || end < start) throw new Error(`No <!-- ${name}:start/end --> section`);
  return markdown.slice(start, end);
}

const HEADER = /^\/\/ ([\w./#@-]+)(?::\s*(.*))?$/;

/** Every fenced snippet of `lang` in `markdown`; a snippet without a `// <path>` line throws. */
export function snippetsOf(markdown: string, lang = 'ts'): Snippet[] {
  return codeBlocks(markdown)
    .filter((block) => block.lang === lang)
    .map(({ line, lines }) => {
      const [first = '', ...rest] = lines;
      const header = HEADER.exec(first);
      if (header === null) {
        throw new Error(`The ${lang} snippet at line ${line} does not start with // <path>`);
      }
      return { lang, path: header[1] as string, note: header[2], body: rest.join('\n'), line };
    });
}

/** The index of the line after the last import statement (0 if there is none). */
function afterImports(lines: readonly string[]): number {
  let after = 0;
  let inImport = false;
  lines.forEach((line, i) => {
    if (line.startsWith('import ')) inImport = true;
    if (inImport && line.trimEnd().endsWith(';')) {
      inImport = false;
      after = i + 1;
    }
  });
  return after;
}

/** The index of the line closing the first exported list or object. */
function closingLine(lines: readonly string[], path: string): number {
  const exported = lines.findIndex((line) => line.startsWith('export const '));
  const closing = lines.findIndex((line, i) => i > exported && /^[\]}]/.test(line));
  if (exported < 0 || closing < 0) {
    throw new Error(`${path} has no exported list or object to add the snippet's lines to`);
  }
  return closing;
}

/**
 * The file after the snippet: the snippet itself for a new file (`existing` undefined), or
 * `existing` with the snippet's lines added where the module says (see the file's comment).
 */
export function applySnippet(existing: string | undefined, snippet: Snippet): string {
  if (existing === undefined) return `${snippet.body}\n`;
  // A line the file has already (the steps were followed before) is not added twice.
  const present = new Set(existing.split('\n'));
  const added = snippet.body.split('\n').filter((line) => line.trim() !== '' && !present.has(line));
  const imports = added.filter((line) => line.startsWith('import '));
  const entries = added.filter((line) => !line.startsWith('import '));
  const lines = existing.split('\n');
  if (entries.length > 0) lines.splice(closingLine(lines, snippet.path), 0, ...entries);
  if (imports.length > 0) lines.splice(afterImports(lines), 0, ...imports);
  return lines.join('\n');
}
