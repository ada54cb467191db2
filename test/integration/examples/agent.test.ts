/**
 * The example agent (examples/agent.ts): against the local gateway (the stack in the local
 * emulator, on its stage URL) by API key and by OAuth from nothing but the URL (a scripted
 * person on the consent and sign-in pages), and against a loopback stand-in for what is hard
 * to make the deployed server do: approve at once (CIMD, registration), refuse a scope, send a
 * mixed-up `iss`, be busy.
 */
import {
  InsufficientScopeError,
  IssuerMismatchError,
  ProtocolError,
} from '@modelcontextprotocol/client';
import { afterEach, describe, expect, it } from 'vitest';
import {
  connect,
  listenForCallback,
  printable,
  runCli,
  SignInLimitError,
} from '../../../examples/agent';
import {
  AuthorizationBudget,
  MAX_AUTHORIZATIONS,
  retryAfterMs,
  retryingFetch,
  stepUpScope,
} from '../../../examples/agent-retry';
import { addKey, FileKeyDocumentStore } from '../../../tools/cli/api-key-admin';
import { apiKeyFilePath, LOCAL_SCOPE, localPermissionScopes } from '../../../tools/local/identity';
import { deploymentRole, deploymentToolsOf } from '../../support/deployment-roles';
import { useLocalGateway } from '../../support/local-gateway-fixture';
import { signInLocally } from '../../support/local-sign-in';
import { NO_DELETE_APPROVAL } from '../../support/test-assembly';
import { type StandIn, type StandInOptions, startStandIn } from './oauth-stand-in';

/** A role of the deployment that may read records but not delete them. */
const READER = deploymentRole({ grants: ['read_data'], lacks: ['delete_data'] });
let apiKey = '';
const local = useLocalGateway(
  'mcp-agent-',
  async (dir) => {
    const store = new FileKeyDocumentStore(apiKeyFilePath(dir));
    const created = addKey(await store.read(), {
      name: 'agent',
      roles: [READER],
      knownRoles: [READER],
      now: new Date(),
    });
    await store.write(created.document);
    apiKey = created.key;
    // These tests are about signing in and stepping up: delete_record runs without a person's
    // approval here (the agent's approvals: test/integration/e2e/approvals.test.ts).
  },
  () => ({ context: NO_DELETE_APPROVAL }),
);

/** A person on the local sign-in page; the browser then follows the redirect to the agent. */
function person(sub: string, groups: string[]) {
  return (authorizationUrl: URL) => {
    void signInLocally(authorizationUrl, sub, groups).then((callback) => fetch(callback));
  };
}

async function toolNames(agent: Awaited<ReturnType<typeof connect>>): Promise<string[]> {
  try {
    return (await agent.listTools()).tools.map((tool) => tool.name).sort();
  } finally {
    await agent.close();
  }
}

