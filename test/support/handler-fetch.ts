/**
 * The MCP handler behind a `fetch`, for a real MCP SDK client in the same process: each request
 * becomes the API Gateway REST proxy event the gateway would send (the authorizer context of
 * the caller included), each answer a web `Response`, streamed answers streamed. No network.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { McpHandler } from '../../lambda/mcp/handler';
import { type Principal, toAuthorizerContext } from '../../lambda/shared/principal';

/** A `fetch` answering every request with `handler`, as if `caller()` had been authorized. */
export function handlerFetch(
  handler: McpHandler,
  caller: () => Principal,
): (input: string | URL | Request, init?: RequestInit) => Promise<Response> {
  return async (input, init) => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    const headers = Object.fromEntries(request.headers.entries());
    const body = request.method === 'GET' ? null : await request.text();
    const event = {
      resource: '/mcp',
      path: url.pathname,
      httpMethod: request.method,
      headers,
      multiValueHeaders: Object.fromEntries(
        Object.entries(headers).map(([name, value]) => [name, [value]]),
      ),
      queryStringParameters: null,
      multiValueQueryStringParameters: null,
      pathParameters: null,
      stageVariables: null,
      requestContext: {
        authorizer: { ...toAuthorizerContext(caller()), integrationLatency: 1 },
        httpMethod: request.method,
        path: `/prod${url.pathname}`,
        stage: 'prod',
        requestId: crypto.randomUUID(),
        identity: { sourceIp: '203.0.113.9' },
      },
      body,
      isBase64Encoded: false,
    } as unknown as APIGatewayProxyEvent;
    const answer = await handler(event);
    return new Response(answer.body === '' ? null : answer.body, {
      status: answer.statusCode,
      headers: answer.headers,
    });
  };
}
