/**
 * Early deny through the local gateway (which, like the only setting early deny is allowed
 * with, caches no authorizer result): a 2026-07-28 client's forbidden call is refused by the
 * authorizer with API Gateway's 403, the MCP Lambda never runs for it, nothing of the Deny
 * carries over to the caller's permitted calls, and everything early deny cannot judge (2025-era
 * requests, scope narrowing) is still answered by the MCP Lambda as before. Early deny runs
 * with the authorizer cache off and gateway step-up off (`-c earlyDeny=true
 * -c gatewayStepUp=false`).
 */
import {
  InsufficientScopeError,
  Client as ModernClient,
  StreamableHTTPClientTransport as ModernTransport,
  ProtocolError,
  SdkHttpError,
} from '@modelcontextprotocol/client';
import { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as LegacyTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { describe, expect, it } from 'vitest';
import { PERMISSION_DENIED_CODE } from '../../../lambda/mcp/gate';
import { AUDIT_EVENTS, AUDIT_FIELDS } from '../../../lambda/shared/audit';
import { LOCAL_SCOPE, loadSigningKey, mintAccessToken } from '../../../tools/local/identity';
import { useLocalGateway } from '../../support/local-gateway-fixture';

// Early deny answers through API Gateway's ACCESS_DENIED, which gateway step-up would give a
// challenge: the two do not run together.
const local = useLocalGateway('mcp-early-deny-', undefined, () => ({
  context: { earlyDeny: true, gatewayStepUp: false },
}));

const token = (groups: string[], scopes: string[] = [LOCAL_SCOPE]) =>
  mintAccessToken(loadSigningKey(local.dir), { sub: `ed-${groups.join('-')}`, groups, scopes });

async function modern(credential: string): Promise<ModernClient> {
  const client = new ModernClient(
    { name: 'early-deny-e2e', version: '1.0.0' },
    { versionNegotiation: { mode: 'auto' } },
  );
  await client.connect(
    new ModernTransport(new URL(local.gateway.mcpUrl), {
      requestInit: { headers: { Authorization: `Bearer ${credential}` } },
    }),
  );
  return client;
}

const settle = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error,
  );

const since = (from: number, event: string) =>
  local.logs
    .records()
    .slice(from)
    .filter((record) => record[AUDIT_FIELDS.event] === event);

describe('early deny at the gateway', () => {
  it('refuses a forbidden 2026-07-28 call with 403 before the MCP Lambda runs, and audits it', async () => {
    // Prepare
    const client = await modern(token(['analyst']));
    const from = local.logs.records().length;

    // Act
    const error = await settle(
      client.callTool({ name: 'delete_record', arguments: { id: 'cust-0040' } }),
    );

    // Assess: a plain 403 (no challenge: nothing for the client to re-authorize for)
    expect(error).toBeInstanceOf(SdkHttpError);
    expect(error).not.toBeInstanceOf(InsufficientScopeError);
    expect((error as SdkHttpError).data).toMatchObject({ status: 403 });
    expect(since(from, AUDIT_EVENTS.toolCall)).toEqual([]);
    expect(since(from, AUDIT_EVENTS.authDecision)).toMatchObject([
      {
        [AUDIT_FIELDS.decision]: 'deny',
        [AUDIT_FIELDS.reason]: 'item_forbidden',
        [AUDIT_FIELDS.tool]: 'delete_record',
        [AUDIT_FIELDS.permission]: 'delete_data',
      },
    ]);

    // Nothing carries over: the same token's permitted call goes through right after
    const allowed = await client.callTool({ name: 'get_record', arguments: { id: 'cust-0001' } });
    expect(allowed.isError).not.toBe(true);
    await client.close();
  });

  it("answers 403 Forbidden as the stack's ACCESS_DENIED gateway response does", async () => {
    // Act
    const response = await fetch(local.gateway.mcpUrl, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${token(['readonly'])}`,
        'Content-Type': 'application/json',
        Accept: 'application/json, text/event-stream',
        'MCP-Protocol-Version': '2026-07-28',
        'Mcp-Method': 'prompts/get',
        'Mcp-Name': 'segment_review',
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'prompts/get',
        params: { name: 'segment_review' },
      }),
    });

    // Assess
    expect(response.status).toBe(403);
    expect(response.headers.get('www-authenticate')).toBeNull();
    expect(await response.json()).toEqual({ message: 'Forbidden' });
  });

  it('leaves a 2025-11-25 call (no routing headers) to the MCP Lambda, which answers -32003', async () => {
    // Prepare
    const client = new LegacyClient({ name: 'early-deny-legacy', version: '1.0.0' });
    await client.connect(
      new LegacyTransport(new URL(local.gateway.mcpUrl), {
        requestInit: { headers: { Authorization: `Bearer ${token(['analyst'])}` } },
      }),
    );
    const from = local.logs.records().length;

    // Act
    const result = await settle(
      client.callTool({ name: 'delete_record', arguments: { id: 'cust-0040' } }),
    );

    // Assess
    expect((result as { code?: number }).code).toBe(PERMISSION_DENIED_CODE);
    expect(since(from, AUDIT_EVENTS.toolCall)).toHaveLength(1);
    await client.close();
  });

  it('leaves scope narrowing to the MCP Lambda, whose -32003 names the scopes to ask for', async () => {
    // Prepare: an admin whose token asked only for read_data
    const client = await modern(token(['admin'], [LOCAL_SCOPE, 'secure-mcp/read_data']));

    // Act
    const error = await settle(
      client.callTool({ name: 'delete_record', arguments: { id: 'cust-0040' } }),
    );

    // Assess: no challenge (gateway step-up is off with early deny), the scopes in the error
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as ProtocolError).code).toBe(PERMISSION_DENIED_CODE);
    expect((error as ProtocolError).data).toMatchObject({
      requiredScopes: [LOCAL_SCOPE, 'secure-mcp/read_data', 'secure-mcp/delete_data'],
    });
    await client.close();
  });

  it("leaves an unknown tool to the MCP Lambda, which answers the spec's error", async () => {
    // Prepare
    const client = await modern(token(['analyst']));

    // Act
    const error = await settle(client.callTool({ name: 'no_such_tool', arguments: {} }));

    // Assess
    expect(error).toBeInstanceOf(ProtocolError);
    await client.close();
  });
});
