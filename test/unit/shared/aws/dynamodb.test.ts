/**
 * The DynamoDB document client against an embedded DynamoDB (dynalite): every operation the
 * project uses, with marshalling, conditions and the service's error codes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type DynamoDbClient,
  marshallItem,
  unmarshallItem,
} from '../../../../lambda/shared/aws/dynamodb';
import type { LocalDynamo } from '../../../../tools/local/dynamo';
import { createKeyedTable, startLocalDynamoClient } from '../../../support/local-dynamo-client';

const TABLE = 'things';
const EVENTS = 'events';

let dynamo: LocalDynamo;
let db: DynamoDbClient;

beforeAll(async () => {
  ({ dynamo, db } = await startLocalDynamoClient());
  await createKeyedTable(db, TABLE);
  await db.client.call('CreateTable', {
    TableName: EVENTS,
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'at', AttributeType: 'N' },
    ],
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'at', KeyType: 'RANGE' },
    ],
    BillingMode: 'PAY_PER_REQUEST',
  });
  await db.waitForTable(EVENTS);
});

afterAll(async () => {
  await dynamo?.stop();
});

describe('DynamoDbClient', () => {
  it('puts and gets back an item of every attribute type, nested', async () => {
    // Prepare
    const item = {
      id: 'every-type',
      text: 'hello',
      count: 42,
      ratio: 0.25,
      yes: true,
      nothing: null,
      bytes: new Uint8Array([0, 1, 254, 255]),
      list: [1, 'two', { three: [3] }],
      map: { nested: { deeper: 'value', bytes: new Uint8Array([7]) } },
      strings: new Set(['a', 'b']),
      numbers: new Set([1, 2]),
    };

    // Act
    await db.putItem({ TableName: TABLE, Item: item });
    const { Item } = await db.getItem({ TableName: TABLE, Key: { id: 'every-type' } });

    // Assess
    expect(Item).toEqual(item);
  });

  it('drops undefined attributes instead of refusing the item', async () => {
    // Act
    await db.putItem({ TableName: TABLE, Item: { id: 'sparse', kept: 1, dropped: undefined } });
    const { Item } = await db.getItem({ TableName: TABLE, Key: { id: 'sparse' } });

    // Assess
    expect(Item).toEqual({ id: 'sparse', kept: 1 });
  });

  it('answers no Item for a key that is not there', async () => {
    // Act
    const answer = await db.getItem({
      TableName: TABLE,
      Key: { id: 'absent' },
      ConsistentRead: true,
    });

    // Assess
    expect(answer).toEqual({});
  });

  it('refuses a conditional put on an existing key with ConditionalCheckFailedException', async () => {
    // Prepare
    await db.putItem({ TableName: TABLE, Item: { id: 'once', v: 1 } });

    // Act
    const putting = db.putItem({
      TableName: TABLE,
      Item: { id: 'once', v: 2 },
      ConditionExpression: 'attribute_not_exists(id)',
    });

    // Assess
    await expect(putting).rejects.toMatchObject({
      name: 'AwsError',
      code: 'ConditionalCheckFailedException',
      status: 400,
      retryable: false,
    });
    expect((await db.getItem({ TableName: TABLE, Key: { id: 'once' } })).Item).toEqual({
      id: 'once',
      v: 1,
    });
  });

  it('deletes with a condition on a bound value and returns the old item', async () => {
    // Prepare
    await db.putItem({ TableName: TABLE, Item: { id: 'doomed', owner: 'alice' } });

    // Act
    const refused = await db
      .deleteItem({
        TableName: TABLE,
        Key: { id: 'doomed' },
        ConditionExpression: '#owner = :owner',
        ExpressionAttributeNames: { '#owner': 'owner' },
        ExpressionAttributeValues: { ':owner': 'mallory' },
        ReturnValues: 'ALL_OLD',
      })
      .catch((error: unknown) => error);
    const deleted = await db.deleteItem({
      TableName: TABLE,
      Key: { id: 'doomed' },
      ConditionExpression: '#owner = :owner',
      ExpressionAttributeNames: { '#owner': 'owner' },
      ExpressionAttributeValues: { ':owner': 'alice' },
      ReturnValues: 'ALL_OLD',
    });

    // Assess
    expect(refused).toMatchObject({ code: 'ConditionalCheckFailedException' });
    expect(deleted).toEqual({ Attributes: { id: 'doomed', owner: 'alice' } });
  });

  it('returns no Attributes when deleting a key that is not there', async () => {
    // Act
    const deleted = await db.deleteItem({
      TableName: TABLE,
      Key: { id: 'never-was' },
      ReturnValues: 'ALL_OLD',
    });

    // Assess
    expect(deleted).toEqual({});
  });

  it('updates in place and returns the new item', async () => {
    // Prepare
    await db.putItem({ TableName: TABLE, Item: { id: 'counter', n: 1 } });

    // Act
    const updated = await db.updateItem({
      TableName: TABLE,
      Key: { id: 'counter' },
      UpdateExpression: 'SET n = n + :one, #tag = :tag',
      ExpressionAttributeNames: { '#tag': 'tag' },
      ExpressionAttributeValues: { ':one': 1, ':tag': 'bumped' },
      ReturnValues: 'ALL_NEW',
    });

    // Assess
    expect(updated).toEqual({ Attributes: { id: 'counter', n: 2, tag: 'bumped' } });
  });

  it('queries a partition in sort-key order, page by page', async () => {
    // Prepare
    for (const at of [3, 1, 2]) {
      await db.putItem({ TableName: EVENTS, Item: { pk: 'user#1', at, what: `e${at}` } });
    }
    await db.putItem({ TableName: EVENTS, Item: { pk: 'user#2', at: 9, what: 'other' } });

    // Act
    const first = await db.query({
      TableName: EVENTS,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': 'user#1' },
      Limit: 2,
    });
    const second = await db.query({
      TableName: EVENTS,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': 'user#1' },
      Limit: 2,
      ExclusiveStartKey: first.LastEvaluatedKey,
    });

    // Assess
    expect(first.Items.map((i) => i.at)).toEqual([1, 2]);
    expect(first.LastEvaluatedKey).toEqual({ pk: 'user#1', at: 2 });
    expect(second.Items.map((i) => i.at)).toEqual([3]);
  });

  it('scans with a filter, counting what it read and what matched', async () => {
    // Act
    const page = await db.scan({
      TableName: EVENTS,
      FilterExpression: 'what = :what',
      ExpressionAttributeValues: { ':what': 'other' },
    });

    // Assess
    expect({ items: page.Items, count: page.Count, scanned: page.ScannedCount }).toEqual({
      items: [{ pk: 'user#2', at: 9, what: 'other' }],
      count: 1,
      scanned: 4,
    });
  });

  it('reports a missing table as ResourceNotFoundException', async () => {
    // Act
    const getting = db.getItem({ TableName: 'no-such-table', Key: { id: 'x' } });

    // Assess
    await expect(getting).rejects.toMatchObject({
      code: 'ResourceNotFoundException',
      status: 400,
    });
  });
});

describe('DynamoDbClient.waitForTable', () => {
  it('returns once a table just created can be read', async () => {
    // Prepare
    await db.client.call('CreateTable', {
      TableName: 'fresh',
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    });

    // Act
    await db.waitForTable('fresh');

    // Assess
    await expect(db.getItem({ TableName: 'fresh', Key: { id: 'x' } })).resolves.toEqual({});
  });

  it('rejects with ResourceNotFoundException for a table that was never created', async () => {
    // Act
    const waiting = db.waitForTable('never-created', 100);

    // Assess
    await expect(waiting).rejects.toMatchObject({ code: 'ResourceNotFoundException' });
  });
});

describe('marshalling', () => {
  it('sends binaries as base64 text and reads them back as bytes', () => {
    // Act
    const wire = marshallItem({ b: new Uint8Array([1, 2, 3]), l: [new Uint8Array([4])] });

    // Assess
    expect(wire).toEqual({ b: { B: 'AQID' }, l: { L: [{ B: 'BA==' }] } });
    expect(unmarshallItem(wire)).toEqual({
      b: new Uint8Array([1, 2, 3]),
      l: [new Uint8Array([4])],
    });
  });

  it('refuses an answer that is not an attribute map', () => {
    // Act
    const reading = () => unmarshallItem(['not', 'a', 'map'], 'GetItem');

    // Assess
    expect(reading).toThrow(expect.objectContaining({ code: 'InvalidResponseError' }));
  });
});
