/**
 * The Lambda service of the emulator: each function of the template runs from its code folder
 * in execution environments of its own (child processes, `lambda-runtime/bootstrap.ts`), one
 * invocation at a time each, a new environment for a concurrent invocation, kept warm
 * afterwards, as Lambda does. Each environment gets exactly the variables the template gives
 * the function (and any its caller adds: `extraEnvironment`) plus those the Lambda runtime
 * sets, with AWS endpoints pointed at the local stand-ins.
 *
 * The limits it holds invocations to (AWS Lambda quotas): 6 MB per synchronous request and
 * buffered response (exact figures below), 200 MB per streamed response, the function's
 * timeout (the environment is discarded), an init failure reported on the invocation. What the
 * functions write to stdout and stderr goes to their log group, between the service's own
 * START, END and REPORT lines.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';
import type { BootstrapConfig } from './lambda-runtime/bootstrap';
import type { FromRuntime, FunctionError, InvocationContext } from './lambda-runtime/protocol';
import type { LogSink } from './logs';

const HERE = dirname(fileURLToPath(import.meta.url));
const PROJECT_ROOT = resolve(HERE, '../../..');

/**
 * A synchronous invocation's event: "For synchronous invocations, the maximum payload size is
 * 6 MB" (Invoke API); the service's own words for one over it, "Request must be smaller than
 * 6291456 bytes for the InvokeFunction operation" (reported, non-AWS), put the limit below
 * 6 MiB exactly.
 * https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html
 */
export const MAX_SYNC_REQUEST_BYTES = 6 * 1024 * 1024;
/**
 * A buffered response: 6 MiB and 100 bytes, the `MaxPayloadSize` of AWS's runtime interface
 * emulator and the figure of Lambda's own error, "Response payload size (N bytes) exceeded
 * maximum allowed payload size (6291556 bytes)" (`Function.ResponseSizeTooLarge`).
 */
export const MAX_SYNC_RESPONSE_BYTES = 6 * 1024 * 1024 + 100;
/**
 * A streamed response: "response streaming functions can return payloads up to 200 MB"
 * (Lambda response streaming, 2025; formerly a 20 MB soft limit).
 * https://docs.aws.amazon.com/lambda/latest/dg/configuration-response-streaming.html
 */
export const MAX_STREAMED_RESPONSE_BYTES = 200 * 1024 * 1024;
/** "The Init phase is limited to 10 seconds" (Lambda execution environment lifecycle). */
export const INIT_LIMIT_MS = 10_000;

export interface FunctionDefinition {
  readonly logicalId: string;
  readonly functionName: string;
  readonly arn: string;
  /** The folder with the code (its `cdk.out` asset). */
  readonly codeDirectory: string;
  /** `index.handler`. */
  readonly handler: string;
  /** `nodejs22.x`. */
  readonly runtime: string;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  /** The function's own variables, resolved. */
  readonly environment: Readonly<Record<string, string>>;
  readonly logGroupName: string;
}

/** What an invocation came to, as the Invoke API reports it. */
export type InvokeOutcome =
  | { readonly kind: 'result'; readonly payload: string }
  | {
      readonly kind: 'error';
      /** Unhandled: the function threw; the others are the service's. */
      readonly reason: 'Unhandled' | 'TimedOut' | 'InitError' | 'ResponseTooLarge' | 'Crashed';
      readonly error: FunctionError;
    }
  | { readonly kind: 'request-too-large'; readonly bytes: number };

/** A streamed invocation: bytes as the function writes them, then how it ended. */
export interface StreamedInvocation {
  readonly kind: 'stream';
  /** Every byte written to the response stream, prelude included, as it is written. */
  readonly body: AsyncIterable<Uint8Array>;
  /** How it ended: normally, or with the function's error after (or before) some bytes. */
  readonly ended: Promise<
    | { readonly ok: true }
    | {
        readonly ok: false;
        readonly reason: Exclude<InvokeOutcome & { kind: 'error' }, never>['reason'];
        readonly error: FunctionError;
      }
  >;
}

export interface LambdaServiceOptions {
  readonly functions: readonly FunctionDefinition[];
  readonly region: string;
  /** `AWS_ENDPOINT_URL_<SERVICE>` values: where the functions' AWS calls go. */
  readonly endpoints: Readonly<Record<string, string>>;
  /** HTTPS hosts the code reaches by URL (Cognito's JWKS), mapped to local stand-ins. */
  readonly hosts: Readonly<Record<string, string>>;
  readonly logs: LogSink;
  /** The node binary that runs the environments. @default this process's */
  readonly nodeBinary?: string;
  /** Environments per function at most; further invocations wait. @default 8 */
  readonly maxEnvironments?: number;
  /** Lambda's Init limit, before the retry within the function's timeout. @default 10 s */
  readonly initLimitMs?: number;
}

