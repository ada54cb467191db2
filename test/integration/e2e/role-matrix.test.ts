/**
 * End to end through the local gateway, in both protocol eras: the real authorizer, the real
 * MCP handler, the example module on the embedded DynamoDB, and real MCP clients: the v1 SDK
 * client (2025-11-25) and the v2 client pinned to 2026-07-28. Every role of the deployment (and
 * a caller with none, one with two, an API key) × every item of the example module, each
 * expected to see and use exactly what the policy table grants it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Client as ModernClient,
  StreamableHTTPClientTransport as ModernTransport,
} from '@modelcontextprotocol/client';
import { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as LegacyTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PERMISSION_DENIED_CODE } from '../../../lambda/mcp/gate';
import { AUDIT_EVENTS, AUDIT_FIELDS } from '../../../lambda/shared/audit';
import {
  findItem,
  type ItemKind,
  permissionsFor,
  permittedItems,
} from '../../../lambda/shared/policy';
import { POLICY } from '../../../modules/policy';
import { addKey, FileKeyDocumentStore } from '../../../tools/cli/api-key-admin';
import type { LocalGateway } from '../../../tools/local/gateway';
import { apiKeyFilePath, loadSigningKey, mintAccessToken } from '../../../tools/local/identity';
import { DEPLOYMENT_ROLES, deploymentRole } from '../../support/deployment-roles';
import {
  type GatewayLogs,
  gatewayLogs,
  startTestGateway,
} from '../../support/local-gateway-fixture';
import { NO_DELETE_APPROVAL } from '../../support/test-assembly';

type ToolName =
  | 'get_record'
  | 'query_customer_data'
  | 'put_record'
  | 'delete_record'
  | 'run_report';
const TOOL_NAMES: readonly ToolName[] = [
  'get_record',
  'query_customer_data',
  'put_record',
  'delete_record',
  'run_report',
];
const PROMPTS = ['customer_summary', 'segment_review'] as const;
/** One URI per resource item: the static one and a concrete one of the template. */
const RESOURCES = [
  { item: 'record_schema', uri: 'customers://schema/record' },
  { item: 'segment_summary', uri: 'customers://segments/retail/summary' },
] as const;

interface Expected {
  readonly tools: readonly string[];
  readonly resources: readonly string[];
  readonly templates: readonly string[];
  readonly prompts: readonly string[];
}

/** What the policy table lets a caller in `groups` see and use, of every module. */
function expectedFor(groups: readonly string[]): Expected {
  const granted = permissionsFor(POLICY, [...groups]);
  const names = (kind: ItemKind) => permittedItems(POLICY, kind, granted).map((item) => item.name);
  return {
    tools: names('tool'),
    resources: [...names('resource'), ...names('resourceTemplate')],
    templates: names('resourceTemplate'),
    prompts: names('prompt'),
  };
}

/** A role that reads and reports but may not delete (an analyst), and one that may do all. */
const READER = deploymentRole({ grants: ['read_data', 'run_reports'], lacks: ['delete_data'] });
const ADMIN = deploymentRole({
  grants: ['read_data', 'write_data', 'delete_data', 'run_reports'],
});

interface Caller {
  readonly label: string;
  readonly credential: () => string;
  readonly expected: Expected;
}

let gateway: LocalGateway;
let dir: string;
let logs: GatewayLogs;
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

const ERAS = ['2025-11-25', '2026-07-28'] as const;
type Era = (typeof ERAS)[number];

/** The client of an era: the same calls, whichever SDK makes them. */
type AnyClient = Pick<
  LegacyClient,
  | 'listTools'
  | 'callTool'
  | 'listResources'
  | 'listResourceTemplates'
  | 'readResource'
  | 'listPrompts'
  | 'getPrompt'
  | 'close'
>;

async function connect(credential: string, era: Era = '2025-11-25'): Promise<AnyClient> {
  const requestInit = { headers: { Authorization: `Bearer ${credential}` } };
  if (era === '2025-11-25') {
    const client = new LegacyClient({ name: 'e2e-legacy', version: '1.0.0' });
    await client.connect(new LegacyTransport(new URL(gateway.mcpUrl), { requestInit }));
    return client;
  }
  const client = new ModernClient(
    { name: 'e2e-modern', version: '1.0.0' },
    { versionNegotiation: { mode: { pin: '2026-07-28' } } },
  );
  await client.connect(new ModernTransport(new URL(gateway.mcpUrl), { requestInit }));
  return client as unknown as AnyClient;
}

