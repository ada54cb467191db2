/**
 * The local sign-in page and token endpoint: the OAuth proxy's upstream in local mode, as
 * Cognito's hosted login is in AWS. It answers only the proxy's client and callback.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  LocalAuthServer,
  MAX_PENDING,
  OAuthError,
  SUB_PATTERN,
  s256,
} from '../../tools/local-auth-server';
import { LOCAL_CLIENT_ID, loadSigningKey } from '../../tools/local-identity';
import { isLoopbackRedirect } from '../../tools/local-oauth';

const dir = mkdtempSync(join(tmpdir(), 'mcp-as-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CALLBACK = 'http://127.0.0.1:3000/callback';

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

/** The local upstream of a gateway on 127.0.0.1:3000, on the given clock. */
function localServer(now: () => number): LocalAuthServer {
  return new LocalAuthServer({
    baseUrl: 'http://127.0.0.1:3000',
    ownOrigins: ['http://127.0.0.1:3000', 'http://localhost:3000'],
    signingKey: loadSigningKey(dir),
    now,
  });
}

/** What the sign-in refuses, or undefined if it shows the page. */
function pageRefusal(server: LocalAuthServer, params: Record<string, string>) {
  try {
    server.authorizePage(new URLSearchParams(params), recorder().res);
    return undefined;
  } catch (error) {
    return (error as OAuthError).error;
  }
}

const requestOf = (body: string | undefined) =>
  /name="request" value="([^"]+)"/.exec(body ?? '')?.[1] ?? '';
const continuedTo = (body: string | undefined) =>
  new URL(
    (/content="0; url=([^"]+)"/.exec(body ?? '')?.[1] ?? 'http://invalid/').replaceAll(
      '&#38;',
      '&',
    ),
  );

describe('LocalAuthServer answers the proxy only', () => {
  const server = localServer(Date.now);
  const valid = {
    response_type: 'code',
    client_id: LOCAL_CLIENT_ID,
    redirect_uri: CALLBACK,
    code_challenge: 'c'.repeat(43),
    code_challenge_method: 'S256',
  };

  it.each([
    [
      'the proxy’s callback on another own origin',
      { redirect_uri: 'http://localhost:3000/callback' },
    ],
  ])('shows the sign-in page for %s', (_, overrides) => {
    expect(pageRefusal(server, { ...valid, ...overrides })).toBeUndefined();
  });

  it.each([
    [
      'an MCP client’s own callback',
      { redirect_uri: 'http://127.0.0.1:6276/oauth/callback' },
      'invalid_request',
    ],
    [
      'another path on this origin',
      { redirect_uri: 'http://127.0.0.1:3000/evil' },
      'invalid_request',
    ],
    ['another client id', { client_id: 'someone-else' }, 'invalid_client'],
    ['plain PKCE', { code_challenge_method: 'plain' }, 'invalid_request'],
    ['an unknown scope', { scope: 'admin:everything' }, 'invalid_scope'],
  ])('refuses %s', (_, overrides, error) => {
    expect(pageRefusal(server, { ...valid, ...overrides })).toBe(error);
  });
});

