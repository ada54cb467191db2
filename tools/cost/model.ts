/**
 * What the deployed stack costs: dollars per month, and per million tool calls, from AWS list
 * prices, so a team can see how cost grows with traffic and what the authorizer cache saves.
 *
 *   npx tsx tools/cost/model.ts [--calls-per-month N] [--cache-hit-rate R] [--memory-mb M] ...
 *
 * {@link costPerMonth} is a pure function of {@link CostInputs}; every price is in
 * {@link PRICES} (one table, with its page), every count of things the stack creates once
 * (alarms, keys, rules) in {@link STACK_INVENTORY}, which a test checks against the
 * synthesized template. How the model works and what it leaves out: docs/cost.md.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
// The tables alone, not the construct: the cost model needs no CDK Monitoring to count rows.
import { alarmsFor } from '../../lib/monitoring/alarms';
import type { MonitoredFeatures } from '../../lib/monitoring/features';
import { customMetricCount } from '../../lib/monitoring/metric-filters';
import { POLICY } from '../../modules/policy';
import { parseCli, runCli, UsageError } from '../cli/common';

// --- Prices -------------------------------------------------------------------------------

/** Where and when the prices below were read. */
export const PRICE_BASIS = {
  region: 'us-east-1',
  asOf: 'AWS public pricing pages as of mid-2025 (written down from memory, with no internet to fetch them); check before relying',
} as const;

/** `usd` dollars per `per` units of `unit`, from `page`. */
export interface UnitPrice {
  readonly usd: number;
  readonly per: number;
  readonly unit: string;
  readonly page: string;
}

/** Volume tiers within one month: `usd` per `per` units up to `upTo` units in total. */
export interface TieredPrice {
  readonly tiers: readonly { readonly upTo: number; readonly usd: number }[];
  readonly per: number;
  readonly unit: string;
  readonly page: string;
}

const PAGES = {
  apiGateway: 'https://aws.amazon.com/api-gateway/pricing/',
  lambda: 'https://aws.amazon.com/lambda/pricing/',
  dynamoDb: 'https://aws.amazon.com/dynamodb/pricing/on-demand/',
  cloudWatch: 'https://aws.amazon.com/cloudwatch/pricing/',
  xRay: 'https://aws.amazon.com/xray/pricing/',
  waf: 'https://aws.amazon.com/waf/pricing/',
  secretsManager: 'https://aws.amazon.com/secrets-manager/pricing/',
  kms: 'https://aws.amazon.com/kms/pricing/',
  cognito: 'https://aws.amazon.com/cognito/pricing/',
} as const;

const MILLION = 1_000_000;

/** Every price the model uses: us-east-1 list prices, see {@link PRICE_BASIS}. */
export const PRICES = {
  /** REST APIs; the tiers count every REST API call of the account in the region. */
  apiGatewayRestRequests: {
    tiers: [
      { upTo: 333 * MILLION, usd: 3.5 },
      { upTo: 1_000 * MILLION, usd: 2.8 },
      { upTo: 20_000 * MILLION, usd: 2.38 },
      { upTo: Number.POSITIVE_INFINITY, usd: 1.51 },
    ],
    per: MILLION,
    unit: 'requests',
    page: PAGES.apiGateway,
  },
  lambdaRequests: { usd: 0.2, per: MILLION, unit: 'invocations', page: PAGES.lambda },
  /** Arm64, first 7.5 billion GB-s a month (cheaper tiers beyond, out of this model's reach). */
  lambdaArmDuration: { usd: 0.0000133334, per: 1, unit: 'GB-second (arm64)', page: PAGES.lambda },
  dynamoDbReads: {
    usd: 0.125,
    per: MILLION,
    unit: 'read request units (on demand)',
    page: PAGES.dynamoDb,
  },
  dynamoDbWrites: {
    usd: 0.625,
    per: MILLION,
    unit: 'write request units (on demand)',
    page: PAGES.dynamoDb,
  },
  dynamoDbStorage: { usd: 0.25, per: 1, unit: 'GB-month (table storage)', page: PAGES.dynamoDb },
  dynamoDbPitr: {
    usd: 0.2,
    per: 1,
    unit: 'GB-month (point-in-time recovery)',
    page: PAGES.dynamoDb,
  },
  /** Standard log class; Lambda logs are tiered since 2025, at this price for the first 10 TB. */
  logsIngestion: { usd: 0.5, per: 1, unit: 'GB ingested', page: PAGES.cloudWatch },
  logsStorage: { usd: 0.03, per: 1, unit: 'GB-month stored (compressed)', page: PAGES.cloudWatch },
  customMetrics: { usd: 0.3, per: 1, unit: 'custom metric-month', page: PAGES.cloudWatch },
  alarms: { usd: 0.1, per: 1, unit: 'standard-resolution alarm-month', page: PAGES.cloudWatch },
  dashboards: { usd: 3, per: 1, unit: 'dashboard-month', page: PAGES.cloudWatch },
  contributorInsightsRules: { usd: 0.5, per: 1, unit: 'rule-month', page: PAGES.cloudWatch },
  contributorInsightsEvents: {
    usd: 0.02,
    per: MILLION,
    unit: 'log events matched',
    page: PAGES.cloudWatch,
  },
  xRayTraces: { usd: 5, per: MILLION, unit: 'traces recorded', page: PAGES.xRay },
  wafWebAcl: { usd: 5, per: 1, unit: 'web ACL-month', page: PAGES.waf },
  wafRules: { usd: 1, per: 1, unit: 'rule-month', page: PAGES.waf },
  wafRequests: { usd: 0.6, per: MILLION, unit: 'requests inspected', page: PAGES.waf },
  secrets: { usd: 0.4, per: 1, unit: 'secret-month', page: PAGES.secretsManager },
  secretsApiCalls: { usd: 0.05, per: 10_000, unit: 'API calls', page: PAGES.secretsManager },
  /** Automatic rotation adds $1 a month per key for each of its first two rotations. */
  kmsKeys: { usd: 1, per: 1, unit: 'customer managed key-month', page: PAGES.kms },
  kmsRequests: { usd: 0.03, per: 10_000, unit: 'requests', page: PAGES.kms },
  /** The stack's user pool is on the Essentials feature plan. */
  cognitoEssentialsMau: {
    usd: 0.015,
    per: 1,
    unit: 'monthly active user (Essentials)',
    page: PAGES.cognito,
  },
} as const satisfies Record<string, UnitPrice | TieredPrice>;

/**
 * The always-free allowances (per account and month, not the 12-month new-account offers such as
 * API Gateway's 1M calls). Applied only with `applyFreeTier`, as if this stack were the
 * account's only user of them.
 */
export const ALWAYS_FREE = {
  lambdaRequests: 1_000_000,
  lambdaGbSeconds: 400_000,
  /** Shared by ingestion, storage and Logs Insights scans; credited against ingestion here. */
  logsGb: 5,
  customMetrics: 10,
  alarms: 10,
  dashboards: 3,
  contributorInsightsRules: 1,
  contributorInsightsEvents: 1_000_000,
  xRayTraces: 100_000,
  kmsRequests: 20_000,
  cognitoMau: 10_000,
  dynamoDbStorageGb: 25,
} as const;

