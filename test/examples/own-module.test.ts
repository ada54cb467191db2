/**
 * The README's "Add your own tool", done exactly as it says: the module in
 * `examples/orders-module/` (its tool, its permission, its table and its grant), listed with the
 * deployment's modules and given to a role. Its AWS access appears in the synthesized
 * template, and the server lists and runs the tool for that role only, in both eras.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { Match } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ordersInfra } from '../../examples/orders-module/infra';
import { orders } from '../../examples/orders-module/module';
import { MODULES } from '../../modules/index';
import { MODULE_INFRA } from '../../modules/infra';
import { ROLE_PERMISSIONS } from '../../modules/roles';
import { type LocalDynamo, startLocalDynamo } from '../../tools/local-dynamo';
import { type LocalGateway, startLocalGateway } from '../../tools/local-gateway';
import { loadSigningKey, mintAccessToken } from '../../tools/local-identity';
import { captureLogs } from '../helpers/capture-logs';
import { synthStack } from '../lib/stack-fixture';
import { resourcesOf } from '../lib/template-helpers';

const ROLES = { ...ROLE_PERMISSIONS, clerk: ['read_orders'] };

describe('the orders module in the stack', () => {
  const { app, stack, template } = synthStack(
    {},
    {
      modules: {
        list: [...MODULES, orders],
        infra: { ...MODULE_INFRA, orders: ordersInfra },
        roles: ROLES,
      },
    },
  );
  const tableId = Object.keys(
    resourcesOf(template, 'AWS::DynamoDB::GlobalTable', {
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
    }),
  ).find((id) => id.startsWith('OrdersTable')) as string;

  it('creates its table and grants the MCP function exactly GetItem on it', () => {
    expect(tableId).toBeDefined();
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'dynamodb:GetItem',
            Effect: 'Allow',
            Resource: { 'Fn::GetAtt': [tableId, 'Arn'] },
          }),
        ]),
      },
    });
  });

  it('tells the module its table through the MCP function’s environment', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          POWERTOOLS_SERVICE_NAME: 'mcp-server',
          ORDERS_TABLE_NAME: { Ref: tableId },
        }),
      },
    });
  });

  it('makes the new role a Cognito group and the new permission a scope', () => {
    template.hasResourceProperties('AWS::Cognito::UserPoolGroup', { GroupName: 'clerk' });
    template.hasResourceProperties('AWS::Cognito::UserPoolResourceServer', {
      Scopes: Match.arrayWith([Match.objectLike({ ScopeName: 'read_orders' })]),
    });
  });

  it('leaves cdk-nag with nothing to report', () => {
    expect(new AwsSolutionsChecks(app).validateScope(stack).violations).toEqual([]);
  });
});

describe('the orders module served', () => {
  let gateway: LocalGateway;
  let dynamo: LocalDynamo;
  let dir: string;
  const logs = captureLogs();
  const saved = { ...process.env };

  beforeAll(async () => {
    // The module as written reads its table from the environment, as its infra sets it in AWS.
    dynamo = await startLocalDynamo();
    process.env.AWS_ENDPOINT_URL_DYNAMODB = dynamo.endpoint;
    process.env.ORDERS_TABLE_NAME = 'orders-local';
    const client = new DynamoDBClient({});
    await client.send(
      new CreateTableCommand({
        TableName: 'orders-local',
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    await client.send(
      new PutItemCommand({
        TableName: 'orders-local',
        Item: { id: { S: 'ord-1' }, status: { S: 'shipped' } },
      }),
    );
    client.destroy();
    dir = mkdtempSync(join(tmpdir(), 'mcp-orders-'));
    gateway = await startLocalGateway({
      port: 0,
      dir,
      modules: [...MODULES, orders],
      roles: ROLES,
    });
  });

  afterAll(async () => {
    logs.restore();
    process.env = saved;
    await gateway?.stop();
    await dynamo?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function as(groups: string[]) {
    const token = mintAccessToken(loadSigningKey(dir), { sub: 'sam', groups });
    const client = new Client(
      { name: 'orders-test', version: '1.0.0' },
      { versionNegotiation: { mode: { pin: '2026-07-28' } } },
    );
    await client.connect(
      new StreamableHTTPClientTransport(new URL(gateway.mcpUrl), {
        requestInit: { headers: { Authorization: `Bearer ${token}` } },
      }),
    );
    return client;
  }

  it('lists get_order to a clerk and runs it against its table', async () => {
    const client = await as(['clerk']);
    try {
      expect((await client.listTools()).tools.map((tool) => tool.name)).toEqual(['get_order']);
      const result = await client.callTool({ name: 'get_order', arguments: { id: 'ord-1' } });
      expect(result.structuredContent).toEqual({ found: true, status: 'shipped' });
    } finally {
      await client.close();
    }
  });

  it('neither lists nor runs it for a role without read_orders', async () => {
    const client = await as(['admin']);
    try {
      expect((await client.listTools()).tools.map((tool) => tool.name)).not.toContain('get_order');
      await expect(
        client.callTool({ name: 'get_order', arguments: { id: 'ord-1' } }),
      ).rejects.toThrow(/read_orders/);
    } finally {
      await client.close();
    }
  });
});
