/**
 * Per-caller quotas through the synthesized API, on the bundle `cdk deploy` ships, counted in
 * the stack's quota table (dynalite standing in for DynamoDB): the deployment's modules with
 * the example quota lowered to 3 calls of `query_customer_data` per 5 minutes. Over it, the
 * real SDK clients of both eras get HTTP 429 with the SEP-3304 (draft of 2026-08-25) JSON-RPC
 * -32023 in the body, the refusal is audited `rate_limited` with the rule's id, the caller's
 * other tools and other callers are untouched, and concurrent calls landing on separate Lambda
 * execution environments never get more than the limit through.
 */
import {
  Client as ModernClient,
  StreamableHTTPClientTransport as ModernTransport,
  SdkHttpError,
} from '@modelcontextprotocol/client';
import { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import {
  StreamableHTTPClientTransport as LegacyTransport,
  StreamableHTTPError,
} from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { describe, expect, it } from 'vitest';
import { RATE_LIMITED_CODE } from '../../../lambda/mcp/quotas';
import { AUDIT_EVENTS, AUDIT_FIELDS, TOOL_CALL_STATUS } from '../../../lambda/shared/audit';
import type { QuotaRule } from '../../../lambda/shared/quota';
import { MODULES } from '../../../modules/index';
import { MODULE_INFRA } from '../../../modules/infra';
import { ROLE_PERMISSIONS } from '../../../modules/roles';
import { loadSigningKey, mintAccessToken } from '../../../tools/local/identity';
import { useLocalGateway } from '../../support/local-gateway-fixture';

const LIMIT = 3;
const QUOTA: QuotaRule = {
  id: 'customer-queries',
  tool: 'query_customer_data',
  limit: LIMIT,
  windowSeconds: 300,
};

const local = useLocalGateway('mcp-quotas-', undefined, () => ({
  mcp: {
    modules: { list: MODULES, infra: MODULE_INFRA, roles: ROLE_PERMISSIONS, quotas: [QUOTA] },
  },
}));

const QUERY = { name: 'query_customer_data', arguments: { segment: 'enterprise', limit: 1 } };

const analystToken = (sub: string) =>
  mintAccessToken(loadSigningKey(local.dir), { sub, groups: ['analyst'] });

async function modern(sub: string): Promise<ModernClient> {
  const client = new ModernClient(
    { name: 'quota-e2e', version: '1.0.0' },
    { versionNegotiation: { mode: 'auto' } },
  );
  await client.connect(
    new ModernTransport(new URL(local.gateway.mcpUrl), {
      requestInit: { headers: { Authorization: `Bearer ${analystToken(sub)}` } },
    }),
  );
  return client;
}

async function legacy(sub: string): Promise<LegacyClient> {
  const client = new LegacyClient({ name: 'quota-e2e-legacy', version: '1.0.0' });
  await client.connect(
    new LegacyTransport(new URL(local.gateway.mcpUrl), {
      requestInit: { headers: { Authorization: `Bearer ${analystToken(sub)}` } },
    }),
  );
  return client;
}

const settle = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error,
  );

const toolCalls = (from: number, principal: string) =>
  local.logs
    .records()
    .slice(from)
    .filter(
      (record) =>
        record[AUDIT_FIELDS.event] === AUDIT_EVENTS.toolCall &&
        record[AUDIT_FIELDS.caller] === principal,
    );

/** The JSON-RPC error a 429's body carries, as the SEP-3304 draft shapes it. */
function expectRateLimited(body: string, id: unknown = expect.anything()) {
  const parsed = JSON.parse(body) as {
    id: unknown;
    error: { code: number; message: string; data: Record<string, unknown> };
  };
  expect(parsed).toMatchObject({
    jsonrpc: '2.0',
    id,
    error: { code: RATE_LIMITED_CODE, data: { limit: LIMIT, remaining: 0 } },
  });
  const retryAfterMs = parsed.error.data.retryAfterMs as number;
  expect(retryAfterMs).toBeGreaterThan(0);
  expect(retryAfterMs).toBeLessThanOrEqual(QUOTA.windowSeconds * 1000);
  expect(parsed.error.message).toContain('customer-queries');
}