// --- The stack ----------------------------------------------------------------------------

/**
 * What the example deployment's monitoring watches, and so which rows of the alarm and
 * metric-filter tables (`lib/monitoring/`) it has: the stack always has the OAuth proxy, client
 * registration and the access log; the example module has argument rules; quotas are on by
 * default (`-c enableQuotas`) and `modules/quotas.ts` has some.
 */
export const MONITORED_FEATURES: MonitoredFeatures = {
  oauthProxy: true,
  clientRegistration: true,
  argumentRules: true,
  quotas: true,
  accessLog: true,
};

/**
 * What the stack creates a fixed number of, counted in `lib/` (a test checks each against the
 * synthesized template, so a new alarm shows up here or fails the test).
 */
export const STACK_INVENTORY = {
  /**
   * lib/api-keys-secret.ts (the API-key secret), lib/monitoring/ (the alarm topic),
   * lib/log-encryption-key.ts (the log groups), lib/oauth-proxy.ts (the OAuth sealing key,
   * shared with client registration) and lib/request-state-store.ts (the HMAC key multi-round
   * state keys are derived from; its GenerateMac calls, one per instance per day, are left out:
   * cents a month).
   */
  kmsKeys: 5,
  /** lib/api-keys-secret.ts. */
  secrets: 1,
  /** The rows of the alarm table (`lib/monitoring/alarms.ts`) the example deployment has. */
  alarms: alarmsFor(MONITORED_FEATURES).length,
  dashboards: 1,
  contributorInsightsRules: 1,
  /**
   * The metrics the example deployment's metric filters publish (`lib/monitoring/metric-filters.ts`),
   * one each, but ToolCalls once per tool name of the policy table plus `(unknown)`, and refused
   * client registrations.
   */
  customMetrics: customMetricCount(MONITORED_FEATURES, POLICY.items.tool.length),
  /**
   * lib/mcp-api.ts: the body-size rule (413 above the MCP body limit), the per-IP rate rule,
   * the per-IP /register and sign-in rules and KnownBadInputs.
   */
  wafRules: 5,
  /** lib/lambda-function.ts default. */
  authorizerMemoryMb: 256,
  /** lib/secure-mcp-stack.ts. */
  mcpMemoryMb: 512,
} as const;

/**
 * What one approved call costs beyond the call itself (lambda/mcp/approvals.ts and the approval
 * page, lambda/oauth-proxy/approval-page.ts), counted on the flow the end-to-end test walks:
 * the call answered with the URL, the person signing in and approving, the retry.
 */
export const APPROVAL_COSTS = {
  /** GET /approve (to the sign-in), /approval-callback, GET /approve (the page), POST /approve. */
  pageRequests: 4,
  /** The retried call: one more MCP request (and authorizer invocation) per approval. */
  retryRequests: 1,
  /**
   * Approvals table: the request (put), the person's answer (update), the spend (update).
   * Items are under 1 KB: one write unit each.
   */
  tableWrites: 3,
  /** Strongly consistent reads: the call's look-up, the page's, and one while waiting. */
  tableReads: 3,
  /**
   * KMS: the ticket sealed by the MCP function; the page opens it four times and the sign-in
   * state, cookie and form token once each, and seals those three.
   */
  kmsRequests: 11,
  /**
   * Seconds a 2026-07-28 retry waits in the MCP Lambda for the person's answer (at most
   * APPROVAL_WAIT_SECONDS, 20 by default): an assumption, half of it.
   */
  waitSeconds: 10,
} as const;

/**
 * Bytes of one log event of each kind, measured on records the code writes (a test rebuilds
 * them from lambda/shared/audit.ts and the access-log format of the template).
 */
export const LOG_EVENT_BYTES = {
  /** `mcp.tool_call` with Powertools' Lambda context keys: one per tools/call. */
  toolCallAudit: 850,
  /** `mcp.auth_decision` with the context keys: one per authorizer invocation. */
  authDecisionAudit: 700,
  /** The JSON access-log line of lib/mcp-api.ts: one per HTTP request. */
  accessLog: 500,
  /** Lambda's START, END and REPORT lines (with the X-Ray ids): per invocation, three events. */
  lambdaPlatform: 360,
  /** What the argument rules add to the record of a call some rule names (verdict, rule ids). */
  ruleAuditFields: 40,
} as const;

/** Events per invocation in {@link LOG_EVENT_BYTES.lambdaPlatform}. */
const PLATFORM_EVENTS_PER_INVOCATION = 3;

/** X-Ray's default sampling rule: the first request each second, then 5% of the rest. */
export const XRAY_DEFAULT_SAMPLING = { reservoirPerSecond: 1, fixedRate: 0.05 } as const;

/** AWS bills a month as 730 hours. */
export const HOURS_PER_MONTH = 730;
const SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600;
const MINUTES_PER_MONTH = HOURS_PER_MONTH * 60;
const DAYS_PER_MONTH = HOURS_PER_MONTH / 24;
/** AWS's "GB" in these prices. */
const BYTES_PER_GB = 1024 ** 3;

// --- Inputs -------------------------------------------------------------------------------

const count = (what: string) =>
  z.number({ error: `${what} must be a number` }).min(0, `${what} must be 0 or more`);

