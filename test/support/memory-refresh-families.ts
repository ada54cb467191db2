/**
 * Local mode's {@link RefreshFamilyStore}: the DynamoDB store's behaviour in memory (a change
 * happens only when its condition holds; an expired family is gone), bounded: past
 * `maxEntries` the oldest family goes first, and its tokens are refused (fail closed). The
 * families die with the process, as the local sign-in server's refresh sessions do.
 */
import {
  type RefreshFamily,
  RefreshFamilyConflictError,
  type RefreshFamilyEnd,
  type RefreshFamilyStore,
} from '../../lambda/oauth-proxy/refresh-families';

export class MemoryRefreshFamilyStore implements RefreshFamilyStore {
  readonly #families = new Map<string, RefreshFamily>();
  readonly #maxEntries: number;
  readonly #now: () => number;

  constructor(options: { maxEntries?: number; now?: () => number } = {}) {
    this.#maxEntries = options.maxEntries ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  get size(): number {
    return this.#families.size;
  }

  #live(key: string): RefreshFamily | undefined {
    const family = this.#families.get(key);
    if (family === undefined) return undefined;
    if (family.expiresAt > this.#now() / 1000) return family;
    this.#families.delete(key);
    return undefined;
  }

  async create(
    key: string,
    family: { readonly secretHash: string; readonly sealed: string; readonly expiresAt: number },
  ): Promise<void> {
    if (this.#families.has(key)) throw new RefreshFamilyConflictError('The family id is taken');
    while (this.#families.size >= this.#maxEntries) {
      this.#families.delete(this.#families.keys().next().value as string);
    }
    this.#families.set(key, { ...family, generation: 0 });
  }

  async get(key: string): Promise<RefreshFamily | undefined> {
    return this.#live(key);
  }

  async rotate(
    key: string,
    expected: Pick<RefreshFamily, 'secretHash' | 'generation'>,
    next: { readonly secretHash: string; readonly sealed: string },
  ): Promise<boolean> {
    const family = this.#live(key);
    if (
      family === undefined ||
      family.ended !== undefined ||
      family.secretHash !== expected.secretHash ||
      family.generation !== expected.generation
    ) {
      return false;
    }
    this.#families.set(key, { ...family, ...next, generation: family.generation + 1 });
    return true;
  }

  async end(key: string, reason: RefreshFamilyEnd): Promise<void> {
    const family = this.#live(key);
    if (family === undefined || family.ended !== undefined) return;
    const { sealed: _dropped, ...rest } = family;
    this.#families.set(key, { ...rest, ended: reason });
  }
}
