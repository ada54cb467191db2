/**
 * The approval page (lambda/oauth-proxy/approval-page.ts) on plain data: the local sealer and
 * code store, the approvals table on the real DynamoDB protocol (dynalite), a scripted upstream
 * sign-in, a clock the test moves, and a browser played by a cookie jar. What a browser itself
 * enforces (CSP, frames, Origin) is tested in Chromium: test/integration/browser/approval.test.ts.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { APPROVAL_SIGN_IN_SECONDS } from '../../../lambda/oauth-proxy/approval-page';
import { SEAL_PURPOSES } from '../../../lambda/oauth-proxy/ports';
import { sealJson } from '../../../lambda/oauth-proxy/sealed-json';
import {
  APPROVAL_REQUEST_SECONDS,
  APPROVAL_STATUS,
  APPROVAL_TABLE_ATTRIBUTES,
  MAX_APPROVAL_ARGUMENTS_BYTES,
} from '../../../lambda/shared/approvals';
import { APPROVAL_PATHS } from '../../../lambda/shared/routes';
import { useDynaliteTables } from '../../support/dynalite-tables';
import {
  APPROVALS_TABLE,
  approvalPageFixture,
  ISSUER,
  Jar,
  SIGN_IN_MAX_AGE,
  UPSTREAM,
} from './approval-page-fixture';

const tables = useDynaliteTables({ [APPROVALS_TABLE]: APPROVAL_TABLE_ATTRIBUTES.partitionKey });

let f: ReturnType<typeof approvalPageFixture>;
beforeEach(() => {
  f = approvalPageFixture(tables.db);
});

describe('GET /approve', () => {
  it('sends a browser not signed in here to a fresh upstream sign-in, the ticket sealed in state', async () => {
    // Prepare
    const { sealed } = await f.pending();

    // Act
    const { response, audit } = await f.get(APPROVAL_PATHS.page, { ticket: sealed }, new Jar());

    // Assess
    expect(response.status).toBe(302);
    const location = new URL(response.headers.Location ?? '');
    expect(`${location.origin}${location.pathname}`).toBe(`${UPSTREAM}/oauth2/authorize`);
    expect(Object.fromEntries(location.searchParams)).toMatchObject({
      response_type: 'code',
      client_id: 'upstream-client',
      redirect_uri: `${ISSUER}${APPROVAL_PATHS.callback}`,
      code_challenge_method: 'S256',
      prompt: 'login',
      scope: 'mcp/tools',
    });
    expect(location.searchParams.get('state')).not.toContain(sealed);
    expect(response.cookies[0]).toMatch(
      /^__Host-mcp-browser=[\w-]{43}; Path=\/; .*HttpOnly; SameSite=Lax; Secure$/,
    );
    expect(audit).toMatchObject({
      step: 'sign_in',
      reason: 'sign_in_required',
      tool: 'delete_record',
    });
  });

  it('keeps the sign-in redirect well under what a URL may carry, at the largest arguments', async () => {
    // Prepare: arguments of the largest size, of characters JSON cannot shorten
    const { sealed } = await f.pending({ id: 'x'.repeat(MAX_APPROVAL_ARGUMENTS_BYTES - 10) });

    // Act
    const { response } = await f.get(APPROVAL_PATHS.page, { ticket: sealed }, new Jar());

    // Assess: the approval URL under 3 KB; the upstream redirect under 8 KB (CloudFront's URL
    // limit in front of Cognito's hosted login is 8,192 bytes)
    expect(`${ISSUER}/approve?ticket=${sealed}`.length).toBeLessThan(3072);
    expect((response.headers.Location ?? '').length).toBeLessThan(6144);
  });

  it('shows the call after the sign-in: the tool, the arguments, the client, Approve and Deny', async () => {
    // Prepare
    const { sealed } = await f.pending({ id: 'cust-0040' });

    // Act
    const { back, shown } = await f.signInAndOpen(sealed);

    // Assess
    expect(back?.response.status).toBe(303);
    expect(back?.response.cookies[0]).toMatch(/^__Host-mcp-approver=/);
    expect(back?.audit).toMatchObject({
      step: 'sign_in',
      reason: 'signed_in',
      caller: 'alice-sub',
    });
    expect(shown.response.status).toBe(200);
    expect(shown.response.body).toContain('<code>delete_record</code>');
    expect(shown.response.body).toContain('&#34;id&#34;: &#34;cust-0040&#34;');
    expect(shown.response.body).toContain('test-client');
    expect(shown.response.body).toContain('value="approve"');
    expect(shown.response.body).toContain('value="deny"');
    expect(shown.response.headers['Content-Security-Policy']).toMatch(/form-action 'self'/);
    expect(shown.response.headers['Content-Security-Policy']).toMatch(/frame-ancestors 'none'/);
    expect(shown.response.headers['X-Frame-Options']).toBe('DENY');
    expect(shown.audit).toMatchObject({ step: 'shown', reason: 'ok' });
    expect(f.upstreamCalls[0]?.get('redirect_uri')).toBe(`${ISSUER}${APPROVAL_PATHS.callback}`);
  });

  it('renders the arguments escaped: markup in them is text', async () => {
    // Prepare
    const { sealed } = await f.pending({ id: '<script>alert(1)</script>', note: '"><img src=x>' });

    // Act
    const { shown } = await f.signInAndOpen(sealed);

    // Assess
    expect(shown.response.body).not.toContain('<script>alert');
    expect(shown.response.body).not.toContain('<img');
    expect(shown.response.body).toContain('&#60;script&#62;alert(1)&#60;/script&#62;');
  });

  it('shows hidden characters of the arguments as escapes, and says the call held some', async () => {
    // Prepare: a path that reads "/srv/Report.pdf" once the browser applies the override
    const { sealed } = await f.pending({ id: '/srv/\u202Efdp.tropeR', note: 'a\u200Bb' });

    // Act
    const { shown } = await f.signInAndOpen(sealed);

    // Assess
    expect(shown.response.body).toContain('/srv/\\u202efdp.tropeR');
    expect(shown.response.body).toContain('a\\u200bb');
    expect(shown.response.body).toContain('This call contained hidden characters');
  });

  it('says nothing of hidden characters when the call holds none', async () => {
    const { sealed } = await f.pending({ id: 'cust-0040' });
    const { shown } = await f.signInAndOpen(sealed);
    expect(shown.response.body).not.toContain('hidden characters');
  });

  it('refuses a forged or altered ticket', async () => {
    // Prepare
    const { sealed } = await f.pending();
    const altered = `${sealed.slice(0, -4)}${sealed.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`;
    const otherPurpose = await sealJson(f.sealer, SEAL_PURPOSES.consent, {}, 9_999_999_999);

    // Act
    const answers = await Promise.all(
      ['forged', altered, otherPurpose].map((ticket) =>
        f.get(APPROVAL_PATHS.page, { ticket }, new Jar()),
      ),
    );

    // Assess
    for (const { response, audit } of answers) {
      expect(response.status).toBe(400);
      expect(audit).toMatchObject({ step: 'refused', reason: 'invalid_ticket' });
    }
  });

  it('refuses an expired ticket, as an expiry', async () => {
    // Prepare
    const { sealed } = await f.pending();
    f.advance((APPROVAL_REQUEST_SECONDS + 1) * 1000);

    // Act
    const { response, audit } = await f.get(APPROVAL_PATHS.page, { ticket: sealed }, new Jar());

    // Assess
    expect(response.status).toBe(400);
    expect(audit).toMatchObject({ step: 'expired', reason: 'ticket_expired' });
  });

  it('shows another person’s call to nobody: signed in as someone else, it is refused', async () => {
    // Prepare: Mallory, a real user with the same role, opens Alice's link
    const { sealed } = await f.pending({ id: 'cust-0041' }, { sub: 'alice-sub' });
    f.signInAs('mallory-sub');

    // Act
    const { shown } = await f.signInAndOpen(sealed);

    // Assess
    expect(shown.response.status).toBe(403);
    expect(shown.response.body).not.toContain('cust-0041');
    expect(shown.audit).toMatchObject({ step: 'refused', reason: 'wrong_person' });
  });

  it('refuses the person when their groups no longer grant the call', async () => {
    // Prepare: the call was made as admin; the person has since left the group
    const { sealed } = await f.pending({ id: 'cust-0042' });
    f.signInAs('alice-sub', ['readonly']);

    // Act
    const { shown } = await f.signInAndOpen(sealed);

    // Assess
    expect(shown.response.status).toBe(403);
    expect(shown.audit).toMatchObject({ step: 'refused', reason: 'role_not_allowed' });
  });

  it('sends the person to sign in again once their sign-in is older than allowed', async () => {
    // Prepare
    const { sealed } = await f.pending();
    const { jar } = await f.signInAndOpen(sealed);
    f.advance((SIGN_IN_MAX_AGE + 1) * 1000);

    // Act
    const { response, audit } = await f.get(APPROVAL_PATHS.page, { ticket: sealed }, jar);

    // Assess
    expect(response.status).toBe(302);
    expect(audit).toMatchObject({ step: 'sign_in', reason: 'sign_in_stale' });
  });
});

describe('GET /approval-callback', () => {
  it('refuses a sign-in an upstream session answered without asking (an old auth_time)', async () => {
    // Prepare: the upstream kept a sign-in of an hour ago
    const { sealed } = await f.pending();
    f.signInAs('alice-sub', ['admin'], () => Math.floor(Date.UTC(2026, 11, 1, 11) / 1000));

    // Act
    const { back } = await f.signInAndOpen(sealed);

    // Assess
    expect(back?.response.status).toBe(403);
    expect(back?.response.cookies).toEqual([]);
    expect(back?.audit).toMatchObject({ step: 'refused', reason: 'sign_in_stale' });
  });

  it('refuses a sign-in started in another browser (a link sent to someone else)', async () => {
    // Prepare
    const { sealed } = await f.pending();
    const started = await f.get(APPROVAL_PATHS.page, { ticket: sealed }, new Jar());
    const state = new URL(started.response.headers.Location ?? '').searchParams.get('state') ?? '';

    // Act: another browser, its own cookie, brings the same state back
    const other = new Jar();
    other.take((await f.get(APPROVAL_PATHS.page, { ticket: sealed }, other)).response);
    const { response, audit } = await f.get(APPROVAL_PATHS.callback, { code: 'c', state }, other);

    // Assess
    expect(response.status).toBe(403);
    expect(audit).toMatchObject({ reason: 'sign_in_browser_mismatch' });
    expect(response.body).toContain('Do not share this link');
  });

  it('completes a sign-in once', async () => {
    // Prepare
    const { sealed } = await f.pending();
    const jar = new Jar();
    const started = await f.get(APPROVAL_PATHS.page, { ticket: sealed }, jar);
    jar.take(started.response);
    const state = new URL(started.response.headers.Location ?? '').searchParams.get('state') ?? '';
    await f.get(APPROVAL_PATHS.callback, { code: 'c', state }, jar);

    // Act
    const { response, audit } = await f.get(APPROVAL_PATHS.callback, { code: 'c', state }, jar);

    // Assess
    expect(response.status).toBe(400);
    expect(audit).toMatchObject({ reason: 'sign_in_replayed' });
  });
});

describe('POST /approve', () => {
  it('records the approval, and says so', async () => {
    // Prepare
    const { sealed, ticket } = await f.pending();
    const { jar, shown } = await f.signInAndOpen(sealed);

    // Act
    const { response, audit } = await f.post(shown.response, jar);

    // Assess
    expect(response.status).toBe(200);
    expect(response.body).toMatch(/You approved/);
    expect(audit).toMatchObject({ step: 'approved', reason: 'ok', caller: 'alice-sub' });
    expect(await f.store.get(ticket.key)).toMatchObject({ status: APPROVAL_STATUS.approved });
  });

  it('records a denial', async () => {
    // Prepare
    const { sealed, ticket } = await f.pending();
    const { jar, shown } = await f.signInAndOpen(sealed);

    // Act
    const { audit } = await f.post(shown.response, jar, 'deny');

    // Assess
    expect(audit).toMatchObject({ step: 'denied', reason: 'denied_by_person' });
    expect(await f.store.get(ticket.key)).toMatchObject({ status: APPROVAL_STATUS.denied });
  });

  it.each([
    ['from another site (Origin)', { origin: 'https://attacker.example' }, 'foreign_origin'],
    ['without an Origin', {}, 'foreign_origin'],
  ] as const)('refuses an answer %s, unread', async (_, headers, reason) => {
    // Prepare
    const { sealed, ticket } = await f.pending();
    const { jar, shown } = await f.signInAndOpen(sealed);

    // Act
    const { response, audit } = await f.post(shown.response, jar, 'approve', headers);

    // Assess
    expect(response.status).toBe(403);
    expect(audit).toMatchObject({ step: 'refused', reason });
    expect(await f.store.get(ticket.key)).toMatchObject({ status: APPROVAL_STATUS.pending });
  });

  it('refuses an answer without the browser’s cookies (an agent posting the form itself)', async () => {
    // Prepare
    const { sealed, ticket } = await f.pending();
    const { shown } = await f.signInAndOpen(sealed);

    // Act
    const { response, audit } = await f.post(shown.response, new Jar());

    // Assess
    expect(response.status).toBe(403);
    expect(audit).toMatchObject({ reason: 'missing_browser_cookie' });
    expect(await f.store.get(ticket.key)).toMatchObject({ status: APPROVAL_STATUS.pending });
  });

  it('refuses an answer from a browser with its own cookie but no sign-in', async () => {
    // Prepare: the agent opens the link itself (a browser id, no approver cookie)
    const { sealed, ticket } = await f.pending();
    const { jar: person, shown } = await f.signInAndOpen(sealed);
    const agent = new Jar();
    agent.take((await f.get(APPROVAL_PATHS.page, { ticket: sealed }, agent)).response);

    // Act: it posts the person's page (form token and all) with its own cookies
    const { response, audit } = await f.post(shown.response, agent);

    // Assess
    expect(person.cookies.size).toBe(2);
    expect(response.status).toBe(403);
    expect(audit).toMatchObject({ reason: 'form_browser_mismatch' });
    expect(await f.store.get(ticket.key)).toMatchObject({ status: APPROVAL_STATUS.pending });
  });

  it('refuses another user’s session: Mallory’s cookies on Alice’s form', async () => {
    // Prepare: Alice's page; Mallory signed in in her own browser on her own call
    const alice = await f.pending({ id: 'cust-0043' });
    const { shown } = await f.signInAndOpen(alice.sealed);
    f.signInAs('mallory-sub');
    const mallory = await f.pending({ id: 'cust-0044' }, { sub: 'mallory-sub' });
    const { jar: malloryJar, shown: malloryPage } = await f.signInAndOpen(mallory.sealed);

    // Act: Mallory posts Alice's ticket with her own (valid) form token and cookies
    const forged = shown.response.body.replace(
      /name="form" value="[^"]+"/,
      /name="form" value="[^"]+"/.exec(malloryPage.response.body)?.[0] ?? '',
    );
    const { response, audit } = await f.post({ ...shown.response, body: forged }, malloryJar);

    // Assess: her form token is for her own approval; nothing of Alice's is approved
    expect(response.status).toBe(400);
    expect(audit).toMatchObject({ step: 'refused', reason: 'invalid_form' });
    expect(await f.store.get(alice.ticket.key)).toMatchObject({ status: APPROVAL_STATUS.pending });
  });

  it('takes one answer per page: a replayed form is refused', async () => {
    // Prepare
    const { sealed } = await f.pending();
    const { jar, shown } = await f.signInAndOpen(sealed);
    await f.post(shown.response, jar, 'deny');

    // Act
    const { response, audit } = await f.post(shown.response, jar, 'approve');

    // Assess
    expect(response.status).toBe(400);
    expect(audit).toMatchObject({ reason: 'form_replayed' });
  });

  it('refuses an answer once the sign-in is older than allowed', async () => {
    // Prepare
    const { sealed, ticket } = await f.pending();
    const { jar, shown } = await f.signInAndOpen(sealed);
    f.advance((SIGN_IN_MAX_AGE + 1) * 1000);

    // Act
    const { response, audit } = await f.post(shown.response, jar);

    // Assess
    expect(response.status).toBe(403);
    expect(audit).toMatchObject({ reason: 'sign_in_stale' });
    expect(await f.store.get(ticket.key)).toMatchObject({ status: APPROVAL_STATUS.pending });
  });

  it('records nothing for a request replaced since the page was shown', async () => {
    // Prepare: the page shows one request; the table now holds another for the same call
    const { sealed, ticket } = await f.pending();
    const { jar, shown } = await f.signInAndOpen(sealed);
    const now = Math.floor(Date.UTC(2026, 11, 1, 12) / 1000);
    await f.store.decide(ticket.key, ticket.approvalId, 'denied', now + 1, now);

    // Act
    const { response, audit } = await f.post(shown.response, jar);

    // Assess
    expect(response.status).toBe(409);
    expect(audit).toMatchObject({ reason: 'not_pending' });
  });

  it('lets a form live no longer than the sign-in window', () => {
    // Assess: the bound the page's tokens are sealed with
    expect(APPROVAL_SIGN_IN_SECONDS).toBeLessThanOrEqual(APPROVAL_REQUEST_SECONDS);
  });

  it('never puts the ticket, a cookie or the arguments in an audit record', async () => {
    // Prepare
    const { sealed } = await f.pending({ id: 'secret-arg-9' });
    const { jar, shown, back, first } = await f.signInAndOpen(sealed);

    // Act
    const answered = await f.post(shown.response, jar);

    // Assess
    const audits = JSON.stringify([first?.audit, back?.audit, shown.audit, answered.audit]);
    expect(audits).not.toContain('secret-arg-9');
    expect(audits).not.toContain(sealed.slice(0, 40));
    for (const value of jar.cookies.values()) expect(audits).not.toContain(value.slice(0, 20));
  });
});
