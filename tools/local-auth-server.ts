/**
 * An embedded OAuth 2.1 authorization server for local mode, loopback only: the metadata MCP
 * clients discover (RFC 9728, RFC 8414), registration (RFC 7591), authorization code with PKCE
 * (S256 only) behind a minimal page where a developer picks a user and groups, and a token
 * endpoint issuing the same Cognito-shaped access tokens the local verifier accepts.
 *
 * Registration is the registration Lambda's own handler (the HTTP checks, the validator and its
 * `oauth.client_registration` audit record) with a loopback-only policy: every client is
 * answered with the one pre-registered public client, and only loopback redirect URIs are
 * accepted.
 *
 * What a browser needs, and no more: the discovery documents, registration and the token
 * endpoint answer CORS preflights from any origin (they are public and carry no ambient
 * credential), the sign-in page does not (it is only ever navigated to); the page's CSP lets
 * its form go to this server and to the one callback origin it was validated for, nothing else.
 */
import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import {
  createRegistrationHandler,
  type RegistrationHandler,
} from '../lambda/registration/handler';
import {
  isLoopbackHost,
  MAX_REGISTRATION_BODY_BYTES,
  OAuthError,
  REGISTER_PATH,
  type RegistrationPolicy,
  redirectUriProblem,
} from '../lambda/shared/client-registration';
import { PUBLIC_CORS_HEADERS, publicPreflightHeaders } from '../lambda/shared/cors';
import { createLogger } from '../lambda/shared/logger';
import {
  AUTHORIZATION_SERVER_METADATA_PATH,
  authorizationServerMetadata,
  PROTECTED_RESOURCE_METADATA_PATH,
  protectedResourceMetadata,
} from '../lambda/shared/oauth-metadata';
import { POLICY } from '../modules/policy';
import { ROLES } from '../modules/roles';
import { ExpiringStore } from './expiring-store';
import {
  LOCAL_CLIENT_ID,
  LOCAL_SCOPE,
  localPermissionScopes,
  mintAccessToken,
  type SigningKey,
} from './local-identity';
import type { LocalSignInPolicy } from './local-users';

export const AUTHORIZE_PATH = '/oauth2/authorize';
export const TOKEN_PATH = '/oauth2/token';
export { OAuthError, REGISTER_PATH };

/** The scopes the local server issues: the audience scope and one per permission. */
const LOCAL_SCOPES = [LOCAL_SCOPE, ...localPermissionScopes(Object.keys(POLICY.permissions))];

/** How long an authorization code, and a pending login page, stay valid. */
const CODE_TTL_MS = 60_000;
/**
 * Pending sign-ins and unredeemed codes kept at most: far more than a developer has open, and
 * a bound on what unauthenticated `GET /oauth2/authorize` requests can make this process hold.
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
  /**
   * The gateway's base URL, e.g. `http://127.0.0.1:3000`: the issuer, unless a request names
   * the server by another of its own origins (then that one, so a client that was given
   * `http://localhost:3000/mcp` finds documents that name that URL).
   */
  readonly baseUrl: string;
  /** The MCP endpoint under `baseUrl`: the protected resource. */
  readonly resource: string;
  readonly signingKey: SigningKey;
  /**
   * The origins this server answers as: the sign-in form is accepted only from them (or from
   * a client that sends no `Origin`). Default: the origin of `baseUrl`.
   */
  readonly ownOrigins?: readonly string[];
  /**
   * Who may sign in and with which groups (`.local/users.json`, kept by the `users` CLI).
   * Default: anyone, with the groups picked on the page.
   */
  readonly users?: LocalSignInPolicy;
  /** Where registration audit records go. Default: a logger for `mcp-client-registration`. */
  readonly registrationLogger?: Logger;
  readonly now?: () => number;
}

/** The routes this server answers, and what each lets a browser do. */
const PUBLIC_GET_PATHS: readonly string[] = [
  PROTECTED_RESOURCE_METADATA_PATH,
  `${PROTECTED_RESOURCE_METADATA_PATH}/mcp`,
  AUTHORIZATION_SERVER_METADATA_PATH,
];
const PUBLIC_POST_PATHS: readonly string[] = [REGISTER_PATH, TOKEN_PATH];

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

/**
 * Loopback redirect URIs only: the local server must never send a code off the machine. The
 * same form rules as registration (`redirectUriProblem`), then a loopback host.
 */
export function isLoopbackRedirect(value: string): boolean {
  return redirectUriProblem(value) === undefined && isLoopbackHost(new URL(value).hostname);
}

