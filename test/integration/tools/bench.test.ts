/**
 * The benchmark harness on tiny, hand-made input: CI never times anything, but a broken
 * percentile or package grouping would make every published figure wrong, and a harness that
 * measured failed requests would publish fast lies.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CustomerRecord } from '../../../modules/customer-records/store/customer-record';
import { sampleRecords } from '../../../modules/customer-records/store/sample-records';
import {
  BUNDLE_TARGETS,
  type BundleReport,
  buildBundle,
  verdict,
} from '../../../tools/bench/bundle-size';
import { COLD_TARGETS, medianAbove, runColdInit, spread } from '../../../tools/bench/cold-init';
import { attribute, moduleOfSource } from '../../../tools/bench/cold-profile';
import { runEndToEnd } from '../../../tools/bench/end-to-end';
import {
  answerOf,
  benchAnalyst,
  GET_RECORD_CALL,
  INITIALIZE_REQUEST,
  MODERN_PROTOCOL_VERSION,
  mcpEvent,
  modernMcpEvent,
  SERVER_DISCOVER_REQUEST,
} from '../../../tools/bench/events';
import {
  buildDesigns,
  compareWithExpress,
  memoryStore,
  toolCallResult,
} from '../../../tools/bench/express-comparison';
import { runKeyDocument } from '../../../tools/bench/key-document';
import { proxyHandler, proxySourceOf } from '../../../tools/bench/proxy-adapter';
import { quietly } from '../../../tools/bench/quietly';
import {
  contributorsByPackage,
  type MetafileOutputs,
  measure,
  measureAlternating,
  packageOf,
  percentile,
} from '../../../tools/bench/stats';
import { loadSigningKey } from '../../../tools/local/identity';
import { proxyEvent } from '../../support/apigw-events';
import { testAssembly } from '../../support/test-assembly';

/**
 * A fake clock and a function that "takes" the next of `durations` (ns) by advancing it: the
 * measured latencies are exactly the durations, with no real time involved.
 */
function timedCalls(durations: readonly number[]) {
  let now = 0n;
  let next = 0;
  return {
    clock: () => now,
    fn: () => {
      now += BigInt(durations[next++] ?? 0);
    },
    calls: () => next,
  };
}

describe('percentile', () => {
  it('returns the nearest-rank value of an unsorted input', () => {
    // Prepare: 1..100 shuffled, so sorting is part of what is checked.
    const values = Array.from({ length: 100 }, (_, i) => ((i * 37) % 100) + 1);

    // Act & Assess
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile(values, 100)).toBe(100);
  });

  it('reports a latency that occurred instead of interpolating between two', () => {
    expect(percentile([10, 20], 50)).toBe(10);
    expect(percentile([10, 20], 99)).toBe(20);
  });

  it('gives 0 for no samples and refuses a percentile outside (0, 100]', () => {
    expect(percentile([], 50)).toBe(0);
    expect(() => percentile([1], 0)).toThrow(RangeError);
    expect(() => percentile([1], 101)).toThrow(RangeError);
  });
});

describe('measure', () => {
  it('runs the warm-up untimed, then derives ops/s from the whole timed loop', async () => {
    // Prepare: 3 warm-up calls of 7 ms each, then 100 calls of 1 ms, and one of them 5 ms.
    const timed = [...Array.from({ length: 99 }, () => 1_000_000), 5_000_000];
    const { clock, fn, calls } = timedCalls([7_000_000, 7_000_000, 7_000_000, ...timed]);

    // Act
    const result = await measure(fn, { iterations: 100, warmup: 3, clock });

    // Assess: 100 calls in 104 ms; the warm-up's 21 ms are not counted.
    expect(calls()).toBe(103);
    expect(result.iterations).toBe(100);
    expect(result.opsPerSecond).toBeCloseTo(100 / 0.104, 6);
    expect(result.p50Ms).toBe(1);
  });

  it('puts a slow tail in p99 but not in p50', async () => {
    // Prepare: 2 of 100 calls take 9 ms, the rest 1 ms.
    const { clock, fn } = timedCalls(
      Array.from({ length: 100 }, (_, i) => (i % 50 === 0 ? 9_000_000 : 1_000_000)),
    );

    // Act
    const result = await measure(fn, { iterations: 100, warmup: 0, clock });

    // Assess
    expect(result.p50Ms).toBe(1);
    expect(result.p99Ms).toBe(9);
  });

  it('awaits each call before timing the next', async () => {
    // Prepare: an async call that finishes on a later tick.
    let inFlight = 0;
    let most = 0;
    const fn = async () => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      inFlight--;
    };

    // Act
    await measure(fn, { iterations: 5, warmup: 2 });

    // Assess
    expect(most).toBe(1);
  });
});

