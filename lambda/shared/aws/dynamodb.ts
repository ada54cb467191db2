/**
 * DynamoDB over the small AWS client, in the document style of `@aws-sdk/lib-dynamodb`: keys,
 * items and expression values are plain JavaScript values, marshalled with AWS's own
 * `@aws-sdk/util-dynamodb` (undefined values removed, as the store always asked of
 * lib-dynamodb). Binary attributes are `Uint8Array`s. Failures reject with an `AwsError`:
 * a failed condition has `code` `ConditionalCheckFailedException`, a missing table
 * `ResourceNotFoundException`.
 */
import {
  marshall,
  type marshallOptions,
  type NativeAttributeValue,
  unmarshall,
} from '@aws-sdk/util-dynamodb';
import { fromBase64, toBase64 } from './base64';
import { invalidResponseError } from './error';
import { type AwsClientOptions, AwsJsonClient, type CallOptions } from './json-client';
import { DYNAMODB } from './services';

/** An item, key or set of expression values, as plain values. */
export type Item = Record<string, NativeAttributeValue>;

/** A marshalled value as it travels: binaries as base64 text. */
type WireValue = Record<string, unknown>;

const MARSHALL_OPTIONS: marshallOptions = { removeUndefinedValues: true };

/** Replace binaries (`B`, `BS`) inside a marshalled value, however deeply nested. */
function mapBinaries(value: unknown, convert: (binary: unknown) => unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const attribute = value as WireValue;
  if ('B' in attribute) return { B: convert(attribute.B) };
  if ('BS' in attribute && Array.isArray(attribute.BS)) return { BS: attribute.BS.map(convert) };
  if ('L' in attribute && Array.isArray(attribute.L)) {
    return { L: attribute.L.map((entry) => mapBinaries(entry, convert)) };
  }
  if ('M' in attribute && typeof attribute.M === 'object' && attribute.M !== null) {
    return { M: mapMap(attribute.M as WireValue, convert) };
  }
  return attribute;
}

function mapMap(map: WireValue, convert: (binary: unknown) => unknown): WireValue {
  const out: WireValue = {};
  for (const [name, value] of Object.entries(map)) out[name] = mapBinaries(value, convert);
  return out;
}

const toWireBinary = (binary: unknown) =>
  binary instanceof Uint8Array ? toBase64(binary) : binary;
const fromWireBinary = (binary: unknown) =>
  typeof binary === 'string' ? fromBase64(binary) : binary;

/** Plain values to the wire's attribute-value map. */
export function marshallItem(item: Item): WireValue {
  return mapMap(marshall(item, MARSHALL_OPTIONS) as WireValue, toWireBinary);
}

/** The wire's attribute-value map to plain values. */
export function unmarshallItem(wire: unknown, operation = 'unmarshall'): Item {
  if (typeof wire !== 'object' || wire === null || Array.isArray(wire)) {
    throw invalidResponseError(DYNAMODB.name, operation, 'An item is not an attribute map');
  }
  try {
    return unmarshall(
      mapMap(wire as WireValue, fromWireBinary) as Parameters<typeof unmarshall>[0],
    );
  } catch (error) {
    throw invalidResponseError(
      DYNAMODB.name,
      operation,
      error instanceof Error
        ? `An item could not be read: ${error.message}`
        : 'An item could not be read',
    );
  }
}

interface ExpressionInput {
  readonly ExpressionAttributeNames?: Readonly<Record<string, string>>;
  readonly ExpressionAttributeValues?: Item;
}

export type ReturnValues = 'NONE' | 'ALL_OLD' | 'UPDATED_OLD' | 'ALL_NEW' | 'UPDATED_NEW';

export interface GetItemInput {
  readonly TableName: string;
  readonly Key: Item;
  readonly ConsistentRead?: boolean;
  readonly ProjectionExpression?: string;
  readonly ExpressionAttributeNames?: Readonly<Record<string, string>>;
}

export interface PutItemInput extends ExpressionInput {
  readonly TableName: string;
  readonly Item: Item;
  /** E.g. `attribute_not_exists(id)`; a failure is `ConditionalCheckFailedException`. */
  readonly ConditionExpression?: string;
  readonly ReturnValues?: 'NONE' | 'ALL_OLD';
}

export interface DeleteItemInput extends ExpressionInput {
  readonly TableName: string;
  readonly Key: Item;
  readonly ConditionExpression?: string;
  readonly ReturnValues?: 'NONE' | 'ALL_OLD';
}

export interface UpdateItemInput extends ExpressionInput {
  readonly TableName: string;
  readonly Key: Item;
  readonly UpdateExpression: string;
  readonly ConditionExpression?: string;
  readonly ReturnValues?: ReturnValues;
}

