/**
 * The Monitoring construct: its template, cdk-nag's verdict on it, and the acid test that its
 * metric filters and Contributor Insights rule, taken from the synthesized template, count
 * exactly the audit records the real authorizer and MCP handler write through the local gateway.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, type CfnElement, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMcpHandler, type McpHandler } from '../../../lambda/mcp/handler';
import { AesSealer } from '../../../lambda/oauth-proxy/aes-sealer';
import { CIMD_REFUSALS, CimdResolver } from '../../../lambda/oauth-proxy/cimd';
import { ClientDirectory } from '../../../lambda/oauth-proxy/clients';
import { createOAuthProxyHandler } from '../../../lambda/oauth-proxy/handler';
import { OAuthProxy } from '../../../lambda/oauth-proxy/proxy';
import {
  APPROVAL_STEPS,
  AUDIT_EVENTS,
  AUDIT_FIELDS,
  AUTH_DECISION,
  AUTHORIZATION_OUTCOME,
  AUTHORIZATION_REASONS,
  type AuthReason,
  TOOL_CALL_STATUS,
  UNKNOWN_TOOL,
} from '../../../lambda/shared/audit';
import { createLogger } from '../../../lambda/shared/logger';
import type { Principal } from '../../../lambda/shared/principal';
import { OAUTH_PATHS } from '../../../lambda/shared/routes';
import { customerRecords } from '../../../modules/customer-records/module';
import type { RecordStore } from '../../../modules/customer-records/store/customer-record';
import { POLICY } from '../../../modules/policy';
import { MemoryRefreshFamilyStore } from '../../../tools/local/memory-refresh-families';
import { MemoryCodeStore } from '../../../tools/local/oauth';
import { synthStack } from '../../support/stack-fixture';

const TOOL_NAMES = POLICY.items.tool.map((tool) => tool.name);

import { ACCESS_LOG_FORMAT } from '../../../lib/mcp-api';
import {
  authFailurePattern,
  CIMD_REASON_PREFIX,
  cimdRefusalPattern,
  deniedCallPattern,
  earlyDeniedCallPattern,
  METRIC_NAMES,
  Monitoring,
  type MonitoringProps,
  MonitoringPropsError,
  maxContributorExpression,
  missingCredentialPattern,
  refreshTokenReusePattern,
  refusalsByReasonQuery,
  refusedApprovalPattern,
  refusedAuthorizationPattern,
  ruleDeniedPattern,
  ruleErrorPattern,
  ruleWouldDenyPattern,
  TOOL_DIMENSION,
  toolCallPattern,
  toolErrorPattern,
  topCallersRuleBody,
} from '../../../lib/monitoring';
import type { LocalGateway } from '../../../tools/local/gateway';
import { loadSigningKey, mintAccessToken } from '../../../tools/local/identity';
import { captureLogs } from '../../support/capture-logs';
import { deploymentRole } from '../../support/deployment-roles';
import { handlerFetch } from '../../support/handler-fetch';
import { startTestGateway } from '../../support/local-gateway-fixture';
import {
  compileFilterPattern,
  evaluateInsightRule,
  evaluateMetricFilter,
  type MetricTransformation,
  PatternSyntaxError,
  parseInsightRule,
  parseJsonEvent,
  ruleMatches,
  UnsupportedPatternError,
} from '../../support/log-patterns';
import { render } from '../../support/template-helpers';
import { testAssembly } from '../../support/test-assembly';

// ---------------------------------------------------------------------------------------------
// Fixture: the smallest stack Monitoring can watch
// ---------------------------------------------------------------------------------------------

interface Fixture {
  readonly app: App;
  readonly stack: Stack;
  readonly monitoring: Monitoring;
  readonly template: Template;
  readonly mcpFunction: lambda.Function;
  readonly mcpLogGroup: logs.LogGroup;
  readonly authorizerLogGroup: logs.LogGroup;
  readonly api: apigateway.RestApi;
  /** The OAuth proxy's log group, when the fixture was built with one. */
  readonly oauthProxyLogGroup?: logs.LogGroup;
}

function buildFixture(
  props: Partial<MonitoringProps> = {},
  apiProps: apigateway.RestApiProps = {},
  options: { oauthProxy?: boolean } = {},
): Fixture {
  // Nothing here bundles; the context keeps it that way if a construct ever would.
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'MonitoringFixture');
  const mcpLogGroup = new logs.LogGroup(stack, 'McpLogs', {
    retention: logs.RetentionDays.ONE_MONTH,
  });
  const authorizerLogGroup = new logs.LogGroup(stack, 'AuthorizerLogs', {
    retention: logs.RetentionDays.ONE_MONTH,
  });
  const fn = (id: string, logGroup: logs.LogGroup) =>
    new lambda.Function(stack, id, {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => ({ statusCode: 200 });'),
      logGroup,
    });
  const mcpFunction = fn('McpHandler', mcpLogGroup);
  const authorizerFunction = fn('Authorizer', authorizerLogGroup);
  const api = new apigateway.RestApi(stack, 'Api', apiProps);
  api.root.addMethod('GET', new apigateway.MockIntegration());
  const oauthProxyLogGroup =
    options.oauthProxy === true
      ? new logs.LogGroup(stack, 'OAuthProxyLogs', { retention: logs.RetentionDays.ONE_MONTH })
      : undefined;
  const monitoring = new Monitoring(stack, 'Monitoring', {
    mcpFunction,
    mcpLogGroup,
    authorizerFunction,
    authorizerLogGroup,
    api,
    toolNames: TOOL_NAMES,
    ...(oauthProxyLogGroup === undefined ? {} : { oauthProxyLogGroup }),
    ...props,
  });
  return {
    app,
    stack,
    monitoring,
    template: Template.fromStack(stack),
    mcpFunction,
    mcpLogGroup,
    authorizerLogGroup,
    api,
    ...(oauthProxyLogGroup === undefined ? {} : { oauthProxyLogGroup }),
  };
}

/** The logical id the stack gave a construct's CloudFormation resource. */
function logicalId(construct: IConstruct): string {
  const resource = construct.node.defaultChild ?? construct;
  return Stack.of(construct).getLogicalId(resource as CfnElement);
}

type Resource = { Properties: Record<string, unknown> };

function onlyResource(template: Template, type: string): Resource {
  const resources = Object.values(template.findResources(type)) as Resource[];
  expect(resources).toHaveLength(1);
  return resources[0] as Resource;
}

function dashboardWidgets(
  fixture: Fixture,
): { type: string; properties: Record<string, unknown> }[] {
  const dashboard = onlyResource(fixture.template, 'AWS::CloudWatch::Dashboard');
  return JSON.parse(render(dashboard.Properties.DashboardBody)).widgets;
}

function widgetTitled(fixture: Fixture, title: string) {
  const widget = dashboardWidgets(fixture).find((w) => w.properties.title === title);
  if (widget === undefined) throw new Error(`No widget titled ${title}`);
  return widget;
}

const sel = (field: string) => `$.${field}`;

interface AlarmProperties {
  readonly Threshold: number;
  readonly ComparisonOperator: string;
  readonly Metrics: readonly { readonly Expression?: unknown }[];
}

/** The one alarm on a metric-math expression: the abuse alarm on the Contributor Insights rule. */
function abuseAlarm(template: Template): AlarmProperties {
  const alarms = Object.values(
    template.findResources('AWS::CloudWatch::Alarm', {
      Properties: { Metrics: [Match.objectLike({ Expression: Match.anyValue() })] },
    }),
  ) as { Properties: AlarmProperties }[];
  expect(alarms).toHaveLength(1);
  return (alarms[0] as { Properties: AlarmProperties }).Properties;
}

