/**
 * The OAuth authorization server in front of the upstream (Cognito's hosted login in AWS, the
 * local sign-in page in local mode): every decision of `/authorize`, the consent form,
 * `/callback` and `/token`, over plain requests and ports, one audit description per request.
 *
 * The flow, and what binds each step to the one before:
 *
 * 1. `GET /authorize` validates the client, its redirect URI (before which every error is a
 *    page, never a redirect), `response_type=code`, PKCE S256, `resource` (RFC 8707) and the
 *    scopes, then shows the consent page. Its form carries a ticket sealed for this browser
 *    (a random id in an HttpOnly, SameSite=Lax cookie, set here) and this exact request.
 * 2. `POST /authorize` (the person's answer) must come from this server's own page (Origin),
 *    from the browser the ticket was made for, once. Approve: 303 to the upstream with the
 *    proxy's own client id, fixed callback and fresh PKCE; the upstream `state` is the whole
 *    transaction, sealed, so nothing is stored before the person signs in. Deny: back to the
 *    client with `access_denied`. An approval can be remembered (a sealed cookie bound to the
 *    browser, the client, the redirect URI and the scopes), and then step 1 goes straight on.
 * 3. `GET /callback` opens the transaction, checks it was started in this browser (so a
 *    sign-in link started by someone else cannot deliver this person's code to their client),
 *    marks it used (one callback per transaction), mints the client's code (256 random bits)
 *    and stores what redeeming it needs, sealed, under its SHA-256 for 60 seconds; the client
 *    gets `code`, its `state` and `iss`.
 * 4. `POST /token` takes every code the request presents (atomically: single use) before it
 *    checks anything, so a refused request burns its code too; then it checks the client, the
 *    redirect URI, the PKCE verifier (constant time) and `resource`, redeems the upstream code
 *    with the proxy's verifier and hands the client the upstream's access token (so the
 *    authorizer's Cognito verification is unchanged) and a refresh token of this server's own,
 *    the first of a family that keeps the upstream's refresh token sealed.
 * 5. `POST /token` with a refresh token: the token's family, its current secret, the client it
 *    was issued to and the person's session (the not-before list) are checked, the upstream
 *    refreshes, and the family rotates: a new refresh token, the old one dead. Whatever shows
 *    a token has leaked (an old one presented, another client) ends the family
 *    (`refresh-families.ts`).
 *
 * "The person" before the upstream sign-in is the browser: consent, its ticket and a
 * remembered approval are bound to a browser cookie, not to an account, because nobody has
 * signed in yet. Whoever uses that browser profile shares its remembered approvals (for the
 * one client, redirect URI and scopes each names, until it expires); the upstream sign-in
 * that follows still decides who the tokens are for.
 */
import { createHash, randomBytes } from 'node:crypto';
import type {
  AuthorizationAudit,
  AuthorizationOutcome,
  AuthorizationReason,
  AuthorizationStep,
  ClientKind,
} from '../shared/audit';
import { publicPreflightHeaders } from '../shared/cors';
import { type IssuedTimes, userPrincipal } from '../shared/revocations';
import { OAUTH_PATHS } from '../shared/routes';
import {
  type ClientDirectory,
  clientDigest,
  type ResolvedClient,
  UnknownClientError,
} from './clients';
import {
  continuePage,
  cookieNames,
  cspSource,
  errorPage,
  escapeHtml,
  htmlPage,
  jsonResponse,
  MAX_FORM_BYTES,
  type ProxyRequest,
  type ProxyResponse,
  parseCookies,
  redirect,
  uniqueParams,
} from './http';
import { CHALLENGE, constantTimeEqual, newVerifier, s256, VERIFIER, verifierMatches } from './pkce';
import {
  type CodeStore,
  CodeStoreConflictError,
  type FetchLike,
  SEAL_PURPOSES,
  type Sealer,
} from './ports';
import { matchRedirectUri } from './redirect-uri';
import {
  familyDigest,
  newRefreshToken,
  parseRefreshToken,
  type RefreshFamilyEnd,
  type RefreshFamilyStore,
  rotatedRefreshToken,
} from './refresh-families';
import { OpenSealedError, openJson, sealJson } from './sealed-json';

