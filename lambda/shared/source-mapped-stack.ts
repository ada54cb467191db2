/**
 * Stack traces that point at source lines, without `--enable-source-maps` on the request path.
 *
 * With that flag Node parses each bundle's source map at load and formats every stack through
 * it: measured here, 1.08-1.10× the cold start, and 29-36 ms for the first `error.stack` after
 * init. The bundles still ship `index.js.map`; this reads it only when an error is about to be
 * reported (an error escaping a handler, which the Lambda runtime logs with its stack), once per
 * instance, and rewrites the bundle's frames (`index.js:1:52311`) to source positions
 * (`lambda/mcp/handler.ts:212:7`). The handlers themselves log error types, never stacks.
 */
import { readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';

/** A stack frame's location: `at name (/path/file.js:line:column)` or `at /path/file.js:l:c`. */
const FRAME = /^(\s*at (?:.*? \()?)(.+?\.[cm]?js):(\d+):(\d+)(\)?)$/;

const maps = new Map<string, SourceMap | null>();

/** The source map beside `file`, parsed once; null when there is none or it is unreadable. */
function mapOf(file: string): SourceMap | null {
  let map = maps.get(file);
  if (map === undefined) {
    try {
      map = new SourceMap(JSON.parse(readFileSync(`${file}.map`, 'utf8')));
    } catch {
      map = null;
    }
    maps.set(file, map);
  }
  return map;
}

/** `../mcp/handler.ts` (relative to the map) as `lambda/mcp/handler.ts`. */
function tidy(source: string): string {
  return source.replace(/^(?:\.\.\/)+/, '').replace(/^file:\/\//, '');
}

/**
 * `stack` with every frame in `bundle` mapped to its source position; frames elsewhere, and
 * every frame when `bundle` has no readable map, unchanged.
 */
export function sourceMappedStack(stack: string, bundle: string): string {
  const map = mapOf(bundle);
  if (map === null) return stack;
  return stack
    .split('\n')
    .map((line) => {
      const frame = FRAME.exec(line);
      if (frame === null || frame[2] !== bundle) return line;
      const [, head, , lineText, columnText, tail] = frame;
      const entry = map.findEntry(Number(lineText) - 1, Number(columnText) - 1);
      if (!('originalSource' in entry)) return line;
      return `${head}${tidy(entry.originalSource)}:${entry.originalLine + 1}:${entry.originalColumn + 1}${tail}`;
    })
    .join('\n');
}

/** The bundle this code runs in (a CommonJS bundle has `__filename`); undefined under tsx. */
function currentBundle(): string | undefined {
  return typeof __filename === 'string' && __filename.endsWith('.js') ? __filename : undefined;
}

/** Rewrite `error.stack` in place to source positions (a no-op outside a bundle). */
export function mapStackInPlace(error: unknown, bundle = currentBundle()): void {
  if (bundle === undefined || !(error instanceof Error) || typeof error.stack !== 'string') return;
  try {
    error.stack = sourceMappedStack(error.stack, bundle);
  } catch {
    // A stack is a diagnostic: never let mapping it replace the error being reported.
  }
}

/**
 * `handler`, with the stack of any error it rejects with mapped to source lines before the
 * Lambda runtime logs it. `expected` errors (e.g. the authorizer's `Unauthorized`, thrown on
 * every refused credential) are passed on untouched, at no cost.
 */
export function withSourceMappedErrors<A extends unknown[], R>(
  handler: (...args: A) => Promise<R>,
  expected: (error: unknown) => boolean = () => false,
): (...args: A) => Promise<R> {
  return async (...args) => {
    try {
      return await handler(...args);
    } catch (error) {
      if (!expected(error)) mapStackInPlace(error);
      throw error;
    }
  };
}
