/**
 * The monitoring dashboard: calls per tool, refusals and failures, authentication failures, top
 * callers, latency and cold starts, the OAuth proxy's and the argument rules' rows when the
 * deployment has them, and every alarm's state. The layout is here; each graph's threshold
 * lines and the alarm widget come from the alarms created (the table's rows), so an alarm shows
 * without an edit here.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import {
  AUDIT_EVENTS,
  AUDIT_FIELDS,
  AUTHORIZATION_OUTCOME,
  UNKNOWN_TOOL,
} from '../../lambda/shared/audit';
import type { AlarmMetric, AlarmSpec } from './alarms';
import { ContributorInsightsWidget } from './contributor-insights';
import { METRIC_NAMES, type MetricKey, TOOL_DIMENSION } from './metrics';

/** The period of every graph. */
const GRAPH_PERIOD = Duration.minutes(5);

/**
 * The Logs Insights query of the dashboard's refusal table: refused OAuth proxy steps counted
 * by step, client kind and reason, most frequent first.
 */
export function refusalsByReasonQuery(): string[] {
  const F = AUDIT_FIELDS;
  return [
    `filter ${F.event} = "${AUDIT_EVENTS.oauthAuthorization}" and ${F.outcome} = "${AUTHORIZATION_OUTCOME.refused}"`,
    `stats count(*) as refusals by ${F.step}, ${F.clientKind}, ${F.reason}`,
    'sort refusals desc',
    'limit 20',
  ];
}

/** An alarm the construct created, with the threshold it was given. */
export interface CreatedAlarm {
  readonly spec: AlarmSpec;
  readonly alarm: cloudwatch.Alarm;
  readonly threshold: number;
}

/** What the dashboard draws from. */
export interface DashboardProps {
  readonly namespace: string;
  readonly toolNames: readonly string[];
  /** The first metric filter of each audit metric the deployment counts. */
  readonly filters: ReadonlyMap<MetricKey, logs.MetricFilter>;
  readonly refusedRegistrations?: cloudwatch.Metric;
  readonly mcpFunction: lambda.IFunction;
  readonly authorizerFunction: lambda.IFunction;
  readonly stage: apigateway.Stage;
  readonly insightRule: cloudwatch.CfnInsightRule;
  /** The abuse window: the top-callers graph's period. */
  readonly window: Duration;
  /** With the OAuth proxy: its row (refusals graph and table). */
  readonly oauthProxyLogGroup?: logs.ILogGroup;
  /** With argument rules: their row. */
  readonly argumentRules: boolean;
  readonly alarms: readonly CreatedAlarm[];
}

/** A line of a graph: an audit metric, or the refused client registrations. */
interface Line {
  readonly metric: MetricKey | 'refusedRegistrations';
  readonly label: string;
}

/** Whether an alarm watches the metric a line draws. */
function watches(alarm: AlarmMetric, line: Line): boolean {
  return alarm.kind === 'audit'
    ? alarm.name === line.metric
    : alarm.kind === 'refusedRegistrations' && line.metric === 'refusedRegistrations';
}

