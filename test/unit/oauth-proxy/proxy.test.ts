/**
 * The OAuth proxy's decisions, step by step and attack by attack, on plain data: the local
 * sealer and code store, a scripted upstream, a browser that keeps cookies.
 */
import { describe, expect, it } from 'vitest';
import { CODE_SECONDS, codeKey } from '../../../lambda/oauth-proxy/callback';
import { clientDigest, mintDcrClientId } from '../../../lambda/oauth-proxy/clients';
import { TRANSACTION_SECONDS } from '../../../lambda/oauth-proxy/consent';
import { SEAL_PURPOSES } from '../../../lambda/oauth-proxy/ports';
import type { ProxyOutcome } from '../../../lambda/oauth-proxy/proxy';
import { parseRefreshToken } from '../../../lambda/oauth-proxy/refresh-families';
import { sealJson } from '../../../lambda/oauth-proxy/sealed-json';
import {
  type IssuedTimes,
  type RevocationEntry,
  refusedBy,
} from '../../../lambda/shared/revocations';
import {
  authorizeParams,
  Browser,
  CHALLENGE,
  CIMD_ID,
  CIMD_REDIRECT,
  flow,
  ISSUER,
  locationOf,
  PRE_ID,
  type ProxyFixture,
  proxyFixture,
  RESOURCE,
  request,
  ticketOf,
  UPSTREAM,
  VERIFIER,
} from './proxy-fixture';

const LOOPBACK = 'http://localhost:51234/callback';

function errorOf(location: URL) {
  return {
    error: location.searchParams.get('error'),
    state: location.searchParams.get('state'),
    iss: location.searchParams.get('iss'),
  };
}

describe('GET /authorize before the redirect URI is validated: a page, never a redirect', () => {
  it.each([
    ['an unknown client', { client_id: 'nobody' }, 'unknown_client'],
    ['no client', { client_id: undefined }, 'invalid_client_id'],
    ['a forged DCR id', { client_id: 'dcr_AAAA' }, 'unknown_client'],
    [
      'a CIMD document the resolver refuses',
      { client_id: 'https://10.0.0.1/c.json' },
      'cimd_blocked_address',
    ],
    ['no redirect URI', { redirect_uri: undefined }, 'invalid_redirect_uri'],
    [
      'another host',
      { redirect_uri: 'http://evil.example:8080/callback' },
      'redirect_uri_mismatch',
    ],
    ['another path', { redirect_uri: 'http://localhost:8080/other' }, 'redirect_uri_mismatch'],
    [
      'a query added',
      { redirect_uri: 'http://localhost:8080/callback?x=1' },
      'redirect_uri_mismatch',
    ],
    ['user info', { redirect_uri: 'http://evil@localhost:8080/callback' }, 'redirect_uri_mismatch'],
    [
      'a lookalike host',
      { redirect_uri: 'http://localhost.evil.example:8080/callback' },
      'redirect_uri_mismatch',
    ],
    [
      'https on the loopback port',
      { redirect_uri: 'https://localhost:8080/callback' },
      'redirect_uri_mismatch',
    ],
    ['a fragment', { redirect_uri: 'http://localhost:8080/callback#x' }, 'redirect_uri_mismatch'],
  ])('answers %s on a page', async (_, overrides, reason) => {
    // Prepare
    const f = proxyFixture();

    // Act
    const outcome = await flow(f).authorize(authorizeParams(overrides));

    // Assess
    expect(outcome.response.status).toBe(400);
    expect(outcome.response.headers.Location).toBeUndefined();
    expect(outcome.response.headers['Content-Type']).toMatch(/^text\/html/);
    expect(outcome.audit).toMatchObject({ step: 'authorize', outcome: 'refused', reason });
  });

  it('refuses a repeated parameter (two redirect URIs) on a page', async () => {
    // Prepare
    const f = proxyFixture();
    const query = new URLSearchParams(authorizeParams());
    query.append('redirect_uri', 'http://evil.example/cb');

    // Act
    const outcome = await f.proxy.handle(request('GET', '/authorize', { query }));

    // Assess
    expect(outcome.response.status).toBe(400);
    expect(outcome.audit.reason).toBe('duplicate_parameter');
  });

  it('refuses a CIMD client on another port of its https redirect URI', async () => {
    // Prepare
    const f = proxyFixture();

    // Act
    const outcome = await flow(f).authorize(
      authorizeParams({
        client_id: CIMD_ID,
        redirect_uri: 'https://app.example.org:8443/callback',
      }),
    );

    // Assess
    expect(outcome.response.status).toBe(400);
    expect(outcome.audit).toMatchObject({ clientKind: 'cimd', clientHost: 'app.example.org' });
  });
});

