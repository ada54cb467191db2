/**
 * The flush padding through the whole MCP handler and the Lambda streaming adapter (on a
 * stand-in of the runtime): what the Lambda writes with `streamFlushBytes` on and off, and the
 * MCP SDK clients (v1 and v2) reading a padded stream exactly as an unpadded one. Whether the
 * padding makes progress leave a Lambda in AWS at once is not shown here: only `npm run verify`
 * against a deployment shows that.
 */
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as LegacyTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import * as z from 'zod';
import { createMcpHandler } from '../../../lambda/mcp/handler';
import { lambdaHandlerFor } from '../../../lambda/mcp/lambda-entry';
import { streamingHandler } from '../../../lambda/mcp/lambda-response';
import { moduleKit } from '../../../lambda/mcp/module-kit';
import { createLogger } from '../../../lambda/shared/logger';
import { buildPolicyTable } from '../../../lambda/shared/policy';
import { proxyEvent } from '../../support/apigw-events';
import { type CapturedLogs, captureLogs } from '../../support/capture-logs';
import { fakeStreamingRuntime, invokeStreaming } from '../../support/lambda-streaming-runtime';

const THRESHOLD = 2048;

// The handler writes an audit record per call: kept off the test output.
let logs: CapturedLogs;
beforeAll(() => {
  logs = captureLogs();
});
afterAll(() => logs.restore());

const define = moduleKit<null>();
const counting = define.module({
  name: 'counting',
  permissions: { count: 'Count' },
  tools: [
    define.tool({
      name: 'count_to_three',
      title: 'Count to three',
      description: 'Reports each step, then answers.',
      permission: 'count',
      annotations: { readOnlyHint: true },
      input: z.object({}),
      output: z.object({ counted: z.number() }),
      async run(_input, { progress }) {
        for (const step of [1, 2, 3]) {
          await progress({ progress: step, total: 3, message: `step ${step}` });
        }
        return { counted: 3 };
      },
      summarize: (out) => `Counted to ${out.counted}.`,
    }),
  ],
  dependencies: () => null,
});

const POLICY = buildPolicyTable({ roles: { counter: ['count'] }, modules: [counting] });

/** The streaming Lambda handler as `lambda-entry.ts` builds it, with the flush given. */
function lambdaWith(streamFlushBytes?: number): unknown {
  return streamingHandler(
    createMcpHandler({
      config: { allowedOrigins: [], maxBodyBytes: 1024 * 1024 },
      policy: POLICY,
      modules: [{ module: counting, deps: null }],
      logger: createLogger('mcp-server'),
      ...(streamFlushBytes === undefined ? {} : { streamFlushBytes }),
    }),
    fakeStreamingRuntime,
  );
}

const context = {
  awsRequestId: 'req-1',
  getRemainingTimeInMillis: () => 60_000,
} as unknown as Context;

/** The proxy event API Gateway sends for a POST to /mcp by a counter. */
function eventFor(headers: Record<string, string>, body: string): APIGatewayProxyEvent {
  return proxyEvent({
    headers,
    body,
    requestId: 'req-1',
    sourceIp: '203.0.113.9',
    caller: { principalId: 'c', authMethod: 'cognito', groups: ['counter'], scopes: [], keyId: '' },
  });
}

/** What the Lambda wrote for one invocation: the metadata, and the body chunk by chunk. */
async function invoke(lambda: unknown, event: APIGatewayProxyEvent) {
  const invocation = invokeStreaming(lambda, event, context);
  await invocation.done;
  const [metadata, delimiter, ...body] = invocation.chunks.map((chunk) => chunk.data);
  expect(delimiter).toEqual(Buffer.alloc(8));
  return {
    metadata: JSON.parse(String(metadata)) as {
      statusCode: number;
      headers: Record<string, string>;
    },
    chunks: body.map((chunk) => chunk.toString('utf8')),
  };
}

const ENVELOPE = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientInfo': { name: 'flush-test', version: '1.0.0' },
  'io.modelcontextprotocol/clientCapabilities': {},
};

