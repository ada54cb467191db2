/**
 * A person approves a destructive call, end to end on the local emulator (the synthesized
 * stack, every Lambda from its bundle, the approvals table in the DynamoDB stand-in): both MCP
 * SDKs' clients call `delete_record`, are answered with the approval URL in their era's form,
 * the person opens it (the browser played by `fetch` with a cookie jar; the real browser is
 * test/integration/browser/approval.test.ts), signs in on the local sign-in page and approves, and the call
 * then runs once. The audit trail of one approval spans both functions.
 */
import {
  Client as ModernClient,
  StreamableHTTPClientTransport as ModernTransport,
} from '@modelcontextprotocol/client';
import { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as LegacyTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { describe, expect, it } from 'vitest';
import { connect } from '../../../examples/agent';
import {
  APPROVAL_ERROR_TYPES,
  AUDIT_EVENTS,
  AUDIT_FIELDS,
  TOOL_CALL_STATUS,
} from '../../../lambda/shared/audit';
import { addKey, FileKeyDocumentStore } from '../../../tools/cli/api-key-admin';
import { apiKeyFilePath, loadSigningKey, mintAccessToken } from '../../../tools/local/identity';
import { approveLocally } from '../../support/local-approval';
import { useLocalGateway } from '../../support/local-gateway-fixture';
import { signInLocally } from '../../support/local-sign-in';

let adminKey = '';
const local = useLocalGateway('mcp-approvals-', async (dir) => {
  const store = new FileKeyDocumentStore(apiKeyFilePath(dir));
  const created = addKey(await store.read(), {
    name: 'ops-bot',
    roles: ['admin'],
    knownRoles: ['admin'],
    now: new Date(),
  });
  await store.write(created.document);
  adminKey = created.key;
});

function tokenFor(sub: string, groups: readonly string[] = ['admin']): string {
  return mintAccessToken(loadSigningKey(local.dir), { sub, groups: [...groups] });
}

async function legacyClient(sub: string): Promise<LegacyClient> {
  const client = new LegacyClient({ name: 'e2e-approvals-legacy', version: '1.0.0' });
  await client.connect(
    new LegacyTransport(new URL(local.gateway.mcpUrl), {
      requestInit: { headers: { Authorization: `Bearer ${tokenFor(sub)}` } },
    }),
  );
  return client;
}

/** The approval URL a 2025-11-25 call was refused with (-32042). */
async function approvalUrlOf(call: Promise<unknown>): Promise<URL> {
  const error = await call.then(
    () => {
      throw new Error('The call ran without an approval');
    },
    (caught: unknown) => caught as { code?: number; data?: { elicitations?: { url: string }[] } },
  );
  expect(error.code).toBe(-32042);
  const url = error.data?.elicitations?.[0]?.url;
  if (url === undefined) throw new Error('No URL elicitation in the error');
  return new URL(url);
}

const deleteCall = (id: string) => ({ name: 'delete_record', arguments: { id } });

async function recordExists(client: LegacyClient, id: string): Promise<boolean> {
  const result = await client.callTool({ name: 'get_record', arguments: { id } });
  return (result.structuredContent as { found: boolean }).found;
}

const records = (event: string) =>
  local.logs.records().filter((record) => record[AUDIT_FIELDS.event] === event);

describe('a 2026-07-28 client (MCP SDK v2)', () => {
  it('shows the URL, the person approves, and its retry runs the call', async () => {
    // Prepare: a client that can open URLs; "opening" is the person approving in a browser
    const client = new ModernClient(
      { name: 'e2e-approvals-modern', version: '2.0.0' },
      {
        capabilities: { elicitation: { url: {} } },
        versionNegotiation: { mode: { pin: '2026-07-28' } },
      },
    );
    const opened: URL[] = [];
    let person: Promise<unknown> = Promise.resolve();
    client.setRequestHandler('elicitation/create', async (request) => {
      const params = request.params as { mode?: string; url?: string };
      if (params.mode !== 'url' || params.url === undefined) return { action: 'decline' };
      const url = new URL(params.url);
      opened.push(url);
      // The client hands the URL to the browser and answers at once; the server waits for
      // the person's answer on the retry.
      person = approveLocally(url, 'maria', ['admin']);
      return { action: 'accept' };
    });
    await client.connect(
      new ModernTransport(new URL(local.gateway.mcpUrl), {
        requestInit: { headers: { Authorization: `Bearer ${tokenFor('maria')}` } },
      }),
    );

    try {
      // Act
      const result = await client.callTool(deleteCall('cust-0021'));
      const visit = (await person) as { statuses: number[] };

      // Assess
      expect(result.structuredContent).toEqual({ deleted: true, id: 'cust-0021' });
      expect(opened).toHaveLength(1);
      expect(opened[0]?.href).not.toContain('cust-0021');
      expect(visit.statuses.at(-1)).toBe(200);
      const toolCalls = records(AUDIT_EVENTS.toolCall).filter(
        (record) => record[AUDIT_FIELDS.caller] === 'maria',
      );
      expect(toolCalls.map((record) => record[AUDIT_FIELDS.status])).toEqual([
        TOOL_CALL_STATUS.approvalRequired,
        TOOL_CALL_STATUS.success,
      ]);
    } finally {
      await client.close();
    }
  });
});

describe('a 2025-11-25 client (MCP SDK v1)', () => {
  it('is refused with -32042 and the URL; after the person approves, its identical call runs once', async () => {
    // Prepare
    const client = await legacyClient('nina');
    try {
      const url = await approvalUrlOf(client.callTool(deleteCall('cust-0022')));
      const existedBefore = await recordExists(client, 'cust-0022');
      const visit = await approveLocally(url, 'nina', ['admin']);

      // Act
      const result = await client.callTool(deleteCall('cust-0022'));
      const replay = approvalUrlOf(client.callTool(deleteCall('cust-0022')));

      // Assess
      expect(existedBefore).toBe(true);
      expect(visit.shown).toContain('cust-0022');
      expect(visit.status).toBe(200);
      expect(result.structuredContent).toEqual({ deleted: true, id: 'cust-0022' });
      expect(await recordExists(client, 'cust-0022')).toBe(false);
      // The same call again is another call: it needs its own approval.
      await replay;
    } finally {
      await client.close();
    }
  });

  it('leaves one audit trail across both functions: requested, sign-in, shown, approved, consumed', async () => {
    // Prepare
    const client = await legacyClient('olga');
    try {
      const url = await approvalUrlOf(client.callTool(deleteCall('cust-0023')));
      await approveLocally(url, 'olga', ['admin']);

      // Act
      await client.callTool(deleteCall('cust-0023'));

      // Assess
      const steps = records(AUDIT_EVENTS.approval).filter(
        (record) => record[AUDIT_FIELDS.caller] === 'olga',
      );
      expect(
        steps.map((record) => [record[AUDIT_FIELDS.step], record[AUDIT_FIELDS.reason]]),
      ).toEqual([
        ['requested', 'ok'],
        ['sign_in', 'sign_in_required'],
        ['sign_in', 'signed_in'],
        ['shown', 'ok'],
        ['approved', 'ok'],
        ['consumed', 'ok'],
      ]);
      const digests = new Set(steps.map((record) => record[AUDIT_FIELDS.approvalDigest]));
      expect(digests.size).toBe(1);
      expect(JSON.stringify(steps)).not.toContain('cust-0023');
    } finally {
      await client.close();
    }
  });

  it('runs exactly one of 20 concurrent retries of one approved call', async () => {
    // Prepare
    const clients = await Promise.all(Array.from({ length: 20 }, () => legacyClient('petra')));
    try {
      const [first] = clients as [LegacyClient];
      await approveLocally(await approvalUrlOf(first.callTool(deleteCall('cust-0024'))), 'petra', [
        'admin',
      ]);

      // Act
      const outcomes = await Promise.allSettled(
        clients.map((client) => client.callTool(deleteCall('cust-0024'))),
      );

      // Assess
      const ran = outcomes.filter((outcome) => outcome.status === 'fulfilled');
      expect(ran).toHaveLength(1);
      expect(
        outcomes.filter(
          (outcome) =>
            outcome.status === 'rejected' && (outcome.reason as { code?: number }).code === -32042,
        ),
      ).toHaveLength(19);
      const consumed = records(AUDIT_EVENTS.approval).filter(
        (record) =>
          record[AUDIT_FIELDS.caller] === 'petra' && record[AUDIT_FIELDS.step] === 'consumed',
      );
      expect(consumed).toHaveLength(1);
    } finally {
      await Promise.all(clients.map((client) => client.close()));
    }
  });

  it('does not run a call the person denied', async () => {
    // Prepare
    const client = await legacyClient('quinn');
    try {
      const url = await approvalUrlOf(client.callTool(deleteCall('cust-0025')));
      await approveLocally(url, 'quinn', ['admin'], { decision: 'deny' });

      // Act
      const result = await client.callTool(deleteCall('cust-0025'));

      // Assess
      expect(result.isError).toBe(true);
      expect(await recordExists(client, 'cust-0025')).toBe(true);
      expect(records(AUDIT_EVENTS.toolCall).at(-2)).toMatchObject({
        [AUDIT_FIELDS.status]: TOOL_CALL_STATUS.denied,
        [AUDIT_FIELDS.errorType]: APPROVAL_ERROR_TYPES.denied,
      });
    } finally {
      await client.close();
    }
  });

  it('cannot be approved by another person, however they sign in', async () => {
    // Prepare: Rita's call; Mallory (an admin too) gets hold of the URL
    const client = await legacyClient('rita');
    try {
      const url = await approvalUrlOf(client.callTool(deleteCall('cust-0026')));

      // Act
      const visit = await approveLocally(url, 'mallory', ['admin']);
      const retry = approvalUrlOf(client.callTool(deleteCall('cust-0026')));

      // Assess
      expect(visit.status).toBe(403);
      expect(visit.text).not.toContain('cust-0026');
      await retry;
      expect(await recordExists(client, 'cust-0026')).toBe(true);
    } finally {
      await client.close();
    }
  });

  it('gives whoever holds the URL nothing: no arguments, no person, no page without a sign-in', async () => {
    // Prepare
    const client = await legacyClient('sara');
    try {
      const url = await approvalUrlOf(client.callTool(deleteCall('cust-0027')));

      // Act: the agent follows its own URL with its own bearer token
      const response = await fetch(url, {
        headers: { Authorization: `Bearer ${tokenFor('sara')}` },
        redirect: 'manual',
      });

      // Assess
      expect(url.href).not.toMatch(/cust-0027|sara/);
      expect([...url.searchParams.keys()]).toEqual(['ticket']);
      expect(response.status).toBe(302);
      expect(new URL(response.headers.get('location') ?? '').origin).toBe(
        local.gateway.emulator.cognitoOrigin,
      );
      expect(await response.text()).toBe('');
    } finally {
      await client.close();
    }
  });
});

describe('examples/agent.ts', () => {
  it('shows the approval URL of a delete, and completes it once the person approved', async () => {
    // Prepare: signed in with OAuth as an admin; the person approves what the agent shows
    const shown: URL[] = [];
    const agent = await connect(local.gateway.mcpUrl, {
      callbackPort: 0,
      openBrowser: (authorizationUrl) => {
        void signInLocally(authorizationUrl, 'umar', ['admin']).then((callback) => fetch(callback));
      },
      onApproval: async (url) => {
        shown.push(url);
        await approveLocally(url, 'umar', ['admin']);
      },
    });

    try {
      // Act
      const result = await agent.callTool(deleteCall('cust-0028'));

      // Assess
      expect(result.structuredContent).toEqual({ deleted: true, id: 'cust-0028' });
      expect(shown).toHaveLength(1);
      expect(shown[0]?.origin).toBe(new URL(local.gateway.mcpUrl).origin);
    } finally {
      await agent.close();
    }
  });

  it('is told, with an API key, that only a person can approve, and nothing runs', async () => {
    // Prepare
    const shown: URL[] = [];
    const agent = await connect(local.gateway.mcpUrl, {
      apiKey: adminKey,
      onApproval: (url) => {
        shown.push(url);
      },
    });

    try {
      // Act
      const result = await agent.callTool(deleteCall('cust-0029'));

      // Assess
      expect(result.isError).toBe(true);
      expect(JSON.stringify(result.content)).toMatch(/API-key caller cannot give/);
      expect(shown).toEqual([]);
    } finally {
      await agent.close();
    }
  });
});