describe('GET /authorize after the redirect URI is validated: errors go back with state and iss', () => {
  it.each([
    [
      'no PKCE',
      { code_challenge: undefined, code_challenge_method: undefined },
      'invalid_request',
      'pkce_missing',
    ],
    [
      'plain PKCE (downgrade)',
      { code_challenge_method: 'plain' },
      'invalid_request',
      'pkce_method_not_s256',
    ],
    [
      'a challenge without a method (plain by default)',
      { code_challenge_method: undefined },
      'invalid_request',
      'pkce_method_not_s256',
    ],
    [
      'a malformed challenge',
      { code_challenge: 'short' },
      'invalid_request',
      'invalid_code_challenge',
    ],
    ['no resource', { resource: undefined }, 'invalid_request', 'resource_missing'],
    [
      'another resource',
      { resource: 'https://other.example.com/mcp' },
      'invalid_target',
      'resource_mismatch',
    ],
    [
      'a resource with a trailing slash',
      { resource: `${RESOURCE}/` },
      'invalid_target',
      'resource_mismatch',
    ],
    [
      'a token response type',
      { response_type: 'token' },
      'unsupported_response_type',
      'unsupported_response_type',
    ],
    ['an unknown scope', { scope: 'mcp/tools mcp/everything' }, 'invalid_scope', 'invalid_scope'],
  ])('sends %s back to the client', async (_, overrides, error, reason) => {
    // Prepare
    const f = proxyFixture();

    // Act
    const outcome = await flow(f).authorize(authorizeParams(overrides));

    // Assess
    const location = locationOf(outcome);
    expect(`${location.origin}${location.pathname}`).toBe(LOOPBACK);
    expect(errorOf(location)).toEqual({ error, state: 'client-state', iss: ISSUER });
    expect(outcome.audit).toMatchObject({ outcome: 'refused', reason, oauthError: error });
  });

  it('lets a registered client ask beyond the scopes it registered (step-up), and asks the person', async () => {
    // Prepare: registration is open to anyone, so its scopes are a default, not a ceiling; a
    // ceiling would refuse the re-authorization a 403 insufficient_scope asks for
    const f = proxyFixture();
    const clientId = await mintDcrClientId(f.sealer, {
      redirectUris: ['http://127.0.0.1/cb'],
      scope: 'mcp/read_data',
      grantTypes: ['authorization_code'],
      issuedAt: 1,
    });

    // Act
    const outcome = await flow(f).authorize(
      authorizeParams({
        client_id: clientId,
        redirect_uri: 'http://127.0.0.1:9/cb',
        scope: 'mcp/tools mcp/read_data mcp/admin',
      }),
    );

    // Assess: the consent page, naming what is asked, not an invalid_scope redirect
    expect(outcome.response.status).toBe(200);
    expect(outcome.audit).toMatchObject({ step: 'authorize', reason: 'consent_shown' });
    expect(outcome.response.body).toContain('mcp/admin');
  });
});

describe('the consent page', () => {
  it('names the client (unverified for CIMD), its host, the redirect host and the permissions, escaped', async () => {
    // Prepare
    const f = proxyFixture();

    // Act
    const outcome = await flow(f).authorize(
      authorizeParams({
        client_id: CIMD_ID,
        redirect_uri: CIMD_REDIRECT,
        scope: 'mcp/tools mcp/read_data',
      }),
    );

    // Assess
    const html = outcome.response.body;
    expect(outcome.response.status).toBe(200);
    expect(html).toContain('Example &#60;App&#62;');
    expect(html).not.toContain('<App>');
    expect(html).toContain('has not verified it');
    expect(html).toContain('published at <strong>app.example.org</strong>');
    expect(html).toContain('sent to <strong>app.example.org</strong>');
    expect(html).toContain('Call the tools');
    expect(html).toContain('Read &#60;data&#62;');
    expect(outcome.audit).toMatchObject({
      step: 'authorize',
      outcome: 'ok',
      reason: 'consent_shown',
    });
  });

  it('is served with no script, no framing, and a form that may go only here, upstream and to the client', async () => {
    // Act
    const outcome = await flow(proxyFixture()).authorize(
      authorizeParams({ client_id: CIMD_ID, redirect_uri: CIMD_REDIRECT }),
    );

    // Assess
    const csp = outcome.response.headers['Content-Security-Policy'] ?? '';
    expect(csp).toMatch(/^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]+'; /);
    expect(csp).toContain(`form-action 'self' ${UPSTREAM} https://app.example.org;`);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(outcome.response.body).not.toMatch(/<script|\son[a-z]+=/i);
    expect(outcome.response.headers['Referrer-Policy']).toBe('same-origin');
    expect(outcome.response.headers['X-Frame-Options']).toBe('DENY');
  });

  it('sets a browser cookie: HttpOnly, SameSite=Lax, Secure with the __Host- prefix on https', async () => {
    // Act
    const outcome = await flow(proxyFixture()).authorize();

    // Assess
    expect(outcome.response.cookies).toEqual([
      expect.stringMatching(
        /^__Host-mcp-browser=[\w-]{43}; Path=\/; Max-Age=604800; HttpOnly; SameSite=Lax; Secure$/,
      ),
    ]);
  });

  it('sets the cookie without Secure or prefix on a plain-http (loopback) issuer', async () => {
    // Act
    const outcome = await flow(
      proxyFixture({ issuer: 'http://127.0.0.1:3000', resource: 'http://127.0.0.1:3000/mcp' }),
    ).authorize(authorizeParams({ resource: 'http://127.0.0.1:3000/mcp' }));

    // Assess
    expect(outcome.response.cookies[0]).toMatch(/^mcp-browser=[\w-]{43}; .*SameSite=Lax$/);
  });
});

