/**
 * {@link RecordStore} on a DynamoDB table with partition key `id` (string), through the small
 * AWS client (`lambda/shared/aws`): SDK v3's DynamoDB clients were the largest part of the MCP
 * Lambda's cold start.
 */
import { DynamoDbClient, type Item, type ScanInput } from '../../../lambda/shared/aws/dynamodb';
import {
  type CustomerFields,
  type CustomerRecord,
  customerRecordSchema,
  InvalidCursorError,
  type RecordFilter,
  type RecordPage,
  type RecordStore,
  recordIdSchema,
  type ScanResult,
} from './customer-record';

/** Items a single Scan request evaluates. */
const SCAN_PAGE_SIZE = 100;
/** Scan requests one `query` may make before it returns a partial page with a cursor. */
const MAX_SCAN_REQUESTS_PER_QUERY = 10;

type Key = { id: string };

function encodeCursor(key: Key): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): Key {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (typeof value === 'object' && value !== null && 'id' in value) {
      const id = recordIdSchema.safeParse(value.id);
      if (id.success && Object.keys(value).length === 1) return { id: id.data };
    }
  } catch {
    // fall through
  }
  throw new InvalidCursorError(
    'The cursor is not valid: pass next_cursor from a previous page unchanged',
  );
}

/** Build a DynamoDB filter expression; values are always bound, never interpolated. */
function filterExpression(filter: RecordFilter): Partial<ScanInput> {
  const clauses: string[] = [];
  const names: Record<string, string> = {};
  const values: Item = {};
  const add = (field: string, op: string, value: unknown) => {
    const name = `#${field}`;
    const placeholder = `:${field}${op === '<=' ? 'Max' : op === '>=' ? 'Min' : ''}`;
    names[name] = field;
    values[placeholder] = value;
    clauses.push(
      op === 'begins_with'
        ? `begins_with(${name}, ${placeholder})`
        : `${name} ${op} ${placeholder}`,
    );
  };
  if (filter.segment !== undefined) add('segment', '=', filter.segment);
  if (filter.status !== undefined) add('status', '=', filter.status);
  if (filter.country !== undefined) add('country', '=', filter.country);
  if (filter.minBalance !== undefined) add('balance', '>=', filter.minBalance);
  if (filter.maxBalance !== undefined) add('balance', '<=', filter.maxBalance);
  if (filter.namePrefix !== undefined) add('name', 'begins_with', filter.namePrefix);
  if (clauses.length === 0) return {};
  return {
    FilterExpression: clauses.join(' AND '),
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
}

function toRecord(item: Item): CustomerRecord {
  return customerRecordSchema.parse(item);
}

export class DynamoRecordStore implements RecordStore {
  readonly #db: DynamoDbClient;
  readonly #table: string;

  /** `db` defaults to the Lambda's own (region, credentials and endpoint from the environment). */
  constructor(tableName: string, db: DynamoDbClient = new DynamoDbClient()) {
    this.#db = db;
    this.#table = tableName;
  }

  async get(id: string): Promise<CustomerRecord | undefined> {
    const result = await this.#db.getItem({
      TableName: this.#table,
      Key: { id },
      ConsistentRead: true,
    });
    return result.Item === undefined ? undefined : toRecord(result.Item);
  }

  async put(id: string, fields: CustomerFields, now: Date) {
    const existing = await this.get(id);
    const timestamp = now.toISOString();
    const record: CustomerRecord = {
      ...fields,
      id,
      createdAt: existing?.createdAt ?? timestamp,
      updatedAt: timestamp,
    };
    await this.#db.putItem({ TableName: this.#table, Item: record });
    return { record, created: existing === undefined };
  }

  async delete(id: string): Promise<CustomerRecord | undefined> {
    const result = await this.#db.deleteItem({
      TableName: this.#table,
      Key: { id },
      ReturnValues: 'ALL_OLD',
    });
    return result.Attributes === undefined ? undefined : toRecord(result.Attributes);
  }

  async query(filter: RecordFilter, limit: number, cursor?: string): Promise<RecordPage> {
    let startKey: Key | undefined = cursor === undefined ? undefined : decodeCursor(cursor);
    const records: CustomerRecord[] = [];
    for (let request = 0; request < MAX_SCAN_REQUESTS_PER_QUERY; request++) {
      const page = await this.#db.scan({
        TableName: this.#table,
        Limit: SCAN_PAGE_SIZE,
        ExclusiveStartKey: startKey,
        ...filterExpression(filter),
      });
      for (const item of page.Items) {
        records.push(toRecord(item));
        if (records.length === limit) {
          // Resume right after the last record returned (a Scan may start from any key).
          const last = records[records.length - 1] as CustomerRecord;
          const more = page.LastEvaluatedKey !== undefined || item !== page.Items.at(-1);
          return { records, nextCursor: more ? encodeCursor({ id: last.id }) : undefined };
        }
      }
      if (page.LastEvaluatedKey === undefined) return { records };
      startKey = { id: String(page.LastEvaluatedKey.id) };
    }
    // Scanned enough for one call: hand back what we have and where to go on.
    return { records, nextCursor: startKey === undefined ? undefined : encodeCursor(startKey) };
  }

  async scan(
    filter: RecordFilter,
    maxRead: number,
    onProgress?: (read: number) => Promise<void>,
  ): Promise<ScanResult> {
    const records: CustomerRecord[] = [];
    let startKey: Item | undefined;
    let read = 0;
    do {
      // Limit bounds the items DynamoDB reads (before the filter), not the matches.
      const page = await this.#db.scan({
        TableName: this.#table,
        ExclusiveStartKey: startKey,
        Limit: Math.min(SCAN_PAGE_SIZE * 10, maxRead - read),
        ...filterExpression(filter),
      });
      read += page.ScannedCount;
      for (const item of page.Items) records.push(toRecord(item));
      startKey = page.LastEvaluatedKey;
      await onProgress?.(read);
    } while (startKey !== undefined && read < maxRead);
    return { records, truncated: startKey !== undefined };
  }
}
