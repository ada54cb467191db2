/**
 * Verifies API keys against the key document, with a TTL cache and rate-limited forced
 * refreshes. Lookup is by key id in a Map (the same cost for 1 key or 10,000) and the secret is
 * compared as a SHA-256 digest with `timingSafeEqual`.
 *
 * Parsing and indexing the document costs about 20 µs per key (200 ms at 10,000 keys). It is
 * kept off the request path: a request that finds the index within `refreshAheadMs` of its TTL
 * is answered from it at once while a reload runs in the background, and a reload whose texts
 * are unchanged keeps the index it has instead of building it again. Only a request after the
 * TTL has fully passed (an instance idle that long) waits for the reload: a stale index is
 * never served, since it may hold keys revoked since it was read.
 */
import { timingSafeEqual } from 'node:crypto';
import {
  type ApiKeyDocument,
  type ApiKeyRecord,
  hashApiKey,
  keyStatus,
  type ParsedApiKey,
  parseApiKeyDocument,
  storedHash,
} from '../shared/api-key';

/** The raw versions of the key document. */
export interface ApiKeyVersions {
  /** The AWSCURRENT version's JSON text. */
  readonly current: string;
  /** The AWSPREVIOUS version's JSON text, when there is one. */
  readonly previous?: string | undefined;
  /** Why AWSPREVIOUS could not be read, if it exists but could not be. */
  readonly previousUnavailable?: string | undefined;
}

/** Where the key document comes from (Secrets Manager in AWS, a file locally). */
export interface ApiKeySource {
  load(): Promise<ApiKeyVersions>;
}

export type ApiKeyVerdict =
  | {
      readonly ok: true;
      readonly keyId: string;
      readonly name: string;
      readonly roles: string[];
      /** ISO date the key expires, or null. */
      readonly expires: string | null;
    }
  | {
      readonly ok: false;
      readonly keyId: string;
      readonly name?: string;
      readonly reason: 'unknown_key' | 'wrong_secret' | 'key_revoked' | 'key_expired';
    };

/** The key document could not be read or parsed: callers must fail closed. */
export class ApiKeysUnavailableError extends Error {
  override readonly name = 'ApiKeysUnavailableError';
}

interface IndexEntry {
  readonly record: ApiKeyRecord;
  /** Digests of the key material accepted for this id: AWSCURRENT's, then AWSPREVIOUS's. */
  readonly digests: readonly Buffer[];
}

function digestBytes(hash: string): Buffer {
  return Buffer.from(hash.slice('sha256:'.length), 'hex');
}

/**
 * Build the lookup index. A key's metadata (roles, expiry, revocation) always comes from
 * AWSCURRENT; AWSPREVIOUS only contributes older key material for ids that still exist there,
 * so removing or revoking a key takes effect at once, rotation or not.
 */
export function buildIndex(
  current: ApiKeyDocument,
  previous?: ApiKeyDocument,
): ReadonlyMap<string, IndexEntry> {
  const index = new Map<string, IndexEntry>();
  for (const [keyId, record] of Object.entries(current.keys)) {
    const digests = [digestBytes(storedHash(keyId, record))];
    const older = previous?.keys[keyId];
    if (older !== undefined) {
      const olderDigest = digestBytes(storedHash(keyId, older));
      if (!olderDigest.equals(digests[0] as Buffer)) digests.push(olderDigest);
    }
    index.set(keyId, { record, digests });
  }
  return index;
}

/** Constant-time: every accepted digest is compared, whatever matches first. */
function matchesAny(presented: Buffer, digests: readonly Buffer[]): boolean {
  let matched = false;
  for (const digest of digests) {
    if (timingSafeEqual(presented, digest)) matched = true;
  }
  return matched;
}

export interface ApiKeyStoreOptions {
  readonly source: ApiKeySource;
  /** How long a loaded document is trusted. */
  readonly ttlMs: number;
  /** The least time between two reloads forced by unknown keys or wrong secrets. */
  readonly minRefreshMs: number;
  /**
   * How long before the TTL runs out a request starts a background reload (answered from the
   * still-fresh index meanwhile). 0 turns it off.
   * @default 0
   */
  readonly refreshAheadMs?: number;
  /** Called with a description when AWSPREVIOUS is unreadable and ignored. */
  readonly onPreviousIgnored?: (why: string) => void;
  readonly now?: () => number;
  /**
   * Parses a document's text (throws when it does not match the schema).
   * @default parseApiKeyDocument
   */
  readonly parseDocument?: (text: string) => ApiKeyDocument;
}

export class ApiKeyStore {
  readonly #source: ApiKeySource;
  readonly #ttlMs: number;
  readonly #minRefreshMs: number;
  readonly #refreshAheadMs: number;
  readonly #now: () => number;
  readonly #onPreviousIgnored: (why: string) => void;
  readonly #parseDocument: (text: string) => ApiKeyDocument;
  #index: ReadonlyMap<string, IndexEntry> | undefined;
  /** The texts the index was built from: a reload that reads the same keeps the index. */
  #indexedFrom: { readonly current: string; readonly previous: string | undefined } | undefined;
  #loadedAt = Number.NEGATIVE_INFINITY;
  #loading: Promise<ReadonlyMap<string, IndexEntry>> | undefined;
  /** When the last load failed; until minRefreshMs has passed, requests fail fast. */
  #failedAt = Number.NEGATIVE_INFINITY;

