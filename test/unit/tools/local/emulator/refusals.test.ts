/**
 * What the emulator cannot do as AWS does, it refuses to start on, saying what: better no local
 * server than one that answers differently from AWS. One test per kind of refusal, each a
 * change to a template that starts.
 */
import { describe, expect, it } from 'vitest';
import { UnsupportedTemplateError } from '../../../../../tools/local/emulator/template';
import { API, ECHO, mockIntegration, STAGE, serve, TestApi } from '../../../../support/test-api';

const ref = (logicalId: string) => ({ Ref: logicalId });

/** A template that starts: a Lambda method behind an authorizer, a mock, a gateway response. */
function base(): TestApi {
  const api = new TestApi();
  api.function('Handler', ECHO);
  api.function('Auth', 'exports.handler = async () => { throw new Error("Unauthorized"); };');
  api.authorizer('Authorizer', 'Auth', {
    identitySource: 'method.request.header.Authorization',
    ttl: 0,
  });
  api.method('/mcp', 'POST', { function: 'Handler', authorizer: 'Authorizer' });
  api.method('/doc', 'GET', { mock: mockIntegration('{}') });
  api.gatewayResponse('UNAUTHORIZED', {
    statusCode: '401',
    headers: { 'WWW-Authenticate': "'Bearer'" },
  });
  return api;
}

function props(api: TestApi, logicalId: string): Record<string, unknown> {
  return (api.resources[logicalId] as { Properties: Record<string, unknown> }).Properties;
}

function integration(api: TestApi, logicalId: string): Record<string, unknown> {
  return props(api, logicalId).Integration as Record<string, unknown>;
}

function domain(api: TestApi, id: string, name: string, extra: Record<string, unknown> = {}): void {
  api.add(id, {
    Type: 'AWS::ApiGateway::DomainName',
    Properties: {
      DomainName: name,
      EndpointConfiguration: { Types: ['REGIONAL'] },
      RegionalCertificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/x',
      ...extra,
    },
  });
  api.add(`${id}Mapping`, {
    Type: 'AWS::ApiGateway::BasePathMapping',
    Properties: { DomainName: ref(id), RestApiId: ref(API), Stage: ref(STAGE) },
  });
}

function webAcl(api: TestApi, rule: Record<string, unknown>) {
  api.webAcl('Acl', {
    Rules: [{ Name: 'R', Priority: 0, Action: { Block: {} }, VisibilityConfig: {}, ...rule }],
  });
}

const uriMatch = {
  RegexMatchStatement: {
    FieldToMatch: { UriPath: {} },
    RegexString: '/mcp$',
    TextTransformations: [{ Priority: 0, Type: 'NONE' }],
  },
};

