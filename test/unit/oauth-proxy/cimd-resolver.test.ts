/**
 * The CIMD resolver against real sockets on loopback: SSRF refusals (literals, DNS names,
 * mixed answers, rebinding), redirects, size and time limits, status, document validation,
 * the allow-list and the cache. Name resolution is scripted, so no test leaves the machine;
 * loopback is reachable only where the test turns local mode on, and then private and
 * link-local addresses must still be refused.
 */
import type * as http from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type CimdClient, CimdError, CimdResolver } from '../../../lambda/oauth-proxy/cimd';
import {
  type DocumentServer,
  json,
  scriptedLookup,
  selfSignedCertificate,
  startDocumentServer,
} from './cimd-fixtures';

let server: DocumentServer;

beforeEach(async () => {
  server = await startDocumentServer((_request, response) => {
    response.writeHead(500).end();
  });
});

afterEach(async () => {
  await server.close();
});

/** The URL of a document on the test server, as a local-mode client id. */
function localId(path = '/client.json'): string {
  return `${server.origin}${path}`;
}

function document(clientId: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    client_id: clientId,
    client_name: 'Example MCP Client',
    redirect_uris: ['http://127.0.0.1:3000/callback', 'https://app.example.com/callback'],
    token_endpoint_auth_method: 'none',
    ...extra,
  };
}

async function refusal(promise: Promise<CimdClient>): Promise<CimdError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (error instanceof CimdError) return error;
  throw new Error(`expected a CimdError, got ${String(error)}`);
}

function local(options: ConstructorParameters<typeof CimdResolver>[0] = {}): CimdResolver {
  return new CimdResolver({ allowLoopbackHttp: true, lookup: scriptedLookup({}), ...options });
}

describe('CimdResolver resolves', () => {
  it('a valid document to its client, asking for JSON with no compression', async () => {
    // Prepare
    const clientId = localId();
    server.handle(
      json(
        document(clientId, {
          client_uri: 'https://app.example.com',
          logo_uri: 'https://app.example.com/logo.png',
          scope: 'mcp/tools openid',
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          unknown_field: { ignored: true },
        }),
      ),
    );

    // Act
    const client = await local().resolve(clientId);

    // Assess
    expect(client).toEqual({
      clientId,
      clientName: 'Example MCP Client',
      redirectUris: ['http://127.0.0.1:3000/callback', 'https://app.example.com/callback'],
      clientUri: 'https://app.example.com',
      logoUri: 'https://app.example.com/logo.png',
      scope: 'mcp/tools openid',
    });
    const [request] = server.requests();
    expect(request?.headers.accept).toBe('application/json');
    expect(request?.headers['accept-encoding']).toBe('identity');
    expect(request?.url).toBe('/client.json');
  });

  it('a document without client_name to the host of its URL, for the consent page', async () => {
    // Prepare
    const clientId = localId();
    const { client_name: _omitted, ...nameless } = document(clientId);
    server.handle(json(nameless));

    // Act
    const client = await local().resolve(clientId);

    // Assess
    expect(client.clientName).toBe(`127.0.0.1:${server.port}`);
  });

  it('a document served with a +json media type and a charset', async () => {
    // Prepare
    const clientId = localId();
    server.handle(
      json(document(clientId), { 'content-type': 'application/vnd.x+json; charset=utf-8' }),
    );

    // Act + Assess
    await expect(local().resolve(clientId)).resolves.toMatchObject({ clientId });
  });
});

