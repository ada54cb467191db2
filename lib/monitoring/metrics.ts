/**
 * The names the monitoring publishes under: its CloudWatch namespace, the metrics its audit-log
 * filters count, and the one dimension. Plain data, read by the construct, the dashboard, the
 * cost model and the tests.
 */

/** The CloudWatch namespace of the audit-log metrics, unless `metricNamespace` says otherwise. */
export const DEFAULT_NAMESPACE = 'SecureMcp';

/** Names of the metrics the audit-log metric filters publish. */
export const METRIC_NAMES = {
  /** Every `tools/call`, whatever its outcome, with the {@link TOOL_DIMENSION} dimension. */
  toolCalls: 'ToolCalls',
  /** Calls refused because the caller's roles lack the tool's permission. */
  deniedCalls: 'DeniedToolCalls',
  /** Calls whose tool failed (the MCP handler caught it, so Lambda's Errors never sees it). */
  toolErrors: 'ToolErrors',
  /** Authorizer decisions that refused the credential. */
  authFailures: 'AuthFailures',
  /** Authorizer invocations that ran in a fresh execution environment. */
  authorizerColdStarts: 'AuthorizerColdStarts',
  /** Tool calls served by a fresh MCP handler execution environment. */
  coldStartToolCalls: 'ColdStartToolCalls',
  /** OAuth proxy steps refused (bad client, redirect, PKCE, consent CSRF, code replay, …). */
  refusedAuthorizations: 'RefusedAuthorizations',
  /** CIMD client ids refused: the SSRF guard, the host allow-list, documents that fail. */
  cimdRefusals: 'CimdRefusals',
  /** Refresh tokens that leaked: presented after rotation, or by another client than theirs. */
  refreshTokenReuse: 'RefreshTokenReuse',
  /** Requests the argument rules (Cedar) refused (enforce mode). */
  ruleDeniedCalls: 'RuleDeniedCalls',
  /** Requests the argument rules would have refused, let through in log-only mode. */
  ruleWouldDenyCalls: 'RuleWouldDenyCalls',
  /** Requests refused because the argument rules could not be evaluated (fail closed). */
  ruleErrors: 'RuleErrors',
  /**
   * Approvals denied by the person, expired, or refused (a replay, a forged ticket, another
   * person, a stale sign-in, a cross-site post…), from the MCP function and the approval page.
   */
  refusedApprovals: 'RefusedApprovals',
  /** Calls, reads and gets a per-caller quota refused (over the limit, or not countable). */
  rateLimitedCalls: 'RateLimitedCalls',
} as const;

/** A metric of {@link METRIC_NAMES}, by its key. */
export type MetricKey = keyof typeof METRIC_NAMES;

/**
 * The dimension of {@link METRIC_NAMES.toolCalls}: bounded, because unknown tools log
 * `UNKNOWN_TOOL` (`(unknown)`), never their name.
 */
export const TOOL_DIMENSION = 'Tool';
