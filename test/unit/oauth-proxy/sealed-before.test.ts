/**
 * Values sealed before the proxy's records got readable names (`sealed-before-fixture.ts`)
 * still work at every endpoint that takes them: deployed stacks hold such values (DCR client
 * ids for as long as their clients live), and a change of the names the code reads must not
 * change what it opens or what it seals.
 */
import { describe, expect, it } from 'vitest';
import { AesSealer } from '../../../lambda/oauth-proxy/aes-sealer';
import { codeKey } from '../../../lambda/oauth-proxy/callback';
import type { SessionCheck } from '../../../lambda/oauth-proxy/proxy';
import { parseRefreshToken } from '../../../lambda/oauth-proxy/refresh-families';
import { APPROVAL_TABLE_ATTRIBUTES } from '../../../lambda/shared/approvals';
import type { IssuedTimes } from '../../../lambda/shared/revocations';
import { APPROVAL_PATHS } from '../../../lambda/shared/routes';
import { useDynaliteTables } from '../../support/dynalite-tables';
import { APPROVALS_TABLE, approvalPageFixture, Jar, ORIGIN } from './approval-page-fixture';
import {
  authorizeParams,
  CIMD_ID,
  CIMD_REDIRECT,
  FIXTURE_START_MS,
  flow,
  ISSUER,
  locationOf,
  PRE_ID,
  proxyFixture,
  VERIFIER,
} from './proxy-fixture';
import { SEALED_AT_MS, SEALED_BEFORE, SEALED_BEFORE_KEY } from './sealed-before-fixture';

const LOOPBACK = 'http://localhost:51234/callback';
const BROWSER = '__Host-mcp-browser';

/** A proxy under the key the values were sealed with, its clock when they were sealed. */
function oldKeyProxy(sessions?: SessionCheck) {
  const f = proxyFixture(
    {},
    { sealer: new AesSealer(SEALED_BEFORE_KEY), ...(sessions === undefined ? {} : { sessions }) },
  );
  f.advance(SEALED_AT_MS - FIXTURE_START_MS);
  return f;
}

describe('a DCR client id registered before', () => {
  it.each([
    ['named', SEALED_BEFORE.registration, 'https://app.example.net/cb', 'Registered &#60;App&#62;'],
    ['unnamed', SEALED_BEFORE.registrationUnnamed, 'http://127.0.0.1:8123/cb', 'Unnamed client'],
  ])(
    'is still a known client (%s): its consent page shows its name',
    async (_, registered, redirectUri, name) => {
      // Prepare
      const steps = flow(oldKeyProxy());

      // Act
      const outcome = await steps.authorize(
        authorizeParams({ client_id: registered.clientId, redirect_uri: redirectUri }),
      );

      // Assess
      expect(outcome.response.status).toBe(200);
      expect(outcome.audit).toMatchObject({ clientKind: 'dcr', reason: 'consent_shown' });
      expect(outcome.response.body).toContain(name);
    },
  );
});

describe('a consent ticket issued before', () => {
  it('is answered: the approval goes on to the upstream sign-in with the scopes it held', async () => {
    // Prepare
    const steps = flow(oldKeyProxy());
    steps.browser.cookies.set(BROWSER, SEALED_BEFORE.consentTicket.browserId);

    // Act
    const outcome = await steps.consent(SEALED_BEFORE.consentTicket.sealed);

    // Assess
    expect(outcome.response.status).toBe(303);
    expect(outcome.audit).toMatchObject({
      reason: 'approved',
      clientKind: 'preregistered',
      redirectHost: 'localhost:51234',
      scopes: ['mcp/tools', 'mcp/read_data'],
    });
    expect(locationOf(outcome).searchParams.get('scope')).toBe('mcp/tools mcp/read_data');
  });

  it('of a CIMD client still names its host in the audit record', async () => {
    // Prepare
    const steps = flow(oldKeyProxy());
    steps.browser.cookies.set(BROWSER, SEALED_BEFORE.consentTicketCimd.browserId);

    // Act
    const outcome = await steps.consent(SEALED_BEFORE.consentTicketCimd.sealed, {
      decision: 'deny',
    });

    // Assess
    expect(outcome.audit).toMatchObject({
      reason: 'denied_by_user',
      clientHost: 'app.example.org',
    });
    expect(locationOf(outcome).searchParams.get('state')).toBeNull();
    expect(locationOf(outcome).origin).toBe(new URL(CIMD_REDIRECT).origin);
  });
});