/** The model's inputs, each with its default; only `toolCallsPerMonth` is required. */
export const costInputsSchema = z
  .object({
    /** `tools/call` requests a month. */
    toolCallsPerMonth: count('toolCallsPerMonth'),
    /**
     * HTTP requests (so API Gateway calls and MCP Lambda invocations) per tool call. A client
     * session costs initialize, notifications/initialized, a GET the server answers 405 (the
     * SDK's client probes for an SSE stream) and tools/list before its first call: (4 + n) / n
     * for n calls per session. 2 is a session of four calls; a one-shot call costs 5.
     */
    httpRequestsPerToolCall: z
      .number()
      .min(1, 'httpRequestsPerToolCall must be at least 1')
      .default(2),
    /**
     * Share of requests API Gateway answers from its authorizer cache. 0 as deployed by default:
     * the cache is off (`authorizerCacheTtlSeconds=0`, which gateway step-up needs); a
     * deployment with `-c gatewayStepUp=false -c authorizerCacheTtlSeconds=N` measures its own.
     */
    authorizerCacheHitRate: z
      .number({ error: 'authorizerCacheHitRate must be a number' })
      .min(0, 'authorizerCacheHitRate must be from 0 to 1')
      .max(1, 'authorizerCacheHitRate must be from 0 to 1')
      .default(0),
    authorizerMemoryMb: z
      .number()
      .int('authorizerMemoryMb must be a whole number')
      .min(128, 'authorizerMemoryMb must be from 128 to 10240')
      .max(10_240, 'authorizerMemoryMb must be from 128 to 10240')
      .default(STACK_INVENTORY.authorizerMemoryMb),
    mcpMemoryMb: z
      .number()
      .int('mcpMemoryMb must be a whole number')
      .min(128, 'mcpMemoryMb must be from 128 to 10240')
      .max(10_240, 'mcpMemoryMb must be from 128 to 10240')
      .default(STACK_INVENTORY.mcpMemoryMb),
    /**
     * Mean billed duration of an authorizer invocation, cold starts' billed INIT included. An
     * assumption, not a measurement: in process the decision takes 0.01-0.05 ms, Lambda at
     * 256 MB has about a seventh of a vCPU, bills at least 1 ms, reloads the key secret each
     * minute and (since August 2025) bills INIT. Measure it: Logs Insights on the log group,
     * `filter @type = "REPORT" | stats avg(@billedDuration)`.
     */
    authorizerBilledMs: count('authorizerBilledMs').default(10),
    /**
     * Mean billed duration of an MCP handler invocation, over every HTTP request (tools/call
     * with its DynamoDB round trip, and the cheaper initialize, tools/list, 202s and 405s). An
     * assumption like {@link authorizerBilledMs}; measure it the same way.
     */
    mcpBilledMs: count('mcpBilledMs').default(30),
    /**
     * DynamoDB read request units per tool call. get_record is 1 (strongly consistent, under
     * 4 KB); a query page scans up to 1,000 items (eventually consistent, 0.5 per 4 KB read);
     * run_report reads up to 10,000 records, about 250 units on a full table.
     */
    readUnitsPerToolCall: count('readUnitsPerToolCall').default(2),
    /** Write request units per tool call: put_record and delete_record write 1 each (items under 1 KB). */
    writeUnitsPerToolCall: count('writeUnitsPerToolCall').default(0.2),
    /**
     * Share of tool calls a per-caller quota counts (`modules/quotas.ts`): one write request
     * unit each (a conditional `UpdateItem` of a small counter). The example quota counts
     * `query_customer_data`, taken as half of all calls; 0 with `-c enableQuotas=false`.
     */
    quotaCountedShare: z
      .number({ error: 'quotaCountedShare must be a number' })
      .min(0, 'quotaCountedShare must be from 0 to 1')
      .max(1, 'quotaCountedShare must be from 0 to 1')
      .default(0.5),
    /** Bytes of each kind of log event; see {@link LOG_EVENT_BYTES}. */
    toolCallAuditBytes: count('toolCallAuditBytes').default(LOG_EVENT_BYTES.toolCallAudit),
    authDecisionAuditBytes: count('authDecisionAuditBytes').default(
      LOG_EVENT_BYTES.authDecisionAudit,
    ),
    accessLogBytes: count('accessLogBytes').default(LOG_EVENT_BYTES.accessLog),
    lambdaPlatformLogBytes: count('lambdaPlatformLogBytes').default(LOG_EVENT_BYTES.lambdaPlatform),
    /**
     * Bytes added to every log event: the 26 bytes PutLogEvents counts per event. Assumed to be
     * metered for ingestion too; 0 leaves it out.
     */
    logEventOverheadBytes: count('logEventOverheadBytes').default(26),
    /** Log retention (cdk.json `logRetentionDays`). */
    logRetentionDays: count('logRetentionDays').default(365),
    /** Stored (compressed) size over ingested size: an assumption for JSON logs. */
    logCompressionRatio: z
      .number()
      .min(0, 'logCompressionRatio must be from 0 to 1')
      .max(1, 'logCompressionRatio must be from 0 to 1')
      .default(0.15),
    /** Active tracing on the Lambdas and the stage, sampled by X-Ray's default rule. */
    xRayTracing: z.boolean().default(true),
    /** A WAF web ACL in front of the stage (cdk.json `enableWaf`). */
    enableWaf: z.boolean().default(true),
    /** People signing in through Cognito in a month (API-key callers are not users). */
    cognitoMonthlyActiveUsers: count('cognitoMonthlyActiveUsers').default(100),
    /** Size of the records table, for storage and point-in-time recovery. */
    tableSizeGb: count('tableSizeGb').default(1),
    /**
     * Authorizer execution environments that each reload the key secret (AWSCURRENT and
     * AWSPREVIOUS) every API_KEYS_CACHE_TTL_SECONDS while API-key traffic keeps them busy.
     */
    authorizerInstances: count('authorizerInstances').default(1),
    /** The authorizer's API-key cache TTL (API_KEYS_CACHE_TTL_SECONDS). */
    apiKeysCacheTtlSeconds: z
      .number()
      .min(1, 'apiKeysCacheTtlSeconds must be at least 1')
      .default(60),
    /** Subtract the always-free allowances ({@link ALWAYS_FREE}). Off: list prices for everything. */
    applyFreeTier: z.boolean().default(false),
    /**
     * `-c earlyDeny=true` (with `-c gatewayStepUp=false`): the authorizer refuses forbidden
     * 2026-07-28 calls by their headers. It needs the authorizer cache off, so the cache hit
     * rate is taken as 0 whatever {@link authorizerCacheHitRate} says.
     */
    earlyDeny: z.boolean().default(false),
    /**
     * Share of tool calls refused for a permission none of the caller's roles grant (what early
     * deny can catch; scope denials are step-up's and are not counted here).
     */
    deniedCallShare: z
      .number({ error: 'deniedCallShare must be a number' })
      .min(0, 'deniedCallShare must be from 0 to 1')
      .max(1, 'deniedCallShare must be from 0 to 1')
      .default(0.01),
    /** Share of tool calls made by 2026-07-28 clients (early deny judges only those). */
    modernCallShare: z
      .number({ error: 'modernCallShare must be a number' })
      .min(0, 'modernCallShare must be from 0 to 1')
      .max(1, 'modernCallShare must be from 0 to 1')
      .default(1),
    /**
     * Mean billed duration of an MCP invocation that the policy gate refuses (no SDK, no item
     * code, one audit record): what an early deny saves per call besides the invocation.
     */
    mcpDeniedBilledMs: count('mcpDeniedBilledMs').default(5),
    /**
     * Whether the modules have argument rules (Cedar). Off: Cedar is never loaded and nothing
     * below is priced (the rules' alarms and metrics stay in {@link STACK_INVENTORY}, which
     * counts the example deployment).
     */
    argumentRules: z.boolean().default(true),
    /** Share of tool calls whose item some rule names (the example: 2 of its 5 tools). */
    ruledCallShare: z
      .number({ error: 'ruledCallShare must be a number' })
      .min(0, 'ruledCallShare must be from 0 to 1')
      .max(1, 'ruledCallShare must be from 0 to 1')
      .default(0.4),
    /**
     * Billed milliseconds the rules add to a call they judge: 0.3-0.4 ms on a full core here
     * on Node 22 (`npm run bench`, docs/benchmarks.md), about 3.5 times that at 512 MB's share
     * of a vCPU, less what rounding up to the millisecond hides.
     */
    ruleDecisionMs: count('ruleDecisionMs').default(1),
    /**
     * Billed milliseconds an MCP instance spends on its first rule decision: loading Cedar's
     * WebAssembly, preparsing the rules, the first (cold) decision. 80-100 ms on a full core
     * here on Node 22 (`npm run bench`), about 3.5 times that at 512 MB.
     */
    ruleColdLoadMs: count('ruleColdLoadMs').default(350),
    /** MCP execution environments started a month that go on to judge a call by the rules. */
    mcpColdStartsPerMonth: count('mcpColdStartsPerMonth').default(730),
    /** Bytes the rules' fields add to an audit record; see {@link LOG_EVENT_BYTES}. */
    ruleAuditBytes: count('ruleAuditBytes').default(LOG_EVENT_BYTES.ruleAuditFields),
    /**
     * Share of tool calls that need a person's approval (by default every destructive
     * tool, by MCP's annotation defaults: `delete_record` in the example) and get it: see {@link APPROVAL_COSTS}.
     */
    approvalShare: z
      .number({ error: 'approvalShare must be a number' })
      .min(0, 'approvalShare must be from 0 to 1')
      .max(1, 'approvalShare must be from 0 to 1')
      .default(0.01),
  })
  .strict();

