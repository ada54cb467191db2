/**
 * Security review of the approval page (issue 19), attacker's view. Tests marked FINDING fail on
 * the merged code; the others are regression tests of attacks that held. The fixture is the one
 * of approval-page.test.ts (`approval-page-fixture.ts`).
 *
 * Original note: the approval page (lambda/oauth-proxy/approval-page.ts) on plain data: the local sealer and
 * code store, the approvals table on the real DynamoDB protocol (dynalite), a scripted upstream
 * sign-in, a clock the test moves, and a browser played by a cookie jar. What a browser itself
 * enforces (CSP, frames, Origin) is tested in Chromium: test/integration/browser/approval.test.ts.
 */
import { createHash } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { SEAL_PURPOSES } from '../../../lambda/oauth-proxy/ports';
import { sealJson } from '../../../lambda/oauth-proxy/sealed-json';
import { APPROVAL_TABLE_ATTRIBUTES } from '../../../lambda/shared/approvals';
import { APPROVAL_PATHS } from '../../../lambda/shared/routes';
import { useDynaliteTables } from '../../support/dynalite-tables';
import { APPROVALS_TABLE, approvalPageFixture, Jar, ORIGIN } from './approval-page-fixture';

const tables = useDynaliteTables({ [APPROVALS_TABLE]: APPROVAL_TABLE_ATTRIBUTES.partitionKey });

let f: ReturnType<typeof approvalPageFixture>;
beforeEach(() => {
  f = approvalPageFixture(tables.db);
});

/** Bidi controls and invisible format characters (Trojan Source, CVE-2021-42574). */
const SPOOFING = /[\u061C\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]/u;

describe('FINDING: what the page shows can be made to read as something else', () => {
  it('does not render bidi controls or invisible characters of the arguments as they are', async () => {
    // Prepare: the agent's call, whose value reads "report.pdf" once the browser reorders it
    const { sealed } = await f.pending({
      path: '/srv/\u202Efdp.tropeR\u2066\u2069',
      id: 'a\u200Bb',
    });

    // Act
    const { shown } = await f.signInAndOpen(sealed);

    // Assess: shown, but escaped (e.g. \u202e) or marked, never acted on by the browser
    expect(shown.response.status).toBe(200);
    expect(shown.response.body).not.toMatch(SPOOFING);
  });

  it('does not render bidi controls in the client name it shows', async () => {
    // Prepare: clientText (lambda/shared/approvals.ts) strips \p{Cc} only, so this reaches a ticket
    const { clientText } = await import('../../../lambda/shared/approvals');
    const name = clientText('Trusted Desktop \u202Etnega-live\u202C');

    // Assess
    expect(name).not.toMatch(SPOOFING);
  });
});

describe('FINDING: a sign-in that arrived in the wrong browser stays redeemable by the one that started it', () => {
  it('burns the sign-in when another browser brings it back, so the starter cannot complete it later', async () => {
    // Prepare: the agent (no browser, its own cookie jar) opens its approval URL and gets the
    // upstream sign-in URL; it hands that URL to the person instead of the approval URL
    const { sealed, ticket } = await f.pending({ id: 'cust-0099' });
    const agent = new Jar();
    const started = await f.get(APPROVAL_PATHS.page, { ticket: sealed }, agent);
    agent.take(started.response);
    const state = new URL(started.response.headers.Location ?? '').searchParams.get('state') ?? '';

    // The person signs in at the real upstream; their browser lands on the callback: refused
    const person = new Jar();
    person.take((await f.get(APPROVAL_PATHS.page, { ticket: sealed }, person)).response);
    const atPerson = await f.get(APPROVAL_PATHS.callback, { code: 'alice-code', state }, person);
    expect(atPerson.response.status).toBe(403);

    // Act: the callback URL (code and state) reaches the agent (pasted back, a log, history)
    const atAgent = await f.get(APPROVAL_PATHS.callback, { code: 'alice-code', state }, agent);
    agent.take(atAgent.response);

    // The agent goes on: its jar now holds an approver cookie for Alice, so the page shows
    const page = await f.get(APPROVAL_PATHS.page, { ticket: sealed }, agent);
    if (page.response.status === 200) {
      // The agent is no browser: it sets any Origin it likes
      await f.post(page.response, agent, 'approve', { origin: ORIGIN });
    }

    // Assess: refused (sign_in_replayed), and the call still pending (on the merged code the
    // agent's own POST approves it: status 'approved')
    expect(await f.store.get(ticket.key)).toMatchObject({ status: 'pending' });
    expect(atAgent.response.status).not.toBe(303);
  });
});

