/**
 * The alarm table: one row per alarm. The Monitoring construct creates the rows whose condition
 * holds, the configuration takes a `-c` key (and its default) from each row that names one, the
 * dashboard draws each row's threshold and status, the cost model counts the rows, and
 * docs/alarms.md is generated from them. Adding an alarm is adding a row (and, if it counts
 * something new, a metric filter in `metric-filters.ts`).
 *
 * Plain data: no CDK here, so the configuration and the cost model read it without loading the
 * construct.
 */
import { holds, type MonitoredFeatures, type MonitoringFeature } from './features';
import type { MetricKey } from './metrics';

/** What an alarm watches. */
export type AlarmMetric =
  /** An audit-log metric (`METRIC_NAMES`), summed: some row of `METRIC_FILTERS` must count it. */
  | { readonly kind: 'audit'; readonly name: MetricKey }
  /** The calls of the top (caller, tool) in the Contributor Insights rule. */
  | { readonly kind: 'topCaller' }
  /** The refused client registrations the ClientRegistration construct counts, summed. */
  | { readonly kind: 'refusedRegistrations' }
  /** A metric of the MCP function, summed. */
  | { readonly kind: 'mcpFunction'; readonly name: 'Errors' | 'Throttles' }
  /** A metric of the API's stage, summed. */
  | { readonly kind: 'apiStage'; readonly name: '5XXError' };

/** An alarm's threshold: fixed, or a Monitoring prop (and maybe a `-c` key) with a default. */
export type AlarmThreshold =
  | { readonly fixed: number }
  | {
      /** The Monitoring prop that sets it. */
      readonly prop: `${string}Threshold`;
      readonly default: number;
      /** What the number is, for the message that refuses a bad one. */
      readonly meaning: string;
      /** Also a `-c` key of the same name (`lib/config.ts`), with the same default. */
      readonly config?: true;
    };

/** One alarm. */
export interface AlarmSpec {
  /** The construct id: a contract, since renaming it replaces the alarm in deployed stacks. */
  readonly id: string;
  readonly metric: AlarmMetric;
  /** The metric's label in the alarm; AWS service metrics have none (they render without). */
  readonly label?: string;
  /** `above`: more than the threshold; `atLeast`: the threshold or more. */
  readonly comparison: 'above' | 'atLeast';
  /**
   * `window`: the abuse window (`abuseWindow`, `-c abuseWindowMinutes`); `fiveMinutes`: a fixed
   * five minutes, for errors, throttles and 5xx, any one of which is news.
   */
  readonly period: 'window' | 'fiveMinutes';
  readonly threshold: AlarmThreshold;
  /** The alarm exists only in a deployment with this feature; always when absent. */
  readonly when?: MonitoringFeature;
  /** The label of its threshold line on the dashboard graph that draws its metric, if any. */
  readonly annotation?: string;
  /**
   * The alarm's description, which its notification carries: what it means, where to look.
   * @param threshold the threshold in effect
   * @param window the period in words (`5 minutes`)
   */
  readonly description: (threshold: number, window: string) => string;
  /** What to do when it fires (docs/alarms.md). */
  readonly response: string;
}

/** The abuse window unless `abuseWindow` (`-c abuseWindowMinutes`) says otherwise. */
export const DEFAULT_WINDOW_MINUTES = 5;

