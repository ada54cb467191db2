/**
 * An OAuth proxy on plain data for unit tests: the local sealer and code store, a scripted
 * upstream token endpoint, a CIMD resolver from a table, a clock the test moves, and a browser
 * (a cookie jar) to walk the flow with.
 */
import { AesSealer } from '../../../lambda/oauth-proxy/aes-sealer';
import { ClientDirectory } from '../../../lambda/oauth-proxy/clients';
import type { ProxyRequest, ProxyResponse } from '../../../lambda/oauth-proxy/http';
import { s256 } from '../../../lambda/oauth-proxy/pkce';
import type { CimdClient, FetchLike, Sealer } from '../../../lambda/oauth-proxy/ports';
import {
  OAuthProxy,
  type OAuthProxyConfig,
  type ProxyOutcome,
  type SessionCheck,
} from '../../../lambda/oauth-proxy/proxy';
import { MemoryCodeStore } from '../../support/in-process-oauth';
import { MemoryRefreshFamilyStore } from '../../support/memory-refresh-families';

export const ISSUER = 'https://mcp.example.com';
export const RESOURCE = `${ISSUER}/mcp`;
export const UPSTREAM = 'https://auth.example.com';
export const PRE_ID = 'preregistered-client';
export const PRE_REDIRECT = 'http://localhost:8080/callback';
export const CIMD_ID = 'https://app.example.org/oauth/client.json';
export const CIMD_REDIRECT = 'https://app.example.org/callback';
export const VERIFIER = 'v'.repeat(43);
export const CHALLENGE = s256(VERIFIER);
/** The fixture's clock at the start of each test. */
export const FIXTURE_START_MS = Date.UTC(2026, 11, 1, 12);

export class CimdRefusal extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

/** What the fake upstream token endpoint was asked, and what it answers. */
export interface UpstreamCall {
  readonly url: string;
  readonly form: URLSearchParams;
}

export function proxyFixture(
  overrides: Partial<OAuthProxyConfig> = {},
  options: {
    readonly sessions?: SessionCheck;
    /** A sealer of a fixed key, to open values sealed before. @default a fresh random key */
    readonly sealer?: Sealer;
  } = {},
) {
  let now = FIXTURE_START_MS;
  const sealer = options.sealer ?? new AesSealer();
  const codes = new MemoryCodeStore({ now: () => now });
  const documents = new Map<string, CimdClient>([
    [
      CIMD_ID,
      {
        clientId: CIMD_ID,
        clientName: 'Example <App>',
        redirectUris: [CIMD_REDIRECT, 'http://127.0.0.1/callback'],
      },
    ],
  ]);
  const calls: UpstreamCall[] = [];
  let answer: () => Response = () =>
    Response.json({
      access_token: `access-${calls.length}`,
      refresh_token: 'upstream-refresh',
      id_token: 'upstream-id-token',
      expires_in: 3600,
      token_type: 'Bearer',
    });
  const fetch: FetchLike = async (url, init) => {
    calls.push({ url, form: new URLSearchParams(String(init.body)) });
    return answer();
  };
  const clients = new ClientDirectory({
    sealer,
    cimd: {
      resolve: async (id) => {
        const document = documents.get(id);
        if (document === undefined) throw new CimdRefusal('cimd_blocked_address');
        return document;
      },
    },
    preRegistered: { clientId: PRE_ID, name: 'Operator app', redirectUris: [PRE_REDIRECT] },
  });
  const config: OAuthProxyConfig = {
    issuer: ISSUER,
    resource: RESOURCE,
    upstream: {
      authorizeUrl: `${UPSTREAM}/oauth2/authorize`,
      tokenUrl: `${UPSTREAM}/oauth2/token`,
      clientId: 'upstream-client',
    },
    supportedScopes: ['mcp/tools', 'mcp/read_data', 'mcp/admin'],
    defaultScopes: ['mcp/tools'],
    scopeDescriptions: { 'mcp/tools': 'Call the tools', 'mcp/read_data': 'Read <data>' },
    consentRememberSeconds: 7 * 24 * 3600,
    refreshTokenSeconds: 7 * 24 * 3600,
    ...overrides,
  };
  const families = new MemoryRefreshFamilyStore({ now: () => now });
  const proxy = new OAuthProxy({
    config,
    clients,
    sealer,
    codes,
    families,
    ...(options.sessions === undefined ? {} : { sessions: options.sessions }),
    fetch,
    now: () => now,
  });
  return {
    proxy,
    sealer,
    codes,
    families,
    calls,
    documents,
    config,
    advance: (ms: number) => {
      now += ms;
    },
    upstreamAnswers: (make: () => Response) => {
      answer = make;
    },
  };
}

