/**
 * Where a cold start goes: the same fresh-process run as the cold-init rows, under Node's own
 * `--cpu-prof`, cut at the driver's marks into init (`require(bundle)`) and first answer, with
 * each sample charged to the module it ran in. Bundle frames are mapped back through the
 * bundle's source map (Node's `SourceMap`) to a package (`zod`, `@modelcontextprotocol/server`)
 * or a project file (`lambda/mcp/handler.ts`); time in Node itself keeps its internal module's
 * name (`node:internal/deps/undici/undici` is fetch and web streams,
 * `node:internal/modules/cjs/loader` compiling the bundle); `(garbage collector)` and
 * `(program)` (V8 outside any JavaScript frame) are V8's own. Self time, so the rows add up.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { DriverReport } from './cold-driver';

/** What to profile: a cold-init kind's driver arguments and environment, and its bundle. */
export interface ProfileTarget {
  readonly name: string;
  readonly bundle: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
}

export interface ModuleCost {
  readonly module: string;
  /** Mean ms per run spent in this module during `require(bundle)`. */
  readonly initMs: number;
  /** Mean ms per run during the first answer(s). */
  readonly answerMs: number;
}

export interface ColdProfile {
  readonly name: string;
  readonly runs: number;
  /** Sampled ms per run, init and first answer (sampling misses a little of each). */
  readonly initMs: number;
  readonly answerMs: number;
  /** The largest modules by init + first answer, largest first. */
  readonly top: readonly ModuleCost[];
}

interface CpuProfileNode {
  readonly id: number;
  readonly callFrame: {
    readonly functionName: string;
    readonly url: string;
    readonly lineNumber: number;
    readonly columnNumber: number;
  };
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly CpuProfileNode[];
  readonly startTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** Sampling interval: fine enough for modules costing a millisecond. */
const INTERVAL_US = 100;

/** `…/node_modules/@scope/name/…` → `@scope/name`; a project file → its path. */
export function moduleOfSource(source: string): string {
  const at = source.lastIndexOf('node_modules/');
  if (at !== -1) {
    const [first, second] = source.slice(at + 'node_modules/'.length).split('/');
    return first?.startsWith('@') === true ? `${first}/${second}` : (first ?? source);
  }
  return source.replace(/^(?:\.\.\/)+/, '');
}

/** Charges each sample of one profile to a module and a phase. */
export function attribute(
  profile: CpuProfile,
  bundle: string,
  map: SourceMap | null,
  marks: DriverReport['monotonicUs'],
): Map<string, { init: number; answer: number }> {
  const bundleUrl = pathToFileURL(bundle).href;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parent.set(child, node.id);
  const cache = new Map<number, string>();
  const moduleOfNode = (id: number): string => {
    const known = cache.get(id);
    if (known !== undefined) return known;
    const { callFrame } = byId.get(id) as CpuProfileNode;
    let module: string;
    if (callFrame.url === bundleUrl || callFrame.url === bundle) {
      const entry = map?.findEntry(callFrame.lineNumber, callFrame.columnNumber) ?? {};
      module =
        'originalSource' in entry
          ? moduleOfSource(String(entry.originalSource))
          : 'index.js (unmapped)';
    } else if (callFrame.url.startsWith('node:')) {
      module = callFrame.url;
    } else if (callFrame.url === '') {
      // V8's own pseudo-frames, and native code called from a frame: charged to the caller.
      const up = parent.get(id);
      module =
        callFrame.functionName.startsWith('(') || up === undefined
          ? callFrame.functionName || '(native)'
          : moduleOfNode(up);
    } else {
      module = 'the bench driver';
    }
    cache.set(id, module);
    return module;
  };
  const costs = new Map<string, { init: number; answer: number }>();
  let time = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    time += profile.timeDeltas[i] ?? 0;
    // A sample stands for the time until the next one.
    const weight = profile.timeDeltas[i + 1] ?? INTERVAL_US;
    const phase =
      time >= marks.requiring && time < marks.loaded
        ? 'init'
        : time >= marks.loaded && time < marks.answered
          ? 'answer'
          : undefined;
    if (phase === undefined) continue;
    const module = moduleOfNode(profile.samples[i] as number);
    if (module === '(idle)') continue;
    const cost = costs.get(module) ?? { init: 0, answer: 0 };
    cost[phase] += weight / 1000;
    costs.set(module, cost);
  }
  return costs;
}

function sourceMapOf(bundle: string): SourceMap | null {
  try {
    return new SourceMap(JSON.parse(readFileSync(`${bundle}.map`, 'utf8')));
  } catch {
    return null;
  }
}

/**
 * Profile `runs` fresh runs of `target` and average them. `run` spawns one process with the
 * given extra Node flags before the driver's arguments and returns its driver report.
 */
export async function profileColdStart(
  target: ProfileTarget,
  options: {
    readonly runs: number;
    readonly workDir: string;
    readonly top?: number;
    readonly run: (
      args: readonly string[],
      env: Readonly<Record<string, string>>,
    ) => Promise<DriverReport>;
  },
): Promise<ColdProfile> {
  const map = sourceMapOf(target.bundle);
  const totals = new Map<string, { init: number; answer: number }>();
  for (let run = 0; run < options.runs; run++) {
    const dir = mkdtempSync(join(options.workDir, 'cpu-prof-'));
    try {
      const report = await options.run(
        [
          '--cpu-prof',
          `--cpu-prof-dir=${dir}`,
          `--cpu-prof-interval=${INTERVAL_US}`,
          ...target.args,
        ],
        target.env,
      );
      const file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile'));
      if (file === undefined) throw new Error(`cold profile (${target.name}): no profile written`);
      const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
      for (const [module, cost] of attribute(profile, target.bundle, map, report.monotonicUs)) {
        const total = totals.get(module) ?? { init: 0, answer: 0 };
        total.init += cost.init;
        total.answer += cost.answer;
        totals.set(module, total);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const rows = [...totals].map(([module, cost]) => ({
    module,
    initMs: cost.init / options.runs,
    answerMs: cost.answer / options.runs,
  }));
  rows.sort((a, b) => b.initMs + b.answerMs - (a.initMs + a.answerMs));
  return {
    name: target.name,
    runs: options.runs,
    initMs: rows.reduce((sum, row) => sum + row.initMs, 0),
    answerMs: rows.reduce((sum, row) => sum + row.answerMs, 0),
    top: rows.slice(0, options.top ?? 10),
  };
}
