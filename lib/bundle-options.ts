/**
 * The esbuild options every Lambda is bundled with, as esbuild's JS API spells them: the one
 * source for `McpFunction`'s `bundling` (which NodejsFunction turns into `esbuild --bundle
 * --platform=node --target=node22 --format=cjs --minify --sourcemap --external:@aws-sdk/*`) and
 * for the benchmark, so the bench measures what is deployed.
 */
import type { BuildOptions } from 'esbuild';

export const LAMBDA_BUNDLE_OPTIONS = {
  bundle: true,
  platform: 'node',
  target: 'node22',
  format: 'cjs',
  minify: true,
  sourcemap: true,
  // The Node 22 runtime ships AWS SDK v3; everything else is bundled.
  external: ['@aws-sdk/*'],
} as const satisfies BuildOptions;
