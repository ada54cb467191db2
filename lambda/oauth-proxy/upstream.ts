/**
 * The upstream authorization server (Cognito's hosted login in AWS, the local sign-in page in
 * local mode), as this server's own client of it: the sign-in URL a browser is sent to (the
 * proxy's client id, a fixed callback, fresh PKCE) and the token endpoint (a code redeemed, a
 * refresh), bounded in time. The consent flow (`proxy.ts`) and the approval page
 * (`approval-page.ts`) each have one, with their own callback.
 */
import { s256 } from './pkce';
import type { FetchLike } from './ports';

export interface UpstreamConfig {
  readonly authorizeUrl: string;
  readonly tokenUrl: string;
  /** The proxy's own client id at the upstream. */
  readonly clientId: string;
  /** @default 5000 */
  readonly timeoutMs?: number;
}

/** The token endpoint's answer, as far as it is passed on (RFC 6749 section 5.1 names). */
export interface UpstreamTokens {
  readonly access_token: string;
  readonly expires_in?: number;
  readonly refresh_token?: string;
  readonly scope?: string;
}

/** What a token request came to. */
export type UpstreamAnswer =
  | { readonly kind: 'tokens'; readonly tokens: UpstreamTokens }
  /** The upstream refused the grant (400 or 401): expired, used, signed out. */
  | { readonly kind: 'refused' }
  /** It answered, but not with tokens: another status, no JSON, no bearer access token. */
  | { readonly kind: 'failed' }
  /** No answer: the connection failed or the time ran out. */
  | { readonly kind: 'unreachable' };

export interface SignInRequest {
  readonly scopes: readonly string[];
  /** The sealed state the callback gets back. */
  readonly state: string;
  /** The PKCE verifier the code will be redeemed with (the URL carries its S256 challenge). */
  readonly verifier: string;
  /** OIDC `prompt`: `login` makes the person sign in afresh. @default none */
  readonly prompt?: 'login';
}

const isString = (v: unknown): v is string => typeof v === 'string';

function parseTokens(body: unknown): UpstreamTokens | undefined {
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

export class Upstream {
  readonly #config: UpstreamConfig;
  readonly #callbackUrl: string;
  readonly #fetch: FetchLike;
  /** The upstream's origin, which a form's answer may be redirected to. */
  readonly origin: string;

  /**
   * @param callbackUrl where the upstream returns the browser (registered with the upstream)
   * @param fetch calls the token endpoint. @default globalThis.fetch
   */
  constructor(config: UpstreamConfig, callbackUrl: string, fetch?: FetchLike) {
    this.#config = config;
    this.#callbackUrl = callbackUrl;
    this.#fetch = fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.origin = new URL(config.authorizeUrl).origin;
  }

  /** The URL that sends a browser to sign in upstream. */
  signInUrl(request: SignInRequest): string {
    const url = new URL(this.#config.authorizeUrl);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('client_id', this.#config.clientId);
    url.searchParams.set('redirect_uri', this.#callbackUrl);
    url.searchParams.set('scope', request.scopes.join(' '));
    url.searchParams.set('state', request.state);
    url.searchParams.set('code_challenge', s256(request.verifier));
    url.searchParams.set('code_challenge_method', 'S256');
    if (request.prompt !== undefined) url.searchParams.set('prompt', request.prompt);
    return url.href;
  }

  /** Redeem the upstream's code with the verifier its sign-in was started with. */
  redeemCode(code: string, verifier: string): Promise<UpstreamAnswer> {
    return this.#tokenRequest({
      grant_type: 'authorization_code',
      client_id: this.#config.clientId,
      code,
      redirect_uri: this.#callbackUrl,
      code_verifier: verifier,
    });
  }

  /** Refresh with the upstream's refresh token. */
  refresh(refreshToken: string): Promise<UpstreamAnswer> {
    return this.#tokenRequest({
      grant_type: 'refresh_token',
      client_id: this.#config.clientId,
      refresh_token: refreshToken,
    });
  }

  /** One request to the token endpoint, bounded in time. */
  async #tokenRequest(form: Record<string, string>): Promise<UpstreamAnswer> {
    let response: Response;
    try {
      response = await this.#fetch(this.#config.tokenUrl, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/x-www-form-urlencoded',
          Accept: 'application/json',
        },
        body: new URLSearchParams(form).toString(),
        redirect: 'error',
        signal: AbortSignal.timeout(this.#config.timeoutMs ?? 5000),
      });
    } catch {
      return { kind: 'unreachable' };
    }
    let body: unknown;
    try {
      body = await response.json();
    } catch {
      return { kind: 'failed' };
    }
    if (response.status === 400 || response.status === 401) return { kind: 'refused' };
    if (!response.ok) return { kind: 'failed' };
    const tokens = parseTokens(body);
    return tokens === undefined ? { kind: 'failed' } : { kind: 'tokens', tokens };
  }
}

/**
 * The claims of an upstream access token: read, not verified. It came from the upstream's
 * token endpoint over TLS, in answer to this server's own request (OpenID Connect Core 1.0
 * section 3.1.3.7: TLS server validation may stand in for the signature of a token received
 * directly from the token endpoint), and says whom the tokens are for, nothing more.
 */
export function accessTokenClaims(accessToken: string): Record<string, unknown> | undefined {
  const payload = accessToken.split('.')[1];
  if (payload === undefined) return undefined;
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  return typeof claims === 'object' && claims !== null
    ? (claims as Record<string, unknown>)
    : undefined;
}
