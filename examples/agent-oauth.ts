/**
 * The OAuth side of the example agent (examples/agent.ts): the SDK's provider hooks kept in
 * memory, the loopback listener that receives the authorization response, and the two ways
 * the authorization URL reaches a browser (a person's, or none for an authorization server
 * that approves without a page).
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type {
  OAuthClientMetadata,
  OAuthClientProvider,
  OAuthDiscoveryState,
  StoredOAuthClientInformation,
  StoredOAuthTokens,
} from '@modelcontextprotocol/client';

export const CLIENT = { name: 'secure-mcp-example-agent', version: '1.0.0' };
const SIGN_IN_TIMEOUT_MS = 5 * 60_000;

/** Client credentials the person already has for this server (pre-registration). */
export interface PreRegisteredClient {
  readonly clientId: string;
  /** Only for a confidential client; the example is a public one by default. */
  readonly clientSecret?: string;
}

export interface ProviderOptions {
  /**
   * An https URL whose JSON document describes this client (CIMD). Used as the client id
   * when the authorization server says it supports them; otherwise the SDK registers (DCR).
   */
  readonly clientMetadataUrl?: string;
  /** Tried before CIMD and DCR, as the MCP spec orders them. */
  readonly preRegistered?: PreRegisteredClient;
}

/**
 * The SDK's OAuth hooks, kept in memory: tokens die with the process. Which client id is
 * used follows the spec's order, applied by the SDK's `auth()`: pre-registered client
 * information if there is any, else the CIMD URL if the authorization server supports CIMD,
 * else dynamic registration.
 */
export class InMemoryOAuthProvider implements OAuthClientProvider {
  #client: StoredOAuthClientInformation | undefined;
  #tokens: StoredOAuthTokens | undefined;
  #verifier = '';
  #discovery: OAuthDiscoveryState | undefined;
  readonly #requestedScopes = new Set<string>();
  readonly clientMetadataUrl: string | undefined;

  constructor(
    readonly redirectUrl: string,
    private readonly openBrowser: (url: URL) => void | Promise<void>,
    options: ProviderOptions = {},
  ) {
    this.clientMetadataUrl = options.clientMetadataUrl;
    if (options.preRegistered !== undefined) {
      this.#client = {
        client_id: options.preRegistered.clientId,
        ...(options.preRegistered.clientSecret === undefined
          ? {}
          : { client_secret: options.preRegistered.clientSecret }),
        redirect_uris: [redirectUrl],
      };
    }
  }

  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: CLIENT.name,
      redirect_uris: [this.redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      // A command-line program is a native application (OIDC client types; MCP asks DCR
      // clients to say which they are).
      application_type: 'native',
    };
  }
  /** A fresh value for every authorization request, checked on its callback (CSRF). */
  state() {
    return randomBytes(16).toString('base64url');
  }
  /** Every scope this client has asked for so far (for the step-up union). */
  get requestedScopes(): ReadonlySet<string> {
    return this.#requestedScopes;
  }
  clientInformation() {
    return this.#client;
  }
  saveClientInformation(client: StoredOAuthClientInformation) {
    this.#client = client;
  }
  tokens() {
    return this.#tokens;
  }
  saveTokens(tokens: StoredOAuthTokens) {
    this.#tokens = tokens;
  }
  async redirectToAuthorization(url: URL) {
    for (const scope of (url.searchParams.get('scope') ?? '').split(' ')) {
      if (scope !== '') this.#requestedScopes.add(scope);
    }
    await this.openBrowser(url);
  }
  saveCodeVerifier(verifier: string) {
    this.#verifier = verifier;
  }
  codeVerifier() {
    return this.#verifier;
  }
  // Kept with the verifier so the callback leg is checked against the authorization server
  // the request went to (the SDK's mix-up defence).
  saveDiscoveryState(state: OAuthDiscoveryState) {
    this.#discovery = state;
  }
  discoveryState() {
    return this.#discovery;
  }
  invalidateCredentials(scope: 'all' | 'client' | 'tokens' | 'verifier' | 'discovery') {
    if (scope === 'all' || scope === 'tokens') this.#tokens = undefined;
    if (scope === 'all' || scope === 'verifier') this.#verifier = '';
    if (scope === 'all' || scope === 'discovery') this.#discovery = undefined;
    if (scope === 'all' || scope === 'client') this.#client = undefined;
  }
}

/** A loopback listener for authorization responses, one at a time. */
export interface CallbackListener {
  readonly redirectUrl: string;
  /**
   * The parameters of the response to the request with this `state`, once the browser comes
   * back with it. Anything else reaching the port is turned away and the real one awaited.
   */
  readonly response: (expectedState: string) => Promise<URLSearchParams>;
  readonly close: () => Promise<void>;
}

export async function listenForCallback(port: number): Promise<CallbackListener> {
  let waiting: { state: string; settle: (params: URLSearchParams) => void } | undefined;
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== '/callback') {
      res.writeHead(404).end();
      return;
    }
    // Only the response to our own request counts: anything else (another page or process
    // poking the port, a replayed old response) is turned away.
    if (waiting === undefined || url.searchParams.get('state') !== waiting.state) {
      res.writeHead(400, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('This is not the sign-in this agent is waiting for.');
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(
      url.searchParams.has('error')
        ? 'Sign-in refused. You can close this window.'
        : 'Signed in. You can close this window and go back to the terminal.',
    );
    const { settle } = waiting;
    waiting = undefined;
    settle(url.searchParams);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // `localhost`, not 127.0.0.1: Cognito accepts plain-http callbacks for localhost only.
    server.listen(port, 'localhost', resolve);
  });
  const { port: bound } = server.address() as AddressInfo;
  return {
    redirectUrl: `http://localhost:${bound}/callback`,
    response: async (expectedState) => {
      let timer: NodeJS.Timeout | undefined;
      const arrived = new Promise<URLSearchParams>((resolve, reject) => {
        waiting = { state: expectedState, settle: resolve };
        timer = setTimeout(() => {
          waiting = undefined;
          reject(new Error('No sign-in within 5 minutes'));
        }, SIGN_IN_TIMEOUT_MS).unref();
      });
      return arrived.finally(() => clearTimeout(timer));
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The default browser step: show the person the URL (opening a browser is their choice). */
export function printSignInUrl(url: URL): void {
  process.stderr.write(`Sign in at:\n  ${url.href}\n`);
}

const MAX_REDIRECTS = 5;

/**
 * A browser with no person in front of it, for authorization servers that approve without a
 * page (the conformance suite's, a CI fixture): GET the authorization URL and follow its
 * redirects, at most a few, until one lands on the agent's own callback, which is then
 * requested like a browser would. A page that asks for a person (sign-in, consent) is a
 * refusal: this never fills in forms.
 */
export function headlessBrowser(
  redirectUrl: string,
  fetchImpl: typeof fetch = fetch,
): (url: URL) => Promise<void> {
  const callback = new URL(redirectUrl);
  return async (authorizationUrl) => {
    let next = authorizationUrl;
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      if (next.origin === callback.origin && next.pathname === callback.pathname) {
        await (await fetchImpl(next)).body?.cancel();
        return;
      }
      const response = await fetchImpl(next, { redirect: 'manual' });
      await response.body?.cancel();
      const location = response.headers.get('location');
      if (response.status < 300 || response.status > 399 || location === null) {
        throw new Error(
          `The authorization server answered ${response.status} instead of approving: it needs a person, run the agent without --headless`,
        );
      }
      next = new URL(location, next);
    }
    throw new Error(`More than ${MAX_REDIRECTS} redirects from the authorization server`);
  };
}
