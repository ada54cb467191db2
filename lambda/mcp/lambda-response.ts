/**
 * How the MCP handler's answer leaves the Lambda: with response streaming (API Gateway REST,
 * `responseTransferMode: STREAM`), so a tool's progress reaches the client while it runs. The
 * Lambda runtime provides `awslambda.streamifyResponse` and `awslambda.HttpResponseStream`;
 * they are passed in, so a stand-in can drive this in tests and local tools.
 */
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { withSourceMappedErrors } from '../shared/source-mapped-stack';
import type { McpHandler } from './handler';

/** What the Node.js Lambda runtime puts on `globalThis.awslambda`. */
export interface LambdaStreamingRuntime {
  streamifyResponse(
    handler: (
      event: APIGatewayProxyEvent,
      responseStream: Writable,
      context: Context,
    ) => Promise<void>,
  ): unknown;
  readonly HttpResponseStream: {
    from(
      responseStream: Writable,
      metadata: { statusCode: number; headers: Record<string, string> },
    ): Writable;
  };
}

/**
 * The streaming Lambda handler: status and headers first, then the body as it comes. A body
 * that fails mid-way has already been ended with a JSON-RPC error frame by the MCP handler.
 */
export function streamingHandler(handle: McpHandler, runtime: LambdaStreamingRuntime): unknown {
  // What escapes is logged by the runtime with its stack: mapped to source lines first.
  return runtime.streamifyResponse(
    withSourceMappedErrors(
      async (event: APIGatewayProxyEvent, responseStream: Writable, context: Context) => {
        const result = await handle(event, context);
        const out = runtime.HttpResponseStream.from(responseStream, {
          statusCode: result.statusCode,
          headers: result.headers,
        });
        const body =
          typeof result.body === 'string'
            ? Readable.from([Buffer.from(result.body, 'utf8')])
            : Readable.fromWeb(result.body as import('node:stream/web').ReadableStream<Uint8Array>);
        await pipeline(body, out);
      },
    ),
  );
}

/** A buffered Lambda handler: the whole answer in one proxy result (no streaming). */
export function bufferedResult(
  handle: McpHandler,
): (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult> {
  return withSourceMappedErrors(async (event: APIGatewayProxyEvent, context: Context) => {
    const result = await handle(event, context);
    const body =
      typeof result.body === 'string' ? result.body : await new Response(result.body).text();
    return { statusCode: result.statusCode, headers: result.headers, body };
  });
}