/** The alarms, in the order the dashboard's alarm widget lists them. */
export const ALARMS = [
  {
    id: 'AbuseAlarm',
    metric: { kind: 'topCaller' },
    label: 'Calls by the top (caller, tool)',
    comparison: 'above',
    period: 'window',
    threshold: {
      prop: 'abuseThreshold',
      default: 100,
      config: true,
      meaning: 'the number of calls one caller may make to one tool within abuseWindow',
    },
    description: (threshold, window) =>
      `A single caller made more than ${threshold} calls to one tool within ${window}. See the top-callers graph on the dashboard for who and which tool; revoke the key or disable the user if it is not expected.`,
    response:
      'Find the caller and the tool on the top-callers graph. Not expected: revoke the key (`npm run keys -- revoke <key id>`) or disable the user (`npm run users -- disable <user>`). Expected: raise the threshold, or give the tool a quota (`modules/quotas.ts`).',
  },
  {
    id: 'AuthFailureAlarm',
    metric: { kind: 'audit', name: 'authFailures' },
    label: 'Authentication failures',
    comparison: 'above',
    period: 'window',
    threshold: {
      prop: 'authFailureThreshold',
      default: 50,
      meaning: 'the number of authentication failures within abuseWindow that counts as a burst',
    },
    annotation: 'Burst threshold',
    description: (threshold, window) =>
      `More than ${threshold} authentication failures within ${window}: possible credential stuffing. The authorizer log's reason and source_ip fields say what failed and from where.`,
    response:
      "Count the authorizer's denials by `reason` and `source_ip`. Many addresses or guessed credentials: credential stuffing, which the WAF's per-IP rule (`-c wafRateLimit`) slows. One client with an expired or revoked credential: tell its owner.",
  },
  {
    id: 'DeniedCallsAlarm',
    metric: { kind: 'audit', name: 'deniedCalls' },
    label: 'Denied tool calls',
    comparison: 'above',
    period: 'window',
    threshold: {
      prop: 'deniedThreshold',
      default: 20,
      meaning: 'the number of denied tool calls within abuseWindow that counts as a burst',
    },
    annotation: 'Denied-burst threshold',
    description: (threshold, window) =>
      `More than ${threshold} tool calls denied for missing permissions within ${window}: possible privilege probing. The MCP log's caller and tool fields say who tried what.`,
    response:
      'See who asked for what (`caller`, `tool`). A caller trying items its roles lack: revoke its key or disable it. A client calling a tool its person may not use: tell its maker, or grant the role the permission (`modules/roles.ts`) if it should have it.',
  },
  {
    id: 'ToolErrorAlarm',
    metric: { kind: 'audit', name: 'toolErrors' },
    label: 'Tool errors',
    comparison: 'atLeast',
    period: 'fiveMinutes',
    threshold: { fixed: 1 },
    description: () =>
      'A tool failed at least once within 5 minutes. The MCP log has the error_type and request_id.',
    response:
      "Find the call by its `request_id`; `error_type` says what failed. Many at once point at a dependency (the tool's table throttled or unreachable); one input failing each time, at the tool's code.",
  },
  {
    id: 'HandlerErrorAlarm',
    metric: { kind: 'mcpFunction', name: 'Errors' },
    comparison: 'atLeast',
    period: 'fiveMinutes',
    threshold: { fixed: 1 },
    description: () =>
      'The MCP handler Lambda failed (crash, timeout or out of memory) at least once within 5 minutes.',
    response:
      "Read the MCP function's log around the time: a timeout (`-c mcpTimeoutSeconds`), memory exhausted (the `REPORT` line's max memory), or an uncaught error, which is a bug to fix.",
  },
  {
    id: 'HandlerThrottleAlarm',
    metric: { kind: 'mcpFunction', name: 'Throttles' },
    comparison: 'atLeast',
    period: 'fiveMinutes',
    threshold: { fixed: 1 },
    description: () =>
      'The MCP handler Lambda was throttled at least once within 5 minutes: callers got errors. Check concurrency limits.',
    response:
      "Lambda had no concurrency left for the MCP function: look for a traffic surge on the dashboard (the stage's `-c throttleRateLimit` caps it before Lambda), or ask for a higher Lambda concurrency quota.",
  },
  {
    id: 'Api5xxAlarm',
    metric: { kind: 'apiStage', name: '5XXError' },
    comparison: 'atLeast',
    period: 'fiveMinutes',
    threshold: { fixed: 1 },
    description: () =>
      'The API answered with a 5xx at least once within 5 minutes (authorizer or handler failure).',
    response:
      "The access log's `status` and `errorType` say which requests. With no handler error at the same time, the authorizer failed (API Gateway answers 500 when it errors) or the integration timed out.",
  },
  {
    id: 'RefusedRegistrationAlarm',
    metric: { kind: 'refusedRegistrations' },
    label: 'Refused client registrations',
    comparison: 'above',
    period: 'window',
    threshold: {
      prop: 'refusedRegistrationThreshold',
      default: 20,
      meaning:
        'the number of refused client registrations within abuseWindow that counts as a burst',
    },
    when: 'clientRegistration',
    description: (threshold, window) =>
      `More than ${threshold} OAuth client registrations refused within ${window}: a client with a callback URL the pool does not allow, or someone probing /register. The registration log's oauth_error, field and source_ip say which.`,
    response:
      "One client refused the same way each time has a redirect URI the rules refuse: its maker's to fix. Many addresses trying many values is probing; `/register` is throttled (`-c registrationRateLimit`).",
  },
  {
    id: 'RefusedAuthorizationAlarm',
    metric: { kind: 'audit', name: 'refusedAuthorizations' },
    label: 'Refused authorization steps',
    comparison: 'above',
    period: 'window',
    threshold: {
      prop: 'refusedAuthorizationThreshold',
      default: 20,
      config: true,
      meaning: 'the number of refused OAuth proxy steps within abuseWindow that counts as a burst',
    },
    when: 'oauthProxy',
    annotation: 'Refusal-burst threshold',
    description: (threshold, window) =>
      `More than ${threshold} OAuth authorization steps refused within ${window}: a misconfigured client, or someone probing /authorize, /callback or /token (redirect mismatches, PKCE downgrades, code replays, consent CSRF). The OAuth proxy log's step, client_kind, reason and source_ip fields say which; the dashboard table counts them by reason.`,
    response:
      "Read the dashboard's table of refused steps by reason. One client failing the same way is misconfigured: tell its maker. Code replays, PKCE downgrades or consent CSRF from a few addresses are an attack on sign-in.",
  },
  {
    id: 'CimdRefusalAlarm',
    metric: { kind: 'audit', name: 'cimdRefusals' },
    label: 'Refused CIMD client ids',
    comparison: 'above',
    period: 'window',
    threshold: {
      prop: 'cimdRefusalThreshold',
      default: 5,
      config: true,
      meaning: 'the number of refused CIMD client ids within abuseWindow that counts as a burst',
    },
    when: 'oauthProxy',
    annotation: 'CIMD-burst threshold',
    description: (threshold, window) =>
      `More than ${threshold} CIMD client ids refused within ${window}: possible SSRF attempts through the OAuth proxy (private or loopback addresses, redirects, oversized or slow documents, hosts off the allow-list). The OAuth proxy log's reason, client_host and source_ip fields say which.`,
    response:
      'Private, loopback or metadata addresses and redirects are SSRF attempts, refused: note the `source_ip`. A real client whose host is off the allow-list is let in with `-c cimdAllowedHosts`.',
  },
  {
    id: 'RefreshTokenReuseAlarm',
    metric: { kind: 'audit', name: 'refreshTokenReuse' },
    label: 'Leaked refresh tokens',
    comparison: 'atLeast',
    period: 'fiveMinutes',
    threshold: { fixed: 1 },
    when: 'oauthProxy',
    description: () =>
      "A refresh token was presented after it had been rotated, or by another client than its own, at least once within 5 minutes: it was copied (or a client refreshes twice at once). Its family is ended and the person signs in again. The OAuth proxy log's family_digest, client_kind, client_host and source_ip fields say which sign-in and from where.",
    response:
      'The family is already ended. Unless a client refreshed twice at once, the token was copied: sign the person out everywhere (`npm run users -- sign-out <user>`) and find where it leaked (`client_host`, `source_ip`).',
  },
  {
    id: 'RuleWouldDenyAlarm',
    metric: { kind: 'audit', name: 'ruleWouldDenyCalls' },
    label: 'Would-be rule denials (log-only)',
    comparison: 'atLeast',
    period: 'window',
    threshold: {
      prop: 'ruleWouldDenyThreshold',
      default: 1,
      meaning:
        'the number of requests the log-only rules would have refused within abuseWindow that raises the alarm',
    },
    when: 'argumentRules',
    annotation: 'Would-deny alarm threshold',
    description: (threshold, window) =>
      `The argument rules, in log-only mode, would have refused ${threshold} or more requests within ${window}: enforcing them (-c ruleMode=enforce) would refuse these. The MCP log's rule_verdict (would_deny), rule_ids, caller and item fields say which rule and whose requests.`,
    response:
      'See which rule (`rule_ids`) would have refused whose requests. Rightly: enforce the rules (`-c ruleMode=enforce`). Wrongly: fix the rule first (docs/rules.md).',
  },
  {
    id: 'RuleErrorAlarm',
    metric: { kind: 'audit', name: 'ruleErrors' },
    label: 'Requests refused: rules not evaluated',
    comparison: 'atLeast',
    period: 'fiveMinutes',
    threshold: { fixed: 1 },
    when: 'argumentRules',
    description: () =>
      "The argument rules could not be evaluated at least once within 5 minutes, and the requests were refused (fail closed): Cedar did not load in the MCP function, or a rule raised an error (an overflow, a missing tag). The MCP log's rule_error and rule_ids fields say which.",
    response:
      'Requests are being refused. Cedar not loading is a deployment fault (check the bundle, redeploy); a rule raising an error on some input is a rule to fix (`rule_ids`; docs/rules.md).',
  },
  {
    id: 'RefusedApprovalAlarm',
    metric: { kind: 'audit', name: 'refusedApprovals' },
    label: 'Approvals denied, expired or refused',
    comparison: 'above',
    period: 'window',
    threshold: {
      prop: 'refusedApprovalThreshold',
      default: 5,
      config: true,
      meaning:
        'the number of approvals denied, expired or refused within abuseWindow that counts as a burst',
    },
    description: (threshold, window) =>
      `More than ${threshold} approvals denied, expired or refused within ${window}: an agent asking for calls its person does not want, or someone trying to get a call approved without them (a replayed or forged approval link, another person's sign-in, a cross-site post). The mcp.approval records' step, reason, caller, tool and source_ip say which.`,
    response:
      "Denied or expired: an agent asks for calls its person does not want; look at that agent. Refused (replays, forged links, another person's sign-in): someone is trying to get calls approved without the person; note the `source_ip`.",
  },
  {
    id: 'RateLimitedAlarm',
    metric: { kind: 'audit', name: 'rateLimitedCalls' },
    label: 'Uses refused by a quota',
    comparison: 'above',
    period: 'window',
    threshold: {
      prop: 'rateLimitedThreshold',
      default: 20,
      config: true,
      meaning: 'the number of uses refused by a quota within abuseWindow that counts as a burst',
    },
    when: 'quotas',
    annotation: 'Quota-burst threshold',
    description: (threshold, window) =>
      `More than ${threshold} calls, reads or gets refused by a per-caller quota within ${window}: a caller pulling data in bulk (stopped, not only seen), a client retrying without waiting, or a quota set too low, or the quota table failing (error_type QuotaUnavailable). The MCP log's quota, caller and error_type fields say which.`,
    response:
      '`error_type` QuotaUnavailable: the quota table is failing (check DynamoDB). Otherwise `quota` and `caller` say who hit which: a caller pulling data in bulk (revoke or disable it), a client retrying without waiting, or a limit to raise in `modules/quotas.ts`.',
  },
] as const satisfies readonly AlarmSpec[];

