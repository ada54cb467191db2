/**
 * An embedded DynamoDB (`tools/local-dynamo.ts`) with the project's own DynamoDB client on it,
 * for a test file that creates tables of its own.
 */
import { DynamoDbClient } from '../../lambda/shared/aws/dynamodb';
import { type LocalDynamo, startLocalDynamo } from '../../tools/local-dynamo';

export interface LocalDynamoClient {
  readonly dynamo: LocalDynamo;
  readonly db: DynamoDbClient;
}

export async function startLocalDynamoClient(): Promise<LocalDynamoClient> {
  const dynamo = await startLocalDynamo();
  const db = new DynamoDbClient({
    endpoint: dynamo.endpoint,
    region: 'us-east-1',
    // The embedded DynamoDB ignores credentials; fixed dummies keep the client from looking.
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  return { dynamo, db };
}

/** Create an on-demand table keyed on one string attribute, and wait until it is active. */
export async function createKeyedTable(
  db: DynamoDbClient,
  name: string,
  key = 'id',
): Promise<void> {
  await db.client.call('CreateTable', {
    TableName: name,
    AttributeDefinitions: [{ AttributeName: key, AttributeType: 'S' }],
    KeySchema: [{ AttributeName: key, KeyType: 'HASH' }],
    BillingMode: 'PAY_PER_REQUEST',
  });
  await db.waitForTable(name);
}