/** The JSON-RPC error code a rejected call carries, whichever SDK threw it. */
async function errorCode(call: Promise<unknown>): Promise<number | undefined> {
  return call.then(
    () => undefined,
    (error: unknown) => (error as { code?: number }).code,
  );
}

/** Two roles of the deployment and a group that is none: a caller in all three. */
const TWO_GROUPS = [...DEPLOYMENT_ROLES.slice(0, 2), 'guest'];

const callers: Caller[] = [
  ...DEPLOYMENT_ROLES.map((role) => ({
    label: role,
    credential: () => tokens[role] as string,
    expected: expectedFor([role]),
  })),
  {
    label: 'a user with no group',
    credential: () => tokens.nogroup as string,
    expected: expectedFor([]),
  },
  {
    label: `a user in ${TWO_GROUPS.join(', ')}`,
    credential: () => tokens.twoGroups as string,
    expected: expectedFor(TWO_GROUPS),
  },
  {
    label: `an API-key principal (${READER})`,
    credential: () => apiKey,
    expected: expectedFor([READER]),
  },
];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mcp-e2e-'));
  const key = loadSigningKey(dir);
  for (const role of DEPLOYMENT_ROLES) {
    tokens[role] = mintAccessToken(key, { sub: `user-${role}`, groups: [role] });
  }
  tokens.nogroup = mintAccessToken(key, { sub: 'dave' });
  tokens.twoGroups = mintAccessToken(key, { sub: 'erin', groups: TWO_GROUPS });
  const store = new FileKeyDocumentStore(apiKeyFilePath(dir));
  const created = addKey(await store.read(), {
    name: 'ci-bot',
    roles: [READER],
    knownRoles: [READER],
    now: new Date(),
  });
  await store.write(created.document);
  apiKey = created.key;
  logs = gatewayLogs(() => gateway);
  // The matrix is about roles: delete_record runs without a person's approval here.
  gateway = await startTestGateway(dir, { context: NO_DELETE_APPROVAL });
}, 120_000);

