/**
 * The cloud assembly the emulator serves: synthesized here exactly as `cdk synth` does (the
 * same `addSecureMcpStack`, the context of `cdk.json` plus the caller's `-c` values, the
 * Lambdas bundled by the local esbuild), or read from a `cdk.out` folder already written.
 * What the emulator runs is what that folder holds: the template and, for each function, the
 * asset folder its `Code` points at.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App } from 'aws-cdk-lib';
import { type AddStackOptions, addSecureMcpStack } from '../../lib/app';
import type { CfnTemplate } from './template';

const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export interface CloudAssembly {
  /** The folder (`cdk.out` or a temporary one). */
  readonly directory: string;
  readonly stackName: string;
  readonly template: CfnTemplate;
}

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

/** Read an assembly written before (`npm run synth` writes `cdk.out`). */
export function readAssembly(directory: string, stackName = 'SecureMcpServer'): CloudAssembly {
  const path = join(directory, `${stackName}.template.json`);
  if (!existsSync(path)) {
    throw new Error(`${path} does not exist: run npm run synth first, or name the stack`);
  }
  const template = JSON.parse(readFileSync(path, 'utf8')) as CfnTemplate;
  return { directory: resolve(directory), stackName, template };
}

interface AssetManifest {
  readonly files?: Record<
    string,
    {
      readonly source: { readonly path: string; readonly packaging?: string };
      readonly destinations: Record<string, { readonly objectKey: string }>;
    }
  >;
}

/**
 * The folder a function's code was bundled into: the file asset whose object key is the
 * function's `Code.S3Key` in the stack's asset manifest (what `cdk deploy` zips and uploads),
 * or undefined when there is none (bundling skipped, inline code).
 */
export function assetDirectory(assembly: CloudAssembly, logicalId: string): string | undefined {
  const code = assembly.template.Resources[logicalId]?.Properties?.Code as
    | { S3Key?: unknown }
    | undefined;
  const manifestPath = join(assembly.directory, `${assembly.stackName}.assets.json`);
  if (typeof code?.S3Key !== 'string' || !existsSync(manifestPath)) return undefined;
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as AssetManifest;
  const asset = Object.values(manifest.files ?? {}).find((file) =>
    Object.values(file.destinations).some((destination) => destination.objectKey === code.S3Key),
  );
  if (asset === undefined) return undefined;
  const directory = join(assembly.directory, asset.source.path);
  return existsSync(join(directory, 'index.js')) ? directory : undefined;
}