const CASES: [name: string, change: (api: TestApi) => void, message: RegExp][] = [
  [
    'two REST APIs',
    (api) => api.add('Other', { Type: 'AWS::ApiGateway::RestApi', Properties: { Name: 'b' } }),
    /exactly one REST API; the template has 2/,
  ],
  [
    'an HTTP API',
    (api) => api.add('Http', { Type: 'AWS::ApiGatewayV2::Api', Properties: {} }),
    /Http \(AWS::ApiGatewayV2::Api\) is not modelled/,
  ],
  [
    'a usage plan',
    (api) => api.add('Plan', { Type: 'AWS::ApiGateway::UsagePlan', Properties: {} }),
    /Plan \(AWS::ApiGateway::UsagePlan\) is not modelled/,
  ],
  [
    'a method that requires an API key',
    (api) => Object.assign(props(api, 'ApimcpPOST'), { ApiKeyRequired: true }),
    /API keys \(usage plans\) are not modelled/,
  ],
  [
    'a resource policy',
    (api) => Object.assign(props(api, API), { Policy: { Statement: [] } }),
    /Api \(AWS::ApiGateway::RestApi\) sets Policy/,
  ],
  [
    'an edge-optimized endpoint (the default type)',
    (api) => delete props(api, API).EndpointConfiguration,
    /endpoint type EDGE/,
  ],
  [
    'a private endpoint',
    (api) => Object.assign(props(api, API), { EndpointConfiguration: { Types: ['PRIVATE'] } }),
    /endpoint type PRIVATE/,
  ],
  [
    'a path parameter',
    (api) => api.method('/items/{id}', 'GET', { function: 'Handler' }),
    /path parameters \(\{\{id\}\}\) are not modelled/,
  ],
  [
    'two stages',
    (api) =>
      api.add('Stage2', {
        Type: 'AWS::ApiGateway::Stage',
        Properties: { StageName: 'dev', RestApiId: ref(API) },
      }),
    /exactly one stage; the template has 2/,
  ],
  ['a canary', (api) => api.stage({ CanarySetting: { PercentTraffic: 10 } }), /sets CanarySetting/],
  [
    'a stage cache cluster',
    (api) => api.stage({ CacheClusterEnabled: true }),
    /sets CacheClusterEnabled/,
  ],
  [
    'response caching on a method',
    (api) =>
      api.stage({
        MethodSettings: [{ HttpMethod: '*', ResourcePath: '/*', CachingEnabled: true }],
      }),
    /response caching is not modelled/,
  ],
  [
    'a client certificate for the backend',
    (api) => api.stage({ ClientCertificateId: 'abc' }),
    /sets ClientCertificateId/,
  ],
  [
    'a TOKEN authorizer',
    (api) => Object.assign(props(api, 'Authorizer'), { Type: 'TOKEN' }),
    /Authorizer: TOKEN authorizers are not modelled/,
  ],
  [
    'a Cognito authorizer on a method',
    (api) => Object.assign(props(api, 'ApimcpPOST'), { AuthorizationType: 'COGNITO_USER_POOLS' }),
    /authorization type COGNITO_USER_POOLS is not modelled/,
  ],
  [
    'IAM authorization',
    (api) => Object.assign(props(api, 'ApimcpPOST'), { AuthorizationType: 'AWS_IAM' }),
    /authorization type AWS_IAM is not modelled/,
  ],
  [
    'an authorizer invoked with a role',
    (api) =>
      Object.assign(props(api, 'Authorizer'), {
        AuthorizerCredentials: 'arn:aws:iam::123456789012:role/x',
      }),
    /sets AuthorizerCredentials/,
  ],
  [
    'authorizer caching without an identity source',
    (api) => {
      Object.assign(props(api, 'Authorizer'), { AuthorizerResultTtlInSeconds: 300 });
      delete props(api, 'Authorizer').IdentitySource;
    },
    /caching on \(TTL 300\) needs an IdentitySource/,
  ],
  [
    'an authorizer TTL over the maximum AWS accepts',
    (api) => Object.assign(props(api, 'Authorizer'), { AuthorizerResultTtlInSeconds: 7200 }),
    /AuthorizerResultTtlInSeconds 7200 \(AWS accepts 0 to 3600\)/,
  ],
  [
    'an identity source of no known kind',
    (api) => Object.assign(props(api, 'Authorizer'), { IdentitySource: 'method.request.path.id' }),
    /identity source method\.request\.path\.id is not one API Gateway knows/,
  ],
  [
    'an HTTP proxy integration',
    (api) =>
      Object.assign(integration(api, 'ApimcpPOST'), {
        Type: 'HTTP_PROXY',
        Uri: 'https://example.com',
      }),
    /integration type HTTP_PROXY is not modelled/,
  ],
  [
    'integration request parameters',
    (api) =>
      Object.assign(integration(api, 'ApimcpPOST'), {
        RequestParameters: { 'integration.request.header.X': "'1'" },
      }),
    /Integration\.RequestParameters is not modelled/,
  ],
  [
    'a STREAM integration on the buffered URI',
    (api) => Object.assign(integration(api, 'ApimcpPOST'), { ResponseTransferMode: 'STREAM' }),
    /ResponseTransferMode STREAM with an integration URI ending in \/invocations/,
  ],
  [
    'an integration URI naming no function of the template',
    (api) =>
      Object.assign(integration(api, 'ApimcpPOST'), {
        Uri: 'arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:1:function:x/invocations',
      }),
    /names no Lambda function of this template/,
  ],
  [
    'a request-model keyword the validator does not evaluate',
    (api) => {
      api.add('Model', {
        Type: 'AWS::ApiGateway::Model',
        Properties: {
          RestApiId: ref(API),
          ContentType: 'application/json',
          Schema: { type: 'object', additionalProperties: false },
        },
      });
      Object.assign(props(api, 'ApimcpPOST'), {
        RequestModels: { 'application/json': ref('Model') },
      });
    },
    /JSON schema keyword additionalProperties is not modelled/,
  ],
  [
    'a mapping template beyond the modelled VTL',
    (api) =>
      Object.assign(
        (
          integration(api, 'ApidocGET').IntegrationResponses as Record<string, unknown>[]
        )[0] as object,
        { ResponseTemplates: { 'application/json': '#foreach($x in $list)$x#end' } },
      ),
    /directive #foreach/,
  ],
  [
    'a mock response header from the integration response',
    (api) =>
      Object.assign(
        (
          integration(api, 'ApidocGET').IntegrationResponses as Record<string, unknown>[]
        )[0] as object,
        { ResponseParameters: { 'method.response.header.X': 'integration.response.body.x' } },
      ),
    /mock response parameter from integration\.response\.body\.x is not modelled/,
  ],
  [
    'a gateway-response header from $context',
    (api) =>
      api.gatewayResponse('ACCESS_DENIED', { headers: { 'X-Why': 'context.authorizer.reason' } }),
    /maps gatewayresponse\.header\.X-Why from context\.authorizer\.reason: AWS documents only request parameters/,
  ],
  [
    'a gateway-response template with VTL',
    (api) =>
      api.gatewayResponse('DEFAULT_4XX', {
        templates: { 'application/json': '#if($context.error.message)x#end' },
      }),
    /gateway responses do not evaluate/,
  ],
  [
    'a base path mapped to another stage',
    (api) => {
      domain(api, 'Domain', 'api.example.com');
      Object.assign(props(api, 'DomainMapping'), { Stage: 'dev' });
    },
    /DomainMapping: maps a stage other than prod/,
  ],
  [
    'two custom domains',
    (api) => {
      domain(api, 'Domain', 'api.example.com');
      domain(api, 'Domain2', 'mcp.example.com');
    },
    /one custom domain/,
  ],
  [
    'mutual TLS on a custom domain',
    (api) =>
      domain(api, 'Domain', 'api.example.com', {
        MutualTlsAuthentication: { TruststoreUri: 's3://b/k' },
      }),
    /Domain sets MutualTlsAuthentication/,
  ],
  [
    'a WAF statement it does not evaluate',
    (api) => webAcl(api, { Statement: { GeoMatchStatement: { CountryCodes: ['XX'] } } }),
    /WAF rule R: GeoMatchStatement is not modelled/,
  ],
  [
    'WAF inspecting the body',
    (api) =>
      webAcl(api, {
        Statement: {
          ByteMatchStatement: {
            FieldToMatch: { Body: {} },
            SearchString: 'x',
            PositionalConstraint: 'CONTAINS',
            TextTransformations: [],
          },
        },
      }),
    /WAF rule R: matching Body is not modelled/,
  ],
  [
    'a WAF text transformation it does not apply',
    (api) =>
      webAcl(api, {
        Statement: {
          ...uriMatch,
          RegexMatchStatement: {
            ...uriMatch.RegexMatchStatement,
            TextTransformations: [{ Priority: 0, Type: 'COMPRESS_WHITE_SPACE' }],
          },
        },
      }),
    /WAF text transformation COMPRESS_WHITE_SPACE is not modelled/,
  ],
  [
    'a WAF rate limit keyed on a forwarded address',
    (api) =>
      webAcl(api, {
        Statement: { RateBasedStatement: { AggregateKeyType: 'FORWARDED_IP', Limit: 100 } },
      }),
    /rate-based aggregation FORWARDED_IP is not modelled/,
  ],
  [
    'a WAF CAPTCHA',
    (api) => webAcl(api, { Statement: uriMatch, Action: { Captcha: {} } }),
    /WAF rule R: the Captcha action is not modelled/,
  ],
  [
    'WAF headers inserted into the request',
    (api) =>
      webAcl(api, {
        Statement: uriMatch,
        Action: {
          Count: { CustomRequestHandling: { InsertHeaders: [{ Name: 'x', Value: '1' }] } },
        },
      }),
    /WAF rule R: custom request handling/,
  ],
  [
    'a runtime other than Node.js',
    (api) => Object.assign(props(api, 'Handler'), { Runtime: 'python3.12' }),
    /Handler: runtime python3\.12 is not modelled/,
  ],
  [
    'Lambda layers',
    (api) =>
      Object.assign(props(api, 'Handler'), { Layers: ['arn:aws:lambda:us-east-1:1:layer:x:1'] }),
    /Handler: Lambda layers are not modelled/,
  ],
  [
    'JSON function logs',
    (api) => Object.assign(props(api, 'Handler'), { LoggingConfig: { LogFormat: 'JSON' } }),
    /Handler: log format JSON is not modelled/,
  ],
  [
    'a function whose code is not in the assembly',
    (api) =>
      api.add('NoCode', {
        Type: 'AWS::Lambda::Function',
        Properties: {
          Runtime: 'nodejs22.x',
          Handler: 'index.handler',
          Code: { S3Bucket: 'b', S3Key: 'k.zip' },
        },
      }),
    /NoCode: its code was not bundled into the assembly/,
  ],
  [
    'a KMS key of a spec it does not model (asymmetric)',
    (api) => api.add('Signing', { Type: 'AWS::KMS::Key', Properties: { KeySpec: 'RSA_2048' } }),
    /KMS key Signing: KeySpec "RSA_2048" is not modelled/,
  ],
  [
    'a value imported from another stack',
    (api) => api.stage({ Variables: { other: { 'Fn::ImportValue': 'Other-Export' } } }),
    /the emulator cannot resolve Fn::ImportValue/,
  ],
];

describe('the emulator refuses to start, saying what, on', () => {
  it('nothing: the template every case changes starts', async () => {
    const served = await serve(base());

    await served.stop();
  });

  it.each(CASES)('%s', async (_name, change, message) => {
    const api = base();
    change(api);

    const started = serve(api);

    await expect(started).rejects.toThrow(UnsupportedTemplateError);
    await expect(started).rejects.toThrow(message);
  });
});
