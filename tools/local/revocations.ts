/**
 * The not-before list in local mode: a table in the embedded DynamoDB, read by the authorizer
 * through the same `DynamoDbRevocationSource` as in AWS, written by the `users` and `keys` CLIs
 * with the same UpdateItem as against the deployed table.
 *
 * The embedded DynamoDB lives in memory and dies with `npm run dev`, while local tokens (signed
 * with the key in `.local/`) outlive it; so every entry is also kept in `.local/revocations.json`
 * and loaded into the table when the server starts. The running server tells the CLIs where its
 * DynamoDB listens in `.local/local-dynamo.json`; with no server running, the file alone is
 * written and the next start loads it.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CreateTableCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { z } from 'zod';
import { RevocationList } from '../../lambda/authorizer/revocation';
import {
  DynamoDbRevocationSource,
  jsonClientScanPort,
} from '../../lambda/authorizer/revocation-dynamodb';
import { AwsJsonClient } from '../../lambda/shared/aws/json-client';
import { DYNAMODB } from '../../lambda/shared/aws/services';
import {
  REVOCATION_ATTRIBUTES as A,
  REVOCATION_RETENTION_SECONDS,
} from '../../lambda/shared/revocations';
import {
  DynamoDbRevocationWriter,
  type NotBefore,
  type RevocationWriter,
} from '../cli/revocation-writer';
import { localDir, writePrivateFile } from './identity';

/** The table local mode creates in the embedded DynamoDB. */
export const LOCAL_REVOCATIONS_TABLE = 'mcp-revocations-local';

export function revocationsFilePath(dir = localDir()): string {
  return join(dir, 'revocations.json');
}

export function localDynamoStatePath(dir = localDir()): string {
  return join(dir, 'local-dynamo.json');
}

/** A client for the embedded DynamoDB: it ignores credentials, fixed dummies keep the SDK quiet. */
export function localDynamoClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    // A server that has gone away should be noticed at once, not retried.
    maxAttempts: 1,
  });
}

/**
 * The authorizer's client for the embedded DynamoDB: the small AWS client it uses in Lambda,
 * pointed at loopback with the dummies the embedded DynamoDB ignores.
 */
export function localAuthorizerDynamo(endpoint: string): AwsJsonClient {
  return new AwsJsonClient(DYNAMODB, {
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
    attemptTimeoutMs: 1000,
  });
}

const storedEntry = z.object({
  notBefore: z.number(),
  sessionNotBefore: z.number().optional(),
  expiresAt: z.number(),
  action: z.string(),
  actor: z.string(),
  updatedAt: z.string(),
});
const fileSchema = z.object({ version: z.literal(1), entries: z.record(z.string(), storedEntry) });
type StoredEntries = z.infer<typeof fileSchema>['entries'];

function readEntries(path: string): StoredEntries {
  if (!existsSync(path)) return {};
  return fileSchema.parse(JSON.parse(readFileSync(path, 'utf8'))).entries;
}

const stateSchema = z.object({
  endpoint: z.url(),
  pid: z.number(),
  /** The not-before table's name (the template's); absent: {@link LOCAL_REVOCATIONS_TABLE}. */
  table: z.string().optional(),
});

/**
 * The writer the CLIs use in local mode: the file always (what a restart loads), then the running
 * server's table through the deployed path's UpdateItem.
 */
export class LocalRevocationWriter implements RevocationWriter {
  readonly description: string;
  readonly #dir: string;
  readonly #now: () => Date;
  /** Whether the last record reached a running server (false: file only, loaded on start). */
  reachedServer = false;

  constructor(dir = localDir(), now: () => Date = () => new Date()) {
    this.#dir = dir;
    this.#now = now;
    this.description = revocationsFilePath(dir);
  }

