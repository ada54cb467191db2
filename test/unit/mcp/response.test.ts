import { EventSourceParserStream } from 'eventsource-parser/stream';
import { describe, expect, it } from 'vitest';
import {
  headersOf,
  outcomeOf,
  passSse,
  redactInternalErrors,
  type StreamWatcher,
  sseFrame,
} from '../../../lambda/mcp/response';
import { TOOL_CALL_STATUS } from '../../../lambda/shared/audit';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

const frame = (message: unknown) => `event: message\ndata: ${JSON.stringify(message)}\n\n`;
const progress = (n: number) => ({
  jsonrpc: '2.0',
  method: 'notifications/progress',
  params: { progressToken: 'p1', progress: n, total: 3 },
});
const result = { jsonrpc: '2.0', id: 7, result: { content: [] } };
const internalError = {
  jsonrpc: '2.0',
  id: 7,
  error: {
    code: -32603,
    message: '[{"code":"invalid_type","path":["params","arguments"]}] at /var/task/index.js:1:2',
    data: { stack: 'Error: at Object.<anonymous> (/var/task/index.js:1:2)' },
  },
};

/** An upstream SSE body: each step is a chunk of text, or an error that breaks the stream. */
function upstream(
  steps: readonly (string | Error)[],
  onCancel?: (reason: unknown) => void,
): ReadableStream<Uint8Array> {
  let next = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const step = steps[next++];
      if (step === undefined) controller.close();
      else if (step instanceof Error) controller.error(step);
      else controller.enqueue(encoder.encode(step));
    },
    cancel(reason) {
      onCancel?.(reason);
    },
  });
}

/** A watcher that notes what it hears. */
function watcher() {
  const messages: Record<string, unknown>[] = [];
  const ends: unknown[] = [];
  const watch: StreamWatcher = {
    onMessage: (message) => messages.push(message),
    onEnd: (error) => ends.push(error),
  };
  return { watch, messages, ends };
}

/** Every chunk the stream yields, decoded, until it ends. */
async function chunksOf(stream: ReadableStream<Uint8Array>): Promise<string[]> {
  const chunks: string[] = [];
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return chunks;
    chunks.push(decoder.decode(value));
  }
}

/** The JSON-RPC messages of an SSE text, in order. */
function messagesOf(text: string): unknown[] {
  return text
    .split('\n\n')
    .flatMap((block) => block.split('\n').filter((line) => line.startsWith('data:')))
    .map((line) => JSON.parse(line.slice(5)));
}

describe('outcomeOf', () => {
  it('calls a JSON-RPC error answer invalid, by its code', () => {
    // Act
    const outcome = outcomeOf(200, {
      jsonrpc: '2.0',
      id: 1,
      error: { code: -32602, message: 'x' },
    });

    // Assess
    expect(outcome).toEqual({ status: TOOL_CALL_STATUS.invalid, errorType: 'JsonRpcError-32602' });
  });

  it('names the JSON-RPC code, not the HTTP status, when a 400 carries an error', () => {
    // Act
    const outcome = outcomeOf(400, {
      jsonrpc: '2.0',
      id: 1,
      error: { code: -32020, message: 'x' },
    });

    // Assess
    expect(outcome).toEqual({ status: TOOL_CALL_STATUS.invalid, errorType: 'JsonRpcError-32020' });
  });

  it('calls an HTTP error without a JSON-RPC body invalid, by its status', () => {
    // Act
    const outcome = outcomeOf(415, undefined);

    // Assess
    expect(outcome).toEqual({ status: TOOL_CALL_STATUS.invalid, errorType: 'Http415' });
  });

  it('calls an isError result the SDK answered invalid arguments', () => {
    // Act
    const outcome = outcomeOf(200, {
      jsonrpc: '2.0',
      id: 1,
      result: { isError: true, content: [] },
    });

    // Assess
    expect(outcome).toEqual({ status: TOOL_CALL_STATUS.invalid, errorType: 'InvalidArguments' });
  });

  it('calls any other result a success', () => {
    // Act
    const outcome = outcomeOf(200, { jsonrpc: '2.0', id: 1, result: { content: [] } });

    // Assess
    expect(outcome).toEqual({ status: TOOL_CALL_STATUS.success, errorType: undefined });
  });

  it('calls an answer with neither result nor error an error: nothing answered the call', () => {
    // Act
    const outcome = outcomeOf(200, undefined);

    // Assess
    expect(outcome).toEqual({ status: TOOL_CALL_STATUS.error, errorType: 'NoAnswer' });
  });
});

