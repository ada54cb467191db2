/**
 * The checks of `npm run verify`, one function per row of its table. Each sends what an MCP
 * client (or a browser) would send to the deployment through `Wire`, and judges the answers:
 * ✔, ✘ with what to do, or – with why it does not apply. Pure but for the port: tests run every
 * check on canned answers.
 *
 * The credential only ever goes to the MCP URL; metadata is fetched as a client fetches it,
 * without one.
 */
import { buildDiscoveryUrls, extractWWWAuthenticateParams } from '@modelcontextprotocol/client';
import { MCP_CORS_ALLOW_HEADERS } from '../../../lambda/shared/cors';
import {
  answerTo,
  describeAnswer,
  type Era,
  type Exchange,
  LEGACY_REVISION,
  legacyInitializeParams,
  type McpWire,
  MODERN_REVISION,
  type Target,
  toolCall,
  type Wire,
} from './wire';

/** ✔, ✘ or –. */
export type Mark = 'pass' | 'fail' | 'skip';

export interface Row {
  readonly title: string;
  readonly mark: Mark;
  /** What was seen (✔, ✘) or why the check does not apply (–). */
  readonly detail: string;
  /** On ✘: what to do about it. */
  readonly fix?: string;
}

/** The rows, in the order of the table. */
export const CHECK_TITLES = {
  challenge: '401 challenge',
  protectedResource: 'Protected-resource metadata',
  authorizationServer: 'Authorization-server metadata',
  discover: `server/discover (${MODERN_REVISION})`,
  toolsListModern: `tools/list (${MODERN_REVISION})`,
  toolsListLegacy: `tools/list (${LEGACY_REVISION})`,
  deniedCall: 'Refused call',
  stepUp: 'Step-up challenge',
  notification: 'Notification → 202',
  progress: 'Progress streaming',
  rootWellKnown: 'Root well-known URLs',
  cors: 'CORS preflight',
} as const;

const pass = (title: string, detail: string): Row => ({ title, mark: 'pass', detail });
const fail = (title: string, detail: string, fix: string): Row => ({
  title,
  mark: 'fail',
  detail,
  fix,
});
const skip = (title: string, detail: string): Row => ({ title, mark: 'skip', detail });

const PROTECTED_RESOURCE_WELL_KNOWN = '/.well-known/oauth-protected-resource';
const AUTHORIZATION_SERVER_WELL_KNOWN = '/.well-known/oauth-authorization-server';
/** What API Gateway renames a function's own `WWW-Authenticate` to: no client reads it. */
const REMAPPED_CHALLENGE = 'x-amzn-remapped-www-authenticate';

/** The challenge's parameters, read by the SDK's client code as MCP clients read them. */
function challengeOf(exchange: Exchange) {
  return extractWWWAuthenticateParams(new Response(null, { headers: exchange.headers }));
}

/** Tool names of a `tools/list` result, when it is one. */
function toolNames(result: Record<string, unknown> | undefined): string[] | undefined {
  const tools = result?.tools;
  if (!Array.isArray(tools)) return undefined;
  return tools.flatMap((tool: unknown) =>
    typeof tool === 'object' &&
    tool !== null &&
    typeof (tool as { name?: unknown }).name === 'string'
      ? [(tool as { name: string }).name]
      : [],
  );
}

/** A few names, then how many more. */
function someNames(names: readonly string[], most = 6): string {
  if (names.length === 0) return 'none';
  const shown = names.slice(0, most).join(', ');
  return names.length > most ? `${shown} and ${names.length - most} more` : shown;
}

function seconds(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}

