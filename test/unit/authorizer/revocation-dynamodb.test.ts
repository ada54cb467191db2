/**
 * The not-before list on DynamoDB: the CLI's UpdateItem writes an entry, the authorizer's Scan
 * (over the small AWS client, as in Lambda) reads it back, against an embedded DynamoDB. Pages,
 * malformed items and oversized tables are checked over a scripted port.
 */
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DynamoDbRevocationSource,
  jsonClientScanPort,
  MAX_REVOCATION_ENTRIES,
  RevocationItemError,
  type ScanPort,
  type ScanRequest,
} from '../../../lambda/authorizer/revocation-dynamodb';
import {
  apiKeyPrincipal,
  REVOCATION_ATTRIBUTES,
  REVOCATION_RETENTION_SECONDS,
  userPrincipal,
} from '../../../lambda/shared/revocations';
import { DynamoDbRevocationWriter } from '../../../tools/cli/revocation-writer';
import { type LocalDynamo, startLocalDynamo } from '../../../tools/local/dynamo';
import { localAuthorizerDynamo, localDynamoClient } from '../../../tools/local/revocations';

const TABLE = 'revocations-test';
const NOW = new Date('2026-12-01T12:00:00Z');
const T = Math.floor(NOW.getTime() / 1000);

let dynamo: LocalDynamo;
let writer: DynamoDbRevocationWriter;
let source: DynamoDbRevocationSource;

beforeAll(async () => {
  dynamo = await startLocalDynamo();
  const client = localDynamoClient(dynamo.endpoint);
  await client.send(
    new CreateTableCommand({
      TableName: TABLE,
      AttributeDefinitions: [
        { AttributeName: REVOCATION_ATTRIBUTES.principal, AttributeType: 'S' },
      ],
      KeySchema: [{ AttributeName: REVOCATION_ATTRIBUTES.principal, KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  writer = new DynamoDbRevocationWriter({ client, tableName: TABLE, now: () => NOW });
  source = new DynamoDbRevocationSource({
    tableName: TABLE,
    scan: jsonClientScanPort(localAuthorizerDynamo(dynamo.endpoint)),
  });
});

afterAll(async () => {
  await dynamo?.stop();
});

describe('DynamoDbRevocationSource over the embedded DynamoDB', () => {
  it('reads back what the CLI wrote: the bounds and an expiry one retention period later', async () => {
    // Act
    await writer.record({
      principal: userPrincipal('alice'),
      notBefore: T,
      sessions: true,
      action: 'sign-out',
      actor: 'ops',
    });
    await writer.record({
      principal: apiKeyPrincipal('0123456789abcdef'),
      notBefore: T,
      sessions: false,
      action: 'revoke-key',
      actor: 'ops',
    });
    const entries = await source.load();
    // Assess
    expect(entries.get(userPrincipal('alice'))).toEqual({
      notBefore: T,
      sessionNotBefore: T,
      expiresAt: T + REVOCATION_RETENTION_SECONDS,
    });
    expect(entries.get(apiKeyPrincipal('0123456789abcdef'))).toEqual({
      notBefore: T,
      sessionNotBefore: undefined,
      expiresAt: T + REVOCATION_RETENTION_SECONDS,
    });
  });

  it('keeps a sign-out’s session bound when a later group change moves only notBefore', async () => {
    await writer.record({
      principal: userPrincipal('bob'),
      notBefore: T,
      sessions: true,
      action: 'disable',
      actor: 'ops',
    });
    await writer.record({
      principal: userPrincipal('bob'),
      notBefore: T + 60,
      sessions: false,
      action: 'remove-group',
      actor: 'ops',
    });
    expect((await source.load()).get(userPrincipal('bob'))).toMatchObject({
      notBefore: T + 60,
      sessionNotBefore: T,
    });
  });

  it('fails when the table does not exist, so the list fails closed', async () => {
    const missing = new DynamoDbRevocationSource({
      tableName: 'no-such-table',
      scan: jsonClientScanPort(localAuthorizerDynamo(dynamo.endpoint)),
    });
    await expect(missing.load()).rejects.toMatchObject({ code: 'ResourceNotFoundException' });
  });
});

describe('DynamoDbRevocationSource over a scripted port', () => {
  const item = (principal: string) => ({
    pk: { S: principal },
    notBefore: { N: String(T) },
    expiresAt: { N: String(T + 100) },
  });

  it('follows LastEvaluatedKey through every page, strongly consistent', async () => {
    // Prepare
    const requests: ScanRequest[] = [];
    const pages = [
      { Items: [item('user#a')], LastEvaluatedKey: { pk: { S: 'user#a' } } },
      { Items: [item('user#b')] },
    ];
    const scan: ScanPort = async (request) => {
      requests.push(request);
      return pages[requests.length - 1];
    };
    // Act
    const entries = await new DynamoDbRevocationSource({ tableName: TABLE, scan }).load();
    // Assess
    expect([...entries.keys()]).toEqual(['user#a', 'user#b']);
    expect(requests.map((r) => r.ExclusiveStartKey)).toEqual([undefined, { pk: { S: 'user#a' } }]);
    expect(requests.every((r) => r.ConsistentRead)).toBe(true);
  });

  it('refuses the whole list when one item is malformed, rather than skip a revocation', async () => {
    const scan: ScanPort = async () => ({
      Items: [item('user#a'), { pk: { S: 'user#b' }, notBefore: { S: 'soon' } }],
    });
    await expect(new DynamoDbRevocationSource({ tableName: TABLE, scan }).load()).rejects.toThrow(
      RevocationItemError,
    );
  });

  it('refuses a table holding more entries than it will read', async () => {
    const items = Array.from({ length: MAX_REVOCATION_ENTRIES + 1 }, (_, i) => item(`user#${i}`));
    const scan: ScanPort = async () => ({ Items: items });
    await expect(new DynamoDbRevocationSource({ tableName: TABLE, scan }).load()).rejects.toThrow(
      /refusing to use a partial list/,
    );
  });
});