describe('redactInternalErrors', () => {
  it('replaces the message of an internal error and drops its data, keeping the id', () => {
    // Act
    const redacted = JSON.parse(redactInternalErrors(JSON.stringify(internalError)));

    // Assess
    expect(redacted).toEqual({
      jsonrpc: '2.0',
      id: 7,
      error: { code: -32603, message: 'Internal error' },
    });
  });

  it('leaves another error as it is', () => {
    // Prepare
    const denied = JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      error: { code: -32003, message: 'Permission denied', data: { tool: 'x' } },
    });

    // Act
    const body = redactInternalErrors(denied);

    // Assess
    expect(body).toBe(denied);
  });

  it('leaves a result that merely mentions -32603 as it is', () => {
    // Prepare
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, result: { note: '-32603 in a result' } });

    // Act
    const redacted = redactInternalErrors(body);

    // Assess
    expect(redacted).toBe(body);
  });

  it('leaves a body that is not JSON as it is', () => {
    // Act
    const body = redactInternalErrors('not json -32603');

    // Assess
    expect(body).toBe('not json -32603');
  });
});

describe('headersOf', () => {
  it('copies the headers of a response, without hop-by-hop and framing headers', () => {
    // Prepare
    const response = new Response('{}', {
      headers: {
        'Content-Type': 'application/json',
        'Content-Length': '2',
        Connection: 'keep-alive',
        'Keep-Alive': 'timeout=5',
        'Transfer-Encoding': 'chunked',
        'X-Trace': 'abc',
      },
    });

    // Act
    const headers = headersOf(response);

    // Assess
    expect(headers).toEqual({ 'content-type': 'application/json', 'x-trace': 'abc' });
  });
});

describe('sseFrame', () => {
  it('writes one message event carrying the JSON of the message', () => {
    // Act
    const text = decoder.decode(sseFrame({ jsonrpc: '2.0', id: 1, result: {} }));

    // Assess
    expect(text).toBe('event: message\ndata: {"jsonrpc":"2.0","id":1,"result":{}}\n\n');
  });
});