describe('examples/agent.ts against the local gateway', () => {
  it('connects with an API key and sees its roles’ tools', async () => {
    // Act
    const agent = await connect(local.gateway.mcpUrl, { apiKey });

    // Assess
    expect(await toolNames(agent)).toEqual(deploymentToolsOf([READER]));
  });

  it('signs in with OAuth from nothing but the URL and sees the chosen groups’ tools', async () => {
    // Act
    const agent = await connect(local.gateway.mcpUrl, {
      callbackPort: 0,
      openBrowser: person('alice', ['analyst']),
    });

    // Assess
    expect(agent.signIns).toBe(1);
    expect(await toolNames(agent)).toEqual(['get_record', 'query_customer_data', 'run_report']);
  });

  it('calls a tool after signing in', async () => {
    // Prepare
    const agent = await connect(local.gateway.mcpUrl, {
      callbackPort: 0,
      openBrowser: person('bob', [READER]),
    });

    // Act
    const result = await agent.callTool({ name: 'get_record', arguments: { id: 'cust-0001' } });
    await agent.close();

    // Assess
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ found: true });
  });

  it('asks only for the scopes it is given: an admin who asks to read sees the read tools', async () => {
    // Act: it signs in before its first call, so it asks for the 401 challenge to find the
    // metadata (the RFC 9728 well-known URLs of `/prod/mcp` are outside the stage).
    const agent = await connect(local.gateway.mcpUrl, {
      callbackPort: 0,
      openBrowser: person('dana', ['admin']),
      scope: [LOCAL_SCOPE, ...localPermissionScopes(['read_data'])].join(' '),
    });

    // Assess
    expect(await toolNames(agent)).toEqual(['get_record', 'query_customer_data']);
  });

  it('steps up through the local sign-in when a call needs a scope its token left out', async () => {
    // Prepare: an admin who asked only to read; the server answers delete 403 insufficient_scope.
    const signIns: URL[] = [];
    const admin = person('erin', ['admin']);
    const agent = await connect(local.gateway.mcpUrl, {
      callbackPort: 0,
      openBrowser: (url) => {
        signIns.push(url);
        admin(url);
      },
      scope: [LOCAL_SCOPE, ...localPermissionScopes(['read_data'])].join(' '),
    });

    // Act
    const result = await agent.callTool({ name: 'delete_record', arguments: { id: 'cust-0040' } });
    const tools = await toolNames(agent);

    // Assess: one more sign-in, for what it had plus what the call needs.
    expect(result.isError).toBeFalsy();
    expect(signIns).toHaveLength(2);
    expect(signIns[1]?.searchParams.get('scope')?.split(' ')).toEqual(
      expect.arrayContaining([LOCAL_SCOPE, ...localPermissionScopes(['read_data', 'delete_data'])]),
    );
    expect(tools).toContain('delete_record');
  });

  it('takes a role refusal (-32003) as the answer and does not sign in again', async () => {
    // Prepare
    const agent = await connect(local.gateway.mcpUrl, {
      callbackPort: 0,
      openBrowser: person('carol', [READER]),
    });

    // Act
    const refused = agent.callTool({ name: 'delete_record', arguments: { id: 'cust-0001' } });

    // Assess
    await expect(refused).rejects.toMatchObject({ code: -32003 });
    expect(agent.signIns).toBe(1);
    await agent.close();
  });

  it('refuses to send a credential over plain HTTP to a host that is not loopback', async () => {
    // Act & Assess
    await expect(connect('http://mcp.example.com/mcp', { apiKey })).rejects.toThrow(/plain HTTP/);
  });
});

describe('the loopback callback', () => {
  it('turns away a callback with someone else’s state and keeps waiting for its own', async () => {
    // Prepare
    const callback = await listenForCallback(0);
    try {
      const response = callback.response('expected-state');

      // Act: a forged response (login CSRF, or any page poking the port), then the real one.
      const forged = await fetch(`${callback.redirectUrl}?code=stolen&state=forged`);
      const real = await fetch(`${callback.redirectUrl}?code=real-code&state=expected-state`);
      const replayed = await fetch(`${callback.redirectUrl}?code=real-code&state=expected-state`);

      // Assess
      expect(forged.status).toBe(400);
      expect(real.status).toBe(200);
      expect(replayed.status).toBe(400);
      expect((await response).get('code')).toBe('real-code');
    } finally {
      await callback.close();
    }
  });
});

