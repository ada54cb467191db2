/**
 * The local stand-in for Cognito's hosted login, loopback only: the upstream authorization
 * server of the OAuth proxy's Lambda in local mode, as Cognito is in AWS.
 *
 * It answers one client, the proxy's upstream client id, and one redirect URI, the proxy's
 * callback (`<own origin>/callback`): MCP clients never talk to it directly, they talk to the
 * proxy, which shows them consent first. Authorization code with PKCE (S256 only) behind a
 * minimal page where a developer picks a user and groups; a token endpoint issuing the same
 * Cognito-shaped access tokens the local verifier accepts, and refresh tokens, rotated at each
 * refresh as the deployed app client's are (Cognito's refresh-token rotation, no grace period).
 *
 * The page's CSP lets its form go to this server only (the callback is this server's origin);
 * the form is accepted only from this server's own origins.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { verifierMatches } from '../../lambda/oauth-proxy/pkce';
import { OAuthError } from '../../lambda/shared/client-registration';
import { PUBLIC_CORS_HEADERS } from '../../lambda/shared/cors';
import { OAUTH_PATHS } from '../../lambda/shared/routes';
import { POLICY } from '../../modules/policy';
import { ROLES } from '../../modules/roles';
import { ExpiringStore } from './expiring-store';
import {
  LOCAL_CLIENT_ID,
  LOCAL_SCOPE,
  localPermissionScopes,
  mintAccessToken,
  type SigningKey,
} from './identity';
import type { LocalSignInPolicy } from './user-file';

export const AUTHORIZE_PATH = '/oauth2/authorize';
export const TOKEN_PATH = '/oauth2/token';
export { s256 } from '../../lambda/oauth-proxy/pkce';
export { OAuthError };

/** The scopes the local server issues: the audience scope and one per permission. */
export const LOCAL_SCOPES = [
  LOCAL_SCOPE,
  ...localPermissionScopes(Object.keys(POLICY.permissions)),
];

/** How long an authorization code, and a pending login page, stay valid. */
const CODE_TTL_MS = 60_000;
/** How long a refresh token stays valid (Cognito's default is 30 days; a dev session is shorter). */
export const LOCAL_REFRESH_TOKEN_SECONDS = 24 * 3600;
const REFRESH_TTL_MS = LOCAL_REFRESH_TOKEN_SECONDS * 1000;
/**
 * Pending sign-ins, unredeemed codes and refresh tokens kept at most: far more than a developer
 * has open, and a bound on what unauthenticated requests can make this process hold.
 */
export const MAX_PENDING = 1000;
const ACCESS_TOKEN_SECONDS = 3600;
const MAX_FORM_BYTES = 64 * 1024;

/**
 * The user names the sign-in page takes, as an HTML `pattern`. Browsers compile a pattern with
 * the `v` flag, where a `-` in a class must be escaped (or the browser silently drops the
 * check); the server compiles the same text the same way, so one cannot drift from the other.
 */
export const SUB_PATTERN = '[A-Za-z0-9._@\\-]{1,64}';
const SUB = new RegExp(`^(?:${SUB_PATTERN})$`, 'v');

export interface LocalAuthServerOptions {
  /** The gateway's base URL, e.g. `http://127.0.0.1:3000`. */
  readonly baseUrl: string;
  readonly signingKey: SigningKey;
  /**
   * The origins this server answers as: the sign-in form is accepted only from them, and the
   * one redirect URI is `<one of them>/callback`. Default: the origin of `baseUrl`.
   */
  readonly ownOrigins?: readonly string[];
  /**
   * Who may sign in and with which groups (`.local/users.json`, kept by the `users` CLI).
   * Default: anyone, with the groups picked on the page.
   */
  readonly users?: LocalSignInPolicy;
  /** The one client id it answers: the proxy's upstream client. Default {@link LOCAL_CLIENT_ID}. */
  readonly clientId?: string;
  /**
   * The app client's callback URLs, matched exactly as Cognito matches them (the emulator
   * passes the template's). Default: `<own origin>/callback` for each own origin.
   */
  readonly callbackUrls?: readonly string[];
  /** The scopes the app client may ask for. Default {@link LOCAL_SCOPES}. */
  readonly scopes?: readonly string[];
  /** The user pool's groups, offered on the page. Default: the deployment's roles. */
  readonly groups?: readonly string[];
  readonly now?: () => number;
}

