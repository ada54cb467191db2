/**
 * The metric filters: one row per filter, saying which log group it reads, what it counts and
 * into which metric. A metric may have two sources (denied calls from the MCP function and the
 * authorizer); CloudWatch bills it once. The construct creates the rows whose log group and
 * condition a deployment has; the cost model counts the metrics they publish.
 */
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { AUDIT_EVENTS, AUDIT_FIELDS } from '../../lambda/shared/audit';
import { holds, type MonitoredFeatures, type MonitoringFeature } from './features';
import { METRIC_NAMES, type MetricKey, TOOL_DIMENSION } from './metrics';
import {
  authFailurePattern,
  cimdRefusalPattern,
  coldStartPattern,
  deniedCallPattern,
  earlyDeniedCallPattern,
  missingCredentialPattern,
  rateLimitedCallPattern,
  refreshTokenReusePattern,
  refusedApprovalPattern,
  refusedAuthorizationPattern,
  ruleDeniedPattern,
  ruleErrorPattern,
  ruleWouldDenyPattern,
  selector,
  toolCallPattern,
  toolErrorPattern,
} from './patterns';

/** The log groups a filter can read. */
export type LogSource = 'mcp' | 'authorizer' | 'access' | 'oauthProxy';

/** The feature without which a log group is not there. */
const SOURCE_FEATURE: Readonly<Record<LogSource, MonitoringFeature | undefined>> = {
  mcp: undefined,
  authorizer: undefined,
  access: 'accessLog',
  oauthProxy: 'oauthProxy',
};

/** One metric filter. */
export interface MetricFilterSpec {
  /** The construct id: a contract, since renaming it replaces the filter in deployed stacks. */
  readonly id: string;
  readonly metric: MetricKey;
  readonly logGroup: LogSource;
  readonly pattern: () => logs.IFilterPattern;
  /** The filter exists only with this feature (and its log group); always when absent. */
  readonly when?: MonitoringFeature;
  /** Publishes the tool as the {@link TOOL_DIMENSION} dimension: one metric per tool name. */
  readonly perTool?: true;
}

export const METRIC_FILTERS: readonly MetricFilterSpec[] = [
  {
    id: 'ToolCallsFilter',
    metric: 'toolCalls',
    logGroup: 'mcp',
    pattern: toolCallPattern,
    perTool: true,
  },
  { id: 'DeniedCallsFilter', metric: 'deniedCalls', logGroup: 'mcp', pattern: deniedCallPattern },
  // Calls the authorizer refused (early deny, gateway step-up).
  {
    id: 'EarlyDeniedCallsFilter',
    metric: 'deniedCalls',
    logGroup: 'authorizer',
    pattern: earlyDeniedCallPattern,
  },
  {
    id: 'RateLimitedCallsFilter',
    metric: 'rateLimitedCalls',
    logGroup: 'mcp',
    pattern: rateLimitedCallPattern,
    when: 'quotas',
  },
  { id: 'ToolErrorsFilter', metric: 'toolErrors', logGroup: 'mcp', pattern: toolErrorPattern },
  {
    id: 'AuthFailuresFilter',
    metric: 'authFailures',
    logGroup: 'authorizer',
    pattern: authFailurePattern,
  },
  // The requests refused before the authorizer ran.
  {
    id: 'MissingCredentialsFilter',
    metric: 'authFailures',
    logGroup: 'access',
    pattern: missingCredentialPattern,
  },
  {
    id: 'AuthorizerColdStartsFilter',
    metric: 'authorizerColdStarts',
    logGroup: 'authorizer',
    pattern: () => coldStartPattern(AUDIT_EVENTS.authDecision),
  },
  {
    id: 'ColdStartToolCallsFilter',
    metric: 'coldStartToolCalls',
    logGroup: 'mcp',
    pattern: () => coldStartPattern(AUDIT_EVENTS.toolCall),
  },
  {
    id: 'RefusedApprovalsFilter',
    metric: 'refusedApprovals',
    logGroup: 'mcp',
    pattern: refusedApprovalPattern,
  },
  // What the approval page (in the OAuth proxy) refused or was denied.
  {
    id: 'PageRefusedApprovalsFilter',
    metric: 'refusedApprovals',
    logGroup: 'oauthProxy',
    pattern: refusedApprovalPattern,
  },
  {
    id: 'RefusedAuthorizationsFilter',
    metric: 'refusedAuthorizations',
    logGroup: 'oauthProxy',
    pattern: refusedAuthorizationPattern,
  },
  {
    id: 'CimdRefusalsFilter',
    metric: 'cimdRefusals',
    logGroup: 'oauthProxy',
    pattern: cimdRefusalPattern,
  },
  {
    id: 'RefreshTokenReuseFilter',
    metric: 'refreshTokenReuse',
    logGroup: 'oauthProxy',
    pattern: refreshTokenReusePattern,
  },
  {
    id: 'RuleDeniedCallsFilter',
    metric: 'ruleDeniedCalls',
    logGroup: 'mcp',
    pattern: ruleDeniedPattern,
    when: 'argumentRules',
  },
  {
    id: 'RuleWouldDenyCallsFilter',
    metric: 'ruleWouldDenyCalls',
    logGroup: 'mcp',
    pattern: ruleWouldDenyPattern,
    when: 'argumentRules',
  },
  {
    id: 'RuleErrorsFilter',
    metric: 'ruleErrors',
    logGroup: 'mcp',
    pattern: ruleErrorPattern,
    when: 'argumentRules',
  },
];

