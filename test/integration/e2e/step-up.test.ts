/**
 * Step-up end to end through the synthesized API with the real SDK clients. A challenge the MCP
 * function sent would reach a client renamed (`x-amzn-Remapped-WWW-Authenticate`), so the
 * deployment's authorizer gives it: a 2026-07-28 call whose headers name a tool its roles grant
 * but its token's scopes exclude gets API Gateway's `403` with `WWW-Authenticate: Bearer
 * error="insufficient_scope"` naming every scope and the metadata URL, and the SDK v2 client
 * re-authorizes and retries. A 2025-11-25 call (no such headers) gets the MCP function's
 * -32003 naming the scopes; so does every call with `-c gatewayStepUp=false`. A permission no
 * role grants stays the plain -32003, which no client re-authorizes for.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PERMISSION_DENIED_CODE } from '../../../lambda/mcp/gate';
import { AUDIT_EVENTS, AUDIT_FIELDS, DENIAL_REASONS } from '../../../lambda/shared/audit';
import { POLICY } from '../../../modules/policy';
import { addKey, FileKeyDocumentStore } from '../../../tools/cli/api-key-admin';
import type { LocalGateway } from '../../../tools/local/gateway';
import {
  apiKeyFilePath,
  LOCAL_CLIENT_ID,
  LOCAL_SCOPE,
  loadSigningKey,
  localPermissionScopes,
  mintAccessToken,
} from '../../../tools/local/identity';
import { startTestGateway, useLocalGateway } from '../../support/local-gateway-fixture';
import { signInLocally } from '../../support/local-sign-in';
import { NO_DELETE_APPROVAL } from '../../support/test-assembly';

const READ = 'secure-mcp/read_data';
const DELETE = 'secure-mcp/delete_data';
/** The static challenge of API Gateway's ACCESS_DENIED response names every scope. */
/** The audience scope and one per permission the modules declare: what the challenge names. */
const ALL_SCOPES = [LOCAL_SCOPE, ...localPermissionScopes(Object.keys(POLICY.permissions))];
const ENVELOPE = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientInfo': { name: 'step-up-e2e', version: '1.0.0' },
  'io.modelcontextprotocol/clientCapabilities': {},
};

/** An analyst's API key, in the secret before the gateway starts (new keys take a reload). */
let analystKey = '';
const local = useLocalGateway(
  'mcp-step-up-',
  async (dir) => {
    const store = new FileKeyDocumentStore(apiKeyFilePath(dir));
    const added = addKey(await store.read(), {
      name: 'step-up-bot',
      roles: ['analyst'],
      knownRoles: ['analyst'],
      now: new Date(),
    });
    await store.write(added.document);
    analystKey = added.key;
    // Step-up is about scopes: delete_record runs without a person's approval here.
  },
  () => ({ context: NO_DELETE_APPROVAL }),
);

/** A token as the local authorization server issues it, narrowed to `scopes`. */
function token(groups: string[], scopes: string[]): string {
  return mintAccessToken(loadSigningKey(local.dir), {
    sub: `su-${groups.join('-')}`,
    groups,
    scopes,
  });
}

function metadataUrl(): string {
  return `${local.gateway.url}/.well-known/oauth-protected-resource`;
}

