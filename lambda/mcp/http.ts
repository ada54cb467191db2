/**
 * The HTTP edge of the MCP handler: API Gateway REST proxy events in and out, and the checks
 * that must answer before the MCP transport is touched. Pure functions.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { mcpResponseCorsHeaders } from '../shared/cors';
import { getHeader, headerValues } from '../shared/headers';
import { MCP_PATH } from '../shared/routes';

/** JSON-RPC error codes used at the HTTP edge. */
export const JSONRPC = {
  parseError: -32700,
  invalidRequest: -32600,
  invalidParams: -32602,
  internalError: -32603,
  /** Server-defined: the request was refused before reaching MCP. */
  refused: -32000,
} as const;

/** A complete HTTP answer whose body is a JSON-RPC error with `id: null`. */
export function jsonRpcError(
  statusCode: number,
  code: number,
  message: string,
  headers: Record<string, string> = {},
): APIGatewayProxyResult {
  return {
    statusCode,
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }),
  };
}

export interface EdgeConfig {
  readonly allowedOrigins: readonly string[];
  readonly maxBodyBytes: number;
}

/** The outcome of the edge checks: an early answer, or the body parsed for the transport. */
export type EdgeResult =
  | { readonly ok: false; readonly response: APIGatewayProxyResult }
  | { readonly ok: true; readonly body: string; readonly parsedBody: unknown };

/** Method and Origin: cheap checks that need no body. */
export function checkRequestLine(
  event: Pick<APIGatewayProxyEvent, 'httpMethod' | 'headers' | 'multiValueHeaders'>,
  config: EdgeConfig,
): APIGatewayProxyResult | undefined {
  // Stateless: no SSE stream on GET (it would hang a buffered Lambda), no session to DELETE.
  if (event.httpMethod !== 'POST') {
    return jsonRpcError(405, JSONRPC.refused, 'Method not allowed: use POST', { Allow: 'POST' });
  }
  // DNS-rebinding defence: a browser page from an origin we do not know may not call us.
  const origin = getHeader(event, 'origin');
  if (origin !== undefined && !config.allowedOrigins.includes(origin)) {
    return jsonRpcError(403, JSONRPC.refused, 'Forbidden: origin not allowed');
  }
  return undefined;
}

/**
 * CORS response headers for a browser caller whose Origin is allowed; nothing otherwise (and
 * nothing at all when no origin is configured). Preflights are answered by API Gateway.
 */
export function corsHeaders(
  event: Pick<APIGatewayProxyEvent, 'headers' | 'multiValueHeaders'>,
  config: EdgeConfig,
): Record<string, string> {
  const origin = getHeader(event, 'origin');
  if (origin === undefined || !config.allowedOrigins.includes(origin)) return {};
  return mcpResponseCorsHeaders(origin);
}

/**
 * Deepest JSON nesting accepted. Tool arguments need a handful of levels; deeper bodies only
 * serve to exhaust the stack of whatever walks them (the SDK's validation, the audit digest).
 */
export const MAX_JSON_DEPTH = 32;

/** Nesting depth of a parsed JSON value, walked iteratively. */
export function jsonDepth(value: unknown): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop() as [unknown, number];
    if (current === null || typeof current !== 'object') continue;
    deepest = Math.max(deepest, depth);
    if (deepest > MAX_JSON_DEPTH) return deepest;
    for (const child of Object.values(current)) stack.push([child, depth + 1]);
  }
  return deepest;
}

