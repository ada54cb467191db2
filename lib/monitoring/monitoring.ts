/**
 * Monitoring: abuse is noticed.
 *
 * Metric filters and a Contributor Insights rule over the audit log, alarms on what they count
 * and on the Lambda and API Gateway metrics, one encrypted SNS topic for every alarm, and a
 * dashboard. Which filters and alarms exist is in two tables (`metric-filters.ts`,
 * `alarms.ts`); this construct creates the rows whose condition the deployment meets.
 */
import { ArnFormat, Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import {
  ALARMS,
  type AlarmId,
  type AlarmSpec,
  type AlarmThresholds,
  alarmsFor,
  DEFAULT_WINDOW_MINUTES,
} from './alarms';
import { createTopCallersRule, maxContributorExpression } from './contributor-insights';
import { type CreatedAlarm, createDashboard } from './dashboard';
import type { MonitoredFeatures } from './features';
import { createMetricFilters } from './metric-filters';
import { DEFAULT_NAMESPACE, type MetricKey } from './metrics';

/** The period of the alarms on errors, throttles and 5xx: any one of them is news. */
const OPERATIONAL_PERIOD = Duration.minutes(5);

/** Raised for props that cannot produce working monitoring. */
export class MonitoringPropsError extends Error {
  override readonly name = 'MonitoringPropsError';
}

/**
 * Properties of {@link Monitoring}.
 *
 * Each alarm of `ALARMS` with a threshold prop (`abuseThreshold`, `authFailureThreshold`,
 * `deniedThreshold`, …) takes it here: a whole number of at least 1, by default its row's
 * (docs/alarms.md lists them).
 */
export interface MonitoringProps extends AlarmThresholds {
  /** The MCP handler; its errors, throttles and duration are watched. */
  readonly mcpFunction: lambda.IFunction;
  /** The MCP handler's log group, which holds the `tools/call` audit records. */
  readonly mcpLogGroup: logs.ILogGroup;
  /** The REQUEST authorizer; its duration is graphed. */
  readonly authorizerFunction: lambda.IFunction;
  /** The authorizer's log group, which holds the authorization-decision audit records. */
  readonly authorizerLogGroup: logs.ILogGroup;
  /** The REST API; the metrics of its deployment stage (5xx, latency) are used. */
  readonly api: apigateway.RestApi;
  /**
   * The stage's access log (`McpApi.accessLogGroup`, in its ACCESS_LOG_FORMAT): credential-less
   * requests, which API Gateway refuses without calling the authorizer, are counted from it as
   * authentication failures. @default not counted
   */
  readonly accessLogGroup?: logs.ILogGroup;
  /** The tools of the policy table: one line each on the dashboard's calls-per-tool graph. */
  readonly toolNames: readonly string[];
  /**
   * The window of the abuse alarm and of the burst alarms. A whole number of minutes, from 1
   * minute to 1 day.
   * @default Duration.minutes(5)
   */
  readonly abuseWindow?: Duration;
  /**
   * Refused OAuth client registrations (the `ClientRegistration` construct's metric); when
   * given, a burst of them within {@link abuseWindow} raises an alarm.
   * @default - no registration alarm
   */
  readonly refusedRegistrations?: cloudwatch.Metric;
  /**
   * The OAuth proxy's log group, which holds its `oauth.authorization` records (and the
   * approval page's). When given, refused authorization steps, CIMD refusals and leaked refresh
   * tokens are counted, alarmed on and shown.
   * @default - no OAuth proxy monitoring
   */
  readonly oauthProxyLogGroup?: logs.ILogGroup;
  /**
   * Whether some module has argument rules (Cedar): then the requests they refuse, would
   * refuse (log-only mode) and could not evaluate are counted, alarmed on and shown.
   * @default false
   */
  readonly argumentRules?: boolean;
  /**
   * Whether the deployment enforces per-caller quotas: then the uses they refuse are counted,
   * alarmed on in bursts (`rateLimitedThreshold`) and shown.
   * @default false
   */
  readonly quotas?: boolean;
  /**
   * An address subscribed to the alarm topic. The recipient must confirm the subscription.
   * @default - no subscription; subscribe to `alarmTopic` yourself
   */
  readonly alarmEmail?: string;
  /**
   * The CloudWatch namespace of the audit-log metrics.
   * @default 'SecureMcp'
   */
  readonly metricNamespace?: string;
}

function requireWholeNumber(name: string, value: number, meaning: string): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new MonitoringPropsError(
      `Monitoring: ${name} must be a whole number of at least 1, got ${value}. It is ${meaning}.`,
    );
  }
  return value;
}