/** The authorizer's decision records written since `from`. */
function decisionRecords(from: number) {
  return local.logs
    .records()
    .slice(from)
    .filter((record) => record[AUDIT_FIELDS.event] === AUDIT_EVENTS.authDecision);
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

/** What a client's (either SDK's) `delete_record` call was refused with (undefined if not). */
function refusalOfDelete(client: {
  callTool(params: { name: string; arguments: Record<string, unknown> }): Promise<unknown>;
}): Promise<unknown> {
  return client.callTool({ name: 'delete_record', arguments: { id: 'cust-0040' } }).then(
    () => undefined,
    (caught: unknown) => caught,
  );
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
  it('gets 403 insufficient_scope from API Gateway’s ACCESS_DENIED response, with every scope and the metadata URL (SDK v2, 2026-07-28)', async () => {
    // Prepare: an admin whose token asked only for read_data
    const client = await modernClient(token(['admin'], [LOCAL_SCOPE, READ]));
    const from = local.logs.records().length;

    // Act
    const error = await refusalOfDelete(client);

    // Assess: the SDK surfaces the challenge (no OAuth provider to step up with); the
    // authorizer refused it by the request's headers, so the MCP function never ran
    expect(error).toBeInstanceOf(InsufficientScopeError);
    expect((error as InsufficientScopeError).requiredScope?.split(' ')).toEqual(ALL_SCOPES);
    expect((error as InsufficientScopeError).resourceMetadataUrl?.href).toBe(metadataUrl());
    expect(callRecords(from, 'delete_record')).toEqual([]);
    expect(decisionRecords(from)).toContainEqual(
      expect.objectContaining({
        [AUDIT_FIELDS.decision]: 'deny',
        [AUDIT_FIELDS.reason]: 'insufficient_scope',
        [AUDIT_FIELDS.tool]: 'delete_record',
        [AUDIT_FIELDS.permission]: 'delete_data',
      }),
    );
    // What the token does carry still works: nothing of the Deny is cached.
    const allowed = await client.callTool({ name: 'get_record', arguments: { id: 'cust-0001' } });
    expect(allowed.isError).not.toBe(true);
    await client.close();
  });

  it('gets the challenge as the client reads it: WWW-Authenticate, not a remapped header', async () => {
    // Act: the request the v2 client sends, by hand
    const response = await fetch(local.gateway.mcpUrl, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${token(['admin'], [LOCAL_SCOPE, READ])}`,
        'Content-Type': 'application/json',
        Accept: 'application/json, text/event-stream',
        'MCP-Protocol-Version': '2026-07-28',
        'Mcp-Method': 'tools/call',
        'Mcp-Name': 'delete_record',
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 5,
        method: 'tools/call',
        params: { name: 'delete_record', arguments: { id: 'cust-0040' }, _meta: ENVELOPE },
      }),
    });

    // Assess
    expect(response.status).toBe(403);
    const challenge = response.headers.get('www-authenticate') ?? '';
    expect(challenge).toMatch(
      /^Bearer error="insufficient_scope", scope="[^"]+", resource_metadata="[^"]+"/,
    );
    expect(response.headers.get('x-amzn-remapped-www-authenticate')).toBeNull();
    const body = (await response.json()) as {
      error: { code: number; data: { requiredScopes: string[] } };
    };
    expect(body.error.code).toBe(PERMISSION_DENIED_CODE);
    // The body names exactly what this call needs, in the MCP function's shape (the header,
    // being static, names every scope).
    expect([...body.error.data.requiredScopes].sort()).toEqual([LOCAL_SCOPE, READ, DELETE].sort());
  });

  it('gets a JSON-RPC -32003 naming the scopes from a 2025-11-25 client (no headers name the tool)', async () => {
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
    const error = (await refusalOfDelete(client)) as
      | (Error & { code?: number; data?: unknown })
      | undefined;

    // Assess: the MCP function answered, naming what to ask for
    expect(error?.code).toBe(PERMISSION_DENIED_CODE);
    expect(error?.data).toMatchObject({ requiredScopes: [LOCAL_SCOPE, READ, DELETE] });
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

    // Act 1: the 403 sends the person to sign in again, asking for the challenge's scopes
    await expect(call()).rejects.toBeInstanceOf(UnauthorizedError);
    const authorization = provider.authorizationUrl();
    expect(authorization.searchParams.get('scope')?.split(' ').sort()).toEqual(
      [...ALL_SCOPES].sort(),
    );

    // Act 2: the person approves; the client finishes and retries
    const callback = await signInLocally(authorization, 'su-admin', ['admin']);
    await transport.finishAuth(callback.searchParams);
    const result = await call();

    // Assess
    expect(result.isError).not.toBe(true);
    await client.close();
  });
});

describe('a deployment with gateway step-up off (-c gatewayStepUp=false)', () => {
  let dir = '';
  let gateway: LocalGateway | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mcp-step-up-off-'));
    gateway = await startTestGateway(dir, {
      context: { ...NO_DELETE_APPROVAL, gatewayStepUp: false },
    });
  }, 120_000);

  afterAll(async () => {
    await gateway?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers the narrowed 2026-07-28 call with the MCP function’s -32003 naming the scopes, no challenge', async () => {
    // Prepare
    const client = new ModernClient(
      { name: 'step-up-off', version: '1.0.0' },
      { versionNegotiation: { mode: 'auto' } },
    );
    const credential = mintAccessToken(loadSigningKey(dir), {
      sub: 'su-admin',
      groups: ['admin'],
      scopes: [LOCAL_SCOPE, READ],
    });
    await client.connect(
      new ModernTransport(new URL(gateway?.mcpUrl ?? ''), {
        requestInit: { headers: { Authorization: `Bearer ${credential}` } },
      }),
    );

    // Act
    const error = await refusalOfDelete(client);

    // Assess
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as ProtocolError).code).toBe(PERMISSION_DENIED_CODE);
    expect((error as ProtocolError).data).toMatchObject({
      requiredScopes: [LOCAL_SCOPE, READ, DELETE],
    });
    await client.close();
  });
});

describe('a permission no role of the caller grants', () => {
  it('stays the JSON-RPC -32003 for a narrowed token, never insufficient_scope', async () => {
    // Prepare: an analyst may never delete, whatever the token says
    const client = await modernClient(token(['analyst'], [LOCAL_SCOPE, READ]));
    const from = local.logs.records().length;

    // Act
    const error = await refusalOfDelete(client);

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
    const client = await modernClient(analystKey);

    // Act
    const error = await refusalOfDelete(client);

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
  // A pre-registered redirect URI (any loopback port; host and path must match).
  readonly redirectUrl = 'http://localhost:6279/callback';

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