describe('measureAlternating', () => {
  /** A clock advanced by each call: `a` takes 1 ms, `b` 3 ms; the call order is recorded. */
  function pair() {
    let now = 0n;
    const order: string[] = [];
    return {
      order,
      clock: () => now,
      a: () => {
        order.push('a');
        now += 1_000_000n;
      },
      b: () => {
        order.push('b');
        now += 3_000_000n;
      },
    };
  }

  it('alternates single calls and which of the two goes first', async () => {
    // Prepare
    const { order, clock, a, b } = pair();

    // Act
    const [ma, mb] = await measureAlternating(a, b, { iterations: 4, warmup: 1, clock });

    // Assess: warm-up a b, then a b, b a, a b, b a; each side's ops/s from its own time only.
    expect(order.join('')).toBe('ababbaabba');
    expect(ma).toEqual({ iterations: 4, opsPerSecond: 1000, p50Ms: 1, p99Ms: 1 });
    expect(mb.opsPerSecond).toBeCloseTo(1000 / 3, 9);
    expect(mb.p50Ms).toBe(3);
  });

  it('alternates blocks of calls, the last one short', async () => {
    // Prepare
    const { order, clock, a, b } = pair();

    // Act
    const [ma, mb] = await measureAlternating(a, b, { iterations: 5, warmup: 0, block: 2, clock });

    // Assess
    expect(order.join('')).toBe('aabb' + 'bbaa' + 'ab');
    expect(ma.iterations).toBe(5);
    expect(ma.opsPerSecond).toBe(1000);
    expect(mb.opsPerSecond).toBeCloseTo(1000 / 3, 9);
  });

  it('refuses a block that is not a positive integer', async () => {
    const { a, b } = pair();
    await expect(measureAlternating(a, b, { iterations: 1, warmup: 0, block: 0 })).rejects.toThrow(
      RangeError,
    );
  });
});

describe('packageOf', () => {
  it('names plain and scoped packages, nested node_modules by the innermost one', () => {
    expect(packageOf('node_modules/zod/v4/locales/de.js')).toBe('zod');
    expect(packageOf('node_modules/@modelcontextprotocol/sdk/dist/cjs/types.js')).toBe(
      '@modelcontextprotocol/sdk',
    );
    expect(packageOf('node_modules/ajv/node_modules/fast-uri/index.js')).toBe('fast-uri');
    expect(packageOf('C:\\app\\node_modules\\@aws-lambda-powertools\\logger\\lib\\x.js')).toBe(
      '@aws-lambda-powertools/logger',
    );
  });

  it('counts everything outside node_modules as the project', () => {
    expect(packageOf('lambda/mcp/handler.ts')).toBe('project');
  });
});

describe('contributorsByPackage', () => {
  const metafile: MetafileOutputs = {
    outputs: {
      'out/index.js': {
        bytes: 1_000,
        inputs: {
          'lambda/mcp/index.ts': { bytesInOutput: 50 },
          'lambda/mcp/handler.ts': { bytesInOutput: 150 },
          'node_modules/zod/v4/core/core.js': { bytesInOutput: 300 },
          'node_modules/zod/v4/locales/de.js': { bytesInOutput: 200 },
          'node_modules/@modelcontextprotocol/sdk/dist/cjs/types.js': { bytesInOutput: 250 },
          'node_modules/ajv/dist/ajv.js': { bytesInOutput: 0 },
        },
      },
      'out/index.js.map': { bytes: 5_000, inputs: {} },
    },
  };

  it('sums the bytes in the output per package, largest first', () => {
    // Act
    const contributors = contributorsByPackage(metafile, 'out/index.js');

    // Assess
    expect(contributors).toEqual([
      { name: 'zod', bytes: 500 },
      { name: '@modelcontextprotocol/sdk', bytes: 250 },
      { name: 'project', bytes: 200 },
      { name: 'ajv', bytes: 0 },
    ]);
  });

  it('fails loudly when asked for an output the build did not write', () => {
    expect(() => contributorsByPackage(metafile, 'elsewhere/index.js')).toThrow(
      'The metafile has no output elsewhere/index.js',
    );
  });
});