  async record(entry: NotBefore): Promise<void> {
    const now = this.#now();
    const path = revocationsFilePath(this.#dir);
    const nowSeconds = now.getTime() / 1000;
    const kept = Object.fromEntries(
      Object.entries(readEntries(path)).filter(([, e]) => e.expiresAt > nowSeconds),
    );
    // A sign-out's bound on sessions stays when a later group change moves only notBefore, as
    // the UpdateItem leaves an attribute it does not set.
    const sessionNotBefore = entry.sessions
      ? entry.notBefore
      : kept[entry.principal]?.sessionNotBefore;
    kept[entry.principal] = {
      notBefore: entry.notBefore,
      ...(sessionNotBefore === undefined ? {} : { sessionNotBefore }),
      expiresAt: entry.notBefore + REVOCATION_RETENTION_SECONDS,
      action: entry.action,
      actor: entry.actor,
      updatedAt: now.toISOString(),
    };
    writePrivateFile(path, `${JSON.stringify({ version: 1, entries: kept }, null, 2)}\n`);

    this.reachedServer = false;
    const state = readState(this.#dir);
    if (state === undefined) return;
    const client = localDynamoClient(state.endpoint);
    try {
      await new DynamoDbRevocationWriter({
        client,
        tableName: state.table ?? LOCAL_REVOCATIONS_TABLE,
        now: () => now,
      }).record(entry);
      this.reachedServer = true;
    } catch (error) {
      // A server that stopped without removing its state file: the file holds the entry.
      if (!isConnectionRefused(error)) throw error;
    } finally {
      client.destroy();
    }
  }
}

function readState(dir: string): z.infer<typeof stateSchema> | undefined {
  const path = localDynamoStatePath(dir);
  if (!existsSync(path)) return undefined;
  const state = stateSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
  return state.success ? state.data : undefined;
}

/** Nobody listens there (Node reports each address tried, in an AggregateError when several). */
function isConnectionRefused(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if ((error as NodeJS.ErrnoException).code === 'ECONNREFUSED') return true;
  if (error instanceof AggregateError && error.errors.some(isConnectionRefused)) return true;
  return isConnectionRefused(error.cause);
}

/** The not-before table in an embedded DynamoDB, keyed as the stack's (empty). */
export async function createLocalRevocationsTable(client: DynamoDBClient): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: LOCAL_REVOCATIONS_TABLE,
      AttributeDefinitions: [{ AttributeName: A.principal, AttributeType: 'S' }],
      KeySchema: [{ AttributeName: A.principal, KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
}

export interface LocalRevocations {
  readonly list: RevocationList;
  stop(): void;
}

/**
 * Load the kept entries into the template's not-before table in the emulator's DynamoDB, and
 * tell the CLIs where it is (until `stop`).
 */
export async function loadRevocations(options: {
  readonly dir: string;
  readonly endpoint: string;
  readonly tableName: string;
}): Promise<{ stop(): void }> {
  const client = localDynamoClient(options.endpoint);
  await putKeptEntries(client, options.tableName, options.dir);
  const statePath = localDynamoStatePath(options.dir);
  const state = JSON.stringify({
    endpoint: options.endpoint,
    pid: process.pid,
    table: options.tableName,
  });
  writePrivateFile(statePath, `${state}\n`);
  return {
    stop() {
      // Only our own state: another server may have started on the same folder since.
      if (existsSync(statePath) && readFileSync(statePath, 'utf8').trim() === state) {
        rmSync(statePath, { force: true });
      }
      client.destroy();
    },
  };
}

async function putKeptEntries(
  client: DynamoDBClient,
  tableName: string,
  dir: string,
): Promise<void> {
  const nowSeconds = Date.now() / 1000;
  for (const [principal, entry] of Object.entries(readEntries(revocationsFilePath(dir)))) {
    if (entry.expiresAt <= nowSeconds) continue;
    await client.send(
      new PutItemCommand({
        TableName: tableName,
        Item: {
          [A.principal]: { S: principal },
          [A.notBefore]: { N: String(entry.notBefore) },
          ...(entry.sessionNotBefore === undefined
            ? {}
            : { [A.sessionNotBefore]: { N: String(entry.sessionNotBefore) } }),
          [A.expiresAt]: { N: String(entry.expiresAt) },
          [A.action]: { S: entry.action },
          [A.actor]: { S: entry.actor },
          [A.updatedAt]: { S: entry.updatedAt },
        },
      }),
    );
  }
}

/**
 * Create the table in the embedded DynamoDB, load the kept entries into it, tell the CLIs where
 * it is, and build the authorizer's list over it (in-process uses: the benchmark).
 */
export async function startLocalRevocations(options: {
  readonly dir: string;
  readonly endpoint: string;
  readonly refreshMs: number;
  readonly maxAgeMs: number;
  readonly onBackgroundFailure?: (error: unknown) => void;
}): Promise<LocalRevocations> {
  const client = localDynamoClient(options.endpoint);
  await createLocalRevocationsTable(client);
  await putKeptEntries(client, LOCAL_REVOCATIONS_TABLE, options.dir);
  const statePath = localDynamoStatePath(options.dir);
  const state = JSON.stringify({ endpoint: options.endpoint, pid: process.pid });
  writePrivateFile(statePath, `${state}\n`);
  const list = new RevocationList({
    source: new DynamoDbRevocationSource({
      tableName: LOCAL_REVOCATIONS_TABLE,
      scan: jsonClientScanPort(localAuthorizerDynamo(options.endpoint)),
    }),
    refreshMs: options.refreshMs,
    maxAgeMs: options.maxAgeMs,
    ...(options.onBackgroundFailure === undefined
      ? {}
      : { onBackgroundFailure: options.onBackgroundFailure }),
  });
  return {
    list,
    stop() {
      // Only our own state: another server may have started on the same folder since.
      if (existsSync(statePath) && readFileSync(statePath, 'utf8').trim() === state) {
        rmSync(statePath, { force: true });
      }
      client.destroy();
    },
  };
}