describe('per-caller quotas through the deployed API', () => {
  it('lets an SDK v2 (2026-07-28) caller use the limit, then answers 429 with -32023', async () => {
    // Prepare
    const client = await modern('quota-modern');
    const from = local.logs.records().length;

    // Act
    for (let i = 0; i < LIMIT; i++) {
      const result = await client.callTool(QUERY);
      expect(result.isError).not.toBe(true);
    }
    const error = await settle(client.callTool(QUERY));

    // Assess: the HTTP status and the JSON-RPC error in its body
    expect(error).toBeInstanceOf(SdkHttpError);
    const data = (error as SdkHttpError).data as { status: number; text: string };
    expect(data.status).toBe(429);
    expectRateLimited(data.text);
    // Audited: three served, one refused, naming the rule and never the arguments
    const records = toolCalls(from, 'quota-modern');
    expect(records.map((record) => record[AUDIT_FIELDS.status])).toEqual([
      'success',
      'success',
      'success',
      TOOL_CALL_STATUS.rateLimited,
    ]);
    expect(records[3]).toMatchObject({
      [AUDIT_FIELDS.tool]: 'query_customer_data',
      [AUDIT_FIELDS.quota]: 'customer-queries',
      [AUDIT_FIELDS.errorType]: 'QuotaExceeded',
      [AUDIT_FIELDS.protocolEra]: 'modern',
    });
    expect(JSON.stringify(records)).not.toContain('enterprise');

    // The caller's other tools are not counted by this rule
    const other = await client.callTool({ name: 'get_record', arguments: { id: 'cust-0001' } });
    expect(other.isError).not.toBe(true);
    await client.close();
  });

  it('answers a 2025-11-25 client the same 429 and JSON-RPC error, readable in its message', async () => {
    // Prepare
    const client = await legacy('quota-legacy');
    for (let i = 0; i < LIMIT; i++) await client.callTool(QUERY);

    // Act
    const error = await settle(client.callTool(QUERY));

    // Assess: SDK v1's error carries the status as its code and the body in its message
    expect(error).toBeInstanceOf(StreamableHTTPError);
    expect((error as StreamableHTTPError).code).toBe(429);
    const message = (error as StreamableHTTPError).message;
    expectRateLimited(message.slice(message.indexOf('{')));
    await client.close();
  });

  it('counts each caller apart: one caller over its limit leaves another untouched', async () => {
    // Prepare: a caller uses its whole limit
    const heavy = await modern('quota-heavy');
    for (let i = 0; i < LIMIT; i++) await heavy.callTool(QUERY);
    await expect(heavy.callTool(QUERY)).rejects.toBeInstanceOf(SdkHttpError);

    // Act
    const light = await modern('quota-light');
    const result = await light.callTool(QUERY);

    // Assess
    expect(result.isError).not.toBe(true);
    await Promise.all([heavy.close(), light.close()]);
  });

  it('admits exactly the limit of 12 concurrent calls, across execution environments', async () => {
    // Prepare
    const token = analystToken('quota-burst');
    const from = local.logs.records().length;
    const call = (id: number) =>
      fetch(local.gateway.mcpUrl, {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${token}`,
          'Content-Type': 'application/json',
          Accept: 'application/json, text/event-stream',
          'MCP-Protocol-Version': '2026-07-28',
          'Mcp-Method': 'tools/call',
          'Mcp-Name': 'query_customer_data',
        },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id,
          method: 'tools/call',
          params: {
            ...QUERY,
            _meta: {
              'io.modelcontextprotocol/protocolVersion': '2026-07-28',
              'io.modelcontextprotocol/clientInfo': { name: 'quota-burst', version: '1.0.0' },
              'io.modelcontextprotocol/clientCapabilities': {},
            },
          },
        }),
      });

    // Act
    const responses = await Promise.all(Array.from({ length: 12 }, (_, i) => call(i + 1)));

    // Assess: exactly the limit served, the rest refused with the headers SEP-3304 binds
    const statuses = responses.map((response) => response.status).sort();
    expect(statuses).toEqual([...Array(LIMIT).fill(200), ...Array(12 - LIMIT).fill(429)]);
    const bodies = await Promise.all(responses.map((response) => response.text()));
    responses.forEach((response, i) => {
      if (response.status !== 429) return;
      expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(response.headers.get('ratelimit-limit')).toBe(String(LIMIT));
      expect(response.headers.get('ratelimit-remaining')).toBe('0');
      expectRateLimited(bodies[i] as string, i + 1);
    });
    // More than one execution environment served the burst: the count is the table's, not
    // an instance's.
    const served = toolCalls(from, 'quota-burst');
    expect(served.filter((r) => r[AUDIT_FIELDS.status] === 'success')).toHaveLength(LIMIT);
    expect(served).toHaveLength(12);
    expect(environmentsOf('quota-burst').size).toBeGreaterThan(1);
  });
});

/** The execution environments (log streams) whose audit records name `principal`. */
function environmentsOf(principal: string): Set<string> {
  return new Set(
    local.gateway.logs
      .events()
      .filter(
        (event) =>
          event.message.includes(`"${AUDIT_EVENTS.toolCall}"`) &&
          event.message.includes(`"${principal}"`),
      )
      .map((event) => event.stream),
  );
}
