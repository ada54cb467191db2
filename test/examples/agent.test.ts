/**
 * The example agent (examples/agent.ts) against the local gateway: by API key, and by OAuth
 * from nothing but the URL with a scripted person on the sign-in page.
 */
import { describe, expect, it } from 'vitest';
import { connect, listenForCallback } from '../../examples/agent';
import { addKey, FileKeyDocumentStore } from '../../tools/api-key-admin';
import { apiKeyFilePath } from '../../tools/local-identity';
import { useLocalGateway } from '../helpers/local-gateway-fixture';
import { signInLocally } from '../helpers/local-sign-in';

let apiKey = '';
const local = useLocalGateway('mcp-agent-', async (dir) => {
  const store = new FileKeyDocumentStore(apiKeyFilePath(dir));
  const created = addKey(await store.read(), {
    name: 'agent',
    roles: ['readonly'],
    now: new Date(),
  });
  await store.write(created.document);
  apiKey = created.key;
});

/** A person on the local sign-in page; the browser then follows the redirect to the agent. */
function person(sub: string, groups: string[]) {
  return (authorizationUrl: URL) => {
    void signInLocally(authorizationUrl, sub, groups).then((callback) => fetch(callback));
  };
}

async function toolNames(client: Awaited<ReturnType<typeof connect>>): Promise<string[]> {
  try {
    return (await client.listTools()).tools.map((tool) => tool.name).sort();
  } finally {
    await client.close();
  }
}

describe('examples/agent.ts', () => {
  it('connects with an API key and sees its roles’ tools', async () => {
    // Act
    const client = await connect(local.gateway.mcpUrl, { apiKey });

    // Assess
    expect(await toolNames(client)).toEqual(['get_record', 'query_customer_data']);
  });

  it('signs in with OAuth from nothing but the URL and sees the chosen groups’ tools', async () => {
    // Act
    const client = await connect(local.gateway.mcpUrl, {
      callbackPort: 0,
      openBrowser: person('alice', ['analyst']),
    });

    // Assess
    expect(await toolNames(client)).toEqual(['get_record', 'query_customer_data', 'run_report']);
  });

  it('calls a tool after signing in', async () => {
    // Prepare
    const client = await connect(local.gateway.mcpUrl, {
      callbackPort: 0,
      openBrowser: person('bob', ['readonly']),
    });

    // Act
    const result = await client.callTool({ name: 'get_record', arguments: { id: 'cust-0001' } });
    await client.close();

    // Assess
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ found: true });
  });

  it('turns away a callback with someone else’s state and keeps waiting for its own', async () => {
    // Prepare
    const callback = await listenForCallback(0);
    try {
      const code = callback.code('expected-state');

      // Act: a forged response (login CSRF, or any page poking the port), then the real one.
      const forged = await fetch(`${callback.redirectUrl}?code=stolen&state=forged`);
      const real = await fetch(`${callback.redirectUrl}?code=real-code&state=expected-state`);

      // Assess
      expect(forged.status).toBe(400);
      expect(real.status).toBe(200);
      await expect(code).resolves.toBe('real-code');
    } finally {
      await callback.close();
    }
  });

  it('reports a refused sign-in with its OAuth error, control characters defused', async () => {
    // Prepare
    const callback = await listenForCallback(0);
    try {
      const refused = expect(callback.code('s')).rejects.toThrow(
        /^Sign-in refused: access_denied \?\[2Jno$/,
      );

      // Act
      await fetch(
        `${callback.redirectUrl}?error=access_denied&error_description=%1B%5B2Jno&state=s`,
      );

      // Assess
      await refused;
    } finally {
      await callback.close();
    }
  });

  it('refuses to send a credential over plain HTTP to a host that is not loopback', async () => {
    // Act & Assess
    await expect(connect('http://mcp.example.com/mcp', { apiKey })).rejects.toThrow(/plain HTTP/);
  });
});