describe('POST /authorize: the consent answer and its CSRF defences', () => {
  async function openedPage() {
    const f = proxyFixture();
    const steps = flow(f);
    const page = await steps.authorize();
    return { f, steps, ticket: ticketOf(page.response) };
  }

  it('sends an approval upstream with the proxy’s own client, callback and fresh PKCE', async () => {
    // Prepare
    const { steps, ticket } = await openedPage();

    // Act
    const outcome = await steps.consent(ticket);

    // Assess
    const upstream = locationOf(outcome);
    expect(outcome.response.status).toBe(303);
    expect(`${upstream.origin}${upstream.pathname}`).toBe(`${UPSTREAM}/oauth2/authorize`);
    expect(Object.fromEntries(upstream.searchParams)).toMatchObject({
      response_type: 'code',
      client_id: 'upstream-client',
      redirect_uri: `${ISSUER}/callback`,
      code_challenge_method: 'S256',
      scope: 'mcp/tools',
    });
    expect(upstream.searchParams.get('code_challenge')).not.toBe(CHALLENGE);
    expect(upstream.searchParams.get('state')).not.toContain('client-state');
    expect(outcome.audit).toMatchObject({ step: 'consent', outcome: 'ok', reason: 'approved' });
  });

  it('sends a denial back to the client with access_denied, its state and iss', async () => {
    // Prepare
    const { steps, ticket } = await openedPage();

    // Act
    const outcome = await steps.consent(ticket, { decision: 'deny' });

    // Assess
    expect(errorOf(locationOf(outcome))).toEqual({
      error: 'access_denied',
      state: 'client-state',
      iss: ISSUER,
    });
    expect(outcome.audit).toMatchObject({ outcome: 'refused', reason: 'denied_by_user' });
  });

  it.each([
    [
      'another site’s page (foreign Origin)',
      { Origin: 'https://evil.example' },
      403,
      'foreign_origin',
    ],
    ['no Origin at all', { Origin: '' }, 403, 'foreign_origin'],
    ['a browser without the cookie', { Cookie: '' }, 403, 'missing_browser_cookie'],
    [
      'another browser (its own cookie)',
      { Cookie: `__Host-mcp-browser=${'A'.repeat(43)}` },
      403,
      'ticket_browser_mismatch',
    ],
  ])('refuses an answer from %s', async (_, headers, status, reason) => {
    // Prepare
    const { steps, ticket } = await openedPage();

    // Act
    const outcome = await steps.consent(ticket, { decision: 'approve' }, headers);

    // Assess
    expect(outcome.response.status).toBe(status);
    expect(outcome.response.headers.Location).toBeUndefined();
    expect(outcome.audit).toMatchObject({ step: 'consent', outcome: 'refused', reason });
  });

  it('refuses another browser’s ticket (a CSRF page carrying a ticket it got for itself)', async () => {
    // Prepare: the attacker opens a consent page in their browser, the victim has their own cookie
    const f = proxyFixture();
    const attacker = flow(f);
    const attackerTicket = ticketOf((await attacker.authorize()).response);
    const victim = flow(f);
    await victim.authorize();

    // Act
    const outcome = await victim.consent(attackerTicket);

    // Assess
    expect(outcome.response.status).toBe(403);
    expect(outcome.audit.reason).toBe('ticket_browser_mismatch');
  });

  it('refuses a ticket answered twice', async () => {
    // Prepare
    const { steps, ticket } = await openedPage();
    expect((await steps.consent(ticket)).response.status).toBe(303);

    // Act
    const replay = await steps.consent(ticket);

    // Assess
    expect(replay.response.status).toBe(400);
    expect(replay.audit.reason).toBe('ticket_replayed');
  });

  it('refuses a ticket after its 10 minutes, and a forged one', async () => {
    // Prepare
    const { f, steps, ticket } = await openedPage();

    // Act
    const forged = await steps.consent(`${ticket.slice(0, -4)}AAAA`);
    f.advance(10 * 60_000 + 1000);
    const late = await steps.consent(ticket);

    // Assess
    expect(forged.audit.reason).toBe('invalid_ticket');
    expect(late.audit.reason).toBe('ticket_expired');
  });

  it('refuses a ticket sealed for another purpose (a transaction passed off as a ticket)', async () => {
    // Prepare
    const { steps, ticket } = await openedPage();
    const upstream = locationOf(await steps.consent(ticket));
    const transaction = upstream.searchParams.get('state') ?? '';

    // Act
    const outcome = await steps.consent(transaction);

    // Assess
    expect(outcome.audit.reason).toBe('invalid_ticket');
  });
});

describe('remembered approvals', () => {
  it('skips the consent page for the same client, redirect URI and scopes in the same browser', async () => {
    // Prepare
    const f = proxyFixture();
    const steps = flow(f);
    const approved = await steps.consent(ticketOf((await steps.authorize()).response), {
      decision: 'approve',
      remember: 'yes',
    });
    expect(approved.response.cookies).toEqual([
      expect.stringMatching(
        /^__Host-mcp-consent=[\w-]+; Path=\/; Max-Age=604800; HttpOnly; SameSite=Lax; Secure$/,
      ),
    ]);

    // Act
    const again = await steps.authorize(authorizeParams({ state: 'second' }));

    // Assess
    expect(again.response.status).toBe(302);
    expect(locationOf(again).origin).toBe(UPSTREAM);
    expect(again.audit).toMatchObject({ step: 'consent', reason: 'consent_remembered' });
  });

  it.each([
    ['more scopes', { scope: 'mcp/tools mcp/admin' }],
    ['another redirect path', { redirect_uri: 'http://127.0.0.1:9/callback', client_id: CIMD_ID }],
  ])('asks again for %s', async (_, overrides) => {
    // Prepare
    const f = proxyFixture();
    const steps = flow(f);
    await steps.consent(ticketOf((await steps.authorize()).response), {
      decision: 'approve',
      remember: 'yes',
    });

    // Act
    const again = await steps.authorize(authorizeParams(overrides));

    // Assess
    expect(again.response.status).toBe(200);
    expect(again.audit.reason).toBe('consent_shown');
  });

  it('remembers nothing for another browser given the cookie, nor after it expires', async () => {
    // Prepare
    const f = proxyFixture();
    const steps = flow(f);
    await steps.consent(ticketOf((await steps.authorize()).response), {
      decision: 'approve',
      remember: 'yes',
    });
    const other = new Browser();
    other.cookies.set('__Host-mcp-consent', steps.browser.cookies.get('__Host-mcp-consent') ?? '');

    // Act
    const stolen = await flow(f, other).authorize();
    f.advance(7 * 24 * 3600_000 + 1000);
    const expired = await steps.authorize();

    // Assess
    expect(stolen.response.status).toBe(200);
    expect(expired.response.status).toBe(200);
  });

  it('offers no remembering when it is turned off', async () => {
    // Prepare
    const f = proxyFixture({ consentRememberSeconds: 0 });
    const steps = flow(f);
    const page = await steps.authorize();

    // Act
    const approved = await steps.consent(ticketOf(page.response), {
      decision: 'approve',
      remember: 'yes',
    });

    // Assess
    expect(page.response.body).not.toContain('name="remember"');
    expect(approved.response.cookies).toEqual([]);
  });
});

