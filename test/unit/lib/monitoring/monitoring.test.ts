/**
 * The Monitoring construct: its template (metric filters, the Contributor Insights rule, alarms,
 * the alarm topic, the dashboard), its props' validation and cdk-nag's verdict on it. What its
 * patterns count in the records the real handlers write: test/integration/e2e/monitoring-records.test.ts.
 */
import { Duration } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { CIMD_REFUSALS } from '../../../../lambda/oauth-proxy/cimd';
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
} from '../../../../lambda/shared/audit';
import { ACCESS_LOG_FORMAT } from '../../../../lib/mcp-api';
import { METRIC_NAMES, MonitoringPropsError, TOOL_DIMENSION } from '../../../../lib/monitoring';
import {
  maxContributorExpression,
  topCallersRuleBody,
} from '../../../../lib/monitoring/contributor-insights';
import { refusalsByReasonQuery } from '../../../../lib/monitoring/dashboard';
import {
  authFailurePattern,
  CIMD_REASON_PREFIX,
  cimdRefusalPattern,
  deniedCallPattern,
  earlyDeniedCallPattern,
  missingCredentialPattern,
  refreshTokenReusePattern,
  refusedApprovalPattern,
  refusedAuthorizationPattern,
  ruleDeniedPattern,
  ruleErrorPattern,
  ruleWouldDenyPattern,
  toolCallPattern,
  toolErrorPattern,
} from '../../../../lib/monitoring/patterns';
import { compileFilterPattern } from '../../../support/log-patterns';
import {
  abuseAlarm,
  buildFixture,
  dashboardWidgets,
  logicalId,
  onlyResource,
  type Resource,
  TOOL_NAMES,
  widgetTitled,
} from '../../../support/monitoring-fixture';
import { synthStack } from '../../../support/stack-fixture';
import { render } from '../../../support/template-helpers';

const sel = (field: string) => `$.${field}`;

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
    expect(fixture.monitoring.alarm('RefusedRegistrationAlarm')).toBeUndefined();
    expect(withMetric.monitoring.alarms).toContain(
      withMetric.monitoring.alarm('RefusedRegistrationAlarm'),
    );
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
        fixture.monitoring.alarm('RefusedAuthorizationAlarm'),
        fixture.monitoring.alarm('CimdRefusalAlarm'),
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
    expect(fixture.monitoring.alarms).toContain(fixture.monitoring.alarm('RefusedApprovalAlarm'));
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
    expect(fixture.monitoring.alarms).toContain(fixture.monitoring.alarm('RefreshTokenReuseAlarm'));
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
    expect(plain.monitoring.alarm('RefusedAuthorizationAlarm')).toBeUndefined();
    expect(plain.monitoring.alarm('CimdRefusalAlarm')).toBeUndefined();
    expect(plain.monitoring.alarm('RefreshTokenReuseAlarm')).toBeUndefined();
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

// ---------------------------------------------------------------------------------------------
// The argument rules
// ---------------------------------------------------------------------------------------------

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
    expect(fixture.monitoring.alarms).toContain(fixture.monitoring.alarm('RuleWouldDenyAlarm'));
    expect(fixture.monitoring.alarms).toContain(fixture.monitoring.alarm('RuleErrorAlarm'));
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
    expect(plain.monitoring.alarm('RuleErrorAlarm')).toBeUndefined();
    expect(dashboardWidgets(plain).map((w) => w.properties.title)).not.toContain(
      'Argument rules (Cedar)',
    );
  });
});
