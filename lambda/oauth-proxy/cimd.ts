/**
 * Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document; MCP 2026-07-28
 * "Client Registration"): a client names itself with `client_id=https://…/client.json`, and the
 * authorization server fetches that JSON document to learn the client's name and redirect URIs.
 *
 * The fetch is made on behalf of an anonymous caller who chose the URL, so it is the SSRF
 * surface of the proxy (see `ssrf-fetch.ts`): https only, public addresses only, checked on
 * the address connected to, no redirects, a byte and a time limit. The answer is cached in a
 * bounded LRU, failures too (briefly), so one caller cannot make the proxy fetch in a loop.
 *
 * What is accepted, and why:
 * - The URL (draft section 3): https, a host, a path other than `/`, no fragment, no user
 *   info, no `.`/`..` segments, and written the one way the URL parser writes it, so that the
 *   document's `client_id` can be compared by plain string equality (draft section 4.1).
 * - The document: a JSON object served as JSON, `client_id` equal to the URL exactly,
 *   `redirect_uris` 1 to 10 canonical URIs (https, or plain http on a loopback host), the same
 *   rule dynamic registration applies; a public client only (`token_endpoint_auth_method`
 *   absent or `none`, no `client_secret`: the draft forbids shared secrets, and this server
 *   supports no other client authentication); `client_name` without control or bidi-override
 *   characters (it is shown on the consent page), else the URL's host is shown.
 *
 * Refusal messages name the rule and never quote the document or the URL: both are written by
 * the caller, and the message is meant to be logged.
 */
import * as z from 'zod';
import {
  hasUnsafeCharacter,
  isLoopbackHost,
  MAX_CLIENT_NAME_LENGTH,
  MAX_REDIRECT_URIS,
  MAX_URI_LENGTH,
  redirectUriProblem,
} from '../shared/client-registration.js';
import {
  type AddressLookup,
  type GuardedResponse,
  guardedGet,
  SsrfFetchError,
  systemLookup,
} from './ssrf-fetch.js';

/** Why a CIMD client id was refused. The `cimd_` prefix is what the alarms filter on. */
export const CIMD_REFUSALS = [
  'cimd_invalid_client_id',
  'cimd_not_https',
  'cimd_host_not_allowed',
  'cimd_blocked_address',
  'cimd_redirect',
  'cimd_too_large',
  'cimd_timeout',
  'cimd_fetch_failed',
  'cimd_bad_status',
  'cimd_invalid_document',
] as const;
export type CimdRefusal = (typeof CIMD_REFUSALS)[number];

