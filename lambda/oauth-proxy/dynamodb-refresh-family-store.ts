/**
 * The AWS {@link RefreshFamilyStore}: one DynamoDB item per family (partition key `pk`, the
 * SHA-256 of the family id), read strongly consistent, changed only by conditional writes, so
 * of two refreshes with the same token exactly one rotates the family. DynamoDB deletes an item
 * only some time after its TTL, so `get` checks the deadline itself.
 */
import type { DynamoDbClient } from '../shared/aws/dynamodb';
import { isAwsError } from '../shared/aws/error';
import {
  type RefreshFamily,
  RefreshFamilyConflictError,
  type RefreshFamilyEnd,
  type RefreshFamilyStore,
} from './refresh-families';

/** The table's attribute names (the CDK construct declares the key and TTL from here). */
export const REFRESH_FAMILY_ATTRIBUTES = {
  partitionKey: 'pk',
  secretHash: 'secretHash',
  generation: 'generation',
  sealed: 'sealed',
  /** Epoch seconds: the family's end, DynamoDB's TTL attribute. */
  ttl: 'expiresAt',
  /** Why the family ended early, when it did. */
  ended: 'ended',
  /** Epoch seconds of the last change: for an operator reading the table. */
  updatedAt: 'updatedAt',
} as const;

const A = REFRESH_FAMILY_ATTRIBUTES;
const ENDS: ReadonlySet<string> = new Set<RefreshFamilyEnd>([
  'refresh_token_reused',
  'refresh_client_mismatch',
  'session_ended',
  'upstream_refused',
]);

/** An item that is not a family's shape: refused (a server error), never half read. */
export class RefreshFamilyItemError extends Error {
  override readonly name = 'RefreshFamilyItemError';
}

export class DynamoDbRefreshFamilyStore implements RefreshFamilyStore {
  constructor(
    private readonly dynamo: Pick<DynamoDbClient, 'getItem' | 'putItem' | 'updateItem'>,
    private readonly tableName: string,
    private readonly now: () => number = Date.now,
  ) {}

  #seconds(): number {
    return Math.floor(this.now() / 1000);
  }

  async create(
    key: string,
    family: { readonly secretHash: string; readonly sealed: string; readonly expiresAt: number },
  ): Promise<void> {
    try {
      await this.dynamo.putItem({
        TableName: this.tableName,
        Item: {
          [A.partitionKey]: key,
          [A.secretHash]: family.secretHash,
          [A.generation]: 0,
          [A.sealed]: family.sealed,
          [A.ttl]: family.expiresAt,
          [A.updatedAt]: this.#seconds(),
        },
        ConditionExpression: 'attribute_not_exists(#pk)',
        ExpressionAttributeNames: { '#pk': A.partitionKey },
      });
    } catch (error) {
      if (isAwsError(error, 'ConditionalCheckFailedException')) {
        throw new RefreshFamilyConflictError('The family id is taken', { cause: error });
      }
      throw error;
    }
  }

  async get(key: string): Promise<RefreshFamily | undefined> {
    const { Item: item } = await this.dynamo.getItem({
      TableName: this.tableName,
      Key: { [A.partitionKey]: key },
      // A rotation a moment ago must be seen: an old secret must not pass on a stale read.
      ConsistentRead: true,
    });
    if (item === undefined) return undefined;
    const secretHash = item[A.secretHash];
    const generation = item[A.generation];
    const sealed = item[A.sealed];
    const expiresAt = item[A.ttl];
    const ended = item[A.ended];
    if (
      typeof secretHash !== 'string' ||
      typeof generation !== 'number' ||
      typeof expiresAt !== 'number' ||
      (sealed !== undefined && typeof sealed !== 'string') ||
      (ended !== undefined && !(typeof ended === 'string' && ENDS.has(ended)))
    ) {
      throw new RefreshFamilyItemError(`An item of ${this.tableName} is not a refresh family`);
    }
    if (expiresAt <= this.#seconds()) return undefined;
    return {
      secretHash,
      generation,
      expiresAt,
      ...(sealed === undefined ? {} : { sealed }),
      ...(ended === undefined ? {} : { ended: ended as RefreshFamilyEnd }),
    };
  }

  async rotate(
    key: string,
    expected: Pick<RefreshFamily, 'secretHash' | 'generation'>,
    next: { readonly secretHash: string; readonly sealed: string },
  ): Promise<boolean> {
    try {
      await this.dynamo.updateItem({
        TableName: this.tableName,
        Key: { [A.partitionKey]: key },
        UpdateExpression: 'SET #secret = :next, #gen = :nextGen, #sealed = :sealed, #at = :now',
        ConditionExpression:
          '#secret = :expected AND #gen = :gen AND attribute_not_exists(#ended) AND #exp > :now',
        ExpressionAttributeNames: {
          '#secret': A.secretHash,
          '#gen': A.generation,
          '#sealed': A.sealed,
          '#ended': A.ended,
          '#exp': A.ttl,
          '#at': A.updatedAt,
        },
        ExpressionAttributeValues: {
          ':expected': expected.secretHash,
          ':gen': expected.generation,
          ':next': next.secretHash,
          ':nextGen': expected.generation + 1,
          ':sealed': next.sealed,
          ':now': this.#seconds(),
        },
      });
      return true;
    } catch (error) {
      if (isAwsError(error, 'ConditionalCheckFailedException')) return false;
      throw error;
    }
  }

  async end(key: string, reason: RefreshFamilyEnd): Promise<void> {
    try {
      await this.dynamo.updateItem({
        TableName: this.tableName,
        Key: { [A.partitionKey]: key },
        // The upstream token goes with the family: an ended family holds nothing usable.
        UpdateExpression: 'SET #ended = :reason, #at = :now REMOVE #sealed',
        ConditionExpression: 'attribute_exists(#pk) AND attribute_not_exists(#ended)',
        ExpressionAttributeNames: {
          '#pk': A.partitionKey,
          '#ended': A.ended,
          '#sealed': A.sealed,
          '#at': A.updatedAt,
        },
        ExpressionAttributeValues: { ':reason': reason, ':now': this.#seconds() },
      });
    } catch (error) {
      // Ended already (the first reason stands), or gone: nothing to do.
      if (!isAwsError(error, 'ConditionalCheckFailedException')) throw error;
    }
  }
}
