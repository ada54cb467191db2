/**
 * The quota step of the gate: after the roles (and rules) allow a call, read or get, each
 * quota counting it takes one use before any item code runs. The first rule over its limit
 * refuses the request (HTTP 429, JSON-RPC -32023 with `retryAfterMs`); uses the request
 * already took under other rules are given back, so a refused request costs no quota.
 */
import type { PolicyItem } from '../shared/policy';
import type { Principal } from '../shared/principal';
import { counterKey, type QuotaRule, type QuotaTable, quotasFor, windowOf } from '../shared/quota';
import { JSONRPC, jsonRpcErrorFor } from './http';
import type { QuotaCounter } from './quota-counter';

export type Admission =
  | { readonly kind: 'admitted'; readonly rules: readonly QuotaRule[] }
  | {
      readonly kind: 'limited';
      readonly rule: QuotaRule;
      /** Until the window ends: when a use is admitted again. */
      readonly retryAfterMs: number;
    }
  | { readonly kind: 'unavailable'; readonly rule: QuotaRule; readonly error: unknown };

export interface QuotaGate {
  admit(principal: Principal, item: PolicyItem): Promise<Admission>;
}

export interface QuotaGateDeps {
  readonly table: QuotaTable;
  readonly counter: QuotaCounter;
  readonly now?: () => number;
  /** Told of a use that could not be given back (the counter keeps one use too many). */
  readonly onGiveBackFailed?: (rule: QuotaRule, error: unknown) => void;
  /** Told of a use let through uncounted (`whenUnavailable: 'allow'`). */
  readonly onUncounted?: (rule: QuotaRule, error: unknown) => void;
}

export function createQuotaGate(deps: QuotaGateDeps): QuotaGate {
  const now = deps.now ?? Date.now;
  return {
    async admit(principal, item) {
      const rules = quotasFor(deps.table, item);
      const taken: { rule: QuotaRule; key: string }[] = [];
      const giveBack = async () => {
        for (const { rule, key } of taken) {
          try {
            await deps.counter.giveBack(key);
          } catch (error) {
            deps.onGiveBackFailed?.(rule, error);
          }
        }
      };
      for (const rule of rules) {
        const at = now();
        const window = windowOf(rule, at);
        const key = counterKey(rule, principal, window.start);
        let uses: number | undefined;
        try {
          uses = await deps.counter.take(key, rule.limit, window.end);
        } catch (error) {
          if (rule.whenUnavailable === 'allow') {
            deps.onUncounted?.(rule, error);
            continue;
          }
          await giveBack();
          return { kind: 'unavailable', rule, error };
        }
        if (uses === undefined) {
          await giveBack();
          return { kind: 'limited', rule, retryAfterMs: Math.max(window.end * 1000 - at, 1) };
        }
        taken.push({ rule, key });
      }
      return { kind: 'admitted', rules };
    },
  };
}

/** JSON-RPC RateLimited: the code SEP-3304 (draft of 2026-08-25) reserves, bound to HTTP 429. */
export const RATE_LIMITED_CODE = -32023;

/** How long a client should wait after a quota's counter failed (HTTP 503). */
export const QUOTA_UNAVAILABLE_RETRY_SECONDS = 5;

/**
 * The answer to a request a quota refused, the same on both eras.
 *
 * Over the limit, as SEP-3304 (draft of 2026-08-25) has it: HTTP 429, JSON-RPC -32023 with
 * `data.retryAfterMs` (RL-1, RL-2), `Retry-After` in whole seconds (RL-3), and the limit and
 * what remains of it (0) in `data` and in `RateLimit-Limit` / `RateLimit-Remaining` (RL-4,
 * RL-5): the caller's own quota, nothing of anyone else's. A 2025-11-25 client reads the same
 * JSON-RPC error in the body of the 429.
 *
 * The counter unavailable: HTTP 503 with `Retry-After`, JSON-RPC internal error; not -32023,
 * which would tell the client it used its quota.
 */
export function quotaRefusal(
  admission: Exclude<Admission, { kind: 'admitted' }>,
  id: unknown,
): { statusCode: number; headers: Record<string, string>; body: string } {
  const { rule } = admission;
  if (admission.kind === 'unavailable') {
    const answer = jsonRpcErrorFor(
      id,
      JSONRPC.internalError,
      `Temporarily unavailable: the use could not be counted against the quota ${rule.id}; try again shortly`,
    );
    return {
      ...answer,
      statusCode: 503,
      headers: { ...answer.headers, 'Retry-After': String(QUOTA_UNAVAILABLE_RETRY_SECONDS) },
    };
  }
  const retryAfterSeconds = Math.ceil(admission.retryAfterMs / 1000);
  const answer = jsonRpcErrorFor(
    id,
    RATE_LIMITED_CODE,
    `Rate limited: the quota ${rule.id} allows ${rule.limit} per ${rule.windowSeconds} s; try again in ${retryAfterSeconds} s`,
    { retryAfterMs: admission.retryAfterMs, limit: rule.limit, remaining: 0 },
  );
  return {
    ...answer,
    statusCode: 429,
    headers: {
      ...answer.headers,
      'Retry-After': String(retryAfterSeconds),
      'RateLimit-Limit': String(rule.limit),
      'RateLimit-Remaining': '0',
    },
  };
}