/** What {@link costPerMonth} takes: `toolCallsPerMonth` and any defaults to override. */
export type CostInputs = z.input<typeof costInputsSchema>;
/** The inputs with every default filled in. */
export type ResolvedCostInputs = z.output<typeof costInputsSchema>;

/** Inputs the model cannot price, each named with what is wrong. */
export class CostModelInputError extends Error {
  override readonly name = 'CostModelInputError';
  readonly issues: readonly { readonly input: string; readonly message: string }[];

  constructor(issues: readonly { readonly input: string; readonly message: string }[]) {
    super(`Invalid cost-model input: ${issues.map((i) => i.message).join('; ')}`);
    this.issues = issues;
  }
}

function resolveInputs(inputs: CostInputs): ResolvedCostInputs {
  const result = costInputsSchema.safeParse(inputs);
  if (!result.success) {
    throw new CostModelInputError(
      result.error.issues.map((issue) => ({
        input: String(issue.path[0] ?? '(inputs)'),
        message:
          issue.code === 'unrecognized_keys'
            ? `unknown input(s) ${issue.keys.join(', ')}`
            : issue.path.length > 0 && !issue.message.includes(String(issue.path[0]))
              ? `${String(issue.path[0])}: ${issue.message}`
              : issue.message,
      })),
    );
  }
  return result.data;
}

// --- The model ----------------------------------------------------------------------------

/** Per-call items grow with traffic; fixed items do not; free-tier credits are negative. */
export type LineItemGroup = 'per-call' | 'fixed' | 'free-tier';

export interface LineItem {
  /** Stable key, e.g. `apiGatewayRequests`. */
  readonly id: string;
  readonly label: string;
  readonly group: LineItemGroup;
  /** How much of `unit` was priced. */
  readonly quantity: number;
  readonly unit: string;
  readonly usdPerMonth: number;
}

export interface MonthlyCost {
  readonly inputs: ResolvedCostInputs;
  /** HTTP requests reaching API Gateway (so MCP Lambda invocations). */
  readonly httpRequests: number;
  readonly authorizerInvocations: number;
  /** MCP Lambda invocations: every HTTP request but those the authorizer denied early. */
  readonly mcpInvocations: number;
  /** Tool calls the authorizer refused before the MCP Lambda ran (early deny). */
  readonly earlyDeniedCalls: number;
  readonly lineItems: readonly LineItem[];
  readonly perCallUsd: number;
  readonly fixedUsd: number;
  /** Zero or negative. */
  readonly freeTierUsd: number;
  readonly totalUsd: number;
}

/** The cost of `quantity` units under a tiered price, each tier filled before the next. */
export function tieredCost(quantity: number, price: TieredPrice): number {
  let usd = 0;
  let floor = 0;
  for (const tier of price.tiers) {
    const inTier = Math.min(quantity, tier.upTo) - floor;
    if (inTier <= 0) break;
    usd += (inTier / price.per) * tier.usd;
    floor = tier.upTo;
  }
  return usd;
}

function priced(price: UnitPrice, quantity: number): number {
  return (quantity / price.per) * price.usd;
}

/** Traces X-Ray records for `requests` spread evenly over the month (the reservoir's best case). */
export function xRayTracesRecorded(requests: number): number {
  const reservoir = XRAY_DEFAULT_SAMPLING.reservoirPerSecond * SECONDS_PER_MONTH;
  return (
    Math.min(requests, reservoir) +
    XRAY_DEFAULT_SAMPLING.fixedRate * Math.max(0, requests - reservoir)
  );
}

/**
 * The monthly bill of the stack for the given traffic, one line item per priced thing. Pure:
 * same inputs, same figures. Throws {@link CostModelInputError} for inputs out of range.
 */