describe('verdict', () => {
  const report = (bytes: number, limitKb: number | null): BundleReport => ({
    name: 'mcp',
    entry: 'lambda/mcp/index.ts',
    bytes,
    limitKb,
    top: [],
  });

  it('says by how much a bundle is over its target', () => {
    expect(verdict(report(400 * 1024 + 512, 400))).toBe('over by 0.5 KB');
  });

  it('passes a bundle at or under its target and says the margin', () => {
    expect(verdict(report(390 * 1024, 400))).toBe('ok (10.0 KB under)');
    expect(verdict(report(400 * 1024, 400))).toBe('ok (0.0 KB under)');
  });

  it('judges nothing when there is no target', () => {
    expect(verdict(report(1, null))).toBe('no target');
  });
});

describe('medianAbove', () => {
  it('pairs each run with the floor run of its round before taking the median', () => {
    // Prepare: differences by round are 10, 50 and 6; the medians of each side alone (61 and
    // 55) would say 6.
    const values = [100, 60, 61];
    const floor = [90, 10, 55];

    // Act & Assess
    expect(medianAbove(values, floor)).toBe(10);
  });

  it('refuses runs that cannot be paired', () => {
    expect(() => medianAbove([1, 2], [1])).toThrow(RangeError);
  });
});

describe('spread', () => {
  it('gives the nearest-rank median and p90 and the minimum', () => {
    expect(spread([5, 1, 4, 2, 3, 10, 9, 8, 7, 6])).toEqual({ p50: 5, p90: 9, min: 1 });
  });
});

const PROJECT_ROOT = resolve(import.meta.dirname, '../../..');

/** The first sample record as the store returns it. */
function seededRecord(): CustomerRecord {
  const [sample] = sampleRecords(1);
  if (sample === undefined) throw new Error('no sample record');
  const at = '2026-01-01T00:00:00.000Z';
  return { ...sample.fields, id: sample.id, createdAt: at, updatedAt: at };
}

describe('proxyHandler (the serverless-http-style adapter)', () => {
  it('hands a Node listener the event as a request and returns what it wrote', async () => {
    // Prepare: a listener that echoes what it received.
    const seen: { method?: string; url?: string; headers?: IncomingMessage['headers'] } = {};
    let source: unknown;
    const handler = proxyHandler((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        Object.assign(seen, { method: req.method, url: req.url, headers: req.headers });
        source = proxySourceOf(req)?.event;
        res.statusCode = 201;
        res.setHeader('X-Echo', 'yes');
        res.end(`got ${Buffer.concat(chunks).toString('utf8')}`);
      });
    });
    const event = proxyEvent({
      method: 'PUT',
      path: '/things',
      headers: { 'Content-Type': 'text/plain' },
      query: { q: 'a b' },
      body: Buffer.from('héllo').toString('base64'),
      isBase64Encoded: true,
      sourceIp: '127.0.0.1',
    });

    // Act
    const result = await handler(event);

    // Assess
    expect(seen).toMatchObject({
      method: 'PUT',
      url: '/things?q=a+b',
      // No Host header in the event: the host API Gateway was reached at.
      headers: {
        'content-type': 'text/plain',
        'content-length': '6',
        host: event.requestContext.domainName,
      },
    });
    expect(source).toBe(event);
    expect(result).toMatchObject({ statusCode: 201, body: 'got héllo' });
    expect(result.headers).toMatchObject({ 'x-echo': 'yes' });
  });
});

