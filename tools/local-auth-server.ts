/**
 * An embedded OAuth 2.1 authorization server for local mode, loopback only: the metadata MCP
 * clients discover (RFC 9728, RFC 8414), registration (RFC 7591), authorization code with PKCE
 * (S256 only) behind a minimal page where a developer picks a user and groups, and a token
 * endpoint issuing the same Cognito-shaped access tokens the local verifier accepts.
 *
 * Registration is the registration Lambda's own decision (`answerRegistration`: the HTTP checks
 * and the validator) with a loopback-only policy: every client is answered with the one
 * pre-registered public client, and only loopback redirect URIs are accepted.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { answerRegistration } from '../lambda/registration/handler';
import {
  isLoopbackHost,
  MAX_REGISTRATION_BODY_BYTES,
  OAuthError,
  REGISTER_PATH,
  type RegistrationPolicy,
  redirectUriProblem,
} from '../lambda/shared/client-registration';
import {
  AUTHORIZATION_SERVER_METADATA_PATH,
  authorizationServerMetadata,
  PROTECTED_RESOURCE_METADATA_PATH,
  protectedResourceMetadata,
} from '../lambda/shared/oauth-metadata';
import { PERMISSIONS, ROLES } from '../lambda/shared/policy';
import { LOCAL_CLIENT_ID, LOCAL_SCOPE, mintAccessToken, type SigningKey } from './local-identity';

export const AUTHORIZE_PATH = '/oauth2/authorize';
export const TOKEN_PATH = '/oauth2/token';
export { OAuthError, REGISTER_PATH };

/** The scopes the local server issues: the audience scope and one per permission. */
const LOCAL_SCOPES = [LOCAL_SCOPE, ...PERMISSIONS.map((permission) => `mcp-server/${permission}`)];

/** How long an authorization code, and a pending login page, stay valid. */
const CODE_TTL_MS = 60_000;
const ACCESS_TOKEN_SECONDS = 3600;
const MAX_FORM_BYTES = 64 * 1024;

export interface LocalAuthServerOptions {
  /** The gateway's base URL, e.g. `http://127.0.0.1:3000`: the issuer. */
  readonly baseUrl: string;
  /** The MCP endpoint: the protected resource. */
  readonly resource: string;
  readonly signingKey: SigningKey;
  readonly now?: () => number;
}

interface PendingAuthorization {
  readonly redirectUri: string;
  readonly state: string | undefined;
  readonly codeChallenge: string;
  readonly scopes: string[];
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
const SUB = /^[A-Za-z0-9._@-]{1,64}$/;

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
  readonly #pending = new Map<string, PendingAuthorization>();
  readonly #codes = new Map<string, IssuedCode>();
  /** RFC 7591: every client gets the pre-registered public client, loopback redirects only. */
  readonly registrationPolicy: RegistrationPolicy;