describe('CimdResolver refuses, without connecting, a client id whose host', () => {
  it.each([
    ['https://10.0.0.1/client.json'],
    ['https://192.168.0.10/client.json'],
    ['https://172.20.1.1/client.json'],
    ['https://169.254.169.254/latest/meta-data/iam/security-credentials/'],
    ['https://100.100.100.200/client.json'],
    ['https://0.0.0.0/client.json'],
    ['https://224.0.0.1/client.json'],
    ['https://[fd00:ec2::254]/latest/meta-data/'],
    ['https://[fe80::1]/client.json'],
    ['https://[::ffff:a9fe:a9fe]/client.json'],
    ['https://[64:ff9b::a00:1]/client.json'],
    ['https://[::]/client.json'],
  ])('is the address literal %s', async (clientId) => {
    // Prepare: local mode on, so only the private-address rule can refuse these.
    const lookup = scriptedLookup({});
    const resolver = local({ lookup });

    // Act
    const error = await refusal(resolver.resolve(clientId));

    // Assess
    expect(error.reason).toBe('cimd_blocked_address');
    expect(lookup.calls).toEqual([]);
  });

  it.each([['https://127.0.0.1:PORT/client.json'], ['https://[::1]:PORT/client.json']])(
    'is loopback (%s) outside local mode',
    async (template) => {
      // Prepare
      const resolver = new CimdResolver({ lookup: scriptedLookup({}) });

      // Act
      const error = await refusal(resolver.resolve(template.replace('PORT', String(server.port))));

      // Assess
      expect(error.reason).toBe('cimd_blocked_address');
      expect(server.connections()).toBe(0);
    },
  );

  it.each([
    ['private', ['10.1.2.3']],
    ['the metadata service', ['169.254.169.254']],
    ['CGNAT', ['100.64.1.1']],
    ['IPv6 unique-local', ['fd12:3456::1']],
    ['IPv6 link-local', ['fe80::abcd']],
    ['an IPv4-mapped private address', ['::ffff:10.0.0.1']],
    ['a NAT64 form of the metadata service', ['64:ff9b::a9fe:a9fe']],
    ['one public and one private address', ['93.184.215.14', '10.0.0.1']],
    ['one private and one public address', ['fd00::1', '2606:4700::1111']],
  ])('is a DNS name resolving to %s', async (_kind, addresses) => {
    // Prepare: local mode on, so loopback would pass but nothing else non-public may.
    const lookup = scriptedLookup({ 'cimd.attacker.test': addresses });
    const resolver = local({ lookup });

    // Act
    const error = await refusal(resolver.resolve('https://cimd.attacker.test/client.json'));

    // Assess
    expect(error.reason).toBe('cimd_blocked_address');
    expect(lookup.calls).toEqual(['cimd.attacker.test']);
  });

  it('is a DNS name resolving to loopback, outside local mode', async () => {
    // Prepare
    const lookup = scriptedLookup({ 'cimd.attacker.test': ['127.0.0.1'] });
    const resolver = new CimdResolver({ lookup });

    // Act
    const error = await refusal(
      resolver.resolve(`https://cimd.attacker.test:${server.port}/client.json`),
    );

    // Assess
    expect(error.reason).toBe('cimd_blocked_address');
    expect(server.connections()).toBe(0);
  });

  it('is localhost, outside local mode', async () => {
    // Prepare: the real resolver; localhost never leaves the machine.
    const resolver = new CimdResolver();

    // Act
    const error = await refusal(resolver.resolve(`https://localhost:${server.port}/client.json`));

    // Assess
    expect(error.reason).toBe('cimd_blocked_address');
    expect(server.connections()).toBe(0);
  });

  it('does not resolve at all', async () => {
    // Prepare
    const resolver = local({ lookup: scriptedLookup({}) });

    // Act
    const error = await refusal(resolver.resolve('https://nxdomain.test/client.json'));

    // Assess
    expect(error.reason).toBe('cimd_fetch_failed');
  });
});