describe('GET /callback', () => {
  it('gives the client its own code with its state and iss, never the upstream code', async () => {
    // Act
    const { location, back } = await flow(proxyFixture()).code();

    // Assess
    expect(`${location.origin}${location.pathname}`).toBe(LOOPBACK);
    expect(location.searchParams.get('code')).toMatch(/^[\w-]{43}$/);
    expect(location.searchParams.get('code')).not.toBe('upstream-code');
    expect(location.searchParams.get('state')).toBe('client-state');
    expect(location.searchParams.get('iss')).toBe(ISSUER);
    expect(back.audit).toMatchObject({
      step: 'callback',
      outcome: 'ok',
      clientKind: 'preregistered',
    });
  });

  it('refuses a sign-in started in another browser (the link sent to a victim)', async () => {
    // Prepare: the attacker approves their own request and sends the upstream link to a victim
    const f = proxyFixture();
    const attacker = flow(f);
    const upstream = locationOf(
      await attacker.consent(ticketOf((await attacker.authorize()).response)),
    );
    const victim = flow(f);
    await victim.authorize();

    // Act: the victim signs in upstream, which returns the victim's browser to the callback
    const outcome = await victim.callback({
      code: 'victim-code',
      state: upstream.searchParams.get('state') ?? '',
    });

    // Assess
    expect(outcome.response.status).toBe(403);
    expect(outcome.response.headers.Location).toBeUndefined();
    expect(outcome.audit.reason).toBe('transaction_browser_mismatch');
    expect(f.codes.size).toBe(1); // the attacker's used ticket only: no code
  });

  it.each([
    ['a tampered state', (state: string) => `${state.slice(0, -6)}AAAAAA`, 'invalid_transaction'],
    ['no state', () => '', 'invalid_transaction'],
  ])('refuses %s on a page', async (_, change, reason) => {
    // Prepare
    const f = proxyFixture();
    const steps = flow(f);
    const upstream = locationOf(await steps.consent(ticketOf((await steps.authorize()).response)));

    // Act
    const outcome = await steps.callback({
      code: 'c',
      state: change(upstream.searchParams.get('state') ?? ''),
    });

    // Assess
    expect(outcome.response.status).toBe(400);
    expect(outcome.audit.reason).toBe(reason);
  });

  it('refuses a transaction after its 10 minutes', async () => {
    // Prepare
    const f = proxyFixture();
    const steps = flow(f);
    const upstream = locationOf(await steps.consent(ticketOf((await steps.authorize()).response)));
    f.advance(TRANSACTION_SECONDS * 1000 + 1000);

    // Act
    const outcome = await steps.callback({
      code: 'c',
      state: upstream.searchParams.get('state') ?? '',
    });

    // Assess
    expect(outcome.audit.reason).toBe('transaction_expired');
  });

  it('refuses a transaction of another issuer (a mix-up between two proxies sharing a key)', async () => {
    // Prepare: a transaction sealed by a proxy whose issuer differs, same key
    const f = proxyFixture();
    const steps = flow(f);
    await steps.authorize();
    const browserId = steps.browser.cookies.get('__Host-mcp-browser') ?? '';
    const { createHash } = await import('node:crypto');
    const state = await sealJson(
      f.sealer,
      SEAL_PURPOSES.transaction,
      {
        c: clientDigest(PRE_ID),
        k: 'preregistered',
        r: LOOPBACK,
        ch: CHALLENGE,
        sc: ['mcp/tools'],
        b: createHash('sha256').update(browserId).digest('base64url'),
        iss: 'https://other.example.com',
        v: VERIFIER,
      },
      Math.floor(Date.UTC(2026, 11, 1, 13) / 1000),
    );

    // Act
    const outcome = await steps.callback({ code: 'c', state });

    // Assess
    expect(outcome.response.status).toBe(400);
    expect(outcome.audit.reason).toBe('invalid_transaction');
  });

  it('mints one code per transaction: the same callback opened again is refused', async () => {
    // Prepare
    const f = proxyFixture();
    const steps = flow(f);
    const { upstream, location } = await steps.code();
    const state = upstream.searchParams.get('state') ?? '';

    // Act: the same browser opens the callback again (history, a reload, a replayed link)
    const again = await steps.callback({ code: 'upstream-code-2', state });

    // Assess
    expect(location.searchParams.get('code')).toMatch(/^[\w-]{43}$/);
    expect(again.response.status).toBe(400);
    expect(again.response.headers.Location).toBeUndefined();
    expect(again.audit).toMatchObject({ outcome: 'refused', reason: 'transaction_replayed' });
  });

  it('passes an upstream refusal back to the client as access_denied, with state and iss', async () => {
    // Prepare
    const f = proxyFixture();
    const steps = flow(f);
    const upstream = locationOf(await steps.consent(ticketOf((await steps.authorize()).response)));

    // Act
    const outcome = await steps.callback({
      error: 'access_denied',
      state: upstream.searchParams.get('state') ?? '',
    });

    // Assess
    expect(errorOf(locationOf(outcome))).toEqual({
      error: 'access_denied',
      state: 'client-state',
      iss: ISSUER,
    });
  });
});

