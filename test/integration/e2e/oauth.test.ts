/**
 * MCP clients connect with OAuth from nothing but the MCP URL: the SDK client's own OAuth
 * support, unattended, through discovery, registration, PKCE authorization, the consent page
 * and the local sign-in (the proxy's upstream, on its own origin as Cognito's hosted login
 * is), and token, against the deployed OAuth proxy and registration bundles behind the
 * synthesized API, on its execute-api URL (stage prefix, no root well-known paths).
 */
import { auth, UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { describe, expect, it } from 'vitest';
import { InMemoryOAuthProvider } from '../../../examples/agent';
import { AUDIT_EVENTS, AUDIT_FIELDS } from '../../../lambda/shared/audit';
import { LOCAL_CLIENT_ID, LOCAL_SCOPE } from '../../../tools/local/identity';
import { useLocalGateway } from '../../support/local-gateway-fixture';
import { signInLocally } from '../../support/local-sign-in';

const REDIRECT = 'http://127.0.0.1:6276/oauth/callback';
/** A pre-registered callback (`http://localhost:8765/callback`) on a port of the client's choice. */
const PRE_REGISTERED_REDIRECT = 'http://localhost:40123/callback';

/** The example agent's in-memory provider, "opening the browser" by keeping the URL. */
function memoryProvider() {
  let authorizationUrl: URL | undefined;
  const provider = new InMemoryOAuthProvider(REDIRECT, (url) => {
    authorizationUrl = url;
  });
  return {
    provider,
    authorizationUrl: () => {
      if (authorizationUrl === undefined) throw new Error('The client was never sent to sign in');
      return authorizationUrl;
    },
  };
}

const local = useLocalGateway('mcp-oauth-');

async function toolsAfterOAuth(
  sub: string,
  groups: string[],
  mcpUrl = local.gateway.mcpUrl,
): Promise<string[]> {
  const { provider, authorizationUrl } = memoryProvider();
  const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), {
    authProvider: provider,
  });
  const client = new Client({ name: 'oauth-e2e', version: '1.0.0' });
  // First contact: 401 -> discovery -> registration -> "open the browser".
  await expect(client.connect(transport)).rejects.toBeInstanceOf(UnauthorizedError);
  const callback = await signInLocally(authorizationUrl(), sub, groups);
  await transport.finishAuth(callback.searchParams.get('code') ?? '');
  const connected = new Client({ name: 'oauth-e2e', version: '1.0.0' });
  await connected.connect(
    new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider }),
  );
  try {
    return (await connected.listTools()).tools.map((tool) => tool.name).sort();
  } finally {
    await connected.close();
  }
}

describe('OAuth from nothing but the MCP URL', () => {
  it('signs an analyst in and shows exactly the analyst tools', async () => {
    expect(await toolsAfterOAuth('alice', ['analyst'])).toEqual([
      'get_record',
      'query_customer_data',
      'run_report',
    ]);
  });

  it('signs an admin in and shows every tool', async () => {
    expect(await toolsAfterOAuth('root', ['admin'])).toHaveLength(5);
  });

  it('refuses the API by another name: API Gateway answers only its own host names', async () => {
    // localhost is this machine, but not the API's name (a custom domain would be).
    const mcpUrl = local.gateway.mcpUrl.replace('127.0.0.1', 'localhost');
    const response = await fetch(mcpUrl, { method: 'POST', body: '{}' });
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({ message: 'Forbidden' });
  });

  it('signs in a user with no group, who sees no tools', async () => {
    expect(await toolsAfterOAuth('nobody', [])).toEqual([]);
  });
});

