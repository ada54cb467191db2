/**
 * Real MCP clients through the local OAuth proxy, offline: the MCP SDK's own OAuth, v1
 * (`@modelcontextprotocol/sdk`, 2025-11-25) and v2 (`@modelcontextprotocol/client`), each
 *
 * - with a Client ID Metadata Document at an https URL (its client id) on a public-looking host,
 *   which the emulator's network maps to a loopback server (the deployed proxy refuses loopback
 *   addresses, as in AWS),
 * - with dynamic registration and a callback on a random port,
 * - as the pre-registered client on a port of its own choosing,
 *
 * a person answering the consent page and the local sign-in page in between; then refresh
 * through the proxy to the upstream.
 */
import { createServer } from 'node:net';
import {
  Client as ClientV2,
  type OAuthClientProvider,
  StreamableHTTPClientTransport as TransportV2,
  UnauthorizedError as UnauthorizedV2,
} from '@modelcontextprotocol/client';
import { auth as authV1 } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUDIT_EVENTS, AUDIT_FIELDS } from '../../../lambda/shared/audit';
import { LOCAL_CLIENT_ID } from '../../../tools/local/identity';
import { useLocalGateway } from '../../support/local-gateway-fixture';
import { signInLocally } from '../../support/local-sign-in';
import {
  type DocumentServer,
  json,
  startDocumentServer,
} from '../../unit/oauth-proxy/cimd-fixtures';

/** The CIMD document's host: the functions reach it over the emulator's network. */
const CIMD_HOST = 'agent.example.test';
let documents: DocumentServer;
const cimdUrl = `https://${CIMD_HOST}/oauth/client.json`;

beforeAll(async () => {
  documents = await startDocumentServer(() => undefined);
  documents.handle(
    json({
      client_id: cimdUrl,
      client_name: 'CIMD test agent',
      // No port: a loopback redirect matches on any port (RFC 8252 section 7.3).
      redirect_uris: ['http://127.0.0.1/callback'],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    }),
  );
});
afterAll(() => documents?.close());

const local = useLocalGateway('mcp-oauth-clients-', undefined, () => ({
  extraHosts: { [CIMD_HOST]: documents.origin },
}));

/** A free loopback port, as a native client picks one per run. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

type Identity = 'cimd' | 'dcr' | 'preregistered';

/** One OAuth provider for both SDKs (their interfaces agree on what this uses). */
class Provider {
  client: { client_id: string } | undefined;
  saved: { access_token: string; refresh_token?: string } | undefined;
  verifier = '';
  authorizationUrl: URL | undefined;
  readonly clientMetadataUrl: string | undefined;

  constructor(
    readonly redirectUrl: string,
    identity: Identity,
  ) {
    this.clientMetadataUrl = identity === 'cimd' ? cimdUrl : undefined;
    if (identity === 'preregistered') this.client = { client_id: LOCAL_CLIENT_ID };
  }

