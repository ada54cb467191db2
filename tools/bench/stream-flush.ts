/**
 * What the stream flush padding costs (`-c streamFlushBytes`, `lambda/mcp/stream-flush.ts`):
 * the bytes it adds per progress notification and per call, and the CPU per padded frame,
 * padding on (the stack's default) against off, in the same run:
 * - `run_report` with a progress token, answered by the deployed MCP bundle (the stack's
 *   esbuild build, loaded in process twice, once with each `STREAM_FLUSH_BYTES`, with the
 *   environment the stack sets and the runtime's `awslambda` stand-in), its table in dynalite
 *   seeded as local mode seeds it;
 * - the frames alone: a stream shaped as the SDK writes it (progress notifications, then the
 *   answer) through `passSse` and the streaming adapter, so the per-frame cost is not lost in
 *   a tool call's own.
 * Neither says whether the padding makes progress leave a Lambda at once in AWS: only
 * `npm run verify` against a deployment does.
 */
import { copyFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { streamingHandler } from '../../lambda/mcp/lambda-response';
import { passSse, type StreamWatcher } from '../../lambda/mcp/response';
import { STREAM_FLUSH_BYTES } from '../../lambda/shared/env';
import { LAMBDA_COMMON_ENVIRONMENT } from '../../lib/lambda-function';
import { LOCAL_TABLE_NAME, TABLE_NAME_VARIABLE } from '../../modules/customer-records/module';
import { startLocalDynamo } from '../local/dynamo';
import { answerOf, benchAnalyst, mcpEvent } from './events';
import {
  benchRuntime,
  collectStreamed,
  localModules,
  type StreamingHandler,
} from './mcp-under-test';
import { quietly } from './quietly';
import { type Measurement, measureAlternating } from './stats';

/** The deployed tool that reports progress: one notification per page of records read. */
export const RUN_REPORT_CALL = {
  jsonrpc: '2.0',
  id: 4,
  method: 'tools/call',
  params: {
    name: 'run_report',
    arguments: { group_by: 'segment' },
    _meta: { progressToken: 'bench' },
  },
} as const;

/** Progress notifications in the synthetic stream of {@link framesAlone}. */
export const SYNTHETIC_NOTIFICATIONS = 10;

/** What one answer's body is made of. */
export interface BodyShape {
  readonly bytes: number;
  /** Frames carrying a notification (a message with a method and no id). */
  readonly notifications: number;
  /** Bytes of comment blocks (`:` lines): the padding, and any keep-alive. */
  readonly commentBytes: number;
}

/** The shape of an SSE body: its bytes, its notifications and its comment bytes. */
export function bodyShape(body: string): BodyShape {
  let notifications = 0;
  let commentBytes = 0;
  for (const block of body.split('\n\n')) {
    if (block === '') continue;
    if (block.startsWith(':')) {
      commentBytes += Buffer.byteLength(block) + 2;
      continue;
    }
    const data = /^data: (.*)$/m.exec(block)?.[1];
    const message = data === undefined ? undefined : (JSON.parse(data) as Record<string, unknown>);
    if (message !== undefined && 'method' in message && !('id' in message)) notifications++;
  }
  return { bytes: Buffer.byteLength(body), notifications, commentBytes };
}

/** One case, padding on against off. */
export interface FlushCase {
  readonly name: string;
  readonly on: Measurement & { readonly cpuUsPerCall: number; readonly shape: BodyShape };
  readonly off: Measurement & { readonly cpuUsPerCall: number; readonly shape: BodyShape };
  /** (on − off) bytes per notification. */
  readonly bytesPerNotification: number;
  /** (on − off) CPU µs per call, over the notifications of a call. */
  readonly cpuUsPerFrame: number;
  /** (on − off) median wall µs per call, over the notifications of a call. */
  readonly p50UsPerFrame: number;
}

export interface StreamFlushReport {
  readonly thresholdBytes: number;
  readonly cases: readonly FlushCase[];
}

export interface StreamFlushOptions {
  /** The deployed MCP bundle (`index.js` as the stack builds it). */
  readonly bundle: string;
  readonly iterations: number;
  readonly warmup: number;
}

/** `fn` with the process CPU time (user + system) it spends counted. */
function cpuCounted(fn: () => Promise<unknown>) {
  let us = 0;
  return {
    fn: async () => {
      const start = process.cpuUsage();
      await fn();
      const spent = process.cpuUsage(start);
      us += spent.user + spent.system;
    },
    us: () => us,
  };
}

/**
 * Call a streaming handler as the runtime does, into a stream that drops what it is given: the
 * timed calls leave out the collecting of the body (in Lambda, the runtime's socket takes it).
 */
async function streamedAway(entry: StreamingHandler, event: APIGatewayProxyEvent): Promise<void> {
  const sink = new Writable({
    write(_chunk, _encoding, callback) {
      callback();
    },
  });
  await entry(event, sink, undefined as unknown as Context);
}

/** One side of a comparison: a streaming handler and the event it answers. */
interface Side {
  readonly entry: StreamingHandler;
  readonly event: APIGatewayProxyEvent;
}

/** Time `on` against `off` in alternating blocks, with their CPU, and compare their bodies. */
async function compare(
  name: string,
  sides: { readonly on: Side; readonly off: Side },
  options: StreamFlushOptions,
): Promise<FlushCase> {
  const on = () => streamedAway(sides.on.entry, sides.on.event);
  const off = () => streamedAway(sides.off.entry, sides.off.event);
  const [first, second] = [
    await collectStreamed(sides.on.entry, sides.on.event),
    await collectStreamed(sides.off.entry, sides.off.event),
  ];
  for (const [answer, side] of [
    [first, 'on'],
    [second, 'off'],
  ] as const) {
    if (answer.statusCode !== 200 || answerOf(answer.body)?.result === undefined) {
      throw new Error(`bench: ${name} (padding ${side}) did not succeed: ${answer.body}`);
    }
  }
  const [shapeOn, shapeOff] = [bodyShape(first.body), bodyShape(second.body)];
  if (shapeOn.notifications === 0 || shapeOn.commentBytes === 0 || shapeOff.commentBytes !== 0) {
    throw new Error(`bench: ${name}: expected padded notifications on and none off`);
  }
  for (let i = 0; i < options.warmup; i++) {
    await on();
    await off();
  }
  const counted = [cpuCounted(on), cpuCounted(off)] as const;
  const [timedOn, timedOff] = await measureAlternating(counted[0].fn, counted[1].fn, {
    iterations: options.iterations,
    warmup: 0,
    block: 50,
  });
  const cpuOn = counted[0].us() / options.iterations;
  const cpuOff = counted[1].us() / options.iterations;
  const frames = shapeOn.notifications;
  return {
    name,
    on: { ...timedOn, cpuUsPerCall: cpuOn, shape: shapeOn },
    off: { ...timedOff, cpuUsPerCall: cpuOff, shape: shapeOff },
    bytesPerNotification: (shapeOn.bytes - shapeOff.bytes) / frames,
    cpuUsPerFrame: (cpuOn - cpuOff) / frames,
    p50UsPerFrame: ((timedOn.p50Ms - timedOff.p50Ms) * 1000) / frames,
  };
}

/**
 * A stream shaped as the SDK writes a tool call's answer: `notifications` progress frames,
 * each its own chunk, then the answer.
 */
function sdkStream(notifications: number): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let sent = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const message =
        sent < notifications
          ? {
              jsonrpc: '2.0',
              method: 'notifications/progress',
              params: {
                progressToken: 'bench',
                progress: (sent + 1) * 1000,
                total: 10_000,
                message: `Read ${(sent + 1) * 1000} record(s)`,
              },
            }
          : { jsonrpc: '2.0', id: 4, result: { content: [{ type: 'text', text: 'done' }] } };
      controller.enqueue(encoder.encode(`event: message\ndata: ${JSON.stringify(message)}\n\n`));
      if (sent++ === notifications) controller.close();
    },
  });
}

