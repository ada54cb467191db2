/**
 * The approval page (lambda/oauth-proxy/approval-page.ts) on plain data, for the page's tests and
 * its security review: the local sealer and code store, the approvals table on the real DynamoDB
 * protocol (the caller's dynalite table, {@link APPROVALS_TABLE}), a scripted upstream sign-in, a
 * clock the test moves, and a browser played by a cookie jar.
 */
import { AesSealer } from '../../../lambda/oauth-proxy/aes-sealer';
import { ApprovalPage } from '../../../lambda/oauth-proxy/approval-page';
import type { ProxyResponse } from '../../../lambda/oauth-proxy/http';
import { SEAL_PURPOSES, type Sealer } from '../../../lambda/oauth-proxy/ports';
import { sealJson } from '../../../lambda/oauth-proxy/sealed-json';
import {
  APPROVAL_REQUEST_SECONDS,
  type ApprovalTicket,
  approvalBinding,
  DynamoApprovalStore,
} from '../../../lambda/shared/approvals';
import type { DynamoDbClient } from '../../../lambda/shared/aws/dynamodb';
import { APPROVAL_PATHS } from '../../../lambda/shared/routes';
import { MemoryCodeStore } from '../../support/in-process-oauth';
import { request } from './proxy-fixture';

/** The approvals table the fixture's store uses. */
export const APPROVALS_TABLE = 'approvals';

export const ISSUER = 'https://mcp.example.com/prod';
export const ORIGIN = 'https://mcp.example.com';
export const UPSTREAM = 'https://auth.example.com';
export const SIGN_IN_MAX_AGE = 300;
export const APPROVAL_SECONDS = 300;

/** A token as the upstream's token endpoint answers it: only its payload is read. */
export function accessToken(claims: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'RS256' })}.${part(claims)}.signature`;
}

/** Cookies as a browser keeps them: by name, from Set-Cookie. */
export class Jar {
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

export function approvalPageFixture(
  db: DynamoDbClient,
  options: {
    /** A sealer of a fixed key, to open values sealed before. @default a fresh random key */
    readonly sealer?: Sealer;
  } = {},
) {
  let now = Date.UTC(2026, 11, 1, 12);
  const sealer = options.sealer ?? new AesSealer();
  const codes = new MemoryCodeStore({ now: () => now });
  const store = new DynamoApprovalStore(db, APPROVALS_TABLE);
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