  get clientMetadata() {
    return {
      client_name: 'SDK test agent',
      redirect_uris: [this.redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }
  state() {
    return 'sdk-state';
  }
  clientInformation() {
    return this.client;
  }
  saveClientInformation(client: { client_id: string }) {
    this.client = client;
  }
  tokens() {
    return this.saved as never;
  }
  saveTokens(tokens: { access_token: string; refresh_token?: string }) {
    this.saved = tokens;
  }
  redirectToAuthorization(url: URL) {
    this.authorizationUrl = url;
  }
  saveCodeVerifier(verifier: string) {
    this.verifier = verifier;
  }
  codeVerifier() {
    return this.verifier;
  }
}

async function redirectFor(identity: Identity): Promise<string> {
  const port = await freePort();
  return identity === 'preregistered'
    ? `http://localhost:${port}/callback`
    : `http://127.0.0.1:${port}/callback`;
}

/** The v1 SDK: sign in, then list the tools. */
async function viaV1(identity: Identity) {
  const provider = new Provider(await redirectFor(identity), identity);
  const url = new URL(local.gateway.mcpUrl);
  const first = new TransportV1(url, { authProvider: provider as never });
  await expect(new ClientV1({ name: 'v1', version: '1' }).connect(first)).rejects.toThrow();
  const callback = await signInLocally(provider.authorizationUrl as URL, 'alice', ['analyst']);
  expect(callback.searchParams.get('iss')).toBe(local.gateway.url);
  await first.finishAuth(callback.searchParams.get('code') ?? '');
  const client = new ClientV1({ name: 'v1', version: '1' });
  await client.connect(new TransportV1(url, { authProvider: provider as never }));
  const tools = (await client.listTools()).tools.map((tool) => tool.name).sort();
  await client.close();
  return { provider, tools };
}

/** The v2 SDK (it checks `iss` itself): sign in, then list the tools. */
async function viaV2(identity: Identity) {
  const provider = new Provider(await redirectFor(identity), identity);
  const url = new URL(local.gateway.mcpUrl);
  const first = new TransportV2(url, { authProvider: provider as unknown as OAuthClientProvider });
  await expect(new ClientV2({ name: 'v2', version: '1' }).connect(first)).rejects.toBeInstanceOf(
    UnauthorizedV2,
  );
  const callback = await signInLocally(provider.authorizationUrl as URL, 'alice', ['analyst']);
  await first.finishAuth(callback.searchParams);
  const client = new ClientV2({ name: 'v2', version: '1' });
  await client.connect(
    new TransportV2(url, { authProvider: provider as unknown as OAuthClientProvider }),
  );
  const tools = (await client.listTools()).tools.map((tool) => tool.name).sort();
  await client.close();
  return { provider, tools };
}

const ANALYST_TOOLS = ['get_record', 'query_customer_data', 'run_report'];

describe.each([
  ['v1', viaV1],
  ['v2', viaV2],
])('the MCP SDK %s client through the OAuth proxy', (_, via) => {
  it('signs in with a CIMD client id (an https URL the proxy fetches)', async () => {
    // Act
    const { provider, tools } = await via('cimd');

    // Assess
    expect(tools).toEqual(ANALYST_TOOLS);
    expect(provider.authorizationUrl?.searchParams.get('client_id')).toBe(cimdUrl);
    expect(provider.client?.client_id).toBe(cimdUrl);
  });

  it('signs in with dynamic registration and a callback on a random port', async () => {
    // Act
    const { provider, tools } = await via('dcr');

    // Assess
    expect(tools).toEqual(ANALYST_TOOLS);
    expect(provider.client?.client_id).toMatch(/^dcr_/);
  });

  it('signs in as the pre-registered client on a port of its own', async () => {
    // Act
    const { provider, tools } = await via('preregistered');

    // Assess
    expect(tools).toEqual(ANALYST_TOOLS);
    expect(provider.authorizationUrl?.searchParams.get('resource')).toBe(local.gateway.mcpUrl);
  });
});

describe('refresh through the proxy', () => {
  it('gets a new access token from the upstream with the refresh token, and it works', async () => {
    // Prepare
    const { provider } = await viaV1('dcr');
    const before = provider.saved;
    expect(before?.refresh_token).toMatch(/^[\w-]{43}$/);
    provider.saved = { ...(before as { access_token: string }), access_token: 'expired' };

    // Act: the SDK refreshes when it has a refresh token and no code (told the metadata URL by
    // the 401 it got, as a client is: the execute-api URL serves no root well-known paths)
    const result = await authV1(provider as never, {
      serverUrl: local.gateway.mcpUrl,
      resourceMetadataUrl: new URL(`${local.gateway.url}/.well-known/oauth-protected-resource`),
    });
    const client = new ClientV1({ name: 'v1', version: '1' });
    await client.connect(
      new TransportV1(new URL(local.gateway.mcpUrl), { authProvider: provider as never }),
    );
    const tools = (await client.listTools()).tools.map((tool) => tool.name).sort();
    await client.close();

    // Assess
    expect(result).toBe('AUTHORIZED');
    expect(provider.saved?.access_token).toMatch(/^ey/);
    expect(tools).toEqual(ANALYST_TOOLS);
    const refreshes = local.logs
      .records()
      .filter(
        (r) =>
          r[AUDIT_FIELDS.event] === AUDIT_EVENTS.oauthAuthorization &&
          r[AUDIT_FIELDS.step] === 'refresh',
      );
    expect(refreshes.at(-1)).toMatchObject({
      [AUDIT_FIELDS.outcome]: 'ok',
      [AUDIT_FIELDS.clientKind]: 'dcr',
    });
  });
});

describe('one audit record per step, locally as in AWS', () => {
  it('records authorize, consent, callback and token for a CIMD sign-in, with its host', async () => {
    // Prepare
    const before = local.logs.records().length;

    // Act
    await viaV1('cimd');

    // Assess
    const steps = local.logs
      .records()
      .slice(before)
      .filter((r) => r[AUDIT_FIELDS.event] === AUDIT_EVENTS.oauthAuthorization);
    expect(steps.map((r) => r[AUDIT_FIELDS.step])).toEqual([
      'authorize',
      'consent',
      'callback',
      'token',
    ]);
    for (const record of steps) {
      expect(record).toMatchObject({
        [AUDIT_FIELDS.clientKind]: 'cimd',
        [AUDIT_FIELDS.clientHost]: CIMD_HOST,
        [AUDIT_FIELDS.outcome]: 'ok',
      });
    }
  });
});
