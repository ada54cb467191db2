/**
 * The Lambda service on its own: execution environments kept warm and discarded, the exact
 * payload limits, the function timeout, init errors and crashes, the environment a function
 * sees, and what reaches its log group.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type FunctionDefinition,
  LambdaService,
  MAX_SYNC_REQUEST_BYTES,
  MAX_SYNC_RESPONSE_BYTES,
} from '../../../../../tools/local/emulator/lambda-service';
import { LogGroups } from '../../../../../tools/local/emulator/logs';

const CODE: Record<string, string> = {
  Worker: `
let invocations = 0;
exports.handler = async (event, context) => {
  invocations += 1;
  if (event && event.sleepMs) await new Promise((r) => setTimeout(r, event.sleepMs));
  if (event && event.respondBytes) return 'x'.repeat(event.respondBytes - 2);
  if (event && event.exit) process.exit(3);
  if (event && event.log) {
    console.log('hello', { n: 1 });
    console.error('oops');
    process.stdout.write('raw line\\n');
  }
  if (event && event.fetch) {
    try { await fetch(event.fetch); return 'reached'; } catch (error) { return String(error.cause && error.cause.code); }
  }
  return {
    invocations,
    requestId: context.awsRequestId,
    remaining: context.getRemainingTimeInMillis(),
    env: {
      region: process.env.AWS_REGION,
      name: process.env.AWS_LAMBDA_FUNCTION_NAME,
      memory: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
      handler: process.env._HANDLER,
      trace: process.env._X_AMZN_TRACE_ID,
      own: process.env.TABLE_NAME,
      execution: process.env.AWS_EXECUTION_ENV,
    },
  };
};
`,
  Broken: `throw new Error('cannot start');`,
  Hanging: `while (true) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);`,
  Unexported: `exports.other = async () => 1;`,
};

const dir = mkdtempSync(join(tmpdir(), 'emulator-lambda-'));
const logs = new LogGroups();
let service: LambdaService;

function definition(logicalId: string, timeoutSeconds = 1): FunctionDefinition {
  const codeDirectory = join(dir, logicalId);
  mkdirSync(codeDirectory, { recursive: true });
  writeFileSync(join(codeDirectory, 'index.js'), CODE[logicalId] as string);
  return {
    logicalId,
    functionName: `Stack-${logicalId}-ABC`,
    arn: `arn:aws:lambda:us-east-1:123456789012:function:Stack-${logicalId}-ABC`,
    codeDirectory,
    handler: 'index.handler',
    runtime: 'nodejs22.x',
    timeoutSeconds,
    memoryMb: 256,
    environment: { TABLE_NAME: 'records' },
    logGroupName: `/aws/lambda/Stack-${logicalId}-ABC`,
  };
}

beforeAll(() => {
  service = new LambdaService({
    functions: [
      definition('Worker'),
      definition('Broken'),
      definition('Unexported'),
      definition('Hanging'),
    ],
    region: 'us-east-1',
    endpoints: {},
    hosts: {},
    logs,
    initLimitMs: 200,
  });
});
afterAll(async () => {
  await service.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function invokeWorker(event: unknown) {
  const outcome = await service.invoke('Worker', event);
  if (outcome.kind !== 'result')
    throw new Error(`expected a result, got ${JSON.stringify(outcome)}`);
  return JSON.parse(outcome.payload);
}

describe('execution environments', () => {
  it('keep module state between invocations of a warm environment', async () => {
    const first = await invokeWorker({});
    const second = await invokeWorker({});

    expect(second.invocations).toBe(first.invocations + 1);
    expect(second.requestId).not.toBe(first.requestId);
  });

  it('are one per concurrent invocation', async () => {
    service.recycle('Worker');

    await Promise.all([invokeWorker({ sleepMs: 200 }), invokeWorker({ sleepMs: 200 })]);

    expect(service.environmentCount('Worker')).toBe(2);
  });

  it('give the function the variables of its template and of the runtime, a trace id per invocation', async () => {
    const { env } = await invokeWorker({});
    const again = await invokeWorker({});

    expect(env).toMatchObject({
      region: 'us-east-1',
      name: 'Stack-Worker-ABC',
      memory: '256',
      handler: 'index.handler',
      own: 'records',
      execution: 'AWS_Lambda_nodejs22.x',
      trace: expect.stringMatching(/^Root=1-[0-9a-f]{8}-[0-9a-f]{24};/),
    });
    expect(again.env.trace).not.toBe(env.trace);
  });

  it('count the remaining time down from the function timeout', async () => {
    const { remaining } = await invokeWorker({});

    expect(remaining).toBeGreaterThan(0);
    expect(remaining).toBeLessThanOrEqual(1_000);
  });

  it('reach no host of the internet: an unknown HTTPS name fails as DNS would', async () => {
    expect(await invokeWorker({ fetch: 'https://example.com/' })).toBe('ENOTFOUND');
  });
});

describe('the timeout', () => {
  it('ends the invocation with Sandbox.Timedout and discards the environment: the next one starts cold', async () => {
    service.recycle('Worker');
    await invokeWorker({});

    const outcome = await service.invoke('Worker', { sleepMs: 3_000 });
    const next = await invokeWorker({});

    expect(outcome).toMatchObject({
      kind: 'error',
      reason: 'TimedOut',
      error: {
        errorType: 'Sandbox.Timedout',
        errorMessage: expect.stringMatching(/Task timed out after 1\.00 seconds$/),
      },
    });
    expect(next.invocations).toBe(1);
  });
});

describe('payload limits', () => {
  it(`refuses an event of ${MAX_SYNC_REQUEST_BYTES} bytes ("must be smaller than 6291456 bytes"), takes one byte less`, async () => {
    const under = await service.invoke('Worker', 'x'.repeat(MAX_SYNC_REQUEST_BYTES - 3));
    const at = await service.invoke('Worker', 'x'.repeat(MAX_SYNC_REQUEST_BYTES - 2));

    expect(under.kind).toBe('result');
    expect(at).toEqual({ kind: 'request-too-large', bytes: MAX_SYNC_REQUEST_BYTES });
  });

  it('returns a buffered response of 6,291,556 bytes and refuses one byte more (Function.ResponseSizeTooLarge)', async () => {
    const at = await service.invoke('Worker', { respondBytes: MAX_SYNC_RESPONSE_BYTES });
    const over = await service.invoke('Worker', { respondBytes: MAX_SYNC_RESPONSE_BYTES + 1 });

    expect(at.kind).toBe('result');
    expect(over).toMatchObject({
      kind: 'error',
      reason: 'ResponseTooLarge',
      error: {
        errorType: 'Function.ResponseSizeTooLarge',
        errorMessage:
          'Response payload size (6291557 bytes) exceeded maximum allowed payload size (6291556 bytes).',
      },
    });
  });
});

describe('failures outside the handler', () => {
  it('reports an error thrown while the module loads as an init error', async () => {
    const outcome = await service.invoke('Broken', {});

    expect(outcome).toMatchObject({
      kind: 'error',
      reason: 'InitError',
      error: { errorMessage: 'cannot start' },
    });
  });

  it('reports a handler the module does not export as Runtime.HandlerNotFound', async () => {
    const outcome = await service.invoke('Unexported', {});

    expect(outcome).toMatchObject({
      kind: 'error',
      reason: 'InitError',
      error: { errorType: 'Runtime.HandlerNotFound' },
    });
  });

  it('times out an Init that never ends, after the Init limit and the function timeout', async () => {
    const outcome = await service.invoke('Hanging', {});

    expect(outcome).toMatchObject({
      kind: 'error',
      reason: 'TimedOut',
      error: { errorType: 'Sandbox.Timedout' },
    });
    expect(service.environmentCount('Hanging')).toBe(0);
  });

  it('reports a process that exits mid-invocation as Runtime.ExitError', async () => {
    const outcome = await service.invoke('Worker', { exit: true });

    expect(outcome).toMatchObject({
      kind: 'error',
      reason: 'Crashed',
      error: { errorType: 'Runtime.ExitError' },
    });
  });
});

describe("the function's log group", () => {
  it('gets START, the TEXT-format console lines, raw stdout, END and REPORT, in order', async () => {
    const group = '/aws/lambda/Stack-Worker-ABC';
    const from = logs.events(group).length;

    await service.invoke('Worker', { log: true });
    const lines = logs
      .events(group)
      .slice(from)
      .map((event) => event.message);

    expect(lines).toHaveLength(6);
    const [start, info, error, raw, end, report] = lines;
    const id = /^START RequestId: ([0-9a-f-]{36}) Version: \$LATEST$/.exec(start as string)?.[1];
    expect(id).toBeDefined();
    expect(info).toMatch(
      new RegExp(`^\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\t${id}\\tINFO\\thello \\{ n: 1 \\}$`),
    );
    expect(error).toBe(`${(error as string).split('\t')[0]}\t${id}\tERROR\toops`);
    expect(raw).toBe('raw line');
    expect(end).toBe(`END RequestId: ${id}`);
    expect(report).toMatch(
      new RegExp(
        `^REPORT RequestId: ${id}\\tDuration: [\\d.]+ ms\\tBilled Duration: \\d+ ms\\tMemory Size: 256 MB$`,
      ),
    );
  });
});
