/**
 * Failures a test asks of the stand-ins, as AWS can answer them: the next N calls of an
 * operation (`DynamoDB` `GetItem`, `SecretsManager` `GetSecretValue`, `KMS` `Decrypt`) answered
 * with a service error instead of being served (a throttle, an outage), whatever code made
 * them. The functions under test see exactly what their AWS client would.
 */
export interface Fault {
  /** The error code, e.g. `ProvisionedThroughputExceededException`. */
  readonly code: string;
  /** @default 400 */
  readonly status?: number;
  readonly message?: string;
}

export class Faults {
  readonly #pending = new Map<string, (Fault & { remaining: number })[]>();

  /** Fail the next `times` calls of `service` `operation` with `fault`. */
  failNext(service: string, operation: string, fault: Fault, times = 1): void {
    const key = `${service} ${operation}`;
    this.#pending.set(key, [...(this.#pending.get(key) ?? []), { ...fault, remaining: times }]);
  }

  /** The fault for this call, if one is pending (counted down). */
  take(service: string, operation: string): Fault | undefined {
    const list = this.#pending.get(`${service} ${operation}`);
    const fault = list?.[0];
    if (fault === undefined) return undefined;
    fault.remaining -= 1;
    if (fault.remaining <= 0) list?.shift();
    return fault;
  }

  clear(): void {
    this.#pending.clear();
  }
}