/** The dashboard, as `Dashboard` in `scope`. */
export function createDashboard(scope: Construct, props: DashboardProps): cloudwatch.Dashboard {
  const sum = { statistic: cloudwatch.Stats.SUM, period: GRAPH_PERIOD };
  const metricOf = (line: Line): cloudwatch.IMetric | undefined =>
    line.metric === 'refusedRegistrations'
      ? props.refusedRegistrations?.with({ ...sum, label: line.label })
      : props.filters.get(line.metric)?.metric({ ...sum, label: line.label });

  /**
   * A graph of the lines the deployment counts, with the threshold of each alarm (that has a
   * threshold label) on what it draws.
   */
  const graph = (title: string, width: number, lines: readonly Line[]) => {
    const drawn = lines.flatMap((line) => {
      const metric = metricOf(line);
      return metric === undefined ? [] : [{ line, metric }];
    });
    const thresholds = props.alarms.flatMap(({ spec, threshold }) =>
      spec.annotation !== undefined && drawn.some(({ line }) => watches(spec.metric, line))
        ? [{ value: threshold, label: spec.annotation }]
        : [],
    );
    return new cloudwatch.GraphWidget({
      title,
      width,
      left: drawn.map(({ metric }) => metric),
      ...(thresholds.length === 0 ? {} : { leftAnnotations: thresholds }),
    });
  };

  const toolCallMetric = (tool: string) =>
    new cloudwatch.Metric({
      namespace: props.namespace,
      metricName: METRIC_NAMES.toolCalls,
      dimensionsMap: { [TOOL_DIMENSION]: tool },
      statistic: cloudwatch.Stats.SUM,
      period: GRAPH_PERIOD,
      label: tool,
    });
  const oauthLogGroup = props.oauthProxyLogGroup;

  return new cloudwatch.Dashboard(scope, 'Dashboard', {
    defaultInterval: Duration.hours(3),
    widgets: [
      [
        new cloudwatch.GraphWidget({
          title: 'Calls per tool',
          width: 12,
          left: [...props.toolNames, UNKNOWN_TOOL].map(toolCallMetric),
        }),
        graph('Denied and failed tool calls', 12, [
          { metric: 'deniedCalls', label: 'Denied (missing permission)' },
          { metric: 'toolErrors', label: 'Tool errors' },
          { metric: 'refusedApprovals', label: 'Approvals denied, expired or refused' },
          { metric: 'rateLimitedCalls', label: 'Refused by a quota' },
        ]),
      ],
      [
        graph('Authentication failures', 8, [
          { metric: 'authFailures', label: 'Authentication failures' },
        ]),
        new ContributorInsightsWidget({
          title: 'Top callers (caller, tool)',
          ruleName: props.insightRule.attrRuleName,
          region: Stack.of(scope).region,
          period: props.window,
          width: 16,
          height: 6,
        }),
      ],
      [
        new cloudwatch.GraphWidget({
          title: 'Latency (ms)',
          width: 12,
          left: [
            props.mcpFunction.metricDuration({ statistic: 'p50', label: 'MCP handler p50' }),
            props.mcpFunction.metricDuration({ statistic: 'p99', label: 'MCP handler p99' }),
            props.authorizerFunction.metricDuration({ statistic: 'p99', label: 'Authorizer p99' }),
            props.stage.metricLatency({ statistic: 'p50', label: 'API p50' }),
            props.stage.metricLatency({ statistic: 'p99', label: 'API p99' }),
          ],
        }),
        graph('Cold starts', 12, [
          { metric: 'authorizerColdStarts', label: 'Authorizer cold starts' },
          { metric: 'coldStartToolCalls', label: 'Tool calls served by a cold start' },
        ]),
      ],
      ...(oauthLogGroup === undefined
        ? []
        : [
            [
              graph('OAuth proxy: refused authorization steps and CIMD client ids', 12, [
                { metric: 'refusedAuthorizations', label: 'Refused authorization steps' },
                { metric: 'cimdRefusals', label: 'Refused CIMD client ids (SSRF guard)' },
                { metric: 'refreshTokenReuse', label: 'Leaked refresh tokens' },
                { metric: 'refusedRegistrations', label: 'Refused client registrations' },
              ]),
              new cloudwatch.LogQueryWidget({
                title: 'OAuth proxy: refused steps by step, client kind and reason',
                width: 12,
                logGroupNames: [oauthLogGroup.logGroupName],
                view: cloudwatch.LogQueryVisualizationType.TABLE,
                queryLines: refusalsByReasonQuery(),
              }),
            ],
          ]),
      ...(props.argumentRules
        ? [
            [
              graph('Argument rules (Cedar)', 24, [
                { metric: 'ruleDeniedCalls', label: 'Refused by a rule' },
                { metric: 'ruleWouldDenyCalls', label: 'Would be refused (log-only)' },
                { metric: 'ruleErrors', label: 'Refused: rules not evaluated' },
              ]),
            ],
          ]
        : []),
      [
        new cloudwatch.AlarmStatusWidget({
          title: 'Alarms',
          width: 24,
          alarms: props.alarms.map(({ alarm }) => alarm),
        }),
      ],
    ],
  });
}