export function costPerMonth(inputs: CostInputs): MonthlyCost {
  const i = resolveInputs(inputs);
  const calls = i.toolCallsPerMonth;
  const http = calls * i.httpRequestsPerToolCall;
  // Early deny runs only with the authorizer cache off: every request invokes the authorizer.
  const cacheHitRate = i.earlyDeny ? 0 : i.authorizerCacheHitRate;
  const authorizerRuns = http * (1 - cacheHitRate);
  // Calls refused at the gateway: no MCP invocation, its duration or its log lines. (The
  // authorizer's decision record names the item instead; a few bytes more, not counted.)
  const earlyDenied = i.earlyDeny ? calls * i.deniedCallShare * i.modernCallShare : 0;
  const mcpRuns = http - earlyDenied;
  const gbSeconds = (runs: number, ms: number, mb: number) => runs * (ms / 1000) * (mb / 1024);
  const authorizerGbS = gbSeconds(authorizerRuns, i.authorizerBilledMs, i.authorizerMemoryMb);
  const mcpGbS =
    gbSeconds(http, i.mcpBilledMs, i.mcpMemoryMb) -
    gbSeconds(earlyDenied, i.mcpDeniedBilledMs, i.mcpMemoryMb);
  const overhead = i.logEventOverheadBytes;
  const gb = (bytes: number) => bytes / BYTES_PER_GB;
  const platformBytes = i.lambdaPlatformLogBytes + PLATFORM_EVENTS_PER_INVOCATION * overhead;
  const accessLogGb = gb(http * (i.accessLogBytes + overhead));
  // The argument rules: a decision per call whose item a rule names, Cedar's load per new
  // instance, and the verdict in those calls' audit records.
  const ruledCalls = i.argumentRules ? (calls - earlyDenied) * i.ruledCallShare : 0;
  const ruleDecisionGbS = gbSeconds(ruledCalls, i.ruleDecisionMs, i.mcpMemoryMb);
  const ruleColdLoadGbS = i.argumentRules
    ? gbSeconds(i.mcpColdStartsPerMonth, i.ruleColdLoadMs, i.mcpMemoryMb)
    : 0;
  const mcpLogGb = gb(
    (calls - earlyDenied) * (i.toolCallAuditBytes + overhead) +
      mcpRuns * platformBytes +
      ruledCalls * i.ruleAuditBytes,
  );
  const authorizerLogGb = gb(
    authorizerRuns * (i.authDecisionAuditBytes + overhead + platformBytes),
  );
  const ingestedGb = accessLogGb + mcpLogGb + authorizerLogGb;
  // Steady state, once the first retention period has passed.
  const storedGb = ingestedGb * i.logCompressionRatio * (i.logRetentionDays / DAYS_PER_MONTH);
  const traces = i.xRayTracing ? xRayTracesRecorded(http) : 0;
  const secretReads =
    i.authorizerInstances * 2 * MINUTES_PER_MONTH * (60 / i.apiKeysCacheTtlSeconds);

  const approvals = calls * i.approvalShare;
  const A = APPROVAL_COSTS;

  const P = PRICES;
  const S = STACK_INVENTORY;
  const F = ALWAYS_FREE;
  type Row = readonly [id: string, label: string, quantity: number, price: UnitPrice | TieredPrice];
  const perCall: Row[] = [
    ['apiGatewayRequests', 'API Gateway REST requests', http, P.apiGatewayRestRequests],
    ['authorizerRequests', 'Authorizer Lambda invocations', authorizerRuns, P.lambdaRequests],
    ['authorizerDuration', 'Authorizer Lambda duration', authorizerGbS, P.lambdaArmDuration],
    ['mcpRequests', 'MCP Lambda invocations', mcpRuns, P.lambdaRequests],
    ['mcpDuration', 'MCP Lambda duration', mcpGbS, P.lambdaArmDuration],
    ...(i.argumentRules
      ? [
          [
            'ruleDecisions',
            'MCP Lambda duration: rule decisions',
            ruleDecisionGbS,
            P.lambdaArmDuration,
          ] as const,
        ]
      : []),
    ['dynamoDbReads', 'DynamoDB reads', calls * i.readUnitsPerToolCall, P.dynamoDbReads],
    ['dynamoDbWrites', 'DynamoDB writes', calls * i.writeUnitsPerToolCall, P.dynamoDbWrites],
    ['quotaWrites', 'DynamoDB quota counters', calls * i.quotaCountedShare, P.dynamoDbWrites],
    ['logsAccess', 'Logs: API access log', accessLogGb, P.logsIngestion],
    ['logsMcp', 'Logs: MCP Lambda (audit + platform)', mcpLogGb, P.logsIngestion],
    ['logsAuthorizer', 'Logs: authorizer (audit + platform)', authorizerLogGb, P.logsIngestion],
    ['logsStorage', 'Logs: storage at steady state', storedGb, P.logsStorage],
    [
      'contributorInsightsEvents',
      'Contributor Insights events',
      calls,
      P.contributorInsightsEvents,
    ],
    ...(i.xRayTracing
      ? [['xRayTraces', 'X-Ray traces recorded', traces, P.xRayTraces] as const]
      : []),
    ...(i.enableWaf
      ? [['wafRequests', 'WAF requests inspected', http, P.wafRequests] as const]
      : []),
    // A person's approvals: the page, the retry, the table, KMS, and the retry's wait.
    [
      'approvalRequests',
      'Approvals: page and retry requests',
      approvals * (A.pageRequests + A.retryRequests),
      P.apiGatewayRestRequests,
    ],
    [
      'approvalInvocations',
      'Approvals: page and retry invocations',
      approvals * (A.pageRequests + 2 * A.retryRequests),
      P.lambdaRequests,
    ],
    [
      'approvalWait',
      'Approvals: MCP Lambda waiting for the person',
      gbSeconds(approvals, A.waitSeconds * 1000, i.mcpMemoryMb),
      P.lambdaArmDuration,
    ],
    ['approvalTableWrites', 'Approvals table writes', approvals * A.tableWrites, P.dynamoDbWrites],
    ['approvalTableReads', 'Approvals table reads', approvals * A.tableReads, P.dynamoDbReads],
    ['approvalKms', 'Approvals: KMS seals and opens', approvals * A.kmsRequests, P.kmsRequests],
  ];
  const fixed: Row[] = [
    ...(i.argumentRules
      ? [
          [
            'ruleColdLoads',
            'MCP Lambda duration: loading Cedar',
            ruleColdLoadGbS,
            P.lambdaArmDuration,
          ] as const,
        ]
      : []),
    ['kmsKeys', 'KMS customer managed keys', S.kmsKeys, P.kmsKeys],
    ['secrets', 'Secrets Manager secret', S.secrets, P.secrets],
    ['secretReads', 'Secrets Manager reads (key cache)', secretReads, P.secretsApiCalls],
    ['kmsRequests', 'KMS decrypts for those reads', secretReads, P.kmsRequests],
    ['alarms', 'CloudWatch alarms', S.alarms, P.alarms],
    ['dashboards', 'CloudWatch dashboard', S.dashboards, P.dashboards],
    ['customMetrics', 'Custom metrics (audit-log filters)', S.customMetrics, P.customMetrics],
    [
      'contributorInsightsRules',
      'Contributor Insights rule',
      S.contributorInsightsRules,
      P.contributorInsightsRules,
    ],
    ...(i.enableWaf
      ? [
          ['wafWebAcl', 'WAF web ACL', 1, P.wafWebAcl] as const,
          ['wafRules', 'WAF rules', S.wafRules, P.wafRules] as const,
        ]
      : []),
    ['dynamoDbStorage', 'DynamoDB storage', i.tableSizeGb, P.dynamoDbStorage],
    ['dynamoDbPitr', 'DynamoDB point-in-time recovery', i.tableSizeGb, P.dynamoDbPitr],
    [
      'cognitoMau',
      'Cognito monthly active users',
      i.cognitoMonthlyActiveUsers,
      P.cognitoEssentialsMau,
    ],
  ];
  // [id, label, allowance, used, price]: credits up to the allowance of what was used.
  type Credit = readonly [
    id: string,
    label: string,
    allowance: number,
    used: number,
    price: UnitPrice,
  ];
  const credits: Credit[] = !i.applyFreeTier
    ? []
    : [
        [
          'freeLambdaRequests',
          'Free: Lambda requests',
          F.lambdaRequests,
          authorizerRuns + mcpRuns,
          P.lambdaRequests,
        ],
        [
          'freeLambdaDuration',
          'Free: Lambda duration',
          F.lambdaGbSeconds,
          authorizerGbS + mcpGbS + ruleDecisionGbS + ruleColdLoadGbS,
          P.lambdaArmDuration,
        ],
        ['freeLogs', 'Free: log ingestion', F.logsGb, ingestedGb, P.logsIngestion],
        [
          'freeCustomMetrics',
          'Free: custom metrics',
          F.customMetrics,
          S.customMetrics,
          P.customMetrics,
        ],
        ['freeAlarms', 'Free: alarms', F.alarms, S.alarms, P.alarms],
        ['freeDashboards', 'Free: dashboards', F.dashboards, S.dashboards, P.dashboards],
        [
          'freeInsightsRules',
          'Free: Contributor Insights rule',
          F.contributorInsightsRules,
          S.contributorInsightsRules,
          P.contributorInsightsRules,
        ],
        [
          'freeInsightsEvents',
          'Free: Contributor Insights events',
          F.contributorInsightsEvents,
          calls,
          P.contributorInsightsEvents,
        ],
        ['freeXRay', 'Free: X-Ray traces', F.xRayTraces, traces, P.xRayTraces],
        ['freeKmsRequests', 'Free: KMS requests', F.kmsRequests, secretReads, P.kmsRequests],
        [
          'freeCognito',
          'Free: Cognito users',
          F.cognitoMau,
          i.cognitoMonthlyActiveUsers,
          P.cognitoEssentialsMau,
        ],
        [
          'freeDynamoDbStorage',
          'Free: DynamoDB storage',
          F.dynamoDbStorageGb,
          i.tableSizeGb,
          P.dynamoDbStorage,
        ],
      ];

  const item =
    (group: LineItemGroup) =>
    ([id, label, quantity, price]: Row): LineItem => ({
      id,
      label,
      group,
      quantity,
      unit: price.unit,
      usdPerMonth: 'tiers' in price ? tieredCost(quantity, price) : priced(price, quantity),
    });
  const items: LineItem[] = [
    ...perCall.map(item('per-call')),
    ...fixed.map(item('fixed')),
    ...credits.map(([id, label, allowance, used, price]): LineItem => {
      const quantity = Math.min(allowance, used);
      const usdPerMonth = -priced(price, quantity);
      return { id, label, group: 'free-tier', quantity, unit: price.unit, usdPerMonth };
    }),
  ];

  const sum = (group: LineItemGroup) =>
    items
      .filter((item) => item.group === group)
      .reduce((total, item) => total + item.usdPerMonth, 0);
  const perCallUsd = sum('per-call');
  const fixedUsd = sum('fixed');
  const freeTierUsd = sum('free-tier');
  return {
    inputs: i,
    httpRequests: http,
    authorizerInvocations: authorizerRuns,
    mcpInvocations: mcpRuns,
    earlyDeniedCalls: earlyDenied,
    lineItems: items,
    perCallUsd,
    fixedUsd,
    freeTierUsd,
    totalUsd: perCallUsd + fixedUsd + freeTierUsd,
  };
}

