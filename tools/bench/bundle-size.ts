/**
 * Bundle size of each Lambda as deployed: built with the stack's esbuild options into a
 * temporary folder, with a metafile to say which packages the bytes come from.
 */
import { statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { build } from 'esbuild';
import { LAMBDA_BUNDLE_OPTIONS } from '../../lib/bundle-options';
import { type Contributor, contributorsByPackage } from './stats';

export interface BundleTarget {
  /** A short name for the table: `authorizer`, `mcp`, `rotation`. */
  readonly name: string;
  /** Entry file, relative to the project root. */
  readonly entry: string;
  /** The size limit from the benchmark issue, in KiB; none for a function without one. */
  readonly limitKb?: number;
}

export const BUNDLE_TARGETS: readonly BundleTarget[] = [
  { name: 'authorizer', entry: 'lambda/authorizer/index.ts', limitKb: 25 },
  { name: 'mcp', entry: 'lambda/mcp/index.ts', limitKb: 400 },
  { name: 'rotation', entry: 'lambda/rotation/index.ts' },
];

export interface BundleReport {
  readonly name: string;
  readonly entry: string;
  /** Size of the minified `index.js`, source map excluded (it is shipped but never loaded). */
  readonly bytes: number;
  readonly limitKb: number | null;
  /** The largest contributors by package, largest first. */
  readonly top: readonly Contributor[];
}

export async function measureBundle(
  target: BundleTarget,
  projectRoot: string,
  outRoot: string,
): Promise<BundleReport> {
  const outfile = join(outRoot, target.name, 'index.js');
  const result = await build({
    ...LAMBDA_BUNDLE_OPTIONS,
    entryPoints: [join(projectRoot, target.entry)],
    outfile,
    // Metafile paths are relative to this folder, so packages read as `node_modules/<name>`.
    absWorkingDir: projectRoot,
    metafile: true,
    logLevel: 'error',
  });
  const outputKey = relative(projectRoot, outfile).replaceAll('\\', '/');
  return {
    name: target.name,
    entry: target.entry,
    bytes: statSync(outfile).size,
    limitKb: target.limitKb ?? null,
    top: contributorsByPackage(result.metafile, outputKey).slice(0, 3),
  };
}

export const kb = (bytes: number) => bytes / 1024;

/** "ok (12.3 KB under)" or "over by 4.5 KB": said plainly, never rounded into a pass. */
export function verdict(report: BundleReport): string {
  if (report.limitKb === null) return 'no target';
  const margin = kb(report.bytes) - report.limitKb;
  return margin > 0 ? `over by ${margin.toFixed(1)} KB` : `ok (${(-margin).toFixed(1)} KB under)`;
}
