/**
 * An embedded DynamoDB (dynalite) for one test file, with tables keyed by one string partition
 * key each, created before the file's tests and gone with it: for stores tested against the
 * real DynamoDB protocol, conditions and error codes included.
 */
import { afterAll, beforeAll } from 'vitest';
import type { DynamoDbClient } from '../../lambda/shared/aws/dynamodb';
import {
  createKeyedTable,
  type LocalDynamoClient,
  startLocalDynamoClient,
} from './local-dynamo-client';

export interface DynaliteTables {
  /** The document client pointed at the embedded DynamoDB (set once the tables exist). */
  db: DynamoDbClient;
  /** The embedded DynamoDB's endpoint (set once the tables exist). */
  endpoint: string;
}

/** Register beforeAll/afterAll hooks creating `tables` (name → partition key attribute). */
export function useDynaliteTables(tables: Readonly<Record<string, string>>): DynaliteTables {
  const fixture = {} as DynaliteTables;
  let local: LocalDynamoClient | undefined;
  beforeAll(async () => {
    local = await startLocalDynamoClient();
    fixture.db = local.db;
    fixture.endpoint = local.dynamo.endpoint;
    for (const [name, partitionKey] of Object.entries(tables)) {
      await createKeyedTable(local.db, name, partitionKey);
    }
  });
  afterAll(() => local?.dynamo.stop());
  return fixture;
}