/** A validated authorization request, waiting for the person on the sign-in page. */
interface PendingAuthorization {
  readonly redirectUri: string;
  readonly state: string | undefined;
  readonly codeChallenge: string;
  readonly scopes: string[];
}

/** What the sign-in form carries: the request, its deadline and a one-time id, signed. */
interface SignedRequest extends PendingAuthorization {
  readonly id: string;
  readonly expiresAt: number;
}

interface IssuedCode extends PendingAuthorization {
  readonly sub: string;
  readonly groups: string[];
}

interface Session {
  readonly sub: string;
  readonly groups: string[];
  readonly scopes: string[];
  /** When the person signed in (epoch seconds): Cognito keeps it as `auth_time` on refresh. */
  readonly authTime: number;
  /** The same, in milliseconds: a sign-out in the same second still ends this session or not. */
  readonly signedInAt: number;
}

/** A token endpoint answer, as Cognito's. */
export interface TokenAnswer {
  readonly access_token: string;
  readonly token_type: 'Bearer';
  readonly expires_in: number;
  readonly scope: string;
  readonly refresh_token?: string;
}

const CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The body, read until it is over `maxBytes` (then what was read: enough to refuse it). */
export async function readCapped(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).byteLength;
    chunks.push(chunk as Buffer);
    if (size > maxBytes) break;
  }
  return Buffer.concat(chunks);
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const body = await readCapped(req, MAX_FORM_BYTES);
  if (body.byteLength > MAX_FORM_BYTES) {
    throw new OAuthError('invalid_request', `The body exceeds ${MAX_FORM_BYTES} bytes`);
  }
  return new URLSearchParams(body.toString('utf8'));
}

/**
 * The answer to the sign-in form: a page that goes on to the proxy's callback. A meta refresh
 * is a navigation of the new page, not of the form, so the form's `form-action 'self'` does not
 * apply to the proxy's redirect to the client that follows.
 */
function continuePage(res: ServerResponse, location: URL): void {
  const href = escapeHtml(location.toString());
  const html = `<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" content="0; url=${href}">
<title>Signed in</title><p>Signed in. <a href="${href}">Continue</a>…</p>`;
  res.writeHead(200, {
    'Content-Type': 'text/html; charset=utf-8',
    'Cache-Control': 'no-store',
    'X-Frame-Options': 'DENY',
    'X-Content-Type-Options': 'nosniff',
    // The callback URL carries the code: the next page must not see it in a Referer.
    'Referrer-Policy': 'no-referrer',
    'Content-Security-Policy':
      "default-src 'none'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'",
  });
  res.end(html);
}