describe('CimdResolver refuses an answer that', () => {
  it.each([[301], [302], [303], [307], [308]])(
    'redirects (HTTP %i), without following it',
    async (status) => {
      // Prepare: the redirect points at a second local server, which must see nothing.
      const target = await startDocumentServer(json({}));
      try {
        const clientId = localId();
        server.handle((_request, response) => {
          response.writeHead(status, { location: `${target.origin}/client.json` }).end();
        });

        // Act
        const error = await refusal(local().resolve(clientId));

        // Assess
        expect(error.reason).toBe('cimd_redirect');
        expect(target.connections()).toBe(0);
      } finally {
        await target.close();
      }
    },
  );

  it.each([[204], [404], [410], [500], [503]])('has status %i', async (status) => {
    // Prepare
    server.handle((_request, response) => {
      response.writeHead(status, { 'content-type': 'application/json' }).end('{}');
    });

    // Act
    const error = await refusal(local().resolve(localId()));

    // Assess
    expect(error.reason).toBe('cimd_bad_status');
    expect(error.message).toContain(String(status));
  });

  it('declares a Content-Length above the limit', async () => {
    // Prepare
    server.handle((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': 6000 });
      response.end(`"${'x'.repeat(5998)}"`);
    });

    // Act
    const error = await refusal(local().resolve(localId()));

    // Assess
    expect(error.reason).toBe('cimd_too_large');
  });

  it('streams past the limit without a Content-Length (chunked), and is cut off early', async () => {
    // Prepare: 64 MiB on offer in 64 KiB chunks; the resolver must hang up long before.
    let written = 0;
    let closedEarly = false;
    server.handle((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const pump = () => {
        while (written < 64 * 1024 * 1024) {
          written += chunk.length;
          if (!response.write(chunk)) {
            response.once('drain', pump);
            return;
          }
        }
        response.end();
      };
      response.on('close', () => {
        closedEarly = written < 64 * 1024 * 1024;
      });
      pump();
    });

    // Act
    const error = await refusal(local().resolve(localId()));

    // Assess
    expect(error.reason).toBe('cimd_too_large');
    await expect.poll(() => closedEarly).toBe(true);
  });

  it('is one byte over a configured limit, counted on the bytes received', async () => {
    // Prepare: a valid document, and a limit one byte below its length.
    const clientId = localId();
    const body = JSON.stringify(document(clientId));
    server.handle((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.write(body.slice(0, 10));
      response.end(body.slice(10));
    });

    // Act
    const error = await refusal(local({ maxBytes: Buffer.byteLength(body) - 1 }).resolve(clientId));

    // Assess
    expect(error.reason).toBe('cimd_too_large');
  });

  it('sends its headers at once and then drips the body, cut off at the total time limit', async () => {
    // Prepare: one byte every 50 ms, well under the size limit.
    const clientId = localId();
    const body = JSON.stringify(document(clientId));
    const timers: NodeJS.Timeout[] = [];
    server.handle((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.flushHeaders();
      let index = 0;
      const timer = setInterval(() => {
        if (index < body.length) response.write(body[index++] ?? '');
        else response.end();
      }, 50);
      timers.push(timer);
      response.on('close', () => clearInterval(timer));
    });
    const started = Date.now();

    // Act
    const error = await refusal(local({ timeoutMs: 400 }).resolve(clientId));

    // Assess
    expect(error.reason).toBe('cimd_timeout');
    expect(Date.now() - started).toBeLessThan(2_000);
    for (const timer of timers) clearInterval(timer);
  });

  it('never sends its headers', async () => {
    // Prepare
    server.handle(() => {
      // Accept the request and say nothing.
    });

    // Act
    const error = await refusal(local({ timeoutMs: 300 }).resolve(localId()));

    // Assess
    expect(error.reason).toBe('cimd_timeout');
  });

  it('waits on a DNS answer that never comes', async () => {
    // Prepare
    const resolver = local({
      timeoutMs: 300,
      lookup: () => new Promise(() => undefined),
    });

    // Act
    const error = await refusal(resolver.resolve('https://slow-dns.test/client.json'));

    // Assess
    expect(error.reason).toBe('cimd_timeout');
  });

  it('sends more than 8 KiB of headers (a size limit the body limit does not cover)', async () => {
    // Prepare
    const clientId = localId();
    server.handle((request, response) => {
      response.setHeader('x-padding', 'x'.repeat(10 * 1024));
      json(document(clientId))(request, response);
    });

    // Act
    const error = await refusal(local().resolve(clientId));

    // Assess
    expect(error.reason).toBe('cimd_fetch_failed');
  });

  it('closes the connection before the declared length', async () => {
    // Prepare
    server.handle((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': 100 });
      response.write('{"client_id":');
      setTimeout(() => response.socket?.destroy(), 20);
    });

    // Act
    const error = await refusal(local().resolve(localId()));

    // Assess
    expect(error.reason).toBe('cimd_fetch_failed');
  });
});