export interface PerMillionCalls {
  readonly lineItems: readonly (LineItem & { readonly usdPerMillionCalls: number })[];
  readonly perCallUsd: number;
  /** The fixed costs spread over this month's calls: large at low traffic, by design. */
  readonly fixedUsd: number;
  readonly freeTierUsd: number;
  readonly totalUsd: number;
}

/** {@link costPerMonth} divided by millions of tool calls. Needs `toolCallsPerMonth` above 0. */
export function costPerMillionCalls(inputs: CostInputs | MonthlyCost): PerMillionCalls {
  const monthly = 'lineItems' in inputs ? inputs : costPerMonth(inputs);
  const millions = monthly.inputs.toolCallsPerMonth / MILLION;
  if (!(millions > 0)) {
    throw new CostModelInputError([
      {
        input: 'toolCallsPerMonth',
        message: 'toolCallsPerMonth must be above 0 for a per-call view',
      },
    ]);
  }
  return {
    lineItems: monthly.lineItems.map((item) => ({
      ...item,
      usdPerMillionCalls: item.usdPerMonth / millions,
    })),
    perCallUsd: monthly.perCallUsd / millions,
    fixedUsd: monthly.fixedUsd / millions,
    freeTierUsd: monthly.freeTierUsd / millions,
    totalUsd: monthly.totalUsd / millions,
  };
}

/** The authorizer's share of a month: its invocations, duration and logs. */
export function authorizerUsd(monthly: MonthlyCost): number {
  const ids = new Set(['authorizerRequests', 'authorizerDuration', 'logsAuthorizer']);
  return monthly.lineItems
    .filter((item) => ids.has(item.id))
    .reduce((total, item) => total + item.usdPerMonth, 0);
}

/** What turning early deny on changes, against the same inputs with it off. */
export interface EarlyDenyComparison {
  /** MCP Lambda invocations early deny saves a month. */
  readonly mcpInvocationsSaved: number;
  /** Authorizer invocations it adds (the cache it needs off). */
  readonly authorizerInvocationsAdded: number;
  /** Dollars a month it adds; negative: it saves. */
  readonly deltaUsd: number;
  /**
   * The denied-call share (of all tool calls) at which it pays for itself with these inputs,
   * or `undefined` if it never does (more than every call would have to be denied).
   */
  readonly breakEvenDeniedShare: number | undefined;
}

/**
 * Early deny against the same deployment without it (at `inputs.authorizerCacheHitRate`).
 * The bill is linear in the denied share, so the break-even share is solved exactly.
 */
export function compareEarlyDeny(inputs: CostInputs): EarlyDenyComparison {
  const off = costPerMonth({ ...inputs, earlyDeny: false });
  const on = costPerMonth({ ...inputs, earlyDeny: true });
  const atShare = (share: number) =>
    costPerMonth({ ...inputs, earlyDeny: true, deniedCallShare: share }).totalUsd;
  const costOfNone = atShare(0) - off.totalUsd;
  const savedPerShare = atShare(0) - atShare(1);
  const breakEven =
    costOfNone <= 0 ? 0 : savedPerShare > 0 ? costOfNone / savedPerShare : Number.POSITIVE_INFINITY;
  return {
    mcpInvocationsSaved: off.mcpInvocations - on.mcpInvocations,
    authorizerInvocationsAdded: on.authorizerInvocations - off.authorizerInvocations,
    deltaUsd: on.totalUsd - off.totalUsd,
    breakEvenDeniedShare: breakEven <= 1 ? breakEven : undefined,
  };
}

// --- Report -------------------------------------------------------------------------------

/** Tool calls a month the report shows by default. */
export const DEFAULT_TRAFFIC_LEVELS = [100_000, 1_000_000, 10_000_000, 100_000_000] as const;
/** Authorizer cache hit rates the savings table compares by default. */
export const DEFAULT_CACHE_HIT_RATES = [0, 0.5, 0.9] as const;
/** Denied-call shares the early-deny table shows. */
export const EARLY_DENY_SHARES = [0.01, 0.1, 0.5] as const;