/** A page-facing answer: plain text, for a person in a browser. */
function sendText(res: ServerResponse, status: number, text: string) {
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Cache-Control': 'no-store',
    'Content-Length': Buffer.byteLength(text),
    'X-Content-Type-Options': 'nosniff',
  });
  res.end(text);
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Cache-Control': 'no-store',
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export class LocalAuthServer {
  readonly #options: LocalAuthServerOptions;
  readonly #now: () => number;
  readonly #ownOrigins: readonly string[];
  readonly #clientId: string;
  /**
   * Signs the request each sign-in page carries in its form. Opening the page stores nothing,
   * so no flood of page loads (any site can make a browser send them) can push out a person's
   * open sign-in or grow the process; only the form's answer, which must come from this
   * server's own page, stores anything.
   */
  readonly #formKey = randomBytes(32);
  /** Sign-in requests already answered: each page signs in once. */
  readonly #used: ExpiringStore<true>;
  readonly #codes: ExpiringStore<IssuedCode>;
  readonly #refreshTokens: ExpiringStore<Session>;

  constructor(options: LocalAuthServerOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#ownOrigins = options.ownOrigins ?? [new URL(options.baseUrl).origin];
    this.#clientId = options.clientId ?? LOCAL_CLIENT_ID;
    const store = { ttlMs: CODE_TTL_MS, maxEntries: MAX_PENDING, now: this.#now };
    this.#used = new ExpiringStore(store);
    this.#codes = new ExpiringStore(store);
    this.#refreshTokens = new ExpiringStore({ ...store, ttlMs: REFRESH_TTL_MS });
  }

  /** What this process holds: answered sign-ins, codes waiting, refresh tokens. */
  get pendingCounts(): { answeredSignIns: number; codes: number; refreshTokens: number } {
    return {
      answeredSignIns: this.#used.size,
      codes: this.#codes.size,
      refreshTokens: this.#refreshTokens.size,
    };
  }

  /** The proxy's callback: the app client's callback URLs, exactly. */
  #isProxyCallback(uri: string): boolean {
    const callbacks =
      this.#options.callbackUrls ??
      this.#ownOrigins.map((origin) => `${origin}${OAUTH_PATHS.callback}`);
    return callbacks.includes(uri);
  }

  get #scopes(): readonly string[] {
    return this.#options.scopes ?? LOCAL_SCOPES;
  }

  get #groups(): readonly string[] {
    return this.#options.groups ?? ROLES;
  }

  /**
   * Handle the request if it is one of ours; false otherwise.
   */
  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    const method = req.method ?? 'GET';
    const path = url.pathname;
    if (path !== AUTHORIZE_PATH && path !== TOKEN_PATH) return false;
    try {
      if (method === 'POST' && path === TOKEN_PATH) {
        // Only the proxy calls this (server to server): no CORS for pages.
        sendJson(res, 200, this.token(await readForm(req)));
      } else if (method === 'GET' && path === AUTHORIZE_PATH) {
        this.authorizePage(url.searchParams, res);
      } else if (method === 'POST' && path === AUTHORIZE_PATH) {
        const origin = req.headers.origin;
        if (origin !== undefined && !this.#ownOrigins.includes(origin)) {
          // Someone else's page posting a sign-in form to us (login CSRF): refused, unread.
          sendText(
            res,
            403,
            'Forbidden: the sign-in form is accepted only from this server’s own page.',
          );
          return true;
        }
        this.approve(await readForm(req), res);
      } else {
        sendText(res, 405, 'Method not allowed');
      }
    } catch (error) {
      if (!(error instanceof OAuthError)) throw error;
      if (path === AUTHORIZE_PATH) {
        // A person is looking at this: words, not JSON.
        sendText(res, error.status, `Sign-in refused (${error.error}): ${error.description}`);
      } else {
        sendJson(res, error.status, error.toBody(), PUBLIC_CORS_HEADERS);
      }
    }
    return true;
  }

  /**
   * Validate an authorization request: only the proxy's client, only to the proxy's callback,
   * PKCE S256. Every error is answered on the page (the proxy sends nothing else here).
   */
  #checkAuthorizationRequest(params: URLSearchParams): PendingAuthorization {
    if (params.get('client_id') !== this.#clientId) {
      throw new OAuthError('invalid_client', 'Unknown client_id', 401);
    }
    const redirectUri = params.get('redirect_uri') ?? '';
    if (!this.#isProxyCallback(redirectUri)) {
      throw new OAuthError('invalid_request', 'redirect_uri must be the OAuth proxy’s callback');
    }
    if (params.get('response_type') !== 'code') {
      throw new OAuthError('unsupported_response_type', 'response_type must be code');
    }
    const challenge = params.get('code_challenge') ?? '';
    if (params.get('code_challenge_method') !== 'S256' || !CHALLENGE.test(challenge)) {
      throw new OAuthError(
        'invalid_request',
        'PKCE is required: code_challenge with code_challenge_method S256',
      );
    }
    const scopes = (params.get('scope') ?? LOCAL_SCOPE).split(' ').filter((s) => s !== '');
    const unknown = scopes.filter((scope) => !this.#scopes.includes(scope));
    if (unknown.length > 0) {
      throw new OAuthError('invalid_scope', `Unknown scope: ${unknown.join(' ')}`);
    }
    return {
      redirectUri,
      state: params.get('state') ?? undefined,
      codeChallenge: challenge,
      scopes,
    };
  }

  authorizePage(params: URLSearchParams, res: ServerResponse): void {
    const request = this.#checkAuthorizationRequest(params);
    const signed = this.#sign({
      ...request,
      id: randomBytes(16).toString('base64url'),
      expiresAt: this.#now() + CODE_TTL_MS,
    });
    const roles = this.#groups
      .map((role) => `<label><input type="checkbox" name="groups" value="${role}"> ${role}</label>`)
      .join('<br>');
    const html = `<!doctype html><meta charset="utf-8"><title>Local sign-in</title>
<h1>Secure MCP server: local sign-in</h1>
<p>Local mode only. Pick who you are; the token will carry these groups.</p>
<form method="post" action="${AUTHORIZE_PATH}">
<input type="hidden" name="request" value="${escapeHtml(signed)}">
<p><label>User <input name="sub" value="alice" pattern="${escapeHtml(SUB_PATTERN)}" required></label></p>
<p>${roles}</p>
<p>Scope: ${escapeHtml(request.scopes.join(' '))}</p>
<button type="submit">Sign in</button>
</form>`;
    res.writeHead(200, {
      'Content-Type': 'text/html; charset=utf-8',
      'Cache-Control': 'no-store',
      'X-Frame-Options': 'DENY',
      'X-Content-Type-Options': 'nosniff',
      // The sign-in page's URL (state, PKCE challenge) goes nowhere else; the form's Origin
      // header stays intact for the check on POST (no-referrer would make it "null").
      'Referrer-Policy': 'same-origin',
      // A browser applies form-action to the redirect that answers the form too, and to the
      // redirects after it: the proxy's callback here, then the client's own callback.
      'Content-Security-Policy': this.#csp(),
    });
    res.end(html);
  }

  /**
   * The sign-in page's policy: its form goes to this server only. Its answer is a page of this
   * server's own that goes on to the proxy's callback (see {@link approve}), so the proxy's
   * redirect to the MCP client's callback is not part of the form's navigation, which
   * Chromium would hold to form-action too.
   */
  #csp(): string {
    return "default-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
  }

  approve(form: URLSearchParams, res: ServerResponse): void {
    const signed = this.#verify(form.get('request') ?? '');
    if (signed === undefined || signed.expiresAt <= this.#now() || this.#used.has(signed.id)) {
      throw new OAuthError(
        'invalid_request',
        'The sign-in page expired or was already used; start again',
      );
    }
    this.#used.put(signed.id, true);
    const { id: _id, expiresAt: _expiresAt, ...request } = signed;
    const sub = form.get('sub') ?? '';
    if (!SUB.test(sub)) {
      throw new OAuthError('invalid_request', 'The user name may hold letters, digits and . _ @ -');
    }
    // A user the `users` CLI disabled: RFC 6749 4.1.2.1, the client hears it at its callback.
    const refusal = this.#options.users?.refusal(sub);
    const location = new URL(request.redirectUri);
    if (refusal === undefined) {
      const picked = form.getAll('groups').filter((group) => this.#groups.includes(group));
      const groups = this.#options.users?.groupsFor(sub, picked) ?? picked;
      const code = randomBytes(32).toString('base64url');
      this.#codes.put(code, { ...request, sub, groups });
      location.searchParams.set('code', code);
    } else {
      location.searchParams.set('error', 'access_denied');
      location.searchParams.set('error_description', refusal);
    }
    if (request.state !== undefined) location.searchParams.set('state', request.state);
    continuePage(res, location);
  }

  token(form: URLSearchParams): TokenAnswer {
    if (form.get('client_id') !== this.#clientId) {
      throw new OAuthError('invalid_client', 'Unknown client_id', 401);
    }
    const grant = form.get('grant_type');
    if (grant === 'refresh_token') return this.#refresh(form);
    if (grant !== 'authorization_code') {
      throw new OAuthError('unsupported_grant_type', 'Only authorization_code and refresh_token');
    }
    // Single use: a code is gone after its first presentation, right or wrong.
    const code = this.#codes.take(form.get('code') ?? '');
    if (code === undefined) {
      throw new OAuthError('invalid_grant', 'Unknown, expired or already used code');
    }
    if (form.get('redirect_uri') !== code.redirectUri) {
      throw new OAuthError(
        'invalid_grant',
        'redirect_uri does not match the authorization request',
      );
    }
    if (!verifierMatches(form.get('code_verifier') ?? '', code.codeChallenge)) {
      throw new OAuthError('invalid_grant', 'code_verifier does not match the code_challenge');
    }
    const signedInAt = this.#now();
    const session = {
      sub: code.sub,
      groups: code.groups,
      scopes: code.scopes,
      authTime: Math.floor(signedInAt / 1000),
      signedInAt,
    };
    const refreshToken = randomBytes(32).toString('base64url');
    this.#refreshTokens.put(refreshToken, session);
    return { ...this.#accessToken(session), refresh_token: refreshToken };
  }

  /**
   * Cognito's refresh: a new access token for the same session (its `auth_time` kept, its
   * groups read again) and, with rotation, a new refresh token; the old one is gone. A user
   * the `users` CLI disabled cannot refresh, nor can a session begun before the user's last
   * sign-out or disable (the token is dropped: it never works again), as in Cognito.
   */
  #refresh(form: URLSearchParams): TokenAnswer {
    const token = form.get('refresh_token') ?? '';
    const stored = this.#refreshTokens.take(token);
    if (stored === undefined)
      throw new OAuthError('invalid_grant', 'Unknown or expired refresh token');
    if (this.#options.users?.sessionEnded(stored.sub, stored.signedInAt) === true) {
      throw new OAuthError('invalid_grant', 'The session was ended by a sign-out');
    }
    if (this.#options.users?.refusal(stored.sub) !== undefined) {
      throw new OAuthError('invalid_grant', 'The user may not sign in');
    }
    const session = {
      ...stored,
      groups: this.#options.users?.groupsFor(stored.sub, stored.groups) ?? stored.groups,
    };
    const next = randomBytes(32).toString('base64url');
    this.#refreshTokens.put(next, session);
    return { ...this.#accessToken(session), refresh_token: next };
  }

  #accessToken(session: Session): TokenAnswer {
    return {
      access_token: mintAccessToken(this.#options.signingKey, {
        sub: session.sub,
        groups: session.groups,
        scopes: session.scopes,
        expiresIn: ACCESS_TOKEN_SECONDS,
        now: new Date(this.#now()),
        claims: { auth_time: session.authTime },
      }),
      token_type: 'Bearer',
      expires_in: ACCESS_TOKEN_SECONDS,
      scope: session.scopes.join(' '),
    };
  }

  /** `<payload>.<HMAC>`, both base64url: the form's copy of the request, tamper-evident. */
  #sign(request: SignedRequest): string {
    const payload = Buffer.from(JSON.stringify(request)).toString('base64url');
    return `${payload}.${this.#mac(payload).toString('base64url')}`;
  }

  /** The request a form carries, if this server signed it; undefined for anything else. */
  #verify(value: string): SignedRequest | undefined {
    const dot = value.indexOf('.');
    if (dot < 0) return undefined;
    const payload = value.slice(0, dot);
    const mac = Buffer.from(value.slice(dot + 1), 'base64url');
    const expected = this.#mac(payload);
    if (mac.byteLength !== expected.byteLength || !timingSafeEqual(mac, expected)) return undefined;
    return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as SignedRequest;
  }

  #mac(payload: string): Buffer {
    return createHmac('sha256', this.#formKey).update(payload).digest();
  }
}
