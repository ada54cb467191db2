/**
 * The esbuild options every Lambda is bundled with, as esbuild's JS API spells them: the one
 * source for `McpFunction`'s `bundling` (which NodejsFunction turns into `esbuild --bundle
 * --platform=node --target=node22 --format=cjs --minify --sourcemap --external:@aws-sdk/client-* --external:@aws-sdk/lib-*
 * --external:@cedar-policy/cedar-wasm`) and
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

/**
 * Cedar's WebAssembly build (the argument rules): left out of the bundle, because its Node
 * build reads its 4 MB `.wasm` from beside its own code, and loaded only when an item with
 * rules is first used. The stack ships {@link CEDAR_RUNTIME_FILES} beside the MCP function's
 * bundle when some module has rules.
 */
export const CEDAR_PACKAGE = '@cedar-policy/cedar-wasm';
/** What of Cedar's package the MCP function loads: its manifest (exports) and the Node build. */
export const CEDAR_RUNTIME_FILES = [
  `node_modules/${CEDAR_PACKAGE}/package.json`,
  `node_modules/${CEDAR_PACKAGE}/nodejs`,
] as const;

/**
 * What must ship beside an MCP function's bundle that serves these modules: Cedar's runtime
 * when any of them has rules, else nothing.
 */
export function mcpShippedFiles(
  modules: readonly { readonly rules?: string }[],
): readonly string[] {
  return modules.some((module) => module.rules !== undefined) ? CEDAR_RUNTIME_FILES : [];
}

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
  external: ['@aws-sdk/client-*', '@aws-sdk/lib-*', CEDAR_PACKAGE],
  alias: SDK_SHIM_ALIAS,
} as const satisfies BuildOptions;
