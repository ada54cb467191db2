import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  checkBody,
  checkRequestLine,
  corsHeaders,
  type EdgeAnswer,
  type EdgeConfig,
  type EdgeResult,
  HYGIENE_HEADERS,
  JSONRPC,
  jsonDepth,
  jsonRpcErrorFor,
  MAX_JSON_DEPTH,
  toWebRequest,
  transportHeaders,
} from '../../../lambda/mcp/http';
import { proxyEvent, type Values } from '../../support/apigw-events';

const config: EdgeConfig = {
  allowedOrigins: ['https://app.example.com'],
  maxBodyBytes: 1024,
};

/** What every answer from the edge must look like: a JSON-RPC error, nothing more. */
const edgeErrorBody = z.strictObject({
  jsonrpc: z.literal('2.0'),
  error: z.strictObject({ code: z.number().int(), message: z.string() }),
  id: z.null(),
});

function errorOf(result: EdgeAnswer) {
  return edgeErrorBody.parse(JSON.parse(result.body)).error;
}

/** The early answer of a check that should have refused the request. */
function refusal(result: EdgeAnswer | EdgeResult | undefined): EdgeAnswer {
  if (result === undefined) throw new Error('expected the request to be refused, it passed');
  if (!('ok' in result)) return result;
  if (result.ok) throw new Error('expected the body to be refused, it passed');
  return result.response;
}

/** A request with these headers, whose request line and headers are what a check reads. */
const requestLine = (method: string, headers: Values = {}) => proxyEvent({ method, headers });

function bodyOf(body: string | null, isBase64Encoded = false) {
  return { body, isBase64Encoded };
}

const initialize = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: {} });

/** A POST of `initialize`, for the conversions that read more than the request line. */
const completeEvent = (
  headers: Values = { Host: 'api.example.com', 'Content-Type': 'application/json' },
) => proxyEvent({ headers, body: initialize });

describe('checkRequestLine', () => {
  it.each(['GET', 'DELETE', 'PUT', 'OPTIONS', 'PATCH'])('answers %s with 405', (method) => {
    // Act
    const result = checkRequestLine(requestLine(method), config);

    // Assess
    expect(result?.statusCode).toBe(405);
  });

  it('names POST as the only allowed method on a 405', () => {
    // Act
    const result = checkRequestLine(requestLine('GET'), config);

    // Assess
    expect(result?.headers?.Allow).toBe('POST');
  });

  it('explains a 405 in a JSON-RPC error body', () => {
    // Act
    const result = checkRequestLine(requestLine('DELETE'), config);

    // Assess
    expect(errorOf(refusal(result)).code).toBe(JSONRPC.refused);
  });

  it('refuses a POST from an origin that is not allowed with 403', () => {
    // Act
    const result = checkRequestLine(
      requestLine('POST', { Origin: 'https://evil.example' }),
      config,
    );

    // Assess
    expect(result?.statusCode).toBe(403);
  });

  it('refuses the opaque origin "null" unless it is allowed', () => {
    // Act
    const result = checkRequestLine(requestLine('POST', { Origin: 'null' }), config);

    // Assess
    expect(result?.statusCode).toBe(403);
  });

  it('refuses an origin that only differs from an allowed one by a suffix', () => {
    // Act
    const result = checkRequestLine(
      requestLine('POST', { Origin: 'https://app.example.com.evil.example' }),
      config,
    );

    // Assess
    expect(result?.statusCode).toBe(403);
  });

  it('lets a POST from an allowed origin through', () => {
    // Act
    const result = checkRequestLine(
      requestLine('POST', { Origin: 'https://app.example.com' }),
      config,
    );

    // Assess
    expect(result).toBeUndefined();
  });

  it('lets a POST without an Origin header through', () => {
    // Act
    const result = checkRequestLine(
      requestLine('POST', { 'Content-Type': 'application/json' }),
      config,
    );

    // Assess
    expect(result).toBeUndefined();
  });

  it.each(['origin', 'ORIGIN', 'oRiGiN'])('finds the Origin header spelled %s', (name) => {
    // Act
    const result = checkRequestLine(
      requestLine('POST', { [name]: 'https://evil.example' }),
      config,
    );

    // Assess
    expect(result?.statusCode).toBe(403);
  });

  it.each(['origin', 'ORIGIN'])(
    'finds an Origin header spelled %s in the single-value headers alone',
    (name) => {
      // Prepare
      const event = {
        ...requestLine('POST', { [name]: 'https://evil.example' }),
        multiValueHeaders: {},
      };

      // Act
      const result = checkRequestLine(event, config);

      // Assess
      expect(result?.statusCode).toBe(403);
    },
  );

  it.each(['origin', 'ORIGIN'])(
    'finds an Origin header spelled %s in the multi-value headers alone',
    (name) => {
      // Prepare
      const event = { ...requestLine('POST', { [name]: 'https://evil.example' }), headers: {} };

      // Act
      const result = checkRequestLine(event, config);

      // Assess
      expect(result?.statusCode).toBe(403);
    },
  );
});

