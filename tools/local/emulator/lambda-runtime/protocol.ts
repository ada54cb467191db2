/**
 * The messages between the emulator's Lambda service and one execution environment (a child
 * process running `bootstrap.ts`), over Node's IPC channel with the `advanced` serialization
 * (so chunks travel as bytes). Events and results cross as JSON text, as they cross the
 * Lambda Invoke API: whatever a handler returns is what `JSON.stringify` makes of it.
 */

/** What the runtime's `context` object is built from. */
export interface InvocationContext {
  readonly awsRequestId: string;
  readonly functionName: string;
  readonly functionVersion: string;
  readonly invokedFunctionArn: string;
  readonly memoryLimitInMB: string;
  readonly logGroupName: string;
  readonly logStreamName: string;
  /** Epoch milliseconds at which the function times out. */
  readonly deadlineMs: number;
  /** The X-Ray trace header the runtime puts in `_X_AMZN_TRACE_ID`. */
  readonly traceId: string;
}

export type ToRuntime = {
  readonly type: 'invoke';
  readonly id: number;
  /** The event as JSON text. */
  readonly event: string;
  readonly context: InvocationContext;
};

/** An error as the runtime reports it (`errorType`, `errorMessage`, `trace`). */
export interface FunctionError {
  readonly errorType: string;
  readonly errorMessage: string;
  readonly trace: readonly string[];
}

export type FromRuntime =
  | { readonly type: 'ready'; readonly streaming: boolean }
  /**
   * What the function wrote to stdout or stderr. It travels on the same channel as the results,
   * so a log line written before a result is in its log group before the result is answered.
   */
  | { readonly type: 'log'; readonly text: string }
  | ({ readonly type: 'init-error' } & FunctionError)
  /** A buffered handler's result, as JSON text (`undefined` becomes `null`). */
  | { readonly type: 'result'; readonly id: number; readonly payload: string }
  /** Bytes written to a streaming handler's response stream (the prelude included). */
  | { readonly type: 'chunk'; readonly id: number; readonly data: Uint8Array }
  /** A streaming handler's stream ended: the response is complete. */
  | { readonly type: 'end'; readonly id: number }
  /**
   * A streaming handler's invocation is over (its promise settled, after the stream ended or
   * failed): the environment may take the next one.
   */
  | { readonly type: 'done'; readonly id: number }
  | ({ readonly type: 'error'; readonly id: number } & FunctionError);
