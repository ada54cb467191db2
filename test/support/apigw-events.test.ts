/**
 * The API Gateway event builders against the pages they cite: the documented field sets, the
 * two header maps that must agree, the method ARN's form, and the authorizer context as API
 * Gateway hands it on (strings, plus its own `principalId` and `integrationLatency`).
 */
import { describe, expect, it } from 'vitest';
import { type Principal, parsePrincipal } from '../../lambda/shared/principal';
import { eventHeaderMaps } from '../../tools/local/emulator/header-rules';
import {
  AUTHORIZER_LATENCY_MS,
  authorizerContextOf,
  authorizerEvent,
  methodArnOf,
  proxyEvent,
  TEST_API,
  valueMaps,
} from './apigw-events';

/** "Input format of a Lambda function for proxy integration": the event's keys. */
const PROXY_EVENT_FIELDS = [
  'resource',
  'path',
  'httpMethod',
  'headers',
  'multiValueHeaders',
  'queryStringParameters',
  'multiValueQueryStringParameters',
  'pathParameters',
  'stageVariables',
  'requestContext',
  'body',
  'isBase64Encoded',
];

/**
 * "Input to an API Gateway Lambda authorizer", REQUEST input format: the event's keys, the
 * proxy event's request fields without the body, after its type and the method ARN.
 */
const AUTHORIZER_EVENT_FIELDS = [
  'type',
  'methodArn',
  ...PROXY_EVENT_FIELDS.filter((field) => field !== 'body' && field !== 'isBase64Encoded'),
];

/** The `requestContext` keys of the documented examples (the proxy page's AWS_IAM one). */
const DOCUMENTED_CONTEXT_FIELDS = [
  'requestTime',
  'path',
  'accountId',
  'protocol',
  'resourceId',
  'stage',
  'requestTimeEpoch',
  'requestId',
  'identity',
  'resourcePath',
  'httpMethod',
  'apiId',
];

/** The `identity` keys of the documented examples. */
const DOCUMENTED_IDENTITY_FIELDS = [
  'cognitoIdentityPoolId',
  'accountId',
  'cognitoIdentityId',
  'caller',
  'sourceIp',
  'accessKey',
  'cognitoAuthenticationType',
  'cognitoAuthenticationProvider',
  'userArn',
  'userAgent',
  'user',
  'apiKey',
];

const analyst: Principal = {
  principalId: 'user-analyst-01',
  authMethod: 'cognito',
  groups: ['analyst', 'auditor'],
  scopes: ['mcp/tools', 'openid'],
  keyId: '',
  expiresAt: 4_102_444_800,
};

/** Every `[name, value]` of the single-value map that is not the last of its multi-value list. */
function disagreements(event: {
  headers: Record<string, string | undefined> | null;
  multiValueHeaders: Record<string, string[] | undefined> | null;
}): string[] {
  const single = event.headers ?? {};
  const multi = event.multiValueHeaders ?? {};
  const names = new Set([...Object.keys(single), ...Object.keys(multi)]);
  return [...names].filter((name) => single[name] !== multi[name]?.at(-1));
}

describe('proxyEvent', () => {
  it('has exactly the fields of the documented proxy-integration input', () => {
    // Act
    const event = proxyEvent();

    // Assess
    expect(Object.keys(event).sort()).toEqual([...PROXY_EVENT_FIELDS].sort());
  });

  it('has every requestContext and identity field of the documented examples', () => {
    // Act
    const { requestContext } = proxyEvent();

    // Assess
    expect(Object.keys(requestContext)).toEqual(expect.arrayContaining(DOCUMENTED_CONTEXT_FIELDS));
    expect(Object.keys(requestContext.identity)).toEqual(
      expect.arrayContaining(DOCUMENTED_IDENTITY_FIELDS),
    );
  });

  it('puts each header in both maps, so that they agree', () => {
    // Act
    const event = proxyEvent({
      headers: { Accept: 'application/json', 'Content-Type': 'application/json' },
    });

    // Assess
    expect(event.multiValueHeaders).toEqual({
      Accept: ['application/json'],
      'Content-Type': ['application/json'],
    });
    expect(disagreements(event)).toEqual([]);
  });

  it('gives a repeated header its last value in headers and all of them in multiValueHeaders', () => {
    // Act
    const event = proxyEvent({ headers: { Accept: ['application/json', 'text/event-stream'] } });

    // Assess
    expect(event.headers).toEqual({ Accept: 'text/event-stream' });
    expect(event.multiValueHeaders).toEqual({ Accept: ['application/json', 'text/event-stream'] });
  });

  it('splits repeated headers as the local emulator does for the events it sends', () => {
    // Act
    const event = proxyEvent({ headers: { 'X-Tag': ['a', 'b'], Accept: '*/*' } });

    // Assess
    expect({ headers: event.headers, multiValueHeaders: event.multiValueHeaders }).toEqual(
      eventHeaderMaps([
        ['X-Tag', 'a'],
        ['X-Tag', 'b'],
        ['Accept', '*/*'],
      ]),
    );
  });

  it('has null query maps without a query string, and agreeing ones with one', () => {
    // Act
    const without = proxyEvent();
    const withQuery = proxyEvent({ query: { q: ['a', 'b'], page: '2' } });

    // Assess
    expect([without.queryStringParameters, without.multiValueQueryStringParameters]).toEqual([
      null,
      null,
    ]);
    expect(withQuery.queryStringParameters).toEqual({ q: 'b', page: '2' });
    expect(withQuery.multiValueQueryStringParameters).toEqual({ q: ['a', 'b'], page: ['2'] });
  });

  it('names the same method and resource at the top and in the request context, the stage in its path', () => {
    // Act
    const event = proxyEvent({ method: 'DELETE', path: '/things/1', resource: '/things/{id}' });

    // Assess
    expect(event.requestContext).toMatchObject({
      httpMethod: 'DELETE',
      path: `/${TEST_API.stage}/things/1`,
      resourcePath: '/things/{id}',
      stage: TEST_API.stage,
    });
    expect([event.httpMethod, event.path, event.resource]).toEqual([
      'DELETE',
      '/things/1',
      '/things/{id}',
    ]);
  });

  it("takes identity.userAgent from the request's User-Agent header, whatever its case", () => {
    // Act
    const event = proxyEvent({ headers: { 'user-agent': 'claude-code/2.0.0' } });

    // Assess
    expect(event.requestContext.identity.userAgent).toBe('claude-code/2.0.0');
    expect(proxyEvent().requestContext.identity.userAgent).toBeNull();
  });

  it('has no authorizer in the request context of a method without one', () => {
    // Act
    const event = proxyEvent();

    // Assess
    expect(Object.hasOwn(event.requestContext, 'authorizer')).toBe(false);
  });

  it("hands on the caller's context as strings, with API Gateway's principalId and integrationLatency", () => {
    // Act
    const { authorizer } = proxyEvent({ caller: analyst }).requestContext;

    // Assess
    const { integrationLatency, ...context } = authorizer ?? {};
    expect(integrationLatency).toBe(AUTHORIZER_LATENCY_MS);
    expect(context.principalId).toBe(analyst.principalId);
    expect(Object.values(context).every((value) => typeof value === 'string')).toBe(true);
  });

  it('carries a context that the MCP handler reads back as the same caller', () => {
    // Act
    const event = proxyEvent({ caller: analyst });

    // Assess
    expect(parsePrincipal(event.requestContext.authorizer, 0)).toEqual(analyst);
  });

  it('passes an authorizer it is given as is, null included', () => {
    // Act
    const nulled = proxyEvent({ caller: analyst, authorizer: null });
    const odd = proxyEvent({ authorizer: { groups: ['admin'] } });

    // Assess
    expect(nulled.requestContext.authorizer).toBeNull();
    expect(odd.requestContext.authorizer).toEqual({ groups: ['admin'] });
  });

  it('carries the body, null by default', () => {
    // Act
    const empty = proxyEvent();
    const encoded = proxyEvent({ body: 'aGk=', isBase64Encoded: true });

    // Assess
    expect([empty.body, empty.isBase64Encoded]).toEqual([null, false]);
    expect([encoded.body, encoded.isBase64Encoded]).toEqual(['aGk=', true]);
  });
});

