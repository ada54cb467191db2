/**
 * A browser-based MCP client, as MCP Inspector's web UI is one: the MCP SDK's client running in
 * a page on its own origin, signing in with OAuth from nothing but the MCP URL. Every request it
 * makes to the server is cross-origin, so it works only if the server's CORS answers do.
 *
 * Bundled for the browser by the test (esbuild); the page is `/?mcp=<MCP URL>`, and the sign-in
 * comes back to `/callback`. What happened is written to `#status` and `#tools`.
 */
import {
  type OAuthClientProvider,
  type OAuthDiscoveryState,
  UnauthorizedError,
} from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from '@modelcontextprotocol/sdk/shared/auth.js';

const KEY = 'mcp-web-client';

/** What survives the trip to the sign-in page and back: this tab's session storage. */
interface Saved {
  mcpUrl?: string;
  state?: string;
  verifier?: string;
  client?: OAuthClientInformationMixed;
  tokens?: OAuthTokens;
  discovery?: OAuthDiscoveryState;
}

function load(): Saved {
  return JSON.parse(sessionStorage.getItem(KEY) ?? '{}') as Saved;
}

function save(change: Partial<Saved>): void {
  sessionStorage.setItem(KEY, JSON.stringify({ ...load(), ...change }));
}

class SessionOAuthProvider implements OAuthClientProvider {
  readonly redirectUrl = `${location.origin}/callback`;

  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: 'browser test client',
      redirect_uris: [this.redirectUrl],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }
  state() {
    const state = crypto.randomUUID();
    save({ state });
    return state;
  }
  clientInformation() {
    return load().client;
  }
  saveClientInformation(client: OAuthClientInformationMixed) {
    save({ client });
  }
  tokens() {
    return load().tokens;
  }
  saveTokens(tokens: OAuthTokens) {
    save({ tokens });
  }
  redirectToAuthorization(url: URL) {
    location.assign(url.href);
  }
  // What discovery found, kept across the trip to the sign-in page: the callback page cannot
  // find it again without the 401 challenge. On an API Gateway stage URL the RFC 9728
  // well-known URLs are outside the stage, so a fresh discovery falls back to the server's
  // origin as the issuer, and the SDK then discards the client registered with the real one.
  saveDiscoveryState(discovery: OAuthDiscoveryState) {
    save({ discovery });
  }
  discoveryState() {
    return load().discovery;
  }
  saveCodeVerifier(verifier: string) {
    save({ verifier });
  }
  codeVerifier() {
    return load().verifier ?? '';
  }
}

function show(id: string, text: string): void {
  const element = document.getElementById(id);
  if (element !== null) element.textContent = text;
}

async function main(): Promise<void> {
  const fromQuery = new URLSearchParams(location.search).get('mcp');
  if (fromQuery !== null) save({ mcpUrl: fromQuery });
  const mcpUrl = new URL(load().mcpUrl ?? '');
  const provider = new SessionOAuthProvider();
  const transport = new StreamableHTTPClientTransport(mcpUrl, { authProvider: provider });

  if (location.pathname === '/callback') {
    const params = new URLSearchParams(location.search);
    if (params.get('state') !== load().state)
      throw new Error('the callback is not for this sign-in');
    show('status', 'exchanging the code');
    await transport.finishAuth(params.get('code') ?? '');
  }
  const client = new Client({ name: 'browser-test-client', version: '1.0.0' });
  try {
    await client.connect(
      location.pathname === '/callback'
        ? new StreamableHTTPClientTransport(mcpUrl, { authProvider: provider })
        : transport,
    );
  } catch (error) {
    // Sent to the sign-in page: this page is going away.
    if (error instanceof UnauthorizedError) return;
    throw error;
  }
  const { tools } = await client.listTools();
  show(
    'tools',
    tools
      .map((tool) => tool.name)
      .sort()
      .join(','),
  );
  show('status', 'connected');
  await client.close();
}

main().catch((error: unknown) => {
  show('status', `failed: ${error instanceof Error ? error.message : String(error)}`);
});
