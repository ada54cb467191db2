/**
 * Stacks of errors escaping a deployed (minified) bundle point at source lines, read from the
 * bundle's source map when the error happens, with no `--enable-source-maps`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sourceMappedStack } from '../../../lambda/shared/source-mapped-stack';
import { LAMBDA_BUNDLE_OPTIONS } from '../../../lib/bundle-options';

const MAPPER = fileURLToPath(
  new URL('../../../lambda/shared/source-mapped-stack.ts', import.meta.url),
);

/** A handler whose fault is on line 7 of its source; `Unauthorized` is its expected refusal. */
const FIXTURE = `import { withSourceMappedErrors } from ${JSON.stringify(MAPPER)};

export const handler = withSourceMappedErrors(
  async (event: { fail: 'fault' | 'refusal' }) => {
    if (event.fail === 'refusal') throw new Error('Unauthorized');
    // the fault:
    throw new TypeError('boom');
  },
  (error) => error instanceof Error && error.message === 'Unauthorized',
);
`;

type Handler = (event: { fail: 'fault' | 'refusal' }) => Promise<never>;

let dir = '';
let bundle = '';
let handler: Handler;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mapped-stack-'));
  writeFileSync(join(dir, 'fixture-handler.ts'), FIXTURE);
  writeFileSync(join(dir, 'package.json'), '{ "type": "commonjs" }\n');
  bundle = join(dir, 'index.js');
  await build({
    ...LAMBDA_BUNDLE_OPTIONS,
    entryPoints: [join(dir, 'fixture-handler.ts')],
    outfile: bundle,
    logLevel: 'error',
  });
  handler = (createRequire(bundle)(bundle) as { handler: Handler }).handler;
});

afterAll(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

describe('withSourceMappedErrors', () => {
  it('maps the stack of an escaping error to the source line that threw', async () => {
    // Act
    const error = (await handler({ fail: 'fault' }).catch((caught: unknown) => caught)) as Error;

    // Assess
    expect(error).toBeInstanceOf(TypeError);
    expect(error.stack).toMatch(/fixture-handler\.ts:7:\d+/);
    expect(error.stack).not.toMatch(/index\.js:\d+:\d+/);
  });

  it('leaves an expected refusal untouched, its stack still the bundle’s', async () => {
    // Act
    const error = (await handler({ fail: 'refusal' }).catch((caught: unknown) => caught)) as Error;

    // Assess
    expect(error.message).toBe('Unauthorized');
    expect(error.stack).toMatch(/index\.js:\d+:\d+/);
  });
});

describe('sourceMappedStack', () => {
  it('leaves frames of other files, and stacks of a file without a map, unchanged', () => {
    // Prepare
    const stack = 'Error: x\n    at f (/var/task/other.js:1:10)\n    at node:internal/x:1:1';

    // Act
    const mapped = sourceMappedStack(stack, '/var/task/no-such-bundle.js');

    // Assess
    expect(mapped).toBe(stack);
  });
});