describe('the Express baseline', () => {
  it('answers tools/call exactly as our handler does', async () => {
    // Prepare
    const { ours, express } = buildDesigns(memoryStore([seededRecord()]));
    const call = mcpEvent(benchAnalyst(), GET_RECORD_CALL);

    // Act
    const [a, b] = await quietly(() => Promise.all([ours(call), express(call)]));

    // Assess
    expect(b.statusCode).toBe(200);
    expect(toolCallResult(b)).toEqual(toolCallResult(a));
    expect(toolCallResult(b)).toMatchObject({
      structuredContent: { found: true, record: { id: 'cust-0001' } },
    });
  });

  it('answers initialize through McpServer and the Node transport, in SSE as ours does', async () => {
    // Prepare
    const { ours, express } = buildDesigns(memoryStore([]));
    const initialize = mcpEvent(benchAnalyst(), INITIALIZE_REQUEST);

    // Act
    const [a, b] = await quietly(() => Promise.all([ours(initialize), express(initialize)]));

    // Assess
    expect(a.headers?.['content-type']).toMatch(/^text\/event-stream/);
    expect(b.headers?.['content-type']).toMatch(/^text\/event-stream/);
    expect(b.statusCode).toBe(200);
    expect(answerOf(b.body)).toMatchObject({
      id: 1,
      result: { serverInfo: { name: 'secure-mcp-lambda' }, capabilities: { tools: {} } },
    });
  });

  it('refuses a request without an authorizer context', async () => {
    // Prepare
    const { express } = buildDesigns(memoryStore([]));
    const call = mcpEvent(benchAnalyst(), GET_RECORD_CALL);
    const anonymous = { ...call, requestContext: { ...call.requestContext, authorizer: null } };

    // Act
    const result = await quietly(() => express(anonymous));

    // Assess
    expect(result.statusCode).toBe(401);
  });

  it('is compared with our handler on both store wirings', async () => {
    // Act
    const comparisons = await compareWithExpress({ iterations: 3, warmup: 1 });

    // Assess
    expect(comparisons.map((c) => c.store)).toEqual(['dynalite', 'memory']);
    for (const c of comparisons) {
      expect(c.ours.iterations).toBe(3);
      expect(c.express.iterations).toBe(3);
      expect(c.ratio).toBeCloseTo(c.ours.opsPerSecond / c.express.opsPerSecond, 9);
    }
  });
});

describe('our handler in the bench', () => {
  it('answers the 2026-07-28 tools/call the bench times in JSON, as the 2025 one in SSE', async () => {
    // Prepare
    const { ours } = buildDesigns(memoryStore([seededRecord()]));
    const analyst = benchAnalyst();

    // Act
    const [legacy, modern] = await quietly(() =>
      Promise.all([
        ours(mcpEvent(analyst, GET_RECORD_CALL)),
        ours(modernMcpEvent(analyst, GET_RECORD_CALL)),
      ]),
    );

    // Assess
    expect(legacy.headers?.['content-type']).toMatch(/^text\/event-stream/);
    expect(modern.headers?.['content-type']).toMatch(/^application\/json/);
    expect(toolCallResult(modern)).toMatchObject({
      ...(toolCallResult(legacy) as Record<string, unknown>),
      resultType: 'complete',
    });
  });

  it('answers server/discover, the first request of a 2026-07-28 client', async () => {
    // Prepare
    const { ours } = buildDesigns(memoryStore([]));

    // Act
    const result = await quietly(() =>
      ours(modernMcpEvent(benchAnalyst(), SERVER_DISCOVER_REQUEST)),
    );

    // Assess
    expect(result.statusCode).toBe(200);
    expect(answerOf(result.body)).toMatchObject({
      id: 1,
      result: { supportedVersions: expect.arrayContaining([MODERN_PROTOCOL_VERSION]) },
    });
  });
});

describe('modernMcpEvent', () => {
  it('adds the envelope to the request and the headers the SDK checks against it', () => {
    // Act
    const event = modernMcpEvent(benchAnalyst(), GET_RECORD_CALL);

    // Assess
    expect(event.headers).toMatchObject({
      'MCP-Protocol-Version': MODERN_PROTOCOL_VERSION,
      'Mcp-Method': 'tools/call',
      'Mcp-Name': 'get_record',
    });
    expect(JSON.parse(event.body ?? '')).toMatchObject({
      params: {
        name: 'get_record',
        arguments: { id: 'cust-0001' },
        _meta: {
          'io.modelcontextprotocol/protocolVersion': MODERN_PROTOCOL_VERSION,
          'io.modelcontextprotocol/clientInfo': { name: 'mcp-bench' },
          'io.modelcontextprotocol/clientCapabilities': {},
        },
      },
    });
  });

  it('sends no Mcp-Name for a request that names nothing', () => {
    expect(modernMcpEvent(benchAnalyst(), SERVER_DISCOVER_REQUEST).headers).not.toHaveProperty(
      'Mcp-Name',
    );
  });
});

