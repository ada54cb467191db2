/**
 * The tiny program each cold-init run starts in a fresh `node` process (bundled to CommonJS
 * by `cold-init.ts`; node built-ins only, so it adds little of its own). It loads one Lambda
 * bundle, hands its handler the first request(s), reports its own timestamps on fd 3 and
 * exits, as a Lambda environment is frozen after its first answer.
 *
 * Like the Node.js Lambda runtime, it puts `awslambda` (`streamifyResponse`,
 * `HttpResponseStream`) on `globalThis` before the bundle loads, so a bundle that streams its
 * answers in Lambda streams them here too: such a handler gets a response stream, and what it
 * writes (the metadata prelude, eight NUL bytes, the body) is turned back into a proxy result
 * for the report. A buffered handler is called as before.
 *
 * Timestamps are `performance.now()`: milliseconds since the process's time origin, which
 * Node sets as the process starts. Nothing here may reach the network: the one HTTPS fetch a
 * bundle is allowed (the authorizer's Cognito JWKS) is answered from the config, and any other
 * HTTPS request throws.
 *
 * usage: node cold-driver.cjs <config.json>
 */
import { EventEmitter } from 'node:events';
import { readFileSync, writeSync } from 'node:fs';
import type * as Https from 'node:https';
import Module, { createRequire } from 'node:module';
import type { Readable as ReadableType } from 'node:stream';

export interface DriverConfig {
  /** Absolute path of the bundle to load; none for the "driver alone" baseline. */
  readonly bundle?: string;
  /**
   * Packages required after the bundle, in the same timed window (resolved from the config's
   * folder): the SDK alone, to tell its share of a bundle's init.
   */
  readonly modules?: readonly string[];
  /** The events handed to the bundle's `handler`, one after the other, once it is loaded. */
  readonly events: readonly unknown[];
  /** The JWKS served for exactly this URL, in place of Cognito. */
  readonly jwks?: { readonly uri: string; readonly body: string };
}

export interface DriverReport {
  /** When the driver's own code began to run (Node's bootstrap before it). */
  readonly startedMs: number;
  /** When the driver called `require(bundle)` (its config read and HTTPS guard set up). */
  readonly requiringMs: number;
  /** When `require(bundle)` returned: the module's init (top-level code) is done. */
  readonly loadedMs: number;
  /** When each event's answer came back. */
  readonly answeredMs: readonly number[];
  readonly answers: readonly unknown[];
  /** How many times the stubbed JWKS was fetched. */
  readonly jwksFetches: number;
  /**
   * The same marks on the monotonic clock a `--cpu-prof` profile uses (µs), so a profile can
   * be cut into init (requiring → loaded) and first answer (loaded → last answer).
   */
  readonly monotonicUs: {
    readonly requiring: number;
    readonly loaded: number;
    readonly answered: number;
  };
  readonly error?: string;
}

const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);

/** The file descriptor the parent reads the report from (stdout carries the bundle's logs). */
const REPORT_FD = 3;

const startedMs = performance.now();

/** Node's CommonJS loader, which every `require` of a bundle goes through, built-ins included. */
interface CjsLoader {
  _load(request: string, parent: unknown, isMain: boolean): unknown;
}

/**
 * Replace `https.request` (which aws-jwt-verify's Node fetcher calls) with a stand-in that
 * answers the configured JWKS URL and refuses every other URL loudly. The patch is applied
 * when the bundle itself first requires `https`, not before: loading `https` (and `tls`) is
 * part of the bundle's init and must stay in its timed window.
 */
function guardHttps(jwks: DriverConfig['jwks'], onFetch: () => void): void {
  const loader = Module as unknown as CjsLoader;
  const load = loader._load;
  let guarded = false;
  loader._load = function (this: unknown, request, parent, isMain) {
    const exported = load.call(this, request, parent, isMain);
    if (!guarded && (request === 'https' || request === 'node:https')) {
      guarded = true;
      patch(exported as typeof Https);
    }
    return exported;
  };
  const refuse = (target: string): never => {
    throw new Error(`cold driver: refusing an HTTPS request to ${target} (the bench is offline)`);
  };
  const patch = (https: typeof Https) => {
    // `https` has loaded `stream` already: no cost of the driver's own here.
    const { Readable } = loader._load('node:stream', null, false) as {
      Readable: typeof ReadableType;
    };
    const request = (url: unknown, ...rest: unknown[]) => {
      const target = url instanceof URL ? url.href : typeof url === 'string' ? url : '(options)';
      if (jwks === undefined || target !== jwks.uri) refuse(target);
      onFetch();
      const callback = rest.find((arg) => typeof arg === 'function') as
        | ((response: ReadableType) => void)
        | undefined;
      const req = Object.assign(new EventEmitter(), {
        end: () => {
          const response = Object.assign(Readable.from([Buffer.from(jwks?.body ?? '')]), {
            statusCode: 200,
            headers: { 'content-type': 'application/json' },
          });
          setImmediate(() => callback?.(response));
          return req;
        },
        destroy: () => req,
        setTimeout: () => req,
      });
      return req;
    };
    https.request = request as unknown as typeof https.request;
    https.get = ((url: unknown) =>
      refuse(String(url instanceof URL ? url.href : url))) as unknown as typeof https.get;
  };
}