interface Environment {
  readonly child: ChildProcess;
  readonly ready: Promise<{ ok: true; streaming: boolean } | { ok: false; error: FunctionError }>;
  readonly streamName: string;
  busy: boolean;
  dead: boolean;
  /** The invocation running, to end when the process dies. */
  onExit?: (code: number | null) => void;
  onMessage?: (message: FromRuntime) => void;
}

/** Build the bootstrap once per process: node built-ins only, CommonJS. */
let bootstrapPath: string | undefined;
function bootstrap(): string {
  if (bootstrapPath !== undefined) return bootstrapPath;
  const dir = mkdtempSync(join(tmpdir(), 'mcp-emulator-runtime-'));
  const outfile = join(dir, 'bootstrap.cjs');
  buildSync({
    entryPoints: [join(HERE, 'lambda-runtime/bootstrap.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    logLevel: 'error',
  });
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  bootstrapPath = outfile;
  return outfile;
}

export class LambdaService {
  readonly #options: LambdaServiceOptions;
  readonly #functions = new Map<string, FunctionDefinition>();
  readonly #environments = new Map<string, Environment[]>();
  readonly #waiting = new Map<string, (() => void)[]>();
  readonly #configDir: string;
  #stopped = false;

  constructor(options: LambdaServiceOptions) {
    this.#options = options;
    this.#configDir = mkdtempSync(join(tmpdir(), 'mcp-emulator-lambda-'));
    for (const definition of options.functions) {
      // What Lambda runs is the asset's files alone, unzipped into /var/task: copied out of the
      // project, so no package.json of ours (`"type": "module"`) changes how Node loads them.
      const taskRoot = join(this.#configDir, 'task', definition.logicalId);
      cpSync(definition.codeDirectory, taskRoot, { recursive: true });
      this.#functions.set(definition.logicalId, { ...definition, codeDirectory: taskRoot });
    }
  }

  definition(logicalId: string): FunctionDefinition {
    const definition = this.#functions.get(logicalId);
    if (definition === undefined) throw new Error(`No function ${logicalId} in the template`);
    return definition;
  }

  get functions(): readonly FunctionDefinition[] {
    return [...this.#functions.values()];
  }

  /**
   * What every invocation starts with: the request's size checked against Lambda's limit, an
   * environment taken (or started), its init awaited, and the START line written.
   */
  async #begin(logicalId: string, event: unknown) {
    const text = JSON.stringify(event);
    const bytes = Buffer.byteLength(text);
    if (bytes >= MAX_SYNC_REQUEST_BYTES) return { kind: 'request-too-large' as const, bytes };
    const definition = this.definition(logicalId);
    const environment = await this.#acquire(definition);
    const started = performance.now();
    const context = this.#context(definition, environment);
    const ready = await this.#initialized(definition, environment, context);
    this.#log(definition, environment, `START RequestId: ${context.awsRequestId} Version: $LATEST`);
    return { kind: 'begun' as const, text, definition, environment, started, context, ready };
  }

  /** Invoke a buffered handler synchronously (RequestResponse). */
  async invoke(logicalId: string, event: unknown): Promise<InvokeOutcome> {
    const begun = await this.#begin(logicalId, event);
    if (begun.kind === 'request-too-large') return begun;
    const { text, definition, environment, started, context, ready } = begun;
    let outcome: InvokeOutcome;
    if (!ready.ok) {
      outcome = { kind: 'error', reason: ready.reason, error: ready.error };
      this.#discard(definition, environment);
    } else {
      outcome = await new Promise<InvokeOutcome>((done) => {
        const timer = setTimeout(() => {
          this.#timedOut(definition, environment, context);
          done({ kind: 'error', reason: 'TimedOut', error: timeoutError(context, definition) });
        }, definition.timeoutSeconds * 1000);
        environment.onExit = (code) => {
          clearTimeout(timer);
          done({ kind: 'error', reason: 'Crashed', error: exitError(code) });
        };
        environment.onMessage = (message) => {
          if (message.type === 'result') {
            clearTimeout(timer);
            const size = Buffer.byteLength(message.payload);
            done(
              size > MAX_SYNC_RESPONSE_BYTES
                ? {
                    kind: 'error',
                    reason: 'ResponseTooLarge',
                    error: {
                      errorType: 'Function.ResponseSizeTooLarge',
                      errorMessage: `Response payload size (${size} bytes) exceeded maximum allowed payload size (${MAX_SYNC_RESPONSE_BYTES} bytes).`,
                      trace: [],
                    },
                  }
                : { kind: 'result', payload: message.payload },
            );
          } else if (message.type === 'error') {
            clearTimeout(timer);
            done({ kind: 'error', reason: 'Unhandled', error: message });
          }
        };
        environment.child.send({ type: 'invoke', id: 1, event: text, context });
      });
    }
    this.#finish(definition, environment, context, started);
    return outcome;
  }

  /** Invoke a streaming handler (InvokeWithResponseStream). */
  async invokeStreaming(
    logicalId: string,
    event: unknown,
  ): Promise<StreamedInvocation | InvokeOutcome> {
    const begun = await this.#begin(logicalId, event);
    if (begun.kind === 'request-too-large') return begun;
    const { text, definition, environment, started, context, ready } = begun;
    if (!ready.ok) {
      this.#discard(definition, environment);
      this.#finish(definition, environment, context, started);
      return { kind: 'error', reason: ready.reason, error: ready.error };
    }
    const queue: Uint8Array[] = [];
    let wake: (() => void) | undefined;
    /** The response is over (ended, failed): the body iterator stops. */
    let responseEnded = false;
    /** The invocation is over (the handler settled, or the environment was lost). */
    let over = false;
    let total = 0;
    let settle!: (value: Awaited<StreamedInvocation['ended']>) => void;
    const ended = new Promise<Awaited<StreamedInvocation['ended']>>((resolve) => {
      settle = resolve;
    });
    const endResponse = (value: Awaited<StreamedInvocation['ended']>) => {
      if (responseEnded) return;
      responseEnded = true;
      settle(value);
      wake?.();
    };
    const endInvocation = () => {
      if (over) return;
      over = true;
      clearTimeout(timer);
      this.#finish(definition, environment, context, started);
    };
    // The function's timeout runs until the handler settles, past the end of its response.
    const timer = setTimeout(() => {
      this.#timedOut(definition, environment, context);
      endResponse({ ok: false, reason: 'TimedOut', error: timeoutError(context, definition) });
      endInvocation();
    }, definition.timeoutSeconds * 1000);
    environment.onExit = (code) => {
      endResponse({ ok: false, reason: 'Crashed', error: exitError(code) });
      endInvocation();
    };
    environment.onMessage = (message) => {
      if (message.type === 'chunk') {
        if (responseEnded) return;
        total += message.data.byteLength;
        if (total > MAX_STREAMED_RESPONSE_BYTES) {
          this.#discard(definition, environment);
          endResponse({
            ok: false,
            reason: 'ResponseTooLarge',
            error: {
              errorType: 'Function.ResponseSizeTooLarge',
              errorMessage: `Response payload size exceeded maximum allowed payload size (${MAX_STREAMED_RESPONSE_BYTES} bytes).`,
              trace: [],
            },
          });
          endInvocation();
          return;
        }
        queue.push(message.data);
        wake?.();
      } else if (message.type === 'end') {
        endResponse({ ok: true });
      } else if (message.type === 'error') {
        endResponse({ ok: false, reason: 'Unhandled', error: message });
      } else if (message.type === 'done') {
        endResponse({ ok: true });
        endInvocation();
      }
    };
    environment.child.send({ type: 'invoke', id: 1, event: text, context });
    const body: AsyncIterable<Uint8Array> = {
      async *[Symbol.asyncIterator]() {
        for (;;) {
          const chunk = queue.shift();
          if (chunk !== undefined) {
            yield chunk;
            continue;
          }
          if (responseEnded) return;
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
          wake = undefined;
        }
      },
    };
    return { kind: 'stream', body, ended };
  }

  /**
   * Wait for the environment's Init. "The Init phase is limited to 10 seconds. If all three
   * tasks do not complete within 10 seconds, Lambda retries the Init phase at the time of the
   * first function invocation", the retry within the function's timeout: an Init that never
   * ends is a timeout after both, not a wait without end.
   * https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html
   */
  async #initialized(
    definition: FunctionDefinition,
    environment: Environment,
    context: InvocationContext,
  ): Promise<{ ok: true } | { ok: false; reason: 'InitError' | 'TimedOut'; error: FunctionError }> {
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(
        () => resolve('timeout'),
        (this.#options.initLimitMs ?? INIT_LIMIT_MS) + definition.timeoutSeconds * 1000,
      );
    });
    const ready = await Promise.race([environment.ready, limit]);
    clearTimeout(timer);
    if (ready === 'timeout') {
      this.#timedOut(definition, environment, context);
      return { ok: false, reason: 'TimedOut', error: timeoutError(context, definition) };
    }
    return ready.ok ? { ok: true } : { ok: false, reason: 'InitError', error: ready.error };
  }

  /**
   * Discard every idle environment (of one function, or all): the next invocation starts cold,
   * as after an idle period or a deployment.
   */
  recycle(logicalId?: string): void {
    for (const [id, environments] of this.#environments) {
      if (logicalId !== undefined && id !== logicalId) continue;
      for (const environment of [...environments]) {
        if (!environment.busy) this.#discard(this.definition(id), environment);
      }
    }
  }

  /** How many environments a function has now (warm or busy). */
  environmentCount(logicalId: string): number {
    return this.#environments.get(logicalId)?.length ?? 0;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    const exits: Promise<unknown>[] = [];
    for (const environments of this.#environments.values()) {
      for (const environment of environments) {
        environment.dead = true;
        if (environment.child.exitCode === null && environment.child.signalCode === null) {
          exits.push(new Promise((resolve) => environment.child.once('exit', resolve)));
          environment.child.kill('SIGKILL');
        }
      }
    }
    this.#environments.clear();
    await Promise.all(exits);
    rmSync(this.#configDir, { recursive: true, force: true });
  }

  #context(definition: FunctionDefinition, environment: Environment): InvocationContext {
    const awsRequestId = randomUUID();
    return {
      awsRequestId,
      functionName: definition.functionName,
      functionVersion: '$LATEST',
      invokedFunctionArn: definition.arn,
      memoryLimitInMB: String(definition.memoryMb),
      logGroupName: definition.logGroupName,
      logStreamName: environment.streamName,
      deadlineMs: Date.now() + definition.timeoutSeconds * 1000,
      traceId: `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${randomUUID().replace(/-/g, '').slice(0, 24)};Parent=${randomUUID().replace(/-/g, '').slice(0, 16)};Sampled=0;Lineage=1:${randomUUID().slice(0, 8)}:0`,
    };
  }

  #log(definition: FunctionDefinition, environment: Environment, line: string): void {
    this.#options.logs.write(definition.logGroupName, environment.streamName, line);
  }

  #finish(
    definition: FunctionDefinition,
    environment: Environment,
    context: InvocationContext,
    started: number,
  ): void {
    const duration = (performance.now() - started).toFixed(2);
    this.#log(definition, environment, `END RequestId: ${context.awsRequestId}`);
    this.#log(
      definition,
      environment,
      `REPORT RequestId: ${context.awsRequestId}\tDuration: ${duration} ms\tBilled Duration: ${Math.ceil(Number(duration))} ms\tMemory Size: ${definition.memoryMb} MB`,
    );
    environment.onExit = undefined;
    environment.onMessage = undefined;
    environment.busy = false;
    this.#waiting.get(definition.logicalId)?.shift()?.();
  }

  #timedOut(
    definition: FunctionDefinition,
    environment: Environment,
    context: InvocationContext,
  ): void {
    this.#log(
      definition,
      environment,
      `${new Date().toISOString()} ${context.awsRequestId} Task timed out after ${definition.timeoutSeconds.toFixed(2)} seconds`,
    );
    // "If the Lambda function crashes or times out during the Invoke phase, Lambda resets the
    // execution environment" (module state is lost; the next invocation initializes again).
    // https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html
    this.#discard(definition, environment);
  }

  #discard(definition: FunctionDefinition, environment: Environment): void {
    environment.dead = true;
    const list = this.#environments.get(definition.logicalId) ?? [];
    const index = list.indexOf(environment);
    if (index >= 0) list.splice(index, 1);
    if (environment.child.exitCode === null && environment.child.signalCode === null) {
      environment.child.kill('SIGKILL');
    }
  }

  async #acquire(definition: FunctionDefinition): Promise<Environment> {
    const max = this.#options.maxEnvironments ?? 8;
    for (;;) {
      if (this.#stopped) throw new Error('The Lambda service has stopped');
      const list = this.#environments.get(definition.logicalId) ?? [];
      this.#environments.set(definition.logicalId, list);
      const idle = list.find((environment) => !environment.busy && !environment.dead);
      if (idle !== undefined) {
        idle.busy = true;
        return idle;
      }
      if (list.length < max) {
        const environment = this.#spawn(definition);
        environment.busy = true;
        list.push(environment);
        return environment;
      }
      await new Promise<void>((resolve) => {
        const waiting = this.#waiting.get(definition.logicalId) ?? [];
        waiting.push(resolve);
        this.#waiting.set(definition.logicalId, waiting);
      });
    }
  }

  #spawn(definition: FunctionDefinition): Environment {
    const { region } = this.#options;
    const streamName = `${new Date().toISOString().slice(0, 10).replace(/-/g, '/')}/[$LATEST]${randomUUID().replace(/-/g, '')}`;
    const configPath = join(this.#configDir, `${definition.logicalId}-${randomUUID()}.json`);
    const config: BootstrapConfig = {
      taskRoot: definition.codeDirectory,
      handler: definition.handler,
      hosts: this.#options.hosts,
    };
    writeFileSync(configPath, JSON.stringify(config));
    const env: Record<string, string> = {
      // What the Node.js runtime sets (AWS Lambda "Defined runtime environment variables").
      _HANDLER: definition.handler,
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
      AWS_EXECUTION_ENV: `AWS_Lambda_${definition.runtime}`,
      AWS_LAMBDA_FUNCTION_NAME: definition.functionName,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(definition.memoryMb),
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      AWS_LAMBDA_LOG_GROUP_NAME: definition.logGroupName,
      AWS_LAMBDA_LOG_STREAM_NAME: streamName,
      // Temporary credentials of the function's role (dummies: the stand-ins accept any).
      AWS_ACCESS_KEY_ID: 'ASIALOCALEMULATOR000',
      AWS_SECRET_ACCESS_KEY: 'local-emulator-secret-access-key',
      AWS_SESSION_TOKEN: 'local-emulator-session-token',
      LAMBDA_TASK_ROOT: definition.codeDirectory,
      LAMBDA_RUNTIME_DIR: dirname(bootstrap()),
      LANG: 'en_US.UTF-8',
      TZ: ':UTC',
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      // The runtime's own AWS SDK v3 (a function may leave it out of its bundle).
      NODE_PATH: join(PROJECT_ROOT, 'node_modules'),
      ...Object.fromEntries(
        Object.entries(this.#options.endpoints).map(([service, url]) => [
          `AWS_ENDPOINT_URL_${service}`,
          url,
        ]),
      ),
      ...definition.environment,
    };
    const child = fork(bootstrap(), [configPath], {
      env,
      execPath: this.#options.nodeBinary ?? process.execPath,
      // The runtime sizes the heap to the function's memory.
      execArgv: [`--max-old-space-size=${Math.max(Math.floor(definition.memoryMb * 0.9), 64)}`],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'advanced',
    });
    const environment: Environment = {
      child,
      streamName,
      busy: false,
      dead: false,
      ready: new Promise((resolve) => {
        const onReady = (message: FromRuntime) => {
          if (message.type === 'ready') resolve({ ok: true, streaming: message.streaming });
          else if (message.type === 'init-error') resolve({ ok: false, error: message });
          else return;
          child.off('message', onReady);
        };
        child.on('message', onReady);
        child.once('exit', (code) => resolve({ ok: false, error: exitError(code) }));
      }),
    };
    let partial = '';
    child.on('message', (message: FromRuntime) => {
      if (message.type === 'log') {
        // One event per line, as Lambda splits what a function writes.
        const lines = (partial + message.text).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines)
          this.#options.logs.write(definition.logGroupName, streamName, line);
        return;
      }
      environment.onMessage?.(message);
    });
    child.once('exit', (code) => {
      environment.dead = true;
      environment.onExit?.(code);
      const list = this.#environments.get(definition.logicalId) ?? [];
      const index = list.indexOf(environment);
      if (index >= 0) list.splice(index, 1);
    });
    for (const stream of [child.stdout, child.stderr]) {
      if (stream === null) continue;
      createInterface({ input: stream }).on('line', (line) =>
        this.#options.logs.write(definition.logGroupName, streamName, line),
      );
    }
    return environment;
  }
}

function timeoutError(context: InvocationContext, definition: FunctionDefinition): FunctionError {
  return {
    errorType: 'Sandbox.Timedout',
    errorMessage: `RequestId: ${context.awsRequestId} Error: Task timed out after ${definition.timeoutSeconds.toFixed(2)} seconds`,
    trace: [],
  };
}

function exitError(code: number | null): FunctionError {
  return {
    errorType: 'Runtime.ExitError',
    errorMessage: `RequestId: unknown Error: Runtime exited with error: exit status ${code ?? 'signal'}`,
    trace: [],
  };
}
