/**
 * A module of your own, as the README's "Add your own tool" walks through it: one tool that
 * reads an order from a DynamoDB table of its own. List it in `modules/index.ts`, name its
 * AWS access in `modules/infra.ts`, grant `read_orders` to a role in `modules/roles.ts`.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { moduleKit } from '#module-kit';
import { ordersRules } from './rules';

interface OrdersDeps {
  readonly orders: DynamoDBDocumentClient;
  readonly table: string;
}
const define = moduleKit<OrdersDeps>();

export const getOrder = define.tool({
  name: 'get_order',
  title: 'Get order',
  description: 'Fetch one order by its id.',
  permission: 'read_orders',
  annotations: { readOnlyHint: true },
  input: z.object({ id: z.string().regex(/^ord-\d{1,12}$/) }),
  output: z.object({ found: z.boolean(), status: z.string().optional() }),
  async run({ id }, { deps }) {
    const { Item } = await deps.orders.send(new GetCommand({ TableName: deps.table, Key: { id } }));
    return Item === undefined ? { found: false } : { found: true, status: String(Item.status) };
  },
  summarize: (out) => (out.found ? `Order status: ${out.status}` : 'No such order.'),
});

export const orders = define.module({
  name: 'orders',
  permissions: { read_orders: 'Read orders' },
  tools: [getOrder],
  rules: ordersRules,
  dependencies: (env) => ({
    orders: DynamoDBDocumentClient.from(new DynamoDBClient({})),
    table: env.ORDERS_TABLE_NAME ?? '',
  }),
});