describe('examples/agent.ts against an authorization server that approves at once', () => {
  let standIn: StandIn | undefined;
  afterEach(async () => {
    await standIn?.close();
    standIn = undefined;
  });
  async function serve(options: StandInOptions): Promise<StandIn> {
    standIn = await startStandIn(options);
    return standIn;
  }
  const CIMD_URL = 'https://agent.example/oauth/client.json';

  describe('which client id it uses', () => {
    it('its CIMD URL, without registering, where the server supports CIMD', async () => {
      // Prepare
      const server = await serve({ cimd: true });

      // Act
      const agent = await connect(server.mcpUrl, {
        callbackPort: 0,
        headless: true,
        clientMetadataUrl: CIMD_URL,
      });
      await agent.close();

      // Assess
      expect(server.authorizations.map((a) => a.get('client_id'))).toEqual([CIMD_URL]);
      expect(server.registrations).toEqual([]);
    });

    it('one from dynamic registration where the server does not support CIMD', async () => {
      // Prepare
      const server = await serve({ cimd: false });

      // Act
      const agent = await connect(server.mcpUrl, {
        callbackPort: 0,
        headless: true,
        clientMetadataUrl: CIMD_URL,
      });
      await agent.close();

      // Assess
      expect(server.registrations).toHaveLength(1);
      expect(server.registrations[0]).toMatchObject({ application_type: 'native' });
      expect(server.authorizations.map((a) => a.get('client_id'))).toEqual(['dcr-client-1']);
    });

    it('a pre-registered one before CIMD or registration, as the spec orders them', async () => {
      // Prepare
      const server = await serve({ cimd: true });

      // Act
      const agent = await connect(server.mcpUrl, {
        callbackPort: 0,
        headless: true,
        clientMetadataUrl: CIMD_URL,
        preRegistered: { clientId: 'known-client' },
      });
      await agent.close();

      // Assess
      expect(server.authorizations.map((a) => a.get('client_id'))).toEqual(['known-client']);
      expect(server.registrations).toEqual([]);
    });

    it('refuses a CIMD URL that is not https', async () => {
      // Prepare
      const server = await serve({ cimd: true });

      // Act & Assess
      await expect(
        connect(server.mcpUrl, {
          callbackPort: 0,
          headless: true,
          clientMetadataUrl: 'http://agent.example/client.json',
        }),
      ).rejects.toThrow(/HTTPS/);
      expect(server.authorizations).toEqual([]);
    });
  });

  it('names this server as the resource (RFC 8707) in the authorization and token requests', async () => {
    // Prepare
    const server = await serve({});

    // Act
    const agent = await connect(server.mcpUrl, { callbackPort: 0, headless: true });
    await agent.close();

    // Assess
    expect(server.authorizations[0]?.get('resource')).toBe(server.mcpUrl);
    expect(server.tokenRequests[0]?.get('resource')).toBe(server.mcpUrl);
    expect(server.authorizations[0]?.get('code_challenge_method')).toBe('S256');
  });

  it.each([
    ['another issuer’s', 'wrong'],
    ['no', 'omit'],
  ] as const)(
    'refuses an authorization response with %s iss and redeems no code',
    async (_, iss) => {
      // Prepare: the server's metadata says it sends `iss` (RFC 9207).
      const server = await serve({ iss });

      // Act & Assess
      await expect(connect(server.mcpUrl, { callbackPort: 0, headless: true })).rejects.toThrow(
        IssuerMismatchError,
      );
      expect(server.tokenRequests).toEqual([]);
    },
  );

  it('reports a refused sign-in with its OAuth error, control characters defused', async () => {
    // Prepare
    const server = await serve({ refuse: { error: 'access_denied', description: '\u001b[2Jno' } });

    // Act
    const error = await connect(server.mcpUrl, { callbackPort: 0, headless: true }).then(
      () => undefined,
      (caught: unknown) => caught,
    );

    // Assess
    expect(error).toBeInstanceOf(Error);
    expect(printable((error as Error).message)).toBe('?[2Jno');
    expect(server.tokenRequests).toEqual([]);
  });

  describe('step-up', () => {
    const notes = (method: string, tool: string | undefined) =>
      method === 'tools/call' && tool === 'write_note' ? ['notes:write'] : ['notes:read'];

    it('on 403 insufficient_scope signs in once more for the union of scopes and retries', async () => {
      // Prepare: the 401 asks for notes:read; the call's 403 names only notes:write.
      const server = await serve({ initialScope: 'notes:read', needs: notes });
      const agent = await connect(server.mcpUrl, { callbackPort: 0, headless: true });

      // Act
      const result = await agent.callTool({ name: 'write_note', arguments: {} });
      await agent.close();

      // Assess: nothing asked for before is lost.
      expect(result.content).toEqual([{ type: 'text', text: 'written' }]);
      expect(server.authorizations.map((a) => a.get('scope'))).toEqual([
        'notes:read',
        'notes:read notes:write',
      ]);
      expect(agent.signIns).toBe(2);
    });

    it('asks only for the chosen scopes at first, and steps up from there', async () => {
      // Prepare: the server's 401 names no scope.
      const server = await serve({
        needs: (_method, tool) => (tool === 'write_note' ? ['notes:write'] : []),
      });
      const agent = await connect(server.mcpUrl, {
        callbackPort: 0,
        headless: true,
        scope: 'notes:read',
      });

      // Act
      await agent.callTool({ name: 'write_note', arguments: {} });
      await agent.close();

      // Assess
      expect(server.authorizations.map((a) => a.get('scope'))).toEqual([
        'notes:read',
        'notes:read notes:write',
      ]);
    });

    it('stops after one step-up for a call when the scope is still refused', async () => {
      // Prepare: the authorization server never grants notes:write.
      const server = await serve({
        initialScope: 'notes:read',
        needs: notes,
        withhold: ['notes:write'],
      });
      const agent = await connect(server.mcpUrl, { callbackPort: 0, headless: true });

      // Act
      const call = agent.callTool({ name: 'write_note', arguments: {} });

      // Assess
      await expect(call).rejects.toThrow(SignInLimitError);
      expect(server.authorizations).toHaveLength(2);
      expect(server.mcpRequests.filter((r) => r.status === 403)).toHaveLength(2);
      await agent.close();
    });

    it('never starts more than three sign-ins in a run, one call after another', async () => {
      // Prepare
      const server = await serve({
        initialScope: 'notes:read',
        needs: notes,
        withhold: ['notes:write'],
      });
      const agent = await connect(server.mcpUrl, { callbackPort: 0, headless: true });

      // Act
      for (let i = 0; i < 3; i++) {
        await agent.callTool({ name: 'write_note', arguments: {} }).catch(() => undefined);
      }

      // Assess
      expect(server.authorizations).toHaveLength(MAX_AUTHORIZATIONS);
      await agent.close();
    });

    it('does not step up on a 403 that is not insufficient_scope', async () => {
      // Prepare
      const server = await serve({ forbiddenTools: ['write_note'] });
      const agent = await connect(server.mcpUrl, { callbackPort: 0, headless: true });

      // Act & Assess
      await expect(agent.callTool({ name: 'write_note', arguments: {} })).rejects.not.toThrow(
        InsufficientScopeError,
      );
      expect(server.authorizations).toHaveLength(1);
      await agent.close();
    });

    it('does not sign in again for a JSON-RPC role refusal (-32003)', async () => {
      // Prepare
      const server = await serve({ deniedTools: ['write_note'] });
      const agent = await connect(server.mcpUrl, { callbackPort: 0, headless: true });

      // Act
      const call = agent.callTool({ name: 'write_note', arguments: {} });

      // Assess
      await expect(call).rejects.toThrow(ProtocolError);
      await expect(call).rejects.toMatchObject({ code: -32003 });
      expect(server.authorizations).toHaveLength(1);
      await agent.close();
    });
  });

  describe('a busy server', () => {
    it('is retried after 503s and the connection goes through', async () => {
      // Prepare
      const server = await serve({ failFirst: [503, 503] });
      const waits: number[] = [];

      // Act
      const agent = await connect(server.mcpUrl, {
        callbackPort: 0,
        headless: true,
        retry: { sleep: async (ms) => void waits.push(ms) },
      });
      await agent.close();

      // Assess: Retry-After: 0 honoured.
      expect(waits).toEqual([0, 0]);
      expect(server.authorizations).toHaveLength(1);
    });

    it('is given up on after three tries', async () => {
      // Prepare
      const server = await serve({ failFirst: [503, 503, 503, 503] });

      // Act
      const connecting = connect(server.mcpUrl, {
        callbackPort: 0,
        headless: true,
        retry: { sleep: async () => undefined },
      });

      // Assess
      await expect(connecting).rejects.toThrow();
      expect(server.mcpRequests).toHaveLength(3);
    });
  });

  it('runs from the command line headless, calls a tool and prints no token', async () => {
    // Prepare
    const server = await serve({ cimd: true });
    const printed: string[] = [];

    // Act
    const code = await runCli(
      [
        '--headless',
        '--callback-port',
        '0',
        '--client-metadata-url',
        CIMD_URL,
        '--call',
        'echo',
        server.mcpUrl,
      ],
      {},
      (text) => printed.push(text),
    );

    // Assess
    expect(code).toBe(0);
    expect(printed.join('')).toMatch(/Tools your roles allow: echo, write_note/);
    expect(printed.join('')).toMatch(/hello/);
    expect(printed.join('')).not.toMatch(/token-\d/);
  });
});

