/**
 * Pure measurement helpers of the benchmark: timing loops, percentiles and the grouping of an
 * esbuild metafile by package. Kept free of I/O so the harness test can check them on tiny
 * input without timing anything.
 */

/** Latency and throughput of one measured loop. */
export interface Measurement {
  readonly iterations: number;
  /** Calls per second over the whole measured loop (timer overhead included). */
  readonly opsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/**
 * The nearest-rank percentile (no interpolation: every reported figure is a latency that
 * really occurred). `values` need not be sorted; an empty input gives 0.
 */
export function percentile(values: ArrayLike<number>, p: number): number {
  if (!(p > 0 && p <= 100)) throw new RangeError(`percentile: p must be in (0, 100], got ${p}`);
  if (values.length === 0) return 0;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(rank, sorted.length) - 1] ?? 0;
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

export interface MeasureOptions {
  readonly iterations: number;
  /** Calls made first and not recorded, so the JIT and caches settle. */
  readonly warmup: number;
  /** A clock in nanoseconds; injected by the test. @default process.hrtime.bigint */
  readonly clock?: () => bigint;
}

/**
 * Call `fn` sequentially and time every call: ops/s over the whole loop, and p50/p99 of the
 * per-call latencies. Calls are awaited one by one: this is the latency of one warm Lambda
 * environment, which serves one request at a time.
 */
export async function measure(fn: () => unknown, options: MeasureOptions): Promise<Measurement> {
  const clock = options.clock ?? process.hrtime.bigint;
  for (let i = 0; i < options.warmup; i++) await fn();
  // Preallocated, so recording a sample allocates nothing inside the measured loop.
  const samples = new Float64Array(options.iterations);
  const started = clock();
  for (let i = 0; i < options.iterations; i++) {
    const before = clock();
    await fn();
    samples[i] = Number(clock() - before);
  }
  const elapsedNs = Number(clock() - started);
  return {
    iterations: options.iterations,
    opsPerSecond: elapsedNs > 0 ? (options.iterations * 1e9) / elapsedNs : 0,
    p50Ms: percentile(samples, 50) / 1e6,
    p99Ms: percentile(samples, 99) / 1e6,
  };
}

export interface AlternatingOptions extends MeasureOptions {
  /**
   * Calls made in a row before switching to the other function. Blocks rather than single
   * calls keep each function's garbage, and so its collections, mostly on its own side, while
   * load changes on the machine (seconds apart) still fall on both alike. @default 1
   */
  readonly block?: number;
}

/**
 * Time two functions in alternating blocks (a b, b a, a b, ...: neither always runs on the
 * other's heels), so whatever the machine does meanwhile falls on both alike: the fairest
 * ratio a shared machine allows. Each gets `iterations` timed calls after `warmup` untimed
 * ones; its ops/s is its calls over the sum of its own latencies.
 */
export async function measureAlternating(
  a: () => unknown,
  b: () => unknown,
  options: AlternatingOptions,
): Promise<[Measurement, Measurement]> {
  const clock = options.clock ?? process.hrtime.bigint;
  const block = options.block ?? 1;
  if (!(Number.isInteger(block) && block > 0)) {
    throw new RangeError(`measureAlternating: block must be a positive integer, got ${block}`);
  }
  for (let i = 0; i < options.warmup; i++) {
    await a();
    await b();
  }
  const fns = [a, b];
  const samples = [new Float64Array(options.iterations), new Float64Array(options.iterations)];
  for (let start = 0, round = 0; start < options.iterations; start += block, round++) {
    const end = Math.min(start + block, options.iterations);
    for (let k = 0; k < 2; k++) {
      const which = (round + k) % 2;
      const fn = fns[which] as () => unknown;
      const into = samples[which] as Float64Array;
      for (let i = start; i < end; i++) {
        const before = clock();
        await fn();
        into[i] = Number(clock() - before);
      }
    }
  }
  const result = (values: Float64Array): Measurement => {
    const totalNs = values.reduce((sum, value) => sum + value, 0);
    return {
      iterations: options.iterations,
      opsPerSecond: totalNs > 0 ? (options.iterations * 1e9) / totalNs : 0,
      p50Ms: percentile(values, 50) / 1e6,
      p99Ms: percentile(values, 99) / 1e6,
    };
  };
  return [result(samples[0] as Float64Array), result(samples[1] as Float64Array)];
}

/** The parts of an esbuild metafile this module reads (esbuild's `Metafile` fits it). */
export interface MetafileOutputs {
  readonly outputs: Record<
    string,
    { readonly bytes: number; readonly inputs: Record<string, { readonly bytesInOutput: number }> }
  >;
}

export interface Contributor {
  /** An npm package name (`zod`, `@modelcontextprotocol/sdk`), or `project` for our code. */
  readonly name: string;
  readonly bytes: number;
}

/** The package an input path belongs to: the name after its last `node_modules/`. */
export function packageOf(inputPath: string): string {
  const normalized = inputPath.replaceAll('\\', '/');
  const marker = normalized.lastIndexOf('node_modules/');
  if (marker === -1) return 'project';
  const [first, second] = normalized.slice(marker + 'node_modules/'.length).split('/');
  if (first === undefined || first === '') return 'project';
  return first.startsWith('@') && second !== undefined ? `${first}/${second}` : first;
}

/**
 * What each package contributes to one output file, largest first. It counts
 * `bytesInOutput` (minified bytes in the bundle), not the size of the source files, since
 * the deployed size is what cold start pays for.
 */
export function contributorsByPackage(
  metafile: MetafileOutputs,
  outputPath: string,
): Contributor[] {
  const output = metafile.outputs[outputPath];
  if (output === undefined) throw new Error(`The metafile has no output ${outputPath}`);
  const totals = new Map<string, number>();
  for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
    const name = packageOf(input);
    totals.set(name, (totals.get(name) ?? 0) + bytesInOutput);
  }
  return [...totals]
    .map(([name, bytes]) => ({ name, bytes }))
    .sort((a, b) => b.bytes - a.bytes || a.name.localeCompare(b.name));
}