/** Size, JSON syntax and the JSON-RPC shape of the body. */
export function checkBody(
  event: Pick<APIGatewayProxyEvent, 'body' | 'isBase64Encoded'>,
  config: EdgeConfig,
): EdgeResult {
  const raw = event.body ?? '';
  const bytes = event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
  if (bytes.byteLength > config.maxBodyBytes) {
    return {
      ok: false,
      response: jsonRpcError(
        413,
        JSONRPC.invalidRequest,
        `Request body exceeds ${config.maxBodyBytes} bytes`,
      ),
    };
  }
  const body = bytes.toString('utf8');
  let parsedBody: unknown;
  try {
    parsedBody = JSON.parse(body);
  } catch {
    return {
      ok: false,
      response: jsonRpcError(400, JSONRPC.parseError, 'Parse error: body is not valid JSON'),
    };
  }
  // JSON-RPC batching was removed from MCP in 2025-06-18.
  if (Array.isArray(parsedBody)) {
    return {
      ok: false,
      response: jsonRpcError(
        400,
        JSONRPC.invalidRequest,
        'Invalid Request: JSON-RPC batches are not supported',
      ),
    };
  }
  if (typeof parsedBody !== 'object' || parsedBody === null) {
    return {
      ok: false,
      response: jsonRpcError(
        400,
        JSONRPC.invalidRequest,
        'Invalid Request: expected a JSON-RPC object',
      ),
    };
  }
  const { jsonrpc, id } = parsedBody as { jsonrpc?: unknown; id?: unknown };
  if (jsonrpc !== '2.0') {
    return {
      ok: false,
      response: jsonRpcError(400, JSONRPC.invalidRequest, 'Invalid Request: jsonrpc must be "2.0"'),
    };
  }
  if (id !== undefined && id !== null && typeof id !== 'string' && typeof id !== 'number') {
    return {
      ok: false,
      response: jsonRpcError(
        400,
        JSONRPC.invalidRequest,
        'Invalid Request: id must be a string or a number',
      ),
    };
  }
  if (jsonDepth(parsedBody) > MAX_JSON_DEPTH) {
    return {
      ok: false,
      response: jsonRpcError(
        400,
        JSONRPC.invalidRequest,
        `Invalid Request: JSON nested deeper than ${MAX_JSON_DEPTH} levels`,
      ),
    };
  }
  return { ok: true, body, parsedBody };
}

/**
 * The headers the MCP transport reads. Nothing else is passed on: not the Authorization header
 * (the credential stops at the authorizer), and no odd header a Web `Headers` would reject.
 */
const TRANSPORT_HEADERS = ['accept', 'content-type', 'mcp-protocol-version'] as const;

/** Turn the proxy event into the Web `Request` the MCP transport consumes. */
export function toWebRequest(event: APIGatewayProxyEvent, body: string): Request {
  const headers = new Headers();
  for (const name of TRANSPORT_HEADERS) {
    const values = headerValues(event, name);
    if (values.length > 0) headers.set(name, values.join(', '));
  }
  // A fixed origin: the transport does not route by host, and the Host header is the client's.
  return new Request(`https://mcp.lambda.internal${MCP_PATH}`, {
    method: event.httpMethod,
    headers,
    body,
  });
}

/**
 * A `tools/call` whose params the SDK would reject before our handler runs: answered here, so
 * the answer is a clean -32602 and the attempt is still audited.
 */
export interface MalformedToolCall {
  readonly name: string;
  readonly args: unknown;
  readonly response: APIGatewayProxyResult;
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export function checkToolCallParams(parsedBody: unknown): MalformedToolCall | undefined {
  if (!isPlainObject(parsedBody) || parsedBody.method !== 'tools/call') return undefined;
  const { id, params } = parsedBody;
  let problem: string | undefined;
  if (!isPlainObject(params)) problem = 'params must be an object';
  else if (typeof params.name !== 'string') problem = 'params.name must be a string';
  else if (params.arguments !== undefined && !isPlainObject(params.arguments)) {
    problem = 'params.arguments must be an object';
  }
  if (problem === undefined) return undefined;
  const name = isPlainObject(params) && typeof params.name === 'string' ? params.name : '';
  return {
    name,
    args: isPlainObject(params) ? params.arguments : undefined,
    response: {
      statusCode: 200,
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: typeof id === 'string' || typeof id === 'number' ? id : null,
        error: { code: JSONRPC.invalidParams, message: `Invalid params: ${problem}` },
      }),
    },
  };
}

/**
 * The SDK reports some failures as -32603 with internal detail (validator output) in the
 * message; the caller gets a generic message instead.
 */
export function redactInternalErrors(body: string): string {
  if (!body.includes(String(JSONRPC.internalError))) return body;
  try {
    const message = JSON.parse(body) as Record<string, unknown> & { error?: { code?: unknown } };
    if (message.error?.code !== JSONRPC.internalError) return body;
    return JSON.stringify({
      ...message,
      error: { code: JSONRPC.internalError, message: 'Internal error' },
    });
  } catch {
    return body;
  }
}

/** Turn the transport's Web `Response` into a proxy result (the body is buffered). */
export async function toProxyResult(response: Response): Promise<APIGatewayProxyResult> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    headers[name] = value;
  });
  return { statusCode: response.status, headers, body: await response.text() };
}
