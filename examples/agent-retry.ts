/**
 * The example agent's limits: how often it retries a busy server, and how often it sends the
 * person to sign in again. Both are bounded, so a server that keeps refusing ends the run
 * with a clear error instead of a loop.
 */
import { computeScopeUnion, type FetchLike } from '@modelcontextprotocol/client';

export interface RetryOptions {
  /** Tries per request, the first included. @default 3 */
  readonly maxAttempts?: number;
  /** First backoff; doubled on each retry, with jitter. @default 250 */
  readonly baseDelayMs?: number;
  /** No single wait is longer; a `Retry-After` beyond it ends the retries. @default 10000 */
  readonly maxDelayMs?: number;
  /** How to wait (tests pass one that records instead). */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** Answers that say the server did not do the work: always safe to send again. */
const NOT_PROCESSED = new Set([429, 503]);
/** Answers after which the work may have been done: retried only for requests with no effect. */
const MAYBE_PROCESSED = new Set([500, 502, 504]);

/** Whether a request body is, or holds, a `tools/call` (a call is not repeated blindly). */
function callsATool(body: unknown): boolean {
  if (typeof body !== 'string') return false;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return false; // Not JSON (a form post to the token endpoint): no call.
  }
  const messages: unknown[] = Array.isArray(parsed) ? parsed : [parsed];
  return messages.some(
    (message) =>
      typeof message === 'object' &&
      message !== null &&
      'method' in message &&
      message.method === 'tools/call',
  );
}

/** `Retry-After` in milliseconds (seconds or an HTTP date), when present and valid. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * `fetch` that retries 429 and 503 (and 500/502/504 unless the request holds a `tools/call`,
 * which may already have run) with exponential backoff and full jitter, honouring
 * `Retry-After`, at most `maxAttempts` tries. Any other answer, and the last one, is
 * returned as it came.
 */
export function retryingFetch(base: FetchLike, options: RetryOptions = {}): FetchLike {
  const maxAttempts = Math.max(1, options.maxAttempts ?? 3);
  const baseDelay = options.baseDelayMs ?? 250;
  const maxDelay = options.maxDelayMs ?? 10_000;
  const sleep =
    options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  return async (input, init) => {
    const sideEffects = callsATool(init?.body);
    for (let attempt = 1; ; attempt++) {
      const response = await base(input, init);
      const retryable =
        NOT_PROCESSED.has(response.status) ||
        (!sideEffects && MAYBE_PROCESSED.has(response.status));
      if (!retryable || attempt >= maxAttempts) return response;
      const asked = retryAfterMs(response.headers.get('retry-after'));
      if (asked !== undefined && asked > maxDelay) return response;
      const backoff = Math.random() * Math.min(maxDelay, baseDelay * 2 ** (attempt - 1));
      await response.body?.cancel();
      await sleep(asked ?? backoff);
    }
  };
}

/** Why the agent stops instead of sending the person to sign in again. */
export class SignInLimitError extends Error {
  override readonly name = 'SignInLimitError';
}

/**
 * How many authorizations one run may start. A first sign-in plus one step-up per operation
 * is the normal worst case; the MCP spec asks clients to stop after "a few" and the
 * conformance suite counts three as the most a client may try.
 */
export const MAX_AUTHORIZATIONS = 3;
/** Step-ups per operation: after one re-authorization a 403 is a permanent refusal. */
export const MAX_STEP_UPS_PER_OPERATION = 1;

/**
 * The scopes to ask for in a step-up: every scope asked for before, the token's granted ones
 * and the challenged ones (the spec's union, so a step-up never loses a permission).
 */
export function stepUpScope(
  requested: Iterable<string>,
  granted: string | undefined,
  challenged: string | undefined,
): string | undefined {
  return computeScopeUnion([...requested].join(' '), granted, challenged);
}

/** Counts authorizations for the run, and step-ups per operation, and says when to stop. */
export class AuthorizationBudget {
  #started = 0;
  constructor(private readonly max = MAX_AUTHORIZATIONS) {}

  /** Call before sending the person to sign in; throws once the run's budget is spent. */
  spend(reason: string): void {
    if (this.#started >= this.max) {
      throw new SignInLimitError(
        `Gave up after ${this.max} sign-ins (${reason}): the server keeps refusing; check your groups and the scopes it asks for`,
      );
    }
    this.#started++;
  }

  get started(): number {
    return this.#started;
  }
}
