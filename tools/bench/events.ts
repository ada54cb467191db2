/**
 * The API Gateway events the bench feeds the handlers, shaped as API Gateway (REST) sends them:
 * one builder each, shared by the warm path, the cold-init runs and the Express comparison so
 * every design answers the very same request. Both protocol eras: the 2025-era requests a v1
 * client sends (their answers SSE-framed), and the 2026-07-28 ones (per-request `_meta`
 * envelope, `Mcp-Method`/`Mcp-Name` headers, JSON answers). Also how the bench reads an
 * answer of either framing.
 */
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import type { APIGatewayProxyEvent, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { parseMessage } from '../../lambda/mcp/response';
import { type Principal, toAuthorizerContext } from '../../lambda/shared/principal';
import { MCP_PATH } from '../../lambda/shared/routes';
import { LOCAL_SCOPE } from '../local/identity';

export const BENCH_METHOD_ARN = `arn:aws:execute-api:us-east-1:123456789012:api/prod/POST${MCP_PATH}`;

/** The REQUEST authorizer's event for POST /mcp with a bearer credential. */
export function authorizerEvent(credential: string): APIGatewayRequestAuthorizerEvent {
  return {
    type: 'REQUEST',
    methodArn: BENCH_METHOD_ARN,
    headers: { Authorization: `Bearer ${credential}` },
    requestContext: { requestId: 'bench', identity: { sourceIp: '127.0.0.1' } },
  } as unknown as APIGatewayRequestAuthorizerEvent;
}

/** The protocol revision of the 2025-era requests (what a v1 SDK client speaks). */
export const LEGACY_PROTOCOL_VERSION = LATEST_PROTOCOL_VERSION;
/** The protocol revision of the per-request (modern) era. */
export const MODERN_PROTOCOL_VERSION = '2026-07-28';

/**
 * A REST proxy event for POST /mcp as API Gateway sends it after an Allow: a 2025-era request,
 * unless `extraHeaders` says otherwise (see {@link modernMcpEvent}).
 */
export function mcpEvent(
  principal: Principal,
  body: unknown,
  extraHeaders: Readonly<Record<string, string>> = {},
): APIGatewayProxyEvent {
  const headers: Record<string, string> = {
    Host: 'mcp.bench.invalid',
    'Content-Type': 'application/json',
    Accept: 'application/json, text/event-stream',
    'MCP-Protocol-Version': LEGACY_PROTOCOL_VERSION,
    ...extraHeaders,
  };
  return {
    resource: MCP_PATH,
    path: MCP_PATH,
    httpMethod: 'POST',
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    requestContext: {
      authorizer: toAuthorizerContext(principal),
      httpMethod: 'POST',
      identity: { sourceIp: '127.0.0.1' },
      path: `/prod${MCP_PATH}`,
      stage: 'prod',
      requestId: 'bench',
      resourcePath: MCP_PATH,
    },
    body: JSON.stringify(body),
    isBase64Encoded: false,
  } as unknown as APIGatewayProxyEvent;
}

/** An analyst signed in with Cognito, as the authorizer would describe them for an hour. */
export function benchAnalyst(): Principal {
  return {
    principalId: 'bench-analyst',
    authMethod: 'cognito',
    groups: ['analyst'],
    scopes: [LOCAL_SCOPE],
    keyId: '',
    expiresAt: Math.floor(Date.now() / 1000) + 3600,
  };
}

export const INITIALIZE_REQUEST = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: {
    protocolVersion: LATEST_PROTOCOL_VERSION,
    capabilities: {},
    clientInfo: { name: 'mcp-bench', version: '0.0.0' },
  },
} as const;

export const TOOLS_LIST_REQUEST = { jsonrpc: '2.0', id: 2, method: 'tools/list' } as const;

/** The tools/call every design answers: one record by id, a DynamoDB GetItem behind it. */
export const GET_RECORD_CALL = {
  jsonrpc: '2.0',
  id: 3,
  method: 'tools/call',
  params: { name: 'get_record', arguments: { id: 'cust-0001' } },
} as const;

/** What a successful answer to {@link GET_RECORD_CALL} contains. */
export const GET_RECORD_FOUND = '"found":true';

/**
 * A tools/call the example module's argument rules judge (`analyst-page-limit` names
 * query_customer_data): a page of five retail records, which the rules allow an analyst.
 */
export const RULED_CALL = {
  jsonrpc: '2.0',
  id: 3,
  method: 'tools/call',
  params: { name: 'query_customer_data', arguments: { segment: 'retail', limit: 5 } },
} as const;

/** What a successful answer to {@link RULED_CALL} contains. */
export const RULED_CALL_ANSWERED = '"count":5';

/** The reserved `_meta` keys every 2026-07-28 request carries: its per-request envelope. */
export const MODERN_ENVELOPE = {
  'io.modelcontextprotocol/protocolVersion': MODERN_PROTOCOL_VERSION,
  'io.modelcontextprotocol/clientInfo': { name: 'mcp-bench', version: '0.0.0' },
  'io.modelcontextprotocol/clientCapabilities': {},
} as const;

interface JsonRpcRequest {
  readonly jsonrpc: '2.0';
  readonly id: number;
  readonly method: string;
  readonly params?: Readonly<Record<string, unknown>>;
}

/** `request` as a 2026-07-28 client sends it: the envelope in `params._meta`. */
export function withEnvelope<R extends JsonRpcRequest>(request: R) {
  const params = request.params ?? {};
  const meta = (params._meta ?? {}) as Record<string, unknown>;
  return { ...request, params: { ...params, _meta: { ...meta, ...MODERN_ENVELOPE } } };
}

/**
 * A 2026-07-28 request as API Gateway hands it on: `request` with its envelope, and the
 * headers the SDK checks against the body (`MCP-Protocol-Version`, `Mcp-Method` and, for a
 * tools/call or prompts/get, `Mcp-Name`).
 */
export function modernMcpEvent(principal: Principal, request: JsonRpcRequest) {
  const name = request.params?.name ?? request.params?.uri;
  return mcpEvent(principal, withEnvelope(request), {
    'MCP-Protocol-Version': MODERN_PROTOCOL_VERSION,
    'Mcp-Method': request.method,
    ...(typeof name === 'string' ? { 'Mcp-Name': name } : {}),
  });
}

/** What a 2026-07-28 client sends first: which revisions and capabilities the server has. */
export const SERVER_DISCOVER_REQUEST = {
  jsonrpc: '2.0',
  id: 1,
  method: 'server/discover',
} as const;

/**
 * The JSON-RPC answer in a body, framed either way: a JSON body (modern answers, the gate's
 * refusals), or SSE (`event: message` / `data: <message>` frames, how every 2025-era answer
 * comes), where it is the last frame that answers a request (notifications come before it).
 * `undefined` when the body holds no JSON-RPC answer.
 */
export function answerOf(body: string): Record<string, unknown> | undefined {
  const trimmed = body.trimStart();
  if (trimmed.startsWith('{')) return parseMessage(trimmed);
  let answer: Record<string, unknown> | undefined;
  for (const frame of body.split(/\r?\n\r?\n/)) {
    const data = frame
      .split(/\r?\n/)
      .filter((line) => line.startsWith('data:'))
      .map((line) => line.slice(5).replace(/^ /, ''));
    if (data.length === 0) continue;
    const message = parseMessage(data.join('\n'));
    if (message !== undefined && 'id' in message && ('result' in message || 'error' in message)) {
      answer = message;
    }
  }
  return answer;
}