/** How long a consent page may wait for its answer. */
export const CONSENT_TICKET_SECONDS = 10 * 60;
/** How long the person has to sign in upstream. */
export const TRANSACTION_SECONDS = 10 * 60;
/** How long a code waits for the client's token request. */
export const CODE_SECONDS = 60;
/** The longest `state` passed through: bounds the sealed transaction (and the upstream URL). */
export const MAX_STATE_LENGTH = 512;
/** Approvals a browser remembers at most (the cookie must stay small). */
export const MAX_REMEMBERED = 16;
const SCOPE_TOKEN = /^[!#-[\]-~]+$/;
const BROWSER_ID = /^[A-Za-z0-9_-]{43}$/;

export interface UpstreamConfig {
  readonly authorizeUrl: string;
  readonly tokenUrl: string;
  /** The proxy's own client id at the upstream. */
  readonly clientId: string;
  /** @default 5000 */
  readonly timeoutMs?: number;
}

export interface OAuthProxyConfig {
  /** This server's issuer, the API base URL (no trailing slash). */
  readonly issuer: string;
  /** The MCP endpoint: the one `resource` tokens are for. */
  readonly resource: string;
  readonly upstream: UpstreamConfig;
  readonly supportedScopes: readonly string[];
  readonly defaultScopes: readonly string[];
  /** What each scope lets a client do, for the consent page. */
  readonly scopeDescriptions?: Readonly<Record<string, string>>;
  /** How long a remembered approval lasts; 0 turns remembering off. */
  readonly consentRememberSeconds: number;
  /**
   * How long a refresh-token family lives from the sign-in: the upstream refresh token's own
   * lifetime (Cognito's app client: 7 days), after which the upstream would refuse it anyway.
   */
  readonly refreshTokenSeconds: number;
}

/**
 * The operator's not-before list, as far as refresh needs it (the authorizer's
 * `RevocationList` has this shape): is a person's credential with these times refused?
 */
export interface SessionCheck {
  isRevoked(principal: string, times: IssuedTimes): Promise<boolean>;
}

export interface OAuthProxyDeps {
  readonly config: OAuthProxyConfig;
  readonly clients: ClientDirectory;
  readonly sealer: Sealer;
  readonly codes: CodeStore;
  /** The refresh-token families this server issued. */
  readonly families: RefreshFamilyStore;
  /**
   * The not-before list the `users` CLI writes: a family whose session a sign-out or disable
   * ended is ended at its next refresh. @default none: the upstream's own refusal ends it
   * (Cognito's global sign-out; the local sign-in server's record of it)
   */
  readonly sessions?: SessionCheck;
  /** Calls the upstream token endpoint. @default globalThis.fetch */
  readonly fetch?: FetchLike;
  /** Milliseconds since the epoch. @default Date.now */
  readonly now?: () => number;
}

/** What one request leaves in the audit log (the handler adds request id and source IP). */
export type StepAudit = Omit<AuthorizationAudit, 'requestId' | 'sourceIp'>;

export interface ProxyOutcome {
  readonly response: ProxyResponse;
  readonly audit: StepAudit;
}

/** An authorization request, validated: what the consent ticket and the transaction carry. */
interface PendingRequest {
  /** SHA-256 of the client id: long ids (DCR, CIMD) stay out of the sealed values. */
  readonly c: string;
  readonly k: Exclude<ClientKind, 'unknown'>;
  readonly h?: string;
  readonly r: string;
  readonly s?: string;
  readonly ch: string;
  readonly sc: string[];
}

interface Ticket {
  /** SHA-256 of the browser id. */
  readonly b: string;
  readonly n: string;
  readonly q: PendingRequest;
}

interface Transaction extends PendingRequest {
  readonly b: string;
  readonly iss: string;
  /** The proxy's PKCE verifier at the upstream. */
  readonly v: string;
}

interface CodeRecord {
  /** The upstream's authorization code. */
  readonly u: string;
  readonly v: string;
  readonly c: string;
  readonly k: Exclude<ClientKind, 'unknown'>;
  readonly r: string;
  readonly ch: string;
  readonly sc: string[];
  readonly iss: string;
  readonly res: string;
}

/** What a refresh-token family keeps, sealed: what refreshing needs, and whom it is bound to. */
interface FamilyState {
  /** The family's store key: a sealed state moved to another family's item does not open. */
  readonly f: string;
  /** The upstream's refresh token. */
  readonly u: string;
  /** SHA-256 of the client id the family was issued to. */
  readonly c: string;
  readonly k: Exclude<ClientKind, 'unknown'>;
  readonly sc: string[];
  readonly iss: string;
  readonly res: string;
  /** The person (the upstream access token's `sub`), for the not-before list. */
  readonly sub?: string;
  /** When they signed in (`auth_time`), which a sign-out's bound is compared with. */
  readonly at?: number;
}

interface Remembered {
  readonly b: string;
  /** Grant digest → expiry (seconds). */
  readonly g: Record<string, number>;
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every(isString);
const KINDS = new Set(['cimd', 'dcr', 'preregistered']);

function parsePending(value: unknown): PendingRequest | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (!isString(v.c) || !isString(v.k) || !KINDS.has(v.k) || !isString(v.r) || !isString(v.ch)) {
    return undefined;
  }
  if (!isStringArray(v.sc) || (v.s !== undefined && !isString(v.s))) return undefined;
  if (v.h !== undefined && !isString(v.h)) return undefined;
  return value as PendingRequest;
}

function parseTicket(value: unknown): Ticket | undefined {
  const v = (value ?? {}) as Record<string, unknown>;
  const q = parsePending(v.q);
  return isString(v.b) && isString(v.n) && q !== undefined ? { b: v.b, n: v.n, q } : undefined;
}

function parseTransaction(value: unknown): Transaction | undefined {
  const v = (value ?? {}) as Record<string, unknown>;
  return parsePending(value) !== undefined && isString(v.b) && isString(v.iss) && isString(v.v)
    ? (value as Transaction)
    : undefined;
}

function parseCodeRecord(value: unknown): CodeRecord | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  const strings = ['u', 'v', 'c', 'k', 'r', 'ch', 'iss', 'res'] as const;
  return strings.every((key) => isString(v[key])) && isStringArray(v.sc) && KINDS.has(v.k as string)
    ? (value as CodeRecord)
    : undefined;
}

function parseFamilyState(value: unknown): FamilyState | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  const strings = ['f', 'u', 'c', 'k', 'iss', 'res'] as const;
  if (!strings.every((key) => isString(v[key])) || !isStringArray(v.sc)) return undefined;
  if (!KINDS.has(v.k as string)) return undefined;
  if (v.sub !== undefined && !isString(v.sub)) return undefined;
  if (v.at !== undefined && typeof v.at !== 'number') return undefined;
  return value as FamilyState;
}

