/**
 * The MCP handler behind a `fetch`, for a real MCP SDK client in the same process: each request
 * becomes the API Gateway REST proxy event the gateway would send (the authorizer context of
 * the caller included), each answer a web `Response`, streamed answers streamed. No network.
 */
import type { McpHandler } from '../../lambda/mcp/handler';
import type { Principal } from '../../lambda/shared/principal';
import { proxyEvent } from './apigw-events';

/** A `fetch` answering every request with `handler`, as if `caller()` had been authorized. */
export function handlerFetch(
  handler: McpHandler,
  caller: () => Principal,
): (input: string | URL | Request, init?: RequestInit) => Promise<Response> {
  return async (input, init) => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    const event = proxyEvent({
      method: request.method,
      path: url.pathname,
      resource: '/mcp',
      headers: Object.fromEntries(request.headers.entries()),
      body: request.method === 'GET' ? null : await request.text(),
      requestId: crypto.randomUUID(),
      caller: caller(),
    });
    const answer = await handler(event);
    return new Response(answer.body === '' ? null : answer.body, {
      status: answer.statusCode,
      headers: answer.headers,
    });
  };
}
