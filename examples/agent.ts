/**
 * An agent built on the MCP TypeScript SDK (v2, `@modelcontextprotocol/client`), connecting to
 * this server the two ways it allows:
 *
 *   MCP_API_KEY=mcpk_... npx tsx examples/agent.ts <MCP URL> [tool] [json arguments]
 *   npx tsx examples/agent.ts [options] <MCP URL> [tool] [json arguments]   # OAuth
 *
 * With an API key it sends `Authorization: Bearer <key>`. Without one it signs in with OAuth
 * from nothing but the URL: the 401 names the protected-resource metadata, which names the
 * authorization server. The client id is, in the MCP spec's order: a pre-registered one
 * (`--client-id`), else a Client ID Metadata Document URL (`--client-metadata-url`) if the
 * authorization server supports CIMD, else one from dynamic registration (RFC 7591). It sends
 * you to sign in with PKCE and `resource` (RFC 8707), receives the code on a loopback
 * callback (http://localhost:8765/callback by default; `--callback-port`), checks `state` and
 * `iss` (RFC 9207) and redeems it.
 *
 * A `403 insufficient_scope` makes it sign in once more, asking for every scope it asked for
 * before plus the challenged ones (step-up); a second refusal for the same call is final, and
 * a run never starts more than three sign-ins. A JSON-RPC refusal (-32003, your roles do not
 * allow it) is an answer, not a reason to sign in again. 429/503 (and 5xx for requests
 * other than tool calls) are retried with backoff, three tries at most.
 *
 * A call the server answers with an approval URL (a person must approve a destructive call in
 * a browser first: a 2026-07-28 `input_required` URL elicitation, or a 2025-11-25 -32042) is
 * shown to you, with the URL's host, and goes on once you have approved: the 2026-07-28 retry
 * waits for you, a 2025-era call is retried every few seconds for up to five minutes. Only URLs
 * on the MCP server's own origin are shown; any other is declined.
 *
 * It then lists the tools your roles allow and, if asked, calls one. Tokens live in memory
 * only and are never printed.
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import {
  auth,
  type CallToolResult,
  Client,
  extractWWWAuthenticateParams,
  type FetchLike,
  InsufficientScopeError,
  isStrictScopeSuperset,
  type ListToolsResult,
  StreamableHTTPClientTransport,
  UnauthorizedError,
  UrlElicitationRequiredError,
} from '@modelcontextprotocol/client';
import {
  CLIENT,
  headlessBrowser,
  InMemoryOAuthProvider,
  listenForCallback,
  type PreRegisteredClient,
  printSignInUrl,
} from './agent-oauth';
import {
  AuthorizationBudget,
  MAX_STEP_UPS_PER_OPERATION,
  type RetryOptions,
  retryingFetch,
  SignInLimitError,
  stepUpScope,
} from './agent-retry';

export { InMemoryOAuthProvider, listenForCallback } from './agent-oauth';
export { SignInLimitError } from './agent-retry';

export const DEFAULT_CALLBACK_PORT = 8765;
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

export interface ConnectOptions {
  /** An API key (`mcpk_...`); without it, OAuth. */
  readonly apiKey?: string;
  /** Loopback port of the OAuth callback; 0 picks a free one. @default 8765 */
  readonly callbackPort?: number;
  /**
   * Show the person the authorization URL; the default prints it. Tests drive the sign-in
   * (and any consent page) from here.
   */
  readonly openBrowser?: (url: URL) => void | Promise<void>;
  /**
   * No person: request the authorization URL and follow its redirects to the callback, for
   * authorization servers that approve without a page. Ignored when `openBrowser` is given.
   */
  readonly headless?: boolean;
  /** This client's CIMD URL (https, with a path), used where the server supports CIMD. */
  readonly clientMetadataUrl?: string;
  /**
   * The scopes to ask for at the first sign-in (least privilege: step-up adds what a call
   * turns out to need). Without it, those the server's challenge or metadata names.
   */
  readonly scope?: string;
  /** A client id (and secret, for a confidential client) the server already knows. */
  readonly preRegistered?: PreRegisteredClient;
  /** Bounds on retrying 429/5xx. */
  readonly retry?: RetryOptions;
  /** The network (tests pass a recording one). @default globalThis.fetch */
  readonly fetch?: FetchLike;
  /**
   * Show the person an approval URL a call was answered with, and resolve when they have
   * dealt with it (or at once: the call waits for the approval either way). Only URLs on the
   * MCP server's own origin get here. @default prints it, with its host, to stderr
   */
  readonly onApproval?: (url: URL, message: string) => void | Promise<void>;
  /** How long a 2025-era call needing approval is retried, waiting for it. @default 5 minutes */
  readonly approvalTimeoutMs?: number;
}