function parseRemembered(value: unknown): Remembered | undefined {
  const v = (value ?? {}) as Record<string, unknown>;
  if (!isString(v.b) || typeof v.g !== 'object' || v.g === null) return undefined;
  if (!Object.values(v.g).every((e) => typeof e === 'number')) return undefined;
  return { b: v.b, g: v.g as Record<string, number> };
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('base64url');

/** The OAuth errors a client may be redirected with after the upstream refused. */
const PASSED_UPSTREAM_ERRORS = new Set(['access_denied', 'temporarily_unavailable']);

/** A refusal or failure of one step: its answer and its audit record's reason. */
class StepError extends Error {
  constructor(
    readonly reason: AuthorizationReason,
    readonly response: ProxyResponse,
    readonly outcome: AuthorizationOutcome = 'refused',
  ) {
    super(reason);
  }
}

/** What the audit record knows so far about the request's client. */
interface ClientFacts {
  kind: ClientKind;
  digest?: string;
  host?: string;
  redirectHost?: string;
  scopes?: readonly string[];
  familyDigest?: string;
  familyEnded?: boolean;
}

export class OAuthProxy {
  readonly #config: OAuthProxyConfig;
  readonly #clients: ClientDirectory;
  readonly #sealer: Sealer;
  readonly #codes: CodeStore;
  readonly #families: RefreshFamilyStore;
  readonly #sessions: SessionCheck | undefined;
  readonly #fetch: FetchLike;
  readonly #now: () => number;
  readonly #origin: string;
  readonly #upstreamOrigin: string;
  readonly #secureCookies: boolean;
  readonly #browserCookie: string;
  readonly #rememberCookie: string;

  constructor(deps: OAuthProxyDeps) {
    this.#config = deps.config;
    this.#clients = deps.clients;
    this.#sealer = deps.sealer;
    this.#codes = deps.codes;
    this.#families = deps.families;
    this.#sessions = deps.sessions;
    this.#fetch = deps.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.#now = deps.now ?? Date.now;
    this.#origin = new URL(deps.config.issuer).origin;
    this.#upstreamOrigin = new URL(deps.config.upstream.authorizeUrl).origin;
    this.#secureCookies = this.#origin.startsWith('https://');
    const names = cookieNames(this.#origin);
    this.#browserCookie = names.browser;
    this.#rememberCookie = names.consent;
  }

  /** The proxy's fixed callback at the upstream. */
  get callbackUrl(): string {
    return `${this.#config.issuer}${OAUTH_PATHS.callback}`;
  }

  #seconds(): number {
    return Math.floor(this.#now() / 1000);
  }

  /** Answer one request; never throws (a failure is answered and audited as an error). */
  async handle(request: ProxyRequest): Promise<ProxyOutcome> {
    const facts: ClientFacts = { kind: 'unknown' };
    const { method, path } = request;
    const step = stepOf(method, path, request);
    try {
      if (path === OAUTH_PATHS.authorize && method === 'GET') {
        return await this.#authorize(request, facts);
      }
      if (path === OAUTH_PATHS.authorize && method === 'POST') {
        return await this.#consentAnswer(request, facts);
      }
      if (path === OAUTH_PATHS.callback && method === 'GET') {
        return await this.#callback(request, facts);
      }
      if (path === OAUTH_PATHS.token && method === 'OPTIONS') {
        return {
          response: {
            status: 204,
            headers: publicPreflightHeaders(['POST']),
            cookies: [],
            body: '',
          },
          audit: this.#audit(step, facts, 'ok', 'ok', 204),
        };
      }
      if (path === OAUTH_PATHS.token && method === 'POST') {
        return await this.#token(request, facts);
      }
      const allow =
        path === OAUTH_PATHS.authorize
          ? 'GET, POST'
          : path === OAUTH_PATHS.token
            ? 'POST, OPTIONS'
            : 'GET';
      const response =
        path === OAUTH_PATHS.token
          ? jsonResponse(405, { error: 'invalid_request', error_description: 'Use POST' })
          : errorPage(405, 'invalid_request', 'This method is not allowed here');
      return {
        response: { ...response, headers: { ...response.headers, Allow: allow } },
        audit: this.#audit(step, facts, 'refused', 'method_not_allowed', 405, 'invalid_request'),
      };
    } catch (error) {
      if (error instanceof StepError) {
        return {
          response: error.response,
          audit: this.#audit(
            step,
            facts,
            error.outcome,
            error.reason,
            error.response.status,
            oauthErrorOf(error.response),
          ),
        };
      }
      // Fail closed: an outage (KMS, the code table, a resolver bug) is a server error.
      const response =
        path === OAUTH_PATHS.token
          ? jsonResponse(500, {
              error: 'server_error',
              error_description: 'The request could not be processed',
            })
          : errorPage(
              500,
              'server_error',
              'The server could not process this request; try again later',
            );
      return {
        response,
        audit: this.#audit(step, facts, 'error', 'internal_error', 500, 'server_error'),
      };
    }
  }

  #audit(
    step: AuthorizationStep,
    facts: ClientFacts,
    outcome: AuthorizationOutcome,
    reason: AuthorizationReason,
    httpStatus: number,
    oauthError?: string,
  ): StepAudit {
    return {
      step,
      clientKind: facts.kind,
      outcome,
      reason,
      httpStatus,
      ...(oauthError === undefined ? {} : { oauthError }),
      ...(facts.digest === undefined ? {} : { clientDigest: facts.digest.slice(0, 16) }),
      ...(facts.host === undefined ? {} : { clientHost: facts.host }),
      ...(facts.redirectHost === undefined ? {} : { redirectHost: facts.redirectHost }),
      ...(facts.scopes === undefined ? {} : { scopes: facts.scopes }),
      ...(facts.familyDigest === undefined ? {} : { familyDigest: facts.familyDigest }),
      ...(facts.familyEnded === true ? { familyEnded: true } : {}),
    };
  }

  // ---------------------------------------------------------------------------------------
  // GET /authorize
  // ---------------------------------------------------------------------------------------

  async #authorize(request: ProxyRequest, facts: ClientFacts): Promise<ProxyOutcome> {
    const params = uniqueParams(request.query);
    if (params === undefined) {
      throw new StepError(
        'duplicate_parameter',
        errorPage(400, 'invalid_request', 'A parameter is repeated'),
      );
    }
    const clientId = params.get('client_id') ?? '';
    const client = await this.#resolveClient(clientId, facts);
    const redirectUri = params.get('redirect_uri');
    if (redirectUri === undefined) {
      throw new StepError(
        'invalid_redirect_uri',
        errorPage(400, 'invalid_request', 'redirect_uri is required'),
      );
    }
    if (!matchRedirectUri(client.redirectUris, redirectUri)) {
      throw new StepError(
        'redirect_uri_mismatch',
        errorPage(400, 'invalid_request', 'redirect_uri is not one this client registered'),
      );
    }
    facts.redirectHost = new URL(redirectUri).host;
    // From here on the redirect URI is the client's own: errors go back to it.
    const state = params.get('state');
    const back = (error: string, description: string, reason: AuthorizationReason) =>
      new StepError(
        reason,
        this.#clientRedirect(redirectUri, { error, error_description: description }, state),
      );
    if (state !== undefined && state.length > MAX_STATE_LENGTH) {
      throw new StepError(
        'invalid_state',
        this.#clientRedirect(
          redirectUri,
          {
            error: 'invalid_request',
            error_description: `state must be at most ${MAX_STATE_LENGTH} characters`,
          },
          undefined,
        ),
      );
    }
    if (params.get('response_type') !== 'code') {
      throw back(
        'unsupported_response_type',
        'response_type must be code',
        'unsupported_response_type',
      );
    }
    const challenge = params.get('code_challenge');
    const method = params.get('code_challenge_method');
    if (challenge === undefined) {
      throw back(
        'invalid_request',
        'PKCE is required: code_challenge with method S256',
        'pkce_missing',
      );
    }
    // A missing method means plain (RFC 7636 section 4.3): a downgrade, refused like plain.
    if (method !== 'S256') {
      throw back('invalid_request', 'code_challenge_method must be S256', 'pkce_method_not_s256');
    }
    if (!CHALLENGE.test(challenge)) {
      throw back(
        'invalid_request',
        'code_challenge must be 43 base64url characters',
        'invalid_code_challenge',
      );
    }
    const resource = params.get('resource');
    if (resource === undefined) {
      throw back(
        'invalid_request',
        'resource is required (RFC 8707): this MCP server’s URL',
        'resource_missing',
      );
    }
    if (resource !== this.#config.resource) {
      throw back('invalid_target', 'resource is not this MCP server', 'resource_mismatch');
    }
    const scopes = this.#scopes(params.get('scope'), client);
    if (scopes === undefined) {
      throw back(
        'invalid_scope',
        'scope names a scope this client may not ask for',
        'invalid_scope',
      );
    }
    facts.scopes = scopes;

    const pending: PendingRequest = {
      c: clientDigest(clientId),
      k: client.kind,
      ...(client.clientHost === undefined ? {} : { h: client.clientHost }),
      r: redirectUri,
      ...(state === undefined ? {} : { s: state }),
      ch: challenge,
      sc: scopes,
    };
    const cookies = parseCookies(request.header('cookie'));
    let browserId = cookies.get(this.#browserCookie);
    const setCookies: string[] = [];
    if (browserId === undefined || !BROWSER_ID.test(browserId)) {
      browserId = randomBytes(32).toString('base64url');
      setCookies.push(
        this.#cookie(
          this.#browserCookie,
          browserId,
          Math.max(this.#config.consentRememberSeconds, CONSENT_TICKET_SECONDS),
        ),
      );
    }
    const browser = sha256(browserId);

    if (await this.#isRemembered(cookies.get(this.#rememberCookie), browser, pending)) {
      const upstream = await this.#toUpstream(pending, browser);
      return {
        response: redirect(upstream, 302, setCookies),
        audit: this.#audit('consent', facts, 'ok', 'consent_remembered', 302),
      };
    }
    const ticket = await sealJson(
      this.#sealer,
      SEAL_PURPOSES.consent,
      { b: browser, n: randomBytes(16).toString('base64url'), q: pending } satisfies Ticket,
      this.#seconds() + CONSENT_TICKET_SECONDS,
    );
    return {
      response: this.#consentPage(client, redirectUri, scopes, ticket, setCookies),
      audit: this.#audit('authorize', facts, 'ok', 'consent_shown', 200),
    };
  }

  async #resolveClient(clientId: string, facts: ClientFacts): Promise<ResolvedClient> {
    facts.kind = clientId === '' ? 'unknown' : this.#clients.classify(clientId);
    if (clientId !== '') facts.digest = clientDigest(clientId);
    try {
      const client = await this.#clients.resolve(clientId);
      if (client.clientHost !== undefined) facts.host = client.clientHost;
      return client;
    } catch (error) {
      if (!(error instanceof UnknownClientError)) throw error;
      if (facts.kind === 'cimd') {
        try {
          facts.host = new URL(clientId).host;
        } catch {
          // not a URL: no host to record
        }
      }
      throw new StepError(
        error.reason,
        errorPage(
          400,
          'invalid_client',
          error.reason.startsWith('cimd_')
            ? `The client’s metadata document could not be used (${error.reason})`
            : 'This client is not known to this server',
        ),
      );
    }
  }

  /** The scopes granted: as asked (or the defaults), all supported, none beyond the client's. */
  #scopes(scope: string | undefined, client: ResolvedClient): string[] | undefined {
    const asked = (scope ?? '').split(' ').filter((s) => s !== '');
    const wanted = asked.length > 0 ? asked : [...(client.scopes ?? this.#config.defaultScopes)];
    if (wanted.some((s) => !SCOPE_TOKEN.test(s) || !this.#config.supportedScopes.includes(s))) {
      return undefined;
    }
    // A client's registered or declared scopes are its default, not a ceiling: anyone may
    // register or publish a document naming every scope, so a ceiling protects nothing, and it
    // would refuse the step-up a 403 insufficient_scope asks for. The person approves what is
    // asked on the consent page, and roles still bound what any token can do.
    return [...new Set(wanted)];
  }

  /** An answer sent to the client's (validated) redirect URI, with `iss` (RFC 9207). */
  #clientRedirect(
    redirectUri: string,
    params: Record<string, string>,
    state: string | undefined,
    status: 302 | 303 = 302,
    cookies: readonly string[] = [],
  ): ProxyResponse {
    const location = new URL(redirectUri);
    for (const [name, value] of Object.entries(params)) location.searchParams.set(name, value);
    if (state !== undefined) location.searchParams.set('state', state);
    location.searchParams.set('iss', this.#config.issuer);
    // A form's answer is held to the page's form-action, redirects included; an IPv6 loopback
    // origin cannot be named there, so the browser goes on from a page of this server's own.
    if (cspSource(location.origin) === undefined) return continuePage(location.href, cookies);
    return redirect(location.href, status, cookies);
  }

  #cookie(name: string, value: string, maxAgeSeconds: number): string {
    return `${name}=${value}; Path=/; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=Lax${this.#secureCookies ? '; Secure' : ''}`;
  }

  #grantKey(pending: PendingRequest): string {
    return sha256(JSON.stringify([pending.c, pending.r, [...pending.sc].sort()])).slice(0, 22);
  }

  async #openRemembered(
    value: string | undefined,
    browser: string,
  ): Promise<Remembered | undefined> {
    if (value === undefined || this.#config.consentRememberSeconds === 0) return undefined;
    try {
      const { value: remembered } = await openJson(
        this.#sealer,
        SEAL_PURPOSES.remember,
        value,
        this.#seconds(),
        parseRemembered,
      );
      // Another browser's cookie (copied over) remembers nothing here.
      return constantTimeEqual(remembered.b, browser) ? remembered : undefined;
    } catch (error) {
      if (error instanceof OpenSealedError) return undefined;
      throw error;
    }
  }

  async #isRemembered(
    value: string | undefined,
    browser: string,
    pending: PendingRequest,
  ): Promise<boolean> {
    const remembered = await this.#openRemembered(value, browser);
    const until = remembered?.g[this.#grantKey(pending)];
    return until !== undefined && until > this.#seconds();
  }

  /** The consent page: who asks, where the answer goes, for what; Approve or Deny. */
  #consentPage(
    client: ResolvedClient,
    redirectUri: string,
    scopes: readonly string[],
    ticket: string,
    cookies: readonly string[],
  ): ProxyResponse {
    const descriptions = this.#config.scopeDescriptions ?? {};
    const permissions = scopes
      .map(
        (scope) =>
          `<li>${escapeHtml(descriptions[scope] ?? scope)} <small>(<code>${escapeHtml(scope)}</code>)</small></li>`,
      )
      .join('');
    const redirectHost = new URL(redirectUri).host;
    const who = client.nameVerified
      ? `<p><strong>${escapeHtml(client.name)}</strong> asks to use this MCP server as you.</p>`
      : `<p>An application calling itself <strong>${escapeHtml(client.name)}</strong> asks to use this MCP server as you.</p><p class="warn">This name is the application’s own claim; this server has not verified it.${
          client.clientHost === undefined
            ? ' The application registered itself.'
            : ` It is published at <strong>${escapeHtml(client.clientHost)}</strong>.`
        }</p>`;
    const days = Math.floor(this.#config.consentRememberSeconds / 86400);
    const remember =
      this.#config.consentRememberSeconds > 0
        ? `<p><label><input type="checkbox" name="remember" value="yes"> Remember this approval in this browser for ${
            days >= 1
              ? `${days} day${days === 1 ? '' : 's'}`
              : `${this.#config.consentRememberSeconds} seconds`
          }</label></p>`
        : '';
    const body = `${who}
<p>If you approve, you sign in next, and then your browser is sent to <strong>${escapeHtml(redirectHost)}</strong>${
      client.kind === 'preregistered' ? '' : ' with access'
    }.</p>
<p>It asks for:</p><ul>${permissions}</ul>
<form method="post" action="${escapeHtml(`${new URL(this.#config.issuer).pathname.replace(/\/$/, '')}${OAUTH_PATHS.authorize}`)}">
<input type="hidden" name="ticket" value="${escapeHtml(ticket)}">
${remember}<p><button type="submit" name="decision" value="approve">Approve</button><button type="submit" name="decision" value="deny">Deny</button></p>
</form>
<p><small>Only approve if you started this sign-in and expect ${escapeHtml(redirectHost)}.</small></p>`;
    // A browser applies form-action to the redirects that answer the form too: this server,
    // the upstream sign-in (and its return here), and the client's callback (Deny, or a
    // remembered upstream session that answers at once).
    const formAction = new Set(["'self'", this.#upstreamOrigin]);
    const redirectSource = cspSource(new URL(redirectUri).origin);
    if (redirectSource !== undefined) formAction.add(redirectSource);
    return htmlPage(200, 'Allow access?', body, { formAction: [...formAction], cookies });
  }

  /** The upstream authorization URL for an approved request, its transaction sealed in `state`. */
  async #toUpstream(pending: PendingRequest, browser: string): Promise<string> {
    const verifier = newVerifier();
    const transaction: Transaction = {
      ...pending,
      b: browser,
      iss: this.#config.issuer,
      v: verifier,
    };
    const state = await sealJson(
      this.#sealer,
      SEAL_PURPOSES.transaction,
      transaction,
      this.#seconds() + TRANSACTION_SECONDS,
    );
    const url = new URL(this.#config.upstream.authorizeUrl);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('client_id', this.#config.upstream.clientId);
    url.searchParams.set('redirect_uri', this.callbackUrl);
    url.searchParams.set('scope', pending.sc.join(' '));
    url.searchParams.set('state', state);
    url.searchParams.set('code_challenge', s256(verifier));
    url.searchParams.set('code_challenge_method', 'S256');
    return url.href;
  }

  // ---------------------------------------------------------------------------------------
  // POST /authorize: the consent form's answer
  // ---------------------------------------------------------------------------------------

  async #consentAnswer(request: ProxyRequest, facts: ClientFacts): Promise<ProxyOutcome> {
    // Only this server's own page may answer it: another site's form (consent CSRF) is
    // refused before anything is read. Browsers send Origin on every form POST.
    if (request.header('origin') !== this.#origin) {
      throw new StepError(
        'foreign_origin',
        errorPage(
          403,
          'access_denied',
          'The consent form is accepted only from this server’s own page',
        ),
      );
    }
    const form = this.#form(request, (error, description) => errorPage(400, error, description));
    const browserId = parseCookies(request.header('cookie')).get(this.#browserCookie);
    if (browserId === undefined || !BROWSER_ID.test(browserId)) {
      throw new StepError(
        'missing_browser_cookie',
        errorPage(
          403,
          'access_denied',
          'This browser did not open the consent page (cookies must be on)',
        ),
      );
    }
    const browser = sha256(browserId);
    let ticket: Ticket;
    let ticketExpiry: number;
    try {
      ({ value: ticket, expiresAt: ticketExpiry } = await openJson(
        this.#sealer,
        SEAL_PURPOSES.consent,
        form.get('ticket') ?? '',
        this.#seconds(),
        parseTicket,
      ));
    } catch (error) {
      if (!(error instanceof OpenSealedError)) throw error;
      throw new StepError(
        error.failure === 'expired' ? 'ticket_expired' : 'invalid_ticket',
        errorPage(400, 'invalid_request', 'The consent page expired or is not valid; start again'),
      );
    }
    const pending = ticket.q;
    facts.kind = pending.k;
    facts.digest = pending.c;
    if (pending.h !== undefined) facts.host = pending.h;
    facts.redirectHost = new URL(pending.r).host;
    facts.scopes = pending.sc;
    if (!constantTimeEqual(ticket.b, browser)) {
      throw new StepError(
        'ticket_browser_mismatch',
        errorPage(403, 'access_denied', 'This consent page was opened in another browser'),
      );
    }
    const decision = form.get('decision');
    if (decision !== 'approve' && decision !== 'deny') {
      throw new StepError('invalid_request', errorPage(400, 'invalid_request', 'Approve or deny'));
    }
    // Once: the ticket's nonce is marked used until the ticket would expire anyway.
    try {
      await this.#codes.put(`ticket#${sha256(ticket.n)}`, '1', ticketExpiry);
    } catch (error) {
      if (!(error instanceof CodeStoreConflictError)) throw error;
      throw new StepError(
        'ticket_replayed',
        errorPage(400, 'invalid_request', 'This consent page was already answered; start again'),
      );
    }
    if (decision === 'deny') {
      return {
        response: this.#clientRedirect(
          pending.r,
          { error: 'access_denied', error_description: 'The person denied the request' },
          pending.s,
          303,
        ),
        audit: this.#audit('consent', facts, 'refused', 'denied_by_user', 303, 'access_denied'),
      };
    }
    const cookies: string[] = [];
    if (form.get('remember') === 'yes' && this.#config.consentRememberSeconds > 0) {
      cookies.push(
        await this.#remember(
          parseCookies(request.header('cookie')).get(this.#rememberCookie),
          browser,
          pending,
        ),
      );
    }
    return {
      response: redirect(await this.#toUpstream(pending, browser), 303, cookies),
      audit: this.#audit('consent', facts, 'ok', 'approved', 303),
    };
  }

  /** The remember cookie with this approval added (the oldest dropped past the bound). */
  async #remember(
    value: string | undefined,
    browser: string,
    pending: PendingRequest,
  ): Promise<string> {
    const now = this.#seconds();
    const seconds = this.#config.consentRememberSeconds;
    const previous = await this.#openRemembered(value, browser);
    const grants = Object.entries(previous?.g ?? {})
      .filter(([, until]) => until > now)
      .sort(([, a], [, b]) => a - b);
    grants.push([this.#grantKey(pending), now + seconds]);
    const kept = Object.fromEntries(grants.slice(-MAX_REMEMBERED));
    const expiresAt = Math.max(...Object.values(kept));
    const sealed = await sealJson(
      this.#sealer,
      SEAL_PURPOSES.remember,
      { b: browser, g: kept } satisfies Remembered,
      expiresAt,
    );
    return this.#cookie(this.#rememberCookie, sealed, expiresAt - now);
  }

  /** A form body (urlencoded, bounded, no repeated parameter). */
  #form(
    request: ProxyRequest,
    refuse: (error: string, description: string) => ProxyResponse,
  ): Map<string, string> {
    const type = request.header('content-type')?.split(';')[0]?.trim().toLowerCase();
    if (type !== 'application/x-www-form-urlencoded') {
      throw new StepError(
        'invalid_request',
        refuse('invalid_request', 'The body must be application/x-www-form-urlencoded'),
      );
    }
    if (Buffer.byteLength(request.body) > MAX_FORM_BYTES) {
      throw new StepError(
        'invalid_request',
        refuse('invalid_request', `The body exceeds ${MAX_FORM_BYTES} bytes`),
      );
    }
    const form = uniqueParams(new URLSearchParams(request.body));
    if (form === undefined) {
      throw new StepError(
        'duplicate_parameter',
        refuse('invalid_request', 'A parameter is repeated'),
      );
    }
    return form;
  }

  // ---------------------------------------------------------------------------------------
  // GET /callback: the upstream's answer
  // ---------------------------------------------------------------------------------------

  async #callback(request: ProxyRequest, facts: ClientFacts): Promise<ProxyOutcome> {
    const params = uniqueParams(request.query);
    if (params === undefined) {
      throw new StepError(
        'duplicate_parameter',
        errorPage(400, 'invalid_request', 'A parameter is repeated'),
      );
    }
    let transaction: Transaction;
    let transactionExpiry: number;
    try {
      ({ value: transaction, expiresAt: transactionExpiry } = await openJson(
        this.#sealer,
        SEAL_PURPOSES.transaction,
        params.get('state') ?? '',
        this.#seconds(),
        parseTransaction,
      ));
    } catch (error) {
      if (!(error instanceof OpenSealedError)) throw error;
      throw new StepError(
        error.failure === 'expired' ? 'transaction_expired' : 'invalid_transaction',
        errorPage(
          400,
          'invalid_request',
          error.failure === 'expired'
            ? 'This sign-in took too long; start again from the application'
            : 'This is not a sign-in this server started',
        ),
      );
    }
    facts.kind = transaction.k;
    facts.digest = transaction.c;
    if (transaction.h !== undefined) facts.host = transaction.h;
    facts.redirectHost = new URL(transaction.r).host;
    facts.scopes = transaction.sc;
    if (transaction.iss !== this.#config.issuer) {
      throw new StepError(
        'invalid_transaction',
        errorPage(400, 'invalid_request', 'This sign-in was started at another server'),
      );
    }
    // Started in this browser, or refused: a sign-in link made by someone else (who approved
    // their own client) must not deliver this person's code to that client.
    const browserId = parseCookies(request.header('cookie')).get(this.#browserCookie);
    if (browserId === undefined || !constantTimeEqual(sha256(browserId), transaction.b)) {
      throw new StepError(
        'transaction_browser_mismatch',
        errorPage(
          403,
          'access_denied',
          'This sign-in was started in another browser; start again from the application',
        ),
      );
    }
    // Once: a transaction ends at its first callback, with a code or with the upstream's refusal
    // passed on; opened again (history, a reload, a replayed link) it mints nothing. Its PKCE
    // verifier at the upstream is random and its own: the transaction's nonce.
    try {
      await this.#codes.put(`txn#${sha256(transaction.v)}`, '1', transactionExpiry);
    } catch (error) {
      if (!(error instanceof CodeStoreConflictError)) throw error;
      throw new StepError(
        'transaction_replayed',
        errorPage(
          400,
          'invalid_request',
          'This sign-in was already completed; start again from the application',
        ),
      );
    }
    const upstreamError = params.get('error');
    if (upstreamError !== undefined) {
      const error = PASSED_UPSTREAM_ERRORS.has(upstreamError) ? upstreamError : 'server_error';
      return {
        response: this.#clientRedirect(
          transaction.r,
          { error, error_description: 'The sign-in did not complete' },
          transaction.s,
        ),
        audit: this.#audit('callback', facts, 'refused', 'upstream_denied', 302, error),
      };
    }
    const upstreamCode = params.get('code');
    if (upstreamCode === undefined || upstreamCode === '' || upstreamCode.length > 2048) {
      throw new StepError(
        'upstream_error',
        this.#clientRedirect(
          transaction.r,
          { error: 'server_error', error_description: 'The sign-in returned no code' },
          transaction.s,
        ),
      );
    }
    const code = randomBytes(32).toString('base64url');
    const expiresAt = this.#seconds() + CODE_SECONDS;
    const record: CodeRecord = {
      u: upstreamCode,
      v: transaction.v,
      c: transaction.c,
      k: transaction.k,
      r: transaction.r,
      ch: transaction.ch,
      sc: transaction.sc,
      iss: this.#config.issuer,
      res: this.#config.resource,
    };
    await this.#codes.put(
      codeKey(code),
      await sealJson(this.#sealer, SEAL_PURPOSES.code, record, expiresAt),
      expiresAt,
    );
    return {
      response: this.#clientRedirect(transaction.r, { code }, transaction.s),
      audit: this.#audit('callback', facts, 'ok', 'ok', 302),
    };
  }

  // ---------------------------------------------------------------------------------------
  // POST /token
  // ---------------------------------------------------------------------------------------

  async #token(request: ProxyRequest, facts: ClientFacts): Promise<ProxyOutcome> {
    const refuse = (error: string, description: string, status = 400) =>
      jsonResponse(status, { error, error_description: description });
    // Before anything else is checked: a code is gone after its first presentation, whatever
    // is wrong with the request that carries it, so a replay (or a guess) never finds it again.
    const taken = await this.#takePresentedCodes(request.body);
    const form = this.#form(request, refuse);
    const grant = form.get('grant_type');
    const clientId = form.get('client_id') ?? '';
    if (clientId !== '') {
      facts.kind = this.#clients.classify(clientId);
      facts.digest = clientDigest(clientId);
      if (facts.kind === 'cimd') facts.host = safeHost(clientId);
    }
    if (form.has('client_secret') || request.header('authorization') !== undefined) {
      // Public clients only: a secret would be one nobody issued.
      throw new StepError(
        'invalid_request',
        refuse('invalid_client', 'Only public clients (PKCE, no secret) are supported', 401),
      );
    }
    const resource = form.get('resource');
    if (resource !== undefined && resource !== this.#config.resource) {
      throw new StepError(
        'resource_mismatch',
        refuse('invalid_target', 'resource is not this MCP server'),
      );
    }
    if (grant === 'authorization_code') return this.#redeem(form, taken, clientId, facts, refuse);
    if (grant === 'refresh_token') return this.#refresh(form, clientId, facts, refuse);
    throw new StepError(
      'unsupported_grant_type',
      refuse('unsupported_grant_type', 'grant_type must be authorization_code or refresh_token'),
    );
  }

  /**
   * Take every code the body presents (at most {@link MAX_PRESENTED_CODES}), read as a form
   * whatever its type or shape: the sealed records by code, `undefined` for one not held.
   */
  async #takePresentedCodes(body: string): Promise<ReadonlyMap<string, string | undefined>> {
    const codes = [...new Set(new URLSearchParams(body).getAll('code'))]
      .filter(isCodeShaped)
      .slice(0, MAX_PRESENTED_CODES);
    const records = await Promise.all(codes.map((code) => this.#codes.take(codeKey(code))));
    return new Map(codes.map((code, i) => [code, records[i]]));
  }

  async #redeem(
    form: Map<string, string>,
    taken: ReadonlyMap<string, string | undefined>,
    clientId: string,
    facts: ClientFacts,
    refuse: (error: string, description: string, status?: number) => ProxyResponse,
  ): Promise<ProxyOutcome> {
    const code = form.get('code') ?? '';
    if (!isCodeShaped(code)) {
      throw new StepError('invalid_code', refuse('invalid_request', 'code is required'));
    }
    const sealed = taken.get(code);
    if (sealed === undefined) {
      throw new StepError(
        'invalid_code',
        refuse('invalid_grant', 'Unknown, expired or already used code'),
      );
    }
    let record: CodeRecord;
    try {
      ({ value: record } = await openJson(
        this.#sealer,
        SEAL_PURPOSES.code,
        sealed,
        this.#seconds(),
        parseCodeRecord,
      ));
    } catch (error) {
      if (!(error instanceof OpenSealedError)) throw error;
      throw new StepError(
        'invalid_code',
        refuse('invalid_grant', 'Unknown, expired or already used code'),
      );
    }
    facts.kind = record.k;
    facts.redirectHost = new URL(record.r).host;
    facts.scopes = record.sc;
    if (record.iss !== this.#config.issuer || record.res !== this.#config.resource) {
      throw new StepError(
        'code_issuer_mismatch',
        refuse('invalid_grant', 'The code was issued by another server'),
      );
    }
    if (!constantTimeEqual(clientDigest(clientId), record.c)) {
      throw new StepError(
        'code_client_mismatch',
        refuse('invalid_grant', 'The code was issued to another client'),
      );
    }
    if (form.get('redirect_uri') !== record.r) {
      throw new StepError(
        'code_redirect_mismatch',
        refuse('invalid_grant', 'redirect_uri does not match the authorization request'),
      );
    }
    const verifier = form.get('code_verifier') ?? '';
    if (!VERIFIER.test(verifier) || !verifierMatches(verifier, record.ch)) {
      throw new StepError(
        'pkce_verifier_mismatch',
        refuse('invalid_grant', 'code_verifier does not match the code_challenge'),
      );
    }
    const answer = await this.#upstreamToken({
      grant_type: 'authorization_code',
      client_id: this.#config.upstream.clientId,
      code: record.u,
      redirect_uri: this.callbackUrl,
      code_verifier: record.v,
    });
    if (answer.kind !== 'tokens') return this.#upstreamFailure('token', answer, facts);
    const upstreamRefresh = answer.tokens.refresh_token;
    const refreshToken =
      upstreamRefresh === undefined
        ? undefined
        : await this.#newFamily(record, answer.tokens.access_token, upstreamRefresh, facts);
    return this.#issued('token', answer.tokens, facts, record.sc, refreshToken);
  }

  /** A new refresh-token family for a redeemed code: the client's first refresh token. */
  async #newFamily(
    record: CodeRecord,
    accessToken: string,
    upstreamRefresh: string,
    facts: ClientFacts,
  ): Promise<string> {
    const issued = newRefreshToken();
    const expiresAt = this.#seconds() + this.#config.refreshTokenSeconds;
    const state: FamilyState = {
      f: issued.familyKey,
      u: upstreamRefresh,
      c: record.c,
      k: record.k,
      sc: record.sc,
      iss: this.#config.issuer,
      res: this.#config.resource,
      ...sessionOf(accessToken),
    };
    await this.#families.create(issued.familyKey, {
      secretHash: issued.secretHash,
      sealed: await sealJson(this.#sealer, SEAL_PURPOSES.refreshFamily, state, expiresAt),
      expiresAt,
    });
    facts.familyDigest = familyDigest(issued.familyKey);
    return issued.token;
  }

  /**
   * A refresh: the token's family found, its secret current, the client the one it was issued
   * to, the person's session not ended; then the upstream refreshes and the family rotates.
   * Anything showing the token has leaked ends the family (see `refresh-families.ts`).
   */
  async #refresh(
    form: Map<string, string>,
    clientId: string,
    facts: ClientFacts,
    refuse: (error: string, description: string, status?: number) => ProxyResponse,
  ): Promise<ProxyOutcome> {
    if (facts.kind === 'unknown') {
      throw new StepError('unknown_client', refuse('invalid_client', 'Unknown client_id', 401));
    }
    const token = form.get('refresh_token') ?? '';
    const parts = parseRefreshToken(token);
    const unknown = () =>
      new StepError(
        'invalid_refresh_token',
        refuse('invalid_grant', 'Unknown, expired or revoked refresh token'),
      );
    if (parts === undefined) throw unknown();
    const { familyKey } = parts;
    facts.familyDigest = familyDigest(familyKey);
    const ended = async (reason: RefreshFamilyEnd, description: string) => {
      await this.#families.end(familyKey, reason);
      facts.familyEnded = true;
      return new StepError(
        reason === 'upstream_refused' ? 'upstream_error' : reason,
        refuse('invalid_grant', description),
      );
    };

    const family = await this.#families.get(familyKey);
    if (family === undefined) throw unknown();
    if (family.ended !== undefined || family.sealed === undefined) {
      throw new StepError(
        'refresh_family_ended',
        refuse('invalid_grant', 'This sign-in has ended; sign in again'),
      );
    }
    if (!constantTimeEqual(parts.secretHash, family.secretHash)) {
      // A token of this family that is no longer the current one: someone used it (or a
      // copy of the one after it) first. Which of the two holders is the thief cannot be
      // told, so neither keeps the family (OAuth 2.1 section 4.3.1).
      throw await ended(
        'refresh_token_reused',
        'This refresh token was already used; sign in again',
      );
    }
    let state: FamilyState;
    try {
      ({ value: state } = await openJson(
        this.#sealer,
        SEAL_PURPOSES.refreshFamily,
        family.sealed,
        this.#seconds(),
        parseFamilyState,
      ));
    } catch (error) {
      if (!(error instanceof OpenSealedError)) throw error;
      throw unknown();
    }
    if (state.f !== familyKey) throw unknown();
    facts.scopes = state.sc;
    if (state.iss !== this.#config.issuer || state.res !== this.#config.resource) {
      throw new StepError(
        'refresh_issuer_mismatch',
        refuse('invalid_grant', 'The refresh token was issued by another server'),
      );
    }
    if (!constantTimeEqual(clientDigest(clientId), state.c)) {
      // Only the client it was issued to holds it: in another's hands it has leaked.
      throw await ended(
        'refresh_client_mismatch',
        'The refresh token was issued to another client',
      );
    }
    if (await this.#sessionEnded(state)) {
      throw await ended('session_ended', 'The session was ended; sign in again');
    }

    const answer = await this.#upstreamToken({
      grant_type: 'refresh_token',
      client_id: this.#config.upstream.clientId,
      refresh_token: state.u,
    });
    if (answer.kind === 'refused') {
      // The upstream ended the session (expired, signed out, disabled): so does the family.
      throw await ended('upstream_refused', 'The sign-in could not be refreshed; sign in again');
    }
    if (answer.kind === 'unavailable') return this.#upstreamFailure('refresh', answer, facts);
    // The upstream may rotate its own token too (Cognito's refresh-token rotation): keep the new.
    const upstreamRefresh = answer.tokens.refresh_token;
    const sealed =
      upstreamRefresh === undefined || upstreamRefresh === state.u
        ? family.sealed
        : await sealJson(
            this.#sealer,
            SEAL_PURPOSES.refreshFamily,
            { ...state, u: upstreamRefresh } satisfies FamilyState,
            family.expiresAt,
          );
    const next = rotatedRefreshToken(token);
    const rotated = await this.#families.rotate(
      familyKey,
      { secretHash: family.secretHash, generation: family.generation },
      { secretHash: next.secretHash, sealed },
    );
    if (!rotated) {
      // Another refresh with the same token (or an end) got there between the read and the
      // write: this presentation is of a token no longer current, as above.
      throw await ended(
        'refresh_token_reused',
        'This refresh token was already used; sign in again',
      );
    }
    return this.#issued('refresh', answer.tokens, facts, state.sc, next.token);
  }

  /**
   * Did a sign-out or disable end this family's session? Only the session bound counts: a
   * group change must not end the family (a refreshed token carries the new groups), so the
   * token about to be issued counts as issued after any other not-before.
   */
  async #sessionEnded(state: FamilyState): Promise<boolean> {
    if (this.#sessions === undefined) return false;
    // A person the list cannot name cannot be cleared by it: fail closed.
    if (state.sub === undefined) return true;
    return this.#sessions.isRevoked(userPrincipal(state.sub), {
      issuedAt: Number.POSITIVE_INFINITY,
      authTime: state.at,
    });
  }

  /** The upstream refused the grant (400) or did not answer (502). */
  #upstreamFailure(
    step: AuthorizationStep,
    answer: Exclude<UpstreamAnswer, { kind: 'tokens' }>,
    facts: ClientFacts,
  ): ProxyOutcome {
    if (answer.kind === 'refused') {
      return {
        response: jsonResponse(400, {
          error: 'invalid_grant',
          error_description: 'The sign-in could not be redeemed; start again',
        }),
        audit: this.#audit(step, facts, 'refused', 'upstream_error', 400, 'invalid_grant'),
      };
    }
    return {
      response: jsonResponse(502, {
        error: 'server_error',
        error_description: 'The sign-in service did not answer; try again',
      }),
      audit: this.#audit(step, facts, 'error', 'upstream_unavailable', 502, 'server_error'),
    };
  }

  /**
   * The tokens for the client: the upstream's access token, and this server's own refresh
   * token, never the upstream's. Not the upstream's id_token either: that one is an identity
   * assertion for the proxy's own upstream client (its `aud`), which this client must not be
   * able to replay to anything that trusts that client id.
   */
  #issued(
    step: AuthorizationStep,
    tokens: UpstreamTokens,
    facts: ClientFacts,
    scopes: readonly string[],
    refreshToken: string | undefined,
  ): ProxyOutcome {
    const scope = tokens.scope ?? scopes.join(' ');
    return {
      response: jsonResponse(200, {
        access_token: tokens.access_token,
        token_type: 'Bearer',
        ...(tokens.expires_in === undefined ? {} : { expires_in: tokens.expires_in }),
        ...(refreshToken === undefined ? {} : { refresh_token: refreshToken }),
        scope,
      }),
      audit: this.#audit(step, facts, 'ok', 'ok', 200),
    };
  }

  /** One request to the upstream token endpoint, bounded in time. */
  async #upstreamToken(form: Record<string, string>): Promise<UpstreamAnswer> {
    let response: Response;
    try {
      response = await this.#fetch(this.#config.upstream.tokenUrl, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/x-www-form-urlencoded',
          Accept: 'application/json',
        },
        body: new URLSearchParams(form).toString(),
        redirect: 'error',
        signal: AbortSignal.timeout(this.#config.upstream.timeoutMs ?? 5000),
      });
    } catch {
      return { kind: 'unavailable' };
    }
    let body: unknown;
    try {
      body = await response.json();
    } catch {
      return { kind: 'unavailable' };
    }
    if (response.status === 400 || response.status === 401) return { kind: 'refused' };
    if (!response.ok) return { kind: 'unavailable' };
    const tokens = parseUpstreamTokens(body);
    return tokens === undefined ? { kind: 'unavailable' } : { kind: 'tokens', tokens };
  }
}

