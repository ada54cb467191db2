/**
 * `-c earlyDeny=true`: accepted only with the authorizer cache off, and then the authorizer gets
 * the policy document while API Gateway keeps `Authorization` as its only identity source.
 */
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { describe, expect, it } from 'vitest';
import { earlyDenyPolicyOf, parseEarlyDenyPolicy } from '../../lambda/authorizer/early-deny';
import { buildPolicyTable } from '../../lambda/shared/policy';
import { ConfigError, loadConfig } from '../../lib/config';
import { McpApi } from '../../lib/mcp-api';
import { earlyDenyEnvironment, MAX_EARLY_DENY_POLICY_BYTES } from '../../lib/secure-mcp-stack';
import { POLICY } from '../../modules/policy';
import { synthStack } from './stack-fixture';
import { resourcesOf } from './template-helpers';

function variablesOf(
  template: ReturnType<typeof synthStack>['template'],
  service: string,
): Record<string, unknown> {
  const fn = Object.values(resourcesOf(template, 'AWS::Lambda::Function')).find(
    (candidate) =>
      (candidate.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)
        ?.Variables?.POWERTOOLS_SERVICE_NAME === service,
  );
  if (fn === undefined) throw new Error(`No function for ${service}`);
  return (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
}

describe('-c earlyDeny', () => {
  it('is refused with the authorizer cache on, saying why and what to set', () => {
    // Act
    const load = () => loadConfig((key) => ({ earlyDeny: 'true' })[key]);

    // Assess: the default TTL is 60 s
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(/-c earlyDeny=.*authorizerCacheTtlSeconds=0.*reuse one request's Deny/s);
  });

  it('is accepted with the cache off', () => {
    const config = loadConfig(
      (key) => ({ earlyDeny: 'true', authorizerCacheTtlSeconds: '0' })[key],
    );
    expect(config.earlyDeny).toBe(true);
  });

  it('gives the authorizer the policy document and keeps Authorization the only identity source, uncached', () => {
    // Act
    const { template } = synthStack({ earlyDeny: true, authorizerCacheTtlSeconds: 0 });

    // Assess
    template.hasResourceProperties('AWS::ApiGateway::Authorizer', {
      AuthorizerResultTtlInSeconds: 0,
      IdentitySource: 'method.request.header.Authorization',
    });
    const document = variablesOf(template, 'mcp-authorizer').EARLY_DENY_POLICY;
    expect(parseEarlyDenyPolicy(String(document))).toEqual(earlyDenyPolicyOf(POLICY));
  });

  it('is off by default: the authorizer has no policy document', () => {
    const { template } = synthStack();
    expect(variablesOf(template, 'mcp-authorizer').EARLY_DENY_POLICY).toBeUndefined();
  });

  it('is refused by the McpApi construct with a cache TTL, whatever the config said', () => {
    // Prepare
    const stack = new Stack(new App(), 'EarlyDenyApi');
    const fn = (id: string) =>
      new lambda.Function(stack, id, {
        runtime: lambda.Runtime.NODEJS_22_X,
        handler: 'index.handler',
        code: lambda.Code.fromInline('exports.handler = async () => ({})'),
      });

    // Act
    const build = () =>
      new McpApi(stack, 'Api', {
        mcpFunction: fn('Mcp'),
        authorizerFunction: fn('Authorizer'),
        stageName: 'prod',
        authorizerCacheTtl: Duration.seconds(30),
        earlyDeny: true,
        mcpTimeout: Duration.seconds(30),
        throttleRateLimit: 1,
        throttleBurstLimit: 1,
        allowedOrigins: [],
        requiredScope: 'rs/tools',
        logRetention: logs.RetentionDays.ONE_WEEK,
      });

    // Assess
    expect(build).toThrow(/McpApi: earlyDeny needs the authorizer cache off/);
  });

  it('refuses a policy too large for the authorizer environment, rather than truncating it', () => {
    // Prepare: enough tools to pass the limit
    const tools = Array.from({ length: 200 }, (_, i) => ({
      name: `tool_number_${i}`,
      permission: 'use',
    }));
    const big = buildPolicyTable({
      roles: { user: ['use'] },
      modules: [{ name: 'big', permissions: { use: 'Use' }, tools }],
    });

    // Assess
    expect(JSON.stringify(earlyDenyPolicyOf(big)).length).toBeGreaterThan(
      MAX_EARLY_DENY_POLICY_BYTES,
    );
    expect(() => earlyDenyEnvironment(big)).toThrow(/leave early deny off/);
    expect(earlyDenyEnvironment(POLICY).length).toBeLessThan(MAX_EARLY_DENY_POLICY_BYTES);
  });
});