/** What the agent does with a connection: the calls it makes, each under the limits above. */
export interface Agent {
  listTools(): Promise<ListToolsResult>;
  callTool(params: { name: string; arguments?: Record<string, unknown> }): Promise<CallToolResult>;
  close(): Promise<void>;
  /** How many sign-ins this connection started (0 with an API key). */
  readonly signIns: number;
}

/** How often a call waiting for its approval looks again. */
const APPROVAL_POLL_MS = 3000;

/**
 * Approval URLs for the calls of one connection: shown once per call (a 2026-07-28 server
 * that finds the person still deciding asks again, with a new URL for the same approval), and
 * only when they are on the MCP server's own origin, so a server cannot send the person to
 * another site through this agent.
 */
class ApprovalPrompts {
  #shownThisCall = false;

  constructor(
    private readonly mcpUrl: URL,
    private readonly show: (url: URL, message: string) => void | Promise<void>,
  ) {}

  /** A new call begins: its first approval URL will be shown. */
  newCall(): void {
    this.#shownThisCall = false;
  }

  /** Whether `url` may be shown: the MCP server's own origin (https, or loopback http, as the connection is). */
  accepts(url: URL): boolean {
    return url.origin === this.mcpUrl.origin;
  }

  /** Show the URL (once per call); afterwards, pace the server's asking again. */
  async present(url: URL, message: string): Promise<void> {
    if (this.#shownThisCall) {
      await new Promise((resolve) => setTimeout(resolve, APPROVAL_POLL_MS));
      return;
    }
    this.#shownThisCall = true;
    await this.show(url, message);
  }
}

/** The default way to show an approval URL: on stderr, host first, control characters out. */
function printApprovalUrl(url: URL, message: string): void {
  process.stderr.write(
    `${printable(message)}\nApproval needed on ${printable(url.host)}: open this URL in your browser, check the call, approve or deny:\n${url.href}\n`,
  );
}

function newClient(approvals: ApprovalPrompts): Client {
  // `auto`: speak 2026-07-28 (server/discover, Mcp-* headers) where the server does, and the
  // 2025-11-25 handshake elsewhere. It can show a URL a person must open (URL elicitation),
  // never a form: there may be no person at this agent's terminal to fill one in.
  const client = new Client(CLIENT, {
    versionNegotiation: { mode: 'auto' },
    capabilities: { elicitation: { url: {} } },
  });
  client.setRequestHandler('elicitation/create', async (request) => {
    const params = request.params as { mode?: unknown; url?: unknown; message?: unknown };
    if (params.mode !== 'url' || typeof params.url !== 'string') return { action: 'decline' };
    const url = new URL(params.url);
    if (!approvals.accepts(url)) return { action: 'decline' };
    await approvals.present(url, typeof params.message === 'string' ? params.message : '');
    return { action: 'accept' };
  });
  return client;
}

/**
 * One tool call that may need a person's approval: a 2026-07-28 call waits inside the SDK (its
 * URL handler above); a 2025-era call is refused with -32042, shown, and retried until it runs,
 * is refused otherwise, or `timeoutMs` passes.
 */
async function callWithApproval(
  client: Client,
  approvals: ApprovalPrompts,
  params: { name: string; arguments?: Record<string, unknown> },
  timeoutMs: number,
): Promise<CallToolResult> {
  approvals.newCall();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return (await client.callTool(params)) as CallToolResult;
    } catch (error) {
      if (!(error instanceof UrlElicitationRequiredError) || Date.now() > deadline) throw error;
      const [elicitation] = error.elicitations;
      if (elicitation === undefined) throw error;
      const url = new URL(elicitation.url);
      if (!approvals.accepts(url)) throw error;
      await approvals.present(url, elicitation.message);
    }
  }
}

