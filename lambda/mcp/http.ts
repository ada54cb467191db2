/**
 * The HTTP edge of the MCP handler: API Gateway REST proxy events in and out, and the checks
 * that must answer before the MCP transport is touched. Pure functions.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
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

/** A complete HTTP answer with a whole body. */
export interface EdgeAnswer {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** A complete HTTP answer whose body is a JSON-RPC error with `id: null`. */
export function jsonRpcError(
  statusCode: number,
  code: number,
  message: string,
  headers: Record<string, string> = {},
): EdgeAnswer {
  return {
    statusCode,
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }),
  };
}

export interface EdgeConfig {
  readonly allowedOrigins: readonly string[];
  readonly maxBodyBytes: number;
  /**
   * The `Host` names this server answers to (lower case, with a port if not the default);
   * empty or absent: any. In AWS: the API's execute-api name and its custom domain.
   */
  readonly allowedHosts?: readonly string[];
}

/** The outcome of the edge checks: an early answer, or the body parsed for the transport. */
export type EdgeResult =
  | { readonly ok: false; readonly response: EdgeAnswer }
  | { readonly ok: true; readonly body: string; readonly parsedBody: unknown };

/** Method and Origin: cheap checks that need no body. */
export function checkRequestLine(
  event: Pick<APIGatewayProxyEvent, 'httpMethod' | 'headers' | 'multiValueHeaders'>,
  config: EdgeConfig,
): EdgeAnswer | undefined {
  // Stateless: no SSE stream on GET (it would hang a buffered Lambda), no session to DELETE.
  if (event.httpMethod !== 'POST') {
    return jsonRpcError(405, JSONRPC.refused, 'Method not allowed: use POST', { Allow: 'POST' });
  }
  // Defence in depth behind API Gateway's own routing by name: only our own names.
  const allowedHosts = config.allowedHosts ?? [];
  if (allowedHosts.length > 0) {
    const host = getHeader(event, 'host')?.toLowerCase();
    if (host === undefined || !allowedHosts.includes(host)) {
      return jsonRpcError(403, JSONRPC.refused, 'Forbidden: this is not a name of this server');
    }
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
 * The headers the MCP transport reads: content negotiation, the protocol version and the
 * 2026-07-28 routing headers (`Mcp-Method`, `Mcp-Name`, `Mcp-Param-*`), which the SDK checks
 * against the body. Nothing else is passed on: not the Authorization header (the credential
 * stops at the authorizer), and no odd header a Web `Headers` would reject.
 */
const TRANSPORT_HEADERS = [
  'accept',
  'content-type',
  'mcp-protocol-version',
  'mcp-method',
  'mcp-name',
] as const;
const PARAM_HEADER = /^mcp-param-[a-z0-9-]{1,64}$/i;
/** What a header value may hold on its way into a Web `Headers` (visible ASCII, spaces, tabs). */
const HEADER_VALUE = /^[\t\x20-\x7e]*$/;

/** The request headers handed to the SDK. */
export function transportHeaders(
  event: Pick<APIGatewayProxyEvent, 'headers' | 'multiValueHeaders'>,
): Headers {
  const headers = new Headers();
  const names = new Set<string>(TRANSPORT_HEADERS);
  for (const name of [
    ...Object.keys(event.headers ?? {}),
    ...Object.keys(event.multiValueHeaders ?? {}),
  ]) {
    if (PARAM_HEADER.test(name)) names.add(name.toLowerCase());
  }
  for (const name of names) {
    const values = headerValues(event, name).filter((value) => HEADER_VALUE.test(value));
    if (values.length > 0) headers.set(name, values.join(', '));
  }
  return headers;
}

/** Turn the proxy event into the Web `Request` the MCP SDK consumes. */
export function toWebRequest(
  event: APIGatewayProxyEvent,
  body: string,
  signal?: AbortSignal,
): Request {
  // A fixed origin: the SDK does not route by host, and the Host header is the client's.
  return new Request(`https://mcp.lambda.internal${MCP_PATH}`, {
    method: event.httpMethod,
    headers: transportHeaders(event),
    body,
    ...(signal === undefined ? {} : { signal }),
  });
}

/**
 * On every MCP answer: nothing here may be cached (each answer is for one principal), and a
 * browser must never guess a type for it.
 */
export const HYGIENE_HEADERS: Readonly<Record<string, string>> = {
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
};

/** A JSON-RPC error answer to one request (HTTP 200: the request itself was well formed). */
export function jsonRpcErrorFor(
  id: unknown,
  code: number,
  message: string,
  data?: Record<string, unknown>,
): { statusCode: number; headers: Record<string, string>; body: string } {
  return {
    statusCode: 200,
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: typeof id === 'string' || (typeof id === 'number' && Number.isInteger(id)) ? id : null,
      error: { code, message, ...(data === undefined ? {} : { data }) },
    }),
  };
}
