/**
 * The MCP Lambda's answer under response streaming, against a stand-in of the Lambda runtime:
 * the metadata prelude first, then each SSE frame as it is produced, not the whole body at the
 * end; a whole (JSON) answer is one body after the prelude; and the buffered form.
 */
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { createMcpHandler, DEADLINE_MARGIN_MS } from '../../../lambda/mcp/handler';
import { bufferedResult, streamingHandler } from '../../../lambda/mcp/lambda-response';
import { moduleKit } from '../../../lambda/mcp/module-kit';
import { createLogger } from '../../../lambda/shared/logger';
import { buildPolicyTable } from '../../../lambda/shared/policy';
import { proxyEvent } from '../../support/apigw-events';
import { fakeStreamingRuntime, invokeStreaming } from '../../support/lambda-streaming-runtime';

let release: () => void = () => {};
/** Resolves when the tool is waiting to be released. */
let waitingNow: Promise<void> = Promise.resolve();
let markWaiting: () => void = () => {};
function expectWaiting() {
  waitingNow = new Promise((resolve) => {
    markWaiting = resolve;
  });
}
const define = moduleKit<null>();
const waiting = define.module({
  name: 'waiting',
  permissions: { wait: 'Wait' },
  tools: [
    define.tool({
      name: 'wait_then_answer',
      title: 'Wait, then answer',
      description: 'Reports progress, waits to be released, answers.',
      permission: 'wait',
      annotations: { readOnlyHint: true },
      input: z.object({}),
      output: z.object({ ok: z.boolean() }),
      async run(_input, { progress }) {
        await progress({ progress: 1, total: 2, message: 'waiting' });
        await new Promise<void>((resolve) => {
          release = resolve;
          markWaiting();
        });
        return { ok: true };
      },
      summarize: () => 'done',
    }),
  ],
  dependencies: () => null,
});

const handle = createMcpHandler({
  config: { allowedOrigins: [], maxBodyBytes: 1024 * 1024 },
  policy: buildPolicyTable({ roles: { waiter: ['wait'] }, modules: [waiting] }),
  modules: [{ module: waiting, deps: null }],
  logger: createLogger('mcp-server'),
});

const context = {
  awsRequestId: 'req-1',
  getRemainingTimeInMillis: () => 60_000,
} as unknown as Context;

/** The 2026-07-28 envelope of a client that asks for nothing. */
const ENVELOPE = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientInfo': { name: 't', version: '1' },
  'io.modelcontextprotocol/clientCapabilities': {},
};

/** A call of wait_then_answer: a 2025-11-25 one (with a progress token), or a 2026-07-28 one. */
function toolCall(
  progressToken?: string,
  era: 'legacy' | 'modern' = 'legacy',
): APIGatewayProxyEvent {
  const modern = era === 'modern';
  const meta = modern ? ENVELOPE : progressToken === undefined ? undefined : { progressToken };
  return proxyEvent({
    headers: {
      'Content-Type': 'application/json',
      Accept: 'application/json, text/event-stream',
      'MCP-Protocol-Version': modern ? '2026-07-28' : '2025-11-25',
      ...(modern ? { 'Mcp-Method': 'tools/call', 'Mcp-Name': 'wait_then_answer' } : {}),
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: {
        name: 'wait_then_answer',
        arguments: {},
        ...(meta === undefined ? {} : { _meta: meta }),
      },
    }),
    requestId: 'req-1',
    sourceIp: '203.0.113.9',
    caller: { principalId: 'w', authMethod: 'cognito', groups: ['waiter'], scopes: [], keyId: '' },
  });
}

describe('streamingHandler', () => {
  it('sends the metadata, then the progress frame while the tool is still waiting, then the result', async () => {
    // Act
    const invocation = invokeStreaming(
      streamingHandler(handle, fakeStreamingRuntime),
      toolCall('p1'),
      context,
    );
    const beforeRelease = await invocation.waitFor('notifications/progress');
    release();
    await invocation.done;
    const all = Buffer.concat(invocation.chunks.map((chunk) => chunk.data)).toString('utf8');

    // Assess: prelude JSON, eight NULs, then SSE frames
    const [prelude, body] = all.split('\0'.repeat(8));
    expect(JSON.parse(prelude as string)).toMatchObject({
      statusCode: 200,
      headers: expect.objectContaining({ 'content-type': 'text/event-stream' }),
    });
    expect(beforeRelease).not.toContain('"result"');
    expect(body).toMatch(/"progress":1[\s\S]*"result"/);
  });

  it('sends a whole JSON answer as one body after the metadata', async () => {
    // Prepare: an answer that is not streamed (an unknown tool is refused at the gate)
    const event = toolCall();
    event.body = JSON.stringify({
      jsonrpc: '2.0',
      id: 2,
      method: 'tools/call',
      params: { name: 'no_such_tool', arguments: {} },
    });

    // Act
    const invocation = invokeStreaming(
      streamingHandler(handle, fakeStreamingRuntime),
      event,
      context,
    );
    await invocation.done;
    const [prelude, body] = Buffer.concat(invocation.chunks.map((chunk) => chunk.data))
      .toString('utf8')
      .split('\0'.repeat(8));

    // Assess
    expect(JSON.parse(prelude as string)).toMatchObject({ statusCode: 200 });
    expect(JSON.parse(body as string)).toMatchObject({ id: 2, error: { code: -32602 } });
  });
});

describe('a call still running at the deadline', () => {
  /** A context with a Lambda that times out 100 ms after the handler's deadline margin. */
  const nearlyOut = {
    awsRequestId: 'req-2',
    getRemainingTimeInMillis: () => DEADLINE_MARGIN_MS + 100,
  } as unknown as Context;

  it.each([
    [
      '2026-07-28, answered in one body',
      false,
      /"error":\{"code":-32603,"message":"Internal error: the request did not finish in time"/,
    ],
    [
      '2025-11-25, streamed',
      true,
      /"code":-32603,"message":"Internal error: the answer was cut short"/,
    ],
  ])('ends %s with a JSON-RPC error, not a cut-off answer', async (_, legacy, expected) => {
    // Prepare: the tool never finishes on its own
    const event = legacy ? toolCall('p3') : toolCall(undefined, 'modern');

    // Act
    const result = await bufferedResult(handle)(event, nearlyOut);

    // Assess
    expect(result.body).toMatch(expected);
  });
});

describe('bufferedResult', () => {
  it('reads a streamed answer to its end into one proxy result', async () => {
    // Act
    expectWaiting();
    const pending = bufferedResult(handle)(toolCall('p2'), context);
    await waitingNow;
    release();
    const result = await pending;

    // Assess
    expect(result.statusCode).toBe(200);
    expect(result.body).toMatch(/"progress":1[\s\S]*"result"/);
  });
});