type AlarmRow = (typeof ALARMS)[number];

/** The id of an alarm of the table. */
export type AlarmId = AlarmRow['id'];

/** The Monitoring props that set a threshold: one per row that has one. */
export type ThresholdProp = Extract<AlarmRow['threshold'], { prop: string }>['prop'];

/** The `-c` keys that set a threshold: one per row that names one. */
export type ThresholdConfigKey = Extract<AlarmRow['threshold'], { config: true }>['prop'];

/** The threshold props of Monitoring, each optional, defaulting to its row's. */
export type AlarmThresholds = { readonly [P in ThresholdProp]?: number };

/** The alarms a deployment with these features has, in table order. */
export function alarmsFor(features: MonitoredFeatures): readonly AlarmSpec[] {
  return ALARMS.filter((alarm: AlarmSpec) => holds(alarm.when, features));
}

/** The `-c` threshold keys and their defaults, as the configuration takes them. */
export function thresholdConfigDefaults(): Record<ThresholdConfigKey, number> {
  const defaults: Partial<Record<string, number>> = {};
  for (const { threshold } of ALARMS as readonly AlarmSpec[]) {
    if ('prop' in threshold && threshold.config === true) {
      defaults[threshold.prop] = threshold.default;
    }
  }
  return defaults as Record<ThresholdConfigKey, number>;
}

/** The threshold settings of a configuration, as Monitoring props. */
export function configuredThresholds(
  config: Readonly<Record<ThresholdConfigKey, number>>,
): Record<ThresholdConfigKey, number> {
  const keys = Object.keys(thresholdConfigDefaults()) as ThresholdConfigKey[];
  return Object.fromEntries(keys.map((key) => [key, config[key]])) as Record<
    ThresholdConfigKey,
    number
  >;
}
