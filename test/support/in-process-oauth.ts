/**
 * The OAuth proxy in-process, for unit tests of its handler: the proxy's own handler
 * (`lambda/oauth-proxy/`) serves `/authorize`, `/callback` and `/token`, the registration
 * Lambda's handler serves `/register`, the discovery documents advertise the proxy, and the
 * local sign-in page (`tools/local/auth-server.ts`) is the proxy's upstream, as Cognito's hosted
 * login is in AWS. (`npm run dev` runs the proxy's Lambda bundle in the emulator instead.)
 *
 * What differs from AWS: the sealer is AES-256-GCM under a key of this
 * process (KMS in AWS), codes and refresh-token families live in bounded in-memory stores
 * (DynamoDB in AWS; a sign-out ends a family through the local sign-in server, which refuses
 * the session's refresh, as Cognito's global sign-out does in AWS), a CIMD
 * document may be served from a loopback http URL (never in AWS), and redirect URIs must be
 * on this machine, so local mode never sends a code anywhere else.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { AesSealer } from '../../lambda/oauth-proxy/aes-sealer';
import { ClientDirectory } from '../../lambda/oauth-proxy/clients';
import { createOAuthProxyHandler, type OAuthProxyHandler } from '../../lambda/oauth-proxy/handler';
import { MAX_FORM_BYTES } from '../../lambda/oauth-proxy/http';
import {
  type CimdClientResolver,
  type CodeStore,
  CodeStoreConflictError,
  type Sealer,
} from '../../lambda/oauth-proxy/ports';
import { OAuthProxy, type SessionCheck } from '../../lambda/oauth-proxy/proxy';
import type { RefreshFamilyStore } from '../../lambda/oauth-proxy/refresh-families';
import {
  createRegistrationHandler,
  type RegistrationHandler,
} from '../../lambda/registration/handler';
import { dcrClientIdMinter } from '../../lambda/registration/mint';
import {
  isLoopbackHost,
  MAX_REGISTRATION_BODY_BYTES,
  type RegistrationPolicy,
  redirectUriProblem,
} from '../../lambda/shared/client-registration';
import { PUBLIC_CORS_HEADERS, publicPreflightHeaders } from '../../lambda/shared/cors';
import { createLogger } from '../../lambda/shared/logger';
import {
  AUTHORIZATION_SERVER_METADATA_PATH,
  authorizationServerMetadata,
  PROTECTED_RESOURCE_METADATA_PATH,
  protectedResourceMetadata,
} from '../../lambda/shared/oauth-metadata';
import { OAUTH_PATHS } from '../../lambda/shared/routes';
import { DEFAULT_CALLBACK_URLS } from '../../lib/config';
import { POLICY } from '../../modules/policy';
import {
  LOCAL_REFRESH_TOKEN_SECONDS,
  LOCAL_SCOPES,
  LocalAuthServer,
  readCapped,
  AUTHORIZE_PATH as UPSTREAM_AUTHORIZE_PATH,
  TOKEN_PATH as UPSTREAM_TOKEN_PATH,
} from '../../tools/local/auth-server';
import { ExpiringStore } from '../../tools/local/expiring-store';
import {
  LOCAL_CLIENT_ID,
  LOCAL_SCOPE,
  localPermissionScopes,
  type SigningKey,
} from '../../tools/local/identity';
import type { LocalSignInPolicy } from '../../tools/local/user-file';
import { MemoryRefreshFamilyStore } from './memory-refresh-families';

/** The consent page's words for each local scope: the policy's permission descriptions. */
export const LOCAL_SCOPE_DESCRIPTIONS: Readonly<Record<string, string>> = {
  [LOCAL_SCOPE]: 'Call the MCP server’s tools, as far as your groups permit',
  ...Object.fromEntries(
    Object.entries(POLICY.permissions).map(([permission, description]) => [
      localPermissionScopes([permission])[0] as string,
      description,
    ]),
  ),
};

