/**
 * The esbuild options every Lambda is bundled with, as esbuild's JS API spells them: the one
 * source for `McpFunction`'s `bundling` (which NodejsFunction turns into `esbuild --bundle
 * --platform=node --target=node22 --format=cjs --minify --sourcemap --external:@aws-sdk/client-* --external:@aws-sdk/lib-*`) and
 * for the benchmark, so the bench measures what is deployed.
 */
import { fileURLToPath } from 'node:url';
import type { BuildOptions } from 'esbuild';

/** The MCP SDK's JSON-Schema shim, and what is bundled instead (see the file's comment). */
export const SDK_SHIM_ALIAS = {
  '@modelcontextprotocol/server/_shims': fileURLToPath(
    new URL('../lambda/mcp/json-schema-shim.ts', import.meta.url),
  ),
} as const;

export const LAMBDA_BUNDLE_OPTIONS = {
  bundle: true,
  platform: 'node',
  target: 'node22',
  format: 'cjs',
  minify: true,
  sourcemap: true,
  // The Node 22 runtime ships AWS SDK v3's clients, which the Lambdas off the request path
  // (rotation) still use; everything else is bundled, `@aws-sdk/util-dynamodb` (the small
  // client's marshalling, 6 KB) included, so its version is the one the tests ran.
  external: ['@aws-sdk/client-*', '@aws-sdk/lib-*'],
  alias: SDK_SHIM_ALIAS,
} as const satisfies BuildOptions;
