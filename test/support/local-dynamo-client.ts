/**
 * An embedded DynamoDB (`tools/local/dynamo.ts`) with the project's own DynamoDB client on it,
 * for a test file that creates tables of its own.
 */
import { DynamoDbClient } from '../../lambda/shared/aws/dynamodb';
import { type LocalDynamo, startLocalDynamo } from '../../tools/local/dynamo';

export { createKeyedTable } from '../../tools/local/dynamo';

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
