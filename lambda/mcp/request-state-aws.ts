/**
 * The deployment's request-state keys and ledger, shared by every instance of the MCP function
 * (see `request-state.ts` for why they must be).
 *
 * - **Keys**: derived from a KMS HMAC key, never stored. The key for a period (a UTC day) is
 *   KMS's HMAC of a label naming the period (`GenerateMac`, RFC 2104): a pseudorandom function
 *   of a key that never leaves KMS, so every instance derives the same 32 bytes and no one
 *   without `kms:GenerateMac` on the key can. Each period has a new key, and a state sealed
 *   under the previous one still opens within its TTL of the change (and under the next one
 *   within a minute of it, for a clock a little ahead). One KMS call per period per instance,
 *   only when a multi-round item runs; a failure is not remembered, so the next request tries
 *   again.
 * - **Ledger**: one DynamoDB item per spent nonce, written with a condition that it is not
 *   there yet (`attribute_not_exists`), so of two instances spending one state at once exactly
 *   one succeeds; DynamoDB's TTL deletes it once the state could no longer verify anyway.
 */
import type { DynamoDbClient } from '../shared/aws/dynamodb';
import { isAwsError } from '../shared/aws/error';
import type { KmsClient } from '../shared/aws/kms';
import {
  REQUEST_STATE_TTL_SECONDS,
  type RequestStateKeyRing,
  type RequestStateLedger,
} from './request-state';

/** How long one derived key seals new states: a UTC day. */
export const REQUEST_STATE_KEY_PERIOD_SECONDS = 86_400;

/** How far another instance's clock may be ahead: a key of the next period opens this early. */
const CLOCK_SKEW_SECONDS = 60;

/** What a period's key is the HMAC of: versioned, so a new scheme never reuses a key. */
export function requestStateKeyLabel(period: number): Uint8Array {
  return new TextEncoder().encode(`secure-mcp/mcp-request-state/v1/${period}`);
}

/** The KMS call the ring makes (the small AWS client's `KmsClient` has it). */
export type MacPort = Pick<KmsClient, 'generateMac'>;

export class KmsRequestStateKeyRing implements RequestStateKeyRing {
  readonly #kms: MacPort;
  readonly #keyId: string;
  readonly #now: () => number;
  readonly #keys = new Map<number, Promise<Uint8Array>>();

  /**
   * @param keyId the HMAC_256 KMS key (`GENERATE_VERIFY_MAC`) the function may GenerateMac with
   */
  constructor(kms: MacPort, keyId: string, now: () => number = Date.now) {
    this.#kms = kms;
    this.#keyId = keyId;
    this.#now = now;
  }

  sealing(): Promise<Uint8Array> {
    return this.#key(this.#period(this.#seconds()));
  }

  async opening(): Promise<readonly Uint8Array[]> {
    const seconds = this.#seconds();
    const period = this.#period(seconds);
    const into = seconds - period * REQUEST_STATE_KEY_PERIOD_SECONDS;
    const periods = [period];
    // A state sealed before the change is still good for its TTL.
    if (into < REQUEST_STATE_TTL_SECONDS + CLOCK_SKEW_SECONDS) periods.push(period - 1);
    // An instance whose clock is ahead may already seal with the next period's key.
    if (REQUEST_STATE_KEY_PERIOD_SECONDS - into <= CLOCK_SKEW_SECONDS) periods.push(period + 1);
    return Promise.all(periods.map((p) => this.#key(p)));
  }

  #seconds(): number {
    return Math.floor(this.#now() / 1000);
  }

  #period(seconds: number): number {
    return Math.floor(seconds / REQUEST_STATE_KEY_PERIOD_SECONDS);
  }

  #key(period: number): Promise<Uint8Array> {
    let key = this.#keys.get(period);
    if (key === undefined) {
      key = this.#kms
        .generateMac({
          KeyId: this.#keyId,
          Message: requestStateKeyLabel(period),
          MacAlgorithm: 'HMAC_SHA_256',
        })
        .then(({ Mac }) => {
          if (Mac.byteLength < 32) throw new Error('GenerateMac answered a MAC under 32 bytes');
          return Mac;
        });
      // A failure is not kept: the next request asks KMS again.
      key.catch(() => this.#keys.delete(period));
      this.#keys.set(period, key);
      // Keep the periods that can still open something.
      for (const known of this.#keys.keys()) {
        if (known < period - 1) this.#keys.delete(known);
      }
    }
    return key;
  }
}

/** The spent-nonce table's attributes (`lib/request-state-store.ts` defines the table). */
export const REQUEST_STATE_LEDGER_ATTRIBUTES = {
  /** Partition key: a state's nonce. */
  partitionKey: 'nonce',
  /** Epoch seconds after which the state can no longer verify: DynamoDB's TTL attribute. */
  ttl: 'expiresAt',
} as const;

/** The DynamoDB call the ledger makes (the small AWS client's `DynamoDbClient` has it). */
export type PutItemPort = Pick<DynamoDbClient, 'putItem'>;

export class DynamoRequestStateLedger implements RequestStateLedger {
  constructor(
    private readonly dynamo: PutItemPort,
    private readonly tableName: string,
  ) {}

  async spend(nonce: string, untilEpochSeconds: number): Promise<boolean> {
    const A = REQUEST_STATE_LEDGER_ATTRIBUTES;
    try {
      await this.dynamo.putItem({
        TableName: this.tableName,
        Item: { [A.partitionKey]: nonce, [A.ttl]: untilEpochSeconds },
        ConditionExpression: `attribute_not_exists(${A.partitionKey})`,
      });
      return true;
    } catch (error) {
      if (isAwsError(error, 'ConditionalCheckFailedException')) return false;
      throw error;
    }
  }
}
