/**
 * What every endpoint of the OAuth proxy works with: the configuration and the ports a
 * deployment (`index.ts`), local mode or a test injects, the clock, the upstream, and the
 * pieces several endpoints answer with (cookies, redirects to the client, form bodies).
 */
import type { IssuedTimes } from '../shared/revocations';
import { OAUTH_PATHS } from '../shared/routes';
import type { ClientDirectory } from './clients';
import {
  continuePage,
  cookieNames,
  cspSource,
  MAX_FORM_BYTES,
  type ProxyRequest,
  type ProxyResponse,
  redirect,
  setCookie,
  uniqueParams,
} from './http';
import type { CodeStore, FetchLike, Sealer } from './ports';
import type { RefreshFamilyStore } from './refresh-families';
import { StepError } from './step';
import { Upstream, type UpstreamConfig } from './upstream';

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

/** A form-shaped refusal in the endpoint's own style (an error page, or token JSON). */
export type Refuse = (error: string, description: string, status?: number) => ProxyResponse;

export class ProxyContext {
  readonly config: OAuthProxyConfig;
  readonly clients: ClientDirectory;
  readonly sealer: Sealer;
  readonly codes: CodeStore;
  readonly families: RefreshFamilyStore;
  readonly sessions: SessionCheck | undefined;
  readonly upstream: Upstream;
  readonly now: () => number;
  /** This server's origin: the only one its consent form may be answered from. */
  readonly origin: string;
  /** The proxy's fixed callback at the upstream. */
  readonly callbackUrl: string;
  readonly cookieNames: ReturnType<typeof cookieNames>;
  readonly #secureCookies: boolean;

  constructor(deps: OAuthProxyDeps) {
    this.config = deps.config;
    this.clients = deps.clients;
    this.sealer = deps.sealer;
    this.codes = deps.codes;
    this.families = deps.families;
    this.sessions = deps.sessions;
    this.now = deps.now ?? Date.now;
    this.origin = new URL(deps.config.issuer).origin;
    this.callbackUrl = `${deps.config.issuer}${OAUTH_PATHS.callback}`;
    this.upstream = new Upstream(deps.config.upstream, this.callbackUrl, deps.fetch);
    this.#secureCookies = this.origin.startsWith('https://');
    this.cookieNames = cookieNames(this.origin);
  }

  /** Seconds since the epoch: what expiries are counted in. */
  seconds(): number {
    return Math.floor(this.now() / 1000);
  }

  cookie(name: string, value: string, maxAgeSeconds: number): string {
    return setCookie(name, value, maxAgeSeconds, this.#secureCookies);
  }

  /** An answer sent to the client's (validated) redirect URI, with `iss` (RFC 9207). */
  clientRedirect(
    redirectUri: string,
    params: Record<string, string>,
    state: string | undefined,
    status: 302 | 303 = 302,
    cookies: readonly string[] = [],
  ): ProxyResponse {
    const location = new URL(redirectUri);
    for (const [name, value] of Object.entries(params)) location.searchParams.set(name, value);
    if (state !== undefined) location.searchParams.set('state', state);
    location.searchParams.set('iss', this.config.issuer);
    // A form's answer is held to the page's form-action, redirects included; an IPv6 loopback
    // origin cannot be named there, so the browser goes on from a page of this server's own.
    if (cspSource(location.origin) === undefined) return continuePage(location.href, cookies);
    return redirect(location.href, status, cookies);
  }

  /** A form body (urlencoded, bounded, no repeated parameter). */
  form(request: ProxyRequest, refuse: Refuse): Map<string, string> {
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
}
