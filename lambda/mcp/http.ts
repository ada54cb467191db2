/**
 * The HTTP edge of the MCP handler: API Gateway REST proxy events in and out, and the checks
 * that must answer before the MCP transport is touched. Pure functions.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';

/** JSON-RPC error codes used at the HTTP edge. */
export const JSONRPC = {
  parseError: -32700,
  invalidRequest: -32600,
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

/** A header's value, whatever the case of its name (API Gateway keeps the client's case). */
export function getHeader(
  event: Pick<APIGatewayProxyEvent, 'headers' | 'multiValueHeaders'>,
  name: string,
) {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(event.headers ?? {})) {
    if (key.toLowerCase() === wanted && value !== undefined) return value;
  }
  for (const [key, values] of Object.entries(event.multiValueHeaders ?? {})) {
    if (key.toLowerCase() === wanted && values?.[0] !== undefined) return values[0];
  }
  return undefined;
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
  return {
    'Access-Control-Allow-Origin': origin,
    'Access-Control-Expose-Headers': 'Mcp-Protocol-Version, WWW-Authenticate',
    Vary: 'Origin',
  };
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
  return { ok: true, body, parsedBody };
}

/** Turn the proxy event into the Web `Request` the MCP transport consumes. */
export function toWebRequest(event: APIGatewayProxyEvent, body: string): Request {
  // API Gateway fills both maps; multiValueHeaders has every value, headers only the last.
  const headers = new Headers();
  for (const [name, values] of Object.entries(event.multiValueHeaders ?? {})) {
    for (const value of values ?? []) headers.append(name, value);
  }
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (value !== undefined && !headers.has(name)) headers.set(name, value);
  }
  const host = headers.get('host') ?? 'localhost';
  const query = new URLSearchParams();
  for (const [name, values] of Object.entries(event.multiValueQueryStringParameters ?? {})) {
    for (const value of values ?? []) query.append(name, value);
  }
  const search = query.size > 0 ? `?${query}` : '';
  return new Request(`https://${host}${event.path}${search}`, {
    method: event.httpMethod,
    headers,
    body,
  });
}

/** Turn the transport's Web `Response` into a proxy result (the body is buffered). */
export async function toProxyResult(response: Response): Promise<APIGatewayProxyResult> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    headers[name] = value;
  });
  return { statusCode: response.status, headers, body: await response.text() };
}
