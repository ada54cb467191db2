/**
 * The example agent (examples/agent.ts) against the local gateway: by API key, and by OAuth
 * from nothing but the URL with a scripted person on the sign-in page.
 */
import { describe, expect, it } from 'vitest';
import { connect, listenForCallback } from '../../examples/agent';
import { addKey, FileKeyDocumentStore } from '../../tools/api-key-admin';
import { apiKeyFilePath } from '../../tools/local-identity';
import { useLocalGateway } from '../helpers/local-gateway-fixture';

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

/** A person on the local sign-in page: picks a user and groups, and the browser follows. */
function person(sub: string, groups: string[]) {
  return (authorizationUrl: URL) => {
    void (async () => {
      const page = await (await fetch(authorizationUrl)).text();
      const requestId = /name="request_id" value="([^"]+)"/.exec(page)?.[1] ?? '';
      const form = new URLSearchParams({ request_id: requestId, sub });
      for (const group of groups) form.append('groups', group);
      const approved = await fetch(new URL('/oauth2/authorize', authorizationUrl), {
        method: 'POST',
        body: form,
        redirect: 'manual',
      });
      await fetch(approved.headers.get('location') ?? '');
    })();
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

  it('refuses an authorization response that carries someone else’s state', async () => {
    // Prepare
    const callback = await listenForCallback(0);
    try {
      const refused = expect(callback.code('expected-state')).rejects.toThrow(/wrong state/);

      // Act: a forged response (login CSRF) lands on the listener.
      await fetch(`${callback.redirectUrl}?code=stolen&state=forged`);

      // Assess
      await refused;
    } finally {
      await callback.close();
    }
  });

  it('reports a refused sign-in with its OAuth error', async () => {
    // Prepare
    const callback = await listenForCallback(0);
    try {
      const refused = expect(callback.code('s')).rejects.toThrow(/access_denied/);

      // Act
      await fetch(`${callback.redirectUrl}?error=access_denied&state=s`);

      // Assess
      await refused;
    } finally {
      await callback.close();
    }
  });
});
