/**
 * Stage and method throttling: a token bucket per method, refilled at the rate limit up to the
 * burst limit ("API Gateway throttles requests to your API using the token bucket algorithm,
 * where a token counts for a request"; "Per-API, per-stage throttling limits are applied at the
 * API method level for a stage"), and the account's 10,000 requests per second with a burst of
 * 5,000 over all of them. A request without a token gets 429 (THROTTLED).
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-request-throttling.html
 */
import type { ThrottleModel } from './api-model';

/** API Gateway's default account quota per Region. */
export const ACCOUNT_THROTTLE = { rateLimit: 10_000, burstLimit: 5_000 } as const;

class TokenBucket {
  #tokens: number;
  #at: number;
  constructor(
    readonly rate: number,
    readonly burst: number,
    now: number,
  ) {
    this.#tokens = burst;
    this.#at = now;
  }

  take(now: number): boolean {
    this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#at) / 1000) * this.rate);
    this.#at = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}

export class Throttle {
  readonly #settings: readonly ThrottleModel[];
  readonly #now: () => number;
  readonly #buckets = new Map<string, TokenBucket>();
  readonly #account: TokenBucket;

  constructor(settings: readonly ThrottleModel[], now: () => number) {
    this.#settings = settings;
    this.#now = now;
    this.#account = new TokenBucket(ACCOUNT_THROTTLE.rateLimit, ACCOUNT_THROTTLE.burstLimit, now());
  }

  /** The limits of one method: its own setting, else the stage's `/*` `*` one, else none. */
  limitsOf(resourcePath: string, httpMethod: string): ThrottleModel | undefined {
    return (
      this.#settings.find((s) => s.resourcePath === resourcePath && s.httpMethod === httpMethod) ??
      this.#settings.find((s) => s.resourcePath === '/*' && s.httpMethod === '*')
    );
  }

  /** Take a token for a request to the method (`ANY` methods are keyed by `ANY`). */
  admit(resourcePath: string, httpMethod: string): boolean {
    const now = this.#now();
    const limits = this.limitsOf(resourcePath, httpMethod);
    if (limits !== undefined) {
      const key = `${httpMethod} ${resourcePath}`;
      let bucket = this.#buckets.get(key);
      if (bucket === undefined) {
        bucket = new TokenBucket(limits.rateLimit, limits.burstLimit, now);
        this.#buckets.set(key, bucket);
      }
      if (!bucket.take(now)) return false;
    }
    return this.#account.take(now);
  }
}