describe('CimdResolver refuses a document that', () => {
  const cases: [string, (clientId: string) => http.RequestListener][] = [
    [
      'is served as text/html',
      (id) => json(document(id), { 'content-type': 'text/html' }) as http.RequestListener,
    ],
    [
      'is served without a content type',
      (id) =>
        ((_request, response) => {
          response.writeHead(200).end(JSON.stringify(document(id)));
        }) as http.RequestListener,
    ],
    [
      'is not JSON',
      () =>
        ((_request, response) => {
          response.writeHead(200, { 'content-type': 'application/json' }).end('<html>hi</html>');
        }) as http.RequestListener,
    ],
    [
      'is not UTF-8',
      () =>
        ((_request, response) => {
          response
            .writeHead(200, { 'content-type': 'application/json' })
            .end(Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]));
        }) as http.RequestListener,
    ],
    ['is a JSON array', (id) => json([document(id)]) as http.RequestListener],
    ['is a JSON string', (id) => json(id) as http.RequestListener],
    ['names another client_id', (id) => json(document(`${id}x`)) as http.RequestListener],
    [
      'names its client_id with a trailing slash',
      (id) => json(document(`${id}/`)) as http.RequestListener,
    ],
    [
      'has no client_id',
      (id) => {
        const { client_id: _omitted, ...rest } = document(id);
        return json(rest) as http.RequestListener;
      },
    ],
    [
      'carries a client_secret',
      (id) => json(document(id, { client_secret: 's3cr3t' })) as http.RequestListener,
    ],
    [
      'asks for client_secret_basic',
      (id) =>
        json(
          document(id, { token_endpoint_auth_method: 'client_secret_basic' }),
        ) as http.RequestListener,
    ],
    [
      'asks for client_secret_post',
      (id) =>
        json(
          document(id, { token_endpoint_auth_method: 'client_secret_post' }),
        ) as http.RequestListener,
    ],
    [
      'asks for client_secret_jwt',
      (id) =>
        json(
          document(id, { token_endpoint_auth_method: 'client_secret_jwt' }),
        ) as http.RequestListener,
    ],
    [
      'asks for private_key_jwt, which this server does not support',
      (id) =>
        json(
          document(id, { token_endpoint_auth_method: 'private_key_jwt' }),
        ) as http.RequestListener,
    ],
    [
      'has no redirect_uris',
      (id) => json(document(id, { redirect_uris: undefined })) as http.RequestListener,
    ],
    [
      'has empty redirect_uris',
      (id) => json(document(id, { redirect_uris: [] })) as http.RequestListener,
    ],
    [
      'has a redirect URI on plain http off loopback',
      (id) =>
        json(document(id, { redirect_uris: ['http://evil.example/cb'] })) as http.RequestListener,
    ],
    [
      'has a javascript: redirect URI',
      (id) =>
        json(document(id, { redirect_uris: ['javascript:alert(1)'] })) as http.RequestListener,
    ],
    [
      'has a redirect URI with a fragment',
      (id) =>
        json(
          document(id, { redirect_uris: ['https://app.example.com/cb#x'] }),
        ) as http.RequestListener,
    ],
    [
      'has a redirect URI in non-canonical form',
      (id) =>
        json(
          document(id, { redirect_uris: ['HTTPS://app.example.com/cb'] }),
        ) as http.RequestListener,
    ],
    [
      'has more than 10 redirect URIs',
      (id) =>
        json(
          document(id, {
            redirect_uris: Array.from({ length: 11 }, (_, i) => `https://app.example.com/${i}`),
          }),
        ) as http.RequestListener,
    ],
    [
      'has a client_name with a bidi override (consent-page spoofing)',
      (id) => json(document(id, { client_name: 'Good\u202eliveE' })) as http.RequestListener,
    ],
    [
      'has a client_name with a newline',
      (id) => json(document(id, { client_name: 'Claude\nApproved' })) as http.RequestListener,
    ],
    [
      'has an empty client_name',
      (id) => json(document(id, { client_name: '' })) as http.RequestListener,
    ],
    [
      'has a client_name over 100 characters',
      (id) => json(document(id, { client_name: 'x'.repeat(101) })) as http.RequestListener,
    ],
    [
      'has a javascript: logo_uri',
      (id) => json(document(id, { logo_uri: 'javascript:alert(1)' })) as http.RequestListener,
    ],
    [
      'has an http client_uri',
      (id) => json(document(id, { client_uri: 'http://app.example.com' })) as http.RequestListener,
    ],
    [
      'has grant_types without authorization_code',
      (id) => json(document(id, { grant_types: ['client_credentials'] })) as http.RequestListener,
    ],
    [
      'has response_types without code',
      (id) => json(document(id, { response_types: ['token'] })) as http.RequestListener,
    ],
    [
      'has a malformed scope',
      (id) => json(document(id, { scope: 'mcp/tools  "quoted"' })) as http.RequestListener,
    ],
  ];

  it.each(cases)('%s', async (_name, makeHandler) => {
    // Prepare
    const clientId = localId();
    server.handle(makeHandler(clientId));

    // Act
    const error = await refusal(local().resolve(clientId));

    // Assess
    expect(error.reason).toBe('cimd_invalid_document');
    // The message is logged: never the body, never the URL.
    expect(error.message).not.toContain('s3cr3t');
    expect(error.message).not.toContain(clientId);
  });
});