/** A connected agent, by API key or by OAuth. */
export async function connect(mcpUrl: string, options: ConnectOptions = {}): Promise<Agent> {
  const url = new URL(mcpUrl);
  if (url.protocol !== 'https:' && !LOOPBACK_HOSTS.has(url.hostname)) {
    throw new Error('Refusing to send credentials over plain HTTP: use https (or a loopback URL)');
  }
  const network = retryingFetch(
    options.fetch ?? ((input, init) => fetch(input, init)),
    options.retry,
  );
  const approvals = new ApprovalPrompts(url, options.onApproval ?? printApprovalUrl);
  const approvalTimeoutMs = options.approvalTimeoutMs ?? 5 * 60_000;
  if (options.apiKey !== undefined) {
    const client = newClient(approvals);
    await client.connect(
      new StreamableHTTPClientTransport(url, {
        fetch: network,
        requestInit: { headers: { Authorization: `Bearer ${options.apiKey}` } },
      }),
    );
    return {
      listTools: () => client.listTools(),
      callTool: (params) => callWithApproval(client, approvals, params, approvalTimeoutMs),
      close: () => client.close(),
      signIns: 0,
    };
  }
  return OAuthAgent.connect(url, network, options, approvals, approvalTimeoutMs);
}

function refusedAfterStepUp(error: InsufficientScopeError): SignInLimitError {
  return new SignInLimitError(
    `The server still refuses after signing in again for scope "${error.requiredScope ?? ''}": your account cannot be granted it`,
  );
}

/** An OAuth connection: signs in when the server asks, steps up once per call, then stops. */
class OAuthAgent implements Agent {
  readonly #budget = new AuthorizationBudget();
  /** The authorization response being waited for, registered before the browser opens. */
  #pending: Promise<URLSearchParams> | undefined;
  #client: Client | undefined;
  #transport: StreamableHTTPClientTransport | undefined;

  private constructor(
    private readonly url: URL,
    private readonly network: FetchLike,
    private readonly callback: Awaited<ReturnType<typeof listenForCallback>>,
    private readonly provider: InMemoryOAuthProvider,
    private readonly initialScope: string | undefined,
    private readonly approvals: ApprovalPrompts,
    private readonly approvalTimeoutMs: number,
  ) {}

  static async connect(
    url: URL,
    network: FetchLike,
    options: ConnectOptions,
    approvals: ApprovalPrompts,
    approvalTimeoutMs: number,
  ): Promise<Agent> {
    const callback = await listenForCallback(options.callbackPort ?? DEFAULT_CALLBACK_PORT);
    const browser =
      options.openBrowser ??
      (options.headless ? headlessBrowser(callback.redirectUrl) : printSignInUrl);
    let agent: OAuthAgent | undefined;
    const provider = new InMemoryOAuthProvider(
      callback.redirectUrl,
      async (authorizationUrl) => {
        agent?.beforeSignIn(authorizationUrl);
        await browser(authorizationUrl);
      },
      { clientMetadataUrl: options.clientMetadataUrl, preRegistered: options.preRegistered },
    );
    // A 401 from the MCP server means the token (or its authorization server) is no longer
    // the one it wants: discover afresh, so a moved `authorization_servers` is followed and
    // the client re-registers there instead of reusing another server's credentials.
    const rediscovering: FetchLike = async (input, init) => {
      const response = await network(input, init);
      if (response.status === 401 && String(input) === url.href) {
        provider.invalidateCredentials('discovery');
      }
      return response;
    };
    agent = new OAuthAgent(
      url,
      rediscovering,
      callback,
      provider,
      options.scope,
      approvals,
      approvalTimeoutMs,
    );
    try {
      await agent.open();
      return agent;
    } catch (error) {
      await agent.close();
      throw error;
    }
  }

  get signIns(): number {
    return this.#budget.started;
  }

