/**
 * The API answers only requests addressed to it, as API Gateway does: a `Host` that names it
 * (DNS rebinding gets nowhere), browser origins listed for `/mcp` (`-c allowedOrigins`, checked
 * by the MCP function), and the CORS preflights the template's mock OPTIONS methods answer.
 */
import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { loadSigningKey, mintAccessToken } from '../../../tools/local/identity';
import { useLocalGateway } from '../../support/local-gateway-fixture';

const LISTED = 'https://app.example.com';
const local = useLocalGateway('mcp-host-origin-', undefined, () => ({ allowedOrigins: [LISTED] }));

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** A raw HTTP request, so that Host can be anything (fetch always sends the URL's). */
function send(
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
  options: { setHost?: boolean } = {},
): Promise<Answer> {
  const url = new URL(path, new URL(local.gateway.url).origin);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: `${url.pathname}${url.search}`,
        method,
        headers,
        setHost: options.setHost ?? true,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const port = () => new URL(local.gateway.url).port;
const token = () =>
  mintAccessToken(loadSigningKey(local.dir), { sub: 'alice', groups: ['readonly'] });
const mcpHeaders = () => ({
  Authorization: `Bearer ${token()}`,
  'Content-Type': 'application/json',
  Accept: 'application/json, text/event-stream',
});
const LIST = '{"jsonrpc":"2.0","id":1,"method":"tools/list"}';

describe('Host', () => {
  it.each([
    ['GET', '/prod/.well-known/oauth-protected-resource/mcp'],
    ['GET', '/prod/.well-known/oauth-authorization-server'],
    ['POST', '/prod/register'],
    ['POST', '/prod/token'],
    ['POST', '/prod/mcp'],
    ['GET', '/prod/no/such/path'],
  ])('refuses %s %s under a foreign Host: no API answers to that name', async (method, path) => {
    // Act: DNS rebinding would send a page's own name here
    const answer = await send(
      method,
      path,
      { Host: `rebind.example:${port()}` },
      method === 'POST' ? '{}' : undefined,
    );

    // Assess
    expect(answer.status).toBe(403);
    expect(answer.headers['content-type']).toBe('application/json');
    expect(JSON.parse(answer.body)).toEqual({ message: 'Forbidden' });
  });

  it('refuses a request without a Host (Node itself: 400), and one naming another port', async () => {
    const none = await send('GET', '/prod/.well-known/oauth-authorization-server', {}, undefined, {
      setHost: false,
    });
    const otherPort = await send('GET', '/prod/.well-known/oauth-authorization-server', {
      Host: '127.0.0.1:1',
    });
    expect([none.status, otherPort.status]).toEqual([400, 403]);
  });

  it('answers under the API’s own name only (127.0.0.1 stands for the execute-api name)', async () => {
    const own = await send('GET', '/prod/.well-known/oauth-authorization-server', {
      Host: `127.0.0.1:${port()}`,
    });
    const alias = await send('GET', '/prod/.well-known/oauth-authorization-server', {
      Host: `localhost:${port()}`,
    });
    expect([own.status, alias.status]).toEqual([200, 403]);
  });

  it('writes no access-log line for a name that is not the API’s: no stage received it', async () => {
    // Prepare
    const before = local.gateway.logs.events().length;

    // Act
    const refused = await send('GET', '/prod/.well-known/oauth-authorization-server', {
      Host: `marker-${port()}.example`,
    });
    const served = await send('GET', '/prod/.well-known/oauth-authorization-server', {
      Host: `127.0.0.1:${port()}`,
    });

    // Assess: the stage logs the request it served, not the refusal (403) that never reached it
    const lines = local.gateway.logs
      .events()
      .slice(before)
      .filter((event) => /"status":"\d{3}"/.test(event.message));
    expect([refused.status, served.status]).toEqual([403, 200]);
    expect(lines.map((event) => /"status":"(\d{3})"/.exec(event.message)?.[1])).toEqual(['200']);
  });
});

describe('Origin on /mcp', () => {
  it('serves a listed origin, with CORS headers for it (the MCP function’s)', async () => {
    // Act
    const answer = await send('POST', '/prod/mcp', { ...mcpHeaders(), Origin: LISTED }, LIST);

    // Assess
    expect(answer.status).toBe(200);
    expect(answer.headers['access-control-allow-origin']).toBe(LISTED);
    expect(answer.headers['access-control-expose-headers']).toBe(
      'Mcp-Protocol-Version, WWW-Authenticate, Retry-After, RateLimit-Limit, RateLimit-Remaining',
    );
  });

  it.each([
    ['an origin nobody listed', () => 'https://evil.example'],
    ['the API’s own origin (no page there calls /mcp)', () => new URL(local.gateway.url).origin],
  ])('refuses %s with 403, credential or not', async (_, origin) => {
    const answer = await send('POST', '/prod/mcp', { ...mcpHeaders(), Origin: origin() }, LIST);
    expect(answer.status).toBe(403);
    expect(JSON.parse(answer.body)).toMatchObject({
      error: { message: 'Forbidden: origin not allowed' },
    });
    expect(answer.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('lets a listed origin read the 401 challenge (the gateway response’s CORS headers)', async () => {
    const answer = await send('POST', '/prod/mcp', { Origin: LISTED }, LIST);
    expect(answer.status).toBe(401);
    expect(answer.headers['access-control-allow-origin']).toBe(LISTED);
    expect(answer.headers['access-control-expose-headers']).toContain('WWW-Authenticate');
  });
});

describe('CORS preflights (API Gateway’s mock OPTIONS methods)', () => {
  const preflight = (path: string, origin: string, method = 'POST') =>
    send('OPTIONS', path, {
      Origin: origin,
      'Access-Control-Request-Method': method,
      'Access-Control-Request-Headers': 'authorization,content-type,mcp-protocol-version',
    });

  it('allows a listed origin to POST to /mcp with the MCP headers', async () => {
    const answer = await preflight('/prod/mcp', LISTED);
    expect(answer.status).toBe(204);
    expect(answer.headers).toMatchObject({
      'access-control-allow-origin': LISTED,
      'access-control-allow-methods': 'POST',
      'access-control-allow-headers':
        'Authorization,Content-Type,Accept,Mcp-Protocol-Version,Mcp-Method,Mcp-Name',
      vary: 'Origin',
    });
  });

  it('names only the listed origin to a preflight from another, which the browser then refuses', async () => {
    const answer = await preflight('/prod/mcp', 'https://evil.example');
    expect(answer.headers['access-control-allow-origin']).toBe(LISTED);
  });

  it.each([
    ['/prod/.well-known/oauth-protected-resource/mcp', 'GET'],
    ['/prod/.well-known/oauth-authorization-server', 'GET'],
    ['/prod/register', 'POST'],
    ['/prod/token', 'POST'],
  ])('lets any origin use %s (%s)', async (path, method) => {
    const answer = await preflight(path, 'https://anyone.example', method);
    expect(answer.status).toBe(204);
    expect(answer.headers).toMatchObject({
      'access-control-allow-origin': '*',
      'access-control-allow-methods': method,
      'access-control-allow-headers': 'Content-Type,MCP-Protocol-Version',
    });
  });
});