/** Loopback redirect URIs only: the local server must never send a code off the machine. */
export function isLoopbackRedirect(value: string): boolean {
  return redirectUriProblem(value) === undefined && isLoopbackHost(new URL(value).hostname);
}

/**
 * A bounded in-memory {@link CodeStore}: entries past their deadline are gone, and past
 * `maxEntries` the oldest goes first, so no stream of requests grows the process.
 */
export class MemoryCodeStore implements CodeStore {
  readonly #entries: ExpiringStore<{ readonly value: string; readonly expiresAt: number }>;
  readonly #now: () => number;

  /** @param maxLifetimeMs the longest any entry lives (the consent ticket's 10 minutes) */
  constructor(options: { maxEntries?: number; maxLifetimeMs?: number; now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
    this.#entries = new ExpiringStore({
      ttlMs: options.maxLifetimeMs ?? 10 * 60_000,
      maxEntries: options.maxEntries ?? 10_000,
      now: this.#now,
    });
  }

  get size(): number {
    return this.#entries.size;
  }

  async put(key: string, value: string, expiresAtEpochSeconds: number): Promise<void> {
    if (this.#entries.has(key)) throw new CodeStoreConflictError('The key is already taken');
    this.#entries.put(key, { value, expiresAt: expiresAtEpochSeconds });
  }

  async take(key: string): Promise<string | undefined> {
    const entry = this.#entries.take(key);
    return entry !== undefined && entry.expiresAt > Math.floor(this.#now() / 1000)
      ? entry.value
      : undefined;
  }
}

/** Registration in local mode: loopback redirect URIs only, the local scopes. */
export function localRegistrationPolicy(now?: () => number): RegistrationPolicy {
  return {
    allowRedirectUri: isLoopbackRedirect,
    supportedScopes: LOCAL_SCOPES,
    defaultScopes: [LOCAL_SCOPE],
    grantTypes: ['authorization_code', 'refresh_token'],
    ...(now === undefined ? {} : { now }),
  };
}

export interface LocalOAuthOptions {
  /** This server's own origins (`http://127.0.0.1:3000`, …); the first is the default issuer. */
  readonly origins: readonly string[];
  /** The MCP endpoint's path: the protected resource under each origin. */
  readonly mcpPath: string;
  readonly signingKey: SigningKey;
  /** Resolves CIMD client ids (loopback http allowed locally). */
  readonly cimd: CimdClientResolver;
  /** How long a remembered approval lasts. Default 7 days. */
  readonly consentRememberSeconds?: number;
  /**
   * Who may sign in upstream and with which groups (`.local/users.json`, kept by the `users`
   * CLI). Default: anyone, with the groups picked on the page.
   */
  readonly users?: LocalSignInPolicy;
  readonly sealer?: Sealer;
  readonly codes?: CodeStore;
  /** Refresh-token families. Default: in memory, for this process. */
  readonly families?: RefreshFamilyStore;
  /** The not-before list, checked at each refresh. Default: none (the upstream's refusal). */
  readonly sessions?: SessionCheck;
  readonly logger?: Logger;
  readonly registrationLogger?: Logger;
  readonly now?: () => number;
}

/** Node's request headers as API Gateway hands them to a Lambda. */
function headerMaps(req: IncomingMessage) {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i] as string;
    const value = req.rawHeaders[i + 1] as string;
    headers[name] = value;
    multiValueHeaders[name] = [...(multiValueHeaders[name] ?? []), value];
  }
  return { headers, multiValueHeaders };
}

/** A Lambda proxy result written to a Node response, cookies one `Set-Cookie` each. */
function writeResult(res: ServerResponse, result: APIGatewayProxyResult): void {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(result.headers ?? {})) headers[name] = String(value);
  for (const [name, values] of Object.entries(result.multiValueHeaders ?? {})) {
    headers[name] = values.map(String);
  }
  res.writeHead(result.statusCode, {
    ...headers,
    'Content-Length': Buffer.byteLength(result.body),
  });
  res.end(result.body);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Cache-Control': 'no-store',
    'Content-Length': Buffer.byteLength(text),
    ...PUBLIC_CORS_HEADERS,
  });
  res.end(text);
}