describe('answerOf', () => {
  it('reads a JSON body', () => {
    expect(answerOf('{"jsonrpc":"2.0","id":3,"result":{"a":1}}')).toEqual({
      jsonrpc: '2.0',
      id: 3,
      result: { a: 1 },
    });
  });

  it('reads the answer of an SSE body, past notifications and keep-alives', () => {
    // Prepare
    const body = [
      ': keepalive',
      '',
      'event: message',
      'data: {"jsonrpc":"2.0","method":"notifications/progress","params":{"progress":1}}',
      '',
      'event: message',
      'data: {"result":{"ok":true},"jsonrpc":"2.0","id":7}',
      '',
      '',
    ].join('\n');

    // Act & Assess
    expect(answerOf(body)).toEqual({ result: { ok: true }, jsonrpc: '2.0', id: 7 });
  });

  it('gives undefined for a body that holds no answer', () => {
    expect(answerOf('')).toBeUndefined();
    expect(answerOf('event: message\ndata: {"jsonrpc":"2.0","method":"x"}\n\n')).toBeUndefined();
    expect(answerOf('{not json')).toBeUndefined();
  });
});

describe('moduleOfSource', () => {
  it('names the package of a bundled dependency and the path of a project file', () => {
    expect(moduleOfSource('../../node_modules/zod/v4/core/schemas.js')).toBe('zod');
    expect(moduleOfSource('../../node_modules/@scope/pkg/dist/x.js')).toBe('@scope/pkg');
    expect(moduleOfSource('../../../lambda/mcp/handler.ts')).toBe('lambda/mcp/handler.ts');
  });
});

describe('attribute', () => {
  it('charges each sample to its module and phase by the driver marks, V8 frames by name', () => {
    // Prepare: a root with a bundle frame and GC; samples every 1 ms from t = 1,000 µs.
    const bundle = '/work/b/index.js';
    const profile = {
      startTime: 0,
      nodes: [
        {
          id: 1,
          callFrame: { functionName: '(root)', url: '', lineNumber: -1, columnNumber: -1 },
          children: [2, 3],
        },
        {
          id: 2,
          callFrame: { functionName: 'a', url: `file://${bundle}`, lineNumber: 0, columnNumber: 5 },
        },
        {
          id: 3,
          callFrame: {
            functionName: '(garbage collector)',
            url: '',
            lineNumber: -1,
            columnNumber: -1,
          },
        },
      ],
      samples: [2, 2, 3, 2],
      timeDeltas: [1_000, 1_000, 1_000, 1_000],
    };

    // Act: init is [1,000, 3,000) µs, the answer [3,000, 5,000).
    const costs = attribute(profile, bundle, null, {
      requiring: 1_000,
      loaded: 3_000,
      answered: 5_000,
    });

    // Assess
    expect(Object.fromEntries(costs)).toEqual({
      'index.js (unmapped)': { init: 2, answer: 0.1 },
      '(garbage collector)': { init: 0, answer: 1 },
    });
  });
});

describe('runKeyDocument', () => {
  it('measures the reload and the request that finds the document due, for each size', async () => {
    // Act
    const cases = await runKeyDocument([50]);

    // Assess
    expect(cases).toHaveLength(1);
    expect(cases[0]?.keys).toBe(50);
    expect(cases[0]?.parseAndIndexMs).toBeGreaterThan(0);
    expect(cases[0]?.dueVerifyMs).toBeGreaterThan(0);
  });
});

