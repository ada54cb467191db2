/**
 * The cloud assembly the emulator serves, synthesized here exactly as `cdk synth` does (the
 * same `addSecureMcpStack`, the context of `cdk.json` plus the caller's `-c` values, the
 * Lambdas bundled by the local esbuild). Reading one already written (`cdk.out`) needs no CDK
 * and lives in `cloud-assembly.ts`, re-exported here.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App } from 'aws-cdk-lib';
import { type AddStackOptions, addSecureMcpStack } from '../../../lib/app';
import { type CloudAssembly, readAssembly } from './cloud-assembly';

const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** The `context` of `cdk.json`: what `cdk synth` starts from. */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as {
    context?: Record<string, unknown>;
  };
  return { ...(cdkJson.context ?? {}) };
}

export interface SynthOptions {
  /** Where to write the assembly. */
  readonly outdir: string;
  /** `-c` values over `cdk.json`'s. */
  readonly context?: Readonly<Record<string, unknown>>;
  /** A test's own modules (`SecureMcpStackProps.modules`). */
  readonly modules?: AddStackOptions['modules'];
  /**
   * Bundle the Lambdas (what `cdk synth` does). Off, the functions' code cannot be run: only
   * for tests of the template alone. @default true
   */
  readonly bundle?: boolean;
}

/**
 * Synthesize the stack as `npm run synth` does, without the CLI and without the compliance
 * plugins (they change no resource; `npm run synth` and CI run them).
 */
export function synthesize(options: SynthOptions): CloudAssembly {
  const app = new App({
    outdir: options.outdir,
    context: {
      ...cdkJsonContext(),
      ...(options.context ?? {}),
      ...(options.bundle === false ? { 'aws:cdk:bundling-stacks': [] } : {}),
    },
  });
  const { stack } = addSecureMcpStack(app, {
    ...(options.modules === undefined ? {} : { modules: options.modules }),
  });
  const assembly = app.synth();
  return readAssembly(assembly.directory, stack.stackName);
}

export { assetDirectory, type CloudAssembly, readAssembly } from './cloud-assembly';