describe('CimdResolver with an allow-list', () => {
  it('refuses a host off the list before resolving it', async () => {
    // Prepare
    const lookup = scriptedLookup({ 'evil.test': ['8.8.8.8'] });
    const resolver = new CimdResolver({ lookup, allowedHosts: ['claude.ai', '*.example.com'] });

    // Act + Assess
    for (const clientId of [
      'https://evil.test/client.json',
      'https://example.com/client.json', // *.example.com is subdomains only
      'https://evilexample.com/client.json',
      'https://claude.ai.evil.test/client.json',
      'https://example.com.evil.test/client.json',
    ]) {
      expect((await refusal(resolver.resolve(clientId))).reason).toBe('cimd_host_not_allowed');
    }
    expect(lookup.calls).toEqual([]);
  });

  it('fetches from a host on the list, still with every address check', async () => {
    // Prepare
    const lookup = scriptedLookup({ 'app.example.com': ['10.0.0.7'] });
    const resolver = new CimdResolver({ lookup, allowedHosts: ['*.example.com'] });

    // Act
    const error = await refusal(resolver.resolve('https://app.example.com/client.json'));

    // Assess: allowed host, private address: refused all the same.
    expect(error.reason).toBe('cimd_blocked_address');
    expect(lookup.calls).toEqual(['app.example.com']);
  });

  it('matches case-insensitively on the configured side', async () => {
    // Prepare
    const clientId = localId();
    server.handle(json(document(clientId)));
    const resolver = local({ allowedHosts: ['127.0.0.1', 'Claude.AI'] });

    // Act + Assess
    await expect(resolver.resolve(clientId)).resolves.toMatchObject({ clientId });
  });
});

