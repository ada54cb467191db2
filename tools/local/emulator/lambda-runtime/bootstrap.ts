/**
 * One Lambda execution environment: a child process that loads a function's code (the bundle
 * in its `cdk.out` asset folder) with the environment the template gives the function, then
 * runs one invocation at a time for the emulator's Lambda service, as the Node.js managed
 * runtime does. Bundled to CommonJS by the service (node built-ins only) and started as
 * `node bootstrap.cjs <config.json>`.
 *
 * What it copies from the Node.js runtime (aws-lambda-nodejs-runtime-interface-client):
 * - `globalThis.awslambda` with `streamifyResponse` and `HttpResponseStream.from`; the
 *   metadata prelude (the JSON metadata, then eight NUL bytes) is written before the first
 *   write to the stream, not when `from` is called, so a stream ended with no write carries
 *   no status at all;
 * - `console.*` in the TEXT log format: `<ISO time>\t<request id>\t<LEVEL>\t<message>`;
 * - `_X_AMZN_TRACE_ID` set per invocation; errors reported as `errorType`, `errorMessage`,
 *   `trace`.
 *
 * The network of an environment here: AWS endpoints are the emulator's stand-ins
 * (`AWS_ENDPOINT_URL_*` in the environment for AWS API calls, and the host map below for
 * HTTPS URLs the code builds itself, such as Cognito's JWKS). Nothing else leaves loopback:
 * any other HTTPS host fails as an unresolvable name would.
 */
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import { createRequire } from 'node:module';
import { Writable } from 'node:stream';
import { format } from 'node:util';
import type { FromRuntime, FunctionError, InvocationContext, ToRuntime } from './protocol';

export interface BootstrapConfig {
  /** The folder holding the code (the runtime's `LAMBDA_TASK_ROOT`). */
  readonly taskRoot: string;
  /** `index.handler`: the file (without `.js`) and the export. */
  readonly handler: string;
  /**
   * HTTPS hosts the code may reach, and where they are served locally
   * (`cognito-idp.us-east-1.amazonaws.com` → `http://127.0.0.1:4001`).
   */
  readonly hosts: Readonly<Record<string, string>>;
}

const send = (message: FromRuntime) => process.send?.(message);

/** CommonJS `require`, for the code and for the one module object the code shares with us. */
const load = createRequire(`${process.cwd()}/`);
/** The `https` module every `require('https')` of the code returns: patched in place. */
const https = load('node:https') as typeof import('node:https');

function toFunctionError(error: unknown): FunctionError {
  if (error instanceof Error) {
    return {
      errorType: error.name,
      errorMessage: error.message,
      trace: (error.stack ?? '').split('\n'),
    };
  }
  return { errorType: typeof error, errorMessage: String(error), trace: [] };
}

/**
 * stdout and stderr go to the service over the invocation channel, in order with the results
 * (Lambda captures both into the function's log group).
 */
function captureOutput(): void {
  for (const stream of [process.stdout, process.stderr]) {
    (stream as unknown as { write: (...args: unknown[]) => boolean }).write = (
      chunk: unknown,
      ...rest: unknown[]
    ) => {
      const text =
        typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8');
      send({ type: 'log', text });
      const callback = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined;
      callback?.();
      return true;
    };
  }
}

/** The request id of the invocation running now, for the log prefix. */
let currentRequestId: string | undefined;

/** The runtime's console in the TEXT log format (Lambda's `LogFormat: Text`). */
function patchConsole(): void {
  const levels = [
    ['log', 'INFO', process.stdout],
    ['info', 'INFO', process.stdout],
    ['debug', 'DEBUG', process.stdout],
    ['warn', 'WARN', process.stderr],
    ['error', 'ERROR', process.stderr],
    ['trace', 'TRACE', process.stderr],
  ] as const;
  for (const [method, level, stream] of levels) {
    (console as unknown as Record<string, (...args: unknown[]) => void>)[method] = (...args) => {
      const message = format(...args).replace(/\n/g, '\r');
      stream.write(
        `${new Date().toISOString()}\t${currentRequestId ?? 'undefined'}\t${level}\t${message}\n`,
      );
    };
  }
}

/**
 * HTTPS to a mapped host goes to its local stand-in over plain HTTP; to any other host it
 * fails with ENOTFOUND, as it would on a machine whose DNS knows no such name (this
 * environment's network is the emulator's, not the internet).
 */