interface ReadManyInput extends ExpressionInput {
  readonly TableName: string;
  readonly IndexName?: string;
  readonly FilterExpression?: string;
  readonly ProjectionExpression?: string;
  /** Items evaluated per request (before the filter). */
  readonly Limit?: number;
  readonly ExclusiveStartKey?: Item;
  readonly ConsistentRead?: boolean;
  readonly Select?: 'ALL_ATTRIBUTES' | 'ALL_PROJECTED_ATTRIBUTES' | 'SPECIFIC_ATTRIBUTES' | 'COUNT';
}

export interface QueryInput extends ReadManyInput {
  readonly KeyConditionExpression: string;
  readonly ScanIndexForward?: boolean;
}

export interface ScanInput extends ReadManyInput {
  readonly Segment?: number;
  readonly TotalSegments?: number;
}

export interface ItemOutput {
  /** The item, when it exists. */
  readonly Item?: Item;
}

export interface AttributesOutput {
  /** The attributes `ReturnValues` asked for, when there were any. */
  readonly Attributes?: Item;
}

export interface PageOutput {
  readonly Items: Item[];
  readonly Count: number;
  readonly ScannedCount: number;
  /** Where the next page starts; `undefined` on the last page. */
  readonly LastEvaluatedKey?: Item;
}

function withExpressionValues<T extends ExpressionInput>(input: T): Record<string, unknown> {
  const { ExpressionAttributeValues: values, ...rest } = input;
  return values === undefined ? rest : { ...rest, ExpressionAttributeValues: marshallItem(values) };
}

/** A DynamoDB client in document style. `client.call` reaches any other operation. */
export class DynamoDbClient {
  readonly client: AwsJsonClient;

  constructor(options: AwsClientOptions = {}) {
    this.client = new AwsJsonClient(DYNAMODB, options);
  }

  async getItem(input: GetItemInput, options?: CallOptions): Promise<ItemOutput> {
    const wire = await this.client.call<{ Item?: unknown }>(
      'GetItem',
      { ...input, Key: marshallItem(input.Key) },
      options,
    );
    return wire.Item === undefined ? {} : { Item: unmarshallItem(wire.Item, 'GetItem') };
  }

  async putItem(input: PutItemInput, options?: CallOptions): Promise<AttributesOutput> {
    const wire = await this.client.call<{ Attributes?: unknown }>(
      'PutItem',
      { ...withExpressionValues(input), Item: marshallItem(input.Item) },
      options,
    );
    return attributes(wire.Attributes, 'PutItem');
  }

  async deleteItem(input: DeleteItemInput, options?: CallOptions): Promise<AttributesOutput> {
    const wire = await this.client.call<{ Attributes?: unknown }>(
      'DeleteItem',
      { ...withExpressionValues(input), Key: marshallItem(input.Key) },
      options,
    );
    return attributes(wire.Attributes, 'DeleteItem');
  }

  async updateItem(input: UpdateItemInput, options?: CallOptions): Promise<AttributesOutput> {
    const wire = await this.client.call<{ Attributes?: unknown }>(
      'UpdateItem',
      { ...withExpressionValues(input), Key: marshallItem(input.Key) },
      options,
    );
    return attributes(wire.Attributes, 'UpdateItem');
  }

  async query(input: QueryInput, options?: CallOptions): Promise<PageOutput> {
    return this.#page('Query', input, options);
  }

  async scan(input: ScanInput, options?: CallOptions): Promise<PageOutput> {
    return this.#page('Scan', input, options);
  }

  async #page(
    operation: 'Query' | 'Scan',
    input: ReadManyInput,
    options: CallOptions | undefined,
  ): Promise<PageOutput> {
    const { ExclusiveStartKey: startKey, ...rest } = input;
    const wire = await this.client.call<{
      Items?: unknown;
      Count?: unknown;
      ScannedCount?: unknown;
      LastEvaluatedKey?: unknown;
    }>(
      operation,
      {
        ...withExpressionValues(rest),
        ...(startKey === undefined ? {} : { ExclusiveStartKey: marshallItem(startKey) }),
      },
      options,
    );
    const items = wire.Items ?? [];
    if (!Array.isArray(items) || typeof wire.Count !== 'number') {
      throw invalidResponseError(DYNAMODB.name, operation, 'No Items or Count');
    }
    return {
      Items: items.map((item) => unmarshallItem(item, operation)),
      Count: wire.Count,
      ScannedCount: typeof wire.ScannedCount === 'number' ? wire.ScannedCount : wire.Count,
      ...(wire.LastEvaluatedKey === undefined
        ? {}
        : { LastEvaluatedKey: unmarshallItem(wire.LastEvaluatedKey, operation) }),
    };
  }
}

function attributes(wire: unknown, operation: string): AttributesOutput {
  return wire === undefined ? {} : { Attributes: unmarshallItem(wire, operation) };
}
