/**
 * A Lambda proxy integration in STREAM mode, end to end: the runtime's deferred metadata
 * prelude, what API Gateway does with output that does not conform, a stream that ends early
 * or fails mid-way, and the opt-in model of AWS's front end holding small writes.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Served, serve, TestApi } from '../../../../support/test-api';

const signals = mkdtempSync(join(tmpdir(), 'emulator-signals-'));
mkdirSync(signals, { recursive: true });
let counter = 0;
/** A name the handler waits for (`until(name)`) until the test calls `go()`. */
function signal(): { name: string; go: () => void } {
  counter += 1;
  const name = `s${counter}`;
  return { name, go: () => writeFileSync(join(signals, name), '') };
}

/** One streaming handler, its behaviour chosen by `?case=`. */
const STREAMER = `
const fs = require('node:fs');
const path = require('node:path');
const until = async (name) => {
  while (!fs.existsSync(path.join(process.env.SIGNALS, name))) await new Promise((r) => setTimeout(r, 10));
};
const metadata = { statusCode: 201, headers: { 'content-type': 'text/plain', 'x-custom': 'kept', 'www-authenticate': 'Bearer' } };
exports.handler = awslambda.streamifyResponse(async (event, stream) => {
  const q = event.queryStringParameters || {};
  switch (q.case) {
    case 'write-then-wait': {
      const s = awslambda.HttpResponseStream.from(stream, metadata);
      s.write('first;');
      await until(q.signal);
      s.write('second');
      s.end();
      return;
    }
    case 'fail-before-write':
      awslambda.HttpResponseStream.from(stream, metadata);
      throw new Error('before any write');
    case 'end-with-chunk':
      awslambda.HttpResponseStream.from(stream, metadata).end('Not Found');
      return;
    case 'end-empty':
      awslambda.HttpResponseStream.from(stream, metadata).end();
      return;
    case 'fail-mid-stream': {
      const s = awslambda.HttpResponseStream.from(stream, metadata);
      s.write('part;');
      await new Promise((r) => setTimeout(r, 20));
      throw new Error('mid-stream');
    }
    case 'fail-after-end': {
      const s = awslambda.HttpResponseStream.from(stream, metadata);
      s.write('all');
      s.end();
      throw new Error('after the end');
    }
    case 'work-after-end': {
      const s = awslambda.HttpResponseStream.from(stream, metadata);
      s.write('done');
      s.end();
      await until(q.signal);
      return;
    }
    case 'late-delimiter':
      stream.write(JSON.stringify({ statusCode: 200, headers: { pad: 'x'.repeat(17000) } }));
      stream.write(new Uint8Array(8));
      stream.end();
      return;
    case 'unsupported-key': {
      const s = awslambda.HttpResponseStream.from(stream, { statusCode: 200, body: 'no' });
      s.write('x');
      s.end();
      return;
    }
    case 'hand-written-prelude':
      stream.write(JSON.stringify({ statusCode: 202, headers: { 'x-hand': 'yes' } }));
      stream.write(new Uint8Array(8));
      stream.end('raw');
      return;
    case 'never-ends': {
      const s = awslambda.HttpResponseStream.from(stream, metadata);
      if (q.write === 'yes') s.write('partial;');
      return;
    }
    case 'small-then-wait': {
      const s = awslambda.HttpResponseStream.from(stream, metadata);
      s.write('a'.repeat(Number(q.first)));
      console.log('wrote the first chunk');
      await until(q.signal);
      s.write('b'.repeat(100));
      s.end();
      return;
    }
    default:
      throw new Error('no such case');
  }
});
`;

/** A streaming function whose cold start lasts until its signal file exists. */
const SLOW_START = `
const fs = require('node:fs');
const path = require('node:path');
const file = path.join(process.env.SIGNALS, process.env.START_SIGNAL);
while (!fs.existsSync(file)) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
exports.handler = awslambda.streamifyResponse(async (event, stream) => {
  awslambda.HttpResponseStream.from(stream, { statusCode: 200 }).end();
});
`;
const slowStart = signal();

