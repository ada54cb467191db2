/**
 * A buffered Lambda proxy integration, end to end: who may invoke the function, what API
 * Gateway makes of its result, the payload limits of API Gateway (10 MB) and Lambda (6 MB),
 * the integration timeout, binary media, gateway responses for gateway-made errors only, and
 * the access-log line.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawRequest } from '../../../../support/raw-http';
import { ECHO, type Served, serve, TestApi } from '../../../../support/test-api';

const ACCESS_LOG_FORMAT =
  '$context.requestId $context.httpMethod $context.resourcePath $context.status $context.error.responseType "$context.error.message" $context.authorizer.principalId $context.integration.error';

const SHAPES = `
const shapes = {
  'unknown-key': { statusCode: 200, wrongValue: 'value' },
  empty: {},
  'bad-status': { statusCode: 'test' },
  'bad-multi': { statusCode: 200, multiValueHeaders: { a: 'b' } },
  string: 'justAString',
  'status-only': { statusCode: 204 },
  'own-404': { statusCode: 404, headers: { 'content-type': 'text/plain' }, body: 'mine' },
  'own-500': { statusCode: 500, body: 'my failure' },
  binary: { statusCode: 200, headers: { 'content-type': 'image/png' }, isBase64Encoded: true, body: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1]).toString('base64') },
};
exports.handler = async (event) => {
  const q = event.queryStringParameters || {};
  if (q.shape === 'throw') throw new TypeError('boom');
  if (q.shape === 'sleep') { await new Promise((r) => setTimeout(r, Number(q.ms))); return { statusCode: 200, body: 'late' }; }
  if (q.shape === 'big') return { statusCode: 200, body: 'x'.repeat(Number(q.bytes)) };
  return shapes[q.shape];
};
`;

function build(): TestApi {
  const api = new TestApi({ api: { BinaryMediaTypes: ['image/png'] } });
  api.function('Echo', ECHO);
  api.function('Shapes', SHAPES, { timeout: 1 });
  api.function('NoPermission', ECHO);
  api.function('OtherPermission', ECHO);
  api.function('ByName', ECHO);
  api.method('/echo', 'POST', { function: 'Echo' });
  api.method('/shapes', 'GET', { function: 'Shapes' });
  api.method('/quick', 'GET', { function: 'Shapes', lambda: { timeoutMs: 200 } });
  api.method('/forbidden', 'GET', { function: 'NoPermission', noPermission: true });
  api.method('/elsewhere', 'GET', { function: 'OtherPermission', noPermission: true });
  api.permission('OtherPermission', '/GET/somewhere-else', 'Elsewhere');
  api.method('/by-name', 'GET', { function: 'ByName', noPermission: true });
  api.add('ByNamePermission', {
    Type: 'AWS::Lambda::Permission',
    Properties: {
      Action: 'lambda:InvokeFunction',
      // An ARN built by hand, not a GetAtt: Lambda takes a name, an ARN or a partial ARN.
      FunctionName: {
        'Fn::Join': [':', ['arn:aws:lambda:us-east-1:123456789012:function', { Ref: 'ByName' }]],
      },
      Principal: 'apigateway.amazonaws.com',
      SourceArn: {
        'Fn::Join': ['', ['arn:aws:execute-api:us-east-1:123456789012:', { Ref: 'Api' }, '/*/*']],
      },
    },
  });
  api.gatewayResponse('DEFAULT_4XX', {
    headers: { 'Access-Control-Allow-Origin': "'https://app.example'", Vary: "'Origin'" },
    templates: { 'application/json': '{"message":$context.error.messageString}' },
  });
  api.gatewayResponse('REQUEST_TOO_LARGE', {
    statusCode: '400',
    templates: { 'application/json': '{"custom":true}' },
  });
  api.add('AccessLogs', { Type: 'AWS::Logs::LogGroup', Properties: {} });
  api.stage({
    AccessLogSetting: {
      DestinationArn: { 'Fn::GetAtt': ['AccessLogs', 'Arn'] },
      Format: ACCESS_LOG_FORMAT,
    },
  });
  return api;
}

let served: Served;
beforeAll(async () => {
  served = await serve(build());
});
afterAll(() => served.stop());

const shape = (name: string, init?: RequestInit) => served.fetch(`/shapes?shape=${name}`, init);

describe('Lambda permissions', () => {
  it('answer 500 for a function no AWS::Lambda::Permission lets API Gateway invoke', async () => {
    const response = await served.fetch('/forbidden');

    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ message: 'Internal server error' });
  });

  it("answer 500 when the function's permission names another method's ARN", async () => {
    expect((await served.fetch('/elsewhere')).status).toBe(500);
  });

  it('let a permission name its function by ARN and cover every method with wildcards', async () => {
    expect((await served.fetch('/by-name')).status).toBe(200);
  });
});