describe('authorizerContextOf', () => {
  it('is what proxyEvent puts in the request context for the caller', () => {
    expect(proxyEvent({ caller: analyst }).requestContext.authorizer).toEqual(
      authorizerContextOf(analyst),
    );
  });
});

describe('authorizerEvent', () => {
  it('has exactly the fields of the documented REQUEST authorizer input', () => {
    // Act
    const event = authorizerEvent();

    // Assess
    expect(Object.keys(event).sort()).toEqual([...AUTHORIZER_EVENT_FIELDS].sort());
    expect(event.type).toBe('REQUEST');
  });

  it('has every documented request context field, and no authorizer', () => {
    // Act
    const { requestContext } = authorizerEvent();

    // Assess
    expect(Object.keys(requestContext)).toEqual(expect.arrayContaining(DOCUMENTED_CONTEXT_FIELDS));
    expect(Object.hasOwn(requestContext, 'authorizer')).toBe(false);
  });

  it('names the method it guards in methodArn', () => {
    // Act
    const event = authorizerEvent({ method: 'GET', path: '/mcp', api: { region: 'eu-west-1' } });

    // Assess
    expect(event.methodArn).toBe(
      `arn:aws:execute-api:eu-west-1:${TEST_API.accountId}:${TEST_API.apiId}/${TEST_API.stage}/GET/mcp`,
    );
  });

  it('puts a repeated Authorization header in both maps, so that they agree', () => {
    // Act
    const event = authorizerEvent({
      headers: { Authorization: ['Bearer a', 'Bearer b'], Host: 'api.example.com' },
    });

    // Assess
    expect(event.multiValueHeaders).toEqual({
      Authorization: ['Bearer a', 'Bearer b'],
      Host: ['api.example.com'],
    });
    expect(disagreements(event)).toEqual([]);
  });

  it('has empty maps where the proxy event has null', () => {
    // Act
    const event = authorizerEvent();

    // Assess
    expect([
      event.queryStringParameters,
      event.multiValueQueryStringParameters,
      event.pathParameters,
      event.stageVariables,
    ]).toEqual([{}, {}, {}, {}]);
  });

  it('carries the request id and source address the audit records name', () => {
    // Act
    const event = authorizerEvent({ requestId: 'req-7', sourceIp: '198.51.100.4' });

    // Assess
    expect(event.requestContext.requestId).toBe('req-7');
    expect(event.requestContext.identity.sourceIp).toBe('198.51.100.4');
  });
});

describe('methodArnOf', () => {
  it('joins the API, stage, verb and resource path as API Gateway does', () => {
    expect(
      methodArnOf({
        method: 'DELETE',
        path: '/',
        api: { region: 'eu-west-1', accountId: '111122223333', apiId: 'zz99', stage: 'dev' },
      }),
    ).toBe('arn:aws:execute-api:eu-west-1:111122223333:zz99/dev/DELETE/');
  });
});

describe('valueMaps', () => {
  it('keeps an empty list out of the single-value map', () => {
    expect(valueMaps({ Authorization: [] })).toEqual({
      single: {},
      multi: { Authorization: [] },
    });
  });
});