function build(): TestApi {
  const api = new TestApi();
  api.function('SlowStart', SLOW_START, {
    environment: { SIGNALS: signals, START_SIGNAL: slowStart.name },
  });
  api.method('/slow-start', 'GET', {
    function: 'SlowStart',
    lambda: { stream: true, timeoutMs: 300 },
  });
  api.function('Streamer', STREAMER, { timeout: 30, environment: { SIGNALS: signals } });
  api.function('Short', STREAMER, { timeout: 1, environment: { SIGNALS: signals } });
  api.method('/stream', 'GET', {
    function: 'Streamer',
    lambda: { stream: true, timeoutMs: 60_000 },
  });
  api.method('/short', 'GET', { function: 'Short', lambda: { stream: true, timeoutMs: 60_000 } });
  api.method('/quick', 'GET', { function: 'Streamer', lambda: { stream: true, timeoutMs: 300 } });
  return api;
}

/** Read a response body to its end, or to the connection's cut. */
async function readAll(response: Response): Promise<{ text: string; cut: boolean }> {
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const chunks: Uint8Array[] = [];
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { text: Buffer.concat(chunks).toString('utf8'), cut: false };
      chunks.push(value);
    }
  } catch {
    return { text: Buffer.concat(chunks).toString('utf8'), cut: true };
  }
}

/** Read until at least `bytes` have arrived. */
async function readAtLeast(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  bytes: number,
): Promise<string> {
  let text = '';
  while (text.length < bytes) {
    const { done, value } = await reader.read();
    if (done) break;
    text += Buffer.from(value).toString('utf8');
  }
  return text;
}

let served: Served;
beforeAll(async () => {
  served = await serve(build());
});
afterAll(async () => {
  await served.stop();
  rmSync(signals, { recursive: true, force: true });
});

describe("the runtime's metadata prelude", () => {
  it('goes out with the first write: status and headers reach the client before the stream ends', async () => {
    const { name, go } = signal();
    const response = await served.fetch(`/stream?case=write-then-wait&signal=${name}`);
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();

    const first = await readAtLeast(reader, 'first;'.length);
    go();
    const rest = await readAtLeast(reader, 'second'.length);

    expect(response.status).toBe(201);
    expect(response.headers.get('x-custom')).toBe('kept');
    expect(`${first}${rest}`).toBe('first;second');
  });

  it('is not written by HttpResponseStream.from: a function failing before its first write sent no status (502)', async () => {
    const response = await served.fetch('/stream?case=fail-before-write');

    expect(response.status).toBe(502);
    expect(await response.json()).toEqual({ message: 'Internal server error' });
  });

  it("is skipped by end('x') with no write before: the output does not conform (500)", async () => {
    const response = await served.fetch('/stream?case=end-with-chunk');

    expect(response.status).toBe(500);
    expect(await response.text()).not.toContain('Not Found');
  });

  it('is skipped by a bare end(): no output conforms (500)', async () => {
    expect((await served.fetch('/stream?case=end-empty')).status).toBe(500);
  });

  it('may be written by hand, the eight NUL bytes after it, and end(chunk) then carries the body', async () => {
    const response = await served.fetch('/stream?case=hand-written-prelude');

    expect(response.status).toBe(202);
    expect(response.headers.get('x-hand')).toBe('yes');
    expect(await response.text()).toBe('raw');
  });
});

describe('the streamed response API Gateway sends', () => {
  it('has its headers remapped as a buffered one (assumed: AWS does not say) and chunked framing added', async () => {
    const { name, go } = signal();
    const response = await served.fetch(`/stream?case=write-then-wait&signal=${name}`);
    go();
    await response.text();

    expect(response.headers.get('www-authenticate')).toBeNull();
    expect(response.headers.get('x-amzn-remapped-www-authenticate')).toBe('Bearer');
    expect(response.headers.get('transfer-encoding')).toBe('chunked');
  });

  it('is a 500 when the delimiter comes after the first 16 KB', async () => {
    expect((await served.fetch('/stream?case=late-delimiter')).status).toBe(500);
  });

  it('is a 500 when the metadata has a key other than the four supported', async () => {
    expect((await served.fetch('/stream?case=unsupported-key')).status).toBe(500);
  });
});

