/**
 * The MCP handler's answer and how the SDK's Web `Response` becomes one: a JSON body read
 * whole, or an SSE stream passed on frame by frame (progress reaches the client while a tool
 * runs). Passing it on is also where the edge learns how a call ended when the SDK answered it
 * without running the item (so the one audit record can say so), where internal error detail is
 * cut from -32603 errors, and where a stream that breaks after it started is ended with a
 * JSON-RPC error frame instead of a truncated body.
 */
import { TOOL_CALL_STATUS, type ToolCallStatus } from '../shared/audit';
import { redactSecrets } from '../shared/redact';
import { JSONRPC } from './http';
import { FlushPadding } from './stream-flush';

export interface McpResponse {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  /** A whole body, or a stream of bytes (`text/event-stream`) to pass on as it comes. */
  readonly body: string | ReadableStream<Uint8Array>;
}

/** Hop-by-hop and framing headers: the gateway (or the Lambda runtime) sets its own. */
const DROPPED_HEADERS = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'content-length',
]);

export function headersOf(response: Response): Record<string, string> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    if (!DROPPED_HEADERS.has(name)) headers[name] = value;
  });
  return headers;
}

/** A JSON-RPC message, if `text` is one. */
export function parseMessage(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * How a call ended, from the answer alone: for a call whose item code never ran, so the SDK
 * refused it (a bad envelope, arguments failing their schema, …) or answered it itself.
 */
export function outcomeOf(
  httpStatus: number,
  message: Record<string, unknown> | undefined,
): { status: ToolCallStatus; errorType: string | undefined } {
  const error = message?.error as { code?: unknown } | undefined;
  if (error !== undefined) {
    return { status: TOOL_CALL_STATUS.invalid, errorType: `JsonRpcError${String(error.code)}` };
  }
  if (httpStatus >= 400)
    return { status: TOOL_CALL_STATUS.invalid, errorType: `Http${httpStatus}` };
  const result = message?.result as { isError?: unknown } | undefined;
  if (result?.isError === true)
    return { status: TOOL_CALL_STATUS.invalid, errorType: 'InvalidArguments' };
  if (result !== undefined) return { status: TOOL_CALL_STATUS.success, errorType: undefined };
  return { status: TOOL_CALL_STATUS.error, errorType: 'NoAnswer' };
}

/**
 * The message in place of an SDK -32603: internal detail (validator output, an item's error)
 * stays out; in local mode (`keepDetail`) its message stays, secrets redacted, for the author.
 */
function redacted(message: Record<string, unknown>, keepDetail: boolean): Record<string, unknown> {
  const error = message.error as { code?: unknown; message?: unknown } | undefined;
  if (error?.code !== JSONRPC.internalError) return message;
  const text =
    keepDetail && typeof error.message === 'string'
      ? redactSecrets(error.message)
      : 'Internal error';
  return { ...message, error: { code: JSONRPC.internalError, message: text } };
}

/** `redacted` on a JSON body, which is passed on unchanged unless it is such an error. */
export function redactInternalErrors(body: string, keepDetail = false): string {
  if (!body.includes(String(JSONRPC.internalError))) return body;
  const message = parseMessage(body);
  return message === undefined || message.error === undefined
    ? body
    : JSON.stringify(redacted(message, keepDetail));
}

/** What the edge hears while an SSE answer passes. */
export interface StreamWatcher {
  /** Each JSON-RPC message the stream carries, in order. */
  onMessage(message: Record<string, unknown>): void;
  /** Once, when the stream has ended, well or not. */
  onEnd(error: unknown): void;
}

const encoder = new TextEncoder();

/** One SSE frame carrying a JSON-RPC message, as text. */
export function sseText(message: unknown): string {
  return `event: message\ndata: ${JSON.stringify(message)}\n\n`;
}

/** One SSE frame carrying a JSON-RPC message. */
export function sseFrame(message: unknown): Uint8Array {
  return encoder.encode(sseText(message));
}

/**
 * The SDK's SSE body, passed on frame by frame. A frame whose data is a -32603 error loses its
 * internal detail. If the SDK's stream fails mid-way, the client gets a last frame with a
 * JSON-RPC internal error for `requestId` and a clean end, never a truncated body.
 *
 * With `flushBytes` above 0, each frame is a chunk of its own, and a notification that comes
 * before the answer is followed by an SSE comment, a chunk of its own, that brings the bytes
 * since the last one up to `flushBytes` (`stream-flush.ts` says why). 0: chunks as they come.
 * `keepDetail` (local mode only) keeps a -32603's message, secrets redacted.
 */
export function passSse(
  body: ReadableStream<Uint8Array>,
  requestId: unknown,
  watcher: StreamWatcher,
  flushBytes = 0,
  keepDetail = false,
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const padding = flushBytes > 0 ? new FlushPadding(flushBytes) : undefined;
  let pending = '';
  let ended = false;
  /** Whether the stream carried the answer to the request (not only notifications). */
  let answered = requestId === undefined;
  /** JSON-RPC messages passed so far. */
  let messages = 0;
  const end = (error: unknown) => {
    if (ended) return;
    ended = true;
    watcher.onEnd(error);
  };
  /** Complete frames out of `pending`, rewritten where needed. */
  const frames = (final: boolean): string[] => {
    const out: string[] = [];
    let boundary = pending.indexOf('\n\n');
    while (boundary >= 0) {
      out.push(rewrite(pending.slice(0, boundary + 2)));
      pending = pending.slice(boundary + 2);
      boundary = pending.indexOf('\n\n');
    }
    if (final && pending !== '') {
      out.push(rewrite(pending));
      pending = '';
    }
    return out;
  };
  /** Frames as chunks: all in one, or (flushing) one each, a notification's followed by its comment. */
  const pass = (
    controller: ReadableStreamDefaultController<Uint8Array>,
    out: readonly string[],
    messagesBefore: number,
  ) => {
    if (padding === undefined) {
      controller.enqueue(encoder.encode(out.join('')));
      return;
    }
    for (const frame of out) {
      const bytes = encoder.encode(frame);
      padding.wrote(bytes.byteLength);
      controller.enqueue(bytes);
    }
    // A notification ahead of the answer: more data follows at once. Never after the answer,
    // which ends the stream (and the end sends everything).
    if (!answered && messages > messagesBefore) controller.enqueue(padding.next());
  };
  const rewrite = (frame: string): string => {
    const lines = frame.split('\n');
    const data = lines
      .filter((line) => line.startsWith('data:'))
      .map((line) => line.slice(5).trimStart());
    if (data.length === 0) return frame; // comments (keep-alives), event-only frames
    const message = parseMessage(data.join('\n'));
    if (message === undefined) return frame;
    if ('id' in message && ('result' in message || 'error' in message)) answered = true;
    messages++;
    watcher.onMessage(message);
    if ((message.error as { code?: unknown } | undefined)?.code !== JSONRPC.internalError) {
      return frame;
    }
    const kept = lines.filter((line) => !line.startsWith('data:') && line !== '');
    return `${[...kept, `data: ${JSON.stringify(redacted(message, keepDetail))}`].join('\n')}\n\n`;
  };
  const cutShort = () => {
    const message = {
      jsonrpc: '2.0',
      id: requestId ?? null,
      error: { code: JSONRPC.internalError, message: 'Internal error: the answer was cut short' },
    };
    watcher.onMessage(message);
    return sseFrame(message);
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        // Read until a whole frame is out: a pull that enqueues nothing is not called again,
        // so a chunk holding only part of a frame would leave the reader waiting for ever.
        for (;;) {
          const { done, value } = await reader.read();
          if (done) {
            pending += decoder.decode();
            const rest = frames(true).join('');
            if (rest !== '') controller.enqueue(encoder.encode(rest));
            // Ended without the answer (the call was cancelled at the deadline): say so.
            if (!answered) controller.enqueue(cutShort());
            controller.close();
            end(answered ? undefined : new Error('The stream ended without an answer'));
            return;
          }
          pending += decoder.decode(value, { stream: true });
          const messagesBefore = messages;
          const out = frames(false);
          if (out.length > 0) {
            pass(controller, out, messagesBefore);
            return;
          }
        }
      } catch (error) {
        controller.enqueue(cutShort());
        controller.close();
        end(error);
      }
    },
    async cancel(reason) {
      // The client went away: stop the SDK's stream too.
      await reader.cancel(reason).catch(() => undefined);
      end(reason ?? new Error('cancelled'));
    },
  });
}
