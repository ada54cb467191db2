/**
 * The smallest stack the Monitoring construct can watch, and readers of what it synthesizes:
 * shared by the construct's unit tests and the suites that run its patterns against real records.
 */
import { App, type CfnElement, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { IConstruct } from 'constructs';
import { expect } from 'vitest';
import { Monitoring, type MonitoringProps } from '../../lib/monitoring';
import { POLICY } from '../../modules/policy';
import { render } from './template-helpers';

/** The tools of the policy table, as the stack hands them to Monitoring. */
export const TOOL_NAMES = POLICY.items.tool.map((tool) => tool.name);

export interface MonitoringFixture {
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
  /** The stage's access log group, when the fixture was built with one. */
  readonly accessLogGroup?: logs.LogGroup;
}

/** Monitoring over stand-in functions, log groups and an API, with `props` over the minimum. */
export function buildFixture(
  props: Partial<MonitoringProps> = {},
  apiProps: apigateway.RestApiProps = {},
  options: { oauthProxy?: boolean; accessLog?: boolean } = {},
): MonitoringFixture {
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
  const accessLogGroup =
    options.accessLog === true
      ? new logs.LogGroup(stack, 'AccessLogs', { retention: logs.RetentionDays.ONE_MONTH })
      : undefined;
  const monitoring = new Monitoring(stack, 'Monitoring', {
    mcpFunction,
    mcpLogGroup,
    authorizerFunction,
    authorizerLogGroup,
    api,
    toolNames: TOOL_NAMES,
    ...(oauthProxyLogGroup === undefined ? {} : { oauthProxyLogGroup }),
    ...(accessLogGroup === undefined ? {} : { accessLogGroup }),
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
    ...(accessLogGroup === undefined ? {} : { accessLogGroup }),
  };
}

/** The logical id the stack gave a construct's CloudFormation resource. */
export function logicalId(construct: IConstruct): string {
  const resource = construct.node.defaultChild ?? construct;
  return Stack.of(construct).getLogicalId(resource as CfnElement);
}

export type Resource = { Properties: Record<string, unknown> };

/** The one resource of `type`; fails unless there is exactly one. */
export function onlyResource(template: Template, type: string): Resource {
  const resources = Object.values(template.findResources(type)) as Resource[];
  expect(resources).toHaveLength(1);
  return resources[0] as Resource;
}

/** The widgets of the fixture's one dashboard, its body parsed. */
export function dashboardWidgets(
  fixture: Pick<MonitoringFixture, 'template'>,
): { type: string; properties: Record<string, unknown> }[] {
  const dashboard = onlyResource(fixture.template, 'AWS::CloudWatch::Dashboard');
  return JSON.parse(render(dashboard.Properties.DashboardBody)).widgets;
}

/** The dashboard widget titled `title`; throws if there is none. */
export function widgetTitled(fixture: Pick<MonitoringFixture, 'template'>, title: string) {
  const widget = dashboardWidgets(fixture).find((w) => w.properties.title === title);
  if (widget === undefined) throw new Error(`No widget titled ${title}`);
  return widget;
}

export interface AlarmProperties {
  readonly Threshold: number;
  readonly ComparisonOperator: string;
  readonly Metrics: readonly { readonly Expression?: unknown }[];
}

/** The one alarm on a metric-math expression: the abuse alarm on the Contributor Insights rule. */
export function abuseAlarm(template: Template): AlarmProperties {
  const alarms = Object.values(
    template.findResources('AWS::CloudWatch::Alarm', {
      Properties: { Metrics: [Match.objectLike({ Expression: Match.anyValue() })] },
    }),
  ) as { Properties: AlarmProperties }[];
  expect(alarms).toHaveLength(1);
  return (alarms[0] as { Properties: AlarmProperties }).Properties;
}

/** Whether a datapoint puts the alarm into ALARM, by CloudWatch's comparison operators. */
export function breaches(value: number, alarm: AlarmProperties): boolean {
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
