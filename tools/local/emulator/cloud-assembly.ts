/**
 * A cloud assembly as the emulator reads it: the stack's template and, for each function, the
 * asset folder `cdk deploy` would zip and upload. Free of CDK itself, so that serving a
 * template (`emulator.ts`) does not load the construct library; synthesizing one is
 * `assembly.ts`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { CfnTemplate } from './template';

export interface CloudAssembly {
  /** The folder (`cdk.out` or a temporary one). */
  readonly directory: string;
  readonly stackName: string;
  readonly template: CfnTemplate;
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
