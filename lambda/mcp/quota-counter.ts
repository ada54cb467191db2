/**
 * Where quota uses are counted: one counter per caller, rule and window, taken one use at a
 * time with a condition, so that of any number of concurrent Lambda instances no more than the
 * limit are ever admitted.
 *
 * In AWS, DynamoDB: one `UpdateItem` per use, `ADD count 1` on the condition that the counter
 * is absent or below the limit (`ConditionalCheckFailedException`: the window is full). The
 * item carries its window's end in the table's TTL attribute; DynamoDB deletes it some time
 * after (within days), and no read depends on that, since each window has its own key.
 * A retried attempt whose first try had landed counts the use twice: the error is always on
 * the side of refusing, never of admitting more.
 */
import type { DynamoDbClient } from '../shared/aws/dynamodb';
import { isAwsError } from '../shared/aws/error';

export interface QuotaCounter {
  /**
   * Take one use of the counter `key` if fewer than `limit` were taken: the count after
   * taking, or `undefined` when the window is full. Rejects when the store fails.
   */
  take(key: string, limit: number, expiresAtEpochSeconds: number): Promise<number | undefined>;
  /** Give back one use taken by this request (another of its rules refused it). */
  giveBack(key: string): Promise<void>;
}

/** The counter table's attributes (`lib/quota-table.ts` defines the table). */
export const QUOTA_COUNTER_ATTRIBUTES = {
  /** Which rule, caller and window (`counterKey`). */
  partitionKey: 'counter',
  count: 'uses',
  ttl: 'expiresAt',
} as const;

/** The DynamoDB call the counter makes (the small AWS client's `DynamoDbClient` has it). */
export type UpdateItemPort = Pick<DynamoDbClient, 'updateItem'>;

/** A quota check waits this long for DynamoDB before the call is refused (one attempt). */
const ATTEMPT_TIMEOUT_MS = 1_000;

export class DynamoQuotaCounter implements QuotaCounter {
  constructor(
    private readonly dynamo: UpdateItemPort,
    private readonly tableName: string,
  ) {}

  async take(key: string, limit: number, expiresAt: number): Promise<number | undefined> {
    const A = QUOTA_COUNTER_ATTRIBUTES;
    try {
      const { Attributes } = await this.dynamo.updateItem(
        {
          TableName: this.tableName,
          Key: { [A.partitionKey]: key },
          UpdateExpression: 'ADD #uses :one SET #expiresAt = :expiresAt',
          ConditionExpression: 'attribute_not_exists(#uses) OR #uses < :limit',
          ExpressionAttributeNames: { '#uses': A.count, '#expiresAt': A.ttl },
          ExpressionAttributeValues: { ':one': 1, ':limit': limit, ':expiresAt': expiresAt },
          ReturnValues: 'UPDATED_NEW',
        },
        { attemptTimeoutMs: ATTEMPT_TIMEOUT_MS },
      );
      const uses = Attributes?.[A.count];
      if (typeof uses !== 'number') throw new TypeError('UpdateItem answered no use count');
      return uses;
    } catch (error) {
      if (isAwsError(error, 'ConditionalCheckFailedException')) return undefined;
      throw error;
    }
  }

  async giveBack(key: string): Promise<void> {
    const A = QUOTA_COUNTER_ATTRIBUTES;
    try {
      await this.dynamo.updateItem(
        {
          TableName: this.tableName,
          Key: { [A.partitionKey]: key },
          UpdateExpression: 'ADD #uses :minusOne',
          // Only a counter that exists and holds this request's use.
          ConditionExpression: '#uses > :zero',
          ExpressionAttributeNames: { '#uses': A.count },
          ExpressionAttributeValues: { ':minusOne': -1, ':zero': 0 },
        },
        { attemptTimeoutMs: ATTEMPT_TIMEOUT_MS },
      );
    } catch (error) {
      if (isAwsError(error, 'ConditionalCheckFailedException')) return;
      throw error;
    }
  }
}

/** One process's counters: for tests and scripts; never shared by Lambda instances. */
export class MemoryQuotaCounter implements QuotaCounter {
  readonly #uses = new Map<string, number>();

  async take(key: string, limit: number, _expiresAt?: number): Promise<number | undefined> {
    const uses = this.#uses.get(key) ?? 0;
    if (uses >= limit) return undefined;
    this.#uses.set(key, uses + 1);
    return uses + 1;
  }

  async giveBack(key: string): Promise<void> {
    const uses = this.#uses.get(key) ?? 0;
    if (uses > 0) this.#uses.set(key, uses - 1);
  }
}
