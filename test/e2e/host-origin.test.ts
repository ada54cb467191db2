/**
 * The local gateway answers only requests addressed to it, as a deployed server would: a
 * `Host` that is one of its loopback names on every path (DNS rebinding), browser origins that
 * are its own or listed for `/mcp`, and CORS preflights where a browser client needs them.
 */
import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { loadSigningKey, mintAccessToken } from '../../tools/local-identity';
import { useLocalGateway } from '../helpers/local-gateway-fixture';

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
  const url = new URL(path, local.gateway.url);
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
    ['GET', '/.well-known/oauth-protected-resource/mcp'],
    ['GET', '/.well-known/oauth-authorization-server'],
    ['POST', '/register'],
    ['POST', '/token'],
    ['POST', '/oauth2/token'],
    ['POST', '/mcp'],
    ['GET', '/no/such/path'],
  ])('refuses %s %s under a foreign Host with a 403 JSON error', async (method, path) => {
    // Act
    const answer = await send(
      method,
      path,
      { Host: `rebind.example:${port()}` },
      method === 'POST' ? '{}' : undefined,
    );

    // Assess
    expect(answer.status).toBe(403);
    expect(answer.headers['content-type']).toBe('application/json');
    expect(JSON.parse(answer.body)).toEqual({
      message: `Forbidden: this server answers only to 127.0.0.1:${port()}, localhost:${port()}, [::1]:${port()}`,
    });
  });

  it('refuses the sign-in page under a foreign Host in plain words', async () => {
    // Act
    const answer = await send('GET', '/oauth2/authorize?client_id=x', {
      Host: `rebind.example:${port()}`,
    });

    // Assess
    expect(answer.status).toBe(403);
    expect(answer.headers['content-type']).toMatch(/^text\/plain/);
    expect(answer.body).toMatch(/^Forbidden: this server answers only to/);
  });

  it('refuses a request without a Host (Node itself: 400), and one naming another port', async () => {
    const none = await send('GET', '/.well-known/oauth-authorization-server', {}, undefined, {
      setHost: false,
    });
    const otherPort = await send('GET', '/.well-known/oauth-authorization-server', {
      Host: '127.0.0.1:1',
    });
    expect([none.status, otherPort.status]).toEqual([400, 403]);
  });

  it.each(['127.0.0.1', 'localhost', '[::1]'])('answers under its own name %s', async (name) => {
    const answer = await send('GET', '/.well-known/oauth-authorization-server', {
      Host: `${name}:${port()}`,
    });
    expect(answer.status).toBe(200);
  });

  it('says on the terminal what it refused, never the Host it was sent', async () => {
    // Act
    await send('GET', '/.well-known/oauth-authorization-server', {
      Host: `marker-${port()}.example`,
    });

    // Assess
    const refusal = local.logs.records().find((r) => r.message === 'local.request_refused');
    expect(refusal).toMatchObject({ level: 'WARN', reason: 'host', http_method: 'GET' });
    expect(local.logs.lines.join('\n')).not.toContain(`marker-${port()}`);
  });
});

describe('Origin on /mcp', () => {
  it.each([
    ['its own origin', () => local.gateway.url],
    ['its own origin spelled localhost', () => `http://localhost:${port()}`],
    ['a listed origin', () => LISTED],
  ])('serves %s, with CORS headers for it', async (_, origin) => {
    // Act
    const answer = await send('POST', '/mcp', { ...mcpHeaders(), Origin: origin() }, LIST);

    // Assess
    expect(answer.status).toBe(200);
    expect(answer.headers['access-control-allow-origin']).toBe(origin());
    expect(answer.headers['access-control-expose-headers']).toBe(
      'Mcp-Protocol-Version, WWW-Authenticate',
    );
  });

  it('refuses an origin nobody listed with 403, credential or not', async () => {
    const answer = await send(
      'POST',
      '/mcp',
      { ...mcpHeaders(), Origin: 'https://evil.example' },
      LIST,
    );
    expect(answer.status).toBe(403);
    expect(JSON.parse(answer.body)).toMatchObject({
      error: { message: 'Forbidden: origin not allowed' },
    });
    expect(answer.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('lets a listed origin read the 401 challenge', async () => {
    const answer = await send('POST', '/mcp', { Origin: LISTED }, LIST);
    expect(answer.status).toBe(401);
    expect(answer.headers['access-control-allow-origin']).toBe(LISTED);
    expect(answer.headers['access-control-expose-headers']).toContain('WWW-Authenticate');
  });
});

describe('CORS preflights', () => {
  const preflight = (path: string, origin: string, method = 'POST') =>
    send('OPTIONS', path, {
      Origin: origin,
      'Access-Control-Request-Method': method,
      'Access-Control-Request-Headers': 'authorization,content-type,mcp-protocol-version',
    });

  it('allows a listed origin to POST to /mcp with the MCP headers', async () => {
    const answer = await preflight('/mcp', LISTED);
    expect(answer.status).toBe(204);
    expect(answer.headers).toMatchObject({
      'access-control-allow-origin': LISTED,
      'access-control-allow-methods': 'POST',
      'access-control-allow-headers':
        'Authorization, Content-Type, Accept, Mcp-Protocol-Version, Mcp-Method, Mcp-Name',
      vary: 'Origin',
    });
  });

  it('refuses a preflight on /mcp from an origin nobody listed', async () => {
    const answer = await preflight('/mcp', 'https://evil.example');
    expect(answer.status).toBe(403);
    expect(answer.headers['access-control-allow-origin']).toBeUndefined();
  });

  it.each([
    ['/.well-known/oauth-protected-resource/mcp', 'GET'],
    ['/.well-known/oauth-authorization-server', 'GET'],
    ['/register', 'POST'],
    ['/token', 'POST'],
  ])('lets any origin use %s (%s)', async (path, method) => {
    const answer = await preflight(path, 'https://anyone.example', method);
    expect(answer.status).toBe(204);
    expect(answer.headers).toMatchObject({
      'access-control-allow-origin': '*',
      'access-control-allow-methods': method,
      'access-control-allow-headers': 'Content-Type, MCP-Protocol-Version',
    });
  });

  it('offers no CORS on the sign-in page: it is navigated to, never fetched', async () => {
    const answer = await preflight('/oauth2/authorize', 'https://anyone.example');
    expect(answer.headers['access-control-allow-origin']).toBeUndefined();
  });
});