describe('discovery documents', () => {
  it('serves RFC 9728 metadata naming the MCP URL and its authorization server', async () => {
    const metadata = await (
      await fetch(`${local.gateway.url}/.well-known/oauth-protected-resource/mcp`)
    ).json();
    expect(metadata).toMatchObject({
      resource: local.gateway.mcpUrl,
      authorization_servers: [local.gateway.url],
      scopes_supported: [LOCAL_SCOPE],
      bearer_methods_supported: ['header'],
    });
  });

  it('serves RFC 8414 metadata whose issuer is the URL it was fetched from, with PKCE S256', async () => {
    const metadata = await (
      await fetch(`${local.gateway.url}/.well-known/oauth-authorization-server`)
    ).json();
    expect(metadata).toMatchObject({
      issuer: local.gateway.url,
      authorization_endpoint: `${local.gateway.url}/authorize`,
      token_endpoint: `${local.gateway.url}/token`,
      code_challenge_methods_supported: ['S256'],
      token_endpoint_auth_methods_supported: ['none'],
      response_types_supported: ['code'],
      registration_endpoint: `${local.gateway.url}/register`,
      authorization_response_iss_parameter_supported: true,
      client_id_metadata_document_supported: true,
    });
  });

  it('names the metadata and the scope in the 401 challenge (the stack’s UNAUTHORIZED response)', async () => {
    const response = await fetch(local.gateway.mcpUrl, { method: 'POST', body: '{}' });
    expect(response.headers.get('www-authenticate')).toBe(
      `Bearer resource_metadata="${local.gateway.url}/.well-known/oauth-protected-resource", scope="${LOCAL_SCOPE}"`,
    );
  });

  it('answers the root well-known paths 403 on the execute-api URL, as AWS does', async () => {
    const origin = new URL(local.gateway.url).origin;
    for (const path of [
      '/.well-known/oauth-protected-resource/prod/mcp',
      '/.well-known/oauth-authorization-server/prod',
    ]) {
      const response = await fetch(`${origin}${path}`);
      expect(response.status).toBe(403);
    }
  });
});

