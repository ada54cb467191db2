/**
 * An embedded DynamoDB (dynalite, in memory) on loopback: local mode's stand-in for DynamoDB.
 * Modules create and seed their own tables in it (their `local` hook), and the real DynamoDB
 * adapters talk to it, so nothing in a store is mocked.
 */
import type { AddressInfo } from 'node:net';
import dynalite from 'dynalite';
import type { DynamoDbClient } from '../../lambda/shared/aws/dynamodb';

export interface LocalDynamo {
  readonly endpoint: string;
  stop(): Promise<void>;
}

export async function startLocalDynamo(): Promise<LocalDynamo> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
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