/** A refused CIMD client. `message` is safe to log: it never carries the document or the URL. */
export class CimdError extends Error {
  override readonly name = 'CimdError';
  constructor(
    readonly reason: CimdRefusal,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** A client as its metadata document describes it, validated. */
export interface CimdClient {
  /** The document's URL, which is the client id. */
  readonly clientId: string;
  /** What the consent page shows: the document's `client_name`, else the URL's host. */
  readonly clientName: string;
  /** Canonical redirect URIs: https, or plain http on a loopback host. */
  readonly redirectUris: readonly string[];
  readonly clientUri?: string;
  readonly logoUri?: string;
  /** The scopes the client says it will ask for (space-separated), if it says. */
  readonly scope?: string;
}

/** Client id URLs longer than this are refused: real ones are short, and each is a cache key. */
export const MAX_CIMD_CLIENT_ID_LENGTH = 512;
/** The draft recommends a 5 KB limit on the document. */
export const DEFAULT_CIMD_MAX_BYTES = 5 * 1024;
export const DEFAULT_CIMD_TIMEOUT_MS = 5_000;
export const DEFAULT_CIMD_CACHE_ENTRIES = 1_000;
export const DEFAULT_CIMD_MIN_CACHE_SECONDS = 60;
export const DEFAULT_CIMD_MAX_CACHE_SECONDS = 3_600;
/** Cache lifetime when the answer has no `Cache-Control: max-age` (then clamped). */
export const DEFAULT_CIMD_CACHE_SECONDS = 300;
export const DEFAULT_CIMD_ERROR_CACHE_SECONDS = 30;
const MAX_SCOPE_LENGTH = 1024;

export interface CimdResolverOptions {
  /**
   * Hosts whose documents are accepted: exact host names (`claude.ai`) or `*.example.com` for
   * any subdomain of example.com (not example.com itself). Checked before any DNS or network
   * access, and in addition to the address checks, never instead of them.
   * @default undefined (any host)
   */
  readonly allowedHosts?: readonly string[];
  /**
   * LOCAL MODE ONLY. NEVER SET IN AWS. Admits loopback addresses (127.0.0.0/8, ::1) as
   * document hosts, and plain `http:` for the loopback hosts `127.0.0.1`, `[::1]` and
   * `localhost`, so that tests and `npm run dev` can serve CIMD documents from this machine.
   * In Lambda, loopback is the Runtime API: the constructor throws if this is set there.
   * Private, link-local and other non-public addresses stay refused.
   * @default false
   */
  readonly allowLoopbackHttp?: boolean;
  /** The whole fetch, DNS to last byte. @default 5000 */
  readonly timeoutMs?: number;
  /** The largest document accepted, enforced while it streams. @default 5120 */
  readonly maxBytes?: number;
  /**
   * Documents remembered, and failures remembered (apart), least recently used evicted.
   * @default 1000
   */
  readonly cacheEntries?: number;
  /** Floor for a document's cache lifetime (also for `no-store`/`no-cache`). @default 60 */
  readonly minCacheSeconds?: number;
  /** Ceiling for a document's cache lifetime, whatever `max-age` says. @default 3600 */
  readonly maxCacheSeconds?: number;
  /** How long a failed fetch is remembered and answered from the cache. @default 30 */
  readonly errorCacheSeconds?: number;
  /** Milliseconds since the epoch. @default Date.now */
  readonly now?: () => number;
  /** Resolves host names (a test seam). @default the system resolver */
  readonly lookup?: AddressLookup;
  /**
   * Trust anchors replacing the default ones, for a local https document server (a
   * self-signed certificate). Certificates are verified either way.
   * @default Node's bundled CA store
   */
  readonly ca?: string | Buffer | readonly (string | Buffer)[];
}

/** Visible ASCII, no space. */
const URI_CHARACTERS = /^[!-~]+$/;
/** RFC 6749 section 3.3 scope-token. */
const SCOPE_TOKEN = /^[!#-[\]-~]+$/;
/** A `.` or `..` path segment, also percent-encoded (WHATWG URL treats `%2e` as `.`). */
const DOT_SEGMENT = /^(?:\.|%2e){1,2}$/i;
/** An allow-list entry: a host name, or `*.` and a host name. */
const ALLOWED_HOST =
  /^(?:\*\.)?[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*$/;

/**
 * Whether `clientId` looks like a CIMD URL (https with a path other than `/`; with
 * `allowLoopbackHttp`, also plain http on a loopback host). Cheap and without I/O: it decides
 * which kind of client this is, and {@link CimdResolver.resolve} then checks the URL fully.
 */
export function isCimdClientId(
  clientId: string,
  options: { readonly allowLoopbackHttp?: boolean } = {},
): boolean {
  if (typeof clientId !== 'string') return false;
  const https = clientId.startsWith('https://');
  if (!https && !(options.allowLoopbackHttp === true && clientId.startsWith('http://'))) {
    return false;
  }
  let url: URL;
  try {
    url = new URL(clientId);
  } catch {
    return false;
  }
  if (!https && !isLoopbackHost(url.hostname)) return false;
  return url.pathname !== '/';
}

/**
 * Check a client id URL against the draft's rules (section 3).
 * @throws CimdError `cimd_invalid_client_id` or `cimd_not_https`
 */
function parseClientId(clientId: string, allowLoopbackHttp: boolean): URL {
  const invalid = (rule: string) =>
    new CimdError('cimd_invalid_client_id', `The CIMD client id ${rule}`);
  if (typeof clientId !== 'string' || clientId.length === 0) throw invalid('is empty');
  if (clientId.length > MAX_CIMD_CLIENT_ID_LENGTH) {
    throw invalid(`is longer than ${MAX_CIMD_CLIENT_ID_LENGTH} characters`);
  }
  if (!URI_CHARACTERS.test(clientId)) throw invalid('must be visible ASCII with no spaces');
  if (clientId.includes('#')) throw invalid('must not have a fragment');
  let url: URL;
  try {
    url = new URL(clientId);
  } catch {
    throw invalid('is not an absolute URL');
  }
  const loopbackHttp =
    allowLoopbackHttp && url.protocol === 'http:' && isLoopbackHost(url.hostname);
  if (url.protocol !== 'https:' && !loopbackHttp) {
    throw new CimdError('cimd_not_https', 'The CIMD client id must be an https URL');
  }
  if (url.username !== '' || url.password !== '') throw invalid('must not carry user info');
  if (url.pathname === '/') throw invalid('must have a path');
  // The URL parser removes dot segments, so they are looked for in the text as sent.
  const rawPath = clientId.slice(clientId.indexOf('/', url.protocol.length + 2)).split('?')[0];
  if ((rawPath ?? '').split('/').some((segment) => DOT_SEGMENT.test(segment))) {
    throw invalid('must not have . or .. path segments');
  }
  // One spelling per URL (no `HTTPS:`, default port, `127.1`, upper-case host, `\`): the
  // document's client_id is compared to it by plain string equality.
  if (url.href !== clientId) throw invalid('must be written in canonical form');
  return url;
}

function isHttpsUri(value: string): boolean {
  if (!URI_CHARACTERS.test(value) || value.includes('#')) return false;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' && url.username === '' && url.password === '';
  } catch {
    return false;
  }
}

const httpsUri = z.string().max(MAX_URI_LENGTH).refine(isHttpsUri);

/** The fields this server reads; any other field is ignored (RFC 7591 section 2). */
const CimdDocumentSchema = z.object({
  client_id: z.string(),
  client_name: z
    .string()
    .min(1)
    .refine((name) => [...name].length <= MAX_CLIENT_NAME_LENGTH && !hasUnsafeCharacter(name))
    .optional(),
  redirect_uris: z
    .array(z.string().refine((uri) => redirectUriProblem(uri) === undefined))
    .min(1)
    .max(MAX_REDIRECT_URIS),
  // A public client: the draft forbids shared secrets, and the token endpoint supports "none".
  token_endpoint_auth_method: z.literal('none').optional(),
  client_secret: z.never().optional(),
  grant_types: z
    .array(z.string())
    .refine((grants) => grants.includes('authorization_code'))
    .optional(),
  response_types: z
    .array(z.string())
    .refine((types) => types.includes('code'))
    .optional(),
  scope: z
    .string()
    .max(MAX_SCOPE_LENGTH)
    .refine((scope) => scope.split(' ').every((token) => SCOPE_TOKEN.test(token)))
    .optional(),
  client_uri: httpsUri.optional(),
  logo_uri: httpsUri.optional(),
});
type CimdDocumentField = keyof z.infer<typeof CimdDocumentSchema>;
const DOCUMENT_FIELDS = Object.keys(CimdDocumentSchema.shape) as CimdDocumentField[];

function invalidDocument(rule: string): CimdError {
  return new CimdError('cimd_invalid_document', `The CIMD document ${rule}`);
}

/** `application/json` or a `+json` type, parameters allowed. */
function isJsonMediaType(contentType: string | undefined): boolean {
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  return type === 'application/json' || /^application\/[a-z0-9.!#$&^_-]+\+json$/.test(type);
}

/** Parse and validate a fetched document for `clientId`. */
function parseDocument(clientId: string, url: URL, response: GuardedResponse): CimdClient {
  if (!isJsonMediaType(response.headers['content-type'])) {
    throw invalidDocument('is not served as application/json');
  }
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(response.body));
  } catch {
    throw invalidDocument('is not UTF-8 JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidDocument('is not a JSON object');
  }
  const parsed = CimdDocumentSchema.safeParse(value);
  if (!parsed.success) {
    // Name the field (one of ours, never a key the document chose), not the value.
    const key = parsed.error.issues[0]?.path[0];
    const field = DOCUMENT_FIELDS.find((name) => name === key);
    if (field === 'client_secret' || field === 'token_endpoint_auth_method') {
      throw invalidDocument(
        'describes a confidential client: only public clients (token_endpoint_auth_method "none", no client_secret) are supported',
      );
    }
    throw invalidDocument(field === undefined ? 'is not valid' : `has an invalid ${field}`);
  }
  const document = parsed.data;
  if (document.client_id !== clientId) {
    throw invalidDocument('names a client_id other than its own URL');
  }
  return Object.freeze({
    clientId,
    clientName: document.client_name ?? url.host,
    redirectUris: Object.freeze([...new Set(document.redirect_uris)]),
    ...(document.client_uri === undefined ? {} : { clientUri: document.client_uri }),
    ...(document.logo_uri === undefined ? {} : { logoUri: document.logo_uri }),
    ...(document.scope === undefined ? {} : { scope: document.scope }),
  });
}

/** The `max-age` a response allows, 0 for `no-store`/`no-cache`, undefined if it says none. */
export function cacheSecondsFromHeaders(cacheControl: string | undefined): number | undefined {
  if (cacheControl === undefined) return undefined;
  const directives = cacheControl
    .split(',')
    .map((directive) => directive.trim().toLowerCase())
    .filter((directive) => directive !== '');
  if (directives.some((directive) => directive === 'no-store' || directive === 'no-cache')) {
    return 0;
  }
  for (const directive of directives) {
    const match = /^max-age\s*=\s*"?(\d+)"?$/.exec(directive);
    if (match?.[1] !== undefined) return Number(match[1]);
  }
  return undefined;
}

const SSRF_TO_CIMD: Record<SsrfFetchError['reason'], CimdRefusal> = {
  blocked_address: 'cimd_blocked_address',
  redirect: 'cimd_redirect',
  too_large: 'cimd_too_large',
  timeout: 'cimd_timeout',
  fetch_failed: 'cimd_fetch_failed',
  bad_status: 'cimd_bad_status',
};

interface CacheEntry {
  readonly expiresAt: number;
  readonly outcome: CimdClient | CimdError;
}

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  const result = value ?? fallback;
  if (!Number.isInteger(result) || result <= 0) {
    throw new Error(`CimdResolver: ${name} must be a positive integer (got ${String(value)})`);
  }
  return result;
}

/**
 * Resolves CIMD client ids to validated clients: checks the URL, fetches the document with
 * SSRF protection, validates it, and caches the outcome. One instance per process (module
 * scope in a Lambda), so the cache is shared by every request the instance serves.
 */
export class CimdResolver {
  readonly #allowedHosts: readonly string[] | undefined;
  readonly #allowLoopback: boolean;
  readonly #timeoutMs: number;
  readonly #maxBytes: number;
  readonly #cacheEntries: number;
  readonly #minCacheMs: number;
  readonly #maxCacheMs: number;
  readonly #errorCacheMs: number;
  readonly #now: () => number;
  readonly #lookup: AddressLookup;
  readonly #ca: CimdResolverOptions['ca'];
  /**
   * Two LRUs (insertion order is recency order, the first key the least recently used):
   * failures apart from documents, so a flood of failing client ids, which anyone can mint,
   * cannot evict the documents of real clients.
   */
  readonly #documents = new Map<string, CacheEntry>();
  readonly #failures = new Map<string, CacheEntry>();
  /** Fetches under way, so that concurrent requests for one client make one fetch. */
  readonly #pending = new Map<string, Promise<CimdClient>>();

  constructor(options: CimdResolverOptions = {}) {
    this.#allowLoopback = options.allowLoopbackHttp === true;
    if (this.#allowLoopback && process.env.AWS_LAMBDA_FUNCTION_NAME !== undefined) {
      // In Lambda, 127.0.0.1:9001 is the Runtime API: a loopback document is an SSRF into it.
      throw new Error(
        'CimdResolver: allowLoopbackHttp is for local mode and must not be set in Lambda',
      );
    }
    if (options.allowedHosts !== undefined) {
      const hosts = options.allowedHosts.map((host) => host.toLowerCase());
      const bad = hosts.findIndex((host) => !ALLOWED_HOST.test(host));
      if (bad !== -1) {
        throw new Error(
          `CimdResolver: allowedHosts[${bad}] must be a host name or *.host name (no scheme, port or path)`,
        );
      }
      this.#allowedHosts = Object.freeze(hosts);
    }
    this.#timeoutMs = positiveInteger('timeoutMs', options.timeoutMs, DEFAULT_CIMD_TIMEOUT_MS);
    this.#maxBytes = positiveInteger('maxBytes', options.maxBytes, DEFAULT_CIMD_MAX_BYTES);
    this.#cacheEntries = positiveInteger(
      'cacheEntries',
      options.cacheEntries,
      DEFAULT_CIMD_CACHE_ENTRIES,
    );
    const minSeconds = positiveInteger(
      'minCacheSeconds',
      options.minCacheSeconds,
      DEFAULT_CIMD_MIN_CACHE_SECONDS,
    );
    const maxSeconds = positiveInteger(
      'maxCacheSeconds',
      options.maxCacheSeconds,
      DEFAULT_CIMD_MAX_CACHE_SECONDS,
    );
    if (minSeconds > maxSeconds) {
      throw new Error('CimdResolver: minCacheSeconds must not exceed maxCacheSeconds');
    }
    this.#minCacheMs = minSeconds * 1000;
    this.#maxCacheMs = maxSeconds * 1000;
    this.#errorCacheMs =
      positiveInteger(
        'errorCacheSeconds',
        options.errorCacheSeconds,
        DEFAULT_CIMD_ERROR_CACHE_SECONDS,
      ) * 1000;
    this.#now = options.now ?? Date.now;
    this.#lookup = options.lookup ?? systemLookup;
    this.#ca = options.ca;
  }

  /** {@link isCimdClientId} with this resolver's `allowLoopbackHttp`. */
  isCimdClientId(clientId: string): boolean {
    return isCimdClientId(clientId, { allowLoopbackHttp: this.#allowLoopback });
  }

  /**
   * The client a CIMD client id names.
   * @throws CimdError with the reason; a failed fetch is answered from the cache for
   *   `errorCacheSeconds` without fetching again.
   */
  async resolve(clientId: string): Promise<CimdClient> {
    const cached = this.#cached(clientId);
    if (cached !== undefined) {
      if (cached instanceof CimdError) {
        throw new CimdError(cached.reason, cached.message, { cause: cached });
      }
      return cached;
    }
    const pending = this.#pending.get(clientId);
    if (pending !== undefined) return pending;

    // Checks without I/O are not cached: they cost less than a cache entry.
    const url = parseClientId(clientId, this.#allowLoopback);
    this.#checkAllowedHost(url);

    const fetching = this.#fetch(clientId, url).finally(() => {
      this.#pending.delete(clientId);
    });
    this.#pending.set(clientId, fetching);
    return fetching;
  }

  #cached(clientId: string): CimdClient | CimdError | undefined {
    for (const cache of [this.#documents, this.#failures]) {
      const entry = cache.get(clientId);
      if (entry === undefined) continue;
      cache.delete(clientId);
      if (entry.expiresAt <= this.#now()) continue;
      cache.set(clientId, entry); // now the most recently used
      return entry.outcome;
    }
    return undefined;
  }

  #remember(clientId: string, outcome: CimdClient | CimdError, lifetimeMs: number): void {
    const cache = outcome instanceof CimdError ? this.#failures : this.#documents;
    this.#documents.delete(clientId);
    this.#failures.delete(clientId);
    cache.set(clientId, { expiresAt: this.#now() + lifetimeMs, outcome });
    while (cache.size > this.#cacheEntries) {
      const oldest = cache.keys().next().value as string;
      cache.delete(oldest);
    }
  }

  #checkAllowedHost(url: URL): void {
    if (this.#allowedHosts === undefined) return;
    const host = url.hostname;
    const allowed = this.#allowedHosts.some((entry) =>
      entry.startsWith('*.') ? host.endsWith(entry.slice(1)) : host === entry,
    );
    if (!allowed) {
      throw new CimdError(
        'cimd_host_not_allowed',
        "The CIMD client id's host is not on this server's allow-list",
      );
    }
  }

  async #fetch(clientId: string, url: URL): Promise<CimdClient> {
    try {
      const response = await guardedGet(url, {
        lookup: this.#lookup,
        allowLoopback: this.#allowLoopback,
        timeoutMs: this.#timeoutMs,
        maxBytes: this.#maxBytes,
        accept: 'application/json',
        ...(this.#ca === undefined ? {} : { ca: this.#ca }),
      });
      const client = parseDocument(clientId, url, response);
      const header = response.headers['cache-control'];
      const seconds = cacheSecondsFromHeaders(header) ?? DEFAULT_CIMD_CACHE_SECONDS;
      const lifetime = Math.min(Math.max(seconds * 1000, this.#minCacheMs), this.#maxCacheMs);
      this.#remember(clientId, client, lifetime);
      return client;
    } catch (error) {
      const refusal =
        error instanceof CimdError
          ? error
          : error instanceof SsrfFetchError
            ? new CimdError(SSRF_TO_CIMD[error.reason], `CIMD fetch refused: ${error.message}`, {
                cause: error,
              })
            : new CimdError('cimd_fetch_failed', 'CIMD fetch failed', { cause: error });
      this.#remember(clientId, refusal, this.#errorCacheMs);
      throw refusal;
    }
  }
}