describe('POST /token', () => {
  async function issued() {
    const f = proxyFixture();
    const steps = flow(f);
    const { location } = await steps.code();
    const code = location.searchParams.get('code') ?? '';
    const redeem = (overrides: Record<string, string> = {}) =>
      steps.token({
        grant_type: 'authorization_code',
        code,
        client_id: PRE_ID,
        redirect_uri: LOOPBACK,
        code_verifier: VERIFIER,
        resource: RESOURCE,
        ...overrides,
      });
    return { f, steps, code, redeem };
  }

  it('redeems the upstream code with the proxy’s verifier and hands over access and refresh tokens, not the id_token', async () => {
    // Prepare
    const { f, redeem } = await issued();

    // Act
    const outcome = await redeem();

    // Assess
    expect(outcome.response.status).toBe(200);
    expect(JSON.parse(outcome.response.body)).toEqual({
      access_token: 'access-1',
      token_type: 'Bearer',
      expires_in: 3600,
      refresh_token: expect.stringMatching(/^[\w-]{43}$/),
      scope: 'mcp/tools',
    });
    expect(outcome.response.headers['Cache-Control']).toBe('no-store');
    const call = f.calls[0];
    expect(call?.url).toBe(`${UPSTREAM}/oauth2/token`);
    expect(Object.fromEntries(call?.form ?? [])).toMatchObject({
      grant_type: 'authorization_code',
      client_id: 'upstream-client',
      code: 'upstream-code',
      redirect_uri: `${ISSUER}/callback`,
    });
    expect(call?.form.get('code_verifier')).not.toBe(VERIFIER);
    expect(outcome.audit).toMatchObject({
      step: 'token',
      outcome: 'ok',
      clientKind: 'preregistered',
    });
  });

  it('refuses a code used twice with invalid_grant, and calls the upstream once', async () => {
    // Prepare
    const { f, redeem } = await issued();
    expect((await redeem()).response.status).toBe(200);

    // Act
    const replay = await redeem();

    // Assess
    expect(replay.response.status).toBe(400);
    expect(JSON.parse(replay.response.body).error).toBe('invalid_grant');
    expect(replay.audit).toMatchObject({ outcome: 'refused', reason: 'invalid_code' });
    expect(f.calls).toHaveLength(1);
  });

  it.each([
    [
      'a wrong verifier',
      { code_verifier: 'w'.repeat(43) },
      'invalid_grant',
      'pkce_verifier_mismatch',
    ],
    ['no verifier', { code_verifier: '' }, 'invalid_grant', 'pkce_verifier_mismatch'],
    [
      'the challenge itself as verifier',
      { code_verifier: CHALLENGE },
      'invalid_grant',
      'pkce_verifier_mismatch',
    ],
    ['another client', { client_id: CIMD_ID }, 'invalid_grant', 'code_client_mismatch'],
    [
      'another redirect URI',
      { redirect_uri: 'http://localhost:51235/callback' },
      'invalid_grant',
      'code_redirect_mismatch',
    ],
    [
      'another resource',
      { resource: 'https://other.example.com/mcp' },
      'invalid_target',
      'resource_mismatch',
    ],
    ['a client secret', { client_secret: 'x' }, 'invalid_client', 'invalid_request'],
    [
      'another grant type',
      { grant_type: 'password' },
      'unsupported_grant_type',
      'unsupported_grant_type',
    ],
  ])(
    'refuses %s, and the code is gone even for the right request after',
    async (_, overrides, error, reason) => {
      // Prepare
      const { f, redeem } = await issued();

      // Act
      const wrong = await redeem(overrides);
      const upstreamCalls = f.calls.length;
      const right = await redeem();

      // Assess: whatever refused it, the presentation took the code
      expect(JSON.parse(wrong.response.body).error).toBe(error);
      expect(wrong.audit.reason).toBe(reason);
      expect(upstreamCalls).toBe(0);
      expect(right.response.status).toBe(400);
      expect(right.audit.reason).toBe('invalid_code');
    },
  );

  it('takes every code a refused request presents (a repeated code parameter)', async () => {
    // Prepare
    const { f, code, redeem } = await issued();

    // Act
    const repeated = await f.proxy.handle(
      request('POST', '/token', {
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: `grant_type=authorization_code&code=${code}&code=${code}x`,
      }),
    );
    const right = await redeem();

    // Assess
    expect(repeated.audit.reason).toBe('duplicate_parameter');
    expect(right.audit.reason).toBe('invalid_code');
  });

  it('refuses a code after its 60 seconds', async () => {
    // Prepare
    const { f, redeem } = await issued();
    f.advance(CODE_SECONDS * 1000 + 1000);

    // Act
    const outcome = await redeem();

    // Assess
    expect(outcome.audit.reason).toBe('invalid_code');
  });

  it('stores the code under its digest, sealed: the store holds neither code nor upstream code', async () => {
    // Prepare
    const f = proxyFixture();
    const { location } = await flow(f).code();
    const code = location.searchParams.get('code') ?? '';

    // Act
    const stored = await f.codes.take(codeKey(code));

    // Assess
    expect(codeKey(code)).toMatch(/^code#[0-9a-f]{64}$/);
    expect(stored).toBeDefined();
    expect(stored).not.toContain('upstream-code');
    expect(await f.codes.take(code)).toBeUndefined();
  });

  it('answers an upstream refusal with invalid_grant and an upstream outage with 502', async () => {
    // Prepare
    const { f, redeem } = await issued();
    f.upstreamAnswers(() => Response.json({ error: 'invalid_grant' }, { status: 400 }));
    const second = await issued();
    second.f.upstreamAnswers(() => new Response('down', { status: 503 }));

    // Act
    const refused = await redeem();
    const down = await second.redeem();

    // Assess
    expect(refused.response.status).toBe(400);
    expect(refused.audit).toMatchObject({ outcome: 'refused', reason: 'upstream_error' });
    expect(down.response.status).toBe(502);
    expect(down.audit).toMatchObject({ outcome: 'error', reason: 'upstream_unavailable' });
  });

  it('refuses a client secret: public clients only', async () => {
    // Act
    const { redeem } = await issued();
    const outcome = await redeem({ client_secret: 'x' });

    // Assess
    expect(outcome.response.status).toBe(401);
  });

  it('refuses an unknown grant type', async () => {
    // Act
    const outcome = await flow(proxyFixture()).token({ grant_type: 'password', client_id: PRE_ID });

    // Assess
    expect(JSON.parse(outcome.response.body).error).toBe('unsupported_grant_type');
  });
});

describe('refresh tokens: bound to their client, rotated, ended on reuse (OAuth 2.1 section 4.3.1)', () => {
  const EVIL_CIMD = 'https://evil.example/client.json';

  /** A person signed in through the whole flow as `client`; its token answer and refresh. */
  async function signedIn(
    f: ProxyFixture = proxyFixture(),
    client: { id: string; redirect: string } = { id: PRE_ID, redirect: LOOPBACK },
  ) {
    const steps = flow(f);
    const { location } = await steps.code(
      authorizeParams({ client_id: client.id, redirect_uri: client.redirect }),
    );
    const outcome = await steps.token({
      grant_type: 'authorization_code',
      code: location.searchParams.get('code') ?? '',
      client_id: client.id,
      redirect_uri: client.redirect,
      code_verifier: VERIFIER,
    });
    const body = JSON.parse(outcome.response.body) as { refresh_token: string };
    const refresh = (token: string, clientId = client.id) =>
      steps.token({ grant_type: 'refresh_token', refresh_token: token, client_id: clientId });
    const refreshCalls = () =>
      f.calls.filter((call) => call.form.get('grant_type') === 'refresh_token');
    return { f, outcome, token: body.refresh_token, refresh, refreshCalls };
  }

  const tokenOf = (outcome: ProxyOutcome) =>
    (JSON.parse(outcome.response.body) as { refresh_token?: string }).refresh_token ?? '';

  /** An upstream access token that names a person and a sign-in time, as Cognito's do. */
  const accessTokenFor = (sub: string, authTime: number) =>
    [
      Buffer.from('{"alg":"RS256"}').toString('base64url'),
      Buffer.from(JSON.stringify({ sub, auth_time: authTime })).toString('base64url'),
      'signature',
    ].join('.');

  it('hands the client a refresh token of its own, never the upstream’s', async () => {
    // Act
    const { outcome, token } = await signedIn();

    // Assess
    expect(token).toMatch(/^[\w-]{43}$/);
    expect(outcome.response.body).not.toContain('upstream-refresh');
    expect(outcome.audit.familyDigest).toMatch(/^[0-9a-f]{16}$/);
  });

  it('refreshes upstream with the upstream’s token and rotates the client’s', async () => {
    // Prepare
    const { f, outcome, token, refresh, refreshCalls } = await signedIn();

    // Act
    const refreshed = await refresh(token);

    // Assess
    expect(refreshed.response.status).toBe(200);
    const body = JSON.parse(refreshed.response.body);
    expect(body).toMatchObject({
      access_token: 'access-2',
      token_type: 'Bearer',
      scope: 'mcp/tools',
    });
    expect(body).not.toHaveProperty('id_token');
    expect(body.refresh_token).toMatch(/^[\w-]{43}$/);
    expect(body.refresh_token).not.toBe(token);
    expect(Object.fromEntries(refreshCalls()[0]?.form ?? [])).toEqual({
      grant_type: 'refresh_token',
      client_id: 'upstream-client',
      refresh_token: 'upstream-refresh',
    });
    expect(refreshed.audit).toMatchObject({
      step: 'refresh',
      outcome: 'ok',
      clientKind: 'preregistered',
      familyDigest: outcome.audit.familyDigest,
    });
    expect(f.calls).toHaveLength(2);
  });

  it('refuses a token once it was rotated, and ends its family: the newest token stops too', async () => {
    // Prepare
    const { token, refresh, refreshCalls } = await signedIn();
    const next = tokenOf(await refresh(token));

    // Act
    const reused = await refresh(token);
    const newest = await refresh(next);

    // Assess
    expect(reused.response.status).toBe(400);
    expect(JSON.parse(reused.response.body).error).toBe('invalid_grant');
    expect(reused.audit).toMatchObject({
      outcome: 'refused',
      reason: 'refresh_token_reused',
      familyEnded: true,
    });
    expect(newest.response.status).toBe(400);
    expect(newest.audit.reason).toBe('refresh_family_ended');
    expect(refreshCalls()).toHaveLength(1);
  });

  it('lets exactly one of two concurrent refreshes with the same token through', async () => {
    // Prepare
    const { token, refresh } = await signedIn();

    // Act
    const both = await Promise.all([refresh(token), refresh(token)]);

    // Assess: the loser presented a token no longer current: reuse, the family ends
    expect(both.map((o) => o.response.status).sort()).toEqual([200, 400]);
    const loser = both.find((o) => o.response.status === 400);
    expect(loser?.audit).toMatchObject({ reason: 'refresh_token_reused', familyEnded: true });
  });

  it.each([
    ['the pre-registered client’s, presented by a CIMD client', PRE_ID, CIMD_ID],
    ['the pre-registered client’s, under a CIMD URL never fetched', PRE_ID, EVIL_CIMD],
    ['a CIMD client’s, presented by the pre-registered client', CIMD_ID, PRE_ID],
  ])('refuses %s, ends the family and never calls the upstream', async (_, owner, presenter) => {
    // Prepare
    const client =
      owner === CIMD_ID
        ? { id: CIMD_ID, redirect: CIMD_REDIRECT }
        : { id: PRE_ID, redirect: LOOPBACK };
    const { token, refresh, refreshCalls } = await signedIn(proxyFixture(), client);

    // Act
    const stolen = await refresh(token, presenter);
    const owners = await refresh(token, owner);

    // Assess
    expect(stolen.response.status).toBe(400);
    expect(JSON.parse(stolen.response.body).error).toBe('invalid_grant');
    expect(stolen.audit).toMatchObject({
      reason: 'refresh_client_mismatch',
      familyEnded: true,
    });
    expect(owners.audit.reason).toBe('refresh_family_ended');
    expect(refreshCalls()).toHaveLength(0);
  });

  it('binds a DCR client’s token to its own registration, not another one’s', async () => {
    // Prepare
    const f = proxyFixture();
    const register = (issuedAt: number) =>
      mintDcrClientId(f.sealer, {
        redirectUris: ['http://127.0.0.1/cb'],
        scope: 'mcp/tools',
        grantTypes: ['authorization_code', 'refresh_token'],
        issuedAt,
      });
    const mine = await register(1);
    const other = await register(2);
    const { token, refresh } = await signedIn(f, {
      id: mine,
      redirect: 'http://127.0.0.1:5000/cb',
    });

    // Act
    const asOther = await refresh(token, other);

    // Assess
    expect(asOther.audit).toMatchObject({ clientKind: 'dcr', reason: 'refresh_client_mismatch' });
  });

  it('keeps the upstream’s own rotated refresh token: each refresh sends the newest', async () => {
    // Prepare: an upstream that rotates its refresh tokens (Cognito's rotation is on)
    const f = proxyFixture();
    f.upstreamAnswers(() =>
      Response.json({
        access_token: `access-${f.calls.length}`,
        refresh_token: `upstream-refresh-${f.calls.length}`,
        expires_in: 3600,
        token_type: 'Bearer',
      }),
    );
    const { token, refresh, refreshCalls } = await signedIn(f);

    // Act
    const second = tokenOf(await refresh(token));
    await refresh(second);

    // Assess
    expect(refreshCalls().map((call) => call.form.get('refresh_token'))).toEqual([
      'upstream-refresh-1',
      'upstream-refresh-2',
    ]);
  });

  it('ends the family when the upstream refuses the session (signed out there, disabled, expired)', async () => {
    // Prepare
    const { f, token, refresh, refreshCalls } = await signedIn();
    f.upstreamAnswers(() => Response.json({ error: 'invalid_grant' }, { status: 400 }));

    // Act
    const refused = await refresh(token);
    f.upstreamAnswers(() => Response.json({ access_token: 'late', token_type: 'Bearer' }));
    const after = await refresh(token);

    // Assess
    expect(refused.response.status).toBe(400);
    expect(refused.audit).toMatchObject({ reason: 'upstream_error', familyEnded: true });
    expect(after.audit.reason).toBe('refresh_family_ended');
    expect(refreshCalls()).toHaveLength(1);
  });

  it('leaves the family as it was when the upstream does not answer: the same token works after', async () => {
    // Prepare
    const { f, token, refresh } = await signedIn();
    f.upstreamAnswers(() => new Response('down', { status: 503 }));

    // Act
    const down = await refresh(token);
    f.upstreamAnswers(() => Response.json({ access_token: 'back', token_type: 'Bearer' }));
    const retried = await refresh(token);

    // Assess
    expect(down.response.status).toBe(502);
    expect(down.audit).toMatchObject({ outcome: 'error', reason: 'upstream_unavailable' });
    expect(down.audit.familyEnded).toBeUndefined();
    expect(retried.response.status).toBe(200);
  });

  describe('and the not-before list (users sign-out, disable)', () => {
    const SIGNED_IN = Math.floor(Date.UTC(2026, 11, 1, 12) / 1000);

    /** A fixture whose upstream names alice, and a list holding `entry` for her. */
    function withList(entry: () => RevocationEntry | undefined) {
      const asked: [string, IssuedTimes][] = [];
      const f = proxyFixture(
        {},
        {
          sessions: {
            isRevoked: async (principal, times) => {
              asked.push([principal, times]);
              const current = entry();
              return principal === 'user#alice-sub' && current !== undefined
                ? refusedBy(current, times)
                : false;
            },
          },
        },
      );
      f.upstreamAnswers(() =>
        Response.json({
          access_token: accessTokenFor('alice-sub', SIGNED_IN),
          refresh_token: 'upstream-refresh',
          token_type: 'Bearer',
        }),
      );
      return { f, asked };
    }

    it('ends the family of a person signed out since the sign-in, without asking the upstream', async () => {
      // Prepare
      let entry: RevocationEntry | undefined;
      const { f, asked } = withList(() => entry);
      const { token, refresh, refreshCalls } = await signedIn(f);
      const next = tokenOf(await refresh(token));
      entry = { notBefore: SIGNED_IN + 60, sessionNotBefore: SIGNED_IN + 60, expiresAt: 2e9 };

      // Act
      const after = await refresh(next);

      // Assess
      expect(asked[0]).toEqual(['user#alice-sub', { issuedAt: Infinity, authTime: SIGNED_IN }]);
      expect(after.response.status).toBe(400);
      expect(after.audit).toMatchObject({ reason: 'session_ended', familyEnded: true });
      expect(refreshCalls()).toHaveLength(1);
    });

    it('keeps the family through a group change: the refreshed token carries the new groups', async () => {
      // Prepare
      const { f } = withList(() => ({ notBefore: SIGNED_IN + 60, expiresAt: 2e9 }));
      const { token, refresh } = await signedIn(f);

      // Act
      const refreshed = await refresh(token);

      // Assess
      expect(refreshed.response.status).toBe(200);
    });

    it('fails closed when the list cannot be read: a server error, the family kept', async () => {
      // Prepare
      let down = true;
      const f = proxyFixture(
        {},
        {
          sessions: {
            isRevoked: async () => {
              if (down) throw new Error('list unavailable');
              return false;
            },
          },
        },
      );
      f.upstreamAnswers(() =>
        Response.json({
          access_token: accessTokenFor('alice-sub', SIGNED_IN),
          token_type: 'Bearer',
          refresh_token: 'u',
        }),
      );
      const { token, refresh, refreshCalls } = await signedIn(f);

      // Act
      const failed = await refresh(token);
      down = false;
      const retried = await refresh(token);

      // Assess
      expect(failed.response.status).toBe(500);
      expect(failed.audit).toMatchObject({ outcome: 'error', reason: 'internal_error' });
      expect(retried.response.status).toBe(200);
      expect(refreshCalls()).toHaveLength(1);
    });

    it('ends a family whose person it cannot name (no sub upstream): fail closed', async () => {
      // Prepare
      const f = proxyFixture({}, { sessions: { isRevoked: async () => false } });
      const { token, refresh } = await signedIn(f);

      // Act
      const refreshed = await refresh(token);

      // Assess
      expect(refreshed.audit).toMatchObject({ reason: 'session_ended', familyEnded: true });
    });
  });

  it('stores neither token: digests and the sealed upstream token only', async () => {
    // Prepare
    const { f, token } = await signedIn();
    const parts = parseRefreshToken(token);

    // Act
    const family = await f.families.get(parts?.familyKey ?? '');

    // Assess
    expect(family).toMatchObject({ generation: 0, secretHash: parts?.secretHash });
    expect(JSON.stringify(family)).not.toContain(token);
    expect(JSON.stringify(family)).not.toContain('upstream-refresh');
  });

  it('refuses a family after its lifetime, from the sign-in', async () => {
    // Prepare
    const { f, token, refresh, refreshCalls } = await signedIn();
    f.advance((f.config.refreshTokenSeconds + 1) * 1000);

    // Act
    const late = await refresh(token);

    // Assess
    expect(late.audit.reason).toBe('invalid_refresh_token');
    expect(refreshCalls()).toHaveLength(0);
  });

  it.each([
    ['the upstream’s own refresh token', 'upstream-refresh'],
    ['a made-up token', 'A'.repeat(43)],
    ['no token', ''],
  ])('refuses %s without calling the upstream', async (_, token) => {
    // Prepare
    const { refresh, refreshCalls } = await signedIn();

    // Act
    const outcome = await refresh(token);

    // Assess
    expect(outcome.response.status).toBe(400);
    expect(JSON.parse(outcome.response.body).error).toBe('invalid_grant');
    expect(outcome.audit.reason).toBe('invalid_refresh_token');
    expect(refreshCalls()).toHaveLength(0);
  });

  it('refuses an unknown client id with invalid_client, without calling the upstream', async () => {
    // Prepare
    const { token, refresh, refreshCalls } = await signedIn();

    // Act
    const unknown = await refresh(token, 'nobody');

    // Assess
    expect(unknown.response.status).toBe(401);
    expect(refreshCalls()).toHaveLength(0);
  });
});

describe('what the audit log may say', () => {
  it('holds no code, state, verifier, ticket, cookie or token from a whole flow', async () => {
    // Prepare
    const f = proxyFixture();
    const steps = flow(f);
    const audits: unknown[] = [];
    const page = await steps.authorize();
    audits.push(page.audit);
    const approved = await steps.consent(ticketOf(page.response));
    audits.push(approved.audit);
    const upstream = locationOf(approved);
    const back = await steps.callback({
      code: 'upstream-code',
      state: upstream.searchParams.get('state') ?? '',
    });
    audits.push(back.audit);
    const code = locationOf(back).searchParams.get('code') ?? '';
    const redeemed = await steps.token({
      grant_type: 'authorization_code',
      code,
      client_id: PRE_ID,
      redirect_uri: LOOPBACK,
      code_verifier: VERIFIER,
    });
    audits.push(redeemed.audit);
    const first = JSON.parse(redeemed.response.body).refresh_token as string;
    const refresh = (token: string) =>
      steps.token({ grant_type: 'refresh_token', refresh_token: token, client_id: PRE_ID });
    const refreshed = await refresh(first);
    audits.push(refreshed.audit);
    const second = JSON.parse(refreshed.response.body).refresh_token as string;
    audits.push((await refresh(first)).audit);

    // Act
    const text = JSON.stringify(audits);

    // Assess
    for (const secret of [
      code,
      'upstream-code',
      'client-state',
      VERIFIER,
      CHALLENGE,
      ticketOf(page.response),
      upstream.searchParams.get('state') ?? '',
      steps.browser.cookies.get('__Host-mcp-browser') ?? '',
      'access-1',
      'access-2',
      'upstream-refresh',
      first,
      second,
      first.slice(0, 22),
    ]) {
      expect(text).not.toContain(secret);
    }
    expect(audits.map((a) => (a as { step: string }).step)).toEqual([
      'authorize',
      'consent',
      'callback',
      'token',
      'refresh',
      'refresh',
    ]);
  });
});