/** A tools/call of count_to_three: 2025-11-25 with a progress token, or 2026-07-28 without. */
function countCall(era: 'legacy' | 'modern'): APIGatewayProxyEvent {
  const legacy = era === 'legacy';
  return eventFor(
    {
      'Content-Type': 'application/json',
      Accept: 'application/json, text/event-stream',
      'MCP-Protocol-Version': legacy ? '2025-11-25' : '2026-07-28',
      ...(legacy ? {} : { 'Mcp-Method': 'tools/call', 'Mcp-Name': 'count_to_three' }),
    },
    JSON.stringify({
      jsonrpc: '2.0',
      id: 5,
      method: 'tools/call',
      params: {
        name: 'count_to_three',
        arguments: {},
        _meta: legacy ? { progressToken: 'p1' } : ENVELOPE,
      },
    }),
  );
}

const isComment = (chunk: string) => chunk.startsWith(':');
/** A chunk as `comment`, or the JSON-RPC message of its frame. */
const shown = (chunk: string) =>
  isComment(chunk) ? 'comment' : JSON.parse(/^data: (.*)$/m.exec(chunk)?.[1] ?? 'null');

describe('a streamed answer through the Lambda adapter, padding on', () => {
  it('follows each progress frame with a comment bringing it to the threshold, and ends with the unpadded result', async () => {
    // Act
    const { chunks } = await invoke(lambdaWith(THRESHOLD), countCall('legacy'));

    // Assess: progress, comment, progress, comment, progress, comment, result
    expect(chunks.map(shown)).toEqual([
      expect.objectContaining({
        method: 'notifications/progress',
        params: expect.objectContaining({ progress: 1 }),
      }),
      'comment',
      expect.objectContaining({ params: expect.objectContaining({ progress: 2 }) }),
      'comment',
      expect.objectContaining({ params: expect.objectContaining({ progress: 3 }) }),
      'comment',
      expect.objectContaining({ id: 5, result: expect.anything() }),
    ]);
    for (const at of [1, 3, 5]) {
      const frameAndComment = (chunks[at - 1] as string) + (chunks[at] as string);
      expect(Buffer.byteLength(frameAndComment)).toBe(THRESHOLD);
    }
  });

  it('leaves a JSON answer byte for byte as it is with the padding off', async () => {
    // Act
    const on = await invoke(lambdaWith(THRESHOLD), countCall('modern'));
    const off = await invoke(lambdaWith(0), countCall('modern'));

    // Assess
    expect(on.metadata.headers['content-type']).toMatch(/^application\/json/);
    expect(on.chunks.join('')).toBe(off.chunks.join(''));
    expect(on.chunks.some(isComment)).toBe(false);
  });
});

describe('a streamed answer through the Lambda adapter, padding off', () => {
  it('is byte for byte what a handler built without the option writes', async () => {
    // Act
    const off = await invoke(lambdaWith(0), countCall('legacy'));
    const without = await invoke(lambdaWith(), countCall('legacy'));

    // Assess
    expect(off).toEqual(without);
    expect(off.chunks.some(isComment)).toBe(false);
    expect(off.chunks.join('')).toMatch(/"progress":3[\s\S]*"result"/);
  });
});

describe('the Lambda entry', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.unstubAllGlobals();
  });

  it('pads a streamed answer to the STREAM_FLUSH_BYTES it is given', async () => {
    // Prepare: in Lambda, the runtime's awslambda is there before the module loads
    vi.stubEnv('STREAM_FLUSH_BYTES', '1024');
    vi.stubGlobal('awslambda', fakeStreamingRuntime);

    // Act
    const { chunks } = await invoke(lambdaHandlerFor([counting], POLICY), countCall('legacy'));

    // Assess
    expect(chunks.filter(isComment)).toHaveLength(3);
    expect(Buffer.byteLength((chunks[0] as string) + (chunks[1] as string))).toBe(1024);
  });

  it('pads nothing when it answers buffered, outside Lambda', async () => {
    // Prepare: no awslambda, the stack's default threshold
    vi.stubGlobal('awslambda', undefined);
    const handler = lambdaHandlerFor([counting], POLICY) as (
      event: APIGatewayProxyEvent,
      context: Context,
    ) => Promise<{ body: string }>;

    // Act
    const { body } = await handler(countCall('legacy'), context);

    // Assess
    expect(body).toMatch(/"progress":3[\s\S]*"result"/);
    expect(body).not.toMatch(/^:/m);
  });
});

