/**
 * End to end through the local gateway: the real authorizer, the real MCP handler, dynalite as
 * the store, and the MCP SDK's own client over Streamable HTTP.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PERMISSION_DENIED_CODE } from '../../lambda/mcp/server';
import { AUDIT_EVENTS, AUDIT_FIELDS } from '../../lambda/shared/audit';
import { TOOL_NAMES, TOOL_PERMISSIONS, type ToolName } from '../../lambda/shared/policy';
import { addKey, FileKeyDocumentStore } from '../../tools/api-key-admin';
import { type LocalGateway, startLocalGateway } from '../../tools/local-gateway';
import { apiKeyFilePath, loadSigningKey, mintAccessToken } from '../../tools/local-identity';
import { type CapturedLogs, captureLogs } from '../helpers/capture-logs';

interface Caller {
  readonly label: string;
  readonly credential: () => string;
  readonly expectedTools: readonly ToolName[];
}

const ALL: readonly ToolName[] = TOOL_NAMES;
const ANALYST: readonly ToolName[] = ['get_record', 'query_customer_data', 'run_report'];
const READONLY: readonly ToolName[] = ['get_record', 'query_customer_data'];

let gateway: LocalGateway;
let dir: string;
let logs: CapturedLogs;
let apiKey = '';
const tokens: Record<string, string> = {};

/** Arguments that are valid for each tool; ids differ per caller so effects don't collide. */
function argsFor(tool: ToolName, caller: string, index: number): Record<string, unknown> {
  switch (tool) {
    case 'get_record':
      return { id: 'cust-0002' };
    case 'query_customer_data':
      return { segment: 'retail', limit: 5 };
    case 'put_record':
      return {
        id: `e2e-${index}`,
        name: `Created by ${caller}`,
        email: `e2e-${index}@example.com`,
        country: 'DE',
        segment: 'business',
        status: 'active',
        balance: 12.5,
      };
    case 'delete_record':
      return { id: `cust-${String(30 + index).padStart(4, '0')}` };
    case 'run_report':
      return { group_by: 'segment' };
  }
}

async function connect(credential: string): Promise<Client> {
  const client = new Client({ name: 'e2e-test', version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(gateway.mcpUrl), {
      requestInit: { headers: { Authorization: `Bearer ${credential}` } },
    }),
  );
  return client;
}

const callers: Caller[] = [
  { label: 'admin', credential: () => tokens.admin as string, expectedTools: ALL },
  { label: 'analyst', credential: () => tokens.analyst as string, expectedTools: ANALYST },
  { label: 'readonly', credential: () => tokens.readonly as string, expectedTools: READONLY },
  { label: 'a user with no group', credential: () => tokens.nogroup as string, expectedTools: [] },
  {
    label: 'a user in two groups',
    credential: () => tokens.twoGroups as string,
    expectedTools: ANALYST,
  },
  { label: 'an API-key principal (analyst)', credential: () => apiKey, expectedTools: ANALYST },
];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mcp-e2e-'));
  const key = loadSigningKey(dir);
  tokens.admin = mintAccessToken(key, { sub: 'alice', groups: ['admin'] });
  tokens.analyst = mintAccessToken(key, { sub: 'bob', groups: ['analyst'] });
  tokens.readonly = mintAccessToken(key, { sub: 'carol', groups: ['readonly'] });
  tokens.nogroup = mintAccessToken(key, { sub: 'dave' });
  tokens.twoGroups = mintAccessToken(key, {
    sub: 'erin',
    groups: ['readonly', 'analyst', 'guest'],
  });
  const store = new FileKeyDocumentStore(apiKeyFilePath(dir));
  const created = addKey(await store.read(), {
    name: 'ci-bot',
    roles: ['analyst'],
    now: new Date(),
  });
  await store.write(created.document);
  apiKey = created.key;
  logs = captureLogs();
  gateway = await startLocalGateway({ port: 0, dir });
});

