/**
 * The esbuild options the stack bundles every Lambda with, as esbuild's JS API spells them.
 *
 * They mirror `bundling` in `lib/lambda-function.ts`, which NodejsFunction turns into
 * `esbuild --bundle --platform=node --target=node22 --format=cjs --minify --sourcemap
 * --external:@aws-sdk/*`. Change both together: the bench must measure what is deployed.
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