describe('a stream that ends early or fails', () => {
  it('is cut after the headers when the function fails mid-way: the client sees what was written, then the cut', async () => {
    const response = await served.fetch('/stream?case=fail-mid-stream');

    const body = await readAll(response);

    expect(response.status).toBe(201);
    expect(body).toEqual({ text: 'part;', cut: true });
  });

  it('is whole when the function fails after ending it: the runtime loses that error', async () => {
    const response = await served.fetch('/stream?case=fail-after-end');

    expect(await readAll(response)).toEqual({ text: 'all', cut: false });
  });

  it('ends for the client when the function ends it, while the function still runs', async () => {
    const { name, go } = signal();
    const response = await served.fetch(`/stream?case=work-after-end&signal=${name}`);

    const body = await readAll(response);
    go();

    expect(body).toEqual({ text: 'done', cut: false });
  });

  it('runs into the function timeout when the handler returns without ending it, and is cut', async () => {
    const response = await served.fetch('/short?case=never-ends&write=yes');

    const body = await readAll(response);

    expect(body).toEqual({ text: 'partial;', cut: true });
    const logged = served.emulator.logs.events().map((event) => event.message);
    expect(logged.some((line) => /Task timed out after 1\.00 seconds/.test(line))).toBe(true);
  });

  it('is a 502 when the handler returned without writing anything and the timeout struck', async () => {
    expect((await served.fetch('/short?case=never-ends')).status).toBe(502);
  });

  it('is a 504 at the integration timeout while the function is still starting cold', async () => {
    const response = await served.fetch('/slow-start');
    slowStart.go();

    expect(response.status).toBe(504);
  });

  it('is a 504 when nothing came before the integration timeout', async () => {
    const response = await served.fetch('/quick?case=never-ends');

    expect(response.status).toBe(504);
    expect(await response.json()).toEqual({ message: 'Endpoint request timed out' });
  });
});

describe('holdStreamedWritesBelowBytes: the front end holding small writes, as users report', () => {
  let holding: Served;
  beforeAll(async () => {
    holding = await serve(build(), { holdStreamedWritesBelowBytes: 1_000 });
  });
  afterAll(() => holding.stop());

  async function firstBytesBeforeTheSignal(target: Served, first: number) {
    const { name, go } = signal();
    const logged = new Promise<void>((resolve) => {
      const stop = target.emulator.logs.subscribe((event) => {
        if (event.message.includes('wrote the first chunk')) {
          stop();
          resolve();
        }
      });
    });
    const response = await target.fetch(
      `/stream?case=small-then-wait&first=${first}&signal=${name}`,
    );
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const early = reader.read().then(({ value }) => Buffer.from(value ?? []).length);
    await logged;
    const before = await Promise.race([
      early,
      new Promise<'nothing'>((r) => setTimeout(() => r('nothing'), 500)),
    ]);
    go();
    await early;
    await reader.cancel();
    return before;
  }

  it('off (the default), a 100-byte write leaves at once', async () => {
    expect(await firstBytesBeforeTheSignal(served, 100)).toBe(100);
  });

  it('on, a 100-byte write waits for more while headers have already gone', async () => {
    expect(await firstBytesBeforeTheSignal(holding, 100)).toBe('nothing');
  });

  it('on, writes leave as soon as the threshold is pending', async () => {
    expect(await firstBytesBeforeTheSignal(holding, 1_000)).toBeGreaterThanOrEqual(1_000);
  });

  it('on, what is held leaves when the stream ends', async () => {
    const { name, go } = signal();
    const response = await holding.fetch(`/stream?case=small-then-wait&first=10&signal=${name}`);
    go();

    expect(await readAll(response)).toEqual({
      text: `${'a'.repeat(10)}${'b'.repeat(100)}`,
      cut: false,
    });
  });
});