describe('passSse', () => {
  it('passes frames on unchanged and in order', async () => {
    // Prepare
    const sent = [frame(progress(1)), frame(progress(2)), frame(result)];
    const { watch } = watcher();

    // Act
    const chunks = await chunksOf(passSse(upstream(sent), 7, watch));

    // Assess
    expect(chunks.join('')).toBe(sent.join(''));
  });

  it('holds a frame split across chunks until it is complete, then passes it whole', async () => {
    // Prepare
    const whole = frame(result);
    const { watch } = watcher();

    // Act
    const chunks = await chunksOf(
      passSse(upstream([whole.slice(0, 10), whole.slice(10, 30), whole.slice(30)]), 7, watch),
    );

    // Assess
    expect(chunks).toEqual([whole]);
  });

  it('passes each complete frame as soon as its chunk arrives', async () => {
    // Prepare: two frames and the start of a third in one chunk
    const first = frame(progress(1));
    const second = frame(progress(2));
    const third = frame(result);
    const { watch } = watcher();

    // Act
    const chunks = await chunksOf(
      passSse(upstream([first + second + third.slice(0, 5), third.slice(5)]), 7, watch),
    );

    // Assess
    expect(chunks).toEqual([first + second, third]);
  });

  it('reports every message to the watcher, in order', async () => {
    // Prepare
    const { watch, messages } = watcher();

    // Act
    await chunksOf(passSse(upstream([frame(progress(1)), frame(result)]), 7, watch));

    // Assess
    expect(messages).toEqual([progress(1), result]);
  });

  it('passes keep-alive comments on, and reports no message for them', async () => {
    // Prepare
    const { watch, messages } = watcher();

    // Act
    const chunks = await chunksOf(passSse(upstream([': keepalive\n\n', frame(result)]), 7, watch));

    // Assess
    expect(chunks.join('')).toBe(`: keepalive\n\n${frame(result)}`);
    expect(messages).toEqual([result]);
  });

  it('cuts the detail of an internal error frame, keeping its event and id', async () => {
    // Prepare
    const { watch } = watcher();

    // Act
    const chunks = await chunksOf(passSse(upstream([frame(internalError)]), 7, watch));

    // Assess
    expect(chunks.join('')).toBe(
      frame({ jsonrpc: '2.0', id: 7, error: { code: -32603, message: 'Internal error' } }),
    );
  });

  it('passes a last frame that lacks its closing blank line', async () => {
    // Prepare
    const { watch, messages } = watcher();

    // Act
    const chunks = await chunksOf(
      passSse(upstream([frame(progress(1)), `data: ${JSON.stringify(result)}`]), 7, watch),
    );

    // Assess
    expect(messagesOf(chunks.join(''))).toEqual([progress(1), result]);
    expect(messages).toEqual([progress(1), result]);
  });

  it('calls onEnd once, without an error, after the last frame of a clean stream', async () => {
    // Prepare
    const { watch, messages, ends } = watcher();
    const seenAtEnd: number[] = [];
    const watching: StreamWatcher = {
      onMessage: watch.onMessage,
      onEnd: (error) => {
        seenAtEnd.push(messages.length);
        watch.onEnd(error);
      },
    };

    // Act
    await chunksOf(passSse(upstream([frame(progress(1)), frame(result)]), 7, watching));

    // Assess
    expect(ends).toEqual([undefined]);
    expect(seenAtEnd).toEqual([2]);
  });

  describe('when the upstream stream breaks after it started', () => {
    const failure = new Error('socket hang up at /var/task/node_modules/x.js:1:1');
    const broken = () => upstream([frame(progress(1)), frame(progress(2)).slice(0, 12), failure]);

    it('ends with a JSON-RPC internal error frame for the request, after the frames it had', async () => {
      // Prepare
      const { watch } = watcher();

      // Act
      const chunks = await chunksOf(passSse(broken(), 7, watch));

      // Assess
      expect(messagesOf(chunks.join(''))).toEqual([
        progress(1),
        {
          jsonrpc: '2.0',
          id: 7,
          error: { code: -32603, message: 'Internal error: the answer was cut short' },
        },
      ]);
    });

    it('answers with id null when the request had no id', async () => {
      // Prepare
      const { watch } = watcher();

      // Act
      const chunks = await chunksOf(passSse(broken(), undefined, watch));

      // Assess
      expect(messagesOf(chunks.join('')).at(-1)).toMatchObject({ id: null });
    });

    it('keeps the failure detail out of the stream', async () => {
      // Prepare
      const { watch } = watcher();

      // Act
      const chunks = await chunksOf(passSse(broken(), 7, watch));

      // Assess
      expect(chunks.join('')).not.toMatch(/socket hang up|node_modules|\.js:\d+/);
    });

    it('calls onEnd once, with the failure', async () => {
      // Prepare
      const { watch, ends } = watcher();

      // Act
      await chunksOf(passSse(broken(), 7, watch));

      // Assess
      expect(ends).toEqual([failure]);
    });

    it('tells the watcher of the error frame it sent', async () => {
      // Prepare
      const { watch, messages } = watcher();

      // Act
      await chunksOf(passSse(broken(), 7, watch));

      // Assess
      expect(messages.at(-1)).toMatchObject({ id: 7, error: { code: -32603 } });
    });
  });

  describe('when the upstream stream ends without the answer', () => {
    const unanswered = () => upstream([frame(progress(1)), frame(progress(2))]);

    it('ends with a JSON-RPC internal error frame for the request', async () => {
      // Prepare
      const { watch } = watcher();

      // Act
      const chunks = await chunksOf(passSse(unanswered(), 7, watch));

      // Assess
      expect(messagesOf(chunks.join(''))).toEqual([
        progress(1),
        progress(2),
        {
          jsonrpc: '2.0',
          id: 7,
          error: { code: -32603, message: 'Internal error: the answer was cut short' },
        },
      ]);
    });

    it('calls onEnd once, with an error', async () => {
      // Prepare
      const { watch, ends } = watcher();

      // Act
      await chunksOf(passSse(unanswered(), 7, watch));

      // Assess
      expect(ends).toEqual([expect.any(Error)]);
    });

    it('counts an error answer as the answer', async () => {
      // Prepare
      const denied = {
        jsonrpc: '2.0',
        id: 7,
        error: { code: -32003, message: 'Permission denied' },
      };
      const { watch, ends } = watcher();

      // Act
      const chunks = await chunksOf(passSse(upstream([frame(denied)]), 7, watch));

      // Assess
      expect(chunks.join('')).toBe(frame(denied));
      expect(ends).toEqual([undefined]);
    });

    it('adds nothing to a stream that answers no request (no id)', async () => {
      // Prepare
      const { watch, ends } = watcher();

      // Act
      const chunks = await chunksOf(passSse(unanswered(), undefined, watch));

      // Assess
      expect(chunks.join('')).toBe(frame(progress(1)) + frame(progress(2)));
      expect(ends).toEqual([undefined]);
    });
  });

  describe('when the client goes away', () => {
    /** An upstream that sends one frame, then waits for ever (a tool still running). */
    function endless(onCancel: (reason: unknown) => void): ReadableStream<Uint8Array> {
      let sent = false;
      return new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent) return new Promise<void>(() => undefined);
          sent = true;
          controller.enqueue(encoder.encode(frame(progress(1))));
          return undefined;
        },
        cancel: onCancel,
      });
    }

    it('cancels the upstream stream with the same reason', async () => {
      // Prepare
      const cancelled: unknown[] = [];
      const { watch } = watcher();
      const reader = passSse(
        endless((reason) => cancelled.push(reason)),
        7,
        watch,
      ).getReader();
      await reader.read();

      // Act
      await reader.cancel('client closed');

      // Assess
      expect(cancelled).toEqual(['client closed']);
    });

    it('calls onEnd once, with the reason', async () => {
      // Prepare
      const { watch, ends } = watcher();
      const reader = passSse(
        endless(() => undefined),
        7,
        watch,
      ).getReader();
      await reader.read();
      const pending = reader.read();

      // Act
      await reader.cancel('client closed');
      await pending;

      // Assess
      expect(ends).toEqual(['client closed']);
    });

    it('reports no message after the cancellation', async () => {
      // Prepare
      const { watch, messages } = watcher();
      const reader = passSse(
        endless(() => undefined),
        7,
        watch,
      ).getReader();
      await reader.read();
      const pending = reader.read();

      // Act
      await reader.cancel('client closed');
      await pending;
      await new Promise((resolve) => setTimeout(resolve, 10));

      // Assess
      expect(messages).toEqual([progress(1)]);
    });
  });
});