describe('CimdResolver caches', () => {
  let clock: number;
  const now = () => clock;

  beforeEach(() => {
    clock = Date.UTC(2026, 11, 1);
  });

  it('a document for its max-age, clamped up to the minimum', async () => {
    // Prepare
    const clientId = localId();
    server.handle(json(document(clientId), { 'cache-control': 'public, max-age=5' }));
    const resolver = local({ now, minCacheSeconds: 60, maxCacheSeconds: 3600 });
    await resolver.resolve(clientId);

    // Act + Assess: max-age=5 is raised to 60 s.
    clock += 59_000;
    await resolver.resolve(clientId);
    expect(server.requests()).toHaveLength(1);
    clock += 2_000;
    await resolver.resolve(clientId);
    expect(server.requests()).toHaveLength(2);
  });

  it('a document for its max-age, clamped down to the maximum', async () => {
    // Prepare
    const clientId = localId();
    server.handle(json(document(clientId), { 'cache-control': 'max-age=31536000' }));
    const resolver = local({ now, minCacheSeconds: 60, maxCacheSeconds: 3600 });
    await resolver.resolve(clientId);

    // Act + Assess
    clock += 3_599_000;
    await resolver.resolve(clientId);
    expect(server.requests()).toHaveLength(1);
    clock += 2_000;
    await resolver.resolve(clientId);
    expect(server.requests()).toHaveLength(2);
  });

  it('a no-store document for the minimum, so no-store cannot force a fetch per request', async () => {
    // Prepare
    const clientId = localId();
    server.handle(json(document(clientId), { 'cache-control': 'no-store' }));
    const resolver = local({ now, minCacheSeconds: 60 });
    await resolver.resolve(clientId);

    // Act + Assess
    clock += 30_000;
    await resolver.resolve(clientId);
    expect(server.requests()).toHaveLength(1);
    clock += 31_000;
    await resolver.resolve(clientId);
    expect(server.requests()).toHaveLength(2);
  });

  it('a document without Cache-Control for 5 minutes', async () => {
    // Prepare
    const clientId = localId();
    server.handle(json(document(clientId)));
    const resolver = local({ now });
    await resolver.resolve(clientId);

    // Act + Assess
    clock += 299_000;
    await resolver.resolve(clientId);
    expect(server.requests()).toHaveLength(1);
    clock += 2_000;
    await resolver.resolve(clientId);
    expect(server.requests()).toHaveLength(2);
  });

  it('a failure briefly, answering it again without fetching, then fetches anew', async () => {
    // Prepare
    const clientId = localId();
    server.handle((_request, response) => {
      response.writeHead(503).end();
    });
    const resolver = local({ now, errorCacheSeconds: 30 });
    expect((await refusal(resolver.resolve(clientId))).reason).toBe('cimd_bad_status');
    server.handle(json(document(clientId)));

    // Act + Assess: within 30 s the failure is answered from the cache.
    clock += 29_000;
    const again = await refusal(resolver.resolve(clientId));
    expect(again.reason).toBe('cimd_bad_status');
    expect(server.requests()).toHaveLength(1);
    clock += 2_000;
    await expect(resolver.resolve(clientId)).resolves.toMatchObject({ clientId });
    expect(server.requests()).toHaveLength(2);
  });

  it('a blocked address too, so a refused name is not resolved on every request', async () => {
    // Prepare
    const lookup = scriptedLookup({ 'cimd.attacker.test': ['10.0.0.1'] });
    const resolver = local({ now, lookup });
    const clientId = 'https://cimd.attacker.test/client.json';

    // Act
    await refusal(resolver.resolve(clientId));
    await refusal(resolver.resolve(clientId));

    // Assess
    expect(lookup.calls).toHaveLength(1);
  });

  it('at most cacheEntries clients, evicting the least recently used', async () => {
    // Prepare
    server.handle((request, response) => {
      json(document(`${server.origin}${request.url}`))(request, response);
    });
    const resolver = local({ now, cacheEntries: 2 });
    const [a, b, c] = ['/a.json', '/b.json', '/c.json'].map((path) => localId(path)) as [
      string,
      string,
      string,
    ];
    await resolver.resolve(a);
    await resolver.resolve(b);
    await resolver.resolve(a); // a is now the most recently used

    // Act
    await resolver.resolve(c); // evicts b

    // Assess
    expect(server.requests().map((request) => request.url)).toEqual([
      '/a.json',
      '/b.json',
      '/c.json',
    ]);
    await resolver.resolve(a);
    expect(server.requests()).toHaveLength(3);
    await resolver.resolve(b);
    expect(server.requests().map((request) => request.url)).toEqual([
      '/a.json',
      '/b.json',
      '/c.json',
      '/b.json',
    ]);
  });

  it('failures apart, so a flood of failing client ids cannot evict a real client', async () => {
    // Prepare
    server.handle((request, response) => {
      if (request.url === '/good.json') json(document(localId('/good.json')))(request, response);
      else response.writeHead(404).end();
    });
    const resolver = local({ now, cacheEntries: 2 });
    await resolver.resolve(localId('/good.json'));

    // Act: five failing ids, more than the cache holds.
    for (let i = 0; i < 5; i += 1) {
      await refusal(resolver.resolve(localId(`/missing-${i}.json`)));
    }
    await resolver.resolve(localId('/good.json'));

    // Assess: the good document was not fetched again; the failures were bounded too.
    expect(server.requests().filter((request) => request.url === '/good.json')).toHaveLength(1);
    await refusal(resolver.resolve(localId('/missing-0.json')));
    expect(server.requests().filter((request) => request.url === '/missing-0.json')).toHaveLength(
      2,
    );
  });

  it('nothing for a malformed client id, which costs no I/O', async () => {
    // Prepare
    const resolver = local({ now, cacheEntries: 1 });
    const clientId = localId();
    server.handle(json(document(clientId)));
    await resolver.resolve(clientId);

    // Act: a flood of malformed ids must not evict the good entry.
    for (let i = 0; i < 5; i += 1) {
      await refusal(resolver.resolve(`https://example.com/${i}#fragment`));
    }
    await resolver.resolve(clientId);

    // Assess
    expect(server.requests()).toHaveLength(1);
  });

  it('one fetch for concurrent requests for one client', async () => {
    // Prepare
    const clientId = localId();
    server.handle((request, response) => {
      setTimeout(() => json(document(clientId))(request, response), 50);
    });
    const resolver = local({ now });

    // Act
    const clients = await Promise.all([1, 2, 3].map(() => resolver.resolve(clientId)));

    // Assess
    expect(clients.map((client) => client.clientId)).toEqual([clientId, clientId, clientId]);
    expect(server.requests()).toHaveLength(1);
  });
});