describe('an approval remembered before', () => {
  it('still skips the consent page for the client, redirect URI and scopes it names', async () => {
    // Prepare
    const steps = flow(oldKeyProxy());
    steps.browser.cookies.set(BROWSER, SEALED_BEFORE.rememberedApprovals.browserId);
    steps.browser.cookies.set('__Host-mcp-consent', SEALED_BEFORE.rememberedApprovals.sealed);

    // Act
    const outcome = await steps.authorize(authorizeParams({ scope: 'mcp/read_data mcp/tools' }));

    // Assess
    expect(outcome.response.status).toBe(302);
    expect(outcome.audit.reason).toBe('consent_remembered');
  });
});

describe('a sign-in (transaction) started before', () => {
  it("completes: the callback sends the client's code, state and issuer back", async () => {
    // Prepare
    const steps = flow(oldKeyProxy());
    steps.browser.cookies.set(BROWSER, SEALED_BEFORE.transaction.browserId);

    // Act
    const outcome = await steps.callback({
      code: 'upstream-code',
      state: SEALED_BEFORE.transaction.sealed,
    });

    // Assess
    const location = locationOf(outcome);
    expect(`${location.origin}${location.pathname}`).toBe(LOOPBACK);
    expect(location.searchParams.get('code')).toMatch(/^[\w-]{43}$/);
    expect(location.searchParams.get('state')).toBe('client-state');
    expect(location.searchParams.get('iss')).toBe(ISSUER);
    expect(outcome.audit).toMatchObject({ reason: 'ok', scopes: ['mcp/tools', 'mcp/read_data'] });
  });

  it('of a CIMD client completes without a state, its host in the audit record', async () => {
    // Prepare
    const steps = flow(oldKeyProxy());
    steps.browser.cookies.set(BROWSER, SEALED_BEFORE.transactionCimd.browserId);

    // Act
    const outcome = await steps.callback({
      code: 'upstream-code',
      state: SEALED_BEFORE.transactionCimd.sealed,
    });

    // Assess
    const location = locationOf(outcome);
    expect(`${location.origin}${location.pathname}`).toBe(CIMD_REDIRECT);
    expect(location.searchParams.has('state')).toBe(false);
    expect(outcome.audit).toMatchObject({ reason: 'ok', clientHost: 'app.example.org' });
  });

  it('is still refused in another browser', async () => {
    // Prepare
    const steps = flow(oldKeyProxy());

    // Act
    const outcome = await steps.callback({
      code: 'upstream-code',
      state: SEALED_BEFORE.transaction.sealed,
    });

    // Assess
    expect(outcome.audit.reason).toBe('transaction_browser_mismatch');
  });
});

describe('a code minted before', () => {
  it("is redeemed with the client's verifier: the upstream gets its code and the proxy's verifier", async () => {
    // Prepare
    const f = oldKeyProxy();
    const { code, sealed } = SEALED_BEFORE.codeRecord;
    await f.codes.put(codeKey(code), sealed, Math.floor(SEALED_AT_MS / 1000) + 60);

    // Act
    const outcome = await flow(f).token({
      grant_type: 'authorization_code',
      client_id: PRE_ID,
      code,
      redirect_uri: LOOPBACK,
      code_verifier: VERIFIER,
    });

    // Assess
    expect(outcome.response.status).toBe(200);
    expect(JSON.parse(outcome.response.body)).toMatchObject({ scope: 'mcp/tools mcp/read_data' });
    expect(Object.fromEntries(f.calls[0]?.form ?? [])).toMatchObject({
      grant_type: 'authorization_code',
      code: 'upstream-code',
      code_verifier: 'mzHsbXGa3ouL-RH5tJeFlqUHkra6cHM7hdWUnTbiJD4',
    });
  });

  it('is refused to another client', async () => {
    // Prepare
    const f = oldKeyProxy();
    const { code, sealed } = SEALED_BEFORE.codeRecord;
    await f.codes.put(codeKey(code), sealed, Math.floor(SEALED_AT_MS / 1000) + 60);

    // Act
    const outcome = await flow(f).token({
      grant_type: 'authorization_code',
      client_id: CIMD_ID,
      code,
      redirect_uri: LOOPBACK,
      code_verifier: VERIFIER,
    });

    // Assess
    expect(outcome.audit.reason).toBe('code_client_mismatch');
  });
});

