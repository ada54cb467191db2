/**
 * Monitoring: abuse is noticed.
 *
 * Metric filters and a Contributor Insights rule over the audit log, alarms on what they count
 * and on the Lambda and API Gateway metrics, one encrypted SNS topic for every alarm, and a
 * dashboard. Every field and event name in the patterns comes from `lambda/shared/audit.ts`,
 * the vocabulary the runtime logs with, so a renamed field cannot silently stop a metric.
 */
import { ArnFormat, Duration, Names, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { AUDIT_EVENTS, AUDIT_FIELDS, UNKNOWN_TOOL } from '../../lambda/shared/audit';
import {
  ContributorInsightsWidget,
  maxContributorExpression,
  topCallersRuleBody,
} from './contributor-insights';
import { refusalsByReasonQuery } from './dashboard';
import { DEFAULT_NAMESPACE, METRIC_NAMES, TOOL_DIMENSION } from './metrics';
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

const DEFAULT_ABUSE_THRESHOLD = 100;
const DEFAULT_ABUSE_WINDOW = Duration.minutes(5);
const DEFAULT_AUTH_FAILURE_THRESHOLD = 50;
const DEFAULT_DENIED_THRESHOLD = 20;
const DEFAULT_REFUSED_REGISTRATION_THRESHOLD = 20;
const DEFAULT_REFUSED_AUTHORIZATION_THRESHOLD = 20;
const DEFAULT_CIMD_REFUSAL_THRESHOLD = 5;
const DEFAULT_RULE_WOULD_DENY_THRESHOLD = 1;
const DEFAULT_REFUSED_APPROVAL_THRESHOLD = 5;
/** Errors, throttles and 5xx are judged over a fixed five minutes: any one of them is news. */
const OPERATIONAL_PERIOD = Duration.minutes(5);

/** Raised for props that cannot produce working monitoring. */
export class MonitoringPropsError extends Error {
  override readonly name = 'MonitoringPropsError';
}

/** Properties of {@link Monitoring}. */
export interface MonitoringProps {
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
   * Calls one caller may make to one tool within {@link abuseWindow}; more raises the abuse alarm.
   * @default 100
   */
  readonly abuseThreshold?: number;
  /**
   * The window of the abuse alarm and of the authentication-failure and denied-call burst
   * alarms. A whole number of minutes, from 1 minute to 1 day.
   * @default Duration.minutes(5)
   */
  readonly abuseWindow?: Duration;
  /**
   * Authentication failures within {@link abuseWindow}, across all callers, above which the
   * credential-stuffing alarm fires.
   * @default 50
   */
  readonly authFailureThreshold?: number;
  /**
   * Denied tool calls within {@link abuseWindow}, across all callers, above which the
   * privilege-probing alarm fires.
   * @default 20
   */
  readonly deniedThreshold?: number;
  /**
   * Refused OAuth client registrations (the `ClientRegistration` construct's metric); when
   * given, more than {@link refusedRegistrationThreshold} of them within {@link abuseWindow}
   * raise an alarm.
   * @default - no registration alarm
   */
  readonly refusedRegistrations?: cloudwatch.Metric;
  /** @default 20 */
  readonly refusedRegistrationThreshold?: number;
  /**
   * The OAuth proxy's log group, which holds its `oauth.authorization` records. When given,
   * refused authorization steps and CIMD refusals are counted, alarmed on in bursts and shown.
   * @default - no OAuth proxy monitoring
   */
  readonly oauthProxyLogGroup?: logs.ILogGroup;
  /**
   * Refused authorization steps within {@link abuseWindow}, across all callers, above which an
   * alarm fires.
   * @default 20
   */
  readonly refusedAuthorizationThreshold?: number;
  /**
   * CIMD client ids refused within {@link abuseWindow}, across all callers, above which an
   * alarm fires.
   * @default 5
   */
  readonly cimdRefusalThreshold?: number;
  /**
   * Whether some module has argument rules (Cedar): then the requests they refuse, would
   * refuse (log-only mode) and could not evaluate are counted, alarmed on and shown.
   * @default false
   */
  readonly argumentRules?: boolean;
  /**
   * Requests the rules would have refused (log-only mode) within {@link abuseWindow} from
   * which an alarm fires: what enforcing the rules would refuse.
   * @default 1
   */
  readonly ruleWouldDenyThreshold?: number;
  /**
   * Approvals denied, expired or refused within {@link abuseWindow}, across all callers
   * (counted in the MCP log and, when given, the OAuth proxy's, where the approval page
   * writes), above which an alarm fires.
   * @default 5
   */
  readonly refusedApprovalThreshold?: number;
  /**
   * Uses refused by a per-caller quota within {@link abuseWindow}, across all callers, above
   * which an alarm fires. When given, quota refusals are counted, alarmed on and shown.
   * @default - the deployment has no quotas: no quota monitoring
   */
  readonly rateLimitedThreshold?: number;
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
  /** One caller made more than `abuseThreshold` calls to one tool within `abuseWindow`. */
  readonly abuseAlarm: cloudwatch.Alarm;
  /** More than `authFailureThreshold` authentication failures within `abuseWindow`. */
  readonly authFailureAlarm: cloudwatch.Alarm;
  /** More than `deniedThreshold` denied tool calls within `abuseWindow`. */
  readonly deniedCallsAlarm: cloudwatch.Alarm;
  /** At least one tool failed within five minutes. */
  readonly toolErrorAlarm: cloudwatch.Alarm;
  /** The MCP handler itself failed (crash, timeout, out of memory) within five minutes. */
  readonly handlerErrorAlarm: cloudwatch.Alarm;
  /** The MCP handler was throttled within five minutes. */
  readonly handlerThrottleAlarm: cloudwatch.Alarm;
  /** The API answered with a 5xx within five minutes. */
  readonly api5xxAlarm: cloudwatch.Alarm;
  /** Bursts of refused client registrations; only when `refusedRegistrations` is given. */
  readonly refusedRegistrationAlarm?: cloudwatch.Alarm;
  /** Bursts of refused OAuth proxy steps; only when `oauthProxyLogGroup` is given. */
  readonly refusedAuthorizationAlarm?: cloudwatch.Alarm;
  /** Bursts of refused CIMD client ids (SSRF attempts); only when `oauthProxyLogGroup` is given. */
  readonly cimdRefusalAlarm?: cloudwatch.Alarm;
  /** Any leaked refresh token within five minutes; only when `oauthProxyLogGroup` is given. */
  readonly refreshTokenReuseAlarm?: cloudwatch.Alarm;
  /**
   * Requests the argument rules would have refused in log-only mode, `ruleWouldDenyThreshold`
   * or more within `abuseWindow`; only with `argumentRules`.
   */
  readonly ruleWouldDenyAlarm?: cloudwatch.Alarm;
  /** Any request refused because the rules could not be evaluated; only with `argumentRules`. */
  readonly ruleErrorAlarm?: cloudwatch.Alarm;
  /** More than `refusedApprovalThreshold` approvals denied, expired or refused within `abuseWindow`. */
  readonly refusedApprovalAlarm: cloudwatch.Alarm;
  /** Bursts of quota refusals; only when `rateLimitedThreshold` is given. */
  readonly rateLimitedAlarm?: cloudwatch.Alarm;
  /** All of the above alarms. */
  readonly alarms: readonly cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);

    const namespace = requireNamespace(props.metricNamespace ?? DEFAULT_NAMESPACE);
    const abuseThreshold = requireWholeNumber(
      'abuseThreshold',
      props.abuseThreshold ?? DEFAULT_ABUSE_THRESHOLD,
      'the number of calls one caller may make to one tool within abuseWindow',
    );
    const window = requireWindow(props.abuseWindow ?? DEFAULT_ABUSE_WINDOW);
    const authFailureThreshold = requireWholeNumber(
      'authFailureThreshold',
      props.authFailureThreshold ?? DEFAULT_AUTH_FAILURE_THRESHOLD,
      'the number of authentication failures within abuseWindow that counts as a burst',
    );
    const deniedThreshold = requireWholeNumber(
      'deniedThreshold',
      props.deniedThreshold ?? DEFAULT_DENIED_THRESHOLD,
      'the number of denied tool calls within abuseWindow that counts as a burst',
    );
    const refusedRegistrationThreshold = requireWholeNumber(
      'refusedRegistrationThreshold',
      props.refusedRegistrationThreshold ?? DEFAULT_REFUSED_REGISTRATION_THRESHOLD,
      'the number of refused client registrations within abuseWindow that counts as a burst',
    );
    const refusedAuthorizationThreshold = requireWholeNumber(
      'refusedAuthorizationThreshold',
      props.refusedAuthorizationThreshold ?? DEFAULT_REFUSED_AUTHORIZATION_THRESHOLD,
      'the number of refused OAuth proxy steps within abuseWindow that counts as a burst',
    );
    const cimdRefusalThreshold = requireWholeNumber(
      'cimdRefusalThreshold',
      props.cimdRefusalThreshold ?? DEFAULT_CIMD_REFUSAL_THRESHOLD,
      'the number of refused CIMD client ids within abuseWindow that counts as a burst',
    );
    const ruleWouldDenyThreshold = requireWholeNumber(
      'ruleWouldDenyThreshold',
      props.ruleWouldDenyThreshold ?? DEFAULT_RULE_WOULD_DENY_THRESHOLD,
      'the number of requests the log-only rules would have refused within abuseWindow that raises the alarm',
    );
    const refusedApprovalThreshold = requireWholeNumber(
      'refusedApprovalThreshold',
      props.refusedApprovalThreshold ?? DEFAULT_REFUSED_APPROVAL_THRESHOLD,
      'the number of approvals denied, expired or refused within abuseWindow that counts as a burst',
    );
    const rateLimitedThreshold =
      props.rateLimitedThreshold === undefined
        ? undefined
        : requireWholeNumber(
            'rateLimitedThreshold',
            props.rateLimitedThreshold,
            'the number of uses refused by a quota within abuseWindow that counts as a burst',
          );
    const alarmEmail = requireEmail(props.alarmEmail);
    // RestApi types deploymentStage as always present, but it is unset with `deploy: false`.
    const stage: apigateway.Stage | undefined = props.api.deploymentStage;
    if (stage === undefined) {
      throw new MonitoringPropsError(
        'Monitoring: the API has no deployment stage. Create it with `deploy: true` (the default) or set `api.deploymentStage` before creating Monitoring.',
      );
    }

    // --- Audit-log metrics -----------------------------------------------------------------
    const counter = (
      id: string,
      logGroup: logs.ILogGroup,
      metricName: string,
      filterPattern: logs.IFilterPattern,
    ) =>
      new logs.MetricFilter(this, id, {
        logGroup,
        filterPattern,
        metricNamespace: namespace,
        metricName,
        metricValue: '1',
        // Zero for every other record ingested, so graphs show 0 rather than gaps.
        defaultValue: 0,
        unit: cloudwatch.Unit.COUNT,
      });

    new logs.MetricFilter(this, 'ToolCallsFilter', {
      logGroup: props.mcpLogGroup,
      filterPattern: toolCallPattern(),
      metricNamespace: namespace,
      metricName: METRIC_NAMES.toolCalls,
      metricValue: '1',
      // No default value: CloudWatch Logs rejects a transformation with both.
      dimensions: { [TOOL_DIMENSION]: selector(AUDIT_FIELDS.tool) },
      unit: cloudwatch.Unit.COUNT,
    });
    const denied = counter(
      'DeniedCallsFilter',
      props.mcpLogGroup,
      METRIC_NAMES.deniedCalls,
      deniedCallPattern(),
    );
    // Into the same metric (one metric, two sources): calls the authorizer refused (early deny,
    // gateway step-up).
    counter(
      'EarlyDeniedCallsFilter',
      props.authorizerLogGroup,
      METRIC_NAMES.deniedCalls,
      earlyDeniedCallPattern(),
    );
    const rateLimited =
      rateLimitedThreshold === undefined
        ? undefined
        : counter(
            'RateLimitedCallsFilter',
            props.mcpLogGroup,
            METRIC_NAMES.rateLimitedCalls,
            rateLimitedCallPattern(),
          );
    const toolErrors = counter(
      'ToolErrorsFilter',
      props.mcpLogGroup,
      METRIC_NAMES.toolErrors,
      toolErrorPattern(),
    );
    const authFailures = counter(
      'AuthFailuresFilter',
      props.authorizerLogGroup,
      METRIC_NAMES.authFailures,
      authFailurePattern(),
    );
    // Into the same metric: the requests refused before the authorizer ran.
    if (props.accessLogGroup !== undefined) {
      counter(
        'MissingCredentialsFilter',
        props.accessLogGroup,
        METRIC_NAMES.authFailures,
        missingCredentialPattern(),
      );
    }
    const authorizerColdStarts = counter(
      'AuthorizerColdStartsFilter',
      props.authorizerLogGroup,
      METRIC_NAMES.authorizerColdStarts,
      coldStartPattern(AUDIT_EVENTS.authDecision),
    );
    const coldStartToolCalls = counter(
      'ColdStartToolCallsFilter',
      props.mcpLogGroup,
      METRIC_NAMES.coldStartToolCalls,
      coldStartPattern(AUDIT_EVENTS.toolCall),
    );

    const refusedApprovals = counter(
      'RefusedApprovalsFilter',
      props.mcpLogGroup,
      METRIC_NAMES.refusedApprovals,
      refusedApprovalPattern(),
    );
    // Into the same metric: what the approval page (in the OAuth proxy) refused or was denied.
    if (props.oauthProxyLogGroup !== undefined) {
      counter(
        'PageRefusedApprovalsFilter',
        props.oauthProxyLogGroup,
        METRIC_NAMES.refusedApprovals,
        refusedApprovalPattern(),
      );
    }

    const oauthLogGroup = props.oauthProxyLogGroup;
    const oauthFilters =
      oauthLogGroup === undefined
        ? undefined
        : {
            refused: counter(
              'RefusedAuthorizationsFilter',
              oauthLogGroup,
              METRIC_NAMES.refusedAuthorizations,
              refusedAuthorizationPattern(),
            ),
            cimd: counter(
              'CimdRefusalsFilter',
              oauthLogGroup,
              METRIC_NAMES.cimdRefusals,
              cimdRefusalPattern(),
            ),
            refreshReuse: counter(
              'RefreshTokenReuseFilter',
              oauthLogGroup,
              METRIC_NAMES.refreshTokenReuse,
              refreshTokenReusePattern(),
            ),
          };

    const ruleFilters =
      props.argumentRules === true
        ? {
            denied: counter(
              'RuleDeniedCallsFilter',
              props.mcpLogGroup,
              METRIC_NAMES.ruleDeniedCalls,
              ruleDeniedPattern(),
            ),
            wouldDeny: counter(
              'RuleWouldDenyCallsFilter',
              props.mcpLogGroup,
              METRIC_NAMES.ruleWouldDenyCalls,
              ruleWouldDenyPattern(),
            ),
            errors: counter(
              'RuleErrorsFilter',
              props.mcpLogGroup,
              METRIC_NAMES.ruleErrors,
              ruleErrorPattern(),
            ),
          }
        : undefined;

    const sum = (filter: logs.MetricFilter, period: Duration, label: string) =>
      filter.metric({ statistic: cloudwatch.Stats.SUM, period, label });

    // --- Top callers ------------------------------------------------------------------------
    this.insightRule = new cloudwatch.CfnInsightRule(this, 'TopCallersRule', {
      ruleName: `${Names.uniqueResourceName(this, { maxLength: 100, separator: '-' })}-TopCallers`,
      ruleState: 'ENABLED',
      ruleBody: Stack.of(this).toJsonString(topCallersRuleBody(props.mcpLogGroup.logGroupName)),
    });

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
    const notify = new cloudwatchActions.SnsAction(this.alarmTopic);
    const alarm = (
      id: string,
      metric: cloudwatch.IMetric,
      threshold: number,
      comparisonOperator: cloudwatch.ComparisonOperator,
      alarmDescription: string,
    ) => {
      const created = new cloudwatch.Alarm(this, id, {
        metric,
        alarmDescription,
        threshold,
        comparisonOperator,
        evaluationPeriods: 1,
        datapointsToAlarm: 1,
        // No traffic is not an incident.
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      created.addAlarmAction(notify);
      return created;
    };
    const above = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD;
    const atLeast = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD;
    const windowText = window.toHumanString();

    const topContributor = new cloudwatch.MathExpression({
      expression: maxContributorExpression(this.insightRule.attrRuleName),
      usingMetrics: {},
      period: window,
      label: 'Calls by the top (caller, tool)',
    });
    this.abuseAlarm = alarm(
      'AbuseAlarm',
      topContributor,
      abuseThreshold,
      above,
      `A single caller made more than ${abuseThreshold} calls to one tool within ${windowText}. See the top-callers graph on the dashboard for who and which tool; revoke the key or disable the user if it is not expected.`,
    );
    this.authFailureAlarm = alarm(
      'AuthFailureAlarm',
      sum(authFailures, window, 'Authentication failures'),
      authFailureThreshold,
      above,
      `More than ${authFailureThreshold} authentication failures within ${windowText}: possible credential stuffing. The authorizer log's reason and source_ip fields say what failed and from where.`,
    );
    this.deniedCallsAlarm = alarm(
      'DeniedCallsAlarm',
      sum(denied, window, 'Denied tool calls'),
      deniedThreshold,
      above,
      `More than ${deniedThreshold} tool calls denied for missing permissions within ${windowText}: possible privilege probing. The MCP log's caller and tool fields say who tried what.`,
    );
    this.toolErrorAlarm = alarm(
      'ToolErrorAlarm',
      sum(toolErrors, OPERATIONAL_PERIOD, 'Tool errors'),
      1,
      atLeast,
      'A tool failed at least once within 5 minutes. The MCP log has the error_type and request_id.',
    );
    this.handlerErrorAlarm = alarm(
      'HandlerErrorAlarm',
      props.mcpFunction.metricErrors({
        period: OPERATIONAL_PERIOD,
        statistic: cloudwatch.Stats.SUM,
      }),
      1,
      atLeast,
      'The MCP handler Lambda failed (crash, timeout or out of memory) at least once within 5 minutes.',
    );
    this.handlerThrottleAlarm = alarm(
      'HandlerThrottleAlarm',
      props.mcpFunction.metricThrottles({
        period: OPERATIONAL_PERIOD,
        statistic: cloudwatch.Stats.SUM,
      }),
      1,
      atLeast,
      'The MCP handler Lambda was throttled at least once within 5 minutes: callers got errors. Check concurrency limits.',
    );
    this.api5xxAlarm = alarm(
      'Api5xxAlarm',
      stage.metricServerError({ period: OPERATIONAL_PERIOD, statistic: cloudwatch.Stats.SUM }),
      1,
      atLeast,
      'The API answered with a 5xx at least once within 5 minutes (authorizer or handler failure).',
    );
    if (props.refusedRegistrations !== undefined) {
      this.refusedRegistrationAlarm = alarm(
        'RefusedRegistrationAlarm',
        props.refusedRegistrations.with({
          statistic: cloudwatch.Stats.SUM,
          period: window,
          label: 'Refused client registrations',
        }),
        refusedRegistrationThreshold,
        above,
        `More than ${refusedRegistrationThreshold} OAuth client registrations refused within ${windowText}: a client with a callback URL the pool does not allow, or someone probing /register. The registration log's oauth_error, field and source_ip say which.`,
      );
    }
    if (oauthFilters !== undefined) {
      this.refusedAuthorizationAlarm = alarm(
        'RefusedAuthorizationAlarm',
        sum(oauthFilters.refused, window, 'Refused authorization steps'),
        refusedAuthorizationThreshold,
        above,
        `More than ${refusedAuthorizationThreshold} OAuth authorization steps refused within ${windowText}: a misconfigured client, or someone probing /authorize, /callback or /token (redirect mismatches, PKCE downgrades, code replays, consent CSRF). The OAuth proxy log's step, client_kind, reason and source_ip fields say which; the dashboard table counts them by reason.`,
      );
      this.cimdRefusalAlarm = alarm(
        'CimdRefusalAlarm',
        sum(oauthFilters.cimd, window, 'Refused CIMD client ids'),
        cimdRefusalThreshold,
        above,
        `More than ${cimdRefusalThreshold} CIMD client ids refused within ${windowText}: possible SSRF attempts through the OAuth proxy (private or loopback addresses, redirects, oversized or slow documents, hosts off the allow-list). The OAuth proxy log's reason, client_host and source_ip fields say which.`,
      );
      this.refreshTokenReuseAlarm = alarm(
        'RefreshTokenReuseAlarm',
        sum(oauthFilters.refreshReuse, OPERATIONAL_PERIOD, 'Leaked refresh tokens'),
        1,
        atLeast,
        "A refresh token was presented after it had been rotated, or by another client than its own, at least once within 5 minutes: it was copied (or a client refreshes twice at once). Its family is ended and the person signs in again. The OAuth proxy log's family_digest, client_kind, client_host and source_ip fields say which sign-in and from where.",
      );
    }
    if (ruleFilters !== undefined) {
      this.ruleWouldDenyAlarm = alarm(
        'RuleWouldDenyAlarm',
        sum(ruleFilters.wouldDeny, window, 'Would-be rule denials (log-only)'),
        ruleWouldDenyThreshold,
        atLeast,
        `The argument rules, in log-only mode, would have refused ${ruleWouldDenyThreshold} or more requests within ${windowText}: enforcing them (-c ruleMode=enforce) would refuse these. The MCP log's rule_verdict (would_deny), rule_ids, caller and item fields say which rule and whose requests.`,
      );
      this.ruleErrorAlarm = alarm(
        'RuleErrorAlarm',
        sum(ruleFilters.errors, OPERATIONAL_PERIOD, 'Requests refused: rules not evaluated'),
        1,
        atLeast,
        "The argument rules could not be evaluated at least once within 5 minutes, and the requests were refused (fail closed): Cedar did not load in the MCP function, or a rule raised an error (an overflow, a missing tag). The MCP log's rule_error and rule_ids fields say which.",
      );
    }
    this.refusedApprovalAlarm = alarm(
      'RefusedApprovalAlarm',
      sum(refusedApprovals, window, 'Approvals denied, expired or refused'),
      refusedApprovalThreshold,
      above,
      `More than ${refusedApprovalThreshold} approvals denied, expired or refused within ${windowText}: an agent asking for calls its person does not want, or someone trying to get a call approved without them (a replayed or forged approval link, another person's sign-in, a cross-site post). The mcp.approval records' step, reason, caller, tool and source_ip say which.`,
    );
    if (rateLimited !== undefined && rateLimitedThreshold !== undefined) {
      this.rateLimitedAlarm = alarm(
        'RateLimitedAlarm',
        sum(rateLimited, window, 'Uses refused by a quota'),
        rateLimitedThreshold,
        above,
        `More than ${rateLimitedThreshold} calls, reads or gets refused by a per-caller quota within ${windowText}: a caller pulling data in bulk (stopped, not only seen), a client retrying without waiting, or a quota set too low, or the quota table failing (error_type QuotaUnavailable). The MCP log's quota, caller and error_type fields say which.`,
      );
    }
    this.alarms = [
      this.abuseAlarm,
      this.authFailureAlarm,
      this.deniedCallsAlarm,
      this.toolErrorAlarm,
      this.handlerErrorAlarm,
      this.handlerThrottleAlarm,
      this.api5xxAlarm,
      ...(this.refusedRegistrationAlarm === undefined ? [] : [this.refusedRegistrationAlarm]),
      ...(this.refusedAuthorizationAlarm === undefined ? [] : [this.refusedAuthorizationAlarm]),
      ...(this.cimdRefusalAlarm === undefined ? [] : [this.cimdRefusalAlarm]),
      ...(this.refreshTokenReuseAlarm === undefined ? [] : [this.refreshTokenReuseAlarm]),
      ...(this.ruleWouldDenyAlarm === undefined ? [] : [this.ruleWouldDenyAlarm]),
      ...(this.ruleErrorAlarm === undefined ? [] : [this.ruleErrorAlarm]),
      this.refusedApprovalAlarm,
      ...(this.rateLimitedAlarm === undefined ? [] : [this.rateLimitedAlarm]),
    ];

    // --- Dashboard --------------------------------------------------------------------------
    const graphPeriod = Duration.minutes(5);
    const toolCallMetric = (tool: string) =>
      new cloudwatch.Metric({
        namespace,
        metricName: METRIC_NAMES.toolCalls,
        dimensionsMap: { [TOOL_DIMENSION]: tool },
        statistic: cloudwatch.Stats.SUM,
        period: graphPeriod,
        label: tool,
      });

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.hours(3),
      widgets: [
        [
          new cloudwatch.GraphWidget({
            title: 'Calls per tool',
            width: 12,
            left: [...props.toolNames, UNKNOWN_TOOL].map(toolCallMetric),
          }),
          new cloudwatch.GraphWidget({
            title: 'Denied and failed tool calls',
            width: 12,
            left: [
              sum(denied, graphPeriod, 'Denied (missing permission)'),
              sum(toolErrors, graphPeriod, 'Tool errors'),
              sum(refusedApprovals, graphPeriod, 'Approvals denied, expired or refused'),
              ...(rateLimited === undefined
                ? []
                : [sum(rateLimited, graphPeriod, 'Refused by a quota')]),
            ],
            leftAnnotations: [
              { value: deniedThreshold, label: 'Denied-burst threshold' },
              ...(rateLimitedThreshold === undefined
                ? []
                : [{ value: rateLimitedThreshold, label: 'Quota-burst threshold' }]),
            ],
          }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'Authentication failures',
            width: 8,
            left: [sum(authFailures, graphPeriod, 'Authentication failures')],
            leftAnnotations: [{ value: authFailureThreshold, label: 'Burst threshold' }],
          }),
          new ContributorInsightsWidget({
            title: 'Top callers (caller, tool)',
            ruleName: this.insightRule.attrRuleName,
            region: stack.region,
            period: window,
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
              props.authorizerFunction.metricDuration({
                statistic: 'p99',
                label: 'Authorizer p99',
              }),
              stage.metricLatency({ statistic: 'p50', label: 'API p50' }),
              stage.metricLatency({ statistic: 'p99', label: 'API p99' }),
            ],
          }),
          new cloudwatch.GraphWidget({
            title: 'Cold starts',
            width: 12,
            left: [
              sum(authorizerColdStarts, graphPeriod, 'Authorizer cold starts'),
              sum(coldStartToolCalls, graphPeriod, 'Tool calls served by a cold start'),
            ],
          }),
        ],
        ...(oauthFilters === undefined || oauthLogGroup === undefined
          ? []
          : [
              [
                new cloudwatch.GraphWidget({
                  title: 'OAuth proxy: refused authorization steps and CIMD client ids',
                  width: 12,
                  left: [
                    sum(oauthFilters.refused, graphPeriod, 'Refused authorization steps'),
                    sum(oauthFilters.cimd, graphPeriod, 'Refused CIMD client ids (SSRF guard)'),
                    sum(oauthFilters.refreshReuse, graphPeriod, 'Leaked refresh tokens'),
                    ...(props.refusedRegistrations === undefined
                      ? []
                      : [
                          props.refusedRegistrations.with({
                            statistic: cloudwatch.Stats.SUM,
                            period: graphPeriod,
                            label: 'Refused client registrations',
                          }),
                        ]),
                  ],
                  leftAnnotations: [
                    { value: refusedAuthorizationThreshold, label: 'Refusal-burst threshold' },
                    { value: cimdRefusalThreshold, label: 'CIMD-burst threshold' },
                  ],
                }),
                new cloudwatch.LogQueryWidget({
                  title: 'OAuth proxy: refused steps by step, client kind and reason',
                  width: 12,
                  logGroupNames: [oauthLogGroup.logGroupName],
                  view: cloudwatch.LogQueryVisualizationType.TABLE,
                  queryLines: refusalsByReasonQuery(),
                }),
              ],
            ]),
        ...(ruleFilters === undefined
          ? []
          : [
              [
                new cloudwatch.GraphWidget({
                  title: 'Argument rules (Cedar)',
                  width: 24,
                  left: [
                    sum(ruleFilters.denied, graphPeriod, 'Refused by a rule'),
                    sum(ruleFilters.wouldDeny, graphPeriod, 'Would be refused (log-only)'),
                    sum(ruleFilters.errors, graphPeriod, 'Refused: rules not evaluated'),
                  ],
                  leftAnnotations: [
                    { value: ruleWouldDenyThreshold, label: 'Would-deny alarm threshold' },
                  ],
                }),
              ],
            ]),
        [
          new cloudwatch.AlarmStatusWidget({
            title: 'Alarms',
            width: 24,
            alarms: [...this.alarms],
          }),
        ],
      ],
    });
  }
}
