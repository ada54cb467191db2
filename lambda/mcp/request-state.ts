/**
 * The state an item carries from one round of a 2026-07-28 multi-round request to the next
 * (`requestState`): signed by this server, expiring, bound to the request it belongs to, and
 * spent on its first use.
 *
 * - **Bound** to the caller (how they authenticated and who they are: an API key named like a
 *   person's `sub` is still another caller), the item (kind and name) and a digest of the
 *   arguments, so a state never carries a confirmation over to another caller, item or input.
 * - **Spent** once verified: each state carries a random nonce, and a ledger refuses a nonce
 *   seen before, so a round that runs the item's effect (a confirmed deploy) cannot be replayed.
 *   The next round, if any, gets a state of its own.
 * - **Shared**: a later round may reach any instance (Lambda picks one; a busy one, still
 *   finishing the last round, is skipped for a new one), so every instance must open what any
 *   sealed, and know what any spent. The deployment seals with keys derived from a KMS HMAC key
 *   (one per day, the previous day's still opening a state sealed just before the change) and
 *   spends in a DynamoDB table (`request-state-aws.ts`). Without them (a test, a script), the
 *   key is random per instance and the ledger its memory, which is complete for states only
 *   that instance can open; a shared key without a shared ledger refuses to start.
 */
import { randomBytes } from 'node:crypto';
import {
  createRequestStateCodec,
  type JSONValue,
  type RequestStateCodec,
  type ServerContext,
} from '@modelcontextprotocol/server';
import { digestArguments } from '../shared/audit';
import type { Principal } from '../shared/principal';
import type { GatedRequest, MalformedRequest } from './gate';

/** How long a sealed state may wait for its next round. */
export const REQUEST_STATE_TTL_SECONDS = 600;

/** Where spent states are remembered until they could no longer verify anyway. */
export interface RequestStateLedger {
  /**
   * Record `nonce` as spent until `untilEpochSeconds`: true the first time, false if it was
   * already spent (and not yet forgotten).
   */
  spend(nonce: string, untilEpochSeconds: number): Promise<boolean>;
}

/** One instance's ledger: exact for states only this instance can verify (its own key). */
export class MemoryRequestStateLedger implements RequestStateLedger {
  // Insertion order is expiry order (every entry lives the same TTL): the oldest go first.
  readonly #spent = new Map<string, number>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  async spend(nonce: string, untilEpochSeconds: number): Promise<boolean> {
    const now = this.#now() / 1000;
    for (const [spent, until] of this.#spent) {
      if (until > now) break;
      this.#spent.delete(spent);
    }
    if (this.#spent.has(nonce)) return false;
    this.#spent.set(nonce, untilEpochSeconds);
    return true;
  }
}

/**
 * What a state is bound to: the caller's kind and identity, the item and its arguments. JSON,
 * so no value can run into the next.
 */
export function requestStateBinding(
  principal: Principal,
  request: GatedRequest | MalformedRequest | undefined,
): string {
  return JSON.stringify([
    principal.authMethod,
    principal.principalId,
    principal.keyId,
    request?.kind ?? '',
    request?.requested ?? '',
    digestArguments(request?.args).digest,
  ]);
}

/** A sealed state's payload: the item's state and the nonce that makes it spendable once. */
interface Sealed {
  readonly n: string;
  readonly s: JSONValue;
}

function isSealed(value: unknown): value is Sealed {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { n?: unknown }).n === 'string' &&
    's' in value
  );
}

/**
 * The keys states are sealed and opened with, where a key changes over time: every instance
 * holding the same ring seals with the same key and opens what any of them sealed.
 */
export interface RequestStateKeyRing {
  /** The key new states are sealed with now. */
  sealing(): Promise<Uint8Array>;
  /**
   * Every key a state still within its TTL may have been sealed with, the sealing key first.
   * A failure (the key service unreachable) rejects: the state is refused, never let through.
   */
  opening(): Promise<readonly Uint8Array[]>;
}

/** A ring of one fixed key. */
function fixedKeyRing(key: Uint8Array | string): RequestStateKeyRing {
  const bytes = typeof key === 'string' ? new TextEncoder().encode(key) : key;
  return { sealing: async () => bytes, opening: async () => [bytes] };
}

