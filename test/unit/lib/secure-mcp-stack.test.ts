/**
 * The SecureMcpStack composition: the outputs a team needs after `cdk deploy`, config reaching
 * the constructs (abuse alarm, alarm e-mail), no secret in plain text, and no unauthenticated
 * route but the OAuth discovery documents, client registration and the CORS preflight.
 */
import type { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { REQUEST_STATE_LEDGER_ATTRIBUTES } from '../../../lambda/mcp/request-state-aws';
import { authorizerEnvSchema } from '../../../lambda/shared/env';
import { APPROVAL_PATHS, OAUTH_PATHS } from '../../../lambda/shared/routes';
import { RulesValidationError } from '../../../lib/rules-validation';
import { fixtureModule } from '../../support/fixture-deployment';
import { FIXTURE_STACK_MODULES } from '../../support/fixture-infra';
import { synthStack } from '../../support/stack-fixture';
import {
  actionsOf,
  functionOf,
  type Properties,
  type Resource,
  render,
  resourcesOf,
  roleStatements,
} from '../../support/template-helpers';

/** The CloudFormation type of the resource a `<Id>` or `<Id.Attr>` placeholder names. */
function typeOf(template: Template, placeholder: string): string | undefined {
  const id = /^<([^.>]+)/.exec(placeholder)?.[1];
  return id === undefined ? undefined : template.toJSON().Resources[id]?.Type;
}

/** The abuse alarm: the one alarm on the top contributor of a Contributor Insights rule. */
function abuseAlarm(template: Template): Properties {
  const onInsightRule = (alarm: Resource) => {
    const [metric] = (alarm.Properties.Metrics ?? []) as { Expression?: unknown }[];
    if (metric?.Expression === undefined) return false;
    const rule = /^INSIGHT_RULE_METRIC\('(<[^>]+>)', 'MaxContributorValue'\)$/.exec(
      render(metric.Expression),
    )?.[1];
    return rule !== undefined && typeOf(template, rule) === 'AWS::CloudWatch::InsightRule';
  };
  const alarms = Object.values(resourcesOf(template, 'AWS::CloudWatch::Alarm')).filter(
    onInsightRule,
  );
  expect(alarms).toHaveLength(1);
  return (alarms[0] as Resource).Properties;
}

/** The path parts of the OAuth proxy's routes (registration has its own construct). */
const PROXY_PATH_PARTS = [
  OAUTH_PATHS.authorize,
  OAUTH_PATHS.callback,
  OAUTH_PATHS.token,
  APPROVAL_PATHS.page,
  APPROVAL_PATHS.callback,
].map((p) => p.slice(1));
const PRIVATE_KEY = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;
const API_KEY = /mcpk_/;

describe('SecureMcpStack', () => {
  const { template } = synthStack();
  const outputs = template.findOutputs('*');
  const output = (name: string) => render(outputs[name]?.Value);

  describe('outputs', () => {
    it('gives the MCP endpoint: the API URL of the prod stage ending in /prod/mcp', () => {
      // Act
      const endpoint = output('McpEndpoint');

      // Assess
      expect(endpoint).toMatch(/^https:\/\/<[^>]+>\.execute-api\.[^/]+\/prod\/mcp$/);
      expect(typeOf(template, endpoint.slice('https://'.length))).toBe('AWS::ApiGateway::RestApi');
    });

    it.each([
      { name: 'UserPoolId', type: 'AWS::Cognito::UserPool' },
      { name: 'AppClientId', type: 'AWS::Cognito::UserPoolClient' },
      { name: 'ApiKeysSecretArn', type: 'AWS::SecretsManager::Secret' },
      { name: 'AlarmTopicArn', type: 'AWS::SNS::Topic' },
    ])('gives $name, a reference to the $type', ({ name, type }) => {
      // Act
      const value = output(name);

      // Assess
      expect(value).toMatch(/^<[^.>]+>$/);
      expect(typeOf(template, value)).toBe(type);
    });

    it('gives the hosted login domain as an https Cognito URL', () => {
      // Act
      const domain = output('HostedLoginDomain');

      // Assess
      expect(domain).toMatch(/^https:\/\/<[^>]+>\.auth\.[a-z0-9-]+\.amazoncognito\.com$/);
      expect(typeOf(template, domain.slice('https://'.length))).toBe(
        'AWS::Cognito::UserPoolDomain',
      );
    });

    it('gives the required scope: the resource server identifier and /tools', () => {
      // Act
      const scope = output('RequiredScope');

      // Assess
      expect(scope).toMatch(/^<[^>]+>\/tools$/);
      expect(typeOf(template, scope)).toBe('AWS::Cognito::UserPoolResourceServer');
    });

    it('gives the dashboard URL in the CloudWatch console', () => {
      // Act
      const url = output('DashboardUrl');

      // Assess
      const match =
        /^https:\/\/console\.aws\.amazon\.com\/cloudwatch\/home\?region=[a-z0-9-]+#dashboards:name=(<[^>]+>)$/.exec(
          url,
        );
      expect(match).not.toBeNull();
      expect(typeOf(template, match?.[1] ?? '')).toBe('AWS::CloudWatch::Dashboard');
    });
  });

  describe('monitoring config', () => {
    it('alarms on more than 100 calls by one caller to one tool in 5 minutes by default', () => {
      // Act
      const alarm = abuseAlarm(template);

      // Assess
      expect(alarm).toMatchObject({
        Threshold: 100,
        ComparisonOperator: 'GreaterThanThreshold',
        Metrics: [expect.objectContaining({ Period: 300 })],
      });
    });

    it('takes the threshold from -c abuseThreshold=250 and the window from -c abuseWindowMinutes=10', () => {
      // Act
      const alarm = abuseAlarm(
        synthStack({ abuseThreshold: '250', abuseWindowMinutes: '10' }).template,
      );

      // Assess
      expect(alarm).toMatchObject({
        Threshold: 250,
        Metrics: [expect.objectContaining({ Period: 600 })],
      });
      expect(String(alarm.AlarmDescription)).toContain('250');
    });

    it('subscribes no e-mail address to the alarm topic by default', () => {
      // Assess
      expect(resourcesOf(template, 'AWS::SNS::Topic')).not.toEqual({});
      expect(resourcesOf(template, 'AWS::SNS::Subscription')).toEqual({});
    });

    it('subscribes -c alarmEmail to the alarm topic', () => {
      // Act
      const { template: withEmail } = synthStack({ alarmEmail: 'ops@example.com' });
      const topic = withEmail.findOutputs('AlarmTopicArn').AlarmTopicArn?.Value;

      // Assess
      withEmail.hasResourceProperties('AWS::SNS::Subscription', {
        Protocol: 'email',
        Endpoint: 'ops@example.com',
        TopicArn: topic,
      });
    });
  });

  describe('the authorizer environment', () => {
    /** The authorizer function's variables in `t`. */
    const authorizerVariables = (t: Template): Properties => {
      const fn = Object.values(resourcesOf(t, 'AWS::Lambda::Function')).find(
        (candidate) =>
          (candidate.Properties.Environment as { Variables?: Properties } | undefined)?.Variables
            ?.POWERTOOLS_SERVICE_NAME === 'mcp-authorizer',
      );
      if (fn === undefined) throw new Error('No authorizer function');
      return (fn.Properties.Environment as { Variables: Properties }).Variables;
    };
    const authorizerTtl = (t: Template) =>
      Object.values(resourcesOf(t, 'AWS::ApiGateway::Authorizer'))[0]?.Properties
        .AuthorizerResultTtlInSeconds;

    it("tells the authorizer API Gateway's cache TTL, 0 by default, and turns gateway step-up on", () => {
      // Act
      const variables = authorizerVariables(template);

      // Assess
      expect(variables).toMatchObject({
        AUTHORIZER_CACHE_TTL_SECONDS: '0',
        GATEWAY_STEP_UP: 'true',
      });
      expect(authorizerTtl(template)).toBe(0);
    });

    it('tells it the TTL API Gateway caches for with -c authorizerCacheTtlSeconds=120, and no step-up', () => {
      // Act
      const { template: cached } = synthStack({
        authorizerCacheTtlSeconds: '120',
        gatewayStepUp: 'false',
      });
      const variables = authorizerVariables(cached);

      // Assess: the same number in both places, so no cached Allow outlives its credential
      expect(variables.AUTHORIZER_CACHE_TTL_SECONDS).toBe('120');
      expect(authorizerTtl(cached)).toBe(120);
      expect(variables.GATEWAY_STEP_UP).toBeUndefined();
    });

    it('writes values the authorizer parses back at cold start as the same TTL and switch', () => {
      // Prepare
      const { template: cached } = synthStack({
        authorizerCacheTtlSeconds: '120',
        gatewayStepUp: 'false',
      });
      const { AUTHORIZER_CACHE_TTL_SECONDS: ttl, GATEWAY_STEP_UP: stepUp } =
        authorizerEnvSchema.shape;

      // Act
      const defaults = authorizerVariables(template);
      const tuned = authorizerVariables(cached);

      // Assess
      expect(ttl.parse(defaults.AUTHORIZER_CACHE_TTL_SECONDS)).toBe(0);
      expect(stepUp.parse(defaults.GATEWAY_STEP_UP)).toBe('true');
      expect(ttl.parse(tuned.AUTHORIZER_CACHE_TTL_SECONDS)).toBe(120);
      expect(stepUp.parse(tuned.GATEWAY_STEP_UP)).toBe('false');
    });

    it("names the authorizer's audience scope first in REQUIRED_SCOPES, the scope step-up's scopes are built on", () => {
      // Act
      const variables = authorizerVariables(template);

      // Assess: index.ts takes the first as the audience scope
      expect(render(variables.REQUIRED_SCOPES).split(',')[0]).toBe(output('RequiredScope'));
    });
  });

  describe('argument rules', () => {
    const variablesOf = (t: Template, service: string): Properties => {
      const fn = Object.values(resourcesOf(t, 'AWS::Lambda::Function')).find(
        (candidate) =>
          (candidate.Properties.Environment as { Variables?: Properties } | undefined)?.Variables
            ?.POWERTOOLS_SERVICE_NAME === service,
      );
      if (fn === undefined) throw new Error(`No function ${service}`);
      return (fn.Properties.Environment as { Variables: Properties }).Variables;
    };

    it('enforces the rules by default, and hands no claims on', () => {
      expect(variablesOf(template, 'mcp-server').RULE_MODE).toBe('enforce');
      expect(variablesOf(template, 'mcp-authorizer').RULE_CLAIMS).toBeUndefined();
    });

    it('takes -c ruleMode=log-only and -c ruleClaims to the MCP function and the authorizer', () => {
      // Act
      const { template: tried } = synthStack({
        ruleMode: 'log-only',
        ruleClaims: 'custom:department,email',
      });

      // Assess
      expect(variablesOf(tried, 'mcp-server').RULE_MODE).toBe('log-only');
      expect(
        authorizerEnvSchema.shape.RULE_CLAIMS.parse(
          variablesOf(tried, 'mcp-authorizer').RULE_CLAIMS,
        ),
      ).toEqual(['custom:department', 'email']);
    });

    it('refuses to synthesize rules that do not validate, saying which and why', () => {
      // Prepare
      const rules =
        '@id("typo") forbid (principal, action == Mcp::Action::"tool:get_record", resource) when { context.input.idd == "x" };';
      const modules = { ...FIXTURE_STACK_MODULES, list: [{ ...fixtureModule, rules }] };

      // Act and Assess
      expect(() => synthStack({}, { modules })).toThrow(RulesValidationError);
      expect(() => synthStack({}, { modules })).toThrow(
        /rule "typo".*attribute `input.idd` .* not found \(did you mean `id`\?\)/,
      );
    });
  });

  describe('multi-round request state', () => {
    const mcp = functionOf(template, 'mcp-server');
    const keyId = render(mcp.variables.REQUEST_STATE_KEY_ID);
    const tableRef = render(mcp.variables.REQUEST_STATE_TABLE_NAME);

    it('seals with keys derived from an HMAC KMS key the MCP function is told of', () => {
      // Act
      const key = template.toJSON().Resources[keyId.slice(1, -'.Arn>'.length)];

      // Assess
      expect(keyId).toMatch(/^<\w+\.Arn>$/);
      expect(key?.Type).toBe('AWS::KMS::Key');
      expect(key?.Properties).toMatchObject({
        KeySpec: 'HMAC_256',
        KeyUsage: 'GENERATE_VERIFY_MAC',
      });
    });

    it('spends states in a table keyed by nonce, whose items DynamoDB deletes by TTL', () => {
      // Act
      const table = template.toJSON().Resources[tableRef.slice(1, -1)];

      // Assess
      expect(table?.Type).toBe('AWS::DynamoDB::GlobalTable');
      expect(table?.Properties).toMatchObject({
        KeySchema: [
          { AttributeName: REQUEST_STATE_LEDGER_ATTRIBUTES.partitionKey, KeyType: 'HASH' },
        ],
        TimeToLiveSpecification: {
          AttributeName: REQUEST_STATE_LEDGER_ATTRIBUTES.ttl,
          Enabled: true,
        },
      });
    });

    it('lets the MCP function only GenerateMac with the key and only PutItem into the table', () => {
      // Act
      const statements = roleStatements(template, mcp.role);
      const naming = (ref: string) =>
        statements.filter((statement) => JSON.stringify(statement).includes(`"${ref}"`));

      // Assess
      const keyLogicalId = keyId.slice(1, -'.Arn>'.length);
      const tableLogicalId = tableRef.slice(1, -1);
      expect(naming(keyLogicalId).flatMap(actionsOf)).toEqual(['kms:GenerateMac']);
      expect(naming(tableLogicalId).flatMap(actionsOf)).toEqual(['dynamodb:PutItem']);
    });
  });

  describe('no secret in plain text', () => {
    it.each([
      { variant: 'the default stack', overrides: {} },
      {
        variant: 'a stack with CORS and an alarm e-mail',
        overrides: { allowedOrigins: 'https://app.example.com', alarmEmail: 'ops@example.com' },
      },
    ])(
      'has no API key or private key in a secret or Lambda environment of $variant',
      ({ overrides }) => {
        // Act
        const { template: variant } = synthStack(overrides);
        const secrets = Object.values(resourcesOf(variant, 'AWS::SecretsManager::Secret'));
        const environments = Object.values(resourcesOf(variant, 'AWS::Lambda::Function')).map(
          (fn) => fn.Properties.Environment,
        );

        // Assess
        expect(secrets.length).toBeGreaterThan(0);
        expect(environments.length).toBeGreaterThan(0);
        for (const text of [JSON.stringify(secrets), JSON.stringify(environments)]) {
          expect(text).not.toMatch(API_KEY);
          expect(text).not.toMatch(PRIVATE_KEY);
        }
      },
    );

    it('has no API key or private key anywhere in the template', () => {
      // Act
      const text = JSON.stringify(template.toJSON());

      // Assess
      expect(text).not.toMatch(API_KEY);
      expect(text).not.toMatch(PRIVATE_KEY);
    });
  });

  describe('unauthenticated routes', () => {
    /** The methods without the authorizer, described by what they serve. */
    function openMethods(of: Template) {
      const resources = resourcesOf(of, 'AWS::ApiGateway::Resource');
      return Object.values(resourcesOf(of, 'AWS::ApiGateway::Method'))
        .filter((method) => method.Properties.AuthorizationType !== 'CUSTOM')
        .map((method) => {
          const integration = method.Properties.Integration as Properties;
          const responses = (integration.IntegrationResponses ?? []) as Properties[];
          const body = JSON.stringify(responses[0]?.ResponseTemplates ?? {});
          const resourceId = (method.Properties.ResourceId as { Ref?: string }).Ref ?? '';
          const parentId = (resources[resourceId]?.Properties.ParentId as { Ref?: string })?.Ref;
          const underWellKnown = [
            resourceId,
            parentId,
            (resources[parentId ?? '']?.Properties.ParentId as { Ref?: string } | undefined)?.Ref,
          ].some((id) => resources[id ?? '']?.Properties.PathPart === '.well-known');
          return {
            method: method.Properties.HttpMethod,
            auth: method.Properties.AuthorizationType,
            integration: integration.Type,
            serves: body.includes('code_challenge_methods_supported')
              ? 'authorization-server metadata'
              : body.includes('authorization_servers')
                ? 'protected-resource metadata'
                : resources[resourceId]?.Properties.PathPart === 'register'
                  ? 'client registration'
                  : PROXY_PATH_PARTS.includes(String(resources[resourceId]?.Properties.PathPart))
                    ? `OAuth proxy /${resources[resourceId]?.Properties.PathPart}`
                    : method.Properties.HttpMethod === 'OPTIONS' && underWellKnown
                      ? 'discovery preflight'
                      : 'other',
          };
        });
    }

    const DISCOVERY = [
      ...Array(2).fill({
        method: 'GET',
        auth: 'NONE',
        integration: 'MOCK',
        serves: 'protected-resource metadata',
      }),
      ...Array(2).fill({
        method: 'GET',
        auth: 'NONE',
        integration: 'MOCK',
        serves: 'authorization-server metadata',
      }),
      // The CORS preflight API Gateway answers on each document, for browser-based clients.
      ...Array(4).fill({
        method: 'OPTIONS',
        auth: 'NONE',
        integration: 'MOCK',
        serves: 'discovery preflight',
      }),
    ];
    // RFC 7591 registration: the Lambda behind POST, and the CORS preflight API Gateway answers.
    const REGISTRATION = [
      { method: 'POST', auth: 'NONE', integration: 'AWS_PROXY', serves: 'client registration' },
      { method: 'OPTIONS', auth: 'NONE', integration: 'MOCK', serves: 'client registration' },
    ];
    // The OAuth proxy: the Lambda behind each route (the approval page's among them: a person
    // signs in there), and the CORS preflight on /token.
    const PROXY = [
      { method: 'GET', auth: 'NONE', integration: 'AWS_PROXY', serves: 'OAuth proxy /approve' },
      { method: 'POST', auth: 'NONE', integration: 'AWS_PROXY', serves: 'OAuth proxy /approve' },
      {
        method: 'GET',
        auth: 'NONE',
        integration: 'AWS_PROXY',
        serves: 'OAuth proxy /approval-callback',
      },
      { method: 'GET', auth: 'NONE', integration: 'AWS_PROXY', serves: 'OAuth proxy /authorize' },
      { method: 'POST', auth: 'NONE', integration: 'AWS_PROXY', serves: 'OAuth proxy /authorize' },
      { method: 'GET', auth: 'NONE', integration: 'AWS_PROXY', serves: 'OAuth proxy /callback' },
      { method: 'POST', auth: 'NONE', integration: 'AWS_PROXY', serves: 'OAuth proxy /token' },
      { method: 'OPTIONS', auth: 'NONE', integration: 'MOCK', serves: 'OAuth proxy /token' },
    ];
    type Open = { serves: string; method: unknown };
    const byServes = (a: Open, b: Open) =>
      a.serves.localeCompare(b.serves) || String(a.method).localeCompare(String(b.method));

    it('leaves only the four OAuth discovery documents, client registration and the OAuth proxy (with its approval page) public when no origin is allowed', () => {
      // Act
      const methods = Object.values(resourcesOf(template, 'AWS::ApiGateway::Method'));

      // Assess: everything else runs the authorizer
      expect(methods.length).toBeGreaterThan(6);
      expect(openMethods(template).sort(byServes)).toEqual(
        [...DISCOVERY, ...REGISTRATION, ...PROXY].sort(byServes),
      );
    });

    it('adds only the OPTIONS preflight on /mcp to the public methods when CORS is on', () => {
      // Act
      const { template: cors } = synthStack({ allowedOrigins: 'https://app.example.com' });
      const open = openMethods(cors);

      // Assess
      expect(open.filter((method) => method.serves === 'other')).toEqual([
        { method: 'OPTIONS', auth: 'NONE', integration: 'MOCK', serves: 'other' },
      ]);
      expect(open).toHaveLength(DISCOVERY.length + REGISTRATION.length + PROXY.length + 1);
    });
  });
});