describe('checkBody', () => {
  it('refuses a body over the limit with 413', () => {
    // Prepare
    const body = JSON.stringify({ pad: 'x'.repeat(config.maxBodyBytes) });

    // Act
    const result = checkBody(bodyOf(body), config);

    // Assess
    expect(refusal(result).statusCode).toBe(413);
  });

  it('measures the limit in UTF-8 bytes, not characters', () => {
    // Prepare: 13 characters but 18 bytes ("é" takes two bytes).
    const body = '{"a":"ééééé"}';
    const limit = { ...config, maxBodyBytes: 15 };

    // Act
    const result = checkBody(bodyOf(body), limit);

    // Assess
    expect(refusal(result).statusCode).toBe(413);
  });

  it('accepts a body of exactly the limit in bytes', () => {
    // Prepare
    const body = '{"jsonrpc":"2.0","a":"ééééé"}';
    const limit = { ...config, maxBodyBytes: Buffer.byteLength(body) };

    // Act
    const result = checkBody(bodyOf(body), limit);

    // Assess
    expect(result.ok).toBe(true);
  });

  it('decodes a base64-encoded body before parsing it', () => {
    // Prepare
    const json = '{"jsonrpc":"2.0","id":7,"method":"tools/list","params":{"name":"Zoë"}}';

    // Act
    const result = checkBody(bodyOf(Buffer.from(json).toString('base64'), true), config);

    // Assess
    expect(result).toEqual({ ok: true, body: json, parsedBody: JSON.parse(json) });
  });

  it('measures a base64-encoded body after decoding it', () => {
    // Prepare: the encoded text is longer than the limit, the decoded body is not.
    const json = JSON.stringify({ jsonrpc: '2.0', pad: 'x'.repeat(90) });
    const encoded = Buffer.from(json).toString('base64');
    const limit = { ...config, maxBodyBytes: json.length };

    // Act
    const result = checkBody(bodyOf(encoded, true), limit);

    // Assess
    expect(encoded.length).toBeGreaterThan(limit.maxBodyBytes);
    expect(result.ok).toBe(true);
  });

  it.each([
    ['no jsonrpc member', '{"id":1,"method":"tools/list"}'],
    ['jsonrpc "1.0"', '{"jsonrpc":"1.0","id":1,"method":"tools/list"}'],
    ['an object as id', '{"jsonrpc":"2.0","id":{"x":1},"method":"tools/list"}'],
  ])(
    'refuses valid JSON that is not a JSON-RPC message (%s) with 400 and -32600',
    (_label, body) => {
      // Act
      const response = refusal(checkBody(bodyOf(body), config));

      // Assess
      expect(response.statusCode).toBe(400);
      expect(errorOf(response).code).toBe(JSONRPC.invalidRequest);
    },
  );

  it('refuses a body that is not JSON with 400 and a parse error', () => {
    // Act
    const result = checkBody(bodyOf('{"jsonrpc":"2.0",'), config);

    // Assess
    expect(refusal(result).statusCode).toBe(400);
    expect(errorOf(refusal(result)).code).toBe(JSONRPC.parseError);
  });

  it('refuses an empty body as a parse error', () => {
    // Act
    const result = checkBody(bodyOf(null), config);

    // Assess
    expect(errorOf(refusal(result)).code).toBe(JSONRPC.parseError);
  });

  it('refuses a JSON-RPC batch with 400 and an invalid-request error', () => {
    // Prepare
    const batch = JSON.stringify([JSON.parse(initialize), JSON.parse(initialize)]);

    // Act
    const result = checkBody(bodyOf(batch), config);

    // Assess
    expect(refusal(result).statusCode).toBe(400);
    expect(errorOf(refusal(result)).code).toBe(JSONRPC.invalidRequest);
  });

  it.each(['42', '"tools/list"', 'true', 'null'])('refuses the JSON scalar %s with 400', (body) => {
    // Act
    const result = checkBody(bodyOf(body), config);

    // Assess
    expect(refusal(result).statusCode).toBe(400);
    expect(errorOf(refusal(result)).code).toBe(JSONRPC.invalidRequest);
  });

  it('hands on the body text and its parsed form when all checks pass', () => {
    // Act
    const result = checkBody(bodyOf(initialize), config);

    // Assess
    expect(result).toEqual({ ok: true, body: initialize, parsedBody: JSON.parse(initialize) });
  });
});

