/**
 * A stand-in for the Node.js Lambda runtime's response streaming (`awslambda`): what
 * `HttpResponseStream.from` writes (the metadata as JSON, then eight NUL bytes, then the body)
 * is what the real runtime sends API Gateway. Each chunk is kept with the time it arrived.
 */
import { PassThrough, type Writable } from 'node:stream';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import type { LambdaStreamingRuntime } from '../../lambda/mcp/lambda-response';

type StreamingHandler = (
  event: APIGatewayProxyEvent,
  responseStream: Writable,
  context: Context,
) => Promise<void>;

export const fakeStreamingRuntime: LambdaStreamingRuntime = {
  streamifyResponse: (handler) => handler,
  HttpResponseStream: {
    from(responseStream, metadata) {
      responseStream.write(JSON.stringify(metadata));
      responseStream.write(Buffer.alloc(8));
      return responseStream;
    },
  },
};

export interface StreamedInvocation {
  /** Everything written, in order, with when it was written (performance.now()). */
  readonly chunks: { readonly at: number; readonly data: Buffer }[];
  /** Resolves when the handler has finished (the stream ended). */
  readonly done: Promise<void>;
  /** Resolves with the text written so far once it contains `text`. */
  waitFor(text: string): Promise<string>;
}

/** Invoke a streaming handler as the runtime would, collecting what it writes. */
export function invokeStreaming(
  handler: unknown,
  event: APIGatewayProxyEvent,
  context: Context,
): StreamedInvocation {
  const stream = new PassThrough();
  const chunks: { at: number; data: Buffer }[] = [];
  const waiters: { text: string; resolve: (all: string) => void }[] = [];
  stream.on('data', (data: Buffer) => {
    chunks.push({ at: performance.now(), data });
    const all = Buffer.concat(chunks.map((chunk) => chunk.data)).toString('utf8');
    for (const waiter of [...waiters]) {
      if (all.includes(waiter.text)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(all);
      }
    }
  });
  const done = (handler as StreamingHandler)(event, stream, context);
  return {
    chunks,
    done,
    waitFor: (text) =>
      new Promise((resolve) => {
        const all = Buffer.concat(chunks.map((chunk) => chunk.data)).toString('utf8');
        if (all.includes(text)) resolve(all);
        else waiters.push({ text, resolve });
      }),
  };
}