describe('retryingFetch', () => {
  function answering(...statuses: number[]) {
    const seen: string[] = [];
    const base = async (_input: string | URL, init?: RequestInit) => {
      seen.push(String(init?.body ?? ''));
      const status = statuses.shift() ?? 200;
      return new Response(null, { status, headers: status === 429 ? { 'Retry-After': '60' } : {} });
    };
    return { base, seen };
  }
  const noWait = { sleep: async () => undefined };
  const body = (method: string) => JSON.stringify({ jsonrpc: '2.0', id: 1, method });

  it('retries a 502 for tools/list but never repeats a tools/call that may have run', async () => {
    // Prepare
    const list = answering(502, 502, 502);
    const call = answering(502, 502, 502);

    // Act
    await retryingFetch(list.base, noWait)('http://x/mcp', {
      method: 'POST',
      body: body('tools/list'),
    });
    const answered = await retryingFetch(call.base, noWait)('http://x/mcp', {
      method: 'POST',
      body: body('tools/call'),
    });

    // Assess
    expect(list.seen).toHaveLength(3);
    expect(call.seen).toHaveLength(1);
    expect(answered.status).toBe(502);
  });

  it('never repeats a batch that holds a tools/call either', async () => {
    // Prepare
    const batch = answering(502, 502);

    // Act
    await retryingFetch(batch.base, noWait)('http://x/mcp', {
      method: 'POST',
      body: `[${body('tools/list')},${body('tools/call')}]`,
    });

    // Assess
    expect(batch.seen).toHaveLength(1);
  });

  it('does not wait out a Retry-After longer than its limit', async () => {
    // Prepare
    const busy = answering(429, 200);

    // Act
    const answered = await retryingFetch(busy.base, noWait)('http://x/mcp', { method: 'POST' });

    // Assess
    expect(answered.status).toBe(429);
    expect(busy.seen).toHaveLength(1);
  });

  it('does not retry an answer that is not a server failure', async () => {
    // Prepare
    const refused = answering(401);

    // Act
    await retryingFetch(refused.base, noWait)('http://x/mcp', { method: 'POST' });

    // Assess
    expect(refused.seen).toHaveLength(1);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    // Act & Assess
    expect(retryAfterMs('3')).toBe(3000);
    expect(retryAfterMs('Tue, 01 Dec 2026 14:00:10 GMT', Date.parse('2026-12-01T14:00:00Z'))).toBe(
      10_000,
    );
    expect(retryAfterMs('soon')).toBeUndefined();
    expect(retryAfterMs(null)).toBeUndefined();
  });
});

describe('the step-up limits', () => {
  it('asks for the union of what was asked, what was granted and what is challenged', () => {
    // Act & Assess
    expect(stepUpScope(new Set(['a', 'b']), 'b c', 'd a')).toBe('a b c d');
    expect(stepUpScope([], undefined, 'x')).toBe('x');
  });

  it('refuses a fourth sign-in in a run', () => {
    // Prepare
    const budget = new AuthorizationBudget();

    // Act
    for (let i = 0; i < MAX_AUTHORIZATIONS; i++) budget.spend('test');

    // Assess
    expect(() => budget.spend('test')).toThrow(SignInLimitError);
    expect(budget.started).toBe(MAX_AUTHORIZATIONS);
  });
});