  constructor(options: LocalAuthServerOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.registrationPolicy = {
      clientId: LOCAL_CLIENT_ID,
      allowRedirectUri: isLoopbackRedirect,
      supportedScopes: LOCAL_SCOPES,
      defaultScopes: [LOCAL_SCOPE],
      // No refresh tokens locally: a client asking for them is answered without.
      grantTypes: ['authorization_code'],
      now: this.#now,
    };
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
      }),
      grant_types_supported: ['authorization_code'],
    };
  }

  /** Handle the request if it is one of ours; false otherwise. */
  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    const method = req.method ?? 'GET';
    try {
      if (
        method === 'GET' &&
        (url.pathname === PROTECTED_RESOURCE_METADATA_PATH ||
          url.pathname === `${PROTECTED_RESOURCE_METADATA_PATH}/mcp`)
      ) {
        sendJson(res, 200, this.protectedResourceMetadata());
      } else if (method === 'GET' && url.pathname === AUTHORIZATION_SERVER_METADATA_PATH) {
        sendJson(res, 200, this.authorizationServerMetadata());
      } else if (method === 'POST' && url.pathname === REGISTER_PATH) {
        const body = await readCapped(req, MAX_REGISTRATION_BODY_BYTES);
        const { response } = answerRegistration(
          {
            httpMethod: method,
            headers: singleValueHeaders(req),
            multiValueHeaders: {},
            body: body.toString('base64'),
            isBase64Encoded: true,
          },
          this.registrationPolicy,
        );
        res.writeHead(response.statusCode, response.headers as Record<string, string>);
        res.end(response.body);
      } else if (method === 'GET' && url.pathname === AUTHORIZE_PATH) {
        this.authorizePage(url.searchParams, res);
      } else if (method === 'POST' && url.pathname === AUTHORIZE_PATH) {
        this.approve(await readForm(req), res);
      } else if (method === 'POST' && url.pathname === TOKEN_PATH) {
        sendJson(res, 200, this.token(await readForm(req)));
      } else {
        return false;
      }
    } catch (error) {
      if (!(error instanceof OAuthError)) throw error;
      sendJson(res, error.status, error.toBody());
    }
    return true;
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
      expiresAt: this.#now() + CODE_TTL_MS,
    };
  }

  authorizePage(params: URLSearchParams, res: ServerResponse): void {
    const request = this.#checkAuthorizationRequest(params, res);
    if (request === undefined) return;
    const requestId = randomBytes(16).toString('base64url');
    this.#pending.set(requestId, request);
    const roles = ROLES.map(
      (role) => `<label><input type="checkbox" name="groups" value="${role}"> ${role}</label>`,
    ).join('<br>');
    const html = `<!doctype html><meta charset="utf-8"><title>Local sign-in</title>
<h1>Secure MCP server: local sign-in</h1>
<p>Local mode only. Pick who you are; the token will carry these groups.</p>
<form method="post" action="${AUTHORIZE_PATH}">
<input type="hidden" name="request_id" value="${escapeHtml(requestId)}">
<p><label>User <input name="sub" value="alice" pattern="[A-Za-z0-9._@-]{1,64}" required></label></p>
<p>${roles}</p>
<p>Scope: ${escapeHtml(request.scopes.join(' '))}</p>
<button type="submit">Sign in</button>
</form>`;
    res.writeHead(200, {
      'Content-Type': 'text/html; charset=utf-8',
      'Cache-Control': 'no-store',
      'X-Frame-Options': 'DENY',
      'Content-Security-Policy': "default-src 'none'; form-action 'self'",
    });
    res.end(html);
  }

  approve(form: URLSearchParams, res: ServerResponse): void {
    const requestId = form.get('request_id') ?? '';
    const request = this.#pending.get(requestId);
    this.#pending.delete(requestId);
    if (request === undefined || request.expiresAt <= this.#now()) {
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
    this.#codes.set(code, { ...request, sub, groups, expiresAt: this.#now() + CODE_TTL_MS });
    const location = new URL(request.redirectUri);
    location.searchParams.set('code', code);
    if (request.state !== undefined) location.searchParams.set('state', request.state);
    location.searchParams.set('iss', this.#options.baseUrl);
    res.writeHead(302, { Location: location.toString(), 'Cache-Control': 'no-store' });
    res.end();
  }

  token(form: URLSearchParams) {
    if (form.get('grant_type') !== 'authorization_code') {
      throw new OAuthError('unsupported_grant_type', 'Only authorization_code is supported');
    }
    if (form.get('client_id') !== LOCAL_CLIENT_ID)
      throw new OAuthError('invalid_client', 'Unknown client_id', 401);
    const codeValue = form.get('code') ?? '';
    const code = this.#codes.get(codeValue);
    // Single use: a code is gone after its first presentation, right or wrong.
    this.#codes.delete(codeValue);
    if (code === undefined) throw new OAuthError('invalid_grant', 'Unknown or already used code');
    if (code.expiresAt <= this.#now())
      throw new OAuthError('invalid_grant', 'The code has expired');
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
