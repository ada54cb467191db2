/**
 * The documented header table, end to end through the gateway, in both directions: what a
 * client's headers become in the function's event, and what a function's headers become for
 * the client, buffered and streamed (STREAM remapping is assumed: no AWS page says).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOCUMENTED_HEADERS } from '../../../../support/documented-headers';
import { rawRequest } from '../../../../support/raw-http';
import { ECHO, type Served, serve, TestApi } from '../../../../support/test-api';

const BODY = 'hello';

/** What a function sends for each documented header (values a client can receive). */
const FUNCTION_VALUES: Record<string, string> = Object.fromEntries(
  DOCUMENTED_HEADERS.map(([name]) => [name, `fn-${name.toLowerCase()}`]),
);
FUNCTION_VALUES['Content-Type'] = 'text/plain';
FUNCTION_VALUES['Content-Encoding'] = 'identity';
FUNCTION_VALUES['Content-Length'] = String(BODY.length);
FUNCTION_VALUES['Transfer-Encoding'] = 'chunked';

const RESPONDER = `
const headers = ${JSON.stringify(FUNCTION_VALUES)};
exports.buffered = async () => ({ statusCode: 200, headers, body: ${JSON.stringify(BODY)} });
exports.streamed = awslambda.streamifyResponse(async (event, stream) => {
  const s = awslambda.HttpResponseStream.from(stream, { statusCode: 200, headers });
  s.write(${JSON.stringify(BODY)});
  s.end();
});
`;

let served: Served;
beforeAll(async () => {
  const api = new TestApi();
  api.function('Echo', ECHO);
  api.function('Buffered', RESPONDER);
  api.function('Streamed', RESPONDER);
  (api.resources.Buffered?.Properties as Record<string, unknown>).Handler = 'index.buffered';
  (api.resources.Streamed?.Properties as Record<string, unknown>).Handler = 'index.streamed';
  api.method('/echo', 'POST', { function: 'Echo' });
  api.method('/buffered', 'GET', { function: 'Buffered' });
  api.method('/streamed', 'GET', { function: 'Streamed', lambda: { stream: true } });
  served = await serve(api);
});
afterAll(() => served.stop());

function exchange(path: string, options: Parameters<typeof rawRequest>[1] = {}) {
  return rawRequest(`${served.url}${path}`, options);
}

describe.each(['buffered', 'streamed'])("a function's %s response headers", (mode) => {
  let received: Awaited<ReturnType<typeof exchange>>;
  beforeAll(async () => {
    received = await exchange(`/${mode}`);
  });

  it('arrive with the body', () => {
    expect([received.status, received.body]).toEqual([200, BODY]);
  });

  it.each(DOCUMENTED_HEADERS.map(([name, , rule]) => [name, rule]))('%s: %s', (name, rule) => {
    const lower = name.toLowerCase();
    const value = FUNCTION_VALUES[name];
    const remapped = received.headers[`x-amzn-remapped-${lower}`];

    switch (rule) {
      case 'passthrough':
        expect(received.headers[lower]).toBe(value);
        expect(remapped).toBeUndefined();
        break;
      case 'remapped':
        // The name may still come, with the server's own value (Connection: keep-alive).
        expect(remapped).toBe(value);
        expect(received.headers[lower]).not.toBe(value);
        break;
      case 'remapped-overwritten':
        expect(remapped).toBe(value);
        expect(received.headers[lower]).not.toBe(value);
        break;
      case 'dropped':
        expect(received.headers[lower]).not.toBe(value);
        expect(remapped).toBeUndefined();
        break;
    }
  });
});

describe("a client's request headers in the function's event", () => {
  const CLIENT_VALUES: Record<string, string> = {
    Age: '1',
    Accept: 'application/json',
    'Accept-Charset': 'utf-8',
    'Accept-Encoding': 'identity',
    Authorization: 'Bearer token',
    Connection: 'keep-alive',
    'Content-Encoding': 'identity',
    'Content-MD5': 'Q2hlY2sgSW50ZWdyaXR5IQ==',
    'Content-Type': 'text/plain',
    Date: 'Tue, 01 Dec 2026 00:00:00 GMT',
    Expect: '100-continue',
    'Max-Forwards': '5',
    Pragma: 'no-cache',
    'Proxy-Authenticate': 'Basic',
    Range: 'bytes=0-1',
    Referer: 'https://app.example/',
    Server: 'client-server',
    TE: 'trailers',
    Trailer: 'X-Checksum',
    Upgrade: 'h2c',
    'User-Agent': 'test-client/1.0',
    Via: '1.1 proxy.example',
    Warn: '199 - "test"',
    'WWW-Authenticate': 'Basic',
    'X-MiXeD-Case': 'yes',
  };
  let event: { headers: Record<string, string>; body: string };
  let lengthEvent: { headers: Record<string, string> };
  let host: string;
  beforeAll(async () => {
    host = new URL(served.url).host;
    // Chunked (a Trailer header needs it), then the same body with its length declared.
    const chunked = await exchange('/echo', {
      method: 'POST',
      headers: { ...CLIENT_VALUES, 'Transfer-Encoding': 'chunked' },
      body: BODY,
    });
    event = JSON.parse(chunked.body);
    const declared = await exchange('/echo', {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain', 'Content-Length': String(BODY.length) },
      body: BODY,
    });
    lengthEvent = JSON.parse(declared.body);
  });

  const seen = (headers: Record<string, string>, name: string) =>
    Object.entries(headers).find(([key]) => key.toLowerCase() === name.toLowerCase())?.[1];

  it.each(
    DOCUMENTED_HEADERS.filter(([name]) => !['Host', 'Content-Length'].includes(name)).map(
      ([name, rule]) => [name, rule],
    ),
  )('%s: %s', (name, rule) => {
    expect(seen(event.headers, name)).toBe(
      rule === 'passthrough' ? CLIENT_VALUES[name] : undefined,
    );
  });

  it('Transfer-Encoding: the chunked body arrives whole', () => {
    expect(event.body).toBe(BODY);
  });

  it("Host: the API's own host, as the client named it", () => {
    expect(seen(event.headers, 'Host')).toBe(host);
  });

  it('Content-Length: not among the event headers (AWS-recorded events, non-AWS evidence)', () => {
    expect(seen(lengthEvent.headers, 'Content-Length')).toBeUndefined();
    expect(seen(lengthEvent.headers, 'Content-Type')).toBe('text/plain');
  });

  it('keeps the spelling the client used for a header name', () => {
    expect(event.headers['X-MiXeD-Case']).toBe('yes');
  });
});
