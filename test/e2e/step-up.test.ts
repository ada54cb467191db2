/**
 * Step-up end to end through the local gateway with the real SDK clients: a token whose scopes
 * exclude a permission its groups grant gets `403 insufficient_scope` naming the scopes and the
 * metadata URL, the SDK v2 client re-authorizes with them through the local authorization
 * server and its retry succeeds; a permission no role grants stays the JSON-RPC -32003, which
 * no client re-authorizes for.
 */
import {
  InsufficientScopeError,
  Client as ModernClient,
  StreamableHTTPClientTransport as ModernTransport,
  type OAuthClientProvider,
  type OAuthDiscoveryState,
  ProtocolError,
  UnauthorizedError,
} from '@modelcontextprotocol/client';
import { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as LegacyTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { describe, expect, it } from 'vitest';
import { PERMISSION_DENIED_CODE } from '../../lambda/mcp/gate';
import { AUDIT_EVENTS, AUDIT_FIELDS, DENIAL_REASONS } from '../../lambda/shared/audit';
import { addKey, FileKeyDocumentStore } from '../../tools/api-key-admin';
import {
  apiKeyFilePath,
  LOCAL_CLIENT_ID,
  LOCAL_SCOPE,
  loadSigningKey,
  mintAccessToken,
} from '../../tools/local-identity';
import { useLocalGateway } from '../helpers/local-gateway-fixture';
import { signInLocally } from '../helpers/local-sign-in';

const READ = 'secure-mcp/read_data';
const DELETE = 'secure-mcp/delete_data';

const local = useLocalGateway('mcp-step-up-');

/** A token as the local authorization server issues it, narrowed to `scopes`. */
function token(groups: string[], scopes: string[]): string {
  return mintAccessToken(loadSigningKey(local.dir), {
    sub: `su-${groups.join('-')}`,
    groups,
    scopes,
  });
}

function metadataUrl(): string {
  return `${local.gateway.url}/.well-known/oauth-protected-resource/mcp`;
}

async function modernClient(credential: string): Promise<ModernClient> {
  const client = new ModernClient(
    { name: 'step-up-e2e', version: '1.0.0' },
    { versionNegotiation: { mode: 'auto' } },
  );
  await client.connect(
    new ModernTransport(new URL(local.gateway.mcpUrl), {
      requestInit: { headers: { Authorization: `Bearer ${credential}` } },
    }),
  );
  return client;
}

/** The audit records of `tools/call` for `tool` written since `from`. */
function callRecords(from: number, tool: string) {
  return local.logs
    .records()
    .slice(from)
    .filter(
      (record) =>
        record[AUDIT_FIELDS.event] === AUDIT_EVENTS.toolCall && record[AUDIT_FIELDS.tool] === tool,
    );
}

describe('a token whose scopes exclude a permission its roles grant', () => {
  it('gets 403 insufficient_scope naming every scope the call needs and the metadata URL (SDK v2, 2026-07-28)', async () => {
    // Prepare: an admin whose token asked only for read_data
    const client = await modernClient(token(['admin'], [LOCAL_SCOPE, READ]));
    const from = local.logs.records().length;

    // Act
    const refused = client.callTool({ name: 'delete_record', arguments: { id: 'cust-0040' } });

    // Assess: the SDK surfaces the challenge (no OAuth provider to step up with)
    const error = await refused.then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(InsufficientScopeError);
    expect((error as InsufficientScopeError).requiredScope).toBe(
      `${LOCAL_SCOPE} ${READ} ${DELETE}`,
    );
    expect((error as InsufficientScopeError).resourceMetadataUrl?.href).toBe(metadataUrl());
    const [record] = callRecords(from, 'delete_record');
    expect(record).toMatchObject({
      [AUDIT_FIELDS.status]: 'denied',
      [AUDIT_FIELDS.errorType]: DENIAL_REASONS.scope,
      [AUDIT_FIELDS.permission]: 'delete_data',
      [AUDIT_FIELDS.protocolEra]: 'modern',
    });
    // What the token does carry still works.
    const allowed = await client.callTool({ name: 'get_record', arguments: { id: 'cust-0001' } });
    expect(allowed.isError).not.toBe(true);
    await client.close();
  });

  it('gets the same challenge from a 2025-11-25 client (SDK v1)', async () => {
    // Prepare
    const client = new LegacyClient({ name: 'step-up-legacy', version: '1.0.0' });
    const credential = token(['admin'], [LOCAL_SCOPE, READ]);
    await client.connect(
      new LegacyTransport(new URL(local.gateway.mcpUrl), {
        requestInit: { headers: { Authorization: `Bearer ${credential}` } },
      }),
    );
    const from = local.logs.records().length;

    // Act
    const error = await client
      .callTool({ name: 'delete_record', arguments: { id: 'cust-0040' } })
      .then(
        () => undefined,
        (caught: unknown) => caught as Error & { code?: number },
      );

    // Assess: without an auth provider the v1 client reports the HTTP 403
    expect(error?.code).toBe(403);
    expect(callRecords(from, 'delete_record')[0]).toMatchObject({
      [AUDIT_FIELDS.errorType]: DENIAL_REASONS.scope,
      [AUDIT_FIELDS.protocolEra]: 'legacy',
    });
    await client.close();
  });

  it('steps up: the SDK v2 client re-authorizes with the challenged scopes and its retry succeeds', async () => {
    // Prepare: a client that signed in earlier with a token narrowed to read_data
    const provider = new SteppingUpProvider(
      token(['admin'], [LOCAL_SCOPE, READ]),
      `${LOCAL_SCOPE} ${READ}`,
      local.gateway.url,
    );
    const transport = new ModernTransport(new URL(local.gateway.mcpUrl), {
      authProvider: provider,
    });
    const client = new ModernClient(
      { name: 'step-up-oauth', version: '1.0.0' },
      { versionNegotiation: { mode: 'auto' } },
    );
    await client.connect(transport);
    const call = () => client.callTool({ name: 'delete_record', arguments: { id: 'cust-0039' } });

    // Act 1: the 403 sends the person to sign in again, asking for more scope
    await expect(call()).rejects.toBeInstanceOf(UnauthorizedError);
    const authorization = provider.authorizationUrl();
    expect(authorization.searchParams.get('scope')?.split(' ').sort()).toEqual(
      [LOCAL_SCOPE, READ, DELETE].sort(),
    );

    // Act 2: the person approves; the client finishes and retries
    const callback = await signInLocally(authorization, 'su-admin', ['admin']);
    await transport.finishAuth(callback.searchParams);
    const result = await call();

    // Assess
    expect(result.isError).not.toBe(true);
    expect(provider.tokens()?.scope?.split(' ').sort()).toEqual([LOCAL_SCOPE, READ, DELETE].sort());
    await client.close();
  });
});

describe("a 2025-11-25 client that replaces its scope with the challenge's (SDK v1)", () => {
  it('steps up without losing what its token had, so it never ping-pongs between two tools', async () => {
    // Prepare: the v1 client asks for exactly the challenged scope, not a union
    const provider = new SteppingUpProvider(
      token(['admin'], [LOCAL_SCOPE, READ]),
      `${LOCAL_SCOPE} ${READ}`,
      local.gateway.url,
    );
    const transport = new LegacyTransport(new URL(local.gateway.mcpUrl), {
      authProvider: provider,
    });
    const client = new LegacyClient({ name: 'step-up-v1-oauth', version: '1.0.0' });
    await client.connect(transport);
    const remove = () => client.callTool({ name: 'delete_record', arguments: { id: 'cust-0038' } });

    // Act: the 403 sends the person to sign in, then the client finishes and retries
    await expect(remove()).rejects.toThrow();
    const authorization = provider.authorizationUrl();
    const callback = await signInLocally(authorization, 'su-admin', ['admin']);
    await transport.finishAuth(callback.searchParams.get('code') ?? '');
    const removed = await remove();
    const read = await client.callTool({ name: 'get_record', arguments: { id: 'cust-0001' } });

    // Assess: the challenge kept read_data, so the new token can still read
    expect(authorization.searchParams.get('scope')).toBe(`${LOCAL_SCOPE} ${READ} ${DELETE}`);
    expect(removed.isError).not.toBe(true);
    expect(read.isError).not.toBe(true);
    await client.close();
  });
});

describe('a permission no role of the caller grants', () => {
  it('stays the JSON-RPC -32003 for a narrowed token, never insufficient_scope', async () => {
    // Prepare: an analyst may never delete, whatever the token says
    const client = await modernClient(token(['analyst'], [LOCAL_SCOPE, READ]));
    const from = local.logs.records().length;

    // Act
    const error = await client
      .callTool({ name: 'delete_record', arguments: { id: 'cust-0040' } })
      .then(
        () => undefined,
        (caught: unknown) => caught,
      );

    // Assess
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as ProtocolError).code).toBe(PERMISSION_DENIED_CODE);
    expect(callRecords(from, 'delete_record')[0]).toMatchObject({
      [AUDIT_FIELDS.errorType]: DENIAL_REASONS.permission,
    });
    await client.close();
  });

  it('stays -32003 for an API key, which has no scopes to widen', async () => {
    // Prepare
    const store = new FileKeyDocumentStore(apiKeyFilePath(local.dir));
    const { document, key } = addKey(await store.read(), {
      name: 'step-up-bot',
      roles: ['analyst'],
      now: new Date(),
    });
    await store.write(document);
    const client = await modernClient(key);

    // Act
    const error = await client
      .callTool({ name: 'delete_record', arguments: { id: 'cust-0040' } })
      .then(
        () => undefined,
        (caught: unknown) => caught,
      );

    // Assess
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as ProtocolError).code).toBe(PERMISSION_DENIED_CODE);
    await client.close();
  });
});

