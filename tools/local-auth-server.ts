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
import { createHash, randomBytes, randomUUID } from 'node:crypto';
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
import { PERMISSIONS, ROLES } from '../lambda/shared/policy';
import { ExpiringStore } from './expiring-store';
import { LOCAL_CLIENT_ID, LOCAL_SCOPE, mintAccessToken, type SigningKey } from './local-identity';

export const AUTHORIZE_PATH = '/oauth2/authorize';
export const TOKEN_PATH = '/oauth2/token';
export { OAuthError, REGISTER_PATH };

/** The scopes the local server issues: the audience scope and one per permission. */
const LOCAL_SCOPES = [LOCAL_SCOPE, ...PERMISSIONS.map((permission) => `mcp-server/${permission}`)];

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
  /** The gateway's base URL, e.g. `http://127.0.0.1:3000`: the issuer. */
  readonly baseUrl: string;
  /** The MCP endpoint: the protected resource. */
  readonly resource: string;
  readonly signingKey: SigningKey;
  /**
   * The origins of this server's own pages: the sign-in form is accepted only from them (or
   * from a client that sends no `Origin`). Default: the origin of `baseUrl`.
   */
  readonly ownOrigins?: readonly string[];
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

interface PendingAuthorization {
  readonly redirectUri: string;
  readonly state: string | undefined;
  readonly codeChallenge: string;
  readonly scopes: string[];
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
async function readCapped(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
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
  readonly #pending: ExpiringStore<PendingAuthorization>;
  readonly #codes: ExpiringStore<IssuedCode>;
  readonly #register: RegistrationHandler;
  /** RFC 7591: every client gets the pre-registered public client, loopback redirects only. */
  readonly registrationPolicy: RegistrationPolicy;

  constructor(options: LocalAuthServerOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#ownOrigins = options.ownOrigins ?? [new URL(options.baseUrl).origin];
    const store = { ttlMs: CODE_TTL_MS, maxEntries: MAX_PENDING, now: this.#now };
    this.#pending = new ExpiringStore(store);
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

  /** Sign-ins waiting for the person, and codes waiting for the client: live entries. */
  get pendingCounts(): { signIns: number; codes: number } {
    return { signIns: this.#pending.size, codes: this.#codes.size };
  }

  /** RFC 9728 protected-resource metadata. */
  protectedResourceMetadata() {
    return protectedResourceMetadata({
      resource: this.#options.resource,
      authorizationServers: [this.#options.baseUrl],
      scopes: [LOCAL_SCOPE],
      resourceName: 'Secure MCP server (local)',
    });
  }

  /** RFC 8414 authorization-server metadata (no refresh tokens locally). */
  authorizationServerMetadata() {
    const base = this.#options.baseUrl;
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
        sendJson(res, 200, this.authorizationServerMetadata(), PUBLIC_CORS_HEADERS);
      } else if (method === 'GET' && PUBLIC_GET_PATHS.includes(path)) {
        sendJson(res, 200, this.protectedResourceMetadata(), PUBLIC_CORS_HEADERS);
      } else if (method === 'POST' && path === REGISTER_PATH) {
        await this.#registration(req, res, requestId);
      } else if (method === 'POST' && path === TOKEN_PATH) {
        sendJson(res, 200, this.token(await readForm(req)), PUBLIC_CORS_HEADERS);
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
      return this.#checkAuthorizationParams(params, redirectUri);
    } catch (error) {
      if (!(error instanceof OAuthError)) throw error;
      const location = new URL(redirectUri);
      location.searchParams.set('error', error.error);
      location.searchParams.set('error_description', error.description);
      const state = params.get('state');
      if (state !== null) location.searchParams.set('state', state);
      location.searchParams.set('iss', this.#options.baseUrl);
      res.writeHead(302, { Location: location.toString(), 'Cache-Control': 'no-store' });
      res.end();
      return undefined;
    }
  }

  #checkAuthorizationParams(params: URLSearchParams, redirectUri: string): PendingAuthorization {
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
    if (resource !== null && resource !== this.#options.resource) {
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

  authorizePage(params: URLSearchParams, res: ServerResponse): void {
    const request = this.#checkAuthorizationRequest(params, res);
    if (request === undefined) return;
    const requestId = randomBytes(16).toString('base64url');
    this.#pending.put(requestId, request);
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
<input type="hidden" name="request_id" value="${escapeHtml(requestId)}">
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

  approve(form: URLSearchParams, res: ServerResponse): void {
    const request = this.#pending.take(form.get('request_id') ?? '');
    if (request === undefined) {
      throw new OAuthError(
        'invalid_request',
        'The sign-in page expired or was already used; start again',
      );
    }
    const sub = form.get('sub') ?? '';
    if (!SUB.test(sub))
      throw new OAuthError('invalid_request', 'The user name may hold letters, digits and . _ @ -');
    const groups = form.getAll('groups').filter((group) => (ROLES as string[]).includes(group));
    const code = randomBytes(32).toString('base64url');
    this.#codes.put(code, { ...request, sub, groups });
    const location = new URL(request.redirectUri);
    location.searchParams.set('code', code);
    if (request.state !== undefined) location.searchParams.set('state', request.state);
    location.searchParams.set('iss', this.#options.baseUrl);
    if (cspSource(location.origin) === undefined) {
      continuePage(res, location);
      return;
    }
    // 303: the browser follows with a GET, whatever the form's method was.
    res.writeHead(303, { Location: location.toString(), 'Cache-Control': 'no-store' });
    res.end();
  }

  token(form: URLSearchParams) {
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
    if (resource !== null && resource !== this.#options.resource) {
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
}