function patchNetwork(hosts: Readonly<Record<string, string>>): void {
  const originalRequest = https.request;
  const redirect = (...args: unknown[]): http.ClientRequest => {
    let url: URL | undefined;
    let options: Record<string, unknown> = {};
    let callback: ((res: http.IncomingMessage) => void) | undefined;
    for (const arg of args) {
      if (typeof arg === 'string') url = new URL(arg);
      else if (arg instanceof URL) url = arg;
      else if (typeof arg === 'function') callback = arg as typeof callback;
      else if (arg !== null && typeof arg === 'object') options = arg as Record<string, unknown>;
    }
    const host = String(url?.hostname ?? options.hostname ?? options.host ?? '').replace(
      /:\d+$/,
      '',
    );
    const target = hosts[host.toLowerCase()];
    if (target === undefined) {
      if (host === '127.0.0.1' || host === 'localhost' || host === '::1') {
        return (originalRequest as (...a: unknown[]) => http.ClientRequest)(...args);
      }
      const req = new http.ClientRequest('http://127.0.0.1:9/');
      req.destroy(
        Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), {
          code: 'ENOTFOUND',
          hostname: host,
        }),
      );
      return req;
    }
    const local = new URL(target);
    const path = url !== undefined ? `${url.pathname}${url.search}` : String(options.path ?? '/');
    const { agent: _agent, ca: _ca, servername: _servername, ...rest } = options;
    return http.request(
      {
        ...rest,
        protocol: 'http:',
        hostname: local.hostname,
        port: local.port,
        host: undefined,
        path,
        headers: { ...((rest.headers as Record<string, string> | undefined) ?? {}), host },
      },
      callback,
    );
  };
  (https as { request: unknown }).request = redirect;
  (https as { get: unknown }).get = (...args: unknown[]) => {
    const req = redirect(...args);
    req.end();
    return req;
  };
  const originalFetch = globalThis.fetch;
  globalThis.fetch = async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const target = url.protocol === 'https:' ? hosts[url.hostname.toLowerCase()] : undefined;
    if (target !== undefined) {
      const local = new URL(target);
      url.protocol = 'http:';
      url.hostname = local.hostname;
      url.port = local.port;
      return originalFetch(input instanceof Request ? new Request(url, input) : url, init);
    }
    if (['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname))
      return originalFetch(input, init);
    throw new TypeError('fetch failed', {
      cause: Object.assign(new Error(`getaddrinfo ENOTFOUND ${url.hostname}`), {
        code: 'ENOTFOUND',
      }),
    });
  };
}

/** The runtime's mark on a handler wrapped by `awslambda.streamifyResponse`. */
const HANDLER_STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming');
const STREAM_RESPONSE = 'response';
/** The eight NUL bytes between the metadata prelude and the body. */
const PRELUDE_DELIMITER = new Uint8Array(8);

/**
 * The response stream a streaming handler writes to; every byte goes to the service as it is
 * written. As in the runtime (`ResponseStream.js`), `HttpResponseStream.from` installs a hook
 * that `write()` runs before its first chunk, and `end(chunk)` writes its chunk without running
 * it: a stream whose only data comes through `end` carries no prelude.
 */
class ResponseStream extends Writable {
  /** Set by `HttpResponseStream.from`: runs once, inside the first `write()`. */
  onBeforeFirstWrite: ((write: (chunk: Uint8Array | string) => void) => void) | undefined;
  #writeCalled = false;
  readonly #id: number;

  constructor(id: number) {
    super();
    this.#id = id;
  }

  setContentType(_contentType: string): void {
    if (this.#writeCalled) {
      throw Object.assign(new Error('Cannot set content-type, too late.'), {
        name: 'Runtime.InvalidStreamingOperation',
      });
    }
  }

  override write(chunk: unknown, ...rest: unknown[]): boolean {
    const data =
      typeof chunk === 'string' || chunk instanceof Uint8Array ? chunk : JSON.stringify(chunk);
    if (!this.#writeCalled) {
      this.#writeCalled = true;
      this.onBeforeFirstWrite?.((prelude) => this.#send(prelude));
    }
    return (super.write as (...args: unknown[]) => boolean)(data, ...rest);
  }

  override end(...args: unknown[]): this {
    const [first] = args;
    if (first !== undefined && typeof first !== 'function') {
      // Node's own write path: the hook does not run.
      (Writable.prototype.write as (...a: unknown[]) => boolean).call(this, first);
      return super.end(...(args.slice(1) as []));
    }
    return super.end(...(args as []));
  }

  #send(data: Uint8Array | string): void {
    send({
      type: 'chunk',
      id: this.#id,
      data: typeof data === 'string' ? Buffer.from(data) : data,
    });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error) => void) {
    this.#send(chunk);
    callback();
  }
}

