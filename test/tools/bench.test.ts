/**
 * The benchmark harness on tiny, hand-made input: CI never times anything, but a broken
 * percentile or package grouping would make every published figure wrong.
 */
import { describe, expect, it } from 'vitest';
import { type BundleReport, verdict } from '../../tools/bench/bundle-size';
import {
  contributorsByPackage,
  type MetafileOutputs,
  measure,
  packageOf,
  percentile,
} from '../../tools/bench/stats';

/**
 * A fake clock and a function that "takes" the next of `durations` (ns) by advancing it: the
 * measured latencies are exactly the durations, with no real time involved.
 */
function timedCalls(durations: readonly number[]) {
  let now = 0n;
  let next = 0;
  return {
    clock: () => now,
    fn: () => {
      now += BigInt(durations[next++] ?? 0);
    },
    calls: () => next,
  };
}

describe('percentile', () => {
  it('returns the nearest-rank value of an unsorted input', () => {
    // Prepare: 1..100 shuffled, so sorting is part of what is checked.
    const values = Array.from({ length: 100 }, (_, i) => ((i * 37) % 100) + 1);

    // Act & Assess
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile(values, 100)).toBe(100);
  });

  it('reports a latency that occurred instead of interpolating between two', () => {
    expect(percentile([10, 20], 50)).toBe(10);
    expect(percentile([10, 20], 99)).toBe(20);
  });

  it('gives 0 for no samples and refuses a percentile outside (0, 100]', () => {
    expect(percentile([], 50)).toBe(0);
    expect(() => percentile([1], 0)).toThrow(RangeError);
    expect(() => percentile([1], 101)).toThrow(RangeError);
  });
});

describe('measure', () => {
  it('runs the warm-up untimed, then derives ops/s from the whole timed loop', async () => {
    // Prepare: 3 warm-up calls of 7 ms each, then 100 calls of 1 ms, and one of them 5 ms.
    const timed = [...Array.from({ length: 99 }, () => 1_000_000), 5_000_000];
    const { clock, fn, calls } = timedCalls([7_000_000, 7_000_000, 7_000_000, ...timed]);

    // Act
    const result = await measure(fn, { iterations: 100, warmup: 3, clock });

    // Assess: 100 calls in 104 ms; the warm-up's 21 ms are not counted.
    expect(calls()).toBe(103);
    expect(result.iterations).toBe(100);
    expect(result.opsPerSecond).toBeCloseTo(100 / 0.104, 6);
    expect(result.p50Ms).toBe(1);
  });

  it('puts a slow tail in p99 but not in p50', async () => {
    // Prepare: 2 of 100 calls take 9 ms, the rest 1 ms.
    const { clock, fn } = timedCalls(
      Array.from({ length: 100 }, (_, i) => (i % 50 === 0 ? 9_000_000 : 1_000_000)),
    );

    // Act
    const result = await measure(fn, { iterations: 100, warmup: 0, clock });

    // Assess
    expect(result.p50Ms).toBe(1);
    expect(result.p99Ms).toBe(9);
  });

  it('awaits each call before timing the next', async () => {
    // Prepare: an async call that finishes on a later tick.
    let inFlight = 0;
    let most = 0;
    const fn = async () => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      inFlight--;
    };

    // Act
    await measure(fn, { iterations: 5, warmup: 2 });

    // Assess
    expect(most).toBe(1);
  });
});

describe('packageOf', () => {
  it('names plain and scoped packages, nested node_modules by the innermost one', () => {
    expect(packageOf('node_modules/zod/v4/locales/de.js')).toBe('zod');
    expect(packageOf('node_modules/@modelcontextprotocol/sdk/dist/cjs/types.js')).toBe(
      '@modelcontextprotocol/sdk',
    );
    expect(packageOf('node_modules/ajv/node_modules/fast-uri/index.js')).toBe('fast-uri');
    expect(packageOf('C:\\app\\node_modules\\@aws-lambda-powertools\\logger\\lib\\x.js')).toBe(
      '@aws-lambda-powertools/logger',
    );
  });

  it('counts everything outside node_modules as the project', () => {
    expect(packageOf('lambda/mcp/handler.ts')).toBe('project');
  });
});

describe('contributorsByPackage', () => {
  const metafile: MetafileOutputs = {
    outputs: {
      'out/index.js': {
        bytes: 1_000,
        inputs: {
          'lambda/mcp/index.ts': { bytesInOutput: 50 },
          'lambda/mcp/handler.ts': { bytesInOutput: 150 },
          'node_modules/zod/v4/core/core.js': { bytesInOutput: 300 },
          'node_modules/zod/v4/locales/de.js': { bytesInOutput: 200 },
          'node_modules/@modelcontextprotocol/sdk/dist/cjs/types.js': { bytesInOutput: 250 },
          'node_modules/ajv/dist/ajv.js': { bytesInOutput: 0 },
        },
      },
      'out/index.js.map': { bytes: 5_000, inputs: {} },
    },
  };

  it('sums the bytes in the output per package, largest first', () => {
    // Act
    const contributors = contributorsByPackage(metafile, 'out/index.js');

    // Assess
    expect(contributors).toEqual([
      { name: 'zod', bytes: 500 },
      { name: '@modelcontextprotocol/sdk', bytes: 250 },
      { name: 'project', bytes: 200 },
      { name: 'ajv', bytes: 0 },
    ]);
  });

  it('fails loudly when asked for an output the build did not write', () => {
    expect(() => contributorsByPackage(metafile, 'elsewhere/index.js')).toThrow(
      'The metafile has no output elsewhere/index.js',
    );
  });
});

describe('verdict', () => {
  const report = (bytes: number, limitKb: number | null): BundleReport => ({
    name: 'mcp',
    entry: 'lambda/mcp/index.ts',
    bytes,
    limitKb,
    top: [],
  });

  it('says by how much a bundle is over its target', () => {
    expect(verdict(report(400 * 1024 + 512, 400))).toBe('over by 0.5 KB');
  });

  it('passes a bundle at or under its target and says the margin', () => {
    expect(verdict(report(390 * 1024, 400))).toBe('ok (10.0 KB under)');
    expect(verdict(report(400 * 1024, 400))).toBe('ok (0.0 KB under)');
  });

  it('judges nothing when there is no target', () => {
    expect(verdict(report(1, null))).toBe('no target');
  });
});
