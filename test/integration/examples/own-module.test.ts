/**
 * The README's "Add your own tool", done exactly as it says: the module in
 * `examples/orders-module/` (its tool, its permission, its table and its grant), listed with the
 * deployment's modules and given to a role. Its AWS access appears in the synthesized
 * template; served by that stack in the local emulator (its table created from the template,
 * the MCP function bundled from `orders-entry.ts`), the server lists and runs the tool for that
 * role only, in both eras.
 */
import { fileURLToPath } from 'node:url';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { Match } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { ordersInfra } from '../../../examples/orders-module/infra';
import { orders } from '../../../examples/orders-module/module';
import { ORDERS_QUOTAS } from '../../../examples/orders-module/quotas';
import { MODULES } from '../../../modules/index';
import { MODULE_INFRA } from '../../../modules/infra';
import { QUOTA_RULES } from '../../../modules/quotas';
import { loadSigningKey, mintAccessToken } from '../../../tools/local/identity';
import { useLocalGateway } from '../../support/local-gateway-fixture';
import { synthStack } from '../../support/stack-fixture';
import { functionOf, resourcesOf } from '../../support/template-helpers';
import { ORDERS_ROLES } from './orders-roles';

/**
 * What the stack is given: the module listed, its AWS access named, `read_orders` granted, its
 * quota added.
 */
const DEPLOYMENT = {
  list: [...MODULES, orders],
  infra: { ...MODULE_INFRA, orders: ordersInfra },
  roles: ORDERS_ROLES,
  quotas: [...QUOTA_RULES, ...ORDERS_QUOTAS],
};

describe('the orders module in the stack', () => {
  const { app, stack, template } = synthStack({}, { modules: DEPLOYMENT });
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

  it('counts each caller’s get_order calls against its quota, beside the deployment’s', () => {
    const { variables } = functionOf(template, 'mcp-server');
    const rules = JSON.parse(variables.QUOTA_RULES as string);
    expect(rules.map((rule: { id: string }) => rule.id)).toEqual([
      'customer-queries',
      'order-lookups',
    ]);
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
  // The stack with the module's infrastructure (its table, its grant, the variable naming
  // the table) and the MCP function bundled from an entry serving it.
  const local = useLocalGateway('mcp-orders-', undefined, () => ({
    mcp: {
      entry: fileURLToPath(new URL('./orders-entry.ts', import.meta.url)),
      modules: DEPLOYMENT,
    },
  }));

  beforeAll(async () => {
    // An order in the table the template created, named where the module reads it.
    const { gateway } = local;
    const mcp = gateway.emulator.lambda.definition(gateway.functions['mcp-server'] as string);
    const client = new DynamoDBClient({ endpoint: gateway.dynamoEndpoint });
    try {
      await client.send(
        new PutItemCommand({
          TableName: mcp.environment.ORDERS_TABLE_NAME,
          Item: { id: { S: 'ord-1' }, status: { S: 'shipped' } },
        }),
      );
    } finally {
      client.destroy();
    }
  });

  /** A client of the era (the v2 client negotiates 2025-11-25 unless pinned) for `groups`. */
  async function as(groups: string[], era: string) {
    const token = mintAccessToken(loadSigningKey(local.dir), { sub: 'sam', groups });
    const client = new Client(
      { name: 'orders-test', version: '1.0.0' },
      era === '2026-07-28' ? { versionNegotiation: { mode: { pin: '2026-07-28' } } } : {},
    );
    await client.connect(
      new StreamableHTTPClientTransport(new URL(local.gateway.mcpUrl), {
        requestInit: { headers: { Authorization: `Bearer ${token}` } },
      }),
    );
    return client;
  }

  describe.each(['2025-11-25', '2026-07-28'])('MCP %s', (era) => {
    it('lists get_order to a clerk and runs it against its table', async () => {
      const client = await as(['clerk'], era);
      try {
        expect((await client.listTools()).tools.map((tool) => tool.name)).toEqual(['get_order']);
        const result = await client.callTool({ name: 'get_order', arguments: { id: 'ord-1' } });
        expect(result.structuredContent).toEqual({ found: true, status: 'shipped' });
      } finally {
        await client.close();
      }
    });

    it("refuses a clerk a staff order by the module's rule, naming it", async () => {
      const client = await as(['clerk'], era);
      try {
        const refused = await client
          .callTool({ name: 'get_order', arguments: { id: 'ord-9001' } })
          .then(
            () => undefined,
            (error: { code?: number; data?: unknown }) => error,
          );
        expect(refused).toMatchObject({
          code: -32003,
          data: { tool: 'get_order', deniedBy: ['staff-orders-not-for-clerks'] },
        });
      } finally {
        await client.close();
      }
    });

    it('neither lists nor runs it for a role without read_orders', async () => {
      const client = await as(['admin'], era);
      try {
        expect((await client.listTools()).tools.map((tool) => tool.name)).not.toContain(
          'get_order',
        );
        await expect(
          client.callTool({ name: 'get_order', arguments: { id: 'ord-1' } }),
        ).rejects.toThrow(/read_orders/);
      } finally {
        await client.close();
      }
    });
  });
});