describe('a refresh-token family begun before', () => {
  /** The family as the store held it, and its client's current refresh token. */
  async function holding(
    f: ReturnType<typeof oldKeyProxy>,
    family: typeof SEALED_BEFORE.refreshFamily | typeof SEALED_BEFORE.refreshFamilyAnonymous,
  ) {
    const parts = parseRefreshToken(family.refreshToken);
    if (parts === undefined) throw new Error('not a refresh token');
    await f.families.create(parts.familyKey, {
      secretHash: parts.secretHash,
      sealed: family.sealed,
      expiresAt: family.expiresAt,
    });
    return family.refreshToken;
  }

  it("refreshes with the upstream's refresh token it keeps, for the person it names", async () => {
    // Prepare
    const asked: [string, IssuedTimes][] = [];
    const f = oldKeyProxy({
      isRevoked: async (principal, times) => {
        asked.push([principal, times]);
        return false;
      },
    });
    const token = await holding(f, SEALED_BEFORE.refreshFamily);

    // Act
    const outcome = await flow(f).token({
      grant_type: 'refresh_token',
      client_id: PRE_ID,
      refresh_token: token,
    });

    // Assess
    expect(outcome.response.status).toBe(200);
    expect(f.calls[0]?.form.get('refresh_token')).toBe('upstream-refresh');
    expect(asked).toEqual([['user#alice-sub', { issuedAt: Infinity, authTime: 1796126400 }]]);
  });

  it('of a client it was not issued to ends', async () => {
    // Prepare
    const f = oldKeyProxy();
    const token = await holding(f, SEALED_BEFORE.refreshFamilyAnonymous);

    // Act
    const outcome = await flow(f).token({
      grant_type: 'refresh_token',
      client_id: PRE_ID,
      refresh_token: token,
    });

    // Assess
    expect(outcome.audit).toMatchObject({ reason: 'refresh_client_mismatch', familyEnded: true });
  });

  it('naming nobody still fails closed against the not-before list', async () => {
    // Prepare
    const f = oldKeyProxy({ isRevoked: async () => false });
    const token = await holding(f, SEALED_BEFORE.refreshFamilyAnonymous);

    // Act
    const outcome = await flow(f).token({
      grant_type: 'refresh_token',
      client_id: CIMD_ID,
      refresh_token: token,
    });

    // Assess
    expect(outcome.audit).toMatchObject({ reason: 'session_ended', familyEnded: true });
    expect(f.calls).toHaveLength(0);
  });
});

describe('the approval page, with values sealed before', () => {
  const tables = useDynaliteTables({ [APPROVALS_TABLE]: APPROVAL_TABLE_ATTRIBUTES.partitionKey });

  /** The page under the old key, the approval the values name pending in its table. */
  async function page() {
    const f = approvalPageFixture(tables.db, { sealer: new AesSealer(SEALED_BEFORE_KEY) });
    const seconds = Math.floor(SEALED_AT_MS / 1000);
    await f.store.request(
      { key: `approval#${'B'.repeat(43)}`, approvalId: 'A'.repeat(22), expiresAt: seconds + 300 },
      seconds,
    );
    const jar = new Jar();
    jar.cookies.set(BROWSER, SEALED_BEFORE.approvalSignIn.browserId);
    return { f, jar, ticket: SEALED_BEFORE.approvalSignIn.ticket };
  }

  it('completes a sign-in started before: the approver cookie is set and the page comes next', async () => {
    // Prepare
    const { f, jar } = await page();

    // Act
    const outcome = await f.get(
      APPROVAL_PATHS.callback,
      { code: 'upstream-code', state: SEALED_BEFORE.approvalSignIn.sealed },
      jar,
    );

    // Assess
    expect(outcome.response.status).toBe(303);
    expect(outcome.audit).toMatchObject({ step: 'sign_in', reason: 'signed_in' });
    expect(outcome.response.cookies[0]).toMatch(/^__Host-mcp-approver=/);
  });

  it('shows the call to the person an approver cookie from before names', async () => {
    // Prepare
    const { f, jar, ticket } = await page();
    jar.cookies.set('__Host-mcp-approver', SEALED_BEFORE.approver.sealed);

    // Act
    const outcome = await f.get(APPROVAL_PATHS.page, { ticket }, jar);

    // Assess
    expect(outcome.response.status).toBe(200);
    expect(outcome.audit).toMatchObject({ step: 'shown', caller: 'alice-sub' });
  });

  it('takes the answer of a form shown before', async () => {
    // Prepare
    const { f, jar, ticket } = await page();
    jar.cookies.set('__Host-mcp-approver', SEALED_BEFORE.approver.sealed);
    const shown = {
      status: 200,
      headers: {},
      cookies: [],
      body: `<input type="hidden" name="ticket" value="${ticket}"><input type="hidden" name="form" value="${SEALED_BEFORE.approvalForm.sealed}">`,
    };

    // Act
    const outcome = await f.post(shown, jar, 'approve', { origin: ORIGIN });

    // Assess
    expect(outcome.response.status).toBe(200);
    expect(outcome.audit).toMatchObject({ step: 'approved', reason: 'ok' });
  });
});