  /** Counts the sign-in against the budget and starts waiting for its answer. */
  private beforeSignIn(authorizationUrl: URL): void {
    this.#budget.spend('the server keeps asking for a new sign-in');
    this.#pending = this.callback.response(authorizationUrl.searchParams.get('state') ?? '');
  }

  /** Waits for the browser to come back, then redeems the code (the SDK checks `iss` first). */
  private async finishSignIn(transport: StreamableHTTPClientTransport): Promise<void> {
    const pending = this.#pending;
    this.#pending = undefined;
    if (pending === undefined) throw new UnauthorizedError('The server refused the credentials');
    await transport.finishAuth(await pending);
  }

  private transport(): StreamableHTTPClientTransport {
    return new StreamableHTTPClientTransport(this.url, {
      authProvider: this.provider,
      fetch: this.network,
      // Step-up is done here (see `run`) so it is bounded per call and across the run.
      onInsufficientScope: 'throw',
    });
  }

  private async open(): Promise<void> {
    if (this.initialScope !== undefined) {
      // Sign in for the chosen scopes before the first request (which would otherwise ask
      // for whatever the server's challenge names).
      const transport = this.transport();
      const result = await auth(this.provider, {
        serverUrl: this.url,
        scope: this.initialScope,
        resourceMetadataUrl: await this.challengedMetadataUrl(),
        fetchFn: this.network,
      });
      if (result === 'REDIRECT') await this.finishSignIn(transport);
    }
    let stepUps = 0;
    for (;;) {
      const transport = this.transport();
      const client = newClient(this.approvals);
      try {
        await client.connect(transport);
        this.#client = client;
        this.#transport = transport;
        return;
      } catch (error) {
        await client.close().catch(() => undefined);
        if (error instanceof InsufficientScopeError) {
          if (stepUps >= MAX_STEP_UPS_PER_OPERATION) throw refusedAfterStepUp(error);
          stepUps++;
          await this.stepUp(error, transport);
          continue;
        }
        if (!(error instanceof UnauthorizedError)) throw error;
        // 401 -> discovery -> client id -> the browser was sent to sign in; wait for it.
        await this.finishSignIn(transport);
      }
    }
  }

  /**
   * The protected-resource metadata URL the server's 401 challenge names, asked for with a
   * request that carries no credential. On an API Gateway stage URL (`…/prod/mcp`) the RFC 9728
   * well-known URLs are on the host, outside the stage, where nothing answers: the challenge is
   * the one way to the metadata. Undefined if the server does not challenge (the SDK then tries
   * the well-known URLs).
   */
  private async challengedMetadataUrl(): Promise<URL | undefined> {
    const response = await this.network(this.url, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        Accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'ping' }),
    });
    await response.body?.cancel();
    return response.status === 401
      ? extractWWWAuthenticateParams(response).resourceMetadataUrl
      : undefined;
  }

  /** Signs in again for the challenged scopes plus every scope asked for before. */
  private async stepUp(
    challenge: InsufficientScopeError,
    transport: StreamableHTTPClientTransport,
  ): Promise<void> {
    const granted = this.provider.tokens()?.scope;
    const scope = stepUpScope(this.provider.requestedScopes, granted, challenge.requiredScope);
    const result = await auth(this.provider, {
      serverUrl: this.url,
      scope,
      resourceMetadataUrl: challenge.resourceMetadataUrl,
      // A refresh cannot widen a grant (RFC 6749 §6): ask the person when the union is new.
      forceReauthorization: isStrictScopeSuperset(scope, granted),
      fetchFn: this.network,
    });
    if (result === 'REDIRECT') await this.finishSignIn(transport);
  }

  /** One call, with at most one step-up; a 401 (token gone stale) signs in within the budget. */
  private async run<T>(call: (client: Client) => Promise<T>): Promise<T> {
    let stepUps = 0;
    for (;;) {
      const client = this.#client;
      const transport = this.#transport;
      if (client === undefined || transport === undefined) throw new Error('Not connected');
      try {
        return await call(client);
      } catch (error) {
        if (error instanceof InsufficientScopeError) {
          if (stepUps >= MAX_STEP_UPS_PER_OPERATION) throw refusedAfterStepUp(error);
          stepUps++;
          await this.stepUp(error, transport);
          continue;
        }
        if (error instanceof UnauthorizedError && this.#pending !== undefined) {
          await this.finishSignIn(transport);
          continue;
        }
        throw error;
      }
    }
  }

  listTools(): Promise<ListToolsResult> {
    return this.run((client) => client.listTools());
  }

  callTool(params: { name: string; arguments?: Record<string, unknown> }): Promise<CallToolResult> {
    return this.run((client) =>
      callWithApproval(client, this.approvals, params, this.approvalTimeoutMs),
    );
  }

  async close(): Promise<void> {
    await this.#client?.close().catch(() => undefined);
    await this.callback.close();
  }
}