describe("what API Gateway makes of the function's result", () => {
  it.each(['unknown-key', 'empty', 'bad-status', 'bad-multi', 'string'])(
    'a malformed result (%s) is a 502 Internal server error',
    async (name) => {
      const response = await shape(name);

      expect(response.status).toBe(502);
      expect(await response.json()).toEqual({ message: 'Internal server error' });
    },
  );

  it('a status alone is that status with an empty body, typed application/json', async () => {
    const response = await shape('status-only');

    expect(response.status).toBe(204);
    expect(response.headers.get('content-type')).toBe('application/json');
  });

  it('an unhandled error of the function is a 502, its error in the function log', async () => {
    const response = await shape('throw');

    expect(response.status).toBe(502);
    const lines = served.emulator.logs.events().map((event) => event.message);
    expect(
      lines.some(
        (line) => line.includes('Invoke Error') && line.includes('"errorType":"TypeError"'),
      ),
    ).toBe(true);
  });

  it('a function that runs past its own timeout is a 502', async () => {
    expect((await shape('sleep&ms=3000')).status).toBe(502);
  });

  it('a buffered response over 6 MB is a 502 (Function.ResponseSizeTooLarge)', async () => {
    expect((await shape(`big&bytes=${6 * 1024 * 1024 + 200}`)).status).toBe(502);
  });
});

describe('gateway responses are for errors API Gateway makes, and only those', () => {
  it("pass a function's own 4xx through untouched: no gateway-response headers, its own body", async () => {
    const response = await shape('own-404');

    expect(response.status).toBe(404);
    expect(await response.text()).toBe('mine');
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
    expect(response.headers.get('x-amzn-errortype')).toBeNull();
  });

  it("pass a function's own 5xx through untouched", async () => {
    const response = await shape('own-500');

    expect([response.status, await response.text()]).toEqual([500, 'my failure']);
  });

  it("answer API Gateway's own 4xx with the DEFAULT_4XX headers exactly as configured", async () => {
    const response = await served.fetch('/nowhere');

    expect(response.status).toBe(403);
    expect(response.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(response.headers.get('vary')).toBe('Origin');
    expect(response.headers.get('access-control-allow-credentials')).toBeNull();
  });
});

describe('payload limits', () => {
  it('refuses a body over 10 MB at API Gateway, whose 413 no gateway response changes', async () => {
    const response = await served.fetch('/echo', {
      method: 'POST',
      body: Buffer.alloc(10 * 1024 * 1024 + 1, 'a'),
    });

    expect(response.status).toBe(413);
    expect(await response.text()).toBe('HTTP content length exceeded 10485760 bytes.');
  });

  it('refuses a chunked body once it passes 10 MB, with no length declared', async () => {
    const { status } = await rawRequest(`${served.url}/echo`, {
      method: 'POST',
      body: Array.from({ length: 11 }, () => Buffer.alloc(1024 * 1024, 'a')),
    });

    expect(status).toBe(413);
  });

  it("passes 7 MB through API Gateway to Lambda's 6 MB limit: 413 Request Too Long, not customizable", async () => {
    const response = await served.fetch('/echo', {
      method: 'POST',
      body: Buffer.alloc(7 * 1024 * 1024, 'a'),
    });

    expect(response.status).toBe(413);
    expect(response.headers.get('x-amzn-errortype')).toBe('BadRequestException');
    expect(await response.json()).toEqual({ message: 'Request Too Long' });
  });
});

describe('the integration timeout', () => {
  it('answers 504 Endpoint request timed out when the function is slower than the integration allows', async () => {
    const response = await served.fetch('/quick?shape=sleep&ms=900');

    expect(response.status).toBe(504);
    expect(await response.json()).toEqual({ message: 'Endpoint request timed out' });
  });
});

describe('binary media types', () => {
  it('decode a base64 result for a client whose Accept is a binary media type', async () => {
    const response = await shape('binary', { headers: { Accept: 'image/png' } });

    expect(Buffer.from(await response.arrayBuffer())).toEqual(
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1]),
    );
  });

  it('send the base64 text as it is to a client that accepts another type', async () => {
    const response = await shape('binary', { headers: { Accept: 'application/json' } });

    expect(await response.text()).toBe(
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1]).toString('base64'),
    );
  });

  it('base64-encode a request body of a binary media type for the function', async () => {
    const response = await served.fetch('/echo', {
      method: 'POST',
      headers: { 'Content-Type': 'image/png' },
      body: Buffer.from([1, 2, 3]),
    });
    const event = (await response.json()) as { body: string; isBase64Encoded: boolean };

    expect(event).toMatchObject({ body: 'AQID', isBase64Encoded: true });
  });
});

describe('the access log', () => {
  it("writes one line per request in the stage's format, with - for a variable that has no value", async () => {
    const before = served.accessLog().length;
    const response = await served.fetch('/nowhere');
    const requestId = response.headers.get('x-amzn-requestid');

    const lines = served.accessLog().slice(before);

    expect(lines).toEqual([
      `${requestId} GET - 403 MISSING_AUTHENTICATION_TOKEN "Missing Authentication Token" - -`,
    ]);
  });

  it("writes nothing for a request outside the stage: it is not the stage's", async () => {
    const before = served.accessLog().length;

    const response = await fetch(`${served.emulator.executeApiOrigin}/elsewhere/shapes`);

    expect(response.status).toBe(403);
    expect(served.accessLog().length).toBe(before);
  });

  it('records why an integration failed', async () => {
    const response = await shape('empty');
    const requestId = response.headers.get('x-amzn-requestid');

    const line = served.accessLog().find((entry) => entry.startsWith(`${requestId} `));

    expect(line).toMatch(
      / GET \/shapes 502 INTEGRATION_FAILURE "Internal server error" - Malformed Lambda proxy response: an empty object$/,
    );
  });
});
