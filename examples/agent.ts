/**
 * An agent built on the MCP TypeScript SDK, connecting to this server the two ways it allows:
 *
 *   MCP_API_KEY=mcpk_... npx tsx examples/agent.ts <MCP URL> [tool] [json arguments]
 *   npx tsx examples/agent.ts <MCP URL> [tool] [json arguments]     # OAuth: prints a sign-in URL
 *
 * With an API key it sends `Authorization: Bearer <key>`. Without one it signs in with OAuth
 * from nothing but the URL, as the SDK does it: the 401 names the protected-resource metadata,
 * which names the authorization server; the SDK registers (RFC 7591), sends you to sign in with
 * PKCE, and this file receives the code on a loopback callback,
 * http://localhost:8765/callback by default (it is in the stack's default `callbackUrls`;
 * change it with MCP_CALLBACK_PORT and add the new URL with `-c callbackUrls=...`).
 *
 * It then lists the tools your roles allow and, if asked, calls one. Tokens live in memory only.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from '@modelcontextprotocol/sdk/shared/auth.js';

export const DEFAULT_CALLBACK_PORT = 8765;
const SIGN_IN_TIMEOUT_MS = 5 * 60_000;
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);
const CLIENT = { name: 'secure-mcp-example-agent', version: '1.0.0' };

/** The SDK's OAuth hooks, kept in memory: tokens die with the process. */
export class InMemoryOAuthProvider implements OAuthClientProvider {
  #client: OAuthClientInformationMixed | undefined;
  #tokens: OAuthTokens | undefined;
  #verifier = '';
  /** Sent with the authorization request and checked on the callback (CSRF). */
  readonly #state = randomBytes(16).toString('base64url');

  constructor(
    readonly redirectUrl: string,
    private readonly openBrowser: (url: URL) => void,
  ) {}

  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: CLIENT.name,
      redirect_uris: [this.redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }
  state() {
    return this.#state;
  }
  clientInformation() {
    return this.#client;
  }
  saveClientInformation(client: OAuthClientInformationMixed) {
    this.#client = client;
  }
  tokens() {
    return this.#tokens;
  }
  saveTokens(tokens: OAuthTokens) {
    this.#tokens = tokens;
  }
  redirectToAuthorization(url: URL) {
    this.openBrowser(url);
  }
  saveCodeVerifier(verifier: string) {
    this.#verifier = verifier;
  }
  codeVerifier() {
    return this.#verifier;
  }
}

/** A one-shot loopback listener for the authorization response. */
export interface CallbackListener {
  readonly redirectUrl: string;
  /** The code, once the browser comes back with a matching state; rejects on an error. */
  readonly code: (expectedState: string) => Promise<string>;
  readonly close: () => Promise<void>;
}

/** Text from the network made safe for a terminal: no control characters, bounded. */
function printable(text: string): string {
  return text.replace(/\p{Cc}/gu, '?').slice(0, 200);
}

