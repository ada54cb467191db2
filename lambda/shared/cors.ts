/**
 * What browser-based MCP clients (MCP Inspector's web UI, an agent in a page) need from CORS:
 * one list each, used by the CDK stack (API Gateway preflights and responses) and by the local
 * gateway, so both answer a browser the same way.
 */
import { isLoopbackHost } from './client-registration';

/**
 * Request headers a browser client sends to `/mcp`, which its preflight must allow. Only for
 * the allowed origins: these requests carry the caller's credential.
 */
export const MCP_CORS_ALLOW_HEADERS = [
  'Authorization',
  'Content-Type',
  'Accept',
  'Mcp-Protocol-Version',
  'Mcp-Method',
  'Mcp-Name',
] as const;

/** Response headers of `/mcp` a browser client must be able to read. */
export const MCP_CORS_EXPOSE_HEADERS = [
  'Mcp-Protocol-Version',
  'WWW-Authenticate',
  // A quota's refusal (429) and a dependency's (503): when to try again.
  'Retry-After',
  'RateLimit-Limit',
  'RateLimit-Remaining',
] as const;

/**
 * Request headers a browser client sends to the public OAuth endpoints (discovery documents,
 * registration, token): the MCP SDK adds `MCP-Protocol-Version` to its discovery requests,
 * which makes the browser send a preflight first.
 */
export const PUBLIC_CORS_ALLOW_HEADERS = ['Content-Type', 'MCP-Protocol-Version'] as const;

/** How long a browser may cache a preflight answer. */
export const CORS_MAX_AGE_SECONDS = 3600;

/**
 * Headers on every answer of a public OAuth endpoint: any origin may read it. They hold no
 * secret a page could not have obtained itself (a token answer goes to whoever presented the
 * code and its PKCE verifier), and the requests carry no cookie or ambient credential.
 */
export const PUBLIC_CORS_HEADERS: Readonly<Record<string, string>> = {
  'Access-Control-Allow-Origin': '*',
};

/** The answer to a preflight on a public OAuth endpoint. */
export function publicPreflightHeaders(methods: readonly string[]): Record<string, string> {
  return {
    ...PUBLIC_CORS_HEADERS,
    'Access-Control-Allow-Methods': methods.join(', '),
    'Access-Control-Allow-Headers': PUBLIC_CORS_ALLOW_HEADERS.join(', '),
    'Access-Control-Max-Age': String(CORS_MAX_AGE_SECONDS),
  };
}

/** The answer to a preflight on `/mcp` from an allowed origin. */
export function mcpPreflightHeaders(origin: string): Record<string, string> {
  return {
    'Access-Control-Allow-Origin': origin,
    'Access-Control-Allow-Methods': 'POST',
    'Access-Control-Allow-Headers': MCP_CORS_ALLOW_HEADERS.join(', '),
    'Access-Control-Max-Age': String(CORS_MAX_AGE_SECONDS),
    Vary: 'Origin',
  };
}

/** CORS headers on an `/mcp` answer to an allowed origin. */
export function mcpResponseCorsHeaders(origin: string): Record<string, string> {
  return {
    'Access-Control-Allow-Origin': origin,
    'Access-Control-Expose-Headers': MCP_CORS_EXPOSE_HEADERS.join(', '),
    Vary: 'Origin',
  };
}

/**
 * What is wrong with an origin a deployment or the local server is told to allow, or
 * `undefined`. It must be `scheme://host[:port]` in the one form a URL parser writes, since it
 * is compared character for character with the browser's `Origin` (`https://app.example/` or
 * `HTTPS://App.example` would never match), and https unless on loopback: a page served over
 * plain http from another host can be altered on the way, so it may not hold a credential.
 */
export function allowedOriginProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'is not a URL';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must be http or https';
  if (url.origin !== value) return `must be an origin as a browser sends it: ${url.origin}`;
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    return 'must use https (plain http only on a loopback host)';
  }
  return undefined;
}