function requireWindow(window: Duration): Duration {
  const seconds = window.toSeconds({ integral: false });
  if (!Number.isInteger(seconds / 60) || seconds < 60 || seconds > 86_400) {
    throw new MonitoringPropsError(
      `Monitoring: abuseWindow must be a whole number of minutes from 1 minute to 1 day, got ${window.toHumanString()}. CloudWatch alarm periods above one minute are multiples of 60 seconds.`,
    );
  }
  return window;
}

function requireNamespace(namespace: string): string {
  if (!/^[\x20-\x7E]{1,255}$/.test(namespace) || namespace.startsWith('AWS/')) {
    throw new MonitoringPropsError(
      `Monitoring: metricNamespace must be 1 to 255 printable ASCII characters and must not start with 'AWS/' (reserved for AWS), got '${namespace}'.`,
    );
  }
  return namespace;
}

function requireEmail(email: string | undefined): string | undefined {
  if (email === undefined || Token.isUnresolved(email)) return email;
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) {
    throw new MonitoringPropsError(
      `Monitoring: alarmEmail must be an e-mail address such as ops@example.com, got '${email}'. Leave it out to create no subscription.`,
    );
  }
  return email;
}

/** The threshold of an alarm: its fixed one, or its prop's (checked), or its default. */
function thresholdOf(spec: AlarmSpec, props: MonitoringProps): number {
  const { threshold } = spec;
  if ('fixed' in threshold) return threshold.fixed;
  const given = props[threshold.prop as keyof AlarmThresholds];
  return requireWholeNumber(threshold.prop, given ?? threshold.default, threshold.meaning);
}

/**
 * Abuse and health monitoring for the MCP server: audit-log metrics, a top-callers rule, alarms
 * on one KMS-encrypted SNS topic, and a dashboard.
 */
export class Monitoring extends Construct {
  /** Every alarm notifies this topic. */
  readonly alarmTopic: sns.Topic;
  /** The customer-managed key encrypting {@link alarmTopic}. */
  readonly alarmTopicKey: kms.Key;
  /** Calls per tool, denied and failed calls, auth failures, top callers, latency, cold starts. */
  readonly dashboard: cloudwatch.Dashboard;
  /** Contributor Insights: `tools/call` records per (caller, tool). */
  readonly insightRule: cloudwatch.CfnInsightRule;
  /** The alarms of the table whose condition this deployment meets, in table order. */
  readonly alarms: readonly cloudwatch.Alarm[];
  readonly #alarmsById: ReadonlyMap<string, cloudwatch.Alarm>;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);

    const namespace = requireNamespace(props.metricNamespace ?? DEFAULT_NAMESPACE);
    const window = requireWindow(props.abuseWindow ?? Duration.minutes(DEFAULT_WINDOW_MINUTES));
    const features: MonitoredFeatures = {
      oauthProxy: props.oauthProxyLogGroup !== undefined,
      clientRegistration: props.refusedRegistrations !== undefined,
      argumentRules: props.argumentRules === true,
      quotas: props.quotas === true,
      accessLog: props.accessLogGroup !== undefined,
    };
    const specs = alarmsFor(features);
    // Every threshold is checked, whether or not its alarm exists here: a bad one is a mistake.
    for (const spec of ALARMS as readonly AlarmSpec[]) thresholdOf(spec, props);
    const alarmEmail = requireEmail(props.alarmEmail);
    // RestApi types deploymentStage as always present, but it is unset with `deploy: false`.
    const stage: apigateway.Stage | undefined = props.api.deploymentStage;
    if (stage === undefined) {
      throw new MonitoringPropsError(
        'Monitoring: the API has no deployment stage. Create it with `deploy: true` (the default) or set `api.deploymentStage` before creating Monitoring.',
      );
    }

    // --- Audit-log metrics and top callers --------------------------------------------------
    const filters = createMetricFilters(this, {
      namespace,
      features,
      logGroups: {
        mcp: props.mcpLogGroup,
        authorizer: props.authorizerLogGroup,
        access: props.accessLogGroup,
        oauthProxy: props.oauthProxyLogGroup,
      },
    });
    this.insightRule = createTopCallersRule(this, props.mcpLogGroup);