describe('CimdResolver over TLS', () => {
  it('fetches from a host whose certificate the given trust anchors vouch for', async () => {
    // Prepare
    const tls = await selfSignedCertificate(['cimd.test']);
    const secure = await startDocumentServer(() => undefined, tls);
    try {
      const clientId = `https://cimd.test:${secure.port}/client.json`;
      secure.handle(json(document(clientId)));
      const lookup = scriptedLookup({ 'cimd.test': ['127.0.0.1'] });
      const resolver = new CimdResolver({ allowLoopbackHttp: true, lookup, ca: tls.cert });

      // Act
      const client = await resolver.resolve(clientId);

      // Assess
      expect(client.clientId).toBe(clientId);
      expect(lookup.calls).toEqual(['cimd.test']);
    } finally {
      await secure.close();
    }
  });

  it('refuses a certificate no trust anchor vouches for', async () => {
    // Prepare
    const tls = await selfSignedCertificate(['cimd.test']);
    const secure = await startDocumentServer(() => undefined, tls);
    try {
      const clientId = `https://cimd.test:${secure.port}/client.json`;
      secure.handle(json(document(clientId)));
      const resolver = new CimdResolver({
        allowLoopbackHttp: true,
        lookup: scriptedLookup({ 'cimd.test': ['127.0.0.1'] }),
      });

      // Act
      const error = await refusal(resolver.resolve(clientId));

      // Assess
      expect(error.reason).toBe('cimd_fetch_failed');
      expect(secure.requests()).toHaveLength(0);
    } finally {
      await secure.close();
    }
  });

  it('refuses a trusted certificate issued for another host name', async () => {
    // Prepare
    const tls = await selfSignedCertificate(['other.test']);
    const secure = await startDocumentServer(() => undefined, tls);
    try {
      const clientId = `https://cimd.test:${secure.port}/client.json`;
      secure.handle(json(document(clientId)));
      const resolver = new CimdResolver({
        allowLoopbackHttp: true,
        lookup: scriptedLookup({ 'cimd.test': ['127.0.0.1'] }),
        ca: tls.cert,
      });

      // Act
      const error = await refusal(resolver.resolve(clientId));

      // Assess
      expect(error.reason).toBe('cimd_fetch_failed');
      expect(secure.requests()).toHaveLength(0);
    } finally {
      await secure.close();
    }
  });

  it('connects to the one address it checked, resolving the name once', async () => {
    // Prepare: the first answer is the server; any later answer is 127.0.0.2, where nothing
    // listens. A fetch that resolves again after checking (the DNS-rebinding window) fails.
    const tls = await selfSignedCertificate(['cimd.test']);
    const secure = await startDocumentServer(() => undefined, tls);
    try {
      const clientId = `https://cimd.test:${secure.port}/client.json`;
      secure.handle(json(document(clientId)));
      let answers = 0;
      const lookup = scriptedLookup({
        'cimd.test': () => (answers++ === 0 ? ['127.0.0.1'] : ['127.0.0.2']),
      });
      const resolver = new CimdResolver({ allowLoopbackHttp: true, lookup, ca: tls.cert });

      // Act
      const client = await resolver.resolve(clientId);

      // Assess
      expect(client.clientId).toBe(clientId);
      expect(lookup.calls).toEqual(['cimd.test']);
    } finally {
      await secure.close();
    }
  });

  it('refuses a name whose only answer is loopback, outside local mode, before the handshake', async () => {
    // Prepare
    const tls = await selfSignedCertificate(['cimd.test']);
    const secure = await startDocumentServer(() => undefined, tls);
    try {
      const clientId = `https://cimd.test:${secure.port}/client.json`;
      secure.handle(json(document(clientId)));
      const resolver = new CimdResolver({
        lookup: scriptedLookup({ 'cimd.test': ['127.0.0.1'] }),
        ca: tls.cert,
      });

      // Act
      const error = await refusal(resolver.resolve(clientId));

      // Assess
      expect(error.reason).toBe('cimd_blocked_address');
      expect(secure.connections()).toBe(0);
    } finally {
      await secure.close();
    }
  });
});
