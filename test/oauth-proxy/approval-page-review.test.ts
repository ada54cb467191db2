/**
 * Security review of the approval page (issue 19), attacker's view. Tests marked FINDING fail on
 * the merged code; the others are regression tests of attacks that held. The fixture is the one
 * of approval-page.test.ts (copied: it is not exported).
 *
 * Original note: the approval page (lambda/oauth-proxy/approval-page.ts) on plain data: the local sealer and
 * code store, the approvals table on the real DynamoDB protocol (dynalite), a scripted upstream
 * sign-in, a clock the test moves, and a browser played by a cookie jar. What a browser itself
 * enforces (CSP, frames, Origin) is tested in Chromium: test/browser/approval.test.ts.
 */
import { createHash } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { AesSealer } from '../../lambda/oauth-proxy/aes-sealer';
import { APPROVAL_SIGN_IN_SECONDS, ApprovalPage } from '../../lambda/oauth-proxy/approval-page';
import type { ProxyResponse } from '../../lambda/oauth-proxy/http';
import { SEAL_PURPOSES } from '../../lambda/oauth-proxy/ports';
import { sealJson } from '../../lambda/oauth-proxy/sealed-json';
import {
  APPROVAL_REQUEST_SECONDS,
  APPROVAL_STATUS,
  APPROVAL_TABLE_ATTRIBUTES,
  type ApprovalTicket,
  approvalBinding,
  DynamoApprovalStore,
  MAX_APPROVAL_ARGUMENTS_BYTES,
} from '../../lambda/shared/approvals';
import { APPROVAL_PATHS } from '../../lambda/shared/routes';
import { MemoryCodeStore } from '../../tools/local-oauth';
import { useDynaliteTables } from '../helpers/dynalite-tables';
import { request } from './proxy-fixture';

const ISSUER = 'https://mcp.example.com/prod';
const ORIGIN = 'https://mcp.example.com';
const UPSTREAM = 'https://auth.example.com';
const SIGN_IN_MAX_AGE = 300;
const APPROVAL_SECONDS = 300;

const tables = useDynaliteTables({ approvals: APPROVAL_TABLE_ATTRIBUTES.partitionKey });
void APPROVAL_SIGN_IN_SECONDS;
void MAX_APPROVAL_ARGUMENTS_BYTES;
void APPROVAL_STATUS;