const PUBLIC_GET_PATHS: readonly string[] = [
  PROTECTED_RESOURCE_METADATA_PATH,
  `${PROTECTED_RESOURCE_METADATA_PATH}/mcp`,
  AUTHORIZATION_SERVER_METADATA_PATH,
];
const PROXY_PATHS: readonly string[] = [
  OAUTH_PATHS.authorize,
  OAUTH_PATHS.callback,
  OAUTH_PATHS.token,
];

export class LocalOAuth {
  readonly #options: LocalOAuthOptions;
  readonly #origins: readonly string[];
  readonly sealer: Sealer;
  readonly codes: CodeStore;
  readonly families: RefreshFamilyStore;
  /** The upstream: the local sign-in page and its token endpoint. */
  readonly upstream: LocalAuthServer;
  /** One proxy per own origin: each is the issuer a client that names that origin sees. */
  readonly #proxies = new Map<string, OAuthProxyHandler>();
  readonly #register: RegistrationHandler;

  constructor(options: LocalOAuthOptions) {
    if (options.origins.length === 0) throw new Error('LocalOAuth: at least one origin');
    this.#options = options;
    this.#origins = options.origins;
    this.sealer = options.sealer ?? new AesSealer();
    this.codes = options.codes ?? new MemoryCodeStore({ now: options.now });
    this.families = options.families ?? new MemoryRefreshFamilyStore({ now: options.now });
    this.upstream = new LocalAuthServer({
      baseUrl: this.#origins[0] as string,
      signingKey: options.signingKey,
      ownOrigins: this.#origins,
      clientId: LOCAL_CLIENT_ID,
      ...(options.users === undefined ? {} : { users: options.users }),
      now: options.now,
    });
    const clients = new ClientDirectory({
      sealer: this.sealer,
      cimd: options.cimd,
      preRegistered: {
        clientId: LOCAL_CLIENT_ID,
        name: 'MCP client (pre-registered, local)',
        // The deployment's loopback callbacks, under both loopback names (RFC 8252 prefers
        // 127.0.0.1; Cognito once took only localhost, which no longer matters behind the proxy).
        redirectUris: DEFAULT_CALLBACK_URLS.filter(isLoopbackRedirect).flatMap((uri) => [
          uri,
          uri.replace('//localhost:', '//127.0.0.1:'),
        ]),
      },
      allowLoopbackHttpCimd: true,
      allowRedirectUri: isLoopbackRedirect,
    });
    const logger = options.logger ?? createLogger('mcp-oauth-proxy');
    for (const origin of this.#origins) {
      const proxy = new OAuthProxy({
        config: {
          issuer: origin,
          resource: `${origin}${options.mcpPath}`,
          upstream: {
            authorizeUrl: `${origin}${UPSTREAM_AUTHORIZE_PATH}`,
            tokenUrl: `${origin}${UPSTREAM_TOKEN_PATH}`,
            clientId: LOCAL_CLIENT_ID,
          },
          supportedScopes: LOCAL_SCOPES,
          defaultScopes: [LOCAL_SCOPE],
          scopeDescriptions: LOCAL_SCOPE_DESCRIPTIONS,
          consentRememberSeconds: options.consentRememberSeconds ?? 7 * 24 * 3600,
          // A family lasts as long as the local sign-in server's refresh session.
          refreshTokenSeconds: LOCAL_REFRESH_TOKEN_SECONDS,
        },
        clients,
        sealer: this.sealer,
        codes: this.codes,
        families: this.families,
        ...(options.sessions === undefined ? {} : { sessions: options.sessions }),
        now: options.now,
      });
      this.#proxies.set(origin, createOAuthProxyHandler({ proxy, logger }));
    }
    this.#register = createRegistrationHandler({
      policy: localRegistrationPolicy(options.now),
      mintClientId: dcrClientIdMinter(this.sealer),
      logger: options.registrationLogger ?? createLogger('mcp-client-registration'),
    });
  }

  /**
   * The base URL a request names this server by: the origin of its `Host` when that is one of
   * this server's own (the gateway refuses every other Host), else the first origin.
   */
  baseFor(host: string | undefined): string {
    const fallback = this.#origins[0] as string;
    if (host === undefined) return fallback;
    try {
      const origin = new URL(`http://${host}`).origin;
      return this.#origins.includes(origin) ? origin : fallback;
    } catch {
      return fallback;
    }
  }

  /** RFC 9728 protected-resource metadata. */
  protectedResourceMetadata(base = this.#origins[0] as string) {
    return protectedResourceMetadata({
      resource: `${base}${this.#options.mcpPath}`,
      authorizationServers: [base],
      scopes: [LOCAL_SCOPE],
      resourceName: 'Secure MCP server (local)',
    });
  }

  /** RFC 8414 metadata of the proxy: the same builder the stack serves. */
  authorizationServerMetadata(base = this.#origins[0] as string) {
    return authorizationServerMetadata({
      issuer: base,
      authorizationEndpoint: `${base}${OAUTH_PATHS.authorize}`,
      tokenEndpoint: `${base}${OAUTH_PATHS.token}`,
      registrationEndpoint: `${base}${OAUTH_PATHS.register}`,
      scopes: LOCAL_SCOPES,
    });
  }

  /** Handle the request if it is an OAuth one; false otherwise. */
  async handle(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    requestId: string = randomUUID(),
  ): Promise<boolean> {
    const method = req.method ?? 'GET';
    const path = url.pathname;
    const base = this.baseFor(req.headers.host);
    if (PUBLIC_GET_PATHS.includes(path)) {
      if (method === 'OPTIONS') {
        res.writeHead(204, publicPreflightHeaders(['GET'])).end();
      } else if (method !== 'GET') {
        sendJson(res, 405, { error: 'invalid_request', error_description: 'Use GET' });
      } else {
        sendJson(
          res,
          200,
          path === AUTHORIZATION_SERVER_METADATA_PATH
            ? this.authorizationServerMetadata(base)
            : this.protectedResourceMetadata(base),
        );
      }
      return true;
    }
    if (path === OAUTH_PATHS.register) {
      if (method === 'OPTIONS') {
        res.writeHead(204, publicPreflightHeaders(['POST'])).end();
        return true;
      }
      await this.#lambda(this.#register, req, res, url, requestId, MAX_REGISTRATION_BODY_BYTES);
      return true;
    }
    if (PROXY_PATHS.includes(path)) {
      const proxy = this.#proxies.get(base) as OAuthProxyHandler;
      await this.#lambda(proxy, req, res, url, requestId, MAX_FORM_BYTES);
      return true;
    }
    return this.upstream.handle(req, res, url);
  }

  /** A request through a Lambda handler, as API Gateway's proxy integration would send it. */
  async #lambda(
    handler: (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>,
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    requestId: string,
    maxBytes: number,
  ): Promise<void> {
    // Before the body: reading stops at the cap, and the socket is let go with the rest.
    const sourceIp = req.socket.remoteAddress ?? 'unknown';
    const body = await readCapped(req, maxBytes);
    const query: Record<string, string[]> = {};
    for (const [name, value] of url.searchParams) query[name] = [...(query[name] ?? []), value];
    const { headers, multiValueHeaders } = headerMaps(req);
    const event = {
      httpMethod: req.method ?? 'GET',
      path: url.pathname,
      resource: url.pathname,
      headers,
      multiValueHeaders,
      queryStringParameters:
        url.searchParams.size > 0 ? Object.fromEntries(url.searchParams) : null,
      multiValueQueryStringParameters: url.searchParams.size > 0 ? query : null,
      body: body.byteLength > 0 ? body.toString('base64') : null,
      isBase64Encoded: body.byteLength > 0,
      requestContext: { requestId, identity: { sourceIp } },
    } as unknown as APIGatewayProxyEvent;
    writeResult(res, await handler(event));
  }
}
