import { mkdtempSync, rmSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { registerClient } from '../../lambda/shared/client-registration';
import {
  isLoopbackRedirect,
  LocalAuthServer,
  MAX_PENDING,
  OAuthError,
  SUB_PATTERN,
  s256,
} from '../../tools/local-auth-server';
import { LOCAL_CLIENT_ID, LOCAL_SCOPE, loadSigningKey } from '../../tools/local-identity';

const dir = mkdtempSync(join(tmpdir(), 'mcp-as-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Just enough of a ServerResponse to capture a page or a redirect. */
function recorder() {
  const captured: { status?: number; headers?: Record<string, string>; body?: string } = {};
  const res = {
    writeHead: (status: number, headers: Record<string, string>) => {
      captured.status = status;
      captured.headers = headers;
      return res;
    },
    end: (body?: string) => {
      captured.body = body;
      return res;
    },
  } as unknown as ServerResponse;
  return { res, captured };
}

describe('s256', () => {
  it('computes the RFC 7636 appendix B challenge', () => {
    expect(s256('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe(
      'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    );
  });
});

describe('isLoopbackRedirect', () => {
  it.each([
    ['http://127.0.0.1:6276/oauth/callback', true],
    ['http://localhost:8080/callback', true],
    ['http://[::1]:1234/cb', true],
    ['https://claude.ai/api/mcp/auth_callback', false],
    ['http://localhost.attacker.example/cb', false],
    ['http://user@127.0.0.1/cb', false],
    ['javascript:alert(1)', false],
    ['not a url', false],
  ])('%s -> %s', (uri, expected) => {
    expect(isLoopbackRedirect(uri)).toBe(expected);
  });
});

/** The local authorization server of a gateway on 127.0.0.1:3000, on the given clock. */
function localServer(now: () => number): LocalAuthServer {
  return new LocalAuthServer({
    baseUrl: 'http://127.0.0.1:3000',
    resource: 'http://127.0.0.1:3000/mcp',
    signingKey: loadSigningKey(dir),
    now,
  });
}

describe('LocalAuthServer codes', () => {
  it('refuses a code presented after its 60 seconds with invalid_grant', () => {
    // Prepare: sign in at t, present the code at t + 61 s
    let now = 1_767_225_600_000;
    const server = localServer(() => now);
    const verifier = 'v'.repeat(43);
    const redirectUri = 'http://127.0.0.1:6276/cb';
    const page = recorder();
    server.authorizePage(
      new URLSearchParams({
        response_type: 'code',
        client_id: LOCAL_CLIENT_ID,
        redirect_uri: redirectUri,
        code_challenge: s256(verifier),
        code_challenge_method: 'S256',
      }),
      page.res,
    );
    const requestId = /name="request" value="([^"]+)"/.exec(page.captured.body ?? '')?.[1];
    const approved = recorder();
    server.approve(new URLSearchParams({ request: requestId ?? '', sub: 'alice' }), approved.res);
    const code = new URL(approved.captured.headers?.Location ?? '').searchParams.get('code') ?? '';
    now += 61_000;

    // Act
    let error: unknown;
    try {
      server.token(
        new URLSearchParams({
          grant_type: 'authorization_code',
          client_id: LOCAL_CLIENT_ID,
          redirect_uri: redirectUri,
          code,
          code_verifier: verifier,
        }),
      );
    } catch (caught) {
      error = caught;
    }

    // Assess
    expect(code).not.toBe('');
    expect(error).toBeInstanceOf(OAuthError);
    expect((error as OAuthError).error).toBe('invalid_grant');
  });
});

describe('LocalAuthServer registration', () => {
  const server = new LocalAuthServer({
    baseUrl: 'http://127.0.0.1:3000',
    resource: 'http://127.0.0.1:3000/mcp',
    signingKey: loadSigningKey(dir),
    now: () => 1_767_225_600_000,
  });

  /** The OAuthError `register` throws for `body`. */
  function refused(body: unknown): OAuthError {
    try {
      registerClient(body, server.registrationPolicy);
    } catch (error) {
      if (error instanceof OAuthError) return error;
      throw error;
    }
    throw new Error('expected the registration to be refused');
  }

  it('answers loopback redirect URIs with the local client, without refresh tokens', () => {
    // Act
    const client = registerClient(
      {
        redirect_uris: ['http://127.0.0.1:6276/oauth/callback', 'http://localhost:51234/cb'],
        grant_types: ['authorization_code', 'refresh_token'],
        client_name: 'Inspector',
      },
      server.registrationPolicy,
    );

    // Assess
    expect(client).toEqual({
      client_id: LOCAL_CLIENT_ID,
      client_id_issued_at: 1_767_225_600,
      redirect_uris: ['http://127.0.0.1:6276/oauth/callback', 'http://localhost:51234/cb'],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code'],
      response_types: ['code'],
      scope: LOCAL_SCOPE,
      client_name: 'Inspector',
    });
  });

  it.each([
    ['an off-machine redirect', { redirect_uris: ['https://claude.ai/api/mcp/auth_callback'] }],
    ['a loopback lookalike', { redirect_uris: ['http://localhost.attacker.example/cb'] }],
  ])('refuses %s with invalid_redirect_uri', (_, body) => {
    // Assess
    expect(refused(body).error).toBe('invalid_redirect_uri');
  });

  it('refuses a scope the local server does not issue with invalid_client_metadata', () => {
    // Act
    const error = refused({ redirect_uris: ['http://127.0.0.1:1/cb'], scope: 'admin' });

    // Assess
    expect(error.error).toBe('invalid_client_metadata');
  });
});

describe('LocalAuthServer sign-in page', () => {
  let now = 1_767_225_600_000;
  const server = localServer(() => now);
  const page = (redirectUri: string) => {
    const { res, captured } = recorder();
    server.authorizePage(
      new URLSearchParams({
        response_type: 'code',
        client_id: LOCAL_CLIENT_ID,
        redirect_uri: redirectUri,
        code_challenge: 'c'.repeat(43),
        code_challenge_method: 'S256',
      }),
      res,
    );
    return captured;
  };

  it('lets its form go to this server and the validated callback origin, nowhere else', () => {
    // Act
    const { headers } = page('http://localhost:6274/oauth/callback');

    // Assess
    expect(headers?.['Content-Security-Policy']).toBe(
      "default-src 'none'; form-action 'self' http://localhost:6274; frame-ancestors 'none'; base-uri 'none'",
    );
    expect(headers?.['Referrer-Policy']).toBe('same-origin');
  });

  it('keeps form-action to itself for an IPv6 callback, which CSP cannot name, and continues by a page', () => {
    // Prepare
    const { headers, body } = page('http://[::1]:6274/oauth/callback');
    const requestId = /name="request" value="([^"]+)"/.exec(body ?? '')?.[1] ?? '';

    // Act
    const approved = recorder();
    server.approve(new URLSearchParams({ request: requestId, sub: 'alice' }), approved.res);

    // Assess
    expect(headers?.['Content-Security-Policy']).toContain("form-action 'self';");
    expect(approved.captured.status).toBe(200);
    expect(approved.captured.body).toMatch(
      /<meta http-equiv="refresh" content="0; url=http:\/\/\[::1\]:6274\/oauth\/callback\?code=/,
    );
  });

  it('answers the form with 303 to the callback, with code, state and iss', () => {
    // Prepare
    const requestId =
      /name="request" value="([^"]+)"/.exec(
        page('http://localhost:8080/callback').body ?? '',
      )?.[1] ?? '';

    // Act
    const approved = recorder();
    server.approve(new URLSearchParams({ request: requestId, sub: 'alice' }), approved.res);

    // Assess
    expect(approved.captured.status).toBe(303);
    const location = new URL(approved.captured.headers?.Location ?? '');
    expect(location.origin).toBe('http://localhost:8080');
    expect(location.searchParams.get('iss')).toBe('http://127.0.0.1:3000');
  });

  it('puts a user-name pattern on the page that a browser compiles (the v flag) and the server enforces', () => {
    // Prepare
    const pattern = /pattern="([^"]+)"/.exec(page('http://localhost:1/cb').body ?? '')?.[1] ?? '';
    // What a browser does with the attribute (HTML: the whole value, with the v flag)
    const browser = new RegExp(`^(?:${pattern})$`, 'v');

    // Assess
    expect(pattern).toBe(SUB_PATTERN);
    expect(browser.test('alice@example.com')).toBe(true);
    expect(browser.test('a-b_c.d')).toBe(true);
    expect(browser.test('has space')).toBe(false);
    expect(browser.test('x'.repeat(65))).toBe(false);
  });

  const requestOf = (body: string | undefined) =>
    /name="request" value="([^"]+)"/.exec(body ?? '')?.[1] ?? '';
  const submit = (request: string) => {
    const answer = recorder();
    try {
      server.approve(new URLSearchParams({ request, sub: 'alice' }), answer.res);
    } catch (error) {
      return (error as OAuthError).description;
    }
    return answer.captured.status;
  };

  it('stores nothing for a page load: a flood of them cannot push out an open sign-in', () => {
    // Prepare: a person's page, then more page loads than anything is kept for
    const before = server.pendingCounts;
    const mine = requestOf(page('http://localhost:8080/callback').body);
    for (let i = 0; i < MAX_PENDING + 500; i++) page('http://localhost:1/cb');

    // Act & Assess
    expect(server.pendingCounts).toEqual(before);
    expect(submit(mine)).toBe(303);
  });

  it('signs a page in once', () => {
    const request = requestOf(page('http://localhost:8080/callback').body);
    expect(submit(request)).toBe(303);
    expect(submit(request)).toMatch(/expired or was already used/);
  });

  it('refuses a page whose signed request was altered, or forged', () => {
    // Prepare: change the redirect inside a genuine request, keeping its signature
    const [payload, mac] = requestOf(page('http://localhost:8080/callback').body).split('.');
    const altered = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()) as Record<
      string,
      unknown
    >;
    altered.redirectUri = 'http://localhost:9999/steal';
    const tampered = `${Buffer.from(JSON.stringify(altered)).toString('base64url')}.${mac}`;

    // Act & Assess
    expect(submit(tampered)).toMatch(/expired or was already used/);
    expect(submit(`${payload}.${'A'.repeat(43)}`)).toMatch(/expired or was already used/);
    expect(submit('not-a-request')).toMatch(/expired or was already used/);
  });

  it('refuses a page after its 60 seconds', () => {
    const request = requestOf(page('http://localhost:8080/callback').body);
    now += 61_000;
    expect(submit(request)).toMatch(/expired or was already used/);
  });

  it('forgets answered sign-ins and unredeemed codes once they have expired', () => {
    now += 61_000;
    submit(requestOf(page('http://localhost:8080/callback').body));
    expect(server.pendingCounts).toEqual({ answeredSignIns: 1, codes: 1 });
    now += 61_000;
    expect(server.pendingCounts).toEqual({ answeredSignIns: 0, codes: 0 });
  });
});
