/**
 * The ClientRegistration construct: a public `POST /register` backed by a small Lambda, its own
 * throttle on the stage, a KMS key the function may only encrypt with for DCR client ids, and
 * the refused-registration metric built from the audit vocabulary.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as logs from 'aws-cdk-lib/aws-logs';
import { describe, expect, it } from 'vitest';
import { AUDIT_EVENTS, AUDIT_FIELDS, REGISTRATION_OUTCOME } from '../../../lambda/shared/audit';
import {
  ClientRegistration,
  type ClientRegistrationProps,
  REFUSED_REGISTRATIONS_METRIC,
} from '../../../lib/client-registration';
import { FIXTURE_POLICY } from '../../support/fixture-deployment';
import { synthStack } from '../../support/stack-fixture';
import {
  onlyId,
  type Properties,
  type Resource,
  render,
  resourcesOf,
} from '../../support/template-helpers';

/** A bare stack with a REST API like McpApi's (stage-wide logging and throttling). */
function bareStack(props: Partial<ClientRegistrationProps> = {}) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Bare', { env: { account: '123456789012', region: 'eu-west-1' } });
  const api = new apigateway.RestApi(stack, 'Api', {
    deployOptions: {
      stageName: 'prod',
      loggingLevel: apigateway.MethodLoggingLevel.ERROR,
      metricsEnabled: true,
      throttlingRateLimit: 50,
      throttlingBurstLimit: 100,
    },
  });
  const registration = new ClientRegistration(stack, 'Registration', {
    api,
    baseUrl: 'https://api.example.com/prod',
    supportedScopes: ['mcp/tools', 'openid'],
    defaultScopes: ['mcp/tools'],
    logRetention: logs.RetentionDays.ONE_WEEK,
    ...props,
  });
  return { stack, registration, template: Template.fromStack(stack) };
}