// The flush padding (`stream-flush.ts`): what is written, not whether it leaves a Lambda in AWS
// at once; only `npm run verify` against a deployment shows that.
const logMessage = {
  jsonrpc: '2.0',
  method: 'notifications/message',
  params: { level: 'info', data: 'halfway' },
};
const THRESHOLD = 1024;
const ignore: StreamWatcher = { onMessage: () => {}, onEnd: () => {} };
const size = (text: string) => encoder.encode(text).byteLength;
/** The comment `sseComment(bytes)` writes, as text. */
const comment = (bytes: number) => `:${' '.repeat(bytes - 3)}\n\n`;

/** The events an SSE client (the MCP SDK clients' parser) reads from `chunks`. */
async function eventsOf(chunks: readonly string[]) {
  const events: { event?: string; data: string }[] = [];
  const reader = new ReadableStream<string>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  })
    .pipeThrough(new EventSourceParserStream())
    .getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return events;
    events.push({ event: value.event, data: value.data });
  }
}

describe('passSse with a flush threshold', () => {
  it('follows each progress frame with a comment of its own that brings it to the threshold', async () => {
    // Prepare
    const sent = [frame(progress(1)), frame(progress(2)), frame(result)];

    // Act
    const chunks = await chunksOf(passSse(upstream(sent), 7, ignore, THRESHOLD));

    // Assess
    expect(chunks).toEqual([
      sent[0],
      comment(THRESHOLD - size(sent[0] as string)),
      sent[1],
      comment(THRESHOLD - size(sent[1] as string)),
      sent[2],
    ]);
  });

  it('pads a logging notification ahead of the answer as it pads progress', async () => {
    // Act
    const chunks = await chunksOf(
      passSse(upstream([frame(logMessage), frame(result)]), 7, ignore, THRESHOLD),
    );

    // Assess
    expect(chunks[1]).toBe(comment(THRESHOLD - size(frame(logMessage))));
  });

  it('never pads the answer, whether it comes alone or with the notifications before it', async () => {
    // Prepare: progress and the answer in one upstream chunk
    const sent = [frame(progress(1)) + frame(result)];

    // Act
    const chunks = await chunksOf(passSse(upstream(sent), 7, ignore, THRESHOLD));

    // Assess: each frame its own chunk, and no comment at all
    expect(chunks).toEqual([frame(progress(1)), frame(result)]);
  });

  it('pads once after notifications that arrive together, counting all of them', async () => {
    // Prepare
    const together = frame(progress(1)) + frame(progress(2));

    // Act
    const chunks = await chunksOf(
      passSse(upstream([together, frame(result)]), 7, ignore, THRESHOLD),
    );

    // Assess
    expect(chunks).toEqual([
      frame(progress(1)),
      frame(progress(2)),
      comment(THRESHOLD - size(together)),
      frame(result),
    ]);
  });

  it('follows a notification already at the threshold with the shortest comment only', async () => {
    // Prepare
    const big = {
      ...progress(1),
      params: { ...progress(1).params, message: 'x'.repeat(THRESHOLD) },
    };

    // Act
    const chunks = await chunksOf(
      passSse(upstream([frame(big), frame(result)]), 7, ignore, THRESHOLD),
    );

    // Assess
    expect(chunks).toEqual([frame(big), ':\n\n', frame(result)]);
  });

  it('counts a keep-alive comment towards the threshold and pads nothing after it alone', async () => {
    // Prepare
    const keepAlive = ': keepalive\n\n';

    // Act
    const chunks = await chunksOf(
      passSse(upstream([keepAlive, frame(progress(1)), frame(result)]), 7, ignore, THRESHOLD),
    );

    // Assess
    expect(chunks).toEqual([
      keepAlive,
      frame(progress(1)),
      comment(THRESHOLD - size(keepAlive) - size(frame(progress(1)))),
      frame(result),
    ]);
  });

  it('pads nothing after the error frame of a stream that broke', async () => {
    // Act
    const chunks = await chunksOf(
      passSse(upstream([frame(progress(1)), new Error('socket hang up')]), 7, ignore, THRESHOLD),
    );

    // Assess: the progress padded, then the error frame last
    expect(chunks).toHaveLength(3);
    expect(chunks[2]).toMatch(/^event: message\ndata: .*"code":-32603.*\n\n$/);
  });

  it('leaves a client reading exactly the events it reads without the padding', async () => {
    // Prepare
    const sent = [frame(progress(1)), frame(logMessage), frame(progress(2)), frame(result)];

    // Act
    const paddedChunks = await chunksOf(passSse(upstream(sent), 7, ignore, THRESHOLD));
    const padded = await eventsOf(paddedChunks);
    const plain = await eventsOf(await chunksOf(passSse(upstream(sent), 7, ignore)));

    // Assess: the padding was there, and the client read past it
    expect(paddedChunks.filter((chunk) => chunk.startsWith(':'))).toHaveLength(3);
    expect(padded).toEqual(plain);
    expect(padded.map((event) => JSON.parse(event.data))).toEqual([
      progress(1),
      logMessage,
      progress(2),
      result,
    ]);
  });
});

describe('passSse with the flush off', () => {
  it('gives exactly the chunks it gives without the option', async () => {
    // Prepare: frames alone, two together, a keep-alive, a frame split across chunks
    const steps = () => [
      frame(progress(1)),
      frame(progress(2)) + frame(logMessage),
      ': keepalive\n\n',
      frame(result).slice(0, 9),
      frame(result).slice(9),
    ];

    // Act
    const off = await chunksOf(passSse(upstream(steps()), 7, ignore, 0));
    const without = await chunksOf(passSse(upstream(steps()), 7, ignore));

    // Assess
    expect(off).toEqual(without);
    expect(off.join('')).toBe(steps().join(''));
    expect(off).toHaveLength(4);
  });
});