/** Is the value an absolute http(s) URL? */
function isHttpUrl(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// OAuth discovery
// ---------------------------------------------------------------------------------------------

/** What the 401 challenge check learned: where the protected-resource metadata is. */
export interface ChallengeFinding {
  readonly row: Row;
  readonly resourceMetadataUrl?: string;
}

/**
 * A request without a credential: 401 with a Bearer challenge naming `resource_metadata`, a
 * URL that answers. This is how every MCP client starts its sign-in.
 */
export async function checkChallenge(wire: Wire, mcp: McpWire): Promise<ChallengeFinding> {
  const title = CHECK_TITLES.challenge;
  const exchange = await mcp.post({ era: 'legacy', method: 'tools/list', id: 1 }, undefined);
  if (exchange.status !== 401) {
    // API Gateway's 403 for a path, stage or host it does not serve: most often a URL without
    // the stage (the execute-api URL's paths all start with it).
    const noSuchPath =
      exchange.status === 403 &&
      /"message":\s*"(Forbidden|Missing Authentication Token)"/.test(exchange.text);
    return {
      row: fail(
        title,
        `a request without a credential got ${describeAnswer(exchange)}`,
        exchange.status < 300
          ? 'POST /mcp answers without a credential: attach the Lambda authorizer to it (McpApi does) and redeploy'
          : noSuchPath
            ? `API Gateway serves nothing at ${mcp.mcpUrl}: give the McpEndpoint output (on the execute-api URL every path starts with the stage, e.g. …/prod/mcp)`
            : 'API Gateway must answer a missing credential with 401 (the UNAUTHORIZED gateway response); check the authorizer and the URL',
      ),
    };
  }
  const header = exchange.headers.get('www-authenticate');
  if (header === null) {
    return {
      row: fail(
        title,
        exchange.headers.has(REMAPPED_CHALLENGE)
          ? '401, but the challenge arrived as x-amzn-Remapped-WWW-Authenticate, which no client reads'
          : '401 without a WWW-Authenticate header',
        'Send the challenge from the UNAUTHORIZED gateway response (API Gateway renames a function’s own WWW-Authenticate); McpApi sets it',
      ),
    };
  }
  const { resourceMetadataUrl, scope } = challengeOf(exchange);
  if (!/^Bearer\s/i.test(header.trim()) || resourceMetadataUrl === undefined) {
    return {
      row: fail(
        title,
        `401 with WWW-Authenticate: ${header}`,
        'The challenge must be `Bearer resource_metadata="<protected-resource metadata URL>"` (RFC 9728 §5.1): MCP clients find the authorization server from it',
      ),
    };
  }
  const metadataUrl = resourceMetadataUrl.href;
  const { exchange: metadata, document } = await wire.getJson(metadataUrl);
  if (document === undefined) {
    return {
      resourceMetadataUrl: metadataUrl,
      row: fail(
        title,
        `401 names resource_metadata ${metadataUrl}, which answers ${describeAnswer(metadata)}`,
        'Serve the protected-resource metadata at the URL the challenge names (GET, no credential, application/json)',
      ),
    };
  }
  return {
    resourceMetadataUrl: metadataUrl,
    row: pass(
      title,
      `401, Bearer resource_metadata=${metadataUrl} (answers 200)${scope === undefined ? '' : `, scope="${scope}"`}`,
    ),
  };
}

/** What the protected-resource check learned: the authorization server to look up. */
export interface ProtectedResourceFinding {
  readonly row: Row;
  readonly issuer?: string;
}

/**
 * RFC 9728 metadata, from where the challenge points (else the deployment's own location
 * under the base URL): `resource` is the MCP URL to the character, and it names an
 * authorization server.
 */
export async function checkProtectedResource(
  wire: Wire,
  target: Target,
  resourceMetadataUrl: string | undefined,
): Promise<ProtectedResourceFinding> {
  const title = CHECK_TITLES.protectedResource;
  const url = resourceMetadataUrl ?? `${target.baseUrl}${PROTECTED_RESOURCE_WELL_KNOWN}`;
  const { exchange, document } = await wire.getJson(url);
  if (document === undefined) {
    return {
      row: fail(
        title,
        `${url} answers ${describeAnswer(exchange)}`,
        'Serve the RFC 9728 document there (OAuthDiscovery does): GET, no credential, application/json',
      ),
    };
  }
  const servers = document.authorization_servers;
  const issuer = Array.isArray(servers) && isHttpUrl(servers[0]) ? servers[0] : undefined;
  if (document.resource !== target.mcpUrl) {
    return {
      ...(issuer === undefined ? {} : { issuer }),
      row: fail(
        title,
        `resource is ${JSON.stringify(document.resource)}, not the MCP URL ${target.mcpUrl}`,
        'resource must be the exact URL clients call (no trailing slash, same host and stage): clients refuse a document for another resource. Check the API URL or custom domain the stack was given',
      ),
    };
  }
  if (issuer === undefined) {
    return {
      row: fail(
        title,
        `authorization_servers is ${JSON.stringify(servers)}`,
        'Name at least one authorization server (an https URL) in authorization_servers',
      ),
    };
  }
  return {
    issuer,
    row: pass(title, `resource = ${target.mcpUrl}, authorization server ${issuer}`),
  };
}

/**
 * RFC 8414 metadata found as MCP clients find it (the SDK's own list: RFC 8414 path-inserted,
 * then OIDC path-inserted, then OIDC path-appended): `issuer` is the URL it was looked up for
 * and PKCE S256 is advertised, without which clients refuse the server.
 */
export async function checkAuthorizationServer(
  wire: Wire,
  issuer: string | undefined,
): Promise<Row> {
  const title = CHECK_TITLES.authorizationServer;
  if (issuer === undefined) {
    return skip(
      title,
      'not checked: the protected-resource metadata names no authorization server',
    );
  }
  const tried: string[] = [];
  for (const { url } of buildDiscoveryUrls(issuer)) {
    const { exchange, document } = await wire.getJson(url.href);
    if (document === undefined) {
      // The SDK gives up at a 5xx other than 502, rather than trying the next URL.
      if (exchange.status >= 500 && exchange.status !== 502) {
        return fail(
          title,
          `${url.href} answers HTTP ${exchange.status}; MCP clients stop there`,
          'Answer 404 (or the document) at every discovery URL: a server error ends discovery',
        );
      }
      tried.push(`${url.pathname} ${exchange.status}`);
      continue;
    }
    const found = `found at ${url.href}${tried.length === 0 ? '' : ` (after ${tried.join(', ')})`}`;
    if (document.issuer !== issuer) {
      return fail(
        title,
        `${found}, but issuer is ${JSON.stringify(document.issuer)}, not ${issuer}`,
        'issuer must equal the authorization_servers entry exactly (RFC 8414 §3.3); clients reject the document otherwise',
      );
    }
    const methods = document.code_challenge_methods_supported;
    if (!Array.isArray(methods) || !methods.includes('S256')) {
      return fail(
        title,
        `${found}, code_challenge_methods_supported is ${JSON.stringify(methods)}`,
        'MCP clients refuse an authorization server that does not advertise S256: serve the RFC 8414 document of the OAuth proxy, not Cognito’s own',
      );
    }
    return pass(title, `${found}; issuer matches, S256 supported`);
  }
  return fail(
    title,
    `no metadata for ${issuer} (${tried.join(', ')})`,
    'Serve RFC 8414 or OpenID metadata where MCP clients look for it (on an execute-api URL: <stage>/.well-known/openid-configuration)',
  );
}

// ---------------------------------------------------------------------------------------------
// MCP with the credential
// ---------------------------------------------------------------------------------------------

/** Where to look next: the function's log, by the request id API Gateway gave the answer. */
function logHint(exchange: Exchange): string {
  const id = exchange.headers.get('x-amzn-requestid');
  return `See the MCP function’s log${id === null ? '' : ` for request ${id}`} (the audit record names it too)`;
}

/** A 401 to a request with the credential: the row saying so, whichever check sent it. */
function credentialRefused(
  title: string,
  what: string,
  exchange: Exchange,
  variable = 'MCP_VERIFY_TOKEN',
): Row | undefined {
  if (exchange.status !== 401) return undefined;
  return fail(
    title,
    `${what} got ${describeAnswer(exchange)}`,
    `The credential was refused: check ${variable} (expired? issued for this deployment? a revoked API key?)`,
  );
}

/** The JSON-RPC result of request `id`, or the row saying what came instead. */
function resultOf(
  title: string,
  exchange: Exchange,
  id: number,
  what: string,
): { result: Record<string, unknown> } | { row: Row } {
  const refused = credentialRefused(title, what, exchange);
  if (refused !== undefined) return { row: refused };
  const answer = answerTo(exchange, id)?.message;
  if (answer?.result !== undefined) return { result: answer.result };
  const error = answer?.error;
  return {
    row: fail(
      title,
      error === undefined
        ? `${what} got ${describeAnswer(exchange)}`
        : `${what} got JSON-RPC error ${error.code}: ${error.message}`,
      logHint(exchange),
    ),
  };
}

/** `server/discover` with the 2026-07-28 headers and `_meta` envelope. */
export async function checkDiscover(mcp: McpWire, credential: string): Promise<Row> {
  const title = CHECK_TITLES.discover;
  const exchange = await mcp.post({ era: 'modern', method: 'server/discover', id: 1 }, credential);
  const outcome = resultOf(title, exchange, 1, 'server/discover');
  if ('row' in outcome) return outcome.row;
  const versions = outcome.result.supportedVersions;
  if (!Array.isArray(versions) || !versions.includes(MODERN_REVISION)) {
    return fail(
      title,
      `supportedVersions is ${JSON.stringify(versions)}`,
      `Serve ${MODERN_REVISION} (the SDK v2 handler does): clients of that revision send no initialize`,
    );
  }
  const info = (outcome.result._meta as Record<string, unknown> | undefined)?.[
    'io.modelcontextprotocol/serverInfo'
  ] as { name?: unknown; version?: unknown } | undefined;
  const server =
    typeof info?.name === 'string' ? `${info.name} ${String(info.version ?? '')}`.trim() : 'server';
  return pass(title, `${server} supports ${versions.join(', ')}`);
}

/** What a tools/list check learned. */
export interface ToolsFinding {
  readonly row: Row;
  readonly tools?: readonly string[];
}

/**
 * `tools/list` as a client of the era sends it (a 2025-11-25 client initializes first): the
 * tools the credential may use.
 * @param modernTools the 2026-07-28 list, to compare: both eras must list the same tools
 */
export async function checkToolsList(
  mcp: McpWire,
  credential: string,
  era: Era,
  modernTools?: readonly string[],
): Promise<ToolsFinding> {
  const title = era === 'modern' ? CHECK_TITLES.toolsListModern : CHECK_TITLES.toolsListLegacy;
  if (era === 'legacy') {
    const init = await mcp.post(
      { era, method: 'initialize', params: legacyInitializeParams(), id: 1 },
      credential,
    );
    const initialized = resultOf(title, init, 1, 'initialize');
    if ('row' in initialized) return { row: initialized.row };
  }
  const exchange = await mcp.post({ era, method: 'tools/list', id: 2 }, credential);
  const outcome = resultOf(title, exchange, 2, 'tools/list');
  if ('row' in outcome) return { row: outcome.row };
  const tools = toolNames(outcome.result);
  if (tools === undefined) {
    return {
      row: fail(
        title,
        `the result has no tools array: ${describeAnswer(exchange)}`,
        logHint(exchange),
      ),
    };
  }
  if (modernTools !== undefined) {
    const differ = [
      ...tools.filter((name) => !modernTools.includes(name)),
      ...modernTools.filter((name) => !tools.includes(name)),
    ];
    if (differ.length > 0) {
      return {
        tools,
        row: fail(
          title,
          `lists ${someNames(tools)}; ${MODERN_REVISION} lists ${someNames(modernTools)}`,
          'Both eras must filter the list by one policy: the same credential must see the same tools',
        ),
      };
    }
  }
  const note = tools.length === 0 ? ' (the credential’s roles grant no tool)' : '';
  return { tools, row: pass(title, `${tools.length} tool(s): ${someNames(tools)}${note}`) };
}

/** Source lines or paths in an error: what a stack trace leaves behind. */
const STACK_TRACE = [
  /\bat\s+\S[^\n"]*?:\d+:\d+/,
  /\/var\/task\//,
  /node_modules\//,
  /\.(?:ts|js|mjs|cjs):\d+/,
];

/**
 * A call the server must refuse (a tool that does not exist): a JSON-RPC error, with nothing
 * of the server's insides in it.
 */
export async function checkDeniedCall(
  mcp: McpWire,
  credential: string,
  toolName: string,
): Promise<Row> {
  const title = CHECK_TITLES.deniedCall;
  const exchange = await mcp.post(toolCall(toolName, 3), credential);
  const refused = credentialRefused(title, `tools/call ${toolName}`, exchange);
  if (refused !== undefined) return refused;
  const leak = STACK_TRACE.find((pattern) => pattern.test(exchange.text));
  if (leak !== undefined) {
    return fail(
      title,
      `the refusal of ${toolName} shows the server’s insides (${leak.exec(exchange.text)?.[0]})`,
      'Answer errors with a message and the request id, never a stack trace or a path: log those instead',
    );
  }
  if (exchange.status >= 500) {
    return fail(
      title,
      `tools/call ${toolName} got ${describeAnswer(exchange)}`,
      'An unknown tool is the caller’s mistake, not a server error: answer it with a JSON-RPC error (-32602)',
    );
  }
  const error = answerTo(exchange, 3)?.message.error;
  if (error === undefined) {
    return fail(
      title,
      `tools/call ${toolName} got ${describeAnswer(exchange)}, not a JSON-RPC error`,
      'Refuse a tool that does not exist (or is not listed for the caller) with a JSON-RPC error before any tool code runs',
    );
  }
  return pass(
    title,
    `tools/call ${toolName}: JSON-RPC ${error.code} "${error.message}", no stack trace`,
  );
}

/** Try at most this many tools for a step-up answer. */
const MOST_STEP_UP_CANDIDATES = 5;

/**
 * With a token narrowed to fewer scopes than its roles grant: a 2026-07-28 call of a tool the
 * credential lists but the narrow token does not gets `403` with a `WWW-Authenticate`
 * `insufficient_scope` challenge naming `scope` and `resource_metadata`, under that name (a
 * function's own challenge arrives renamed and is lost).
 */
export async function checkStepUp(
  mcp: McpWire,
  narrowCredential: string | undefined,
  listedTools: readonly string[] | undefined,
): Promise<Row> {
  const title = CHECK_TITLES.stepUp;
  if (narrowCredential === undefined) {
    return skip(
      title,
      'not checked: set MCP_VERIFY_NARROW_TOKEN to an access token narrowed to fewer permission scopes than its roles grant',
    );
  }
  if (listedTools === undefined) return skip(title, 'not checked: tools/list failed');
  const narrow = await mcp.post({ era: 'modern', method: 'tools/list', id: 4 }, narrowCredential);
  const narrowTools = toolNames(answerTo(narrow, 4)?.message.result);
  if (narrowTools === undefined) {
    return fail(
      title,
      `tools/list with the narrow token got ${describeAnswer(narrow)}`,
      'MCP_VERIFY_NARROW_TOKEN must be a valid access token for this deployment',
    );
  }
  const candidates = listedTools.filter((name) => !narrowTools.includes(name));
  if (candidates.length === 0) {
    return skip(
      title,
      'not checked: the narrow token lists every tool MCP_VERIFY_TOKEN does; narrow it to fewer scopes',
    );
  }
  const roleRefusals: string[] = [];
  for (const tool of candidates.slice(0, MOST_STEP_UP_CANDIDATES)) {
    const exchange = await mcp.post(toolCall(tool, 5), narrowCredential);
    const challenge = exchange.headers.get('www-authenticate');
    const remapped = exchange.headers.get(REMAPPED_CHALLENGE);
    if (exchange.status === 403 && challenge !== null) {
      const params = challengeOf(exchange);
      const missing = [
        params.error === 'insufficient_scope' ? undefined : 'error="insufficient_scope"',
        params.scope === undefined ? 'scope' : undefined,
        params.resourceMetadataUrl === undefined ? 'resource_metadata' : undefined,
      ].filter((item) => item !== undefined);
      if (missing.length > 0) {
        return fail(
          title,
          `${tool}: 403 with WWW-Authenticate: ${challenge} (lacks ${missing.join(', ')})`,
          'The ACCESS_DENIED gateway response must carry Bearer error="insufficient_scope", scope="…", resource_metadata="…"',
        );
      }
      return pass(
        title,
        `${tool}: 403 WWW-Authenticate insufficient_scope, scope="${params.scope}", resource_metadata=${params.resourceMetadataUrl?.href}`,
      );
    }
    if (remapped !== null) {
      return fail(
        title,
        `${tool}: ${exchange.status}, the challenge arrived as x-amzn-Remapped-WWW-Authenticate, which no client reads`,
        'The challenge came from the MCP function and API Gateway renamed it: deploy with -c gatewayStepUp=true and -c authorizerCacheTtlSeconds=0 (the defaults) so the authorizer answers through the ACCESS_DENIED gateway response',
      );
    }
    const refused = credentialRefused(title, tool, exchange, 'MCP_VERIFY_NARROW_TOKEN');
    if (refused !== undefined) return refused;
    const answer = answerTo(exchange, 5)?.message;
    const data = answer?.error?.data as { requiredScopes?: unknown } | undefined;
    if (data?.requiredScopes !== undefined) {
      // The MCP function answered: its own 403 challenge would arrive renamed, so it names the
      // scopes in a JSON-RPC error instead, which no client acts on by itself.
      return fail(
        title,
        `gateway step-up is off: ${tool} got JSON-RPC ${answer?.error?.code} naming requiredScopes, no 403 insufficient_scope challenge, so MCP clients will not ask for the scope on their own`,
        'Deploy with -c gatewayStepUp=true (the default; it needs -c authorizerCacheTtlSeconds=0 and early deny off) so the authorizer answers through the ACCESS_DENIED gateway response, or tell people which scopes to ask for',
      );
    }
    if (answer?.result !== undefined) {
      return fail(
        title,
        `${tool}, which the narrow token's tools/list leaves out, was not refused: ${describeAnswer(exchange)}`,
        'List filtering and call enforcement disagree: both must read one policy (lambda/shared/policy.ts)',
      );
    }
    if (answer?.error === undefined && exchange.status !== 403) {
      return fail(
        title,
        `${tool} with the narrow token got ${describeAnswer(exchange)}`,
        logHint(exchange),
      );
    }
    // Refused for the narrow token's roles, not its scopes: no token could fix that.
    roleRefusals.push(tool);
  }
  return skip(
    title,
    `not checked: ${someNames(roleRefusals)} refused for the narrow token's roles, not its scopes; use a narrow token of the same roles as MCP_VERIFY_TOKEN`,
  );
}

/** Notifications of both eras: 202 Accepted with an empty body. */
export async function checkNotifications(mcp: McpWire, credential: string): Promise<Row> {
  const title = CHECK_TITLES.notification;
  const sent = [
    { era: 'legacy' as const, method: 'notifications/initialized' },
    { era: 'modern' as const, method: 'notifications/cancelled', params: { requestId: 1 } },
  ];
  for (const notification of sent) {
    const exchange = await mcp.post(notification, credential);
    const refused = credentialRefused(title, notification.method, exchange);
    if (refused !== undefined) return refused;
    if (exchange.status !== 202 || exchange.text !== '') {
      return fail(
        title,
        `${notification.method} (${notification.era === 'modern' ? MODERN_REVISION : LEGACY_REVISION}) got ${describeAnswer(exchange)}`,
        'A notification is answered 202 with no body; check that nothing in front of the function rewrites empty answers',
      );
    }
  }
  return pass(title, `${sent.map((n) => n.method).join(' and ')}: 202, empty body`);
}

// ---------------------------------------------------------------------------------------------
// Streaming
// ---------------------------------------------------------------------------------------------

/** The diagnostics tool `checkProgress` calls (`modules/diagnostics`). */
export const STREAM_CHECK_TOOL = 'stream_check';

/**
 * How long a progress report takes to reach the client: `stream_check` sends one, waits, and
 * answers with both send times on the server's clock. Held = (server's gap between the two
 * sends) − (client's gap between the two arrivals): no two clocks are compared. Streamed live,
 * the report arrives about the wait before the answer; buffered anywhere on the way, with it.
 */
export async function checkProgress(
  mcp: McpWire,
  credential: string,
  listedTools: readonly string[] | undefined,
  waitSeconds: number,
): Promise<Row> {
  const title = CHECK_TITLES.progress;
  if (listedTools === undefined) return skip(title, 'not checked: tools/list failed');
  if (!listedTools.includes(STREAM_CHECK_TOOL)) {
    return skip(
      title,
      `not checked: ${STREAM_CHECK_TOOL} is not listed for this credential. Serve modules/diagnostics (in modules/index.ts, diagnostics: null in modules/infra.ts, the diagnostics permission for a role in modules/roles.ts) and redeploy`,
    );
  }
  const progressToken = `verify-${Date.now().toString(36)}`;
  const exchange = await mcp.post(
    toolCall(STREAM_CHECK_TOOL, 6, { seconds: waitSeconds }, progressToken),
    credential,
  );
  const answer = answerTo(exchange, 6);
  const result = answer?.message.result;
  if (answer === undefined || result === undefined || result.isError === true) {
    return fail(
      title,
      `${STREAM_CHECK_TOOL} got ${answer?.message.error === undefined ? describeAnswer(exchange) : `JSON-RPC error ${answer.message.error.code}: ${answer.message.error.message}`}`,
      logHint(exchange),
    );
  }
  const progress = exchange.messages.find(
    ({ message }) =>
      message.method === 'notifications/progress' &&
      message.params?.progressToken === progressToken,
  );
  if (progress === undefined) {
    return fail(
      title,
      `no progress notification arrived (the answer was ${exchange.headers.get('content-type') ?? 'untyped'})`,
      'A call with a progress token must be answered as text/event-stream with its progress: check the handler’s response mode',
    );
  }
  const sent = result.structuredContent as
    | { progress_sent_at?: unknown; answered_at?: unknown }
    | undefined;
  const serverGap =
    typeof sent?.progress_sent_at === 'string' && typeof sent.answered_at === 'string'
      ? Date.parse(sent.answered_at) - Date.parse(sent.progress_sent_at)
      : waitSeconds * 1000;
  const clientGap = answer.at - progress.at;
  const held = Math.max(0, serverGap - clientGap);
  if (held > serverGap / 2) {
    return fail(
      title,
      `progress arrived ${seconds(clientGap)} before the answer, held ≈ ${seconds(held)} on the way: buffered`,
      'Clients see no progress until the end: check that /mcp’s integration streams (responseTransferMode STREAM) and that nothing in front of API Gateway buffers text/event-stream',
    );
  }
  return pass(
    title,
    `progress arrived ${seconds(clientGap)} before the answer (sent ${seconds(serverGap)} apart), held ≈ ${seconds(held)}: streamed live`,
  );
}

// ---------------------------------------------------------------------------------------------
// Browsers and clients that build URLs themselves
// ---------------------------------------------------------------------------------------------

/**
 * The root well-known URLs of RFC 9728 and RFC 8414 (`<origin>/.well-known/…/<path>`), which
 * some clients build themselves instead of following `resource_metadata`. On an execute-api
 * URL everything lives under the stage, so they cannot be served there: not applicable, but
 * said, because those clients need a custom domain mapped at the root.
 */
export async function checkRootWellKnown(
  wire: Wire,
  target: Target,
  issuer: string | undefined,
): Promise<Row> {
  const title = CHECK_TITLES.rootWellKnown;
  const mcp = new URL(target.mcpUrl);
  const server = new URL(issuer ?? target.baseUrl);
  const serverPath = server.pathname.replace(/\/$/, '');
  const urls = [
    `${mcp.origin}${PROTECTED_RESOURCE_WELL_KNOWN}${mcp.pathname}`,
    `${server.origin}${AUTHORIZATION_SERVER_WELL_KNOWN}${serverPath}`,
  ];
  const answers = await Promise.all(
    urls.map(async (url) => ({ url, ...(await wire.getJson(url)) })),
  );
  const missing = answers.filter(({ document }) => document === undefined);
  if (missing.length === 0) return pass(title, `${urls.join(' and ')} answer 200`);
  const notServed = missing.map(({ url, exchange }) => `${url} ${exchange.status}`).join(', ');
  const underPath = new URL(target.baseUrl).pathname !== '/';
  const clients =
    'clients that build the root URLs instead of following resource_metadata (unpatched mcp-remote, claude.ai connectors) need a custom domain mapped at the root (-c customDomainName, -c customDomainCertificateArn)';
  if (underPath && missing.length === answers.length) {
    const where = /\.execute-api\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/.test(mcp.hostname)
      ? 'an execute-api URL'
      : `a URL under ${new URL(target.baseUrl).pathname}`;
    return skip(title, `not served on ${where} (${notServed}): ${clients}`);
  }
  return fail(
    title,
    `not served: ${notServed}`,
    underPath
      ? `Serve both or neither; ${clients}`
      : 'Map the custom domain at its root (empty base path), as -c customDomainName does',
  );
}

/** An origin no deployment allows (`.invalid` never resolves, RFC 6761). */
export const UNLISTED_ORIGIN = 'https://mcp-verify.invalid';

/**
 * The preflight a browser sends before its first POST to /mcp, from each allowed origin: the
 * origin echoed, POST and the MCP headers allowed; an unlisted origin not echoed.
 */
export async function checkCors(
  wire: Wire,
  target: Target,
  origins: readonly string[],
): Promise<Row> {
  const title = CHECK_TITLES.cors;
  if (origins.length === 0) {
    return skip(
      title,
      'not checked: set MCP_VERIFY_ORIGINS to the browser origins the deployment allows (-c allowedOrigins)',
    );
  }
  const preflight = (origin: string) =>
    wire.send(target.mcpUrl, {
      method: 'OPTIONS',
      headers: {
        Origin: origin,
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': MCP_CORS_ALLOW_HEADERS.join(', ').toLowerCase(),
      },
    });
  const fix =
    'List the origin in -c allowedOrigins (exactly as the browser sends it: scheme, host, port) and redeploy';
  for (const origin of origins) {
    const answer = await preflight(origin);
    const allowOrigin = answer.headers.get('access-control-allow-origin');
    if (answer.status >= 300 || allowOrigin !== origin) {
      return fail(
        title,
        `preflight from ${origin}: HTTP ${answer.status}, Access-Control-Allow-Origin ${allowOrigin ?? 'absent'}`,
        fix,
      );
    }
    const allowed = (answer.headers.get('access-control-allow-headers') ?? '')
      .split(',')
      .map((header) => header.trim().toLowerCase());
    const refused = MCP_CORS_ALLOW_HEADERS.filter(
      (header) => !allowed.includes(header.toLowerCase()),
    );
    const methods = (answer.headers.get('access-control-allow-methods') ?? '').toUpperCase();
    if (refused.length > 0 || !/\bPOST\b/.test(methods)) {
      return fail(
        title,
        `preflight from ${origin} does not allow ${[...refused, ...(/\bPOST\b/.test(methods) ? [] : ['POST'])].join(', ')}`,
        'The /mcp preflight must allow POST and the headers MCP clients send (Authorization, Mcp-Protocol-Version, Mcp-Method, Mcp-Name, …); McpApi sets them',
      );
    }
  }
  const stranger = await preflight(UNLISTED_ORIGIN);
  const echoed = stranger.headers.get('access-control-allow-origin');
  if (echoed === UNLISTED_ORIGIN || echoed === '*') {
    return fail(
      title,
      `an unlisted origin (${UNLISTED_ORIGIN}) is allowed: Access-Control-Allow-Origin ${echoed}`,
      'Allow only the listed origins: a page on any site could otherwise call /mcp with a credential it holds',
    );
  }
  return pass(
    title,
    `${origins.join(', ')} allowed with the MCP headers; an unlisted origin is not`,
  );
}
