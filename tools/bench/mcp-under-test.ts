/**
 * Our MCP handler as the bench runs it in process: wired as the Lambda entry wires it in Lambda
 * (`lambda/mcp/index.ts`: the deployment's policy, `createMcpHandler`, then `streamingHandler`,
 * the response-streaming adapter, here on a stand-in for the runtime's `awslambda` that writes
 * what the real one writes), over the deployment's modules built against the embedded
 * stand-ins as local mode builds them (`tools/local/gateway.ts`: each module's `local` hook
 * creates and seeds its tables in dynalite), so the real adapters run with nothing mocked.
 */

import { Writable } from 'node:stream';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { createMcpHandler } from '../../lambda/mcp/handler';
import { type LambdaStreamingRuntime, streamingHandler } from '../../lambda/mcp/lambda-response';
import type { McpModule } from '../../lambda/mcp/module-kit';
import { type LoadedModule, loadLocalModules, localStandIns } from '../../lambda/mcp/module-loader';
import type { QuotaGate } from '../../lambda/mcp/quotas';
import { STREAM_FLUSH_BYTES } from '../../lambda/shared/env';
import { MODULES } from '../../modules/index';
import { POLICY } from '../../modules/policy';
import type { LocalDynamo } from '../local/dynamo';

/** The deployment's modules (or `modules`), their dependencies built against `dynamo`. */
export function localModules(
  dynamo: LocalDynamo,
  modules: readonly McpModule[] = MODULES,
): Promise<LoadedModule[]> {
  return loadLocalModules(modules, localStandIns(dynamo.endpoint), process.env);
}

/** An answer as API Gateway receives it: status, headers and the whole body. */
export interface BenchAnswer {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

export type BenchMcpEntry = (event: APIGatewayProxyEvent) => Promise<BenchAnswer>;

/** What `HttpResponseStream.from` writes between the metadata prelude and the body. */
const PRELUDE_END = Buffer.alloc(8);

export type StreamingHandler = (
  event: APIGatewayProxyEvent,
  responseStream: Writable,
  context: Context,
) => Promise<void>;

/** The runtime's response streaming, writing what the Node.js Lambda runtime writes. */
export const benchRuntime: LambdaStreamingRuntime = {
  streamifyResponse: (handler) => handler,
  HttpResponseStream: {
    from(responseStream, metadata) {
      responseStream.write(JSON.stringify(metadata));
      responseStream.write(PRELUDE_END);
      return responseStream;
    },
  },
};

/**
 * Our handler behind the deployed entry's adapter (with `quotas`, counting as the stack's
 * quotas do), its streamed answer collected whole (the
 * stream, and the audit record written when it ends, are in the timed call). No Lambda
 * context, as before the SDK v2 move: `logger.addContext` and the deadline are left out of
 * the timed path.
 */
export function mcpEntry(
  modules: readonly LoadedModule[],
  logger: Logger,
  quotas?: QuotaGate,
): BenchMcpEntry {
  const entry = streamingHandler(
    createMcpHandler({
      config: { allowedOrigins: [], maxBodyBytes: 1 << 20 },
      policy: POLICY,
      modules,
      logger,
      // As the stack sets it (`-c streamFlushBytes`' default).
      streamFlushBytes: STREAM_FLUSH_BYTES.default,
      ...(quotas === undefined ? {} : { quotas }),
    }),
    benchRuntime,
  ) as StreamingHandler;
  return (event) => collectStreamed(entry, event);
}

/** Call a streaming handler as the runtime does, its answer collected whole. */
export async function collectStreamed(
  entry: StreamingHandler,
  event: APIGatewayProxyEvent,
): Promise<BenchAnswer> {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk);
      callback();
    },
  });
  await entry(event, stream, undefined as unknown as Context);
  const bytes = Buffer.concat(chunks);
  const end = bytes.indexOf(PRELUDE_END);
  if (end === -1) throw new Error('bench: the streaming handler wrote no metadata prelude');
  const { statusCode, headers } = JSON.parse(bytes.subarray(0, end).toString('utf8')) as {
    statusCode: number;
    headers: Record<string, string>;
  };
  return { statusCode, headers, body: bytes.subarray(end + PRELUDE_END.length).toString('utf8') };
}