const UNWATCHED: StreamWatcher = { onMessage: () => {}, onEnd: () => {} };

/** The frames alone through `passSse` and the streaming adapter, with `flushBytes`. */
export function framesAlone(flushBytes: number): Side {
  const entry = streamingHandler(
    async () => ({
      statusCode: 200,
      headers: { 'content-type': 'text/event-stream' },
      body: passSse(sdkStream(SYNTHETIC_NOTIFICATIONS), 4, UNWATCHED, flushBytes),
    }),
    benchRuntime,
  ) as StreamingHandler;
  return { entry, event: {} as APIGatewayProxyEvent };
}

/**
 * The deployed bundle's handler with `STREAM_FLUSH_BYTES` set to `flushBytes`: a copy of the
 * bundle per setting, so each loads (and parses its environment) on its own.
 */
function bundleHandler(bundle: string, flushBytes: number): StreamingHandler {
  const copy = join(dirname(bundle), `index-flush-${flushBytes}.js`);
  copyFileSync(bundle, copy);
  process.env.STREAM_FLUSH_BYTES = String(flushBytes);
  const { handler } = createRequire(import.meta.url)(copy) as { handler: StreamingHandler };
  return handler;
}

export async function runStreamFlush(options: StreamFlushOptions): Promise<StreamFlushReport> {
  const threshold = STREAM_FLUSH_BYTES.default;
  const cases: FlushCase[] = [];
  const dynamo = await startLocalDynamo();
  const savedEnv = { ...process.env };
  const global = globalThis as { awslambda?: unknown };
  const savedRuntime = global.awslambda;
  try {
    // The table, created and seeded as local mode does; the bundle reaches it through its
    // own client, pointed at dynalite.
    await localModules(dynamo);
    // A Lambda asset has no package.json: its index.js is CommonJS.
    writeFileSync(join(dirname(options.bundle), 'package.json'), '{ "type": "commonjs" }\n');
    Object.assign(process.env, {
      ...LAMBDA_COMMON_ENVIRONMENT,
      POWERTOOLS_SERVICE_NAME: 'mcp-server',
      [TABLE_NAME_VARIABLE]: LOCAL_TABLE_NAME,
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'fake-access-key-id',
      AWS_SECRET_ACCESS_KEY: 'bench-secret-access-key',
      AWS_EC2_METADATA_DISABLED: 'true',
    });
    global.awslambda = benchRuntime;
    const event = mcpEvent(benchAnalyst(), RUN_REPORT_CALL);
    const on = { entry: bundleHandler(options.bundle, threshold), event };
    const off = { entry: bundleHandler(options.bundle, 0), event };
    // A tool call is milliseconds of its own: fewer calls, or this case would take minutes.
    const calls = Math.max(1, Math.floor(options.iterations / 20));
    cases.push(
      await quietly(() =>
        compare(
          'run_report, progress token (2025-11-25), deployed bundle, dynalite',
          { on, off },
          { ...options, iterations: calls, warmup: Math.min(options.warmup, calls) },
        ),
      ),
    );
    cases.push(
      await quietly(() =>
        compare(
          `${SYNTHETIC_NOTIFICATIONS} progress frames + answer, passSse + streaming adapter`,
          { on: framesAlone(threshold), off: framesAlone(0) },
          options,
        ),
      ),
    );
  } finally {
    global.awslambda = savedRuntime;
    for (const name of Object.keys(process.env)) {
      if (!(name in savedEnv)) delete process.env[name];
    }
    Object.assign(process.env, savedEnv);
    await dynamo.stop();
  }
  return { thresholdBytes: threshold, cases };
}