/** The runtime's mark on a handler wrapped by `awslambda.streamifyResponse`. */
const HANDLER_STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming');
const STREAM_RESPONSE = 'response';
/** What `HttpResponseStream.from` writes between the metadata prelude and the body. */
const PRELUDE_END = 8;

type BufferedHandler = (event: unknown, context: unknown) => Promise<unknown>;
type StreamingHandler = (event: unknown, stream: unknown, context: unknown) => Promise<unknown>;

/**
 * The runtime's `awslambda`, as far as response streaming goes, merged into whatever is there
 * (a library may have created the object already, as `@aws/lambda-invoke-store` does).
 */
function installLambdaRuntime(): void {
  const global = globalThis as { awslambda?: Record<string, unknown> };
  global.awslambda = Object.assign(global.awslambda ?? {}, {
    streamifyResponse: (handler: StreamingHandler) =>
      Object.assign(handler, { [HANDLER_STREAMING]: STREAM_RESPONSE }),
    HttpResponseStream: {
      from(stream: { write(chunk: unknown): unknown }, prelude: unknown) {
        stream.write(JSON.stringify(prelude));
        stream.write(new Uint8Array(PRELUDE_END));
        return stream;
      },
    },
  });
}

/** Call a streaming handler with a collecting stream; its bytes as a proxy result. */
async function invokeStreaming(
  handler: StreamingHandler,
  event: unknown,
  context: unknown,
  load: NodeJS.Require,
): Promise<unknown> {
  // Loaded by the bundle already (it streams), so this costs a cache lookup.
  const { Writable } = load('node:stream') as typeof import('node:stream');
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(Buffer.from(chunk));
      callback();
    },
  });
  await handler(event, stream, context);
  const bytes = Buffer.concat(chunks);
  const end = bytes.indexOf(Buffer.alloc(PRELUDE_END));
  if (end === -1) throw new Error('the streaming handler wrote no metadata prelude');
  const prelude = JSON.parse(bytes.subarray(0, end).toString('utf8')) as Record<string, unknown>;
  return { ...prelude, body: bytes.subarray(end + PRELUDE_END).toString('utf8'), streamed: true };
}

function lambdaContext() {
  const functionName = 'cold-init-bench';
  return {
    awsRequestId: 'cold-init-1',
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
    memoryLimitInMB: '512',
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'cold-init',
    callbackWaitsForEmptyEventLoop: false,
    getRemainingTimeInMillis: () => 30_000,
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

function report(value: DriverReport): void {
  writeSync(REPORT_FD, JSON.stringify(value));
}

async function main(): Promise<void> {
  const configPath = process.argv[2];
  if (configPath === undefined) throw new Error('usage: node cold-driver.cjs <config.json>');
  const config = JSON.parse(readFileSync(configPath, 'utf8')) as DriverConfig;
  // Built-ins resolve from anywhere; the bundle is loaded by its absolute path.
  const load = createRequire(configPath);
  let jwksFetches = 0;
  guardHttps(config.jwks, () => jwksFetches++);

  installLambdaRuntime();
  let handler: BufferedHandler | StreamingHandler | undefined;
  const requiringUs = monotonicUs();
  const requiringMs = performance.now();
  if (config.bundle !== undefined) {
    handler = (load(config.bundle) as { handler?: BufferedHandler }).handler;
    if (typeof handler !== 'function') throw new Error(`${config.bundle} exports no handler`);
  }
  for (const name of config.modules ?? []) load(name);
  const loadedMs = performance.now();
  const loadedUs = monotonicUs();
  const answers: unknown[] = [];
  const answeredMs: number[] = [];
  const context = lambdaContext();
  for (const event of config.events) {
    if (handler === undefined) throw new Error('events were given but no bundle');
    const streaming =
      (handler as { [HANDLER_STREAMING]?: unknown })[HANDLER_STREAMING] === STREAM_RESPONSE;
    answers.push(
      streaming
        ? await invokeStreaming(handler as StreamingHandler, event, context, load)
        : await (handler as BufferedHandler)(event, context),
    );
    answeredMs.push(performance.now());
  }
  const monotonic = { requiring: requiringUs, loaded: loadedUs, answered: monotonicUs() };
  report({
    startedMs,
    requiringMs,
    loadedMs,
    answeredMs,
    answers,
    jwksFetches,
    monotonicUs: monotonic,
  });
}

main().then(
  // Exit at once, as Lambda freezes the environment: the bundle's prefetches and keep-alive
  // sockets must not keep the process (and the wall-clock) running.
  () => process.exit(0),
  (error: unknown) => {
    report({
      startedMs,
      requiringMs: Number.NaN,
      loadedMs: Number.NaN,
      answeredMs: [],
      answers: [],
      jwksFetches: 0,
      monotonicUs: { requiring: Number.NaN, loaded: Number.NaN, answered: Number.NaN },
      error: error instanceof Error ? (error.stack ?? error.message) : String(error),
    });
    process.exit(1);
  },
);
