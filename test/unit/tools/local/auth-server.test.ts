/**
 * The local sign-in page and token endpoint: the OAuth proxy's upstream in local mode, as
 * Cognito's hosted login is in AWS. It answers only the proxy's client and callback.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { applyUserChange } from '../../../../tools/cli/user-admin';
import {
  LocalAuthServer,
  MAX_PENDING,
  OAuthError,
  SUB_PATTERN,
  s256,
} from '../../../../tools/local/auth-server';
import { LOCAL_CLIENT_ID, loadSigningKey } from '../../../../tools/local/identity';
import {
  type LocalSignInPolicy,
  LocalUserDirectory,
  localSignInPolicy,
} from '../../../../tools/local/user-file';
import { isLoopbackRedirect } from '../../../support/in-process-oauth';

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
function localServer(now: () => number, users?: LocalSignInPolicy): LocalAuthServer {
  return new LocalAuthServer({
    baseUrl: 'http://127.0.0.1:3000',
    ownOrigins: ['http://127.0.0.1:3000', 'http://localhost:3000'],
    signingKey: loadSigningKey(dir),
    now,
    ...(users === undefined ? {} : { users }),
  });
}

/** The claims of a JWT, read without checking it (the test minted it). */
function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'));
}

/** The OAuth error `act` throws, or undefined if it throws none. */
function oauthErrorOf(act: () => unknown): string | undefined {
  try {
    act();
    return undefined;
  } catch (error) {
    if (!(error instanceof OAuthError)) throw error;
    return error.error;
  }
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
  function signedIn(now: () => number, users?: LocalSignInPolicy) {
    const server = localServer(now, users);
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

  it('issues a refresh token that gives a new access token for the same session, and a new refresh token (rotation)', () => {
    // Prepare
    const { server, redeem } = signedIn(Date.now);
    const first = redeem();
    const refresh = (token: string | undefined) => () =>
      server.token(
        new URLSearchParams({
          grant_type: 'refresh_token',
          client_id: LOCAL_CLIENT_ID,
          refresh_token: token ?? '',
        }),
      );

    // Act
    const refreshed = refresh(first.refresh_token)();

    // Assess
    expect(first.refresh_token).toMatch(/^[\w-]{43}$/);
    expect(refreshed.access_token).toMatch(/^ey/);
    expect(refreshed.scope).toBe(first.scope);
    expect(refreshed.refresh_token).toMatch(/^[\w-]{43}$/);
    expect(refreshed.refresh_token).not.toBe(first.refresh_token);
    expect(oauthErrorOf(refresh(first.refresh_token))).toBe('invalid_grant');
    expect(refresh(refreshed.refresh_token)().access_token).toMatch(/^ey/);
  });

  it('keeps the sign-in time as auth_time on refresh, as Cognito does, so a sign-out still refuses it', () => {
    // Prepare: sign in at t, refresh at t + 10 min
    let now = 1_767_225_600_000;
    const { server, redeem } = signedIn(() => now);
    const first = redeem();
    now += 600_000;

    // Act
    const refreshed = server.token(
      new URLSearchParams({
        grant_type: 'refresh_token',
        client_id: LOCAL_CLIENT_ID,
        refresh_token: first.refresh_token ?? '',
      }),
    );

    // Assess: a new iat, the old auth_time (the revocation list compares auth_time)
    const signIn = Math.floor(1_767_225_600_000 / 1000);
    expect(claimsOf(first.access_token).auth_time).toBe(signIn);
    expect(claimsOf(refreshed.access_token).iat).toBe(signIn + 600);
    expect(claimsOf(refreshed.access_token).auth_time).toBe(signIn);
  });

  it("refuses a disabled user's refresh and gives a refreshed token the groups now recorded", () => {
    // Prepare: alice signs in as analyst; then the users CLI changes her groups, then disables her
    let disabled = false;
    let recorded: string[] | undefined;
    const users: LocalSignInPolicy = {
      refusal: () => (disabled ? 'User alice is disabled' : undefined),
      groupsFor: (_sub, picked) => recorded ?? [...picked],
      sessionEnded: () => false,
    };
    const { server, redeem } = signedIn(Date.now, users);
    const first = redeem();
    let latest = first.refresh_token ?? '';
    const refresh = () => {
      const answer = server.token(
        new URLSearchParams({
          grant_type: 'refresh_token',
          client_id: LOCAL_CLIENT_ID,
          refresh_token: latest,
        }),
      );
      latest = answer.refresh_token ?? '';
      return answer;
    };

    // Act
    recorded = ['readonly'];
    const regrouped = refresh();
    disabled = true;

    // Assess
    expect(claimsOf(first.access_token)['cognito:groups']).toEqual(['analyst']);
    expect(claimsOf(regrouped.access_token)['cognito:groups']).toEqual(['readonly']);
    expect(refresh).toThrow(/may not sign in/);
  });

  it.each(['sign-out', 'disable'] as const)(
    'refuses, for good, a refresh token of a session begun before a %s with the users CLI',
    async (action) => {
      // Prepare: alice signs in at t; the operator acts at t + 1 min; the not-before list
      // forgets it (here: it is never written) as its entry would expire after 65 minutes
      let now = 1_767_225_600_000;
      const usersFile = join(mkdtempSync(join(dir, 'users-')), 'users.json');
      const { server, redeem } = signedIn(() => now, localSignInPolicy(usersFile));
      const before = redeem();
      now += 60_000;
      await applyUserChange(
        {
          directory: new LocalUserDirectory(usersFile, () => now),
          revocations: { description: 'nowhere', record: async () => {} },
          actor: 'test',
          audit: () => {},
          roles: [],
          now: () => new Date(now),
        },
        { action, username: 'alice' },
      );
      if (action === 'disable') {
        await new LocalUserDirectory(usersFile, () => now).enable('alice');
      }
      now += 2 * 3600_000;

      // Act
      const refresh = () =>
        server.token(
          new URLSearchParams({
            grant_type: 'refresh_token',
            client_id: LOCAL_CLIENT_ID,
            refresh_token: before.refresh_token ?? '',
          }),
        );

      // Assess: refused two hours on (and enabled again after a disable), as Cognito does
      expect(oauthErrorOf(refresh)).toBe('invalid_grant');
      expect(oauthErrorOf(refresh)).toBe('invalid_grant');
    },
  );

  it('lets a session begun after a sign-out refresh', async () => {
    // Prepare
    let now = 1_767_225_600_000;
    const usersFile = join(mkdtempSync(join(dir, 'users-')), 'users.json');
    await new LocalUserDirectory(usersFile, () => now).signOut('alice');
    now += 1000;
    const { server, redeem } = signedIn(() => now, localSignInPolicy(usersFile));
    const after = redeem();

    // Act
    const refreshed = server.token(
      new URLSearchParams({
        grant_type: 'refresh_token',
        client_id: LOCAL_CLIENT_ID,
        refresh_token: after.refresh_token ?? '',
      }),
    );

    // Assess
    expect(refreshed.access_token).toMatch(/^ey/);
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