/** RFC 7636: BASE64URL(SHA256(verifier)). */
export function s256(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;
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
 * An origin as a CSP source expression, or undefined where CSP has none: its grammar has no
 * IPv6 literals, so Chromium drops `http://[::1]:8080` from a policy (and then blocks).
 */
export function cspSource(origin: string): string | undefined {
  return new URL(origin).hostname.startsWith('[') ? undefined : origin;
}

/**
 * The answer to the sign-in form when its callback cannot be named in the page's form-action
 * (an IPv6 loopback callback): a page of this server's own that goes on to the callback itself.
 * A meta refresh is a navigation of the new page, not of the form, so form-action stays 'self'.
 */
function continuePage(res: ServerResponse, location: URL): void {
  const href = escapeHtml(location.toString());
  const html = `<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" content="0; url=${href}">
<title>Signed in</title><p>Signed in. Continuing to <a href="${href}">${escapeHtml(location.origin)}</a>…</p>`;
  res.writeHead(200, {
    'Content-Type': 'text/html; charset=utf-8',
    'Cache-Control': 'no-store',
    'X-Frame-Options': 'DENY',
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Content-Security-Policy':
      "default-src 'none'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'",
  });
  res.end(html);
}

/** A page-facing answer: plain text, for a person in a browser. */
function sendText(
  res: ServerResponse,
  status: number,
  text: string,
  headers: Record<string, string> = {},
) {
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Cache-Control': 'no-store',
    'Content-Length': Buffer.byteLength(text),
    'X-Content-Type-Options': 'nosniff',
    ...headers,
  });
  res.end(text);
}