    // --- Alarm topic ------------------------------------------------------------------------
    this.alarmTopicKey = new kms.Key(this, 'AlarmTopicKey', {
      description: 'Encrypts the MCP server alarm notifications',
      enableKeyRotation: true,
      // It protects only transient notifications, so nothing is lost with it; keeping it would
      // leave a billed key behind every torn-down stack.
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    // CloudWatch publishes to an encrypted topic only if the key lets it make data keys.
    // The key encrypts this topic alone, and publishing also needs the topic policy below,
    // which admits this account's alarms only.
    this.alarmTopicKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToUseTheKey',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
    this.alarmTopic = new sns.Topic(this, 'AlarmTopic', {
      displayName: 'MCP server alarms',
      masterKey: this.alarmTopicKey,
      enforceSSL: true,
    });
    const stack = Stack.of(this);
    this.alarmTopic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowThisAccountsAlarmsToPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.alarmTopic.topicArn],
        conditions: {
          ArnLike: {
            'aws:SourceArn': stack.formatArn({
              service: 'cloudwatch',
              resource: 'alarm',
              resourceName: '*',
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
          StringEquals: { 'aws:SourceAccount': stack.account },
        },
      }),
    );
    if (alarmEmail !== undefined) {
      this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(alarmEmail));
    }

    // --- Alarms -----------------------------------------------------------------------------
    const auditMetric = (name: MetricKey, alarmId: string) => {
      const filter = filters.get(name);
      if (filter === undefined) {
        // The tables disagree: an alarm exists where no filter counts its metric.
        throw new Error(
          `Monitoring: ${alarmId} watches ${name}, which no metric filter counts here`,
        );
      }
      return filter;
    };
    const metricOf = (spec: AlarmSpec, period: Duration): cloudwatch.IMetric => {
      const { metric, label } = spec;
      const sum = { statistic: cloudwatch.Stats.SUM, period };
      switch (metric.kind) {
        case 'topCaller':
          return new cloudwatch.MathExpression({
            expression: maxContributorExpression(this.insightRule.attrRuleName),
            usingMetrics: {},
            period,
            label,
          });
        case 'audit':
          return auditMetric(metric.name, spec.id).metric({ ...sum, label });
        case 'refusedRegistrations':
          if (props.refusedRegistrations === undefined) {
            throw new Error(`Monitoring: ${spec.id} needs refusedRegistrations`);
          }
          return props.refusedRegistrations.with({ ...sum, label });
        case 'mcpFunction':
          return props.mcpFunction.metric(metric.name, sum);
        case 'apiStage':
          return stage.metric(metric.name, sum);
      }
    };
    const notify = new cloudwatchActions.SnsAction(this.alarmTopic);
    const created: CreatedAlarm[] = specs.map((spec) => {
      const period = spec.period === 'window' ? window : OPERATIONAL_PERIOD;
      const threshold = thresholdOf(spec, props);
      const alarm = new cloudwatch.Alarm(this, spec.id, {
        metric: metricOf(spec, period),
        alarmDescription: spec.description(threshold, period.toHumanString()),
        threshold,
        comparisonOperator:
          spec.comparison === 'above'
            ? cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD
            : cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        datapointsToAlarm: 1,
        // No traffic is not an incident.
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      alarm.addAlarmAction(notify);
      return { spec, alarm, threshold };
    });
    this.alarms = created.map(({ alarm }) => alarm);
    this.#alarmsById = new Map(created.map(({ spec, alarm }) => [spec.id, alarm]));

    // --- Dashboard --------------------------------------------------------------------------
    this.dashboard = createDashboard(this, {
      namespace,
      toolNames: props.toolNames,
      filters,
      ...(props.refusedRegistrations === undefined
        ? {}
        : { refusedRegistrations: props.refusedRegistrations }),
      mcpFunction: props.mcpFunction,
      authorizerFunction: props.authorizerFunction,
      stage,
      insightRule: this.insightRule,
      window,
      ...(props.oauthProxyLogGroup === undefined
        ? {}
        : { oauthProxyLogGroup: props.oauthProxyLogGroup }),
      argumentRules: features.argumentRules,
      alarms: created,
    });
  }

  /** The alarm of the table's row `id`, or `undefined` where its condition does not hold. */
  alarm(id: AlarmId): cloudwatch.Alarm | undefined {
    return this.#alarmsById.get(id);
  }
}
