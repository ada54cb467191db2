/**
 * The orders module docs/modules.md quotes (`examples/orders-module/full-module.ts`), served
 * by the MCP handler as a Lambda instance builds it, its `deps` from its own `local` hook on an
 * embedded DynamoDB: each feature the document describes does what it says, for a real MCP
 * client, and its quota is one the stack would take.
 */
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ordersFull } from '../../../examples/orders-module/full-module';
import { ORDERS_QUOTAS } from '../../../examples/orders-module/quotas';
import { createMcpHandler } from '../../../lambda/mcp/handler';
import { destructiveToolNames, localStandIns } from '../../../lambda/mcp/module-loader';
import { createLogger } from '../../../lambda/shared/logger';
import { buildPolicyTable } from '../../../lambda/shared/policy';
import type { Principal } from '../../../lambda/shared/principal';
import { buildQuotaTable } from '../../../lambda/shared/quota';
import { rulesProblems } from '../../../lib/rules-validation';
import { type LocalDynamo, startLocalDynamo } from '../../../tools/local/dynamo';
import { type CapturedLogs, captureLogs } from '../../support/capture-logs';
import { handlerFetch } from '../../support/handler-fetch';

/** The roles docs/modules.md grants: a clerk reads orders, a manager counts them too. */
const ROLES = { clerk: ['read_orders'], manager: ['read_orders', 'report_orders'] };
const policy = buildPolicyTable({ roles: ROLES, modules: [ordersFull] });

const person = (id: string, groups: string[]): Principal => ({
  principalId: id,
  authMethod: 'cognito',
  groups,
  scopes: ['mcp/tools'],
  keyId: '',
});

let dynamo: LocalDynamo;
let deps: unknown;
let logs: CapturedLogs;

beforeAll(async () => {
  dynamo = await startLocalDynamo();
  if (ordersFull.local === undefined) throw new Error('the example has no local hook');
  deps = await ordersFull.local(localStandIns(dynamo.endpoint));
});
afterAll(async () => {
  await dynamo?.stop();
});
beforeEach(() => {
  logs = captureLogs();
});
afterEach(() => {
  logs.restore();
});

/** A 2026-07-28 client of the handler, as `caller`. */
async function clientAs(caller: Principal): Promise<Client> {
  const handler = createMcpHandler({
    config: { allowedOrigins: [], maxBodyBytes: 1024 * 1024 },
    policy,
    modules: [{ module: ordersFull, deps }],
    logger: createLogger('mcp-server'),
  });
  const client = new Client(
    { name: 'full-module-test', version: '1.0.0' },
    { versionNegotiation: { mode: { pin: '2026-07-28' } } },
  );
  await client.connect(
    new StreamableHTTPClientTransport(new URL('https://mcp.example.com/mcp'), {
      fetch: handlerFetch(handler, () => caller),
    }),
  );
  return client;
}

describe('the full orders module, served', () => {
  it('answers get_order from the table its local hook created and seeded', async () => {
    // Prepare
    const client = await clientAs(person('cy', ['clerk']));

    // Act
    const result = await client.callTool({ name: 'get_order', arguments: { id: 'ord-1' } });

    // Assess
    expect(result.structuredContent).toEqual({ found: true, status: 'shipped' });
  });

  it("refuses a clerk a staff order by the module's argument rule, naming it", async () => {
    // Prepare
    const client = await clientAs(person('cy', ['clerk']));

    // Act
    const refused = client.callTool({ name: 'get_order', arguments: { id: 'ord-9001' } });

    // Assess
    await expect(refused).rejects.toMatchObject({
      code: -32003,
      data: { tool: 'get_order', deniedBy: ['staff-orders-not-for-clerks'] },
    });
  });

  it('streams progress while count_orders reads, then counts', async () => {
    // Prepare
    const client = await clientAs(person('mo', ['manager']));
    const progress: { progress: number; message?: string }[] = [];

    // Act
    const result = await client.callTool(
      { name: 'count_orders', arguments: { status: 'placed' } },
      { onprogress: (update) => progress.push(update) },
    );

    // Assess
    expect(result.structuredContent).toEqual({ status: 'placed', count: 2 });
    expect(progress.at(-1)).toMatchObject({ progress: 3, message: '3 orders read' });
  });

  it('lists and reads its resources, the template listing concrete orders', async () => {
    // Prepare
    const client = await clientAs(person('cy', ['clerk']));

    // Act
    const { resources } = await client.listResources();
    const order = await client.readResource({ uri: 'orders://orders/ord-1' });

    // Assess
    expect(resources.map((resource) => resource.uri).sort()).toEqual([
      'orders://orders/ord-1',
      'orders://orders/ord-2',
      'orders://orders/ord-9001',
      'orders://statuses',
    ]);
    expect(order.contents[0]).toMatchObject({ text: '{"id":"ord-1","status":"shipped"}' });
  });

  it("completes the template's {id} and the prompt's id from the table", async () => {
    // Prepare
    const client = await clientAs(person('cy', ['clerk']));

    // Act
    const forTemplate = await client.complete({
      ref: { type: 'ref/resource', uri: 'orders://orders/{id}' },
      argument: { name: 'id', value: 'ord-9' },
    });
    const forPrompt = await client.complete({
      ref: { type: 'ref/prompt', name: 'order_follow_up' },
      argument: { name: 'id', value: 'ord-' },
    });

    // Assess
    expect(forTemplate.completion.values).toEqual(['ord-9001']);
    expect([...forPrompt.completion.values].sort()).toEqual(['ord-1', 'ord-2', 'ord-9001']);
  });

  it('gets the prompt, linking the order as a resource', async () => {
    // Prepare
    const client = await clientAs(person('cy', ['clerk']));

    // Act
    const prompt = await client.getPrompt({ name: 'order_follow_up', arguments: { id: 'ord-2' } });

    // Assess
    expect(prompt.messages[1]?.content).toMatchObject({
      type: 'resource_link',
      uri: 'orders://orders/ord-2',
    });
  });

  it('neither lists nor runs count_orders for a clerk', async () => {
    // Prepare
    const client = await clientAs(person('cy', ['clerk']));

    // Act
    const { tools } = await client.listTools();
    const call = client.callTool({ name: 'count_orders', arguments: { status: 'placed' } });

    // Assess
    expect(tools.map((tool) => tool.name)).toEqual(['get_order']);
    await expect(call).rejects.toMatchObject({ code: -32003 });
  });
});

describe('what cdk synth checks of it', () => {
  it('validates its rules against the schema generated from its items', () => {
    expect(rulesProblems([ordersFull], { roles: Object.keys(ROLES), claims: [] })).toEqual([]);
  });

  it('takes its quota: a tool it has, not destructive', () => {
    expect(
      buildQuotaTable(ORDERS_QUOTAS, policy, destructiveToolNames([ordersFull])).rules,
    ).toEqual(ORDERS_QUOTAS);
  });
});
