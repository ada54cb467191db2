/**
 * An embedded DynamoDB (dynalite) for one test file, with tables keyed by one string partition
 * key each, created before the file's tests and gone with it: for stores tested against the
 * real DynamoDB protocol, conditions and error codes included.
 */
import { afterAll, beforeAll } from 'vitest';
import { DynamoDbClient } from '../../lambda/shared/aws/dynamodb';
import { type LocalDynamo, startLocalDynamo } from '../../tools/local-dynamo';

export interface DynaliteTables {
  /** The document client pointed at the embedded DynamoDB (set once the tables exist). */
  db: DynamoDbClient;
}

/** Register beforeAll/afterAll hooks creating `tables` (name → partition key attribute). */
export function useDynaliteTables(tables: Readonly<Record<string, string>>): DynaliteTables {
  const fixture = {} as DynaliteTables;
  let dynamo: LocalDynamo | undefined;
  beforeAll(async () => {
    dynamo = await startLocalDynamo();
    fixture.db = new DynamoDbClient({
      endpoint: dynamo.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    for (const [name, partitionKey] of Object.entries(tables)) {
      await fixture.db.client.call('CreateTable', {
        TableName: name,
        AttributeDefinitions: [{ AttributeName: partitionKey, AttributeType: 'S' }],
        KeySchema: [{ AttributeName: partitionKey, KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      });
      await fixture.db.waitForTable(name);
    }
  });
  afterAll(() => dynamo?.stop());
  return fixture;
}
