/**
 * The authorizer's copy of the not-before list: a snapshot in memory, so no authorization waits
 * on DynamoDB while the copy is fresh, refreshed in the background once it is older than
 * `refreshMs`, and never used once older than `maxAgeMs` (the request then waits for a reload,
 * and is denied if that fails: fail closed).
 *
 * The bound this gives: an entry written at time t is honoured by every request this instance
 * decides after t + maxAgeMs (a snapshot's age counts from when its load started, so an entry
 * written during a load is never assumed to be in it). API Gateway's authorizer cache comes on
 * top: a cached Allow is not asked again until its TTL ends.
 */
import { type IssuedTimes, type RevocationEntry, refusedBy } from '../shared/revocations';

/** Where the list comes from (the DynamoDB table in AWS and in local mode). */
export interface RevocationSource {
  /** Every live entry, by principal key (`user#<sub>`, `key#<id>`). */
  load(): Promise<ReadonlyMap<string, RevocationEntry>>;
}

/** The list could not be read recently enough to trust: callers must fail closed. */
export class RevocationsUnavailableError extends Error {
  override readonly name = 'RevocationsUnavailableError';
}

/** The longest refresh interval and staleness bound allowed: the documented promise. */
export const MAX_REVOCATION_AGE_MS = 10_000;

export interface RevocationListOptions {
  readonly source: RevocationSource;
  /** Age after which a request starts a reload in the background (and still uses the copy). */
  readonly refreshMs: number;
  /** Age after which the copy is not used: the request waits for a reload. At most 10 s. */
  readonly maxAgeMs: number;
  /** The longest a request waits for a load before it is denied. Default 2 s. */
  readonly loadTimeoutMs?: number;
  /** Told about a background reload that failed (the copy stays while not too old). */
  readonly onBackgroundFailure?: (error: unknown) => void;
  readonly now?: () => number;
}

interface Snapshot {
  readonly entries: ReadonlyMap<string, RevocationEntry>;
  /** When the load that produced it started. */
  readonly loadStartedAt: number;
}

export class RevocationList {
  readonly #source: RevocationSource;
  readonly #refreshMs: number;
  readonly #maxAgeMs: number;
  readonly #loadTimeoutMs: number;
  readonly #onBackgroundFailure: (error: unknown) => void;
  readonly #now: () => number;
  #snapshot: Snapshot | undefined;
  #loading: { readonly promise: Promise<Snapshot>; readonly startedAt: number } | undefined;

  constructor(options: RevocationListOptions) {
    if (!(options.maxAgeMs > 0 && options.maxAgeMs <= MAX_REVOCATION_AGE_MS)) {
      throw new RangeError(
        `RevocationList: maxAgeMs must be over 0 and at most ${MAX_REVOCATION_AGE_MS}, not ${options.maxAgeMs}`,
      );
    }
    if (!(options.refreshMs > 0 && options.refreshMs <= options.maxAgeMs)) {
      throw new RangeError(
        `RevocationList: refreshMs must be over 0 and at most maxAgeMs (${options.maxAgeMs}), not ${options.refreshMs}`,
      );
    }
    if (
      options.loadTimeoutMs !== undefined &&
      !(options.loadTimeoutMs > 0 && options.loadTimeoutMs <= options.maxAgeMs)
    ) {
      // A request may wait on a load that started up to loadTimeoutMs ago: past maxAgeMs, that
      // load could predate an entry by more than the promised bound.
      throw new RangeError(
        `RevocationList: loadTimeoutMs must be over 0 and at most maxAgeMs (${options.maxAgeMs}), not ${options.loadTimeoutMs}`,
      );
    }
    this.#source = options.source;
    this.#refreshMs = options.refreshMs;
    this.#maxAgeMs = options.maxAgeMs;
    this.#loadTimeoutMs = options.loadTimeoutMs ?? Math.min(2000, options.maxAgeMs);
    this.#onBackgroundFailure = options.onBackgroundFailure ?? (() => {});
    this.#now = options.now ?? Date.now;
  }

  /**
   * Is a credential of this principal, issued at these times, refused by the list? Resolves at
   * once while the copy is fresh. Throws {@link RevocationsUnavailableError} when no copy young
   * enough can be had.
   */
  async isRevoked(principal: string, times: IssuedTimes = {}): Promise<boolean> {
    const snapshot = await this.#fresh();
    const entry = snapshot.entries.get(principal);
    // An entry whose TTL has passed but which DynamoDB has not deleted yet (it may take a
    // while) refuses nothing: no token it was written against can still be valid.
    if (entry === undefined || entry.expiresAt * 1000 <= this.#now()) return false;
    return refusedBy(entry, times);
  }

  /** Load the list ahead of the first request (cold start). */
  async warm(): Promise<void> {
    await this.#reload();
  }

  #fresh(): Promise<Snapshot> {
    const snapshot = this.#snapshot;
    const age =
      snapshot === undefined ? Number.POSITIVE_INFINITY : this.#now() - snapshot.loadStartedAt;
    if (snapshot !== undefined && age < this.#maxAgeMs) {
      if (age >= this.#refreshMs) {
        // Served from the copy; the next requests get the new one. A failure here is only
        // reported: the copy stays usable until maxAgeMs, then requests wait (and deny).
        this.#reload().catch((error) => this.#onBackgroundFailure(error));
      }
      return Promise.resolve(snapshot);
    }
    return this.#reload();
  }

  /**
   * One load at a time, shared by concurrent callers. A load older than the timeout (a Lambda
   * frozen mid-request resumes with it still pending) is abandoned, not waited on.
   */
  #reload(): Promise<Snapshot> {
    const now = this.#now();
    if (this.#loading === undefined || now - this.#loading.startedAt >= this.#loadTimeoutMs) {
      const startedAt = now;
      const promise = this.#load(startedAt).finally(() => {
        if (this.#loading?.promise === promise) this.#loading = undefined;
      });
      this.#loading = { promise, startedAt };
    }
    return this.#loading.promise;
  }

  async #load(startedAt: number): Promise<Snapshot> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new RevocationsUnavailableError(
              `The not-before list did not load within ${this.#loadTimeoutMs} ms`,
            ),
          ),
        this.#loadTimeoutMs,
      );
      timer.unref?.();
    });
    try {
      const entries = await Promise.race([this.#source.load(), timeout]);
      const snapshot = { entries, loadStartedAt: startedAt };
      // A slow load must not replace a newer copy that another load brought meanwhile.
      if (this.#snapshot === undefined || this.#snapshot.loadStartedAt <= startedAt) {
        this.#snapshot = snapshot;
      }
      return snapshot;
    } catch (error) {
      if (error instanceof RevocationsUnavailableError) throw error;
      throw new RevocationsUnavailableError('The not-before list could not be read', {
        cause: error,
      });
    } finally {
      clearTimeout(timer);
    }
  }
}
