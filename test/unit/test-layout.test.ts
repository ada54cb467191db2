/**
 * The test tree's two rules (test/README.md): every test is in a suite `npm test` runs, and the
 * unit suite, which shares one module graph per worker, never replaces a module.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const TEST_ROOT = fileURLToPath(new URL('..', import.meta.url));

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts'))
    .map((file) => relative(TEST_ROOT, join(dir, file)));
}

describe('the test tree', () => {
  it('keeps every test file in the unit suite, an integration suite or beside its helper', () => {
    const stray = filesUnder(TEST_ROOT).filter(
      (file) => file.endsWith('.test.ts') && !/^(unit|integration|support)\//.test(file),
    );
    expect(stray).toEqual([]);
  });

  it('never mocks a module in the unit suite or its helpers (they share a module graph)', () => {
    const mocking = [
      ...filesUnder(join(TEST_ROOT, 'unit')),
      ...filesUnder(join(TEST_ROOT, 'support')),
    ].filter((file) => /\bvi\.(do)?mock\(/.test(readFileSync(join(TEST_ROOT, file), 'utf8')));
    expect(mocking).toEqual([]);
  });
});