/**
 * An OAuth client that already holds a (narrowed) token from an earlier sign-in with the
 * pre-registered local client, and "opens the browser" by keeping the URL.
 */
class SteppingUpProvider implements OAuthClientProvider {
  #tokens: { access_token: string; token_type: string; scope?: string; issuer?: string };
  #verifier = '';
  #authorizationUrl: URL | undefined;
  #discovery: OAuthDiscoveryState | undefined;
  readonly redirectUrl = 'http://127.0.0.1:6279/callback';

  constructor(
    accessToken: string,
    scope: string,
    readonly issuer: string,
  ) {
    this.#tokens = { access_token: accessToken, token_type: 'Bearer', scope, issuer };
  }

  get clientMetadata() {
    return {
      client_name: 'step-up e2e',
      redirect_uris: [this.redirectUrl],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }
  clientInformation() {
    return { client_id: LOCAL_CLIENT_ID, issuer: this.issuer };
  }
  tokens() {
    return this.#tokens;
  }
  saveTokens(tokens: {
    access_token: string;
    token_type: string;
    scope?: string;
    issuer?: string;
  }) {
    this.#tokens = tokens;
  }
  redirectToAuthorization(url: URL) {
    this.#authorizationUrl = url;
  }
  saveCodeVerifier(verifier: string) {
    this.#verifier = verifier;
  }
  codeVerifier() {
    return this.#verifier;
  }
  saveDiscoveryState(state: OAuthDiscoveryState) {
    this.#discovery = state;
  }
  discoveryState() {
    return this.#discovery;
  }
  authorizationUrl(): URL {
    if (this.#authorizationUrl === undefined)
      throw new Error('The client was never sent to sign in');
    return this.#authorizationUrl;
  }
}