/** Whether a datapoint puts the alarm into ALARM, by CloudWatch's comparison operators. */
function breaches(value: number, alarm: AlarmProperties): boolean {
  switch (alarm.ComparisonOperator) {
    case 'GreaterThanThreshold':
      return value > alarm.Threshold;
    case 'GreaterThanOrEqualToThreshold':
      return value >= alarm.Threshold;
    case 'LessThanThreshold':
      return value < alarm.Threshold;
    case 'LessThanOrEqualToThreshold':
      return value <= alarm.Threshold;
    default:
      throw new Error(`Unexpected comparison ${alarm.ComparisonOperator}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Template
// ---------------------------------------------------------------------------------------------

describe('Monitoring template', () => {
  const fixture = buildFixture();
  const { template } = fixture;
  const mcpLogs = { Ref: logicalId(fixture.mcpLogGroup) };
  const authorizerLogs = { Ref: logicalId(fixture.authorizerLogGroup) };
  const topic = { Ref: logicalId(fixture.monitoring.alarmTopic) };

  it('counts tool calls from the MCP log group with the tool name as the only dimension', () => {
    // Assess
    template.hasResourceProperties('AWS::Logs::MetricFilter', {
      LogGroupName: mcpLogs,
      FilterPattern: toolCallPattern().logPatternString,
      MetricTransformations: [
        {
          MetricNamespace: 'SecureMcp',
          MetricName: METRIC_NAMES.toolCalls,
          MetricValue: '1',
          Unit: 'Count',
          Dimensions: [{ Key: TOOL_DIMENSION, Value: sel(AUDIT_FIELDS.tool) }],
          // CloudWatch Logs rejects a default value next to dimensions.
          DefaultValue: Match.absent(),
        },
      ],
    });
  });

  it.each([
    { metric: METRIC_NAMES.deniedCalls, pattern: deniedCallPattern(), logs: 'MCP', group: mcpLogs },
    { metric: METRIC_NAMES.toolErrors, pattern: toolErrorPattern(), logs: 'MCP', group: mcpLogs },
    {
      metric: METRIC_NAMES.authFailures,
      pattern: authFailurePattern(),
      logs: 'authorizer',
      group: authorizerLogs,
    },
  ])(
    'counts $metric from the $logs log group, reporting 0 between matches',
    ({ metric, pattern, group }) => {
      // Assess
      template.hasResourceProperties('AWS::Logs::MetricFilter', {
        LogGroupName: group,
        FilterPattern: pattern.logPatternString,
        MetricTransformations: [
          {
            MetricNamespace: 'SecureMcp',
            MetricName: metric,
            MetricValue: '1',
            DefaultValue: 0,
            Unit: 'Count',
            Dimensions: Match.absent(),
          },
        ],
      });
    },
  );

  it('builds every audit pattern from the exported event, field and status names', () => {
    // Assess
    const anyItemEvent = [
      AUDIT_EVENTS.toolCall,
      AUDIT_EVENTS.resourceRead,
      AUDIT_EVENTS.promptGet,
      AUDIT_EVENTS.completion,
    ]
      .map((event) => `(${sel(AUDIT_FIELDS.event)} = "${event}")`)
      .join(' || ');
    expect(deniedCallPattern().logPatternString).toBe(
      `{ (${anyItemEvent}) && (${sel(AUDIT_FIELDS.status)} = "${TOOL_CALL_STATUS.denied}") }`,
    );
    expect(authFailurePattern().logPatternString).toBe(
      `{ (${sel(AUDIT_FIELDS.event)} = "${AUDIT_EVENTS.authDecision}") && (${sel(AUDIT_FIELDS.decision)} = "${AUTH_DECISION.deny}") && (${sel(AUDIT_FIELDS.reason)} != "item_forbidden") && (${sel(AUDIT_FIELDS.reason)} != "insufficient_scope") }`,
    );
  });

  it('counts a gateway step-up (a good credential lacking a scope) as a denied call, never as an authentication failure', () => {
    // Prepare: what the authorizer writes for a step-up
    const record = JSON.stringify({
      event: AUDIT_EVENTS.authDecision,
      decision: AUTH_DECISION.deny,
      reason: 'insufficient_scope',
      tool: 'delete_record',
      permission: 'delete_data',
    });

    // Assess
    expect(compileFilterPattern(earlyDeniedCallPattern().logPatternString).matches(record)).toBe(
      true,
    );
    expect(compileFilterPattern(authFailurePattern().logPatternString).matches(record)).toBe(false);
  });

  it('counts an access-log 401 the authorizer never saw as an authentication failure, and only that', () => {
    // Prepare: API Gateway's access-log lines (ACCESS_LOG_FORMAT) of a request without a
    // credential, and of one whose credential the authorizer refused
    const line = (authorizerStatus: string, errorType: string, status: string) =>
      JSON.stringify({
        ...Object.fromEntries(Object.keys(ACCESS_LOG_FORMAT).map((key) => [key, '-'])),
        authorizerStatus,
        errorType,
        status,
      });
    const matcher = compileFilterPattern(missingCredentialPattern().logPatternString);

    // Assess
    expect(matcher.matches(line('-', 'UNAUTHORIZED', '401'))).toBe(true);
    expect(matcher.matches(line('401', 'UNAUTHORIZED', '401'))).toBe(false);
    expect(matcher.matches(line('200', '-', '200'))).toBe(false);
  });

  it('counts an early deny (a good credential, a forbidden item) as a denied call, never as an authentication failure', () => {
    // Prepare: what the authorizer writes for an early deny
    const record = JSON.stringify({
      event: AUDIT_EVENTS.authDecision,
      decision: AUTH_DECISION.deny,
      reason: 'item_forbidden',
      tool: 'delete_record',
      permission: 'delete_data',
    });
    const refused = JSON.stringify({
      event: AUDIT_EVENTS.authDecision,
      decision: AUTH_DECISION.deny,
      reason: 'token_expired',
    });

    // Assess
    const early = compileFilterPattern(earlyDeniedCallPattern().logPatternString);
    const failure = compileFilterPattern(authFailurePattern().logPatternString);
    expect([early.matches(record), failure.matches(record)]).toEqual([true, false]);
    expect([early.matches(refused), failure.matches(refused)]).toEqual([false, true]);
    template.hasResourceProperties('AWS::Logs::MetricFilter', {
      LogGroupName: authorizerLogs,
      FilterPattern: earlyDeniedCallPattern().logPatternString,
      MetricTransformations: [Match.objectLike({ MetricName: METRIC_NAMES.deniedCalls })],
    });
  });

  /** How the audit metrics count one authorizer deny with `reason`. */
  const countedAs = (reason: AuthReason) => {
    const record = JSON.stringify({
      event: AUDIT_EVENTS.authDecision,
      decision: AUTH_DECISION.deny,
      reason,
      tool: 'delete_record',
    });
    return {
      denied: compileFilterPattern(earlyDeniedCallPattern().logPatternString).matches(record),
      authFailure: compileFilterPattern(authFailurePattern().logPatternString).matches(record),
    };
  };

  it("counts a gateway step-up (insufficient_scope: a good credential, a scope its token lacks) as a denied call, as the MCP function's own scope refusal is, never as an authentication failure", () => {
    expect(countedAs('insufficient_scope')).toEqual({ denied: true, authFailure: false });
  });

  it.each([
    'missing_credential',
    'invalid_signature',
    'token_expired',
    'expires_within_cache',
    'key_revoked',
  ] as const)(
    'counts a deny for %s as an authentication failure, not as a denied call',
    (reason) => {
      expect(countedAs(reason)).toEqual({ denied: false, authFailure: true });
    },
  );

  it.each([
    [AUDIT_EVENTS.toolCall, true],
    [AUDIT_EVENTS.resourceRead, true],
    [AUDIT_EVENTS.promptGet, true],
    [AUDIT_EVENTS.completion, true],
    [AUDIT_EVENTS.authDecision, false],
  ])('counts a denied %s record as a denied call: %s', (event, counted) => {
    // Prepare
    const record = JSON.stringify({ event, status: TOOL_CALL_STATUS.denied, caller: 'bob' });

    // Act & Assess
    expect(compileFilterPattern(deniedCallPattern().logPatternString).matches(record)).toBe(
      counted,
    );
  });

  it('runs a Contributor Insights rule over the MCP log group keyed on caller and tool', () => {
    // Prepare
    const rule = onlyResource(template, 'AWS::CloudWatch::InsightRule');

    // Act
    const body = JSON.parse(render(rule.Properties.RuleBody));

    // Assess
    expect(rule.Properties.RuleState).toBe('ENABLED');
    expect(body).toEqual(topCallersRuleBody(`<${mcpLogs.Ref}>`));
    expect(body.Contribution.Keys).toEqual([sel(AUDIT_FIELDS.caller), sel(AUDIT_FIELDS.tool)]);
    expect(body.Contribution.Filters).toEqual([
      { Match: sel(AUDIT_FIELDS.event), In: [AUDIT_EVENTS.toolCall] },
    ]);
  });

  it('alarms when one caller makes more than 100 calls to one tool within 5 minutes by default', () => {
    // Prepare
    const ruleId = logicalId(fixture.monitoring.insightRule);

    // Act
    const alarm = abuseAlarm(template);

    // Assess
    expect(alarm).toMatchObject({
      Threshold: 100,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 1,
      Metrics: [{ Period: 300, ReturnData: true }],
    });
    expect(render(alarm.Metrics[0]?.Expression)).toBe(
      maxContributorExpression(`<${ruleId}.RuleName>`),
    );
  });

  it('takes the abuse threshold and window from its props', () => {
    // Prepare
    const custom = buildFixture({ abuseThreshold: 42, abuseWindow: Duration.minutes(10) });

    // Assess
    custom.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Threshold: 42,
      Metrics: [Match.objectLike({ Expression: Match.anyValue(), Period: 600 })],
    });
  });

  /** A burst alarm: more than `limit` of the audit metric, summed over `period` seconds. */
  const burst = (metric: string, period: number, limit: number) => ({
    Threshold: limit,
    ComparisonOperator: 'GreaterThanThreshold',
    EvaluationPeriods: 1,
    Metrics: [
      Match.objectLike({
        MetricStat: {
          Metric: { Namespace: 'SecureMcp', MetricName: metric },
          Period: period,
          Stat: 'Sum',
        },
      }),
    ],
  });

  it.each([
    { metric: METRIC_NAMES.authFailures, threshold: 50 },
    { metric: METRIC_NAMES.deniedCalls, threshold: 20 },
  ])(
    'alarms on more than $threshold $metric within 5 minutes by default',
    ({ metric, threshold }) => {
      // Assess
      template.hasResourceProperties('AWS::CloudWatch::Alarm', burst(metric, 300, threshold));
    },
  );

  it.each([
    { metric: METRIC_NAMES.authFailures, prop: 'authFailureThreshold' as const },
    { metric: METRIC_NAMES.deniedCalls, prop: 'deniedThreshold' as const },
  ])(
    'takes the $metric burst threshold from $prop and its period from abuseWindow',
    ({ metric, prop }) => {
      // Act
      const custom = buildFixture({ [prop]: 7, abuseWindow: Duration.minutes(15) });

      // Assess
      custom.template.hasResourceProperties('AWS::CloudWatch::Alarm', burst(metric, 900, 7));
    },
  );

  it('alarms on refused client registrations only when given their metric, as a burst', () => {
    // Prepare
    const refused = new cloudwatch.Metric({
      namespace: 'SecureMcp',
      metricName: 'RefusedClientRegistrations',
    });

    // Act
    const withMetric = buildFixture({
      refusedRegistrations: refused,
      refusedRegistrationThreshold: 9,
      abuseWindow: Duration.minutes(10),
    });

    // Assess
    expect(fixture.monitoring.refusedRegistrationAlarm).toBeUndefined();
    expect(withMetric.monitoring.alarms).toContain(withMetric.monitoring.refusedRegistrationAlarm);
    withMetric.template.hasResourceProperties(
      'AWS::CloudWatch::Alarm',
      burst('RefusedClientRegistrations', 600, 9),
    );
  });

  it.each([
    { what: 'MCP handler errors', namespace: 'AWS/Lambda', metric: 'Errors', fn: true },
    { what: 'MCP handler throttles', namespace: 'AWS/Lambda', metric: 'Throttles', fn: true },
    { what: 'API 5xx responses', namespace: 'AWS/ApiGateway', metric: '5XXError', fn: false },
  ])('alarms on any $what within 5 minutes', ({ namespace, metric, fn }) => {
    // Prepare
    const dimensions = fn
      ? [{ Name: 'FunctionName', Value: { Ref: logicalId(fixture.mcpFunction) } }]
      : [
          { Name: 'ApiName', Value: fixture.api.restApiName },
          { Name: 'Stage', Value: { Ref: logicalId(fixture.api.deploymentStage) } },
        ];

    // Assess
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: namespace,
      MetricName: metric,
      Dimensions: dimensions,
      Statistic: 'Sum',
      Period: 300,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  });

  it('alarms on any tool error within 5 minutes', () => {
    // Assess
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Metrics: [
        Match.objectLike({
          MetricStat: {
            Metric: { Namespace: 'SecureMcp', MetricName: METRIC_NAMES.toolErrors },
            Period: 300,
            Stat: 'Sum',
          },
        }),
      ],
    });
  });

  it('notifies the one alarm topic from every alarm and treats missing data as not breaching', () => {
    // Act
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')) as Resource[];

    // Assess
    expect(alarms).toHaveLength(fixture.monitoring.alarms.length);
    for (const alarm of alarms) {
      expect(alarm.Properties).toMatchObject({
        TreatMissingData: 'notBreaching',
        AlarmActions: [topic],
      });
    }
  });

  it('encrypts the alarm topic with a customer-managed key that rotates', () => {
    // Prepare
    const keyId = logicalId(fixture.monitoring.alarmTopicKey);

    // Assess
    template.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] },
    });
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  it('lets CloudWatch use the topic key to send alarm notifications', () => {
    // Assess
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          }),
        ]),
      },
    });
  });

  it("refuses publishing without TLS and admits only this account's alarms", () => {
    // Assess
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [topic],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 'sns:Publish',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: 'sns:Publish',
            Condition: {
              ArnLike: { 'aws:SourceArn': Match.anyValue() },
              StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
            },
          }),
        ]),
      },
    });
  });

  it('subscribes the alarm e-mail to the topic when one is given', () => {
    // Prepare
    const withEmail = buildFixture({ alarmEmail: 'secops@example.com' });

    // Assess
    withEmail.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'secops@example.com',
      TopicArn: { Ref: logicalId(withEmail.monitoring.alarmTopic) },
    });
  });

  it('subscribes nobody when no alarm e-mail is given', () => {
    // Act
    const subscriptions = template.findResources('AWS::SNS::Subscription');

    // Assess
    expect(Object.keys(subscriptions)).toEqual([]);
  });

  it('graphs calls for every tool in the policy table and for unknown tools', () => {
    // Act
    const widget = widgetTitled(fixture, 'Calls per tool');

    // Assess
    expect(widget.properties.metrics).toEqual(
      [...TOOL_NAMES, UNKNOWN_TOOL].map((tool) => [
        'SecureMcp',
        METRIC_NAMES.toolCalls,
        TOOL_DIMENSION,
        tool,
        { label: tool, stat: 'Sum' },
      ]),
    );
  });

  it('shows the top callers with a Contributor Insights widget on the rule', () => {
    // Act
    const widget = widgetTitled(fixture, 'Top callers (caller, tool)');

    // Assess
    expect(widget.type).toBe('metric');
    expect(widget.properties.insightRule).toEqual({
      ruleName: `<${logicalId(fixture.monitoring.insightRule)}.RuleName>`,
      maxContributorCount: 10,
      orderBy: 'Sum',
    });
  });

  it('graphs denied calls, tool errors and authentication failures from the audit metrics', () => {
    // Act
    const metricNames = [
      ...(widgetTitled(fixture, 'Denied and failed tool calls').properties.metrics as unknown[][]),
      ...(widgetTitled(fixture, 'Authentication failures').properties.metrics as unknown[][]),
    ].map((metric) => metric[1]);

    // Assess
    expect(metricNames).toEqual([
      METRIC_NAMES.deniedCalls,
      METRIC_NAMES.toolErrors,
      METRIC_NAMES.refusedApprovals,
      METRIC_NAMES.authFailures,
    ]);
  });

  it('graphs handler, authorizer and API latency at p50 and p99, and cold starts', () => {
    // Act
    const latency = widgetTitled(fixture, 'Latency (ms)').properties.metrics as unknown[][];
    const coldStarts = widgetTitled(fixture, 'Cold starts').properties.metrics as unknown[][];

    // Assess
    expect(latency.map((m) => [m[0], m[1], (m.at(-1) as { stat: string }).stat])).toEqual([
      ['AWS/Lambda', 'Duration', 'p50'],
      ['AWS/Lambda', 'Duration', 'p99'],
      ['AWS/Lambda', 'Duration', 'p99'],
      ['AWS/ApiGateway', 'Latency', 'p50'],
      ['AWS/ApiGateway', 'Latency', 'p99'],
    ]);
    expect(coldStarts.map((m) => m[1])).toEqual([
      METRIC_NAMES.authorizerColdStarts,
      METRIC_NAMES.coldStartToolCalls,
    ]);
  });

  it.each([
    { props: { abuseThreshold: 0 }, message: /abuseThreshold must be a whole number/ },
    { props: { abuseThreshold: 2.5 }, message: /abuseThreshold must be a whole number/ },
    { props: { authFailureThreshold: -1 }, message: /authFailureThreshold/ },
    { props: { deniedThreshold: 0 }, message: /deniedThreshold/ },
    {
      props: { abuseWindow: Duration.seconds(90) },
      message: /abuseWindow must be a whole number of minutes/,
    },
    { props: { abuseWindow: Duration.days(2) }, message: /abuseWindow/ },
    { props: { metricNamespace: 'AWS/Lambda' }, message: /metricNamespace .* 'AWS\/'/ },
    { props: { metricNamespace: '' }, message: /metricNamespace/ },
    { props: { alarmEmail: 'secops' }, message: /alarmEmail must be an e-mail address/ },
  ])('refuses $props, saying what to change', ({ props, message }) => {
    // Act
    const build = () => buildFixture(props);

    // Assess
    expect(build).toThrow(MonitoringPropsError);
    expect(build).toThrow(message);
  });

  it('refuses an API without a deployment stage, saying how to give it one', () => {
    // Act
    const build = () => buildFixture({}, { deploy: false });

    // Assess
    expect(build).toThrow(/no deployment stage.*deploy: true/);
  });
});

// ---------------------------------------------------------------------------------------------
// cdk-nag
// ---------------------------------------------------------------------------------------------

describe('cdk-nag AwsSolutions on the Monitoring construct', () => {
  const fixture = buildFixture({ alarmEmail: 'secops@example.com' });
  const report = new AwsSolutionsChecks(fixture.app).validateScope(fixture.stack);
  const findings = report.violations.flatMap((violation) =>
    violation.violatingResources.map((resource) => ({
      rule: violation.ruleName,
      path: resource.constructPath ?? '',
    })),
  );
  const monitoringPath = `${fixture.monitoring.node.path}/`;

  it('finds nothing unacknowledged in the Monitoring construct', () => {
    // Assess
    expect(findings.filter((finding) => finding.path.startsWith(monitoringPath))).toEqual([]);
  });

  it("still reports the fixture's own findings, so the check above ran", () => {
    // Assess: the fixture's Lambda roles use the AWS managed basic-execution policy.
    expect(findings).toContainEqual({
      rule: expect.stringMatching(/^AwsSolutions-IAM4/),
      path: expect.not.stringMatching(new RegExp(`^${monitoringPath}`)),
    });
  });
});

// ---------------------------------------------------------------------------------------------
// The acid test: the deployed patterns against the records the real handlers write
// ---------------------------------------------------------------------------------------------

describe('Monitoring against the audit records the real handlers write', () => {
  // The deployed stack's template: the one the gateway below serves.
  const fixture = { template: Template.fromJSON(testAssembly().template as never) };
  /** The log group a function of the stack writes to (its LoggingConfig), by service name. */
  const groupOf = (service: string) => {
    const fn = Object.values(fixture.template.findResources('AWS::Lambda::Function')).find(
      (resource) =>
        (resource as { Properties: { Environment?: { Variables?: Record<string, unknown> } } })
          .Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME === service,
    ) as Resource | undefined;
    const ref = (fn?.Properties.LoggingConfig as { LogGroup?: { Ref?: string } } | undefined)
      ?.LogGroup?.Ref;
    if (ref === undefined) throw new Error(`No log group for ${service}`);
    return ref;
  };
  const mcpGroup = groupOf('mcp-server');
  const authorizerGroup = groupOf('mcp-authorizer');
  /** The stage's access log group (the only log group the API's stage writes to). */
  const accessGroup = (() => {
    const stage = Object.values(fixture.template.findResources('AWS::ApiGateway::Stage'))[0] as
      | Resource
      | undefined;
    const arn = stage?.Properties.AccessLogSetting as
      | { DestinationArn?: { 'Fn::GetAtt'?: string[] } }
      | undefined;
    const id = arn?.DestinationArn?.['Fn::GetAtt']?.[0];
    if (id === undefined) throw new Error('No access log group');
    return id;
  })();

  /** The metric filters of the template: a metric may be fed by filters on two log groups. */
  const filters = (
    Object.values(fixture.template.findResources('AWS::Logs::MetricFilter')) as Resource[]
  ).map(({ Properties }) => {
    const [transformation] = Properties.MetricTransformations as (MetricTransformation & {
      MetricName: string;
    })[];
    if (transformation === undefined) throw new Error('A metric filter without a metric');
    return {
      metric: transformation.MetricName,
      pattern: Properties.FilterPattern as string,
      transformation,
      logGroup: (Properties.LogGroupName as { Ref: string }).Ref,
    };
  });
  /** The filter publishing `metric` (from `group`, when two log groups feed it). */
  const filter = (metric: string, group?: string) => {
    const found = filters.filter(
      (candidate) =>
        candidate.metric === metric && (group === undefined || candidate.logGroup === group),
    );
    if (found.length !== 1) {
      throw new Error(
        `${found.length} metric filters publish ${metric}${group ? ` from ${group}` : ''}`,
      );
    }
    return found[0] as (typeof found)[number];
  };
  const rule = parseInsightRule(
    render(onlyResource(fixture.template, 'AWS::CloudWatch::InsightRule').Properties.RuleBody),
  );

  let gateway: LocalGateway | undefined;
  let dir = '';
  /** Log lines by the logical id of the log group Lambda would have shipped them to. */
  const lines: Record<string, string[]> = {
    [mcpGroup]: [],
    [authorizerGroup]: [],
    [accessGroup]: [],
  };
  const records = (group: string) =>
    (lines[group] ?? []).flatMap((line) => {
      const record = parseJsonEvent(line);
      return record === undefined ? [] : [record];
    });
  const matching = (pattern: string, group: string) => {
    const matcher = compileFilterPattern(pattern);
    return (lines[group] ?? []).filter((line) => matcher.matches(line)).map((l) => JSON.parse(l));
  };
  const total = (metric: string, group: string) => {
    const { pattern, transformation } = filter(metric, group);
    return evaluateMetricFilter(pattern, transformation, lines[group] ?? []).reduce(
      (sum, series) => sum + series.sum,
      0,
    );
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mcp-monitoring-'));
    const key = loadSigningKey(dir);
    const token = (sub: string, groups: string[], expiresIn?: number) =>
      mintAccessToken(key, { sub, groups, ...(expiresIn === undefined ? {} : { expiresIn }) });
    // Reads records, may not delete them: her deletes are the denied calls counted below.
    const alice = token('alice', [
      deploymentRole({ grants: ['read_data'], lacks: ['delete_data'] }),
    ]);
    const bob = token('bob', ['analyst']);
    const carol = token('carol', ['admin']);

    {
      gateway = await startTestGateway(dir);
      const url = gateway.mcpUrl;
      const post = async (authorization: string | undefined, method: string, params: unknown) => {
        const response = await fetch(url, {
          method: 'POST',
          headers: {
            'Content-Type': 'application/json',
            Accept: 'application/json, text/event-stream',
            'MCP-Protocol-Version': '2025-06-18',
            ...(authorization === undefined ? {} : { Authorization: authorization }),
          },
          body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
        });
        await response.text();
        return response.status;
      };
      const call = async (bearer: string, name: string, args: unknown, times = 1) => {
        // One after another, so the records come in a known order.
        for (let i = 0; i < times; i += 1) {
          await post(`Bearer ${bearer}`, 'tools/call', { name, arguments: args });
        }
      };

      // The first request is an allowed tool call: it meets both functions cold. It also loads
      // Cedar (the tool has rules), whose WebAssembly V8 goes on compiling in the background
      // after the answer: a moment's pause lets that environment finish before the next call,
      // which would otherwise start a second (cold) one, as a quick follow-up may.
      await call(alice, 'query_customer_data', { segment: 'retail', limit: 2 });
      await new Promise((resolve) => setTimeout(resolve, 300));
      await call(alice, 'query_customer_data', { segment: 'retail', limit: 2 }, 4);
      await call(alice, 'delete_record', { id: 'cust-0001' }, 3);
      await post(`Bearer ${alice}`, 'tools/list', {});
      await call(bob, 'run_report', { group_by: 'segment' }, 2);
      await call(bob, 'put_record', { id: 'cust-0001', name: 'X' });
      // A store failure: DynamoDB throttles every attempt the client makes (3), so the tool
      // fails, and the handler does not.
      gateway.emulator.faults.failNext(
        'DynamoDB',
        'GetItem',
        { code: 'ProvisionedThroughputExceededException' },
        3,
      );
      await call(bob, 'get_record', { id: 'cust-0002' });
      await call(carol, 'get_record', { id: 'cust-0002' }, 2);
      await call(carol, 'no_such_tool', {});
      await call(carol, 'get_record', {});
      await post(undefined, 'tools/call', { name: 'get_record', arguments: { id: 'cust-0002' } });
      await post(undefined, 'tools/list', {});
      await post('Bearer not-a-token', 'tools/list', {});
      await post(`Bearer ${token('mallory', ['admin'], -60)}`, 'tools/list', {});
    }
    // What each function wrote to its own log group, as Lambda ships it (the emulator's).
    const { resolver } = gateway.emulator;
    for (const group of [mcpGroup, authorizerGroup, accessGroup]) {
      lines[group] = gateway.logs.events(resolver.ref(group)).map((event) => event.message);
    }
  }, 120_000);

  afterAll(async () => {
    await gateway?.stop();
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  it('captured one audit record per tool call and per authorizer decision', () => {
    // Act
    const events = (group: string) => records(group).map((record) => record[AUDIT_FIELDS.event]);

    // Assess
    expect(events(mcpGroup).filter((e) => e === AUDIT_EVENTS.toolCall)).toHaveLength(16);
    // Two requests carried no credential: API Gateway answered them 401 without calling the
    // authorizer, which therefore wrote nothing about them.
    expect(events(authorizerGroup).filter((e) => e === AUDIT_EVENTS.authDecision)).toHaveLength(19);
  });

  it('publishes one tool call per record, under the tool named in it', () => {
    // Prepare
    const { pattern, transformation, logGroup } = filter(METRIC_NAMES.toolCalls);

    // Act
    const series = evaluateMetricFilter(pattern, transformation, lines[logGroup] ?? []);

    // Assess
    expect(logGroup).toBe(mcpGroup);
    expect(Object.fromEntries(series.map((s) => [s.dimensions[TOOL_DIMENSION], s.sum]))).toEqual({
      query_customer_data: 5,
      delete_record: 3,
      run_report: 2,
      put_record: 1,
      get_record: 4,
      [UNKNOWN_TOOL]: 1,
    });
  });

  it('keeps the tool dimension bounded: an unknown tool is published as (unknown), never by name', () => {
    // Prepare
    const { pattern, transformation } = filter(METRIC_NAMES.toolCalls);

    // Act
    const values = evaluateMetricFilter(pattern, transformation, lines[mcpGroup] ?? []).map(
      (series) => series.dimensions[TOOL_DIMENSION],
    );

    // Assess
    expect(values).not.toContain('no_such_tool');
    for (const value of values) expect([...TOOL_NAMES, UNKNOWN_TOOL]).toContain(value);
  });

  it('counts exactly the denied calls as denied, and no successful or failed one', () => {
    // Act
    const denied = matching(filter(METRIC_NAMES.deniedCalls, mcpGroup).pattern, mcpGroup);

    // Assess
    expect(total(METRIC_NAMES.deniedCalls, mcpGroup)).toBe(4);
    expect(denied.map((r) => [r[AUDIT_FIELDS.caller], r[AUDIT_FIELDS.tool]])).toEqual([
      ['alice', 'delete_record'],
      ['alice', 'delete_record'],
      ['alice', 'delete_record'],
      ['bob', 'put_record'],
    ]);
  });

  it('counts exactly the call whose tool failed as a tool error', () => {
    // Act
    const errors = matching(filter(METRIC_NAMES.toolErrors).pattern, mcpGroup);

    // Assess
    expect(total(METRIC_NAMES.toolErrors, mcpGroup)).toBe(1);
    expect(errors).toMatchObject([
      { [AUDIT_FIELDS.caller]: 'bob', [AUDIT_FIELDS.tool]: 'get_record' },
    ]);
  });

  it('counts every refused credential as an authentication failure, and no allowed one', () => {
    // Prepare: one metric, two sources
    const fromAuthorizer = filter(METRIC_NAMES.authFailures, authorizerGroup);
    const fromAccessLog = filter(METRIC_NAMES.authFailures, accessGroup);

    // Act
    const failures = matching(fromAuthorizer.pattern, authorizerGroup);
    const credentialless = matching(fromAccessLog.pattern, accessGroup);

    // Assess: the authorizer's own refusals, and the requests refused before it ran
    expect(total(METRIC_NAMES.authFailures, authorizerGroup)).toBe(2);
    expect(total(METRIC_NAMES.authFailures, accessGroup)).toBe(2);
    expect(failures.map((r) => r[AUDIT_FIELDS.reason]).sort()).toEqual([
      'malformed_credential',
      'token_expired',
    ]);
    expect(failures.every((r) => r[AUDIT_FIELDS.decision] === AUTH_DECISION.deny)).toBe(true);
    expect(credentialless.map((r) => [r.status, r.errorType])).toEqual([
      ['401', 'UNAUTHORIZED'],
      ['401', 'UNAUTHORIZED'],
    ]);
  });

  it('counts no authorizer decision as a tool call, and no tool call as an authentication failure', () => {
    // Act
    const crossed = [
      ...[METRIC_NAMES.toolCalls, METRIC_NAMES.deniedCalls, METRIC_NAMES.toolErrors].map(
        (metric) => matching(filter(metric, mcpGroup).pattern, authorizerGroup).length,
      ),
      matching(filter(METRIC_NAMES.authFailures, authorizerGroup).pattern, mcpGroup).length,
    ];

    // Assess
    expect(crossed).toEqual([0, 0, 0, 0]);
  });

  it('counts one cold start per function: the first authorizer decision and the first tool call', () => {
    // Act
    const authorizer = matching(filter(METRIC_NAMES.authorizerColdStarts).pattern, authorizerGroup);
    const tool = matching(filter(METRIC_NAMES.coldStartToolCalls).pattern, mcpGroup);

    // Assess
    expect(authorizer).toEqual([records(authorizerGroup)[0]]);
    expect(tool).toEqual([records(mcpGroup)[0]]);
    expect(tool[0]).toMatchObject({
      [AUDIT_FIELDS.caller]: 'alice',
      [AUDIT_FIELDS.tool]: 'query_customer_data',
    });
  });

  it('counts tool calls per (caller, tool) in the Contributor Insights rule', () => {
    // Act
    const contributors = evaluateInsightRule(rule, `<${mcpGroup}>`, lines[mcpGroup] ?? []);

    // Assess
    expect(contributors).toEqual([
      { keys: ['alice', 'query_customer_data'], value: 5 },
      { keys: ['alice', 'delete_record'], value: 3 },
      { keys: ['carol', 'get_record'], value: 3 },
      { keys: ['bob', 'run_report'], value: 2 },
      { keys: ['bob', 'put_record'], value: 1 },
      { keys: ['bob', 'get_record'], value: 1 },
      { keys: ['carol', UNKNOWN_TOOL], value: 1 },
    ]);
  });

  it('reads no authorizer records into the Contributor Insights rule', () => {
    // Act
    const fromAuthorizerGroup = evaluateInsightRule(
      rule,
      `<${authorizerGroup}>`,
      lines[authorizerGroup] ?? [],
    );
    const passingFilters = (lines[authorizerGroup] ?? []).filter((line) => ruleMatches(rule, line));

    // Assess
    expect(fromAuthorizerGroup).toEqual([]);
    expect(passingFilters).toEqual([]);
  });

  it('raises the abuse alarm for more than the threshold of calls by one caller to one tool, not for exactly it', () => {
    // Prepare
    const [top] = evaluateInsightRule(rule, `<${mcpGroup}>`, lines[mcpGroup] ?? []);
    const topValue = top?.value ?? 0;

    // Act
    const below = abuseAlarm(buildFixture({ abuseThreshold: topValue - 1 }).template);
    const at = abuseAlarm(buildFixture({ abuseThreshold: topValue }).template);

    // Assess
    expect(topValue).toBe(5);
    expect([breaches(topValue, below), breaches(topValue, at)]).toEqual([true, false]);
  });
});

// ---------------------------------------------------------------------------------------------
// The evaluator the acid test relies on, held to the examples of the AWS docs
// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// The OAuth proxy
// ---------------------------------------------------------------------------------------------

describe('Monitoring of the OAuth proxy', () => {
  const fixture = buildFixture({}, {}, { oauthProxy: true });
  const proxyLogs = { Ref: logicalId(fixture.oauthProxyLogGroup as logs.LogGroup) };
  const burst = (metric: string, period: number, limit: number) => ({
    Threshold: limit,
    ComparisonOperator: 'GreaterThanThreshold',
    EvaluationPeriods: 1,
    Metrics: [
      Match.objectLike({
        MetricStat: {
          Metric: { Namespace: 'SecureMcp', MetricName: metric },
          Period: period,
          Stat: 'Sum',
        },
      }),
    ],
  });

  it("counts refused steps and CIMD refusals from the proxy's log group, with the exported patterns", () => {
    // Assess
    for (const [metric, pattern] of [
      [METRIC_NAMES.refusedAuthorizations, refusedAuthorizationPattern()],
      [METRIC_NAMES.cimdRefusals, cimdRefusalPattern()],
    ] as const) {
      fixture.template.hasResourceProperties('AWS::Logs::MetricFilter', {
        LogGroupName: proxyLogs,
        FilterPattern: pattern.logPatternString,
        MetricTransformations: [
          Match.objectLike({ MetricName: metric, MetricValue: '1', DefaultValue: 0 }),
        ],
      });
    }
  });

  it('builds both patterns from the exported event, field and outcome names', () => {
    // Assess
    const { event, outcome, reason } = AUDIT_FIELDS;
    expect(refusedAuthorizationPattern().logPatternString).toBe(
      `{ ($.${event} = "${AUDIT_EVENTS.oauthAuthorization}") && ($.${outcome} = "${AUTHORIZATION_OUTCOME.refused}") }`,
    );
    expect(cimdRefusalPattern().logPatternString).toBe(
      `{ ($.${event} = "${AUDIT_EVENTS.oauthAuthorization}") && ($.${outcome} = "${AUTHORIZATION_OUTCOME.refused}") && ($.${reason} = "${CIMD_REASON_PREFIX}*") }`,
    );
  });

  it("matches every CIMD refusal the resolver can give, and none of the proxy's other reasons", () => {
    // Prepare
    const line = (reason: string) =>
      JSON.stringify({
        [AUDIT_FIELDS.event]: AUDIT_EVENTS.oauthAuthorization,
        [AUDIT_FIELDS.outcome]: AUTHORIZATION_OUTCOME.refused,
        [AUDIT_FIELDS.reason]: reason,
      });
    const cimd = compileFilterPattern(cimdRefusalPattern().logPatternString);
    const refused = compileFilterPattern(refusedAuthorizationPattern().logPatternString);

    // Assess
    for (const reason of CIMD_REFUSALS) {
      expect(cimd.matches(line(reason)), reason).toBe(true);
      expect(refused.matches(line(reason)), reason).toBe(true);
    }
    for (const reason of AUTHORIZATION_REASONS) {
      expect(cimd.matches(line(reason)), reason).toBe(false);
    }
  });

  it('alarms on more than 20 refused steps and more than 5 CIMD refusals within 5 minutes by default', () => {
    // Assess
    expect(fixture.monitoring.alarms).toEqual(
      expect.arrayContaining([
        fixture.monitoring.refusedAuthorizationAlarm,
        fixture.monitoring.cimdRefusalAlarm,
      ]),
    );
    fixture.template.hasResourceProperties(
      'AWS::CloudWatch::Alarm',
      burst(METRIC_NAMES.refusedAuthorizations, 300, 20),
    );
    fixture.template.hasResourceProperties(
      'AWS::CloudWatch::Alarm',
      burst(METRIC_NAMES.cimdRefusals, 300, 5),
    );
  });

  it('takes both thresholds from its props, over the abuse window', () => {
    // Act
    const custom = buildFixture(
      {
        refusedAuthorizationThreshold: 40,
        cimdRefusalThreshold: 2,
        abuseWindow: Duration.minutes(15),
      },
      {},
      { oauthProxy: true },
    );

    // Assess
    custom.template.hasResourceProperties(
      'AWS::CloudWatch::Alarm',
      burst(METRIC_NAMES.refusedAuthorizations, 900, 40),
    );
    custom.template.hasResourceProperties(
      'AWS::CloudWatch::Alarm',
      burst(METRIC_NAMES.cimdRefusals, 900, 2),
    );
  });

  it('counts approvals denied, expired or refused from both functions, and alarms on a burst', () => {
    // Prepare
    const line = (step: string) =>
      JSON.stringify({
        [AUDIT_FIELDS.event]: AUDIT_EVENTS.approval,
        [AUDIT_FIELDS.step]: step,
        [AUDIT_FIELDS.reason]: 'ok',
      });
    const refused = compileFilterPattern(refusedApprovalPattern().logPatternString);
    const mcpLogs = { Ref: logicalId(fixture.mcpLogGroup) };

    // Assess: only the steps that did not get or keep an approval
    expect(APPROVAL_STEPS.filter((step) => refused.matches(line(step))).sort()).toEqual([
      'denied',
      'expired',
      'refused',
    ]);
    for (const group of [mcpLogs, proxyLogs]) {
      fixture.template.hasResourceProperties('AWS::Logs::MetricFilter', {
        LogGroupName: group,
        FilterPattern: refusedApprovalPattern().logPatternString,
        MetricTransformations: [
          Match.objectLike({ MetricName: METRIC_NAMES.refusedApprovals, DefaultValue: 0 }),
        ],
      });
    }
    expect(fixture.monitoring.alarms).toContain(fixture.monitoring.refusedApprovalAlarm);
    fixture.template.hasResourceProperties(
      'AWS::CloudWatch::Alarm',
      burst(METRIC_NAMES.refusedApprovals, 300, 5),
    );
  });

  it('counts leaked refresh tokens (reused, or shown by another client) and alarms on the first', () => {
    // Prepare
    const line = (reason: string) =>
      JSON.stringify({
        [AUDIT_FIELDS.event]: AUDIT_EVENTS.oauthAuthorization,
        [AUDIT_FIELDS.step]: 'refresh',
        [AUDIT_FIELDS.outcome]: AUTHORIZATION_OUTCOME.refused,
        [AUDIT_FIELDS.reason]: reason,
        [AUDIT_FIELDS.familyEnded]: true,
      });
    const reuse = compileFilterPattern(refreshTokenReusePattern().logPatternString);

    // Assess
    expect(AUTHORIZATION_REASONS.filter((reason) => reuse.matches(line(reason))).sort()).toEqual([
      'refresh_client_mismatch',
      'refresh_token_reused',
    ]);
    fixture.template.hasResourceProperties('AWS::Logs::MetricFilter', {
      LogGroupName: proxyLogs,
      FilterPattern: refreshTokenReusePattern().logPatternString,
      MetricTransformations: [
        Match.objectLike({
          MetricName: METRIC_NAMES.refreshTokenReuse,
          MetricValue: '1',
          DefaultValue: 0,
        }),
      ],
    });
    expect(fixture.monitoring.alarms).toContain(fixture.monitoring.refreshTokenReuseAlarm);
    fixture.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 1,
      Metrics: Match.arrayWith([
        Match.objectLike({
          MetricStat: Match.objectLike({
            Metric: Match.objectLike({ MetricName: METRIC_NAMES.refreshTokenReuse }),
            Period: 300,
            Stat: 'Sum',
          }),
        }),
      ]),
    });
  });

  it('creates no OAuth proxy filter, alarm or widget without its log group', () => {
    // Act
    const plain = buildFixture();
    const metrics = Object.values(
      plain.template.findResources('AWS::Logs::MetricFilter') as Record<string, Resource>,
    ).map(
      (filter) =>
        (filter.Properties.MetricTransformations as { MetricName: string }[])[0]?.MetricName,
    );

    // Assess
    expect(plain.monitoring.refusedAuthorizationAlarm).toBeUndefined();
    expect(plain.monitoring.cimdRefusalAlarm).toBeUndefined();
    expect(plain.monitoring.refreshTokenReuseAlarm).toBeUndefined();
    expect(metrics).not.toContain(METRIC_NAMES.refreshTokenReuse);
    expect(metrics).not.toContain(METRIC_NAMES.refusedAuthorizations);
    expect(metrics).not.toContain(METRIC_NAMES.cimdRefusals);
    expect(dashboardWidgets(plain).map((w) => String(w.properties.title))).not.toContainEqual(
      expect.stringMatching(/OAuth proxy/),
    );
  });

  it.each([
    ['refusedAuthorizationThreshold', { refusedAuthorizationThreshold: 0 }],
    ['cimdRefusalThreshold', { cimdRefusalThreshold: 2.5 }],
  ])('refuses a %s that is not a whole number of at least 1', (name, props) => {
    // Assess
    expect(() => buildFixture(props, {}, { oauthProxy: true })).toThrow(
      new RegExp(`${name} must be a whole number`),
    );
  });

  it('graphs both metrics with their thresholds', () => {
    // Act
    const widget = widgetTitled(
      fixture,
      'OAuth proxy: refused authorization steps and CIMD client ids',
    );
    const metrics = JSON.stringify(widget.properties.metrics);

    // Assess
    expect(metrics).toContain(METRIC_NAMES.refusedAuthorizations);
    expect(metrics).toContain(METRIC_NAMES.cimdRefusals);
    expect(
      (widget.properties.annotations as { horizontal: { value: number }[] }).horizontal.map(
        (a) => a.value,
      ),
    ).toEqual([20, 5]);
  });

  it("tables the refused steps by step, client kind and reason from the proxy's log group", () => {
    // Act
    const widget = widgetTitled(
      fixture,
      'OAuth proxy: refused steps by step, client kind and reason',
    );
    const query = String(widget.properties.query);

    // Assess
    expect(widget.type).toBe('log');
    expect(query).toContain(`SOURCE '<${logicalId(fixture.oauthProxyLogGroup as logs.LogGroup)}>'`);
    for (const line of refusalsByReasonQuery()) expect(query).toContain(line);
    expect(refusalsByReasonQuery().join(' ')).toMatch(
      new RegExp(`by ${AUDIT_FIELDS.step}, ${AUDIT_FIELDS.clientKind}, ${AUDIT_FIELDS.reason}`),
    );
  });

  it('wires -c refusedAuthorizationThreshold and cimdRefusalThreshold through the stack', () => {
    // Act
    const { template } = synthStack({
      refusedAuthorizationThreshold: '7',
      cimdRefusalThreshold: '3',
    });

    // Assess
    template.hasResourceProperties(
      'AWS::CloudWatch::Alarm',
      burst(METRIC_NAMES.refusedAuthorizations, 300, 7),
    );
    template.hasResourceProperties(
      'AWS::CloudWatch::Alarm',
      burst(METRIC_NAMES.cimdRefusals, 300, 3),
    );
  });
});

describe('Monitoring of the OAuth proxy against the records its real handler writes', () => {
  const fixture = buildFixture({}, {}, { oauthProxy: true });
  const filters = Object.values(
    fixture.template.findResources('AWS::Logs::MetricFilter') as Record<string, Resource>,
  ).map(({ Properties }) => ({
    pattern: Properties.FilterPattern as string,
    transformation: (
      Properties.MetricTransformations as (MetricTransformation & {
        MetricName: string;
      })[]
    )[0] as MetricTransformation & { MetricName: string },
  }));
  const total = (metric: string, lines: readonly string[]) => {
    const found = filters.find((f) => f.transformation.MetricName === metric);
    if (found === undefined) throw new Error(`No metric filter publishes ${metric}`);
    return evaluateMetricFilter(found.pattern, found.transformation, lines).reduce(
      (sum, series) => sum + series.sum,
      0,
    );
  };

  const lines: string[] = [];
  const records = () =>
    lines.flatMap((line) => {
      const record = parseJsonEvent(line);
      return record?.[AUDIT_FIELDS.event] === AUDIT_EVENTS.oauthAuthorization ? [record] : [];
    });

  beforeAll(async () => {
    const issuer = 'https://mcp.example.com/prod';
    const sealer = new AesSealer();
    const preRegistered = 'preregistered-client';
    const handler = createOAuthProxyHandler({
      proxy: new OAuthProxy({
        config: {
          issuer,
          resource: `${issuer}/mcp`,
          upstream: {
            authorizeUrl: 'https://auth.example.com/oauth2/authorize',
            tokenUrl: 'https://auth.example.com/oauth2/token',
            clientId: 'upstream-client',
          },
          supportedScopes: ['mcp/tools'],
          defaultScopes: ['mcp/tools'],
          scopeDescriptions: {},
          consentRememberSeconds: 0,
          refreshTokenSeconds: 3600,
        },
        // The resolver as deployed: public https documents only, so these refusals are the
        // SSRF guard's own, before any connection.
        clients: new ClientDirectory({
          sealer,
          cimd: new CimdResolver(),
          preRegistered: {
            clientId: preRegistered,
            name: 'Operator app',
            redirectUris: ['http://localhost:8080/callback'],
          },
        }),
        sealer,
        codes: new MemoryCodeStore(),
        families: new MemoryRefreshFamilyStore(),
        fetch: async () => {
          throw new Error('No upstream call is expected');
        },
      }),
      logger: createLogger('mcp-oauth-proxy'),
    });
    const authorize = (overrides: Record<string, string>) =>
      handler({
        httpMethod: 'GET',
        resource: OAUTH_PATHS.authorize,
        path: `/prod${OAUTH_PATHS.authorize}`,
        headers: {},
        multiValueHeaders: {},
        queryStringParameters: {
          response_type: 'code',
          client_id: preRegistered,
          redirect_uri: 'http://localhost:51234/callback',
          code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
          code_challenge_method: 'S256',
          resource: `${issuer}/mcp`,
          state: 'client-state',
          ...overrides,
        },
        multiValueQueryStringParameters: null,
        body: null,
        isBase64Encoded: false,
        requestContext: { requestId: 'req', identity: { sourceIp: '198.51.100.7' } },
      } as unknown as Parameters<typeof handler>[0]);

    const logs = captureLogs();
    try {
      await authorize({}); // shown the consent page: not a refusal
      await authorize({ redirect_uri: 'https://attacker.example/callback' });
      await authorize({ code_challenge_method: 'plain' });
      await authorize({ resource: 'https://other.example.com/mcp' });
      // SSRF: a loopback address and the instance-metadata address as CIMD client ids
      await authorize({ client_id: 'https://127.0.0.1/client.json' });
      await authorize({ client_id: 'https://169.254.169.254/latest/client.json' });
    } finally {
      logs.restore();
    }
    lines.push(...logs.lines);
  });

  it('captured one oauth.authorization record per request, with the reasons the proxy gave', () => {
    // Act
    const reasons = records().map((r) => [r[AUDIT_FIELDS.outcome], r[AUDIT_FIELDS.reason]]);

    // Assess
    expect(reasons).toHaveLength(6);
    expect(reasons[0]).toEqual([AUTHORIZATION_OUTCOME.ok, 'consent_shown']);
    expect(reasons.slice(1).map(([outcome]) => outcome)).toEqual(
      Array(5).fill(AUTHORIZATION_OUTCOME.refused),
    );
    expect(reasons.slice(4).map(([, reason]) => reason)).toEqual([
      'cimd_blocked_address',
      'cimd_blocked_address',
    ]);
  });

  it('counts every refused step as a refused authorization, and the shown consent page not', () => {
    // Assess
    expect(total(METRIC_NAMES.refusedAuthorizations, lines)).toBe(5);
  });

  it('counts exactly the two SSRF refusals as CIMD refusals', () => {
    // Assess
    expect(total(METRIC_NAMES.cimdRefusals, lines)).toBe(2);
  });
});

describe('the log-pattern evaluator, on the examples of the AWS docs', () => {
  /** The JSON event of "Filter pattern syntax for metric filters". */
  const trail = JSON.stringify({
    eventType: 'UpdateTrail',
    sourceIPAddress: '111.111.111.111',
    arrayKey: ['value', 'another value'],
    objectList: [
      { name: 'a', id: 1 },
      { name: 'b', id: 2 },
    ],
    SomeObject: null,
    ThisFlag: true,
  });
  /** The JSON event of its compound-conditions section. */
  const users = JSON.stringify({
    user: { id: 1, email: 'John.Stiles@example.com' },
    users: [
      { id: 2, email: 'John.Doe@example.com' },
      { id: 3, email: 'Jane.Doe@example.com' },
    ],
    actions: ['GET', 'PUT', 'DELETE'],
    coordinates: [
      [0, 1, 2],
      [4, 5, 6],
      [7, 8, 9],
    ],
  });

  it.each([
    { pattern: '{ $.eventType = "UpdateTrail" }', event: trail, matches: true },
    { pattern: '{ $.sourceIPAddress != 123.123.* }', event: trail, matches: true },
    { pattern: '{ $.arrayKey[0] = "value" }', event: trail, matches: true },
    { pattern: '{ $.objectList[1].id = 2 }', event: trail, matches: true },
    { pattern: '{ $.SomeObject IS NULL }', event: trail, matches: true },
    { pattern: '{ $.SomeOtherObject NOT EXISTS }', event: trail, matches: true },
    { pattern: '{ $.ThisFlag IS TRUE }', event: trail, matches: true },
    { pattern: '{ $.eventType = "*Trail" }', event: trail, matches: true },
    { pattern: '{ $.eventType = "Delete*" }', event: trail, matches: false },
    { pattern: '{ $.arrayKey = "value" }', event: trail, matches: false },
    { pattern: '{ $.arrayKey != "value" }', event: trail, matches: false },
    {
      pattern: '{ ($.user.id = 1) && ($.users[0].email = "John.Doe@example.com") }',
      event: users,
      matches: true,
    },
    {
      pattern: '{ ($.user.id = 2 && $.users[0].email = "nonmatch") || $.actions[2] = "GET" }',
      event: users,
      matches: false,
    },
    {
      pattern:
        '{ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch && $.actions[2] = nomatch }',
      event: users,
      matches: true,
    },
    {
      pattern:
        '{ ($.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch) && $.actions[2] = nomatch }',
      event: users,
      matches: false,
    },
    { pattern: '{ $.user.id >= 1 && $.user.id < 10e3 }', event: users, matches: true },
    { pattern: '{ $.user.id > +1 }', event: users, matches: false },
    {
      pattern: '{ $.eventType = "UpdateTrail" }',
      event: 'UpdateTrail, but not JSON',
      matches: false,
    },
  ])('evaluates $pattern as the docs do', ({ pattern, event, matches }) => {
    // Act
    const result = compileFilterPattern(pattern).matches(event);

    // Assess
    expect(result).toBe(matches);
  });

  it.each([
    { pattern: 'ERROR', why: 'term patterns' },
    { pattern: '[ip, user, status_code = 4*]', why: 'space-delimited patterns' },
    { pattern: '{ $.eventType = "Up*Trail" }', why: 'a wildcard inside a string' },
    { pattern: '{ $.eventType EXISTS }', why: 'an undocumented operator' },
    { pattern: '{ $.objectList[0].id = "1" }', why: 'a number compared with a string' },
    { pattern: '{ $.missing != "x" }', why: "'!=' on an absent field" },
    { pattern: '{ $.eventType IS TRUE }', why: 'IS TRUE on a string' },
  ])('refuses $why rather than guess', ({ pattern }) => {
    // Act
    const evaluate = () => compileFilterPattern(pattern).matches(trail);

    // Assess
    expect(evaluate).toThrow(UnsupportedPatternError);
  });

  it('aggregates the documented Contributor Insights rule per key, over matching log groups only', () => {
    // Prepare: the JSON example of "Contributor Insights rule syntax".
    const exampleRule = parseInsightRule({
      Schema: { Name: 'CloudWatchLogRule', Version: 1 },
      LogGroupNames: ['API-Gateway-Access-Logs*', 'Log-group-name2'],
      LogFormat: 'JSON',
      Contribution: {
        Keys: ['$.ip'],
        ValueOf: '$.requestBytes',
        Filters: [{ Match: '$.httpMethod', In: ['PUT'] }],
      },
      AggregateOn: 'Sum',
    });
    const accessLog = [
      { ip: '198.51.100.1', requestBytes: 10, httpMethod: 'PUT' },
      { ip: '198.51.100.1', requestBytes: 5, httpMethod: 'PUT' },
      { ip: '198.51.100.2', requestBytes: 7, httpMethod: 'GET' },
      { ip: '198.51.100.2', requestBytes: 3, httpMethod: 'PUT' },
    ].map((event) => JSON.stringify(event));

    // Act
    const prefixed = evaluateInsightRule(exampleRule, 'API-Gateway-Access-Logs-prod', accessLog);
    const unrelated = evaluateInsightRule(exampleRule, 'Log-group-name', accessLog);

    // Assess
    expect(prefixed).toEqual([
      { keys: ['198.51.100.1'], value: 15 },
      { keys: ['198.51.100.2'], value: 3 },
    ]);
    expect(unrelated).toEqual([]);
  });

  it.each([
    { why: 'a CLF rule', error: UnsupportedPatternError, change: { LogFormat: 'CLF' } },
    {
      why: 'five keys',
      error: PatternSyntaxError,
      change: { Contribution: { Keys: ['$.a', '$.b', '$.c', '$.d', '$.e'] } },
    },
    {
      why: 'a wrong schema',
      error: PatternSyntaxError,
      change: { Schema: { Name: 'CloudWatchLogRule', Version: 2 } },
    },
    {
      why: 'a filter with two operators',
      error: PatternSyntaxError,
      change: {
        Contribution: { Keys: ['$.a'], Filters: [{ Match: '$.b', In: ['x'], NotIn: ['y'] }] },
      },
    },
  ])('refuses $why', ({ error, change }) => {
    // Prepare
    const body = {
      Schema: { Name: 'CloudWatchLogRule', Version: 1 },
      LogGroupNames: ['group'],
      LogFormat: 'JSON',
      Contribution: { Keys: ['$.a'] },
      AggregateOn: 'Count',
      ...change,
    };

    // Act
    const parse = () => parseInsightRule(body);

    // Assess
    expect(parse).toThrow(error);
  });
});

describe('Monitoring of the argument rules', () => {
  const fixture = buildFixture({ argumentRules: true });
  const mcpLogs = { Ref: logicalId(fixture.mcpLogGroup) };
  const alarmOn = (metric: string, period: number) => ({
    Threshold: 1,
    ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    Metrics: [
      Match.objectLike({
        MetricStat: {
          Metric: { Namespace: 'SecureMcp', MetricName: metric },
          Period: period,
          Stat: 'Sum',
        },
      }),
    ],
  });

  it('counts rule denials, would-be denials and rule errors from the MCP log, with the exported patterns', () => {
    for (const [metric, pattern] of [
      [METRIC_NAMES.ruleDeniedCalls, ruleDeniedPattern()],
      [METRIC_NAMES.ruleWouldDenyCalls, ruleWouldDenyPattern()],
      [METRIC_NAMES.ruleErrors, ruleErrorPattern()],
    ] as const) {
      fixture.template.hasResourceProperties('AWS::Logs::MetricFilter', {
        LogGroupName: mcpLogs,
        FilterPattern: pattern.logPatternString,
        MetricTransformations: [
          Match.objectLike({ MetricName: metric, MetricValue: '1', DefaultValue: 0 }),
        ],
      });
    }
  });

  it('alarms on the first would-be denial within the abuse window, and on any rule error within 5 minutes', () => {
    fixture.template.hasResourceProperties(
      'AWS::CloudWatch::Alarm',
      alarmOn(METRIC_NAMES.ruleWouldDenyCalls, 300),
    );
    fixture.template.hasResourceProperties(
      'AWS::CloudWatch::Alarm',
      alarmOn(METRIC_NAMES.ruleErrors, 300),
    );
    expect(fixture.monitoring.alarms).toContain(fixture.monitoring.ruleWouldDenyAlarm);
    expect(fixture.monitoring.alarms).toContain(fixture.monitoring.ruleErrorAlarm);
  });

  it('takes the would-deny threshold from its props', () => {
    const tuned = buildFixture({ argumentRules: true, ruleWouldDenyThreshold: 25 });
    tuned.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ...alarmOn(METRIC_NAMES.ruleWouldDenyCalls, 300),
      Threshold: 25,
    });
  });

  it('graphs the three on the dashboard', () => {
    const widget = widgetTitled(fixture, 'Argument rules (Cedar)');
    expect(JSON.stringify(widget.properties.metrics)).toContain(METRIC_NAMES.ruleWouldDenyCalls);
    expect(JSON.stringify(widget.properties.metrics)).toContain(METRIC_NAMES.ruleErrors);
  });

  it('creates none of them for a deployment without rules', () => {
    const plain = buildFixture();
    const metrics = Object.values(plain.template.findResources('AWS::Logs::MetricFilter')).map(
      (resource) =>
        (resource as { Properties: { MetricTransformations: { MetricName: string }[] } }).Properties
          .MetricTransformations[0]?.MetricName,
    );
    expect(metrics).not.toContain(METRIC_NAMES.ruleWouldDenyCalls);
    expect(plain.monitoring.ruleErrorAlarm).toBeUndefined();
    expect(dashboardWidgets(plain).map((w) => w.properties.title)).not.toContain(
      'Argument rules (Cedar)',
    );
  });

  it('counts exactly the records the real MCP handler writes for each outcome', async () => {
    // Prepare: the example module's own rules, in each mode, and with Cedar missing.
    const analyst: Principal = {
      principalId: 'bob',
      authMethod: 'cognito',
      groups: ['analyst'],
      scopes: [],
      keyId: '',
    };
    const store = { query: async () => ({ records: [] }) } as unknown as RecordStore;
    const handlerFor = (mode: 'enforce' | 'log-only', broken = false) =>
      createMcpHandler({
        config: { allowedOrigins: [], maxBodyBytes: 1024 * 1024 },
        policy: POLICY,
        modules: [{ module: customerRecords, deps: { store } }],
        logger: createLogger('mcp-server'),
        rules: {
          mode,
          ...(broken ? { loadCedar: async () => Promise.reject(new Error('no cedar')) } : {}),
        },
      });
    const query = (limit: number) => ({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'query_customer_data', arguments: { limit } },
    });
    const send = async (handler: McpHandler, body: unknown) => {
      const response = await handlerFetch(handler, () => analyst)('https://x/mcp', {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          Accept: 'application/json, text/event-stream',
          'MCP-Protocol-Version': '2025-11-25',
        },
        body: JSON.stringify(body),
      });
      await response.text();
    };
    const logs = captureLogs();
    try {
      // Act
      const enforce = handlerFor('enforce');
      await send(enforce, query(30)); // denied by analyst-page-limit
      await send(enforce, query(30));
      await send(enforce, query(5)); // allowed
      await send(handlerFor('log-only'), query(30)); // would be denied, runs
      await send(handlerFor('enforce', true), query(5)); // Cedar missing: refused
    } finally {
      logs.restore();
    }
    const count = (pattern: logs.JsonPattern) => {
      const matcher = compileFilterPattern(pattern.logPatternString);
      return logs.lines.filter((line) => matcher.matches(line)).length;
    };

    // Assess
    expect(count(ruleDeniedPattern())).toBe(2);
    expect(count(ruleWouldDenyPattern())).toBe(1);
    expect(count(ruleErrorPattern())).toBe(1);
    expect(count(deniedCallPattern())).toBe(2);
  });
});
