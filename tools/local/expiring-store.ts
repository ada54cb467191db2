/**
 * Short-lived, single-use entries (pending sign-ins, authorization codes) that cannot pile up:
 * expired entries are dropped as new ones arrive, and past `maxEntries` the oldest goes first,
 * so no stream of unauthenticated requests can grow the process without bound.
 */
export interface ExpiringStoreOptions {
  /** How long an entry lives. */
  readonly ttlMs: number;
  /** Live entries kept at most; the oldest is dropped to make room. */
  readonly maxEntries: number;
  readonly now?: () => number;
}

export class ExpiringStore<V> {
  // A Map iterates in insertion order and every entry lives ttlMs, so the oldest entries
  // (the ones to expire or evict first) are always at the front.
  readonly #entries = new Map<string, { readonly value: V; readonly expiresAt: number }>();
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;

  constructor(options: ExpiringStoreOptions) {
    if (!(options.ttlMs > 0) || !Number.isInteger(options.maxEntries) || options.maxEntries < 1) {
      throw new Error('ExpiringStore: ttlMs must be above 0 and maxEntries a whole number ≥ 1');
    }
    this.#ttlMs = options.ttlMs;
    this.#maxEntries = options.maxEntries;
    this.#now = options.now ?? Date.now;
  }

  /** Keep `value` under `key` for ttlMs. */
  put(key: string, value: V): void {
    this.#purge();
    this.#entries.delete(key);
    while (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
    this.#entries.set(key, { value, expiresAt: this.#now() + this.#ttlMs });
  }

  /** The value, removed: whatever happens next, a key is good for one use. Expired: undefined. */
  take(key: string): V | undefined {
    const entry = this.#entries.get(key);
    this.#entries.delete(key);
    this.#purge();
    return entry !== undefined && entry.expiresAt > this.#now() ? entry.value : undefined;
  }

  /** Is a live entry held under `key`? */
  has(key: string): boolean {
    const entry = this.#entries.get(key);
    return entry !== undefined && entry.expiresAt > this.#now();
  }

  /** Live entries. */
  get size(): number {
    this.#purge();
    return this.#entries.size;
  }

  #purge(): void {
    const now = this.#now();
    for (const [key, entry] of this.#entries) {
      if (entry.expiresAt > now) return;
      this.#entries.delete(key);
    }
  }
}
