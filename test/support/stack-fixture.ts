/**
 * Builds the real stack for template tests, without bundling (one dedicated test bundles), and
 * the McpApi construct alone for checks of its own props. The stack serves the fixture
 * deployment (`fixture-deployment.ts`) unless a test asks for another, or for this project's
 * own (`modules: 'deployment'`: only tests about the deployment itself).
 */
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { loadConfig, type McpStackConfig } from '../../lib/config';
import { McpApi, type McpApiProps } from '../../lib/mcp-api';
import { SecureMcpStack, type SecureMcpStackProps } from '../../lib/secure-mcp-stack';
import { FIXTURE_STACK_MODULES } from './fixture-infra';

export function synthStack(
  overrides: Record<string, unknown> = {},
  options: {
    bundle?: boolean;
    /** The modules, roles and quotas. @default the fixture deployment's */
    modules?: SecureMcpStackProps['modules'] | 'deployment';
  } = {},
) {
  const modules = options.modules ?? FIXTURE_STACK_MODULES;
  const app = new App({
    context: options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] },
  });
  const config: McpStackConfig = loadConfig((key) => overrides[key]);
  const stack = new SecureMcpStack(app, 'TestStack', {
    config,
    env: { account: '123456789012', region: 'eu-west-1' },
    // The stack's own default is this project's deployment (`modules/`).
    ...(modules === 'deployment' ? {} : { modules }),
  });
  return { app, stack, config, template: Template.fromStack(stack) };
}

/**
 * An McpApi in a stack of its own, with stand-in functions and the cache off, whatever the
 * config would allow: for what the construct itself checks and builds.
 */
export function mcpApiStack(props: Partial<McpApiProps> = {}): Stack {
  const stack = new Stack(new App(), 'McpApiStack');
  const fn = (id: string) =>
    new lambda.Function(stack, id, {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => ({})'),
    });
  new McpApi(stack, 'Api', {
    mcpFunction: fn('Mcp'),
    authorizerFunction: fn('Authorizer'),
    stageName: 'prod',
    authorizerCacheTtl: Duration.seconds(0),
    mcpTimeout: Duration.seconds(30),
    throttleRateLimit: 1,
    throttleBurstLimit: 1,
    allowedOrigins: [],
    requiredScope: 'rs/tools',
    logRetention: logs.RetentionDays.ONE_YEAR,
    ...props,
  });
  return stack;
}
