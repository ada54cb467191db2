import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { moduleKit } from '#module-kit';

const define = moduleKit<{ orders: DynamoDBDocumentClient; table: string }>();

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
  dependencies: (env) => {
    const table = env.ORDERS_TABLE_NAME; // set by infra.ts, in AWS and in npm run dev
    if (table === undefined) throw new Error('orders: ORDERS_TABLE_NAME is not set');
    return { orders: DynamoDBDocumentClient.from(new DynamoDBClient({})), table };
  },
  // npm run dev only: sample data in the table the template created, before the first request.
  async seed(env, { dynamodb }) {
    const db = DynamoDBDocumentClient.from(new DynamoDBClient(dynamodb));
    const Item = { id: 'ord-1', status: 'shipped' };
    await db.send(new PutCommand({ TableName: env.ORDERS_TABLE_NAME, Item }));
  },
});