export interface ReportOptions {
  /** Inputs shared by every column (toolCallsPerMonth and the hit rate are set per column). */
  readonly base: Omit<CostInputs, 'toolCallsPerMonth' | 'authorizerCacheHitRate'>;
  readonly trafficLevels: readonly number[];
  /** The hit rate of the line-item table. */
  readonly cacheHitRate: number;
  /** The hit rates the savings table compares. */
  readonly cacheHitRates: readonly number[];
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** `1.5M`, `100k`: traffic levels as people say them. */
export function compactCount(n: number): string {
  const scaled = (value: number, suffix: string) =>
    `${Number.isInteger(value) ? value : value.toFixed(1)}${suffix}`;
  if (n >= 1e9) return scaled(n / 1e9, 'B');
  if (n >= 1e6) return scaled(n / 1e6, 'M');
  if (n >= 1e3) return scaled(n / 1e3, 'k');
  return String(n);
}

/** Dollars with cents and thousands separators; amounts under a cent say so. */
export function usd(amount: number): string {
  if (amount === 0) return '0';
  if (Math.abs(amount) < 0.005) return amount < 0 ? '-<0.01' : '<0.01';
  return amount.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}

const percent = (rate: number) => `${Math.round(rate * 100)}%`;

/** The report the CLI prints: line items per traffic level, then what the cache saves. */
export function renderReport(options: ReportOptions): string {
  const at = (calls: number, rate: number) =>
    costPerMonth({ ...options.base, toolCallsPerMonth: calls, authorizerCacheHitRate: rate });
  const levels = options.trafficLevels;
  const columns = levels.map((calls) => {
    const monthly = at(calls, options.cacheHitRate);
    return { calls, monthly, perMillion: calls > 0 ? costPerMillionCalls(monthly) : undefined };
  });
  const first = columns[0]?.monthly;
  if (first === undefined) throw new UsageError('no traffic level to report');
  const i = first.inputs;

  const cell = (column: (typeof columns)[number], id: string) => {
    const monthly = column.monthly.lineItems.find((item) => item.id === id)?.usdPerMonth ?? 0;
    const perMillion = column.perMillion?.lineItems.find(
      (item) => item.id === id,
    )?.usdPerMillionCalls;
    return [usd(monthly), perMillion === undefined ? '-' : usd(perMillion)];
  };
  const total = (
    column: (typeof columns)[number],
    key: 'perCallUsd' | 'fixedUsd' | 'freeTierUsd' | 'totalUsd',
  ) => [
    usd(column.monthly[key]),
    column.perMillion === undefined ? '-' : usd(column.perMillion[key]),
  ];
  const header = [
    `line item (cache hit rate ${percent(options.cacheHitRate)})`,
    ...levels.flatMap((calls) => [`${compactCount(calls)} $/mo`, '$/M calls']),
  ];
  const rows: string[][] = [];
  const groups: [LineItemGroup, string, 'perCallUsd' | 'fixedUsd' | 'freeTierUsd'][] = [
    ['per-call', 'per-call subtotal', 'perCallUsd'],
    ['fixed', 'fixed subtotal', 'fixedUsd'],
    ['free-tier', 'free-tier subtotal', 'freeTierUsd'],
  ];
  for (const [group, label, key] of groups) {
    const items = first.lineItems.filter((item) => item.group === group);
    if (items.length === 0) continue;
    for (const item of items) rows.push([item.label, ...columns.flatMap((c) => cell(c, item.id))]);
    rows.push([label, ...columns.flatMap((c) => total(c, key))]);
  }
  rows.push(['TOTAL', ...columns.flatMap((c) => total(c, 'totalUsd'))]);

  const rates = options.cacheHitRates;
  const savingsRows = levels.flatMap((calls) => {
    const noCache = at(calls, 0);
    return rates.map((rate) => {
      const monthly = at(calls, rate);
      return [
        compactCount(calls),
        percent(rate),
        compactCount(Math.round(monthly.authorizerInvocations)),
        usd(authorizerUsd(monthly)),
        usd(monthly.totalUsd),
        calls > 0 ? usd(costPerMillionCalls(monthly).totalUsd) : '-',
        usd(noCache.totalUsd - monthly.totalUsd),
      ];
    });
  });

  const earlyDenyAt = (calls: number, rate: number, share: number) =>
    compareEarlyDeny({
      ...options.base,
      toolCallsPerMonth: calls,
      authorizerCacheHitRate: rate,
      deniedCallShare: share,
    });
  const signed = (amount: number) => (amount > 0 ? `+${usd(amount)}` : usd(amount));
  // Against the default deployment (the cache off) and each hit rate a team might turn on.
  const earlyDenyRows = levels.flatMap((calls) =>
    EARLY_DENY_SHARES.map((share) => [
      compactCount(calls),
      percent(share),
      compactCount(Math.round(earlyDenyAt(calls, 0, share).mcpInvocationsSaved)),
      ...rates.map((rate) => signed(earlyDenyAt(calls, rate, share).deltaUsd)),
    ]),
  );
  const against = (rate: number) =>
    rate === 0
      ? 'the cache off (the default: every denied call is pure saving)'
      : `a ${percent(rate)} cache hit rate`;
  const breakEvenText = (rate: number) => {
    const share = earlyDenyAt(levels[0] ?? 1, rate, 0).breakEvenDeniedShare;
    return `${share === undefined ? 'never (over 100%)' : `${(share * 100).toFixed(1)}%`} against ${against(rate)}`;
  };

  const assumptions = [
    `${i.httpRequestsPerToolCall} HTTP requests per tool call; authorizer ${i.authorizerMemoryMb} MB × ${i.authorizerBilledMs} ms, MCP Lambda ${i.mcpMemoryMb} MB × ${i.mcpBilledMs} ms (arm64, mean billed)`,
    `${i.readUnitsPerToolCall} read and ${i.writeUnitsPerToolCall} write request units per tool call; logs ${i.toolCallAuditBytes} B per tool-call record, ${i.authDecisionAuditBytes} B per authorizer decision, ${i.accessLogBytes} B per access-log line, ${i.lambdaPlatformLogBytes} B of platform lines per invocation`,
    `X-Ray ${i.xRayTracing ? 'on (default sampling)' : 'off'}; WAF ${i.enableWaf ? 'on' : 'off'}; ${i.cognitoMonthlyActiveUsers} Cognito users; ${i.tableSizeGb} GB table; free tiers ${i.applyFreeTier ? 'applied (always-free allowances only)' : 'not applied'}`,
  ];
  return [
    `Prices: ${PRICE_BASIS.region} list prices, ${PRICE_BASIS.asOf}.`,
    ...assumptions.map((line) => `Inputs: ${line}.`),
    '',
    table(header, rows),
    '',
    'What the authorizer cache saves (authorizer = its invocations, duration and logs; the cache is off by default, on with -c gatewayStepUp=false -c authorizerCacheTtlSeconds=N):',
    '',
    table(
      [
        'calls/mo',
        'cache hits',
        'authorizer runs/mo',
        'authorizer $/mo',
        'total $/mo',
        'total $/M calls',
        'saved $/mo vs no cache',
      ],
      savingsRows,
    ),
    '',
    `What early deny costs (-c earlyDeny=true -c gatewayStepUp=false; it needs the authorizer cache off, as deployed by default; ${percent(i.modernCallShare)} of calls from 2026-07-28 clients):`,
    '',
    table(
      [
        'calls/mo',
        'denied',
        'MCP runs saved/mo',
        ...rates.map((rate) =>
          rate === 0 ? 'vs cache off (default): $/mo' : `vs cache ${percent(rate)}: $/mo`,
        ),
      ],
      earlyDenyRows,
    ),
    '',
    `Break-even denied-call share: ${rates.map(breakEvenText).join('; ')}.`,
    '',
    'Not counted: data transfer out, refused or attack traffic, the registration and discovery endpoints, X-Ray and Logs Insights reads, CloudWatch API calls, SNS notifications. See docs/cost.md.',
  ].join('\n');
}

// --- CLI ----------------------------------------------------------------------------------

const USAGE = `usage: npx tsx tools/cost/model.ts [options]

  --calls-per-month <n>       one traffic level instead of ${DEFAULT_TRAFFIC_LEVELS.map(compactCount).join(', ')}
  --cache-hit-rate <r>        authorizer cache hit rate, 0 to 1, of the line-item table (default 0:
                              the cache is off as deployed by default);
                              the savings table compares ${DEFAULT_CACHE_HIT_RATES.join(', ')} and this rate
  --memory-mb <m>             MCP Lambda memory (default ${STACK_INVENTORY.mcpMemoryMb})
  --authorizer-memory-mb <m>  authorizer memory (default ${STACK_INVENTORY.authorizerMemoryMb})
  --requests-per-call <n>     HTTP requests per tool call (default 2)
  --authorizer-ms <ms>        mean billed authorizer duration (default 10)
  --mcp-ms <ms>               mean billed MCP Lambda duration (default 30)
  --read-units <n>            DynamoDB read request units per tool call (default 2)
  --write-units <n>           DynamoDB write request units per tool call (default 0.2)
  --quota-share <r>           share of tool calls a quota counts, one write each (default 0.5)
  --users <n>                 Cognito monthly active users (default 100)
  --table-gb <n>              records table size (default 1)
  --without-waf               as deployed with -c enableWaf=false
  --without-xray              no X-Ray traces
  --free-tier                 subtract the always-free allowances
  --early-deny                price the line items with -c earlyDeny=true (authorizer cache off)
  --denied-share <r>          share of tool calls denied for a missing role permission (default 0.01)
  --modern-share <r>          share of tool calls from 2026-07-28 clients (default 1)
  --without-rules             modules without argument rules (Cedar is never loaded)
  --ruled-share <r>           share of tool calls whose item a rule names (default 0.4)
  --rule-ms <ms>              billed ms a rule decision adds to a call (default 1)
  --rule-load-ms <ms>         billed ms of an instance's first decision, loading Cedar (default 350)
  --mcp-cold-starts <n>       MCP instances started a month that judge a call by the rules (default 730)`;

/** CLI flag of each numeric input, so errors name what the user typed. */
const NUMERIC_FLAGS = {
  'calls-per-month': 'toolCallsPerMonth',
  'cache-hit-rate': 'authorizerCacheHitRate',
  'memory-mb': 'mcpMemoryMb',
  'authorizer-memory-mb': 'authorizerMemoryMb',
  'requests-per-call': 'httpRequestsPerToolCall',
  'authorizer-ms': 'authorizerBilledMs',
  'mcp-ms': 'mcpBilledMs',
  'read-units': 'readUnitsPerToolCall',
  'write-units': 'writeUnitsPerToolCall',
  'quota-share': 'quotaCountedShare',
  users: 'cognitoMonthlyActiveUsers',
  'table-gb': 'tableSizeGb',
  'denied-share': 'deniedCallShare',
  'modern-share': 'modernCallShare',
  'ruled-share': 'ruledCallShare',
  'rule-ms': 'ruleDecisionMs',
  'rule-load-ms': 'ruleColdLoadMs',
  'mcp-cold-starts': 'mcpColdStartsPerMonth',
} as const satisfies Record<string, keyof ResolvedCostInputs>;
type NumericFlag = keyof typeof NUMERIC_FLAGS;

/** Parse the CLI arguments into report options; usage errors name the flag. */
export function reportOptionsFromArgs(args: readonly string[]): ReportOptions | 'help' {
  const { values } = parseCli(
    {
      options: {
        ...(Object.fromEntries(
          Object.keys(NUMERIC_FLAGS).map((flag) => [flag, { type: 'string' }]),
        ) as Record<NumericFlag, { type: 'string' }>),
        'without-waf': { type: 'boolean' },
        'without-xray': { type: 'boolean' },
        'free-tier': { type: 'boolean' },
        'early-deny': { type: 'boolean' },
        'without-rules': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    },
    [...args],
  );
  if (values.help) return 'help';
  type NumericInput = (typeof NUMERIC_FLAGS)[NumericFlag];
  const numbers: Partial<Record<NumericInput, number>> = {};
  for (const [flag, input] of Object.entries(NUMERIC_FLAGS) as [NumericFlag, NumericInput][]) {
    const raw = (values as Record<string, unknown>)[flag];
    if (typeof raw !== 'string') continue;
    const value = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(value)) {
      throw new UsageError(`--${flag} takes a number, got '${raw}'`);
    }
    numbers[input] = value;
  }
  const { toolCallsPerMonth, authorizerCacheHitRate, ...rest } = numbers;
  const cacheHitRate = authorizerCacheHitRate ?? 0;
  const options: ReportOptions = {
    base: {
      ...rest,
      enableWaf: !values['without-waf'],
      xRayTracing: !values['without-xray'],
      applyFreeTier: values['free-tier'] === true,
      earlyDeny: values['early-deny'] === true,
      argumentRules: values['without-rules'] !== true,
    },
    trafficLevels: toolCallsPerMonth === undefined ? DEFAULT_TRAFFIC_LEVELS : [toolCallsPerMonth],
    cacheHitRate,
    cacheHitRates: [...new Set([...DEFAULT_CACHE_HIT_RATES, cacheHitRate])].sort((a, b) => a - b),
  };
  // Validate once here, so a bad value is reported with its flag rather than mid-report.
  try {
    costPerMonth({
      ...options.base,
      toolCallsPerMonth: toolCallsPerMonth ?? 0,
      authorizerCacheHitRate: cacheHitRate,
    });
  } catch (error) {
    if (!(error instanceof CostModelInputError)) throw error;
    const flagOf = (input: string) =>
      (Object.entries(NUMERIC_FLAGS) as [string, string][]).find(([, name]) => name === input)?.[0];
    throw new UsageError(
      error.issues
        .map((issue) => {
          const flag = flagOf(issue.input);
          return flag === undefined ? issue.message : `--${flag}: ${issue.message}`;
        })
        .join('; '),
      { cause: error },
    );
  }
  return options;
}

async function main(): Promise<void> {
  const options = reportOptionsFromArgs(process.argv.slice(2));
  process.stdout.write(`${options === 'help' ? USAGE : renderReport(options)}\n`);
}

const entry = process.argv[1];
if (entry !== undefined && resolve(entry) === fileURLToPath(import.meta.url)) runCli(main, USAGE);
