/**
 * `npm run bench`: bundle sizes of the three Lambdas as deployed, and the warm request path
 * in process, printed as a table and written as JSON to `bench-results/` (git-ignored).
 *
 * Figures vary with the machine; compare the ratios and sizes of one run. BENCH_ITERATIONS
 * lowers the number of timed calls per case for a quick look (the default is the reference).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSigningKey } from '../local-identity';
import { BUNDLE_TARGETS, type BundleReport, kb, measureBundle, verdict } from './bundle-size';
import { runWarmPath, type WarmReport } from './warm-path';

const PROJECT_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const RESULTS_DIR = join(PROJECT_ROOT, 'bench-results');
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 20_000);
/** Targets from the benchmark issue, as ratios measured in one run. */
const JWT_VS_VERIFY_SYNC_TARGET = 0.8;
const API_KEY_COST_RATIO_TARGET = 1.2;

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  // The first column is text (left-aligned), the others figures (right-aligned).
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
      .join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (n: number) => n.toFixed(3);

function bundleTable(bundles: readonly BundleReport[]): string {
  return table(
    ['bundle (minified index.js)', 'KB', 'target', 'verdict', 'largest contributors'],
    bundles.map((b) => [
      b.entry,
      kb(b.bytes).toFixed(1),
      b.limitKb === null ? '-' : `≤ ${b.limitKb}`,
      verdict(b),
      b.top.map((c) => `${c.name} ${kb(c.bytes).toFixed(1)}`).join(', '),
    ]),
  );
}

function warmTable(warm: WarmReport): string {
  return table(
    ['warm path (in process, sequential)', 'ops/s', 'p50 ms', 'p99 ms'],
    warm.cases.map((c) => [c.name, int(c.opsPerSecond), ms(c.p50Ms), ms(c.p99Ms)]),
  );
}

function ratioLine(name: string, value: number, target: string, ok: boolean): string {
  return `${name}: ${value.toFixed(2)} (target ${target}) ${ok ? 'ok' : 'MISSED'}`;
}

async function main(): Promise<void> {
  if (!(Number.isInteger(ITERATIONS) && ITERATIONS > 0)) {
    throw new Error(
      `BENCH_ITERATIONS must be a positive integer, got ${process.env.BENCH_ITERATIONS}`,
    );
  }
  // The SDK warns once that Node 20 support ends; that is not a bench result. It checks the
  // variable when the first client is built, which happens below.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const startedAt = new Date();
  const scratch = mkdtempSync(join(tmpdir(), 'mcp-bench-'));
  try {
    const bundles: BundleReport[] = [];
    for (const target of BUNDLE_TARGETS) {
      bundles.push(await measureBundle(target, PROJECT_ROOT, join(scratch, 'bundles')));
    }
    // A throwaway signing key: the bench never touches the developer's `.local/` key.
    const warm = await runWarmPath(loadSigningKey(join(scratch, 'identity')), {
      iterations: ITERATIONS,
      warmup: Math.min(1_000, ITERATIONS),
    });

    const machine = {
      node: process.version,
      cpu: cpus()[0]?.model ?? 'unknown',
      cores: cpus().length,
      platform: `${process.platform}-${process.arch}`,
    };
    const ratios = {
      jwtHandlerVsVerifySync: {
        value: warm.jwtVsVerifySync,
        target: `≥ ${JWT_VS_VERIFY_SYNC_TARGET}`,
        met: warm.jwtVsVerifySync >= JWT_VS_VERIFY_SYNC_TARGET,
      },
      apiKeyCost10kVs1: {
        value: warm.apiKeyCostRatio,
        target: `≤ ${API_KEY_COST_RATIO_TARGET}`,
        met: warm.apiKeyCostRatio <= API_KEY_COST_RATIO_TARGET,
      },
    };

    const out = process.stdout;
    out.write(
      `node ${machine.node}, ${machine.cpu} × ${machine.cores}, ${machine.platform}; ` +
        `${ITERATIONS.toLocaleString('en-US')} timed calls per case\n\n`,
    );
    out.write(`${bundleTable(bundles)}\n\n${warmTable(warm)}\n\n`);
    out.write(
      `${ratioLine('JWT handler ops/s ÷ verifySync ops/s', ratios.jwtHandlerVsVerifySync.value, ratios.jwtHandlerVsVerifySync.target, ratios.jwtHandlerVsVerifySync.met)}\n`,
    );
    out.write(
      `${ratioLine('ApiKeyStore cost, 10,000 keys ÷ 1 key', ratios.apiKeyCost10kVs1.value, ratios.apiKeyCost10kVs1.target, ratios.apiKeyCost10kVs1.met)}\n`,
    );

    mkdirSync(RESULTS_DIR, { recursive: true });
    // A file-name-safe ISO timestamp, so results sort by time.
    const file = join(RESULTS_DIR, `bench-${startedAt.toISOString().replaceAll(':', '-')}.json`);
    const report = {
      startedAt: startedAt.toISOString(),
      machine,
      iterations: ITERATIONS,
      bundles: bundles.map((b) => ({ ...b, kb: kb(b.bytes), verdict: verdict(b) })),
      warm: warm.cases,
      ratios,
    };
    writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
    out.write(`\nwrote ${relative(PROJECT_ROOT, file)}\n`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
});