/** The filters a deployment with these features has, in table order. */
export function metricFiltersFor(features: MonitoredFeatures): readonly MetricFilterSpec[] {
  return METRIC_FILTERS.filter(
    (filter) => holds(SOURCE_FEATURE[filter.logGroup], features) && holds(filter.when, features),
  );
}

/**
 * The custom metrics CloudWatch bills for a deployment: one per metric its filters publish, one
 * per tool name and `(unknown)` for a metric with the tool dimension, and the refused client
 * registrations the ClientRegistration construct counts and the monitoring alarms on.
 */
export function customMetricCount(features: MonitoredFeatures, toolCount: number): number {
  const perMetric = new Map<MetricKey, number>();
  for (const filter of metricFiltersFor(features)) {
    perMetric.set(filter.metric, filter.perTool === true ? toolCount + 1 : 1);
  }
  const audit = [...perMetric.values()].reduce((total, count) => total + count, 0);
  return audit + (features.clientRegistration ? 1 : 0);
}

/**
 * Create the filters of a deployment in `scope`.
 * @returns the first filter of each metric, to read the metric from
 */
export function createMetricFilters(
  scope: Construct,
  props: {
    readonly namespace: string;
    readonly features: MonitoredFeatures;
    readonly logGroups: Readonly<Partial<Record<LogSource, logs.ILogGroup>>>;
  },
): ReadonlyMap<MetricKey, logs.MetricFilter> {
  const byMetric = new Map<MetricKey, logs.MetricFilter>();
  for (const spec of metricFiltersFor(props.features)) {
    const logGroup = props.logGroups[spec.logGroup];
    if (logGroup === undefined) {
      throw new Error(`Monitoring: ${spec.id} reads the ${spec.logGroup} log group, not given`);
    }
    const filter = new logs.MetricFilter(scope, spec.id, {
      logGroup,
      filterPattern: spec.pattern(),
      metricNamespace: props.namespace,
      metricName: METRIC_NAMES[spec.metric],
      metricValue: '1',
      ...(spec.perTool === true
        ? // No default value: CloudWatch Logs rejects a transformation with both.
          { dimensions: { [TOOL_DIMENSION]: selector(AUDIT_FIELDS.tool) } }
        : // Zero for every other record ingested, so graphs show 0 rather than gaps.
          { defaultValue: 0 }),
      unit: cloudwatch.Unit.COUNT,
    });
    if (!byMetric.has(spec.metric)) byMetric.set(spec.metric, filter);
  }
  return byMetric;
}