describe('edge error bodies', () => {
  const refusals: [string, () => EdgeAnswer][] = [
    ['405', () => refusal(checkRequestLine(requestLine('GET'), config))],
    [
      '403',
      () =>
        refusal(checkRequestLine(requestLine('POST', { Origin: 'https://evil.example' }), config)),
    ],
    ['413', () => refusal(checkBody(bodyOf('x'.repeat(config.maxBodyBytes + 1)), config))],
    ['400 parse error', () => refusal(checkBody(bodyOf('{'), config))],
    ['400 batch', () => refusal(checkBody(bodyOf('[]'), config))],
    ['400 scalar', () => refusal(checkBody(bodyOf('1'), config))],
  ];

  it.each(refusals)(
    'makes the %s body a JSON-RPC error with id null and nothing else',
    (_, refuse) => {
      // Act
      const result = refuse();

      // Assess
      expect(edgeErrorBody.safeParse(JSON.parse(result.body)).success).toBe(true);
    },
  );

  it.each(refusals)('declares the %s body as JSON', (_, refuse) => {
    // Act
    const result = refuse();

    // Assess
    expect(result.headers?.['Content-Type']).toBe('application/json');
  });

  it.each(refusals)('keeps stack traces out of the %s body', (_, refuse) => {
    // Act
    const { body } = refuse();

    // Assess
    expect(body).not.toMatch(/stack|\bat .+:\d+:\d+|node_modules|\.ts\b/);
  });
});