  constructor(options: ApiKeyStoreOptions) {
    this.#source = options.source;
    this.#ttlMs = options.ttlMs;
    this.#minRefreshMs = options.minRefreshMs;
    this.#refreshAheadMs = Math.max(0, Math.min(options.refreshAheadMs ?? 0, options.ttlMs));
    this.#now = options.now ?? Date.now;
    this.#onPreviousIgnored = options.onPreviousIgnored ?? (() => {});
    this.#parseDocument = options.parseDocument ?? parseApiKeyDocument;
  }

  /** Verify a presented key. Throws {@link ApiKeysUnavailableError} when the keys cannot be read. */
  async verify(presented: ParsedApiKey): Promise<ApiKeyVerdict> {
    const digest = digestBytes(hashApiKey(presented.key));
    let index = await this.#current();
    let entry = index.get(presented.keyId);
    if (
      (entry === undefined || !matchesAny(digest, entry.digests)) &&
      this.#now() - this.#loadedAt >= this.#minRefreshMs
    ) {
      // Perhaps a key created or rotated since the last load: refresh once, rate-limited. If
      // that fails, carry on with the still-fresh index: an unknown key sent by anyone must
      // not be able to knock out every API-key caller.
      index = await this.#reload().catch(() => index);
      entry = index.get(presented.keyId);
    }
    const keyId = presented.keyId;
    if (entry === undefined) return { ok: false, keyId, reason: 'unknown_key' };
    const { record } = entry;
    if (!matchesAny(digest, entry.digests)) {
      return { ok: false, keyId, name: record.name, reason: 'wrong_secret' };
    }
    const status = keyStatus(record, this.#now());
    if (status !== 'active') {
      return {
        ok: false,
        keyId,
        name: record.name,
        reason: status === 'revoked' ? 'key_revoked' : 'key_expired',
      };
    }
    return {
      ok: true,
      keyId,
      name: record.name,
      roles: [...record.roles],
      expires: record.expires,
    };
  }

  /** Load the document ahead of the first request (e.g. at cold start). */
  async warm(): Promise<void> {
    await this.#current();
  }

  #current(): Promise<ReadonlyMap<string, IndexEntry>> {
    const age = this.#now() - this.#loadedAt;
    if (this.#index !== undefined && age < this.#ttlMs) {
      if (
        this.#refreshAheadMs > 0 &&
        age >= this.#ttlMs - this.#refreshAheadMs &&
        this.#loading === undefined &&
        this.#now() - this.#failedAt >= this.#minRefreshMs
      ) {
        // Nobody waits for it: a failure is remembered (#failedAt) and, once the TTL is out,
        // the next request fails closed as it would have without the early start.
        this.#reload().catch(() => {});
      }
      return Promise.resolve(this.#index);
    }
    return this.#reload();
  }

  /**
   * One load at a time: concurrent callers share it. After a failure, requests fail fast for
   * minRefreshMs rather than sending every request on to a struggling Secrets Manager.
   */
  #reload(): Promise<ReadonlyMap<string, IndexEntry>> {
    if (this.#loading === undefined && this.#now() - this.#failedAt < this.#minRefreshMs) {
      return Promise.reject(
        new ApiKeysUnavailableError('The API-key secret failed to load moments ago'),
      );
    }
    this.#loading ??= this.#load().finally(() => {
      this.#loading = undefined;
    });
    return this.#loading;
  }

  async #load(): Promise<ReadonlyMap<string, IndexEntry>> {
    try {
      const index = await this.#fetchIndex();
      this.#index = index;
      this.#loadedAt = this.#now();
      return index;
    } catch (error) {
      // The cached index stays only while fresh (#current checks): never served stale, since a
      // stale copy may still hold keys revoked since it was read.
      this.#failedAt = this.#now();
      throw error;
    }
  }

  async #fetchIndex(): Promise<ReadonlyMap<string, IndexEntry>> {
    let versions: ApiKeyVersions;
    try {
      versions = await this.#source.load();
    } catch (error) {
      throw new ApiKeysUnavailableError('The API-key secret could not be read', { cause: error });
    }
    if (versions.previousUnavailable !== undefined) {
      // Without AWSPREVIOUS only older key material is refused: safe, and logged.
      this.#onPreviousIgnored(versions.previousUnavailable);
    }
    const known = this.#indexedFrom;
    if (
      this.#index !== undefined &&
      known !== undefined &&
      known.current === versions.current &&
      known.previous === versions.previous
    ) {
      // The same documents build the same index (a key's status is judged per request).
      return this.#index;
    }
    const index = this.#buildFrom(versions);
    this.#indexedFrom = { current: versions.current, previous: versions.previous };
    return index;
  }

  #buildFrom(versions: ApiKeyVersions): ReadonlyMap<string, IndexEntry> {
    let current: ApiKeyDocument;
    try {
      current = this.#parseDocument(versions.current);
    } catch (error) {
      throw new ApiKeysUnavailableError('The current API-key document is invalid', {
        cause: error,
      });
    }
    let previous: ApiKeyDocument | undefined;
    if (versions.previous !== undefined) {
      try {
        previous = this.#parseDocument(versions.previous);
      } catch (error) {
        // Ignoring AWSPREVIOUS only ever refuses more keys: safe to carry on without it.
        this.#onPreviousIgnored(error instanceof Error ? error.message : 'unreadable');
      }
    }
    return buildIndex(current, previous);
  }
}