function installAwsLambdaGlobal(): void {
  const global = globalThis as { awslambda?: Record<string, unknown> };
  global.awslambda = Object.assign(global.awslambda ?? {}, {
    streamifyResponse: (handler: object) =>
      Object.assign(handler, { [HANDLER_STREAMING]: STREAM_RESPONSE }),
    HttpResponseStream: {
      from(stream: ResponseStream, prelude: unknown) {
        stream.setContentType('application/vnd.awslambda.http-integration-response');
        const text = JSON.stringify(prelude);
        stream.onBeforeFirstWrite = (write) => {
          write(text);
          write(PRELUDE_DELIMITER);
        };
        return stream;
      },
    },
  });
}

function runtimeContext(context: InvocationContext) {
  return {
    awsRequestId: context.awsRequestId,
    functionName: context.functionName,
    functionVersion: context.functionVersion,
    invokedFunctionArn: context.invokedFunctionArn,
    memoryLimitInMB: context.memoryLimitInMB,
    logGroupName: context.logGroupName,
    logStreamName: context.logStreamName,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(context.deadlineMs - Date.now(), 0),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

type Handler = (...args: unknown[]) => unknown;

async function main(): Promise<void> {
  const config = JSON.parse(readFileSync(process.argv[2] as string, 'utf8')) as BootstrapConfig;
  captureOutput();
  patchConsole();
  patchNetwork(config.hosts);
  installAwsLambdaGlobal();
  const dot = config.handler.lastIndexOf('.');
  const file = `${config.taskRoot}/${config.handler.slice(0, dot)}`;
  const name = config.handler.slice(dot + 1);
  let handler: Handler;
  try {
    const exported = (load(file) as Record<string, unknown>)[name];
    if (typeof exported !== 'function') {
      throw Object.assign(new Error(`${config.handler} is undefined or not exported`), {
        name: 'Runtime.HandlerNotFound',
      });
    }
    handler = exported as Handler;
  } catch (error) {
    send({ type: 'init-error', ...toFunctionError(error) });
    return;
  }
  const streaming =
    (handler as unknown as Record<symbol, unknown>)[HANDLER_STREAMING] === STREAM_RESPONSE;
  process.on('message', (message: ToRuntime) => {
    if (message.type !== 'invoke') return;
    void invoke(handler, streaming, message);
  });
  send({ type: 'ready', streaming });
}

async function invoke(handler: Handler, streaming: boolean, message: ToRuntime): Promise<void> {
  const { id, context } = message;
  currentRequestId = context.awsRequestId;
  process.env._X_AMZN_TRACE_ID = context.traceId;
  const event: unknown = JSON.parse(message.event);
  const lambdaContext = runtimeContext(context);
  if (!streaming) {
    try {
      const result = await handler(event, lambdaContext);
      send({ type: 'result', id, payload: JSON.stringify(result ?? null) });
    } catch (error) {
      process.stderr.write(
        `${new Date().toISOString()}\t${context.awsRequestId}\tERROR\tInvoke Error \t${JSON.stringify(toFunctionError(error))}\n`,
      );
      send({ type: 'error', id, ...toFunctionError(error) });
    }
    return;
  }
  const stream = new ResponseStream(id);
  // The response is complete when the stream ends, whatever the handler does afterwards: the
  // runtime's request to Lambda ends with `end()`, and an error after it is lost ("trailers
  // added after end() are silently lost", verified against the runtime's ResponseStream.js).
  let ended = false;
  const finished = new Promise<void>((resolve) => {
    stream.once('finish', () => {
      ended = true;
      send({ type: 'end', id });
      resolve();
    });
  });
  try {
    const returned = handler(event, stream, lambdaContext);
    if (!(returned instanceof Promise)) {
      throw Object.assign(new Error('Streaming does not support non-async handlers.'), {
        name: 'string',
      });
    }
    await returned;
    // The runtime waits for the stream to end: a handler that returns without ending it runs
    // into the function's timeout.
    await finished;
  } catch (error) {
    process.stderr.write(
      `${new Date().toISOString()}\t${context.awsRequestId}\tERROR\tInvoke Error \t${JSON.stringify(toFunctionError(error))}\n`,
    );
    // Before the end, the error ends the stream (the runtime's error trailers); after it,
    // nothing reaches the caller.
    if (!ended) send({ type: 'error', id, ...toFunctionError(error) });
  }
  send({ type: 'done', id });
}

main().catch((error: unknown) => {
  send({ type: 'init-error', ...toFunctionError(error) });
});
