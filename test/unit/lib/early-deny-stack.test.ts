/**
 * `-c earlyDeny=true`: accepted only with the authorizer cache off and gateway step-up off
 * (both would answer through ACCESS_DENIED), and then the authorizer gets the policy document
 * while API Gateway keeps `Authorization` as its only identity source. Gateway step-up (the
 * default) gives the authorizer the same document.
 */
import { Duration } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { earlyDenyPolicyOf, parseEarlyDenyPolicy } from '../../../lambda/authorizer/early-deny';
import { moduleKit } from '../../../lambda/mcp/module-kit';
import { buildPolicyTable } from '../../../lambda/shared/policy';
import { ConfigError, loadConfig } from '../../../lib/config';
import { earlyDenyEnvironment, MAX_EARLY_DENY_POLICY_BYTES } from '../../../lib/secure-mcp-stack';
import { FIXTURE_POLICY } from '../../support/fixture-deployment';
import { mcpApiStack, synthStack } from '../../support/stack-fixture';
import { resourcesOf } from '../../support/template-helpers';

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
  it('needs gateway step-up off (it is on by default), saying what to set', () => {
    // Act
    const load = () => loadConfig((key) => ({ earlyDeny: 'true' })[key]);

    // Assess
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(/-c gatewayStepUp=.*cannot run with earlyDeny.*gatewayStepUp=false/s);
  });

  it('is refused with the authorizer cache on, saying why and what to set', () => {
    // Act
    const load = () =>
      loadConfig(
        (key) =>
          ({ earlyDeny: 'true', gatewayStepUp: 'false', authorizerCacheTtlSeconds: '60' })[key],
      );

    // Assess
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(/-c earlyDeny=.*authorizerCacheTtlSeconds=0.*reuse one request's Deny/s);
  });

  it('is accepted with gateway step-up off and the cache off (the default)', () => {
    const config = loadConfig((key) => ({ earlyDeny: 'true', gatewayStepUp: 'false' })[key]);
    expect(config).toMatchObject({
      earlyDeny: true,
      gatewayStepUp: false,
      authorizerCacheTtlSeconds: 0,
    });
  });

  it('gives the authorizer the policy document, no gateway step-up, and keeps Authorization the only identity source, uncached', () => {
    // Act
    const { template } = synthStack({ earlyDeny: 'true', gatewayStepUp: 'false' });

    // Assess
    template.hasResourceProperties('AWS::ApiGateway::Authorizer', {
      AuthorizerResultTtlInSeconds: 0,
      IdentitySource: 'method.request.header.Authorization',
    });
    const variables = variablesOf(template, 'mcp-authorizer');
    expect(parseEarlyDenyPolicy(String(variables.EARLY_DENY_POLICY))).toEqual(
      earlyDenyPolicyOf(FIXTURE_POLICY),
    );
    expect(variables.GATEWAY_STEP_UP).toBeUndefined();
  });

  it('is off by default: the authorizer gets the policy document for gateway step-up only', () => {
    // Act
    const variables = variablesOf(synthStack().template, 'mcp-authorizer');

    // Assess: index.ts reads the document as step-up's when GATEWAY_STEP_UP is true
    expect(variables.GATEWAY_STEP_UP).toBe('true');
    expect(parseEarlyDenyPolicy(String(variables.EARLY_DENY_POLICY))).toEqual(
      earlyDenyPolicyOf(FIXTURE_POLICY),
    );
  });

  it('gives the authorizer no policy document with both early deny and gateway step-up off', () => {
    // Act
    const variables = variablesOf(
      synthStack({ gatewayStepUp: 'false' }).template,
      'mcp-authorizer',
    );

    // Assess
    expect(variables.EARLY_DENY_POLICY).toBeUndefined();
    expect(variables.GATEWAY_STEP_UP).toBeUndefined();
  });

  it('is refused by the McpApi construct with a cache TTL, whatever the config said', () => {
    expect(() =>
      mcpApiStack({ authorizerCacheTtl: Duration.seconds(30), earlyDeny: true }),
    ).toThrow(/McpApi: earlyDeny needs the authorizer cache off/);
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
    expect(earlyDenyEnvironment(FIXTURE_POLICY).length).toBeLessThan(MAX_EARLY_DENY_POLICY_BYTES);
  });
});

describe('a policy too large for the authorizer environment', () => {
  const define = moduleKit<Record<string, never>>();
  const big = define.module({
    name: 'big',
    permissions: { use: 'Use' },
    tools: Array.from({ length: 200 }, (_, i) =>
      define.tool({
        name: `tool_number_${i}`,
        title: `Tool ${i}`,
        description: 'A tool of a policy too large for the environment.',
        permission: 'use',
        input: z.object({}),
        output: z.object({ done: z.boolean() }),
        run: async () => ({ done: true }),
        summarize: () => 'Done.',
      }),
    ),
    dependencies: () => ({}),
  });
  const modules = { list: [big], infra: { big: null }, roles: { user: ['use'] } };

  it('stops the default deployment with a message naming gateway step-up, the setting that needs it', () => {
    // Act
    const synth = () => synthStack({}, { modules });

    // Assess: early deny is off; telling the operator to leave it off would change nothing
    expect(synth).toThrow(/-c gatewayStepUp=true: the policy takes \d+ bytes.*gatewayStepUp=false/);
  });

  it('synthesizes with gateway step-up off: nothing then needs the document', () => {
    // Act
    const { template } = synthStack({ gatewayStepUp: 'false' }, { modules });

    // Assess
    expect(variablesOf(template, 'mcp-authorizer').EARLY_DENY_POLICY).toBeUndefined();
  });
});
