/**
 * What API Gateway checks before the integration, end to end: the stage's web ACL (WAF),
 * throttling per method, request validation, and a mock integration's passthrough behavior.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  API,
  ECHO,
  mockIntegration,
  type Served,
  serve,
  TestApi,
} from '../../../../support/test-api';

const ref = (logicalId: string) => ({ Ref: logicalId });

function build(): TestApi {
  const api = new TestApi();
  api.function('Echo', ECHO);
  api.add('Model', {
    Type: 'AWS::ApiGateway::Model',
    Properties: {
      RestApiId: ref(API),
      ContentType: 'application/json',
      Schema: {
        type: 'object',
        required: ['jsonrpc'],
        properties: { jsonrpc: { type: 'string', enum: ['2.0'] } },
      },
    },
  });
  api.add('Validator', {
    Type: 'AWS::ApiGateway::RequestValidator',
    Properties: { RestApiId: ref(API), ValidateRequestBody: true, ValidateRequestParameters: true },
  });
  api.add('BodyOnly', {
    Type: 'AWS::ApiGateway::RequestValidator',
    Properties: {
      RestApiId: ref(API),
      ValidateRequestBody: true,
      ValidateRequestParameters: false,
    },
  });
  api.method('/mcp', 'POST', {
    function: 'Echo',
    properties: {
      RequestValidatorId: ref('Validator'),
      RequestModels: { 'application/json': ref('Model') },
      RequestParameters: {
        'method.request.header.X-Tenant': true,
        'method.request.querystring.v': true,
      },
    },
  });
  api.method('/loose', 'POST', {
    function: 'Echo',
    properties: {
      RequestValidatorId: ref('BodyOnly'),
      RequestModels: { 'application/json': ref('Model') },
      RequestParameters: { 'method.request.header.X-Tenant': true },
    },
  });
  api.method('/register', 'POST', { function: 'Echo' });
  api.method('/token', 'POST', { function: 'Echo' });
  api.method('/strict', 'GET', {
    mock: mockIntegration('{"ok":true}', { passthrough: 'NEVER' }),
  });
  api.method('/lenient', 'GET', {
    mock: mockIntegration('{"ok":true}', { passthrough: 'WHEN_NO_MATCH' }),
  });
  api.stage({
    MethodSettings: [
      { HttpMethod: '*', ResourcePath: '/*', ThrottlingRateLimit: 1, ThrottlingBurstLimit: 3 },
      {
        HttpMethod: 'POST',
        ResourcePath: '/~1register',
        ThrottlingRateLimit: 1,
        ThrottlingBurstLimit: 1,
      },
    ],
  });
  api.gatewayResponse('BAD_REQUEST_BODY', {
    statusCode: '400',
    templates: { 'application/json': '{"error":$context.error.validationErrorString}' },
  });
  api.gatewayResponse('WAF_FILTERED', {
    statusCode: '403',
    templates: { 'application/json': '{"blocked":true}' },
  });
  api.webAcl('Acl', {
    CustomResponseBodies: {
      TooLarge: { ContentType: 'TEXT_PLAIN', Content: 'header too large' },
    },
    Rules: [
      {
        Name: 'LongAuthorization',
        Priority: 0,
        Action: {
          Block: { CustomResponse: { ResponseCode: 413, CustomResponseBodyKey: 'TooLarge' } },
        },
        Statement: {
          SizeConstraintStatement: {
            FieldToMatch: { SingleHeader: { Name: 'authorization' } },
            ComparisonOperator: 'GT',
            Size: 64,
            TextTransformations: [{ Priority: 0, Type: 'NONE' }],
          },
        },
        VisibilityConfig: {},
      },
      {
        Name: 'NoAdmin',
        Priority: 1,
        Action: { Block: {} },
        Statement: {
          ByteMatchStatement: {
            FieldToMatch: { UriPath: {} },
            SearchString: '/admin',
            PositionalConstraint: 'CONTAINS',
            TextTransformations: [{ Priority: 0, Type: 'LOWERCASE' }],
          },
        },
        VisibilityConfig: {},
      },
    ],
  });
  return api;
}

let now = 1_000_000;
let served: Served;
beforeAll(async () => {
  served = await serve(build(), { now: () => now });
});
afterAll(() => served.stop());

const valid = { 'Content-Type': 'application/json', 'X-Tenant': 't1' };

describe('the web ACL runs first', () => {
  it("answers a rule's custom response before anything else of the API (a header over its size: 413)", async () => {
    const response = await served.fetch('/nowhere', {
      headers: { Authorization: `Bearer ${'x'.repeat(64)}` },
    });

    expect(response.status).toBe(413);
    expect(response.headers.get('content-type')).toBe('text/plain');
    expect(await response.text()).toBe('header too large');
  });

  it('answers a plain Block with the WAF_FILTERED gateway response', async () => {
    const response = await served.fetch('/ADMIN/x');

    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({ blocked: true });
  });
});

describe('request validation', () => {
  it('answers a body that fails the model of its content type with BAD_REQUEST_BODY and the validation error', async () => {
    const response = await served.fetch('/mcp?v=1', {
      method: 'POST',
      headers: valid,
      body: '{"jsonrpc":"1.0"}',
    });

    expect(response.status).toBe(400);
    expect(await response.text()).toBe(
      '{"error":[instance value ("1.0") not found in enum at $.jsonrpc]}',
    );
  });

  it('lets a body of a content type without a model through unchecked', async () => {
    const response = await served.fetch('/mcp?v=1', {
      method: 'POST',
      headers: { ...valid, 'Content-Type': 'text/plain' },
      body: 'not json at all',
    });

    expect(response.status).toBe(200);
  });

  it('answers missing required parameters with BAD_REQUEST_PARAMETERS naming them all', async () => {
    const response = await served.fetch('/mcp', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Tenant': '  ' },
      body: '{"jsonrpc":"2.0"}',
    });

    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      message: 'Missing required request parameters: [X-Tenant, v]',
    });
  });

  it('checks no parameter under a validator that validates only bodies', async () => {
    const response = await served.fetch('/loose', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{"jsonrpc":"2.0"}',
    });

    expect(response.status).toBe(200);
  });
});

describe('throttling', () => {
  it("answers 429 THROTTLED past a method's own limit, while another method still has its stage-default burst", async () => {
    const first = await served.fetch('/register', { method: 'POST' });
    const second = await served.fetch('/register', { method: 'POST' });
    const other = await served.fetch('/token', { method: 'POST' });

    expect([first.status, second.status, other.status]).toEqual([200, 429, 200]);
    expect(second.headers.get('x-amzn-errortype')).toBe('TooManyRequestsException');
    expect(await second.json()).toEqual({ message: 'Too Many Requests' });
  });

  it('admits again once the gateway clock has refilled a token', async () => {
    now += 1_000;

    expect((await served.fetch('/register', { method: 'POST' })).status).toBe(200);
  });
});

describe("a mock integration's passthrough behavior", () => {
  it('NEVER: a content type without a request template is 415 Unsupported Media Type', async () => {
    const response = await served.fetch('/strict', { headers: { 'Content-Type': 'text/plain' } });

    expect(response.status).toBe(415);
    expect(response.headers.get('x-amzn-errortype')).toBe('UnsupportedMediaTypeException');
  });

  it('NEVER: no Content-Type is taken as application/json, which has its template', async () => {
    const response = await served.fetch('/strict');

    expect([response.status, await response.json()]).toEqual([200, { ok: true }]);
  });

  it('WHEN_NO_MATCH: any content type passes', async () => {
    expect(
      (await served.fetch('/lenient', { headers: { 'Content-Type': 'text/plain' } })).status,
    ).toBe(200);
  });
});
