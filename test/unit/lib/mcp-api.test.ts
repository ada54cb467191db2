/**
 * The McpApi construct as the real stack builds it: the authorizer wiring and its cache, the
 * proxy integration, the gateway responses MCP clients read, CORS only when configured, logs,
 * tracing, throttling, request validation and the optional WAF web ACL.
 */
import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { PROTECTED_RESOURCE_METADATA_PATH } from '../../../lambda/shared/oauth-metadata';
import { MCP_PATH, OAUTH_PATHS, PROTECTED_PATHS } from '../../../lambda/shared/routes';
import {
  type McpApiProps,
  OAUTH_RATE_LIMIT_PER_IP,
  pathSuffixRegex,
  REGISTER_RATE_LIMIT_PER_IP,
} from '../../../lib/mcp-api';
import { substituteVariables } from '../../../tools/local/emulator/gateway-responses';
import { mcpApiStack, synthStack } from '../../support/stack-fixture';
import {
  onlyId,
  type Properties,
  type Resource,
  render,
  resourcesOf,
} from '../../support/template-helpers';

/** The path parts of the public OAuth routes (registration and the OAuth proxy). */
const OAUTH_PATH_PARTS = Object.values(OAUTH_PATHS).map((path) => path.slice(1));

/** The Lambda function whose environment sets `variable`. */
function functionWith(template: Template, variable: string): string {
  return onlyId(template, 'AWS::Lambda::Function', {
    Environment: { Variables: Match.objectLike({ [variable]: Match.anyValue() }) },
  });
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The properties of the resource `id` of `type`; throws if there is none. */
function propertiesOf(template: Template, type: string, id: string): Properties {
  const resource = resourcesOf(template, type)[id];
  if (resource === undefined) throw new Error(`No ${type} ${id}`);
  return resource.Properties;
}

function gatewayResponse(template: Template, type: string): Properties {
  const id = onlyId(template, 'AWS::ApiGateway::GatewayResponse', { ResponseType: type });
  return (resourcesOf(template, 'AWS::ApiGateway::GatewayResponse')[id] as Resource).Properties;
}

/** The resource path of an API Gateway resource, following ParentId up to the root. */
function resourcePath(template: Template, resourceId: unknown): string {
  const ref = (resourceId as { Ref?: string }).Ref;
  if (ref === undefined) return '/';
  const resource = resourcesOf(template, 'AWS::ApiGateway::Resource')[ref];
  if (resource === undefined) throw new Error(`No API resource ${ref}`);
  const parent = resourcePath(template, resource.Properties.ParentId);
  return `${parent === '/' ? '' : parent}/${String(resource.Properties.PathPart)}`;
}

const ONE_ORIGIN = 'https://app.example.com';

describe('McpApi', () => {
  const { template } = synthStack();

  it('names the API after its stack, so its metrics (and the 5xx alarm) are its own', () => {
    template.hasResourceProperties('AWS::ApiGateway::RestApi', { Name: 'TestStack-mcp' });
  });

  it('creates the execution-log group API Gateway writes to, with the configured retention', () => {
    template.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: {
        'Fn::Join': [
          '',
          ['API-Gateway-Execution-Logs_', { Ref: Match.stringLikeRegexp('^Api') }, '/prod'],
        ],
      },
      RetentionInDays: 365,
    });
  });
  const apiId = onlyId(template, 'AWS::ApiGateway::RestApi');
  const authorizerId = onlyId(template, 'AWS::ApiGateway::Authorizer');
  const mcpResourceId = onlyId(template, 'AWS::ApiGateway::Resource', {
    PathPart: MCP_PATH.slice(1),
    ParentId: { 'Fn::GetAtt': [apiId, 'RootResourceId'] },
  });
  const mcpFunctionId = functionWith(template, 'STREAM_FLUSH_BYTES');
  const authorizerFunctionId = functionWith(template, 'API_KEYS_SECRET_ID');

  describe('authorization', () => {
    it.each(['POST', 'ANY'])('protects %s /mcp with the custom REQUEST authorizer', (method) => {
      // Assess
      template.hasResourceProperties('AWS::ApiGateway::Method', {
        HttpMethod: method,
        ResourceId: { Ref: mcpResourceId },
        AuthorizationType: 'CUSTOM',
        AuthorizerId: { Ref: authorizerId },
      });
    });

    it('runs the authorizer function as a REQUEST authorizer keyed on the Authorization header alone', () => {
      // Prepare
      const invokesFunction = JSON.stringify([
        { 'Fn::GetAtt': [authorizerFunctionId, 'Arn'] },
        '/invocations',
      ]).slice(1, -1);

      // Act
      const authorizer = resourcesOf(template, 'AWS::ApiGateway::Authorizer')[authorizerId];

      // Assess
      expect(authorizer?.Properties).toMatchObject({
        Type: 'REQUEST',
        IdentitySource: 'method.request.header.Authorization',
        RestApiId: { Ref: apiId },
      });
      expect(JSON.stringify(authorizer?.Properties.AuthorizerUri)).toContain(
        `${invokesFunction}]]`,
      );
    });

    it('caches no authorizer result by default: every request is authorized afresh', () => {
      // Assess
      template.hasResourceProperties('AWS::ApiGateway::Authorizer', {
        AuthorizerResultTtlInSeconds: 0,
      });
    });

    it.each([
      { ttl: '0', seconds: 0 },
      { ttl: '300', seconds: 300 },
    ])(
      'caches authorizer results for $seconds seconds with -c authorizerCacheTtlSeconds=$ttl and gateway step-up off',
      ({ ttl, seconds }) => {
        // Act
        const { template: tuned } = synthStack({
          authorizerCacheTtlSeconds: ttl,
          gatewayStepUp: 'false',
        });

        // Assess
        tuned.hasResourceProperties('AWS::ApiGateway::Authorizer', {
          AuthorizerResultTtlInSeconds: seconds,
          IdentitySource: 'method.request.header.Authorization',
        });
      },
    );

    it("authorizes only paths the authorizer's Allow policy covers, so a cached Allow fits every route", () => {
      // Act
      const protectedPaths = Object.values(
        resourcesOf(template, 'AWS::ApiGateway::Method', { AuthorizationType: 'CUSTOM' }),
      ).map((method) => resourcePath(template, method.Properties.ResourceId));

      // Assess
      expect(protectedPaths.length).toBeGreaterThan(0);
      for (const path of protectedPaths) expect(PROTECTED_PATHS).toContain(path);
    });
  });

  describe('integration', () => {
    it.each(['POST', 'ANY'])(
      'sends %s /mcp to the MCP function through a streaming Lambda proxy integration',
      (method) => {
        // Act
        const [found] = Object.values(
          resourcesOf(template, 'AWS::ApiGateway::Method', {
            HttpMethod: method,
            ResourceId: { Ref: mcpResourceId },
          }),
        );
        const integration = found?.Properties.Integration as Properties | undefined;

        // Assess
        expect(integration).toMatchObject({
          Type: 'AWS_PROXY',
          IntegrationHttpMethod: 'POST',
          ResponseTransferMode: 'STREAM',
          TimeoutInMillis: 120_000,
        });
        expect(render(integration?.Uri)).toMatch(
          new RegExp(
            `:lambda:path/2021-11-15/functions/<${escapeRegExp(mcpFunctionId)}\\.Arn>/response-streaming-invocations$`,
          ),
        );
      },
    );

    it('gives the integration and the MCP function one timeout, from -c mcpTimeoutSeconds', () => {
      // Act
      const { template: tuned } = synthStack({ mcpTimeoutSeconds: '300' });
      const timeouts = Object.values(resourcesOf(tuned, 'AWS::ApiGateway::Method'))
        .map((m) => (m.Properties.Integration as Properties | undefined)?.TimeoutInMillis)
        .filter((t) => t !== undefined);

      // Assess
      expect(timeouts).toEqual([300_000, 300_000]);
      tuned.hasResourceProperties('AWS::Lambda::Function', {
        Timeout: 300,
        Environment: { Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: 'mcp-server' }) },
      });
    });

    it.each([
      { method: 'POST', path: '/POST/mcp' },
      { method: 'ANY', path: '/*/mcp' },
    ])('lets API Gateway invoke the MCP function for $method /mcp on the stage', ({ path }) => {
      // Act
      const sources = Object.values(
        resourcesOf(template, 'AWS::Lambda::Permission', {
          Principal: 'apigateway.amazonaws.com',
          FunctionName: { 'Fn::GetAtt': [mcpFunctionId, 'Arn'] },
        }),
      ).map((permission) => render(permission.Properties.SourceArn));

      // Assess
      expect(sources).toContainEqual(
        expect.stringMatching(
          new RegExp(`:<${escapeRegExp(apiId)}>/<[^>]+>${escapeRegExp(path)}$`),
        ),
      );
    });
  });

  it("grants API Gateway's test-invoke stage, which skips the authorizer, no function of the stack", () => {
    // Act
    const sources = Object.values(
      resourcesOf(template, 'AWS::Lambda::Permission', { Principal: 'apigateway.amazonaws.com' }),
    ).map((permission) => render(permission.Properties.SourceArn));

    // Assess: the stage's own methods are still allowed, the console's test stage is not.
    expect(sources.length).toBeGreaterThan(0);
    expect(sources.filter((source) => source.includes('/test-invoke-stage/'))).toEqual([]);
  });

  describe('gateway responses', () => {
    it('answers UNAUTHORIZED with 401 and a Bearer challenge naming the protected-resource metadata and scope', () => {
      // Prepare
      const { Environment } = propertiesOf(template, 'AWS::Lambda::Function', authorizerFunctionId);
      const requiredScope = render(
        (Environment as { Variables: Properties }).Variables.REQUIRED_SCOPES,
      );

      // Act
      const unauthorized = gatewayResponse(template, 'UNAUTHORIZED');
      const headers = unauthorized.ResponseParameters as Properties;
      const challenge = render(headers['gatewayresponse.header.WWW-Authenticate']);

      // Assess
      expect(unauthorized.StatusCode).toBe('401');
      expect(challenge).toMatch(
        new RegExp(
          `^'Bearer resource_metadata="https://<${escapeRegExp(apiId)}>\\.execute-api\\.[^"/]+/prod${escapeRegExp(PROTECTED_RESOURCE_METADATA_PATH)}", scope="${escapeRegExp(requiredScope)}"'$`,
        ),
      );
    });

    it('points the challenge at the same API and stage as the McpEndpoint output', () => {
      // Prepare
      const endpoint = render(template.findOutputs('McpEndpoint').McpEndpoint?.Value);

      // Act
      const unauthorized = gatewayResponse(template, 'UNAUTHORIZED');
      const challenge = render(
        (unauthorized.ResponseParameters as Properties)['gatewayresponse.header.WWW-Authenticate'],
      );

      // Assess
      expect(endpoint.endsWith(`/prod${MCP_PATH}`)).toBe(true);
      expect(challenge).toContain(
        `resource_metadata="${endpoint.slice(0, -MCP_PATH.length)}${PROTECTED_RESOURCE_METADATA_PATH}"`,
      );
    });

    describe('with gateway step-up (the default)', () => {
      const denied = gatewayResponse(template, 'ACCESS_DENIED');
      /** The challenge, read in each test so a missing one fails that test alone. */
      const challenge = () =>
        render(
          (denied.ResponseParameters as Properties)['gatewayresponse.header.WWW-Authenticate'],
        );

      it('answers ACCESS_DENIED with 403 and an insufficient_scope challenge naming the audience scope and every permission scope', () => {
        // Prepare: the scopes the MCP function knows, from the same identity
        const { Environment } = propertiesOf(template, 'AWS::Lambda::Function', mcpFunctionId);
        const variables = (Environment as { Variables: Properties }).Variables;
        const scopes = [
          render(variables.REQUIRED_SCOPE),
          ...render(variables.PERMISSION_SCOPES).split(','),
        ];

        // Assess: a static header, so every scope (the body names the ones this call needs)
        expect(denied.StatusCode).toBe('403');
        expect(scopes.length).toBeGreaterThan(1);
        expect(challenge()).toMatch(/^'Bearer error="insufficient_scope", /);
        expect(challenge()).toContain(` scope="${scopes.join(' ')}"`);
      });

      it("points the challenge at the same metadata URL as the 401's", () => {
        // Prepare
        const unauthorized = render(
          (gatewayResponse(template, 'UNAUTHORIZED').ResponseParameters as Properties)[
            'gatewayresponse.header.WWW-Authenticate'
          ],
        );
        const metadata = /resource_metadata="[^"]+"/.exec(unauthorized)?.[0];

        // Assess
        expect(metadata).toBeDefined();
        expect(challenge()).toContain(metadata);
      });

      it("answers with a JSON-RPC -32003 whose requiredScopes the authorizer's Deny context fills", () => {
        // Prepare: the Deny context as the authorizer sets it (JSON array text)
        const scopes = ['secure-mcp/tools', 'secure-mcp/delete_data'];
        const context = { 'authorizer.requiredScopes': JSON.stringify(scopes) };

        // Act: filled in as API Gateway fills a gateway response's template
        const body = JSON.parse(
          substituteVariables(
            String((denied.ResponseTemplates as Properties)['application/json']),
            context,
          ),
        );

        // Assess
        expect(body).toEqual({
          jsonrpc: '2.0',
          id: null,
          error: {
            code: -32003,
            message: expect.stringContaining('requiredScopes'),
            data: { requiredScopes: scopes },
          },
        });
      });
    });

    it('answers ACCESS_DENIED with 403 and a plain JSON body, without a challenge, with -c gatewayStepUp=false', () => {
      // Act
      const { template: plain } = synthStack({ gatewayStepUp: 'false' });
      const denied = gatewayResponse(plain, 'ACCESS_DENIED');
      const body = (denied.ResponseTemplates as Properties)['application/json'];

      // Assess
      expect(denied.StatusCode).toBe('403');
      expect(JSON.parse(String(body))).toEqual({ message: expect.any(String) });
      expect(JSON.stringify(denied.ResponseParameters ?? {})).not.toMatch(
        /WWW-Authenticate|insufficient_scope/,
      );
    });

    it.each(['AUTHORIZER_CONFIGURATION_ERROR', 'AUTHORIZER_FAILURE'])(
      'answers %s (the authorizer could not check the credential) with 503 and Retry-After: 5',
      (type) => {
        // Act
        const response = gatewayResponse(template, type);

        // Assess: a failure API Gateway does not cache, so trying again shortly can succeed
        expect(response.StatusCode).toBe('503');
        expect(response.ResponseParameters).toMatchObject({
          'gatewayresponse.header.Retry-After': "'5'",
        });
        expect(
          JSON.parse(String((response.ResponseTemplates as Properties)['application/json'])),
        ).toEqual({ message: expect.any(String) });
      },
    );
  });

  describe('CORS', () => {
    it('sends no Access-Control header from any gateway response when no origin is allowed', () => {
      // Act
      const responses = resourcesOf(template, 'AWS::ApiGateway::GatewayResponse');

      // Assess
      expect(Object.keys(responses).length).toBeGreaterThan(0);
      expect(JSON.stringify(responses)).not.toMatch(/Access-Control-/i);
    });

    /**
     * The methods of the MCP API itself: the public OAuth discovery documents (mock
     * integrations, readable from any origin by design) are tested in oauth-discovery.test.ts,
     * client registration (any origin too) in client-registration.test.ts, and the OAuth
     * proxy's routes in oauth-proxy.test.ts.
     */
    const apiMethods = (t: typeof template) => {
      const resources = resourcesOf(t, 'AWS::ApiGateway::Resource');
      const parentOf = (id: string) =>
        (resources[id]?.Properties.ParentId as { Ref?: string } | undefined)?.Ref;
      const isPublicOAuth = (id: string | undefined): boolean =>
        id !== undefined &&
        ([...OAUTH_PATH_PARTS, '.well-known'].includes(
          String(resources[id]?.Properties.PathPart),
        ) ||
          isPublicOAuth(parentOf(id)));
      return Object.fromEntries(
        Object.entries(resourcesOf(t, 'AWS::ApiGateway::Method')).filter(
          ([, m]) => !isPublicOAuth((m.Properties.ResourceId as { Ref?: string }).Ref),
        ),
      );
    };

    it('has no OPTIONS method and no Access-Control header on any method when no origin is allowed', () => {
      // Act
      const methods = apiMethods(template);

      // Assess
      expect(Object.values(methods).map((m) => m.Properties.HttpMethod)).not.toContain('OPTIONS');
      expect(JSON.stringify(methods)).not.toMatch(/Access-Control-/i);
    });

    describe('with one allowed origin', () => {
      const { template: cors } = synthStack({ allowedOrigins: ONE_ORIGIN });

      it('answers the preflight on /mcp with an OPTIONS method allowing exactly that origin', () => {
        // Prepare
        const resource = onlyId(cors, 'AWS::ApiGateway::Resource', {
          PathPart: MCP_PATH.slice(1),
          ParentId: { 'Fn::GetAtt': [onlyId(cors, 'AWS::ApiGateway::RestApi'), 'RootResourceId'] },
        });

        // Assess
        cors.hasResourceProperties('AWS::ApiGateway::Method', {
          HttpMethod: 'OPTIONS',
          ResourceId: { Ref: resource },
          Integration: Match.objectLike({
            IntegrationResponses: Match.arrayWith([
              Match.objectLike({
                ResponseParameters: Match.objectLike({
                  'method.response.header.Access-Control-Allow-Origin': `'${ONE_ORIGIN}'`,
                }),
              }),
            ]),
          }),
        });
      });

      it('puts exactly that origin on every gateway response', () => {
        // Act
        const origins = Object.values(resourcesOf(cors, 'AWS::ApiGateway::GatewayResponse')).map(
          (response) =>
            (response.Properties.ResponseParameters as Properties | undefined)?.[
              'gatewayresponse.header.Access-Control-Allow-Origin'
            ],
        );

        // Assess
        expect(origins.length).toBeGreaterThan(0);
        for (const origin of origins) expect(origin).toBe(`'${ONE_ORIGIN}'`);
      });
    });

    describe('with several allowed origins', () => {
      const OTHER_ORIGIN = 'https://other.example.com';
      const { template: several } = synthStack({
        allowedOrigins: `${ONE_ORIGIN},${OTHER_ORIGIN}`,
      });
      const responses = Object.values(resourcesOf(several, 'AWS::ApiGateway::GatewayResponse'));

      it("gives every gateway response the request's own Origin, since a header holds one static value or one request parameter", () => {
        // Act
        const headers = responses.map(
          (response) => response.Properties.ResponseParameters as Properties | undefined,
        );

        // Assess
        expect(headers.length).toBeGreaterThan(0);
        for (const header of headers) {
          expect(header).toMatchObject({
            'gatewayresponse.header.Access-Control-Allow-Origin': 'method.request.header.Origin',
            'gatewayresponse.header.Vary': "'Origin'",
            'gatewayresponse.header.Access-Control-Expose-Headers':
              expect.stringContaining('WWW-Authenticate'),
          });
        }
      });

      it('answers the preflight on /mcp naming the allowed origins only, never a wildcard', () => {
        // Act
        const text = JSON.stringify({
          ...resourcesOf(several, 'AWS::ApiGateway::GatewayResponse'),
          ...apiMethods(several),
        });

        // Assess
        expect(text).toContain(ONE_ORIGIN);
        expect(text).toContain(OTHER_ORIGIN);
        expect(text).not.toMatch(/Access-Control-Allow-Origin":"'\*'/);
      });
    });
  });

  describe('stage', () => {
    const stageId = onlyId(template, 'AWS::ApiGateway::Stage');
    const stage = resourcesOf(template, 'AWS::ApiGateway::Stage')[stageId] as Resource;
    const accessLog = stage.Properties.AccessLogSetting as {
      Format: string;
      DestinationArn: unknown;
    };

    it("writes JSON access logs with the authorizer's principal and the request id", () => {
      // Act
      const format = JSON.parse(accessLog.Format) as Record<string, string>;

      // Assess
      expect(Object.values(format)).toEqual(
        expect.arrayContaining(['$context.authorizer.principalId', '$context.requestId']),
      );
    });

    it('writes the access logs to a log group kept for the default 365 days', () => {
      // Prepare
      const [logGroupId, attribute] = (accessLog.DestinationArn as { 'Fn::GetAtt': string[] })[
        'Fn::GetAtt'
      ];

      // Act
      const logGroup = resourcesOf(template, 'AWS::Logs::LogGroup')[logGroupId as string];

      // Assess
      expect(attribute).toBe('Arn');
      expect(logGroup?.Properties.RetentionInDays).toBe(365);
    });

    it('logs execution errors only, never request or response data, and traces with X-Ray', () => {
      // Assess
      template.hasResourceProperties('AWS::ApiGateway::Stage', {
        StageName: 'prod',
        TracingEnabled: true,
        MethodSettings: Match.arrayWith([
          Match.objectLike({
            HttpMethod: '*',
            ResourcePath: '/*',
            LoggingLevel: 'ERROR',
            DataTraceEnabled: false,
          }),
        ]),
      });
    });

    it('throttles the whole stage at the default 50 requests per second, bursts of 100', () => {
      // Assess
      template.hasResourceProperties('AWS::ApiGateway::Stage', {
        MethodSettings: Match.arrayWith([
          Match.objectLike({
            HttpMethod: '*',
            ResourcePath: '/*',
            ThrottlingRateLimit: 50,
            ThrottlingBurstLimit: 100,
          }),
        ]),
      });
    });

    describe('configured with -c', () => {
      const { template: tuned } = synthStack({
        throttleRateLimit: '7',
        throttleBurstLimit: '9',
        logRetentionDays: '400',
        stageName: 'v1',
      });

      it('throttles at -c throttleRateLimit=7 and -c throttleBurstLimit=9', () => {
        // Assess
        tuned.hasResourceProperties('AWS::ApiGateway::Stage', {
          MethodSettings: Match.arrayWith([
            Match.objectLike({ ThrottlingRateLimit: 7, ThrottlingBurstLimit: 9 }),
          ]),
        });
      });

      it('keeps the access logs for -c logRetentionDays=400', () => {
        // Prepare
        const tunedStage = propertiesOf(
          tuned,
          'AWS::ApiGateway::Stage',
          onlyId(tuned, 'AWS::ApiGateway::Stage'),
        );
        const { DestinationArn } = tunedStage.AccessLogSetting as { DestinationArn: unknown };
        const [logGroupId] = (DestinationArn as { 'Fn::GetAtt': string[] })['Fn::GetAtt'];

        // Act
        const logGroup = propertiesOf(tuned, 'AWS::Logs::LogGroup', logGroupId as string);

        // Assess
        expect(logGroup.RetentionInDays).toBe(400);
      });

      it('names the stage from -c stageName and announces the metadata under it', () => {
        // Act
        const challenge = render(
          (gatewayResponse(tuned, 'UNAUTHORIZED').ResponseParameters as Properties)[
            'gatewayresponse.header.WWW-Authenticate'
          ],
        );

        // Assess
        tuned.hasResourceProperties('AWS::ApiGateway::Stage', { StageName: 'v1' });
        expect(challenge).toContain(`/v1${PROTECTED_RESOURCE_METADATA_PATH}"`);
      });
    });
  });

  describe('request validation', () => {
    it('validates the JSON-RPC body of POST /mcp against the JsonRpcMessage model', () => {
      // Prepare
      const validatorId = onlyId(template, 'AWS::ApiGateway::RequestValidator', {
        ValidateRequestBody: true,
      });
      const modelId = onlyId(template, 'AWS::ApiGateway::Model', {
        ContentType: 'application/json',
        Schema: Match.objectLike({
          type: 'object',
          required: Match.arrayWith(['jsonrpc']),
          properties: { jsonrpc: Match.objectLike({ enum: ['2.0'] }) },
        }),
      });

      // Assess
      expect(modelId).toMatch(/JsonRpcMessage/);
      template.hasResourceProperties('AWS::ApiGateway::Method', {
        HttpMethod: 'POST',
        ResourceId: { Ref: mcpResourceId },
        RequestValidatorId: { Ref: validatorId },
        RequestModels: { 'application/json': { Ref: modelId } },
      });
    });
  });

  describe('WAF', () => {
    it('blocks an IP over the default 1000 requests per 5 minutes with a rate-based rule', () => {
      // Assess
      template.hasResourceProperties('AWS::WAFv2::WebACL', {
        Scope: 'REGIONAL',
        DefaultAction: { Allow: {} },
        Rules: Match.arrayWith([
          Match.objectLike({
            Action: { Block: {} },
            Statement: { RateBasedStatement: { Limit: 1000, AggregateKeyType: 'IP' } },
          }),
        ]),
      });
    });

    /** The rules of the web ACL by name. */
    function wafRules(from: Template = template): Record<string, Properties> {
      const [acl] = Object.values(resourcesOf(from, 'AWS::WAFv2::WebACL'));
      const rules = (acl?.Properties.Rules ?? []) as Properties[];
      return Object.fromEntries(rules.map((rule) => [rule.Name as string, rule]));
    }

    /** The rate-based rule's limit and the path test of its scope-down statement. */
    function pathRateRule(name: string) {
      const rule = wafRules()[name] as Properties;
      const rate = (rule.Statement as Properties).RateBasedStatement as Properties;
      const regex = (rate.ScopeDownStatement as Properties).RegexMatchStatement as Properties;
      return { rule, rate, regex };
    }

    /**
     * WAF's text transformations, as AWS documents them, applied in priority order: enough to
     * run the rule's regular expression over the paths an attacker would try.
     */
    function transform(path: string, types: readonly string[]): string {
      let value = path;
      for (const type of types) {
        if (type === 'URL_DECODE') {
          value = value.replace(/%([0-9a-f]{2})/gi, (_, hex: string) =>
            String.fromCharCode(Number.parseInt(hex, 16)),
          );
        } else if (type === 'NORMALIZE_PATH') {
          value = value.replace(/\/{2,}/g, '/');
          while (/\/\.(\/|$)/.test(value)) value = value.replace(/\/\.(\/|$)/, '/');
          while (/\/[^/]+\/\.\.(\/|$)/.test(value))
            value = value.replace(/\/[^/]+\/\.\.(\/|$)/, '/');
        } else if (type === 'LOWERCASE') {
          value = value.toLowerCase();
        } else if (type !== 'NONE') {
          throw new Error(`no model of WAF transformation ${type}`);
        }
      }
      return value;
    }

    /** Whether the rule's scope-down statement counts a request to `path`. */
    function counts(regex: Properties, path: string): boolean {
      const types = (regex.TextTransformations as { Priority: number; Type: string }[])
        .toSorted((a, b) => a.Priority - b.Priority)
        .map((t) => t.Type);
      return new RegExp(regex.RegexString as string).test(transform(path, types));
    }

    it('blocks an IP over 100 registrations per 5 minutes, so one caller cannot starve /register', () => {
      // Act
      const { rule, rate, regex } = pathRateRule('RegisterRateLimitPerIp');

      // Assess
      expect(rule.Action).toEqual({ Block: {} });
      expect(rate).toMatchObject({ Limit: REGISTER_RATE_LIMIT_PER_IP, AggregateKeyType: 'IP' });
      expect(regex.FieldToMatch).toEqual({ UriPath: {} });
      expect(REGISTER_RATE_LIMIT_PER_IP).toBeLessThan(5 * 60);
    });

    it('decodes, normalises and lower-cases the path before matching it', () => {
      // Act
      const { regex } = pathRateRule('RegisterRateLimitPerIp');

      // Assess
      expect(regex.TextTransformations).toEqual([
        { Priority: 0, Type: 'URL_DECODE' },
        { Priority: 1, Type: 'NORMALIZE_PATH' },
        { Priority: 2, Type: 'LOWERCASE' },
      ]);
    });

    it.each([
      '/prod/register',
      '/register',
      '/prod/register/',
      '/prod/Register',
      '/prod/REGISTER',
      '/prod/regist%65r',
      '/prod/%72egister',
      '/prod//register',
      '/prod/./register',
      '/prod/x/../register',
    ])('counts %s as a registration', (path) => {
      // Act
      const { regex } = pathRateRule('RegisterRateLimitPerIp');

      // Assess
      expect(counts(regex, path)).toBe(true);
    });

    it.each([
      '/prod/mcp',
      '/prod/registers',
      '/prod/preregister',
      '/prod/.well-known/oauth-authorization-server',
      '/prod/token',
    ])('does not count %s as a registration', (path) => {
      // Act
      const { regex } = pathRateRule('RegisterRateLimitPerIp');

      // Assess
      expect(counts(regex, path)).toBe(false);
    });

    it.each([OAUTH_PATHS.authorize, OAUTH_PATHS.callback, OAUTH_PATHS.token])(
      'blocks an IP over its limit of sign-in requests on %s, however the path is spelt',
      (path) => {
        // Act
        const { rule, rate, regex } = pathRateRule('OAuthRateLimitPerIp');

        // Assess
        expect(rule.Action).toEqual({ Block: {} });
        expect(rate).toMatchObject({ Limit: OAUTH_RATE_LIMIT_PER_IP, AggregateKeyType: 'IP' });
        for (const spelling of [
          `/prod${path}`,
          path,
          `/prod${path.toUpperCase()}`,
          `/prod/${path}/`,
        ]) {
          expect(counts(regex, spelling), spelling).toBe(true);
        }
        expect(counts(regex, '/prod/mcp')).toBe(false);
      },
    );

    it('builds path tests only from plain path segments', () => {
      // Act & Assess
      expect(pathSuffixRegex(['/a', '/b-c'])).toBe('/(?:a|b-c)/?$');
      expect(() => pathSuffixRegex(['/a|.*'])).toThrow('one plain path segment');
    });

    it('follows -c wafRateLimit', () => {
      // Act
      const { template: tuned } = synthStack({ wafRateLimit: '2500' });

      // Assess
      tuned.hasResourceProperties('AWS::WAFv2::WebACL', {
        Rules: Match.arrayWith([
          Match.objectLike({
            Statement: { RateBasedStatement: Match.objectLike({ Limit: 2500 }) },
          }),
        ]),
      });
    });

    it("associates the web ACL with the API's stage", () => {
      // Prepare
      const webAclId = onlyId(template, 'AWS::WAFv2::WebACL');
      const stageId = onlyId(template, 'AWS::ApiGateway::Stage');

      // Act
      const association = Object.values(
        resourcesOf(template, 'AWS::WAFv2::WebACLAssociation', {
          WebACLArn: { 'Fn::GetAtt': [webAclId, 'Arn'] },
        }),
      );

      // Assess
      expect(association).toHaveLength(1);
      expect(render(association[0]?.Properties.ResourceArn)).toMatch(
        new RegExp(`/restapis/<${escapeRegExp(apiId)}>/stages/<${escapeRegExp(stageId)}>$`),
      );
    });

    it('creates no web ACL and no association with -c enableWaf=false', () => {
      // Act
      const { template: noWaf } = synthStack({ enableWaf: 'false' });

      // Assess
      noWaf.hasResourceProperties('AWS::ApiGateway::Stage', { TracingEnabled: true });
      expect(resourcesOf(noWaf, 'AWS::WAFv2::WebACL')).toEqual({});
      expect(resourcesOf(noWaf, 'AWS::WAFv2::WebACLAssociation')).toEqual({});
    });
  });
});

