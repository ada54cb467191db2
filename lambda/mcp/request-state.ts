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
 *
 * Where the ledger lives follows from where a state can be verified. With the default key (a
 * random one per instance, which is what the deployment uses) only the instance that sealed a
 * state can open it, so that instance's own memory is a complete ledger: no other instance
 * could accept the state anyway. A key shared by instances needs a ledger shared as widely,
 * and the server refuses to start with a shared key and no ledger.
 */
import { randomBytes } from 'node:crypto';
import {
  createRequestStateCodec,
  type JSONValue,
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

export interface RequestStateSealOptions {
  /** At least 32 bytes; default: random, this instance's own. */
  readonly key?: Uint8Array | string;
  /** Required with a shared `key`; default: this instance's memory. */
  readonly ledger?: RequestStateLedger;
  /** The binding of the request a context belongs to (see {@link requestStateBinding}). */
  readonly bind: (ctx: ServerContext) => string;
  readonly now?: () => number;
}

export class RequestStateConfigurationError extends Error {
  override readonly name = 'RequestStateConfigurationError';
}

/** Seal and open request state: the SDK codec's signature and binding, plus single use. */
export function createRequestStateSeal(options: RequestStateSealOptions) {
  if (options.key !== undefined && options.ledger === undefined) {
    throw new RequestStateConfigurationError(
      'A request-state key shared by instances needs a ledger they share too (requestStateLedger): otherwise a state could be spent once on each instance',
    );
  }
  const now = options.now ?? Date.now;
  const ledger = options.ledger ?? new MemoryRequestStateLedger(now);
  const codec = createRequestStateCodec<JSONValue>({
    key: options.key ?? crypto.getRandomValues(new Uint8Array(32)),
    ttlSeconds: REQUEST_STATE_TTL_SECONDS,
    bind: options.bind,
  });
  return {
    /** Seal an item's state for the next round of this request. */
    mint(state: JSONValue, ctx: ServerContext): Promise<string> {
      const sealed: Sealed = { n: randomBytes(16).toString('base64url'), s: state };
      return codec.mint(sealed as unknown as JSONValue, ctx);
    },
    /**
     * The item's state, if `state` verifies for this request and was never used before; any
     * failure rejects, and the SDK answers -32602 before the item's code runs.
     */
    async verify(state: string, ctx: ServerContext): Promise<JSONValue> {
      const sealed = await codec.verify(state, ctx);
      if (!isSealed(sealed)) throw new Error('shape');
      // Kept past the state's own expiry: by then it no longer verifies.
      const until = Math.ceil(now() / 1000) + REQUEST_STATE_TTL_SECONDS;
      if (!(await ledger.spend(sealed.n, until))) throw new Error('spent');
      return sealed.s;
    },
  };
}
