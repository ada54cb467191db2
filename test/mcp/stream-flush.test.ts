/**
 * The flush padding of a streamed answer, on `passSse` alone: after each notification that
 * comes before the answer, an SSE comment of its own brings the bytes since the last one up to
 * the threshold; the answer is never padded; off, the chunks are exactly what they were. What
 * this cannot show is whether the padding makes progress leave a Lambda in AWS at once: only
 * `npm run verify` against a deployment does.
 */
import { EventSourceParserStream } from 'eventsource-parser/stream';
import { describe, expect, it } from 'vitest';
import { passSse, type StreamWatcher } from '../../lambda/mcp/response';
import { FlushPadding, MIN_COMMENT_BYTES, sseComment } from '../../lambda/mcp/stream-flush';

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const THRESHOLD = 1024;

const frame = (message: unknown) => `event: message\ndata: ${JSON.stringify(message)}\n\n`;
const progress = (n: number) => ({
  jsonrpc: '2.0',
  method: 'notifications/progress',
  params: { progressToken: 'p1', progress: n, total: 3 },
});
const logMessage = {
  jsonrpc: '2.0',
  method: 'notifications/message',
  params: { level: 'info', data: 'halfway' },
};
const result = { jsonrpc: '2.0', id: 7, result: { content: [] } };

/** An upstream SSE body: each step is a chunk of text, or an error that breaks the stream. */
function upstream(steps: readonly (string | Error)[]): ReadableStream<Uint8Array> {
  let next = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const step = steps[next++];
      if (step === undefined) controller.close();
      else if (step instanceof Error) controller.error(step);
      else controller.enqueue(encoder.encode(step));
    },
  });
}

const ignore: StreamWatcher = { onMessage: () => {}, onEnd: () => {} };

/** Every chunk the stream yields, as bytes, until it ends. */
async function chunksOf(stream: ReadableStream<Uint8Array>): Promise<Uint8Array[]> {
  const chunks: Uint8Array[] = [];
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return chunks;
    chunks.push(value);
  }
}

const texts = (chunks: readonly Uint8Array[]) => chunks.map((chunk) => decoder.decode(chunk));
const size = (text: string) => encoder.encode(text).byteLength;
/** The comment `sseComment(bytes)` writes, as text. */
const comment = (bytes: number) => `:${' '.repeat(bytes - 3)}\n\n`;

/** The events an SSE client (the MCP SDK clients' parser) reads from `chunks`. */
async function eventsOf(chunks: readonly Uint8Array[]) {
  const events: { event?: string; data: string }[] = [];
  const reader = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  })
    .pipeThrough(new TextDecoderStream())
    .pipeThrough(new EventSourceParserStream())
    .getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return events;
    events.push({ event: value.event, data: value.data });
  }
}

describe('sseComment', () => {
  it('is a comment line of exactly the bytes asked for, ended by a blank line', () => {
    // Act
    const text = decoder.decode(sseComment(40));

    // Assess
    expect(text).toBe(`:${' '.repeat(37)}\n\n`);
    expect(size(text)).toBe(40);
  });

  it('is never shorter than a colon and a blank line', () => {
    // Act
    const texts = [-5, 0, 1, MIN_COMMENT_BYTES].map((bytes) => decoder.decode(sseComment(bytes)));

    // Assess
    expect(texts).toEqual([':\n\n', ':\n\n', ':\n\n', ':\n\n']);
  });
});

describe('FlushPadding', () => {
  it('pads what was written since the last flush up to the threshold, then counts afresh', () => {
    // Prepare
    const padding = new FlushPadding(100);

    // Act
    padding.wrote(30);
    padding.wrote(20);
    const first = padding.next();
    padding.wrote(10);
    const second = padding.next();

    // Assess
    expect([first.byteLength, second.byteLength]).toEqual([50, 90]);
  });
});

describe('passSse with a flush threshold', () => {
  it('follows each progress frame with a comment of its own that brings it to the threshold', async () => {
    // Prepare
    const sent = [frame(progress(1)), frame(progress(2)), frame(result)];

    // Act
    const chunks = texts(await chunksOf(passSse(upstream(sent), 7, ignore, THRESHOLD)));

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
    const chunks = texts(
      await chunksOf(passSse(upstream([frame(logMessage), frame(result)]), 7, ignore, THRESHOLD)),
    );

    // Assess
    expect(chunks[1]).toBe(comment(THRESHOLD - size(frame(logMessage))));
  });

  it('never pads the answer, whether it comes alone or with the notifications before it', async () => {
    // Prepare: progress and the answer in one upstream chunk
    const sent = [frame(progress(1)) + frame(result)];

    // Act
    const chunks = texts(await chunksOf(passSse(upstream(sent), 7, ignore, THRESHOLD)));

    // Assess: each frame its own chunk, and no comment at all
    expect(chunks).toEqual([frame(progress(1)), frame(result)]);
  });

  it('pads once after notifications that arrive together, counting all of them', async () => {
    // Prepare
    const together = frame(progress(1)) + frame(progress(2));

    // Act
    const chunks = texts(
      await chunksOf(passSse(upstream([together, frame(result)]), 7, ignore, THRESHOLD)),
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
    const chunks = texts(
      await chunksOf(passSse(upstream([frame(big), frame(result)]), 7, ignore, THRESHOLD)),
    );

    // Assess
    expect(chunks).toEqual([frame(big), ':\n\n', frame(result)]);
  });

  it('counts a keep-alive comment towards the threshold and pads nothing after it alone', async () => {
    // Prepare
    const keepAlive = ': keepalive\n\n';

    // Act
    const chunks = texts(
      await chunksOf(
        passSse(upstream([keepAlive, frame(progress(1)), frame(result)]), 7, ignore, THRESHOLD),
      ),
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
    const chunks = texts(
      await chunksOf(
        passSse(upstream([frame(progress(1)), new Error('socket hang up')]), 7, ignore, THRESHOLD),
      ),
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
    expect(texts(paddedChunks).filter((chunk) => chunk.startsWith(':'))).toHaveLength(3);
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
    const off = texts(await chunksOf(passSse(upstream(steps()), 7, ignore, 0)));
    const without = texts(await chunksOf(passSse(upstream(steps()), 7, ignore)));

    // Assess
    expect(off).toEqual(without);
    expect(off.join('')).toBe(steps().join(''));
    expect(off).toHaveLength(4);
  });
});