export interface RequestStateSealOptions {
  /**
   * A key of at least 32 bytes, or a ring of keys shared by instances; default: a random key,
   * this instance's own.
   */
  readonly key?: Uint8Array | string | RequestStateKeyRing;
  /** Required with a shared `key`; default: this instance's memory. */
  readonly ledger?: RequestStateLedger;
  /** The binding of the request a context belongs to (see {@link requestStateBinding}). */
  readonly bind: (ctx: ServerContext) => string;
  readonly now?: () => number;
  /**
   * Told when a state could not be checked because the key ring or the ledger failed (the
   * state is refused all the same): such a failure is the operator's, not the client's.
   */
  readonly onUnavailable?: (error: unknown) => void;
}

export class RequestStateConfigurationError extends Error {
  override readonly name = 'RequestStateConfigurationError';
}

/** The codec's opaque reason for a state sealed with another key. */
const WRONG_KEY = 'mac';

/** Seal and open request state: the SDK codec's signature and binding, plus single use. */
export function createRequestStateSeal(options: RequestStateSealOptions) {
  if (options.key !== undefined && options.ledger === undefined) {
    throw new RequestStateConfigurationError(
      'A request-state key shared by instances needs a ledger they share too (requestStateLedger): otherwise a state could be spent once on each instance',
    );
  }
  const now = options.now ?? Date.now;
  const ledger = options.ledger ?? new MemoryRequestStateLedger(now);
  const ring =
    options.key === undefined
      ? fixedKeyRing(crypto.getRandomValues(new Uint8Array(32)))
      : typeof options.key === 'string' || options.key instanceof Uint8Array
        ? fixedKeyRing(options.key)
        : options.key;
  // One codec per key: the ring hands out few keys (one per period), each used many times.
  const codecs = new Map<string, RequestStateCodec<JSONValue>>();
  const codecFor = (key: Uint8Array): RequestStateCodec<JSONValue> => {
    const id = Buffer.from(key).toString('base64');
    let codec = codecs.get(id);
    if (codec === undefined) {
      codec = createRequestStateCodec<JSONValue>({
        key,
        ttlSeconds: REQUEST_STATE_TTL_SECONDS,
        bind: options.bind,
      });
      if (codecs.size >= 8) codecs.clear();
      codecs.set(id, codec);
    }
    return codec;
  };
  /** The ring's or the ledger's answer; a failure is reported, then refuses the state. */
  const dependency = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      options.onUnavailable?.(error);
      throw new Error('unavailable');
    }
  };
  return {
    /** Seal an item's state for the next round of this request. */
    async mint(state: JSONValue, ctx: ServerContext): Promise<string> {
      const sealed: Sealed = { n: randomBytes(16).toString('base64url'), s: state };
      const key = await dependency(() => ring.sealing());
      return codecFor(key).mint(sealed as unknown as JSONValue, ctx);
    },
    /**
     * The item's state, if `state` verifies for this request under one of the ring's keys and
     * was never used before; any failure rejects, and the SDK answers -32602 before the item's
     * code runs.
     */
    async verify(state: string, ctx: ServerContext): Promise<JSONValue> {
      const keys = await dependency(() => ring.opening());
      let opened: { sealed: unknown } | undefined;
      for (const key of keys) {
        try {
          opened = { sealed: await codecFor(key).verify(state, ctx) };
          break;
        } catch (error) {
          // Sealed with another key: try the next. Expired, rebound or malformed: refused.
          if (!(error instanceof Error && error.message === WRONG_KEY)) throw error;
        }
      }
      if (opened === undefined) throw new Error(WRONG_KEY);
      const { sealed } = opened;
      if (!isSealed(sealed)) throw new Error('shape');
      // Kept past the state's own expiry: by then it no longer verifies.
      const until = Math.ceil(now() / 1000) + REQUEST_STATE_TTL_SECONDS;
      if (!(await dependency(() => ledger.spend(sealed.n, until)))) throw new Error('spent');
      return sealed.s;
    },
  };
}