describe('bad registration and token requests get the RFC errors', () => {
  const register = (body: unknown) =>
    fetch(`${local.gateway.url}/register`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('refuses a plain-http redirect URI off this machine with invalid_redirect_uri', async () => {
    const response = await register({ redirect_uris: ['http://attacker.example/callback'] });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'invalid_redirect_uri' });
  });

  it('registers an https redirect URI off this machine, as the deployed registration does', async () => {
    // Local mode runs the deployed registration: the consent page is what stands between such
    // a client and a code (it names the redirect's host).
    const response = await register({ redirect_uris: ['https://app.example/callback'] });
    expect(response.status).toBe(201);
  });

  it('refuses a confidential client with invalid_client_metadata', async () => {
    const response = await register({
      redirect_uris: [REDIRECT],
      token_endpoint_auth_method: 'client_secret_basic',
    });
    expect(await response.json()).toMatchObject({ error: 'invalid_client_metadata' });
  });

  it('refuses a registration that is not sent as JSON with 400 invalid_client_metadata', async () => {
    const response = await fetch(`${local.gateway.url}/register`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: `redirect_uris=${encodeURIComponent(REDIRECT)}`,
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'invalid_client_metadata' });
  });

  it('answers a loopback registration with a client id of its own, sealed, storing nothing', async () => {
    const response = await register({ redirect_uris: [REDIRECT], client_name: 'x' });
    expect(response.status).toBe(201);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await response.json()).toMatchObject({
      client_id: expect.stringMatching(/^dcr_[\w-]+$/),
      token_endpoint_auth_method: 'none',
    });
  });

  /** A fresh authorization through the real pages, returning what the token request needs. */
  async function authorizedCode() {
    const { provider, authorizationUrl } = memoryProvider();
    // As a client does after the 401: the challenge names the metadata URL (the root
    // well-known paths it would guess do not exist on the execute-api URL).
    const resourceMetadataUrl = new URL(
      `${local.gateway.url}/.well-known/oauth-protected-resource`,
    );
    expect(await auth(provider, { serverUrl: local.gateway.mcpUrl, resourceMetadataUrl })).toBe(
      'REDIRECT',
    );
    const callback = await signInLocally(authorizationUrl(), 'alice', ['readonly']);
    return {
      code: callback.searchParams.get('code') ?? '',
      verifier: provider.codeVerifier(),
      clientId: (await provider.clientInformation())?.client_id ?? '',
    };
  }

  const token = (params: Record<string, string>) =>
    fetch(`${local.gateway.url}/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        redirect_uri: REDIRECT,
        ...params,
      }),
    });

  it('refuses a wrong PKCE verifier with invalid_grant', async () => {
    const { code, clientId } = await authorizedCode();
    const response = await token({ code, client_id: clientId, code_verifier: 'w'.repeat(43) });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'invalid_grant' });
  });

  it('refuses a code used twice with invalid_grant, and audits the replay', async () => {
    const { code, verifier, clientId } = await authorizedCode();
    expect((await token({ code, client_id: clientId, code_verifier: verifier })).status).toBe(200);
    const before = local.logs.records().length;
    expect(
      await (await token({ code, client_id: clientId, code_verifier: verifier })).json(),
    ).toMatchObject({ error: 'invalid_grant' });
    expect(
      local.logs
        .records()
        .slice(before)
        .filter((r) => r[AUDIT_FIELDS.event] === AUDIT_EVENTS.oauthAuthorization),
    ).toEqual([
      expect.objectContaining({
        [AUDIT_FIELDS.step]: 'token',
        [AUDIT_FIELDS.outcome]: 'refused',
        [AUDIT_FIELDS.reason]: 'invalid_code',
        [AUDIT_FIELDS.clientKind]: 'dcr',
      }),
    ]);
  });

  it('refuses a redirect URI that differs from the authorization request with invalid_grant', async () => {
    const { code, verifier, clientId } = await authorizedCode();
    const response = await token({
      code,
      client_id: clientId,
      code_verifier: verifier,
      redirect_uri: 'http://127.0.0.1:9999/cb',
    });
    expect(await response.json()).toMatchObject({ error: 'invalid_grant' });
  });

  it('refuses a code presented by another client with invalid_grant (it is bound to its client)', async () => {
    const { code, verifier } = await authorizedCode();
    const response = await token({ code, code_verifier: verifier, client_id: LOCAL_CLIENT_ID });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'invalid_grant' });
  });

  /** The error an authorization request is sent back to the client's redirect URI with. */
  async function redirectedError(params: Record<string, string>) {
    const url = new URL(`${local.gateway.url}/authorize`);
    url.search = new URLSearchParams(params).toString();
    const response = await fetch(url, { redirect: 'manual' });
    expect(response.status).toBe(302);
    const location = new URL(response.headers.get('location') ?? '');
    expect(`${location.origin}${location.pathname}`).toBe(PRE_REGISTERED_REDIRECT);
    return {
      error: location.searchParams.get('error'),
      state: location.searchParams.get('state'),
      iss: location.searchParams.get('iss'),
    };
  }

  it('sends an authorization request without PKCE back with invalid_request', async () => {
    const result = await redirectedError({
      response_type: 'code',
      client_id: LOCAL_CLIENT_ID,
      redirect_uri: PRE_REGISTERED_REDIRECT,
      resource: local.gateway.mcpUrl,
      state: 's1',
    });
    expect(result).toEqual({ error: 'invalid_request', state: 's1', iss: local.gateway.url });
  });

  it('answers an off-machine redirect URI on the page, never redirecting to it', async () => {
    const url = new URL(`${local.gateway.url}/authorize`);
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: LOCAL_CLIENT_ID,
      redirect_uri: 'https://attacker.example/cb',
    }).toString();
    const response = await fetch(url, { redirect: 'manual' });
    expect(response.status).toBe(400);
    expect(response.headers.get('location')).toBeNull();
  });

  it('sends a scope this server does not define back with invalid_scope', async () => {
    const result = await redirectedError({
      response_type: 'code',
      client_id: LOCAL_CLIENT_ID,
      redirect_uri: PRE_REGISTERED_REDIRECT,
      code_challenge: 'c'.repeat(43),
      code_challenge_method: 'S256',
      resource: local.gateway.mcpUrl,
      scope: 'admin:everything',
    });
    expect(result.error).toBe('invalid_scope');
  });
});

describe('registration is audited by the registration function', () => {
  const isRegistration = (record: Record<string, unknown>) =>
    record[AUDIT_FIELDS.event] === AUDIT_EVENTS.clientRegistration;

  it.each([
    [
      'a registration',
      JSON.stringify({ redirect_uris: [REDIRECT], client_name: 'x' }),
      'registered',
    ],
    ['a refusal', JSON.stringify({ redirect_uris: ['http://attacker.example/cb'] }), 'refused'],
    ['a body that is not JSON', '{', 'refused'],
  ])(
    'writes exactly one oauth.client_registration record for %s, naming no URI',
    async (_, body, outcome) => {
      // Prepare
      const before = local.logs.records().filter(isRegistration).length;

      // Act
      await fetch(`${local.gateway.url}/register`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body,
      });

      // Assess
      const records = local.logs.records().filter(isRegistration).slice(before);
      expect(records).toHaveLength(1);
      expect(records[0]?.[AUDIT_FIELDS.outcome]).toBe(outcome);
      expect(records[0]?.[AUDIT_FIELDS.requestId]).toMatch(/^[0-9a-f-]{36}$/);
      expect(JSON.stringify(records[0])).not.toContain('attacker.example');
    },
  );
});