export type ProxyFixture = ReturnType<typeof proxyFixture>;

/** A request to the proxy as the handler would build it. */
export function request(
  method: string,
  path: string,
  options: {
    query?: Record<string, string> | URLSearchParams;
    headers?: Record<string, string>;
    body?: string;
  } = {},
): ProxyRequest {
  const headers = Object.fromEntries(
    Object.entries(options.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]),
  );
  return {
    method,
    path,
    query: new URLSearchParams(options.query),
    header: (name) => headers[name],
    body: options.body ?? '',
    requestId: 'req-1',
    sourceIp: '198.51.100.7',
  };
}

/** A valid authorization request of the pre-registered client, with overrides. */
export function authorizeParams(overrides: Record<string, string | undefined> = {}) {
  const params: Record<string, string | undefined> = {
    response_type: 'code',
    client_id: PRE_ID,
    redirect_uri: 'http://localhost:51234/callback',
    code_challenge: CHALLENGE,
    code_challenge_method: 'S256',
    resource: RESOURCE,
    state: 'client-state',
    ...overrides,
  };
  return Object.fromEntries(
    Object.entries(params).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
}

/** A browser: cookies set by the proxy, sent back on each request. */
export class Browser {
  readonly cookies = new Map<string, string>();

  keep(response: ProxyResponse): void {
    for (const cookie of response.cookies) {
      const [pair = ''] = cookie.split(';');
      const eq = pair.indexOf('=');
      this.cookies.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
  }

  get header(): string {
    return [...this.cookies].map(([n, v]) => `${n}=${v}`).join('; ');
  }
}

export function ticketOf(response: ProxyResponse): string {
  const ticket = /name="ticket" value="([^"]+)"/.exec(response.body)?.[1];
  if (ticket === undefined) throw new Error(`No consent page: ${response.status} ${response.body}`);
  return ticket;
}

export function locationOf(outcome: ProxyOutcome): URL {
  const location = outcome.response.headers.Location;
  if (location === undefined) {
    throw new Error(
      `No redirect: ${outcome.response.status} ${outcome.response.body.slice(0, 300)}`,
    );
  }
  return new URL(location);
}

/** Steps of the flow, as a browser and a client take them. */
export function flow(f: ProxyFixture, browser = new Browser()) {
  const authorize = async (params: Record<string, string> = authorizeParams()) => {
    const outcome = await f.proxy.handle(
      request('GET', '/authorize', { query: params, headers: { Cookie: browser.header } }),
    );
    browser.keep(outcome.response);
    return outcome;
  };
  const consent = async (
    ticket: string,
    form: Record<string, string> = { decision: 'approve' },
    headers: Record<string, string> = {},
  ) => {
    const outcome = await f.proxy.handle(
      request('POST', '/authorize', {
        headers: {
          Origin: ISSUER,
          'Content-Type': 'application/x-www-form-urlencoded',
          Cookie: browser.header,
          ...headers,
        },
        body: new URLSearchParams({ ticket, ...form }).toString(),
      }),
    );
    browser.keep(outcome.response);
    return outcome;
  };
  const callback = async (query: Record<string, string>, cookie = browser.header) =>
    f.proxy.handle(request('GET', '/callback', { query, headers: { Cookie: cookie } }));
  const token = async (form: Record<string, string>) =>
    f.proxy.handle(
      request('POST', '/token', {
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(form).toString(),
      }),
    );
  /** The whole way to a client code: authorize, approve, upstream sign-in, callback. */
  const code = async (params: Record<string, string> = authorizeParams()) => {
    const page = await authorize(params);
    const approved = await consent(ticketOf(page.response));
    const upstream = locationOf(approved);
    const back = await callback({
      code: 'upstream-code',
      state: upstream.searchParams.get('state') ?? '',
    });
    return { upstream, back, location: locationOf(back) };
  };
  return { browser, authorize, consent, callback, token, code };
}
