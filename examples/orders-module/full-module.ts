/**
 * The README's orders module grown into what docs/modules.md walks through, which quotes it:
 * a tool that reports progress, a resource, a resource template that lists and completes, a
 * prompt that completes, argument rules, and the `local` hook of in-process harnesses. Its own
 * test serves it (test/unit/examples/full-module.test.ts).
 */
import { CreateTableCommand, DynamoDBClient, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  PutCommand,
  ScanCommand,
  type ScanCommandOutput,
} from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { moduleKit } from '#module-kit';
import { getOrder } from './module';
import { ordersRules } from './rules';

/** What every item's code gets as `deps`. */
export interface OrdersDeps {
  readonly orders: DynamoDBDocumentClient;
  readonly table: string;
}
const define = moduleKit<OrdersDeps>();

const STATUSES = ['placed', 'shipped', 'delivered', 'returned'] as const;

/** Every order, a page at a time (a Scan: fine for an example, not for a large table). */
async function* scanOrders(deps: OrdersDeps, signal?: AbortSignal) {
  let start: ScanCommandOutput['LastEvaluatedKey'];
  do {
    const page = await deps.orders.send(
      new ScanCommand({ TableName: deps.table, ExclusiveStartKey: start }),
      { abortSignal: signal },
    );
    yield (page.Items ?? []) as { id: string; status: string }[];
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
}

export const countOrders = define.tool({
  name: 'count_orders',
  title: 'Count orders',
  description: 'Count the orders in one status, reading the whole table.',
  permission: 'report_orders',
  annotations: { readOnlyHint: true },
  input: z.object({ status: z.enum(STATUSES) }),
  output: z.object({ status: z.enum(STATUSES), count: z.number().int() }),
  async run({ status }, { deps, progress, signal }) {
    let read = 0;
    let count = 0;
    for await (const page of scanOrders(deps, signal)) {
      read += page.length;
      count += page.filter((order) => order.status === status).length;
      // Streams to a client that sent a progress token; a no-op otherwise.
      await progress({ progress: read, message: `${read} orders read` });
    }
    return { status, count };
  },
  summarize: (out) => `${out.count} orders ${out.status}.`,
});

export const orderStatuses = define.resource({
  name: 'order_statuses',
  uri: 'orders://statuses',
  title: 'Order statuses',
  mimeType: 'application/json',
  permission: 'read_orders',
  read: async () => ({ text: JSON.stringify(STATUSES), mimeType: 'application/json' }),
});

export const orderTemplate = define.resourceTemplate({
  name: 'order',
  uriTemplate: 'orders://orders/{id}',
  title: 'An order',
  mimeType: 'application/json',
  permission: 'read_orders',
  // What resources/list shows of the template: a few concrete orders.
  async list({ deps, signal }) {
    const { value: first = [] } = await scanOrders(deps, signal).next();
    return first.slice(0, 20).map(({ id }) => ({ uri: `orders://orders/${id}`, name: id }));
  },
  // completion/complete for the {id} variable: the ids starting with what was typed.
  complete: {
    id: async (value, { deps }) => {
      const { value: first = [] } = await scanOrders(deps).next();
      return first.map(({ id }) => id).filter((id) => id.startsWith(value));
    },
  },
  async read(_uri, { id }, { deps, signal }) {
    for await (const page of scanOrders(deps, signal)) {
      const order = page.find((candidate) => candidate.id === id);
      if (order !== undefined) return { text: JSON.stringify(order), mimeType: 'application/json' };
    }
    return { text: JSON.stringify({ id, found: false }), mimeType: 'application/json' };
  },
});

export const followUp = define.prompt({
  name: 'order_follow_up',
  title: 'Follow up on an order',
  permission: 'read_orders',
  args: z.object({ id: z.string().regex(/^ord-\d{1,12}$/) }),
  complete: {
    id: async (value, { deps }) => {
      const { value: first = [] } = await scanOrders(deps).next();
      return first.map(({ id }) => id).filter((id) => id.startsWith(value));
    },
  },
  get: async ({ id }) => ({
    messages: [
      { role: 'user', content: { type: 'text', text: `Draft a follow-up email about ${id}.` } },
      {
        role: 'user',
        content: { type: 'resource_link', uri: `orders://orders/${id}`, name: id },
      },
    ],
  }),
});

/** Sample orders, for `npm run dev` (`seed`) and in-process harnesses (`local`). */
async function putSamples(orders: DynamoDBDocumentClient, table: string | undefined) {
  const samples = [
    { id: 'ord-1', status: 'shipped' },
    { id: 'ord-2', status: 'placed' },
    { id: 'ord-9001', status: 'placed' },
  ];
  for (const Item of samples) await orders.send(new PutCommand({ TableName: table, Item }));
}

export const ordersFull = define.module({
  name: 'orders',
  permissions: { read_orders: 'Read orders', report_orders: 'Count orders by status' },
  instructions: 'Order tools: look one order up, or count orders by status.',
  tools: [getOrder, countOrders],
  resources: [orderStatuses],
  resourceTemplates: [orderTemplate],
  prompts: [followUp],
  rules: ordersRules,
  dependencies: (env) => {
    const table = env.ORDERS_TABLE_NAME;
    if (table === undefined) throw new Error('orders: ORDERS_TABLE_NAME is not set');
    return { orders: DynamoDBDocumentClient.from(new DynamoDBClient({})), table };
  },
  async seed(env, { dynamodb }) {
    await putSamples(
      DynamoDBDocumentClient.from(new DynamoDBClient(dynamodb)),
      env.ORDERS_TABLE_NAME,
    );
  },
  // No template here: create what infra.ts would have, then the samples, and build `deps`.
  async local({ dynamodb }) {
    const client = new DynamoDBClient(dynamodb);
    const table = 'orders-local';
    await client.send(
      new CreateTableCommand({
        TableName: table,
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    await waitUntilTableExists({ client, maxWaitTime: 30 }, { TableName: table });
    const orders = DynamoDBDocumentClient.from(client);
    await putSamples(orders, table);
    return { orders, table };
  },
});
