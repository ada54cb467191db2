/**
 * The figures of the run docs/benchmarks.md showed before the cold-start work (2026-12-01, SDK
 * v2, SDK v3 clients on the request path, `--enable-source-maps`), by the row names the bench
 * prints, so every run prints the old figure beside the new one. Cross-run comparisons carry
 * the noise of two runs: compare the ratios of one run first.
 */

/** Minified bundle sizes, KB. */
export const PREVIOUS_BUNDLE_KB: Readonly<Record<string, number>> = {
  'lambda/authorizer/index.ts': 94.2,
  'lambda/mcp/index.ts': 361.8,
  'lambda/rotation/index.ts': 58.2,
  'lambda/registration/index.ts': 58.5,
};

/** Warm cases, ops/s. */
export const PREVIOUS_WARM_OPS: Readonly<Record<string, number>> = {
  'authorizer handler, Cognito access token (RS256), audit record included': 14_968,
  'baseline: aws-jwt-verify verifySync (same token, alternating blocks)': 26_031,
  'authorizer handler, Cognito access token, no audit record (breakdown only)': 22_214,
  'ApiKeyStore.verify, 1 key(s), median of 5': 393_735,
  'ApiKeyStore.verify, 10,000 key(s), median of 5': 406_831,
  'authorizer handler, API key, 1 key(s)': 36_750,
  'authorizer handler, API key, 10,000 key(s)': 66_290,
  'MCP handler, tools/list (analyst)': 1_175,
  'MCP handler, tools/call get_record, 2025-11-25 (dynalite in the path)': 588,
  'MCP handler, tools/call get_record, 2026-07-28 (dynalite in the path)': 588,
};

/** The warm cases that must be no slower than before (the "warm paths"). */
export const WARM_NO_SLOWER = [
  'authorizer handler, Cognito access token (RS256), audit record included',
  'authorizer handler, API key, 1 key(s)',
  'MCP handler, tools/call get_record, 2025-11-25 (dynalite in the path)',
  'MCP handler, tools/call get_record, 2026-07-28 (dynalite in the path)',
] as const;

/** Ours ÷ Express, warm tools/call. */
export const PREVIOUS_EXPRESS_RATIO: Readonly<Record<'dynalite' | 'memory', number>> = {
  dynalite: 1.33,
  memory: 1.25,
};

/** Cold init rows: ms above `node -e 0` (wall p50) and self-timed require + first answer. */
export const PREVIOUS_COLD: Readonly<Record<string, { aboveMs: number; selfMs: number }>> = {
  authorizer: { aboveMs: 110.0, selfMs: 100.6 },
  mcp: { aboveMs: 215.5, selfMs: 202.2 },
  'mcp 2026-07-28': { aboveMs: 230.9, selfMs: 223.7 },
  'SDK alone: secrets-manager': { aboveMs: 60.0, selfMs: 55.2 },
  'SDK alone: dynamodb': { aboveMs: 71.0, selfMs: 68.0 },
  'express baseline': { aboveMs: 265.2, selfMs: 257.9 },
};

/** End to end, 8 clients. */
export const PREVIOUS_END_TO_END = { requestsPerSecond: 224, p50Ms: 34.092 } as const;

/**
 * The key document on the request path before: the whole reload (parse + index, ~20 µs a key,
 * measured when the issue was filed) on the request that found the TTL out.
 */
export const PREVIOUS_KEY_DOCUMENT_MS: Readonly<Record<number, number>> = {
  300: 6.6,
  10000: 200,
};