describe('McpApi stepUpScopes', () => {
  const build = (props: Partial<McpApiProps>) => Template.fromStack(mcpApiStack(props));

  it('names exactly the scopes it is given in the ACCESS_DENIED challenge', () => {
    // Act
    const template = build({ stepUpScopes: ['rs/tools', 'rs/read', 'rs/erase'] });

    // Assess
    expect(
      render(
        (gatewayResponse(template, 'ACCESS_DENIED').ResponseParameters as Properties)[
          'gatewayresponse.header.WWW-Authenticate'
        ],
      ),
    ).toContain(' scope="rs/tools rs/read rs/erase"');
  });

  it('gives ACCESS_DENIED no challenge without them', () => {
    // Act
    const template = build({});

    // Assess
    expect(JSON.stringify(gatewayResponse(template, 'ACCESS_DENIED'))).not.toMatch(
      /WWW-Authenticate|insufficient_scope/,
    );
  });

  it('is refused with a cache TTL: a Deny for one call would be reused for every request with the token', () => {
    expect(() =>
      build({ stepUpScopes: ['rs/tools'], authorizerCacheTtl: Duration.seconds(30) }),
    ).toThrow(
      /McpApi: stepUpScopes needs the authorizer cache off \(authorizerCacheTtlSeconds=0, got 30\)/,
    );
  });

  it('is refused with earlyDeny: its role denials would carry the step-up challenge', () => {
    expect(() => build({ stepUpScopes: ['rs/tools'], earlyDeny: true })).toThrow(
      /McpApi: stepUpScopes cannot run with earlyDeny/,
    );
  });
});
