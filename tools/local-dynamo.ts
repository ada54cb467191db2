/**
 * An embedded DynamoDB (dynalite, in memory) on loopback, with the records table created and
 * seeded: the real DynamoDB adapter talks to it, so nothing in the store is mocked.
 */
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import type { RecordStore } from '../lambda/mcp/store/customer-record';
import { DynamoRecordStore } from '../lambda/mcp/store/dynamodb-record-store';
import { sampleRecords } from '../lambda/mcp/store/sample-records';

export const LOCAL_TABLE_NAME = 'mcp-records-local';

export interface LocalDynamo {
  readonly endpoint: string;
  readonly client: DynamoDBClient;
  readonly store: RecordStore;
  stop(): Promise<void>;
}

export async function startLocalDynamo(options: { seed?: boolean } = {}): Promise<LocalDynamo> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    // dynalite ignores credentials; fixed dummies keep the SDK from searching for real ones.
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  await client.send(
    new CreateTableCommand({
      TableName: LOCAL_TABLE_NAME,
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  const store = new DynamoRecordStore(client, LOCAL_TABLE_NAME);
  if (options.seed ?? true) {
    const seededAt = new Date('2026-01-01T00:00:00.000Z');
    for (const { id, fields } of sampleRecords()) await store.put(id, fields, seededAt);
  }
  return {
    endpoint,
    client,
    store,
    stop: async () => {
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