describe('toWebRequest', () => {
  it('keeps the method and uses a fixed internal URL, whatever the Host header says', () => {
    // Act
    const request = toWebRequest(completeEvent({ Host: 'a b [' }), initialize);

    // Assess
    expect(request.method).toBe('POST');
    expect(request.url).toBe('https://mcp.lambda.internal/mcp');
  });

  it('passes on no credential: the Authorization header stops at the authorizer', () => {
    // Prepare
    const event = completeEvent({
      Authorization: 'Bearer secret-token',
      Accept: 'application/json',
    });

    // Act
    const request = toWebRequest(event, initialize);

    // Assess
    expect(request.headers.get('authorization')).toBeNull();
    expect(request.headers.get('accept')).toBe('application/json');
  });

  it('drops a header value a Web Headers object would reject instead of throwing', () => {
    // Prepare
    const event = completeEvent({ 'Mcp-Name': 'Zoë €\u0000', Accept: 'application/json' });

    // Act
    const request = toWebRequest(event, initialize);

    // Assess
    expect(request.headers.get('mcp-name')).toBeNull();
    expect(request.headers.get('accept')).toBe('application/json');
  });

  it('carries the body it is given', async () => {
    // Act
    const request = toWebRequest(completeEvent(), initialize);

    // Assess
    expect(await request.text()).toBe(initialize);
  });

  it('keeps every value of a multi-value header', () => {
    // Prepare
    const event = completeEvent({ Accept: ['application/json', 'text/event-stream'] });

    // Act
    const request = toWebRequest(event, initialize);

    // Assess
    expect(request.headers.get('accept')).toBe('application/json, text/event-stream');
  });

  it('passes the headers on whatever the case of their names', () => {
    // Prepare
    const event = completeEvent({ 'MCP-Protocol-Version': '2025-11-25' });

    // Act
    const request = toWebRequest(event, initialize);

    // Assess
    expect(request.headers.get('mcp-protocol-version')).toBe('2025-11-25');
  });
});

describe('corsHeaders', () => {
  it('allows an allowed origin by name and varies on Origin', () => {
    // Act
    const headers = corsHeaders(requestLine('POST', { Origin: 'https://app.example.com' }), config);

    // Assess
    expect(headers).toMatchObject({
      'Access-Control-Allow-Origin': 'https://app.example.com',
      Vary: 'Origin',
    });
  });

  it('adds nothing for an origin that is not allowed', () => {
    expect(corsHeaders(requestLine('POST', { Origin: 'https://evil.example' }), config)).toEqual(
      {},
    );
  });

  it('adds nothing when the request has no Origin', () => {
    expect(corsHeaders(requestLine('POST'), config)).toEqual({});
  });

  it('never answers with a wildcard origin', () => {
    // Act
    const headers = corsHeaders(requestLine('POST', { origin: 'https://app.example.com' }), config);

    // Assess
    expect(Object.values(headers)).not.toContain('*');
  });
});

describe('jsonDepth', () => {
  it('counts nesting of objects and arrays, iteratively', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(jsonDepth({ a: [{ b: 1 }] })).toBe(3);
    expect(jsonDepth(deep)).toBeGreaterThan(MAX_JSON_DEPTH);
  });
});