describe('runColdInit', () => {
  // The deployed bundles, built once, inside the project so their @aws-sdk/* imports resolve.
  const bundles = { authorizer: '', mcp: '' };
  let workDir = '';
  let keyDir = '';
  beforeAll(async () => {
    mkdirSync(join(PROJECT_ROOT, 'bench-results'), { recursive: true });
    workDir = mkdtempSync(join(PROJECT_ROOT, 'bench-results', '.bundles-test-'));
    keyDir = mkdtempSync(join(tmpdir(), 'mcp-bench-key-'));
    for (const target of BUNDLE_TARGETS) {
      if (target.name === 'authorizer' || target.name === 'mcp') {
        bundles[target.name] = (await buildBundle(target, PROJECT_ROOT, workDir)).outfile;
      }
    }
  }, 60_000);
  afterAll(() => {
    rmSync(workDir, { recursive: true, force: true });
    rmSync(keyDir, { recursive: true, force: true });
  });

  it('loads each bundle in fresh processes that answer their first request', async () => {
    // Act: the runs check every answer themselves and throw on a failed one.
    const report = await runColdInit({
      projectRoot: PROJECT_ROOT,
      workDir,
      bundles,
      signingKey: loadSigningKey(keyDir),
      runs: 2,
      profileRuns: 1,
      // Every module the profile charged, not the ten largest: on a busy machine the GC and
      // node: internals can crowd the SDK out of a top ten that one sampled run ranks.
      profileTop: Number.POSITIVE_INFINITY,
    });

    // Assess
    expect(report.rows.map((row) => row.name)).toEqual([
      'node -e 0',
      'driver alone',
      'authorizer',
      'authorizer, API key',
      'mcp',
      'mcp 2026-07-28',
      'mcp 2026-07-28, tools/call',
      'SDK alone: secrets-manager',
      'SDK alone: dynamodb',
    ]);
    expect(report.rows.every((row) => row.runs === 2)).toBe(true);
    const byName = new Map(report.rows.map((row) => [row.name, row]));
    expect(byName.get('node -e 0')?.self).toBeNull();
    for (const name of ['authorizer', 'authorizer, API key']) {
      expect(byName.get(name)?.target).toEqual(COLD_TARGETS.authorizer);
    }
    for (const name of ['mcp', 'mcp 2026-07-28, tools/call']) {
      expect(byName.get(name)?.target).toEqual(COLD_TARGETS.mcp);
    }
    expect(byName.get('mcp 2026-07-28')?.target).toBeNull();
    for (const name of ['authorizer', 'authorizer, API key', 'mcp', 'mcp 2026-07-28']) {
      const self = byName.get(name)?.self;
      expect(self?.requireMs.p50).toBeGreaterThan(0);
      expect(self?.totalMs.p50).toBeGreaterThanOrEqual(self?.requireMs.p50 ?? Infinity);
    }
    // One profile per Lambda, its time charged to the bundle's own modules.
    expect(report.profiles.map((profile) => profile.name)).toEqual([
      'authorizer, API key',
      'mcp 2026-07-28, tools/call',
    ]);
    const mcp = report.profiles[1];
    expect(mcp?.initMs).toBeGreaterThan(0);
    expect(mcp?.top.map((row) => row.module)).toContain('@modelcontextprotocol/server');
  }, 120_000);

  it('fails loudly when a bundle does not answer its first request as expected', async () => {
    // Prepare: the MCP bundle where the authorizer should be; it cannot allow a token.
    const swapped = { authorizer: bundles.mcp, mcp: bundles.mcp };

    // Act & Assess
    await expect(
      runColdInit({
        projectRoot: PROJECT_ROOT,
        workDir,
        bundles: swapped,
        signingKey: loadSigningKey(keyDir),
        runs: 1,
      }),
    ).rejects.toThrow(/cold init \(authorizer\)/);
  }, 30_000);

  it('refuses a number of runs that is not a positive integer', async () => {
    await expect(
      runColdInit({
        projectRoot: PROJECT_ROOT,
        workDir,
        bundles,
        signingKey: { kid: 'unused', privateJwk: {}, publicJwk: {} },
        runs: 0,
      }),
    ).rejects.toThrow(RangeError);
  });
});

describe('runEndToEnd', () => {
  it('drives the local gateway with concurrent MCP clients and counts every request', {
    timeout: 120_000,
  }, async () => {
    // Act
    const report = await runEndToEnd({
      requests: 6,
      concurrency: 2,
      warmup: 2,
      assembly: testAssembly(),
    });

    // Assess
    expect(report).toMatchObject({ requests: 6, concurrency: 2 });
    expect(report.requestsPerSecond).toBeGreaterThan(0);
    expect(report.p99Ms).toBeGreaterThanOrEqual(report.p50Ms);
    expect(report.p50Ms).toBeGreaterThan(0);
  });
});