interface UpstreamTokens {
  readonly access_token: string;
  readonly expires_in?: number;
  readonly refresh_token?: string;
  readonly scope?: string;
}

type UpstreamAnswer =
  | { readonly kind: 'tokens'; readonly tokens: UpstreamTokens }
  | { readonly kind: 'refused' }
  | { readonly kind: 'unavailable' };

function parseUpstreamTokens(body: unknown): UpstreamTokens | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const b = body as Record<string, unknown>;
  if (!isString(b.access_token) || b.access_token === '') return undefined;
  if (isString(b.token_type) && b.token_type.toLowerCase() !== 'bearer') return undefined;
  return {
    access_token: b.access_token,
    ...(typeof b.expires_in === 'number' ? { expires_in: b.expires_in } : {}),
    ...(isString(b.refresh_token) ? { refresh_token: b.refresh_token } : {}),
    ...(isString(b.scope) ? { scope: b.scope } : {}),
  };
}

/** The most codes one token request can take (a repeated `code` is refused, all taken). */
const MAX_PRESENTED_CODES = 4;

/** A value that could be a code this server minted (256 bits, base64url), or close to one. */
function isCodeShaped(code: string): boolean {
  return code !== '' && code.length <= 128;
}

/**
 * The person an upstream access token is for (`sub`) and when they signed in (`auth_time`):
 * read, not verified. It came from the upstream's token endpoint, over TLS, in answer to this
 * server's own request, and names whom to look up in the not-before list, nothing more.
 */