describe('purpose confusion between sealed values (held)', () => {
  const proxyPurposes = Object.values(SEAL_PURPOSES).filter((p) => p !== SEAL_PURPOSES.approver);

  it('does not take another purpose’s sealed value as the approver cookie', async () => {
    // Prepare: a fresh browser id and an approver-shaped value sealed for every other purpose
    const { sealed } = await f.pending();
    const jar = new Jar();
    jar.take((await f.get(APPROVAL_PATHS.page, { ticket: sealed }, jar)).response);
    const browserCookie =
      [...jar.cookies].find(([name]) => name.endsWith('mcp-browser'))?.[1] ?? '';
    const b = createHash('sha256').update(browserCookie, 'utf8').digest('base64url');
    const at = Math.floor(Date.UTC(2026, 11, 1, 12) / 1000);

    for (const purpose of proxyPurposes) {
      const forged = await sealJson(
        f.sealer,
        purpose,
        { b, sub: 'alice-sub', groups: ['admin'], at },
        at + 300,
      );
      jar.cookies.set('__Host-mcp-approver', forged);

      // Act
      const { response } = await f.get(APPROVAL_PATHS.page, { ticket: sealed }, jar);

      // Assess: sent to sign in, never shown
      expect(response.status, purpose).toBe(302);
    }
  });

  it('does not take another purpose’s sealed value as a ticket', async () => {
    const { ticket } = await f.pending();
    for (const purpose of Object.values(SEAL_PURPOSES).filter(
      (p) => p !== SEAL_PURPOSES.approvalTicket,
    )) {
      const forged = await sealJson(f.sealer, purpose, ticket, 9_999_999_999);
      const { audit } = await f.get(APPROVAL_PATHS.page, { ticket: forged }, new Jar());
      expect(audit, purpose).toMatchObject({ reason: 'invalid_ticket' });
    }
  });
});

describe('cross-site and fixation (held)', () => {
  it('refuses a POST without an Origin header, even with every cookie and field right', async () => {
    const { sealed, ticket } = await f.pending();
    const { jar, shown } = await f.signInAndOpen(sealed);
    const { response, audit } = await f.post(shown.response, jar, 'approve', {});
    expect(response.status).toBe(403);
    expect(audit).toMatchObject({ reason: 'foreign_origin' });
    expect(await f.store.get(ticket.key)).toMatchObject({ status: 'pending' });
  });

  it('refuses a POST whose Origin is the page origin spelled otherwise (trailing slash, case)', async () => {
    const { sealed, ticket } = await f.pending();
    const { jar, shown } = await f.signInAndOpen(sealed);
    for (const origin of [`${ORIGIN}/`, ORIGIN.toUpperCase(), 'null', `${ORIGIN}.evil.example`]) {
      const { response } = await f.post(shown.response, jar, 'approve', { origin });
      expect(response.status, origin).toBe(403);
    }
    expect(await f.store.get(ticket.key)).toMatchObject({ status: 'pending' });
  });

  it('does not sign anyone in with an approver cookie copied into another browser', async () => {
    // An approver cookie made in one browser, copied into another (with its own browser id):
    // bound to the first browser, it signs nobody in
    const { sealed } = await f.pending();
    f.signInAs('alice-sub');
    const mallory = await f.signInAndOpen(sealed);
    const alice = new Jar();
    alice.take((await f.get(APPROVAL_PATHS.page, { ticket: sealed }, alice)).response);
    const approver = [...mallory.jar.cookies].find(([n]) => n.endsWith('mcp-approver'));
    alice.cookies.set(approver?.[0] ?? '', approver?.[1] ?? '');
    const { response } = await f.get(APPROVAL_PATHS.page, { ticket: sealed }, alice);
    expect(response.status).toBe(302);
  });

  it('sends the callback back only to this server’s own page (no open redirect)', async () => {
    const { sealed } = await f.pending();
    const { back } = await f.signInAndOpen(sealed);
    expect(new URL(back?.response.headers.Location ?? '').origin).toBe(ORIGIN);
  });
});