describe('LocalAuthServer codes and refresh tokens', () => {
  function signedIn(now: () => number) {
    const server = localServer(now);
    const verifier = 'v'.repeat(43);
    const page = recorder();
    server.authorizePage(
      new URLSearchParams({
        response_type: 'code',
        client_id: LOCAL_CLIENT_ID,
        redirect_uri: CALLBACK,
        code_challenge: s256(verifier),
        code_challenge_method: 'S256',
      }),
      page.res,
    );
    const approved = recorder();
    server.approve(
      new URLSearchParams({
        request: requestOf(page.captured.body),
        sub: 'alice',
        groups: 'analyst',
      }),
      approved.res,
    );
    const code = continuedTo(approved.captured.body).searchParams.get('code') ?? '';
    const redeem = () =>
      server.token(
        new URLSearchParams({
          grant_type: 'authorization_code',
          client_id: LOCAL_CLIENT_ID,
          redirect_uri: CALLBACK,
          code,
          code_verifier: verifier,
        }),
      );
    return { server, code, redeem };
  }

  it('refuses a code presented after its 60 seconds with invalid_grant', () => {
    // Prepare: sign in at t, present the code at t + 61 s
    let now = 1_767_225_600_000;
    const { code, redeem } = signedIn(() => now);
    now += 61_000;

    // Act
    let error: unknown;
    try {
      redeem();
    } catch (caught) {
      error = caught;
    }

    // Assess
    expect(code).not.toBe('');
    expect(error).toBeInstanceOf(OAuthError);
    expect((error as OAuthError).error).toBe('invalid_grant');
  });

  it('issues a refresh token that gives a new access token for the same session', () => {
    // Prepare
    const { server, redeem } = signedIn(Date.now);
    const first = redeem();

    // Act
    const refreshed = server.token(
      new URLSearchParams({
        grant_type: 'refresh_token',
        client_id: LOCAL_CLIENT_ID,
        refresh_token: first.refresh_token ?? '',
      }),
    );

    // Assess
    expect(first.refresh_token).toMatch(/^[\w-]{43}$/);
    expect(refreshed.access_token).toMatch(/^ey/);
    expect(refreshed.scope).toBe(first.scope);
  });

  it('refuses an unknown refresh token with invalid_grant', () => {
    const { server } = signedIn(Date.now);
    expect(() =>
      server.token(
        new URLSearchParams({
          grant_type: 'refresh_token',
          client_id: LOCAL_CLIENT_ID,
          refresh_token: 'x',
        }),
      ),
    ).toThrow(/Unknown or expired refresh token/);
  });
});

describe('LocalAuthServer sign-in page', () => {
  let now = 1_767_225_600_000;
  const server = localServer(() => now);
  const page = (redirectUri = CALLBACK) => {
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

  it('lets its form go to this server only', () => {
    // Act
    const { headers } = page();

    // Assess
    expect(headers?.['Content-Security-Policy']).toBe(
      "default-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    expect(headers?.['Referrer-Policy']).toBe('same-origin');
  });

  it('answers the form with a page that goes on to the proxy’s callback, with code and state', () => {
    // Prepare
    const requestId = requestOf(page().body);

    // Act
    const approved = recorder();
    server.approve(new URLSearchParams({ request: requestId, sub: 'alice' }), approved.res);

    // Assess: a meta refresh, so the proxy's redirect to the MCP client is not the form's
    expect(approved.captured.status).toBe(200);
    expect(approved.captured.headers?.['Referrer-Policy']).toBe('no-referrer');
    const location = continuedTo(approved.captured.body);
    expect(`${location.origin}${location.pathname}`).toBe(CALLBACK);
    expect(location.searchParams.get('code')).toMatch(/^[\w-]{43}$/);
  });

  it('puts a user-name pattern on the page that a browser compiles (the v flag) and the server enforces', () => {
    // Prepare
    const pattern = /pattern="([^"]+)"/.exec(page().body ?? '')?.[1] ?? '';
    // What a browser does with the attribute (HTML: the whole value, with the v flag)
    const browser = new RegExp(`^(?:${pattern})$`, 'v');

    // Assess
    expect(pattern).toBe(SUB_PATTERN);
    expect(browser.test('alice@example.com')).toBe(true);
    expect(browser.test('a-b_c.d')).toBe(true);
    expect(browser.test('has space')).toBe(false);
    expect(browser.test('x'.repeat(65))).toBe(false);
  });

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
    const mine = requestOf(page().body);
    for (let i = 0; i < MAX_PENDING + 500; i++) page();

    // Act & Assess
    expect(server.pendingCounts).toEqual(before);
    expect(submit(mine)).toBe(200);
  });

  it('signs a page in once', () => {
    const request = requestOf(page().body);
    expect(submit(request)).toBe(200);
    expect(submit(request)).toMatch(/expired or was already used/);
  });

  it('refuses a page whose signed request was altered, or forged', () => {
    // Prepare: change the redirect inside a genuine request, keeping its signature
    const [payload, mac] = requestOf(page().body).split('.');
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
    const request = requestOf(page().body);
    now += 61_000;
    expect(submit(request)).toMatch(/expired or was already used/);
  });

  it('forgets answered sign-ins and unredeemed codes once they have expired', () => {
    now += 61_000;
    submit(requestOf(page().body));
    expect(server.pendingCounts).toEqual({ answeredSignIns: 1, codes: 1, refreshTokens: 0 });
    now += 61_000;
    expect(server.pendingCounts).toEqual({ answeredSignIns: 0, codes: 0, refreshTokens: 0 });
  });
});