function sessionOf(accessToken: string): Pick<FamilyState, 'sub' | 'at'> {
  const payload = accessToken.split('.')[1];
  if (payload === undefined) return {};
  let claims: Record<string, unknown>;
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<
      string,
      unknown
    >;
  } catch {
    return {};
  }
  if (typeof claims !== 'object' || claims === null) return {};
  return {
    ...(isString(claims.sub) && claims.sub !== '' ? { sub: claims.sub } : {}),
    ...(typeof claims.auth_time === 'number' ? { at: claims.auth_time } : {}),
  };
}

/** The store key of a code: its SHA-256, so the table never holds a usable code. */
export function codeKey(code: string): string {
  return `code#${createHash('sha256').update(code, 'utf8').digest('hex')}`;
}

function safeHost(url: string): string | undefined {
  try {
    return new URL(url).host;
  } catch {
    return undefined;
  }
}

function oauthErrorOf(response: ProxyResponse): string | undefined {
  if (response.headers['Content-Type'] === 'application/json') {
    try {
      const error = (JSON.parse(response.body) as { error?: unknown }).error;
      return typeof error === 'string' ? error : undefined;
    } catch {
      return undefined;
    }
  }
  const location = response.headers.Location;
  if (location !== undefined) return new URL(location).searchParams.get('error') ?? undefined;
  return /<code>([a-z_]+)<\/code>/.exec(response.body)?.[1];
}

/** The audit step a request belongs to, before it is read. */
function stepOf(method: string, path: string, request: ProxyRequest): AuthorizationStep {
  if (path === OAUTH_PATHS.authorize) return method === 'POST' ? 'consent' : 'authorize';
  if (path === OAUTH_PATHS.callback) return 'callback';
  if (path === OAUTH_PATHS.token && method === 'POST') {
    return new URLSearchParams(request.body).get('grant_type') === 'refresh_token'
      ? 'refresh'
      : 'token';
  }
  return 'token';
}
