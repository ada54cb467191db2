/**
 * Bundle size of each Lambda as deployed: built with the stack's esbuild options, with a
 * metafile to say which packages the bytes come from. The same builds are then loaded by the
 * cold-init runs.
 */
import { statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { build, type Metafile } from 'esbuild';
import { LAMBDA_BUNDLE_OPTIONS } from '../../lib/bundle-options';
import { type Contributor, contributorsByPackage } from './stats';

export interface BundleTarget {
  /** A short name for the table: `authorizer`, `mcp`, `rotation`. */
  readonly name: string;
  /** Entry file, relative to the project root. */
  readonly entry: string;
  /** The size limit from the benchmark issue, in KiB; none for a function without one. */
  readonly limitKb?: number;
  /** esbuild aliases instead of the stack's (a bench-only variant). */
  readonly alias?: Readonly<Record<string, string>>;
}

/**
 * Bench-only variants of the MCP Lambda, each one cold-start option the cold-start issue lists,
 * measured against the bundle as deployed: the SDK's JSON-Schema validator (Ajv) loaded (no
 * shim), undici loaded during init, zod without generated parsers.
 */
export const MCP_VARIANT_TARGETS: readonly BundleTarget[] = [
  { name: 'mcp variant: with Ajv', entry: 'lambda/mcp/index.ts', alias: {} },
  { name: 'mcp variant: undici at init', entry: 'tools/bench/variants/mcp-undici-at-init.ts' },
  { name: 'mcp variant: zod jitless', entry: 'tools/bench/variants/mcp-zod-jitless.ts' },
];

/**
 * The MCP bundle with the modules' argument rules taken out (bench only): the same call with
 * and without them shows what the rules cost (`npm run bench`'s rules table).
 */
export const MCP_WITHOUT_RULES_TARGET: BundleTarget = {
  name: 'mcp without rules',
  entry: 'tools/bench/variants/mcp-without-rules.ts',
};

export const BUNDLE_TARGETS: readonly BundleTarget[] = [
  { name: 'authorizer', entry: 'lambda/authorizer/index.ts', limitKb: 25 },
  { name: 'mcp', entry: 'lambda/mcp/index.ts', limitKb: 400 },
  { name: 'rotation', entry: 'lambda/rotation/index.ts' },
  { name: 'registration', entry: 'lambda/registration/index.ts' },
];

/**
 * The bench-only Express baseline (`express-baseline.ts`) as a Lambda entry, bundled with the
 * same options for its size and cold init. Never deployed.
 */
export const EXPRESS_BASELINE_TARGET: BundleTarget = {
  name: 'express-baseline',
  entry: 'tools/bench/express-entry.ts',
};

export interface BundleReport {
  readonly name: string;
  readonly entry: string;
  /** Size of the minified `index.js`, source map excluded (it is shipped but never loaded). */
  readonly bytes: number;
  readonly limitKb: number | null;
  /** The largest contributors by package, largest first. */
  readonly top: readonly Contributor[];
}

/** A bundle written to disk, as `measureBundle` and the cold-init runs use it. */
export interface BuiltBundle {
  /** Absolute path of the minified `index.js`. */
  readonly outfile: string;
  readonly metafile: Metafile;
}

/**
 * Build one entry with the stack's esbuild options into `<outRoot>/<name>/index.js`. A bundle
 * that is to be loaded (cold init) must be written inside the project, so that its external
 * `@aws-sdk/*` imports resolve from the project's node_modules.
 */
export async function buildBundle(
  target: Pick<BundleTarget, 'name' | 'entry' | 'alias'>,
  projectRoot: string,
  outRoot: string,
): Promise<BuiltBundle> {
  const outfile = join(outRoot, target.name.replaceAll(/[^a-z0-9-]+/gi, '-'), 'index.js');
  const result = await build({
    ...LAMBDA_BUNDLE_OPTIONS,
    alias: { ...(target.alias ?? LAMBDA_BUNDLE_OPTIONS.alias) },
    entryPoints: [join(projectRoot, target.entry)],
    outfile,
    // Metafile paths are relative to this folder, so packages read as `node_modules/<name>`.
    absWorkingDir: projectRoot,
    metafile: true,
    logLevel: 'error',
  });
  return { outfile, metafile: result.metafile };
}

/** Size and largest contributors of a bundle already built by {@link buildBundle}. */
export function reportBundle(
  target: BundleTarget,
  built: BuiltBundle,
  projectRoot: string,
): BundleReport {
  const outputKey = relative(projectRoot, built.outfile).replaceAll('\\', '/');
  return {
    name: target.name,
    entry: target.entry,
    bytes: statSync(built.outfile).size,
    limitKb: target.limitKb ?? null,
    top: contributorsByPackage(built.metafile, outputKey).slice(0, 3),
  };
}

export async function measureBundle(
  target: BundleTarget,
  projectRoot: string,
  outRoot: string,
): Promise<BundleReport> {
  return reportBundle(target, await buildBundle(target, projectRoot, outRoot), projectRoot);
}

export const kb = (bytes: number) => bytes / 1024;

/** "ok (12.3 KB under)" or "over by 4.5 KB": said plainly, never rounded into a pass. */
export function verdict(report: BundleReport): string {
  if (report.limitKb === null) return 'no target';
  const margin = kb(report.bytes) - report.limitKb;
  return margin > 0 ? `over by ${margin.toFixed(1)} KB` : `ok (${(-margin).toFixed(1)} KB under)`;
}