/** The registration function of a template: its logical id and environment variables. */
function registrationFunction(template: Template) {
  const [entry, ...others] = Object.entries(resourcesOf(template, 'AWS::Lambda::Function')).filter(
    ([, fn]) =>
      (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables
        .POWERTOOLS_SERVICE_NAME === 'mcp-client-registration',
  );
  expect(entry).toBeDefined();
  expect(others).toEqual([]);
  const [id, fn] = entry as [string, Resource];
  return {
    id,
    properties: fn.Properties,
    variables: (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables,
  };
}

/** The stage's method settings. */
function methodSettings(template: Template): Properties[] {
  const stages = Object.values(resourcesOf(template, 'AWS::ApiGateway::Stage'));
  expect(stages).toHaveLength(1);
  return (stages[0]?.Properties.MethodSettings ?? []) as Properties[];
}

describe('ClientRegistration in the stack', () => {
  const { template, config } = synthStack();
  const registration = registrationFunction(template);
  const functionId = registration.id;
  const registerId = onlyId(template, 'AWS::ApiGateway::Resource', { PathPart: 'register' });
  const methodsOnRegister = Object.values(
    resourcesOf(template, 'AWS::ApiGateway::Method', { ResourceId: { Ref: registerId } }),
  );

  it('serves POST /register without the authorizer, through the registration Lambda', () => {
    // Act
    const post = methodsOnRegister.find((m) => m.Properties.HttpMethod === 'POST');
    const integration = post?.Properties.Integration as Properties;

    // Assess
    expect(post?.Properties.AuthorizationType).toBe('NONE');
    expect(post?.Properties.AuthorizerId).toBeUndefined();
    expect(integration.Type).toBe('AWS_PROXY');
    expect(render(integration.Uri)).toContain(`<${functionId}.Arn>`);
  });

  it('answers the CORS preflight for any origin, POST with the headers a browser client sends', () => {
    // Act
    const options = methodsOnRegister.find((m) => m.Properties.HttpMethod === 'OPTIONS');
    const integration = options?.Properties.Integration as {
      Type: string;
      IntegrationResponses: { ResponseParameters: Record<string, string> }[];
    };

    // Assess
    expect(methodsOnRegister.map((m) => m.Properties.HttpMethod).sort()).toEqual([
      'OPTIONS',
      'POST',
    ]);
    expect(integration.Type).toBe('MOCK');
    expect(integration.IntegrationResponses[0]?.ResponseParameters).toMatchObject({
      'method.response.header.Access-Control-Allow-Origin': "'*'",
      'method.response.header.Access-Control-Allow-Methods': "'POST'",
      'method.response.header.Access-Control-Allow-Headers': "'Content-Type,MCP-Protocol-Version'",
    });
  });

  it('throttles POST /register to 1 request per second, burst 5, keeping the stage-wide logging', () => {
    // Act
    const settings = methodSettings(template);
    const stageWide = settings.find((s) => s.ResourcePath === '/*');

    // Assess
    expect(settings.find((s) => s.ResourcePath === '/~1register')).toEqual({
      ResourcePath: '/~1register',
      HttpMethod: 'POST',
      ThrottlingRateLimit: 1,
      ThrottlingBurstLimit: 5,
      LoggingLevel: stageWide?.LoggingLevel,
      MetricsEnabled: stageWide?.MetricsEnabled,
      DataTraceEnabled: false,
    });
    expect(stageWide).toMatchObject({
      HttpMethod: '*',
      ThrottlingRateLimit: config.throttleRateLimit,
      LoggingLevel: 'ERROR',
      MetricsEnabled: true,
    });
  });

  it('takes the throttle from -c registrationRateLimit and registrationBurstLimit', () => {
    // Prepare
    const { template: tuned } = synthStack({
      registrationRateLimit: '3',
      registrationBurstLimit: '9',
    });

    // Act
    const register = methodSettings(tuned).find((s) => s.ResourcePath === '/~1register');

    // Assess
    expect(register).toMatchObject({ ThrottlingRateLimit: 3, ThrottlingBurstLimit: 9 });
  });

  it('gives the function the sealing key and the scopes, no app client or callback URLs', () => {
    // Act
    const { variables } = registration;

    // Assess
    expect(variables).not.toHaveProperty('CLIENT_ID');
    expect(variables).not.toHaveProperty('CALLBACK_URLS');
    expect(render(variables.KMS_KEY_ID)).toMatch(/^<\w*SealingKey\w*\.Arn>$/);
    expect(render(variables.DEFAULT_SCOPES)).toMatch(/McpResourceServer\w*>\/tools$/);
    expect(render(variables.SUPPORTED_SCOPES).split(',')).toEqual([
      expect.stringMatching(/\/tools$/),
      // One per permission the modules declare, in their order.
      ...Object.keys(FIXTURE_POLICY.permissions).map((permission) =>
        expect.stringMatching(new RegExp(`/${permission}$`)),
      ),
      'openid',
      'email',
    ]);
  });

  it('lets the function encrypt with the key for DCR client ids only, and never decrypt', () => {
    // Act
    const role = (registration.properties.Role as { 'Fn::GetAtt': [string, string] })[
      'Fn::GetAtt'
    ][0];
    const policies = Object.values(resourcesOf(template, 'AWS::IAM::Policy')).filter((policy) =>
      JSON.stringify(policy.Properties.Roles).includes(`"${role}"`),
    );
    const statements = policies.flatMap(
      (policy) => (policy.Properties.PolicyDocument as { Statement: Properties[] }).Statement,
    );
    const kms = statements.filter((statement) => JSON.stringify(statement.Action).includes('kms:'));

    // Assess
    expect(kms).toEqual([
      expect.objectContaining({
        Action: 'kms:Encrypt',
        Effect: 'Allow',
        Condition: { StringEquals: { 'kms:EncryptionContext:purpose': 'dcr-client' } },
      }),
    ]);
  });

  it('creates the sealing key with rotation on', () => {
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  it('runs small and short: 128 MB, 5 seconds', () => {
    // Assess
    expect(registration.properties).toMatchObject({ MemorySize: 128, Timeout: 5 });
  });

  it('counts refused registrations from the audit records of its own log group', () => {
    // Prepare
    const logGroup = (registration.properties.LoggingConfig as { LogGroup: unknown }).LogGroup;

    // Assess
    expect(logGroup).toEqual({ Ref: expect.any(String) });
    template.hasResourceProperties('AWS::Logs::MetricFilter', {
      LogGroupName: logGroup,
      FilterPattern: `{ ($.${AUDIT_FIELDS.event} = "${AUDIT_EVENTS.clientRegistration}") && ($.${AUDIT_FIELDS.outcome} = "${REGISTRATION_OUTCOME.refused}") }`,
      MetricTransformations: [
        Match.objectLike({ MetricName: REFUSED_REGISTRATIONS_METRIC, MetricValue: '1' }),
      ],
    });
  });
});

describe('ClientRegistration behind a custom domain', () => {
  it('is advertised at the root of the domain, next to the issuer', () => {
    // Act
    const { template } = synthStack({
      customDomainName: 'mcp.example.com',
      customDomainCertificateArn:
        'arn:aws:acm:eu-west-1:123456789012:certificate/0b6f1e2a-3c4d-4e5f-8a9b-0c1d2e3f4a5b',
    });
    const documents = Object.values(resourcesOf(template, 'AWS::ApiGateway::Method'))
      .map((m) => (m.Properties.Integration as { IntegrationResponses?: Properties[] }) ?? {})
      .map((i) => i.IntegrationResponses?.[0]?.ResponseTemplates as Properties | undefined)
      .flatMap((t) => (t === undefined ? [] : [render(t['application/json'])]))
      .filter((body) => body.includes('registration_endpoint'))
      .map((body) => JSON.parse(body) as Properties);

    // Assess
    expect(documents).toHaveLength(2);
    for (const document of documents) {
      expect(document).toMatchObject({
        issuer: 'https://mcp.example.com',
        registration_endpoint: 'https://mcp.example.com/register',
      });
    }
  });
});

describe('ClientRegistration on its own', () => {
  it('exposes the registration URL under the base URL', () => {
    // Act
    const { registration } = bareStack();

    // Assess
    expect(registration.registrationUrl).toBe('https://api.example.com/prod/register');
  });

  it('takes its throttle from props', () => {
    // Act
    const { template } = bareStack({ throttleRateLimit: 3, throttleBurstLimit: 10 });

    // Assess
    expect(methodSettings(template)).toContainEqual(
      expect.objectContaining({
        ResourcePath: '/~1register',
        HttpMethod: 'POST',
        ThrottlingRateLimit: 3,
        ThrottlingBurstLimit: 10,
      }),
    );
  });

  it.each([
    ['a zero rate', { throttleRateLimit: 0 }, /throttleRateLimit/],
    ['a fractional burst', { throttleBurstLimit: 2.5 }, /throttleBurstLimit/],
    ['a comma in a scope', { supportedScopes: ['a,b'] }, /must not contain a comma/],
  ])('refuses %s with a message that says what to change', (_, props, message) => {
    // Assess
    expect(() => bareStack(props)).toThrow(message);
  });
});