afterAll(async () => {
  await gateway?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const sorted = (names: readonly string[]) => [...names].sort();

describe.each(ERAS)('MCP %s', (era) => {
  const eraIndex = ERAS.indexOf(era);
  describe.each(callers.map((caller, index) => ({ ...caller, index })))('$label', (caller) => {
    /** Distinct record ids per era and caller, so writes and deletes do not collide. */
    const slot = eraIndex * callers.length + caller.index;

    it('sees exactly the tools, resources, templates and prompts the policy table grants', async () => {
      const client = await connect(caller.credential(), era);
      try {
        const tools = (await client.listTools()).tools.map((tool) => tool.name);
        // The example module's resources (its template lists concrete ones).
        const resources = (await client.listResources()).resources
          .map((r) => r.uri)
          .filter((uri) => uri.startsWith('customers://'));
        const templates = (await client.listResourceTemplates()).resourceTemplates.map(
          (t) => t.name,
        );
        const prompts = (await client.listPrompts()).prompts.map((prompt) => prompt.name);

        expect(sorted(tools)).toEqual(sorted(caller.expected.tools));
        expect(sorted(templates)).toEqual(sorted(caller.expected.templates));
        expect(sorted(prompts)).toEqual(sorted(caller.expected.prompts));
        // The static resource, plus the template's listed segments for those who may read them.
        const expectedUris = [
          ...(caller.expected.resources.includes('record_schema')
            ? ['customers://schema/record']
            : []),
          ...(caller.expected.templates.includes('segment_summary')
            ? ['business', 'enterprise', 'retail'].map((s) => `customers://segments/${s}/summary`)
            : []),
        ];
        expect(sorted(resources)).toEqual(sorted(expectedUris));
      } finally {
        await client.close();
      }
    });

    it.each(TOOL_NAMES)('calls %s if and only if the policy table allows it', async (tool) => {
      const client = await connect(caller.credential(), era);
      try {
        const call = client.callTool({ name: tool, arguments: argsFor(tool, caller.label, slot) });
        if (caller.expected.tools.includes(tool)) {
          const result = await call;
          expect(result.isError ?? false).toBe(false);
          expect(result.structuredContent).toBeDefined();
        } else {
          await expect(call).rejects.toThrow(findItem(POLICY, 'tool', tool)?.permission as string);
          expect(await errorCode(client.callTool({ name: tool, arguments: {} }))).toBe(
            PERMISSION_DENIED_CODE,
          );
        }
      } finally {
        await client.close();
      }
    });

    it.each(RESOURCES)(
      'reads $uri if and only if the policy table allows it',
      async ({ item, uri }) => {
        const client = await connect(caller.credential(), era);
        try {
          const read = client.readResource({ uri });
          if (caller.expected.resources.includes(item)) {
            const { contents } = await read;
            expect(contents).toHaveLength(1);
            expect(contents[0]?.uri).toBe(uri);
          } else {
            expect(await errorCode(read)).toBe(PERMISSION_DENIED_CODE);
          }
        } finally {
          await client.close();
        }
      },
    );

    it.each(PROMPTS)(
      'gets the prompt %s if and only if the policy table allows it',
      async (prompt) => {
        const client = await connect(caller.credential(), era);
        try {
          const args: Record<string, string> =
            prompt === 'customer_summary' ? { id: 'cust-0003' } : { segment: 'business' };
          const get = client.getPrompt({ name: prompt, arguments: args });
          if (caller.expected.prompts.includes(prompt)) {
            expect((await get).messages.length).toBeGreaterThan(0);
          } else {
            expect(await errorCode(get)).toBe(PERMISSION_DENIED_CODE);
          }
        } finally {
          await client.close();
        }
      },
    );
  });
});

describe('effects and audit', () => {
  it('leaves the record in place when a delete is denied', async () => {
    const client = await connect(tokens[READER] as string);
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
    const client = await connect(tokens[ADMIN] as string);
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

  it('writes one audit record per call, read and get, with the status each had and its era', () => {
    const ofEvent = (event: string) =>
      logs.records().filter((record) => record[AUDIT_FIELDS.event] === event);
    const toolCalls = ofEvent(AUDIT_EVENTS.toolCall);
    // The matrix, per era: each caller calls each tool once (a forbidden one twice); then the
    // 2 + 2 calls above.
    const forbidden = (caller: Caller) =>
      TOOL_NAMES.filter((tool) => !caller.expected.tools.includes(tool)).length;
    const perEra = callers.reduce((sum, c) => sum + TOOL_NAMES.length + forbidden(c), 0);
    expect(toolCalls).toHaveLength(ERAS.length * perEra + 4);
    const denied = toolCalls.filter((record) => record[AUDIT_FIELDS.status] === 'denied');
    const deniedPerEra = callers.reduce((sum, c) => sum + 2 * forbidden(c), 0);
    expect(denied).toHaveLength(ERAS.length * deniedPerEra + 1);
    expect(toolCalls.filter((record) => record[AUDIT_FIELDS.status] === 'success')).toHaveLength(
      toolCalls.length - denied.length,
    );
    for (const era of ['legacy', 'modern']) {
      expect(toolCalls.some((record) => record[AUDIT_FIELDS.protocolEra] === era)).toBe(true);
    }
    expect(ofEvent(AUDIT_EVENTS.resourceRead)).toHaveLength(
      ERAS.length * callers.length * RESOURCES.length,
    );
    expect(ofEvent(AUDIT_EVENTS.promptGet)).toHaveLength(
      ERAS.length * callers.length * PROMPTS.length,
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
    const granted = expectedFor([READER]).tools;
    const forbidden = TOOL_NAMES.filter((tool) => !granted.includes(tool)).length;
    expect(keyCalls.length).toBe(ERAS.length * (TOOL_NAMES.length + forbidden));
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
      groups: [ADMIN],
      scopes: ['secure-mcp/tools', 'secure-mcp/read_data'],
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
      groups: [ADMIN],
      expiresIn: -60,
    });
    expect((await post({ Authorization: `Bearer ${expired}` })).status).toBe(401);
  });

  it('answers 405 to GET after authenticating, without hanging', async () => {
    const response = await fetch(gateway.mcpUrl, {
      headers: { Authorization: `Bearer ${tokens[ADMIN]}`, Accept: 'text/event-stream' },
    });
    expect(response.status).toBe(405);
  });

  it("answers other paths as API Gateway does: 403 'Missing Authentication Token'", async () => {
    const response = await fetch(`${gateway.url}/other`, { method: 'POST' });
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({ message: 'Missing Authentication Token' });
  });
});