afterAll(async () => {
  logs?.restore();
  await gateway?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe.each(callers.map((caller, index) => ({ ...caller, index })))('$label', (caller) => {
  it('sees exactly the tools the policy table grants', async () => {
    const client = await connect(caller.credential());
    try {
      const { tools } = await client.listTools();
      expect(tools.map((tool) => tool.name).sort()).toEqual([...caller.expectedTools].sort());
    } finally {
      await client.close();
    }
  });

  it.each(TOOL_NAMES)('calls %s if and only if the policy table allows it', async (tool) => {
    const client = await connect(caller.credential());
    try {
      const call = client.callTool({
        name: tool,
        arguments: argsFor(tool, caller.label, caller.index),
      });
      if (caller.expectedTools.includes(tool)) {
        const result = await call;
        expect(result.isError ?? false).toBe(false);
        expect(result.structuredContent).toBeDefined();
      } else {
        const error = await call.then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(McpError);
        expect((error as McpError).code).toBe(PERMISSION_DENIED_CODE);
        expect((error as McpError).message).toContain(TOOL_PERMISSIONS[tool]);
      }
    } finally {
      await client.close();
    }
  });
});

describe('effects and audit', () => {
  it('leaves the record in place when a delete is denied', async () => {
    const client = await connect(tokens.analyst as string);
    try {
      await expect(
        client.callTool({ name: 'delete_record', arguments: { id: 'cust-0001' } }),
      ).rejects.toThrow(/delete_data/);
      const result = await client.callTool({ name: 'get_record', arguments: { id: 'cust-0001' } });
      expect(result.structuredContent).toMatchObject({ found: true, record: { id: 'cust-0001' } });
    } finally {
      await client.close();
    }
  });

  it('deletes the record when an admin asks', async () => {
    const client = await connect(tokens.admin as string);
    try {
      const deleted = await client.callTool({
        name: 'delete_record',
        arguments: { id: 'cust-0040' },
      });
      expect(deleted.structuredContent).toEqual({ deleted: true, id: 'cust-0040' });
      const result = await client.callTool({ name: 'get_record', arguments: { id: 'cust-0040' } });
      expect(result.structuredContent).toEqual({ found: false });
    } finally {
      await client.close();
    }
  });

  it('writes one audit record per tools/call, with the status each call had', () => {
    const toolCalls = logs
      .records()
      .filter((record) => record[AUDIT_FIELDS.event] === AUDIT_EVENTS.toolCall);
    // The matrix: every caller calls every tool once; then 2 + 2 calls above.
    const expectedCalls = callers.length * TOOL_NAMES.length + 4;
    expect(toolCalls).toHaveLength(expectedCalls);
    const denied = toolCalls.filter((record) => record[AUDIT_FIELDS.status] === 'denied');
    const expectedDenied =
      callers.reduce((sum, caller) => sum + TOOL_NAMES.length - caller.expectedTools.length, 0) + 1;
    expect(denied).toHaveLength(expectedDenied);
    expect(toolCalls.filter((record) => record[AUDIT_FIELDS.status] === 'success')).toHaveLength(
      expectedCalls - expectedDenied,
    );
  });

  it('names the API key by id, never by its secret', () => {
    const keyId = apiKey.slice('mcpk_'.length, 'mcpk_'.length + 16);
    const keyCalls = logs
      .records()
      .filter(
        (record) =>
          record[AUDIT_FIELDS.event] === AUDIT_EVENTS.toolCall &&
          record[AUDIT_FIELDS.keyId] === keyId,
      );
    expect(keyCalls.length).toBe(TOOL_NAMES.length);
    expect(keyCalls.every((record) => record[AUDIT_FIELDS.caller] === 'ci-bot')).toBe(true);
  });

  it('never writes a token, an API key or part of either to the logs', () => {
    const secrets = [...Object.values(tokens), apiKey];
    const fragments = secrets.flatMap((secret) => [
      secret,
      secret.split('.').at(-1) as string,
      secret.slice(-43),
    ]);
    const text = logs.lines.join('\n');
    expect(logs.lines.length).toBeGreaterThan(0);
    for (const fragment of fragments) expect(text).not.toContain(fragment);
  });
});

describe('a token narrowed by permission scopes', () => {
  it('gives an admin who asked only for read_data the read tools, and refuses the rest', async () => {
    // Prepare
    const token = mintAccessToken(loadSigningKey(dir), {
      sub: 'alice',
      groups: ['admin'],
      scopes: ['mcp-server/tools', 'mcp-server/read_data'],
    });
    const client = await connect(token);
    try {
      // Act
      const { tools } = await client.listTools();
      const deleting = client.callTool({ name: 'delete_record', arguments: { id: 'cust-0005' } });

      // Assess
      expect(tools.map((tool) => tool.name).sort()).toEqual(['get_record', 'query_customer_data']);
      await expect(deleting).rejects.toThrow(/delete_data/);
    } finally {
      await client.close();
    }
  });
});

describe('the gateway in front', () => {
  const post = (
    headers: Record<string, string>,
    body = '{"jsonrpc":"2.0","id":1,"method":"tools/list"}',
  ) =>
    fetch(gateway.mcpUrl, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        Accept: 'application/json, text/event-stream',
        ...headers,
      },
      body,
    });

  it('answers 401 with a Bearer challenge when there is no credential', async () => {
    const response = await post({});
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer /);
  });

  it('answers 401 for an expired token', async () => {
    const expired = mintAccessToken(loadSigningKey(dir), {
      sub: 'alice',
      groups: ['admin'],
      expiresIn: -60,
    });
    expect((await post({ Authorization: `Bearer ${expired}` })).status).toBe(401);
  });

  it('answers 405 to GET after authenticating, without hanging', async () => {
    const response = await fetch(gateway.mcpUrl, {
      headers: { Authorization: `Bearer ${tokens.admin}`, Accept: 'text/event-stream' },
    });
    expect(response.status).toBe(405);
  });

  it('answers 404 for other paths', async () => {
    const response = await fetch(`${gateway.url}/other`, { method: 'POST' });
    expect(response.status).toBe(404);
  });
});