/**
 * A `fetch` that answers through the streaming Lambda handler, as API Gateway would: the
 * metadata becomes the status and headers, the rest the body, chunk by chunk. Each body it
 * returned is kept, to show what the client read.
 */
function lambdaFetch(lambda: unknown) {
  const bodies: string[][] = [];
  const fetch = async (url: string | URL, init?: RequestInit): Promise<Response> => {
    const request = new Request(url, init);
    const event = eventFor(Object.fromEntries(request.headers), await request.text());
    event.httpMethod = request.method;
    const { metadata, chunks } = await invoke(lambda, event);
    bodies.push(chunks);
    const body =
      chunks.length === 0
        ? null
        : new ReadableStream<Uint8Array>({
            start(controller) {
              for (const chunk of chunks) controller.enqueue(new TextEncoder().encode(chunk));
              controller.close();
            },
          });
    return new Response(body, { status: metadata.statusCode, headers: metadata.headers });
  };
  return { fetch, bodies };
}

const MCP_URL = new URL('https://mcp.example.com/prod/mcp');

/** What a client heard from one call of count_to_three: progress updates and the result. */
interface Heard {
  progress: unknown[];
  result: unknown;
}

const CLIENTS: Record<string, (fetch: ReturnType<typeof lambdaFetch>['fetch']) => Promise<Heard>> =
  {
    'SDK v1 (2025-11-25)': async (fetch) => {
      const client = new LegacyClient({ name: 'flush-test', version: '1.0.0' });
      await client.connect(new LegacyTransport(MCP_URL, { fetch }));
      try {
        const progress: unknown[] = [];
        const result = await client.callTool({ name: 'count_to_three', arguments: {} }, undefined, {
          onprogress: (update) => progress.push(update),
        });
        return { progress, result };
      } finally {
        await client.close();
      }
    },
    'SDK v2 (2026-07-28)': async (fetch) => {
      const client = new Client(
        { name: 'flush-test', version: '1.0.0' },
        { versionNegotiation: { mode: { pin: '2026-07-28' } } },
      );
      await client.connect(new StreamableHTTPClientTransport(MCP_URL, { fetch }));
      try {
        const progress: unknown[] = [];
        const result = await client.callTool(
          { name: 'count_to_three', arguments: {} },
          { onprogress: (update) => progress.push(update) },
        );
        return { progress, result };
      } finally {
        await client.close();
      }
    },
  };

describe.each(Object.keys(CLIENTS))('the MCP %s client', (name) => {
  const heard = CLIENTS[name] as (typeof CLIENTS)[string];

  it('hears the same progress and result from a padded stream as from an unpadded one', async () => {
    // Prepare
    const padded = lambdaFetch(lambdaWith(THRESHOLD));
    const plain = lambdaFetch(lambdaWith(0));

    // Act
    const fromPadded = await heard(padded.fetch);
    const fromPlain = await heard(plain.fetch);

    // Assess: the call's stream was padded, and the client read the same through it
    expect(padded.bodies.flat().filter(isComment)).toHaveLength(3);
    expect(fromPadded).toEqual(fromPlain);
    expect(fromPadded.progress).toEqual([
      { progress: 1, total: 3, message: 'step 1' },
      { progress: 2, total: 3, message: 'step 2' },
      { progress: 3, total: 3, message: 'step 3' },
    ]);
    expect(fromPadded.result).toMatchObject({ structuredContent: { counted: 3 } });
  });
});