/** Text from the network made safe for a terminal: no control characters, bounded. */
export function printable(text: string): string {
  return text.replace(/\p{Cc}/gu, '?').slice(0, 300);
}

const USAGE = `usage: tsx examples/agent.ts [options] <MCP URL> [tool] [json arguments]
  MCP_API_KEY=mcpk_...              use an API key instead of signing in
  --client-metadata-url <https url> this client's CIMD URL (or MCP_CLIENT_METADATA_URL)
  --client-id <id>                  a pre-registered client id (or MCP_CLIENT_ID; a secret,
                                    if it has one, only from MCP_CLIENT_SECRET)
  --scope "<scope> ..."             ask only for these at first (step-up adds what a call needs)
  --callback-port <port>            loopback port of the OAuth callback (or MCP_CALLBACK_PORT;
                                    default ${DEFAULT_CALLBACK_PORT}; 0 picks one)
  --headless                        follow the authorization URL without a browser (only for
                                    authorization servers that approve without a page)
  --call <tool> [--arguments <json>] the same as [tool] [json arguments]
`;

/** The command line: `argv` without node and the script, `env` for the defaults. */
export async function runCli(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  out: (text: string) => void = (text) => process.stdout.write(text),
): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      'client-metadata-url': { type: 'string' },
      'client-id': { type: 'string' },
      scope: { type: 'string' },
      'callback-port': { type: 'string' },
      headless: { type: 'boolean' },
      call: { type: 'string' },
      arguments: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  const [mcpUrl, positionalTool, positionalJson] = positionals;
  if (values.help || mcpUrl === undefined) {
    process.stderr.write(USAGE);
    return values.help ? 0 : 2;
  }
  const clientId = values['client-id'] ?? (env.MCP_CLIENT_ID || undefined);
  const port = Number(values['callback-port'] ?? env.MCP_CALLBACK_PORT ?? DEFAULT_CALLBACK_PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new Error('--callback-port must be a port number (0 picks a free one)');
  }
  const toolName = values.call ?? positionalTool;
  const json = values.arguments ?? positionalJson;
  const args = json === undefined ? {} : (JSON.parse(json) as Record<string, unknown>);

  const agent = await connect(mcpUrl, {
    apiKey: env.MCP_API_KEY || undefined,
    callbackPort: port,
    scope: values.scope,
    headless: values.headless ?? false,
    clientMetadataUrl: values['client-metadata-url'] ?? (env.MCP_CLIENT_METADATA_URL || undefined),
    preRegistered:
      clientId === undefined
        ? undefined
        : { clientId, clientSecret: env.MCP_CLIENT_SECRET || undefined },
  });
  try {
    const { tools } = await agent.listTools();
    out(`Tools your roles allow: ${tools.map((t) => t.name).join(', ') || '(none)'}\n`);
    if (toolName !== undefined) {
      const result = await agent.callTool({ name: toolName, arguments: args });
      out(`${JSON.stringify(result.structuredContent ?? result.content, null, 2)}\n`);
      if (result.isError) return 1;
    }
    return 0;
  } finally {
    await agent.close();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runCli(process.argv.slice(2), process.env).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(
        `${printable(error instanceof Error ? error.message : String(error))}\n`,
      );
      process.exitCode = 1;
    },
  );
}