describe('transportHeaders', () => {
  /** Header maps as API Gateway builds them: every value in the multi-value map. */
  function withHeaders(headers: Values) {
    return requestLine('POST', headers);
  }
  const names = (headers: Headers) => [...headers.keys()].sort();

  it('passes content negotiation, the protocol version and the routing headers', () => {
    // Prepare
    const event = withHeaders({
      Accept: 'application/json, text/event-stream',
      'Content-Type': 'application/json',
      'MCP-Protocol-Version': '2026-07-28',
      'Mcp-Method': 'tools/call',
      'Mcp-Name': 'get_record',
    });

    // Act
    const headers = transportHeaders(event);

    // Assess
    expect(Object.fromEntries(headers)).toEqual({
      accept: 'application/json, text/event-stream',
      'content-type': 'application/json',
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': 'tools/call',
      'mcp-name': 'get_record',
    });
  });

  it.each(['Mcp-Param-Region', 'mcp-param-region', 'MCP-PARAM-REGION'])(
    'passes a parameter header spelled %s, under its lower-case name',
    (name) => {
      // Act
      const headers = transportHeaders(withHeaders({ [name]: 'eu-west-1' }));

      // Assess
      expect(Object.fromEntries(headers)).toEqual({ 'mcp-param-region': 'eu-west-1' });
    },
  );

  it('passes a parameter header found only in the single-value map', () => {
    // Prepare
    const event = { ...withHeaders({ 'Mcp-Param-Tenant-Id': 't-1' }), multiValueHeaders: {} };

    // Act
    const headers = transportHeaders(event);

    // Assess
    expect(headers.get('mcp-param-tenant-id')).toBe('t-1');
  });

  it('passes nothing else: no credential, cookie, host, origin or forwarding header', () => {
    // Prepare
    const event = withHeaders({
      Authorization: 'Bearer secret-token',
      'X-Api-Key': 'mcp_sk_secret',
      Cookie: 'session=secret',
      Host: 'api.example.com',
      Origin: 'https://app.example.com',
      'X-Forwarded-For': '203.0.113.7',
      'Mcp-Session-Id': 'abc',
      'Last-Event-ID': '42',
      'User-Agent': 'http-test',
      Accept: 'application/json',
    });

    // Act
    const headers = transportHeaders(event);

    // Assess
    expect(names(headers)).toEqual(['accept']);
  });

  it.each([
    ['an empty parameter name', 'Mcp-Param-'],
    ['a parameter name over 64 characters', `Mcp-Param-${'a'.repeat(65)}`],
    ['a parameter name with an underscore', 'Mcp-Param-region_name'],
    ['a name that only starts like one', 'X-Mcp-Param-Region'],
  ])('drops a header with %s', (_label, name) => {
    // Act
    const headers = transportHeaders(withHeaders({ [name]: 'x' }));

    // Assess
    expect(names(headers)).toEqual([]);
  });

  it('joins every value of a multi-value header', () => {
    // Prepare
    const event = withHeaders({ Accept: ['application/json', 'text/event-stream'] });

    // Act
    const headers = transportHeaders(event);

    // Assess
    expect(headers.get('accept')).toBe('application/json, text/event-stream');
  });

  it('keeps the good values of a header and drops one with control characters', () => {
    // Prepare
    const event = {
      ...withHeaders({ 'Mcp-Name': ['get_record', 'bad\r\nX-Injected: 1'] }),
      headers: {},
    };

    // Act
    const headers = transportHeaders(event);

    // Assess
    expect(headers.get('mcp-name')).toBe('get_record');
  });

  it('builds empty headers from an event without any', () => {
    // Act
    const headers = transportHeaders(withHeaders({}));

    // Assess
    expect(names(headers)).toEqual([]);
  });
});

describe('jsonRpcErrorFor', () => {
  it('answers HTTP 200 with a JSON-RPC error for the request id', () => {
    // Act
    const answer = jsonRpcErrorFor(7, -32003, 'Permission denied');

    // Assess
    expect(answer).toEqual({
      statusCode: 200,
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 7,
        error: { code: -32003, message: 'Permission denied' },
      }),
    });
  });

  it('keeps a string id', () => {
    // Act
    const answer = jsonRpcErrorFor('req-1', -32602, 'Unknown tool: x');

    // Assess
    expect(JSON.parse(answer.body).id).toBe('req-1');
  });

  it.each([
    ['a fractional id', 0.5],
    ['no id', undefined],
    ['an object id', { a: 1 }],
  ])('answers %s with id null', (_label, id) => {
    // Act
    const answer = jsonRpcErrorFor(id, -32003, 'Permission denied');

    // Assess
    expect(JSON.parse(answer.body).id).toBeNull();
  });

  it('carries the data it is given', () => {
    // Act
    const answer = jsonRpcErrorFor(1, -32002, 'Resource not found', { uri: 'nope://x' });

    // Assess
    expect(JSON.parse(answer.body).error).toEqual({
      code: -32002,
      message: 'Resource not found',
      data: { uri: 'nope://x' },
    });
  });
});

describe('HYGIENE_HEADERS', () => {
  it('forbids caching and type sniffing', () => {
    expect(HYGIENE_HEADERS).toEqual({
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
    });
  });
});