/** Node's request headers as API Gateway hands them to the Lambda: single string values. */
function singleValueHeaders(req: IncomingMessage): Record<string, string> {
  return Object.fromEntries(
    Object.entries(req.headers).flatMap(([name, value]) =>
      typeof value === 'string' ? [[name, value]] : [],
    ),
  );
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
  readonly #resourcePath: string;
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
  readonly #register: RegistrationHandler;
  /** RFC 7591: every client gets the pre-registered public client, loopback redirects only. */
  readonly registrationPolicy: RegistrationPolicy;

  constructor(options: LocalAuthServerOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#ownOrigins = options.ownOrigins ?? [new URL(options.baseUrl).origin];
    this.#resourcePath = new URL(options.resource).pathname;
    const store = { ttlMs: CODE_TTL_MS, maxEntries: MAX_PENDING, now: this.#now };
    this.#used = new ExpiringStore(store);
    this.#codes = new ExpiringStore(store);
    this.registrationPolicy = {
      clientId: LOCAL_CLIENT_ID,
      allowRedirectUri: isLoopbackRedirect,
      supportedScopes: LOCAL_SCOPES,
      defaultScopes: [LOCAL_SCOPE],
      // No refresh tokens locally: a client asking for them is answered without.
      grantTypes: ['authorization_code'],
      now: this.#now,
    };
    this.#register = createRegistrationHandler({
      policy: this.registrationPolicy,
      logger: options.registrationLogger ?? createLogger('mcp-client-registration'),
    });
  }

  /** What this process holds: answered sign-ins and codes waiting for the client. */
  get pendingCounts(): { answeredSignIns: number; codes: number } {
    return { answeredSignIns: this.#used.size, codes: this.#codes.size };
  }

  /**
   * The base URL a request names this server by: the origin of its `Host` when that is one of
   * this server's own (the gateway refuses every other Host), else `baseUrl`.
   */
  baseFor(host: string | undefined): string {
    if (host === undefined) return this.#options.baseUrl;
    let origin: string;
    try {
      origin = new URL(`http://${host}`).origin;
    } catch {
      return this.#options.baseUrl;
    }
    return this.#ownOrigins.includes(origin) ? origin : this.#options.baseUrl;
  }

  #resourceFor(base: string): string {
    return `${base}${this.#resourcePath}`;
  }

  /** RFC 9728 protected-resource metadata. */
  protectedResourceMetadata(base = this.#options.baseUrl) {
    return protectedResourceMetadata({
      resource: this.#resourceFor(base),
      authorizationServers: [base],
      scopes: [LOCAL_SCOPE],
      resourceName: 'Secure MCP server (local)',
    });
  }

  /** RFC 8414 authorization-server metadata (no refresh tokens locally). */
  authorizationServerMetadata(base = this.#options.baseUrl) {
    return {
      ...authorizationServerMetadata({
        issuer: base,
        authorizationEndpoint: `${base}${AUTHORIZE_PATH}`,
        tokenEndpoint: `${base}${TOKEN_PATH}`,
        registrationEndpoint: `${base}${REGISTER_PATH}`,
        scopes: LOCAL_SCOPES,
        // Every authorization response here, error redirects included, carries iss.
        issInAuthorizationResponse: true,
      }),
      grant_types_supported: ['authorization_code'],
    };
  }

  /**
   * Handle the request if it is one of ours; false otherwise.
   * @param requestId the gateway's id for this request, for the audit record
   */
  async handle(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    requestId: string = randomUUID(),
  ): Promise<boolean> {
    const method = req.method ?? 'GET';
    const path = url.pathname;
    const base = this.baseFor(req.headers.host);
    const isPublic = PUBLIC_GET_PATHS.includes(path) || PUBLIC_POST_PATHS.includes(path);
    if (method === 'OPTIONS' && isPublic) {
      // A CORS preflight (or a plain OPTIONS): which methods and headers a page may use.
      res.writeHead(
        204,
        publicPreflightHeaders(PUBLIC_GET_PATHS.includes(path) ? ['GET'] : ['POST']),
      );
      res.end();
      return true;
    }
    try {
      if (method === 'GET' && path === AUTHORIZATION_SERVER_METADATA_PATH) {
        sendJson(res, 200, this.authorizationServerMetadata(base), PUBLIC_CORS_HEADERS);
      } else if (method === 'GET' && PUBLIC_GET_PATHS.includes(path)) {
        sendJson(res, 200, this.protectedResourceMetadata(base), PUBLIC_CORS_HEADERS);
      } else if (method === 'POST' && path === REGISTER_PATH) {
        await this.#registration(req, res, requestId);
      } else if (method === 'POST' && path === TOKEN_PATH) {
        sendJson(res, 200, this.token(await readForm(req), base), PUBLIC_CORS_HEADERS);
      } else if (method === 'GET' && path === AUTHORIZE_PATH) {
        this.authorizePage(url.searchParams, res, base);
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
        this.approve(await readForm(req), res, base);
      } else {
        return false;
      }
    } catch (error) {
      if (!(error instanceof OAuthError)) throw error;
      if (path === AUTHORIZE_PATH) {
        // A person is looking at this: words, not JSON.
        sendText(res, error.status, `Sign-in refused (${error.error}): ${error.description}`);
      } else {
        sendJson(res, error.status, error.toBody(), isPublic ? PUBLIC_CORS_HEADERS : {});
      }
    }
    return true;
  }

  /** RFC 7591 through the registration Lambda's handler: its checks, answer and audit record. */
  async #registration(req: IncomingMessage, res: ServerResponse, requestId: string) {
    // Before the body: reading stops at the cap, and the socket is let go with the rest.
    const sourceIp = req.socket.remoteAddress ?? 'unknown';
    const body = await readCapped(req, MAX_REGISTRATION_BODY_BYTES);
    const event = {
      httpMethod: 'POST',
      path: REGISTER_PATH,
      resource: REGISTER_PATH,
      headers: singleValueHeaders(req),
      multiValueHeaders: {},
      body: body.toString('base64'),
      isBase64Encoded: true,
      requestContext: { requestId, identity: { sourceIp } },
    } as unknown as APIGatewayProxyEvent;
    const response = await this.#register(event);
    res.writeHead(response.statusCode, response.headers as Record<string, string>);
    res.end(response.body);
  }

  /**
   * Validate an authorization request. A bad client or redirect URI is answered here (never
   * redirect to an unverified URI); every other error goes back to the client's redirect URI,
   * as RFC 6749 section 4.1.2.1 requires (and `undefined` is returned).
   */
  #checkAuthorizationRequest(
    params: URLSearchParams,
    res: ServerResponse,
    base: string,
  ): PendingAuthorization | undefined {
    const clientId = params.get('client_id');
    const redirectUri = params.get('redirect_uri') ?? '';
    if (clientId !== LOCAL_CLIENT_ID) {
      throw new OAuthError('invalid_client', 'Unknown client_id', 401);
    }
    if (!isLoopbackRedirect(redirectUri)) {
      throw new OAuthError('invalid_request', 'redirect_uri must be a loopback URL');
    }
    try {
      return this.#checkAuthorizationParams(params, redirectUri, base);
    } catch (error) {
      if (!(error instanceof OAuthError)) throw error;
      const location = new URL(redirectUri);
      location.searchParams.set('error', error.error);
      location.searchParams.set('error_description', error.description);
      const state = params.get('state');
      if (state !== null) location.searchParams.set('state', state);
      location.searchParams.set('iss', base);
      res.writeHead(302, { Location: location.toString(), 'Cache-Control': 'no-store' });
      res.end();
      return undefined;
    }
  }

  #checkAuthorizationParams(
    params: URLSearchParams,
    redirectUri: string,
    base: string,
  ): PendingAuthorization {
    if (params.get('response_type') !== 'code')
      throw new OAuthError('unsupported_response_type', 'response_type must be code');
    const challenge = params.get('code_challenge') ?? '';
    if (params.get('code_challenge_method') !== 'S256' || !CHALLENGE.test(challenge)) {
      throw new OAuthError(
        'invalid_request',
        'PKCE is required: code_challenge with code_challenge_method S256',
      );
    }
    const resource = params.get('resource');
    if (resource !== null && resource !== this.#resourceFor(base)) {
      throw new OAuthError('invalid_target', 'resource is not this MCP server');
    }
    const scopes = (params.get('scope') ?? LOCAL_SCOPE).split(' ').filter((s) => s !== '');
    const unknown = scopes.filter((scope) => !LOCAL_SCOPES.includes(scope));
    if (unknown.length > 0)
      throw new OAuthError('invalid_scope', `Unknown scope: ${unknown.join(' ')}`);
    return {
      redirectUri,
      state: params.get('state') ?? undefined,
      codeChallenge: challenge,
      scopes,
    };
  }

  authorizePage(params: URLSearchParams, res: ServerResponse, base = this.#options.baseUrl): void {
    const request = this.#checkAuthorizationRequest(params, res, base);
    if (request === undefined) return;
    const signed = this.#sign({
      ...request,
      id: randomBytes(16).toString('base64url'),
      expiresAt: this.#now() + CODE_TTL_MS,
    });
    // The one place the form's answer may send the browser: a loopback origin, validated above.
    const callbackOrigin = new URL(request.redirectUri).origin;
    const callbackSource = cspSource(callbackOrigin);
    const roles = ROLES.map(
      (role) => `<label><input type="checkbox" name="groups" value="${role}"> ${role}</label>`,
    ).join('<br>');
    const html = `<!doctype html><meta charset="utf-8"><title>Local sign-in</title>
<h1>Secure MCP server: local sign-in</h1>
<p>Local mode only. Pick who you are; the token will carry these groups.</p>
<form method="post" action="${AUTHORIZE_PATH}">
<input type="hidden" name="request" value="${escapeHtml(signed)}">
<p><label>User <input name="sub" value="alice" pattern="${escapeHtml(SUB_PATTERN)}" required></label></p>
<p>${roles}</p>
<p>Scope: ${escapeHtml(request.scopes.join(' '))}</p>
<p>Signing in sends you back to <strong>${escapeHtml(callbackOrigin)}</strong>.</p>
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
      // A browser applies form-action to the redirect that answers the form too: allow exactly
      // this server and the validated callback origin, no script, no framing.
      'Content-Security-Policy': `default-src 'none'; form-action 'self'${callbackSource === undefined ? '' : ` ${callbackSource}`}; frame-ancestors 'none'; base-uri 'none'`,
    });
    res.end(html);
  }

  approve(form: URLSearchParams, res: ServerResponse, base = this.#options.baseUrl): void {
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
    if (!SUB.test(sub))
      throw new OAuthError('invalid_request', 'The user name may hold letters, digits and . _ @ -');
    // A user the `users` CLI disabled: RFC 6749 4.1.2.1, the client hears it at its callback.
    const refusal = this.#options.users?.refusal(sub);
    const location = new URL(request.redirectUri);
    if (refusal === undefined) {
      const picked = form.getAll('groups').filter((group) => (ROLES as string[]).includes(group));
      const groups = this.#options.users?.groupsFor(sub, picked) ?? picked;
      const code = randomBytes(32).toString('base64url');
      this.#codes.put(code, { ...request, sub, groups });
      location.searchParams.set('code', code);
    } else {
      location.searchParams.set('error', 'access_denied');
      location.searchParams.set('error_description', refusal);
    }
    if (request.state !== undefined) location.searchParams.set('state', request.state);
    location.searchParams.set('iss', base);
    if (cspSource(location.origin) === undefined) {
      continuePage(res, location);
      return;
    }
    // 303: the browser follows with a GET, whatever the form's method was.
    res.writeHead(303, { Location: location.toString(), 'Cache-Control': 'no-store' });
    res.end();
  }

  token(form: URLSearchParams, base = this.#options.baseUrl) {
    if (form.get('grant_type') !== 'authorization_code') {
      throw new OAuthError('unsupported_grant_type', 'Only authorization_code is supported');
    }
    if (form.get('client_id') !== LOCAL_CLIENT_ID)
      throw new OAuthError('invalid_client', 'Unknown client_id', 401);
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
    const verifier = form.get('code_verifier') ?? '';
    if (!VERIFIER.test(verifier) || s256(verifier) !== code.codeChallenge) {
      throw new OAuthError('invalid_grant', 'code_verifier does not match the code_challenge');
    }
    const resource = form.get('resource');
    if (resource !== null && resource !== this.#resourceFor(base)) {
      throw new OAuthError('invalid_target', 'resource is not this MCP server');
    }
    const accessToken = mintAccessToken(this.#options.signingKey, {
      sub: code.sub,
      groups: code.groups,
      scopes: code.scopes,
      expiresIn: ACCESS_TOKEN_SECONDS,
      now: new Date(this.#now()),
    });
    return {
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: ACCESS_TOKEN_SECONDS,
      scope: code.scopes.join(' '),
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