export async function listenForCallback(port: number): Promise<CallbackListener> {
  let expected: string | undefined;
  let settle: ((params: URLSearchParams) => void) | undefined;
  const arrived = new Promise<URLSearchParams>((resolve) => {
    settle = resolve;
  });
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== '/callback') {
      res.writeHead(404).end();
      return;
    }
    // Only the response to our own request counts: anything else (another page or process
    // poking the port) is turned away and the real one is still awaited.
    if (expected === undefined || url.searchParams.get('state') !== expected) {
      res.writeHead(400, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('This is not the sign-in this agent is waiting for.');
      return;
    }
    const refused = url.searchParams.has('error');
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(
      refused
        ? 'Sign-in refused. You can close this window.'
        : 'Signed in. You can close this window and go back to the terminal.',
    );
    settle?.(url.searchParams);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // `localhost`, not 127.0.0.1: Cognito accepts plain-http callbacks for localhost only.
    server.listen(port, 'localhost', resolve);
  });
  const { port: bound } = server.address() as AddressInfo;
  return {
    redirectUrl: `http://localhost:${bound}/callback`,
    code: async (expectedState) => {
      expected = expectedState;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error('No sign-in within 5 minutes')),
          SIGN_IN_TIMEOUT_MS,
        ).unref();
      });
      const params = await Promise.race([arrived, timeout]).finally(() => clearTimeout(timer));
      const error = params.get('error');
      if (error !== null) {
        throw new Error(
          `Sign-in refused: ${printable(error)} ${printable(params.get('error_description') ?? '')}`,
        );
      }
      const code = params.get('code');
      if (code === null) throw new Error('The authorization response carries no code');
      return code;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface ConnectOptions {
  /** An API key (`mcpk_...`); without it, OAuth. */
  readonly apiKey?: string;
  /** Loopback port of the OAuth callback; 0 picks a free one (only the local server allows that). */
  readonly callbackPort?: number;
  /** Show the person the sign-in URL; the default prints it. */
  readonly openBrowser?: (url: URL) => void;
}

/** A connected SDK client, by API key or by OAuth. */
export async function connect(mcpUrl: string, options: ConnectOptions = {}): Promise<Client> {
  const url = new URL(mcpUrl);
  if (url.protocol !== 'https:' && !LOOPBACK_HOSTS.has(url.hostname)) {
    throw new Error('Refusing to send credentials over plain HTTP: use https (or a loopback URL)');
  }
  if (options.apiKey !== undefined) {
    const client = new Client(CLIENT);
    await client.connect(
      new StreamableHTTPClientTransport(url, {
        requestInit: { headers: { Authorization: `Bearer ${options.apiKey}` } },
      }),
    );
    return client;
  }

  const callback = await listenForCallback(options.callbackPort ?? DEFAULT_CALLBACK_PORT);
  try {
    const open =
      options.openBrowser ??
      ((authorizationUrl: URL) =>
        process.stderr.write(`Sign in at:\n  ${authorizationUrl.href}\n`));
    const provider = new InMemoryOAuthProvider(callback.redirectUrl, open);
    const first = new StreamableHTTPClientTransport(url, { authProvider: provider });
    try {
      // Already signed in (tokens in the provider): done.
      const client = new Client(CLIENT);
      await client.connect(first);
      return client;
    } catch (error) {
      if (!(error instanceof UnauthorizedError)) throw error;
    }
    // 401 -> discovery -> registration -> the sign-in URL was shown; wait for the callback.
    await first.finishAuth(await callback.code(provider.state()));
    const client = new Client(CLIENT);
    await client.connect(new StreamableHTTPClientTransport(url, { authProvider: provider }));
    return client;
  } finally {
    await callback.close();
  }
}

async function main(argv: readonly string[]): Promise<void> {
  const [mcpUrl, toolName, json] = argv;
  if (mcpUrl === undefined) {
    process.stderr.write(
      'usage: [MCP_API_KEY=mcpk_...] tsx examples/agent.ts <MCP URL> [tool] [json]\n',
    );
    process.exitCode = 2;
    return;
  }
  const client = await connect(mcpUrl, {
    apiKey: process.env.MCP_API_KEY || undefined,
    callbackPort: Number(process.env.MCP_CALLBACK_PORT ?? DEFAULT_CALLBACK_PORT),
  });
  try {
    const { tools } = await client.listTools();
    process.stdout.write(
      `Tools your roles allow: ${tools.map((t) => t.name).join(', ') || '(none)'}\n`,
    );
    if (toolName !== undefined) {
      const result = await client.callTool({
        name: toolName,
        arguments: json === undefined ? {} : (JSON.parse(json) as Record<string, unknown>),
      });
      process.stdout.write(
        `${JSON.stringify(result.structuredContent ?? result.content, null, 2)}\n`,
      );
    }
  } finally {
    await client.close();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