/** A token as the upstream's token endpoint answers it: only its payload is read. */
function accessToken(claims: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'RS256' })}.${part(claims)}.signature`;
}

/** Cookies as a browser keeps them: by name, from Set-Cookie. */
class Jar {
  readonly cookies = new Map<string, string>();
  take(response: ProxyResponse): void {
    for (const header of response.cookies) {
      const [pair = ''] = header.split(';');
      const eq = pair.indexOf('=');
      this.cookies.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
  }
  get header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
}

function fixture() {
  let now = Date.UTC(2026, 11, 1, 12);
  const sealer = new AesSealer();
  const codes = new MemoryCodeStore({ now: () => now });
  const store = new DynamoApprovalStore(tables.db, 'approvals');
  /** Who the upstream says signed in, and when (seconds). */
  let person = { sub: 'alice-sub', groups: ['admin'], authTime: () => Math.floor(now / 1000) };
  const upstreamCalls: URLSearchParams[] = [];
  const page = new ApprovalPage({
    config: {
      issuer: ISSUER,
      upstream: {
        authorizeUrl: `${UPSTREAM}/oauth2/authorize`,
        tokenUrl: `${UPSTREAM}/oauth2/token`,
        clientId: 'upstream-client',
      },
      signInScopes: ['mcp/tools'],
      approvalSeconds: APPROVAL_SECONDS,
      signInMaxAgeSeconds: SIGN_IN_MAX_AGE,
    },
    sealer,
    codes,
    store,
    now: () => now,
    fetch: async (_url, init) => {
      upstreamCalls.push(new URLSearchParams(String(init.body)));
      return Response.json({
        access_token: accessToken({
          sub: person.sub,
          auth_time: person.authTime(),
          'cognito:groups': person.groups,
        }),
        token_type: 'Bearer',
      });
    },
  });
  const seconds = () => Math.floor(now / 1000);

  /** A call's pending approval and its ticket, as the MCP function makes them. */
  async function pending(
    args: Record<string, unknown> = { id: 'cust-0040' },
    options: { sub?: string; roles?: string[]; key?: string } = {},
  ) {
    const sub = options.sub ?? 'alice-sub';
    const binding = approvalBinding({
      caller: { authMethod: 'cognito', principalId: sub, keyId: '' },
      tool: 'delete_record',
      arguments: { ...args, n: Math.random() },
      client: { name: 'test-client' },
    });
    const approvalId = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString(
      'base64url',
    );
    const key = options.key ?? binding.key;
    await store.request(
      { key, approvalId, expiresAt: seconds() + APPROVAL_REQUEST_SECONDS },
      seconds(),
    );
    const ticket: ApprovalTicket = {
      version: 1,
      approvalId,
      key,
      sub,
      tool: { name: 'delete_record', title: 'Delete customer record', permission: 'delete_data' },
      arguments: args,
      argumentsDigest: binding.argumentsDigest,
      client: { name: 'test-client', version: '1.0.0' },
      roles: options.roles ?? ['admin'],
      requestedAt: seconds(),
    };
    const sealed = await sealJson(
      sealer,
      SEAL_PURPOSES.approvalTicket,
      ticket,
      seconds() + APPROVAL_REQUEST_SECONDS,
    );
    return { ticket, sealed };
  }

  const get = (path: string, query: Record<string, string>, jar: Jar) =>
    page.handle(request('GET', path, { query, headers: { cookie: jar.header } }));

  /** The browser opens the URL, signs in upstream, and comes back: the page, shown. */
  async function signInAndOpen(sealed: string, jar: Jar = new Jar()) {
    const first = await get(APPROVAL_PATHS.page, { ticket: sealed }, jar);
    jar.take(first.response);
    if (first.response.status === 200) return { jar, shown: first };
    const location = new URL(first.response.headers.Location ?? '');
    const back = await get(
      APPROVAL_PATHS.callback,
      { code: 'upstream-code', state: location.searchParams.get('state') ?? '' },
      jar,
    );
    jar.take(back.response);
    if (back.response.status !== 303) return { jar, first, back, shown: back };
    const next = new URL(back.response.headers.Location ?? '');
    const shown = await get(
      APPROVAL_PATHS.page,
      { ticket: next.searchParams.get('ticket') ?? '' },
      jar,
    );
    jar.take(shown.response);
    return { jar, first, back, shown };
  }

  /** The page's form answered, as the browser posts it. */
  async function post(
    shown: ProxyResponse,
    jar: Jar,
    decision = 'approve',
    headers: Record<string, string> = { origin: ORIGIN },
  ) {
    const field = (name: string) =>
      new RegExp(`name="${name}" value="([^"]+)"`)
        .exec(shown.body)?.[1]
        ?.replaceAll('&#38;', '&') ?? '';
    const body = new URLSearchParams({
      ticket: field('ticket'),
      form: field('form'),
      decision,
    }).toString();
    return page.handle(
      request('POST', APPROVAL_PATHS.page, {
        headers: {
          cookie: jar.header,
          'content-type': 'application/x-www-form-urlencoded',
          ...headers,
        },
        body,
      }),
    );
  }

  return {
    page,
    store,
    sealer,
    pending,
    get,
    post,
    signInAndOpen,
    upstreamCalls,
    advance: (ms: number) => {
      now += ms;
    },
    signInAs: (sub: string, groups: string[] = ['admin'], authTime?: () => number) => {
      person = { sub, groups, authTime: authTime ?? (() => Math.floor(now / 1000)) };
    },
  };
}

let f: ReturnType<typeof fixture>;
beforeEach(() => {
  f = fixture();
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
    const { clientText } = await import('../../lambda/shared/approvals');
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
