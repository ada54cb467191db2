/**
 * The AWS {@link CodeStore}: one DynamoDB item per value (partition key `pk`, the value in `v`,
 * the deadline in the TTL attribute `expiresAt`). `put` refuses a taken key
 * (`attribute_not_exists`); `take` is one DeleteItem returning the old item, so two
 * concurrent redemptions of a code cannot both get it. DynamoDB deletes expired items only
 * eventually, so `take` checks the deadline itself.
 */
import { type CodeStore, CodeStoreConflictError } from './ports';

type Value = string | number;

/** The DynamoDB calls the store makes (the small AWS client's `DynamoDbClient` has this shape). */
export interface DynamoPort {
  putItem(input: {
    readonly TableName: string;
    readonly Item: Record<string, Value>;
    readonly ConditionExpression?: string;
  }): Promise<unknown>;
  deleteItem(input: {
    readonly TableName: string;
    readonly Key: Record<string, Value>;
    readonly ReturnValues?: 'NONE' | 'ALL_OLD';
  }): Promise<{ readonly Attributes?: Record<string, unknown> }>;
}

export const CODE_TABLE_KEYS = { partitionKey: 'pk', ttl: 'expiresAt', value: 'v' } as const;

export class DynamoDbCodeStore implements CodeStore {
  constructor(
    private readonly dynamo: DynamoPort,
    private readonly tableName: string,
    private readonly now: () => number = Date.now,
  ) {}

  async put(key: string, value: string, expiresAtEpochSeconds: number): Promise<void> {
    const K = CODE_TABLE_KEYS;
    try {
      await this.dynamo.putItem({
        TableName: this.tableName,
        Item: { [K.partitionKey]: key, [K.value]: value, [K.ttl]: expiresAtEpochSeconds },
        // A key is used once: an existing (even expired, not yet swept) item is a conflict.
        ConditionExpression: `attribute_not_exists(${K.partitionKey})`,
      });
    } catch (error) {
      const code = (error as { code?: unknown; name?: unknown } | null) ?? {};
      if (
        code.code === 'ConditionalCheckFailedException' ||
        code.name === 'ConditionalCheckFailedException'
      ) {
        throw new CodeStoreConflictError('The key is already taken', { cause: error });
      }
      throw error;
    }
  }

  async take(key: string): Promise<string | undefined> {
    const K = CODE_TABLE_KEYS;
    const { Attributes: item } = await this.dynamo.deleteItem({
      TableName: this.tableName,
      Key: { [K.partitionKey]: key },
      ReturnValues: 'ALL_OLD',
    });
    if (item === undefined) return undefined;
    const value = item[K.value];
    const expiresAt = item[K.ttl];
    if (typeof value !== 'string' || typeof expiresAt !== 'number') return undefined;
    return expiresAt > Math.floor(this.now() / 1000) ? value : undefined;
  }
}
