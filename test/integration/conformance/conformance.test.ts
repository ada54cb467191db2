/**
 * What `npm run conformance` relies on, offline (the suite itself runs there, not here): the
 * proxy hands the suite's requests the credential and maps only its own Host (to the
 * gateway's) and Origin (to one the deployment allows), so the DNS-rebinding probe still meets
 * the refusal, credential and all; it streams answers through as they come; the run's output
 * is read and judged as the suite counts; and the fixture module is served like any module
 * (from an MCP entry of its own, bundled as the deployed one) but never deployed.
 */
import { createServer, type IncomingHttpHeaders, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CONFORMANCE_PERMISSION,
  CONFORMANCE_ROLES,
  conformanceFixture,
} from '../../../conformance/fixture-module';
import { FIXTURE_MCP } from '../../../conformance/fixture-server';
import {
  APPLY_WITHOUT_FIXTURES,
  auditedRequests,
  auditRecords,
  type Check,
  firstLine,
  forwardedHeaders,
  judgeReal,
  judgeSet,
  type LoopbackProxy,
  PUSH_STYLE_MAX_MS,
  PUSH_STYLE_SCENARIOS,
  parseRun,
  type ScenarioVerdict,
  SUITE_ORIGIN,
  startProxy,
  TARGETS,
  verdictOf,
} from '../../../conformance/run';
import { MODULES } from '../../../modules/index';
import { loadSigningKey, mintAccessToken } from '../../../tools/local/identity';
import { useLocalGateway } from '../../support/local-gateway-fixture';

const mapping = { ownHost: '127.0.0.1:4100', targetHost: '127.0.0.1:4000', token: 'tok-123' };

describe('forwardedHeaders', () => {
  const forward = (raw: string[]) => forwardedHeaders(raw, mapping);

  it('makes the proxy’s own Host and Origin the gateway’s', () => {
    // Act
    const headers = forward(['Host', '127.0.0.1:4100', 'Origin', 'http://127.0.0.1:4100']);

    // Assess
    expect(headers.host).toBe('127.0.0.1:4000');
    expect(headers.origin).toBe('http://127.0.0.1:4000');
  });

  it('makes the proxy’s own Origin the one the deployment allows, when given one', () => {
    // Act
    const headers = forwardedHeaders(
      ['Host', '127.0.0.1:4100', 'Origin', 'http://127.0.0.1:4100'],
      {
        ...mapping,
        targetOrigin: SUITE_ORIGIN,
      },
    );

    // Assess
    expect(headers.host).toBe('127.0.0.1:4000');
    expect(headers.origin).toBe(SUITE_ORIGIN);
  });

  it('passes any other Host and Origin unchanged, so the gateway can refuse them', () => {
    // Act
    const headers = forward(['Host', 'evil.example.com', 'Origin', 'http://evil.example.com']);

    // Assess
    expect(headers.host).toBe('evil.example.com');
    expect(headers.origin).toBe('http://evil.example.com');
  });

  it('maps the own Host whatever its case, and leaves a missing Origin missing', () => {
    // Act
    const headers = forward(['HOST', '127.0.0.1:4100']);

    // Assess
    expect(headers.host).toBe('127.0.0.1:4000');
    expect(headers).not.toHaveProperty('origin');
  });

  it('does not map an Origin of another port or scheme on the proxy’s address', () => {
    // Act
    const other = forward(['Host', '127.0.0.1:4100', 'Origin', 'http://127.0.0.1:4101']);
    const https = forward(['Host', '127.0.0.1:4100', 'Origin', 'https://127.0.0.1:4100']);

    // Assess
    expect(other.origin).toBe('http://127.0.0.1:4101');
    expect(https.origin).toBe('https://127.0.0.1:4100');
  });

  it('sets the credential, replacing one the request carried', () => {
    // Act
    const headers = forward(['Host', '127.0.0.1:4100', 'Authorization', 'Bearer forged']);

    // Assess
    expect(headers.authorization).toBe('Bearer tok-123');
  });

  it('drops hop-by-hop headers and keeps the rest, repeated ones included', () => {
    // Act
    const headers = forward([
      'Connection',
      'keep-alive',
      'Transfer-Encoding',
      'chunked',
      'Accept',
      'application/json, text/event-stream',
      'X-Repeated',
      'a',
      'X-Repeated',
      'b',
    ]);

    // Assess
    expect(headers).not.toHaveProperty('connection');
    expect(headers).not.toHaveProperty('transfer-encoding');
    expect(headers.accept).toBe('application/json, text/event-stream');
    expect(headers['x-repeated']).toEqual(['a', 'b']);
  });
});

describe('startProxy in front of an upstream', () => {
  let upstream: Server;
  let proxy: LoopbackProxy;
  let seen: IncomingHttpHeaders | undefined;
  let release: () => void = () => {};

  beforeAll(async () => {
    upstream = createServer((req, res) => {
      seen = req.headers;
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('event: message\ndata: {"first":true}\n\n');
      // The rest only once the test has read the first frame through the proxy.
      new Promise<void>((resolve) => {
        release = resolve;
      }).then(() => res.end('event: message\ndata: {"last":true}\n\n'));
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', () => resolve()));
    const { port } = upstream.address() as AddressInfo;
    proxy = await startProxy({ target: `http://127.0.0.1:${port}`, token: 'tok-456' });
  });

  afterAll(async () => {
    await proxy?.stop();
    upstream?.closeAllConnections();
    await new Promise<void>((resolve) => upstream?.close(() => resolve()));
  });

  it('streams the first frame before the upstream has finished, with the credential and mapped names', async () => {
    // Act
    const response = await fetch(`${proxy.url}/mcp`, {
      method: 'POST',
      headers: { Origin: proxy.url, 'Content-Type': 'application/json' },
      body: '{}',
    });
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    release();
    let rest = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      rest += new TextDecoder().decode(value);
    }

    // Assess
    expect(first).toContain('"first":true');
    expect(rest).toContain('"last":true');
    const { port } = upstream.address() as AddressInfo;
    expect(seen?.authorization).toBe('Bearer tok-456');
    expect(seen?.host).toBe(`127.0.0.1:${port}`);
    expect(seen?.origin).toBe(`http://127.0.0.1:${port}`);
  });
});

describe('the proxy in front of the local gateway serving the fixture', () => {
  const fixture = useLocalGateway('mcp-conformance-', undefined, () => ({
    mcp: FIXTURE_MCP,
    allowedOrigins: [SUITE_ORIGIN],
  }));
  let proxy: LoopbackProxy;

  beforeAll(async () => {
    const token = mintAccessToken(loadSigningKey(fixture.dir), {
      sub: 'conformance-suite',
      groups: Object.keys(CONFORMANCE_ROLES),
    });
    proxy = await startProxy({ target: fixture.gateway.url, token, origin: SUITE_ORIGIN });
  });

  afterAll(async () => {
    await proxy?.stop();
  });

  /** A tools/call as the suite sends it (node:http, which, unlike fetch, may set `Host`). */
  const callThrough = (headers: Record<string, string>) =>
    new Promise<{ status: number; body: unknown }>((resolve, reject) => {
      const body = JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: {
          name: 'test_simple_text',
          _meta: {
            'io.modelcontextprotocol/protocolVersion': '2026-07-28',
            'io.modelcontextprotocol/clientInfo': { name: 'proxy-test', version: '0' },
            'io.modelcontextprotocol/clientCapabilities': {},
          },
        },
      });
      const url = new URL(proxy.at(fixture.gateway.mcpUrl));
      const req = request(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: 'POST',
          headers: {
            'Content-Type': 'application/json',
            Accept: 'application/json, text/event-stream',
            'MCP-Protocol-Version': '2026-07-28',
            'Mcp-Method': 'tools/call',
            'Mcp-Name': 'test_simple_text',
            'Content-Length': Buffer.byteLength(body),
            ...headers,
          },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            text += chunk;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
        },
      );
      req.on('error', reject);
      req.end(body);
    });

  it('lets the suite call a fixture tool through the real authorizer', async () => {
    // Act
    const response = await callThrough({ Origin: proxy.url });

    // Assess
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      result: { content: [{ type: 'text', text: 'This is a simple text response for testing.' }] },
    });
  });

  it('leaves a foreign Host to API Gateway, which serves no API by that name, not to a 401', async () => {
    // Act
    const response = await callThrough({
      Host: 'evil.example.com',
      Origin: 'http://evil.example.com',
    });

    // Assess
    expect(response).toEqual({ status: 403, body: { message: 'Forbidden' } });
  });

  it('leaves a foreign Origin to the MCP function’s refusal', async () => {
    // Act
    const response = await callThrough({ Origin: 'http://evil.example.com' });

    // Assess
    expect(response.status).toBe(403);
    expect(response.body).toMatchObject({ error: { message: 'Forbidden: origin not allowed' } });
  });
});

// ---------------------------------------------------------------------------------------------
// Reading and judging a run

const line = (at: number, text: string) => ({ at, text });
const success = (id: string): Check => ({ id, status: 'SUCCESS' });
const failure = (id: string, errorMessage: string): Check => ({
  id,
  status: 'FAILURE',
  errorMessage,
});

describe('parseRun', () => {
  it('takes each scenario, its results folder and its duration, and what is not scored', () => {
    // Act
    const { scenarios, notScored } = parseRun([
      line(0, 'Running requirements 2025-11-25 (3 scenarios) against http://x/mcp'),
      line(10, '=== Running scenario: tools-list ==='),
      line(11, "Running client scenario 'tools-list' against server: http://x/mcp"),
      line(12, 'Results saved to /tmp/r/server-tools-list-2026-12-01T00-00-00-000Z'),
      line(40, '=== Running scenario: tools-call-sampling ==='),
      line(41, 'Results saved to /tmp/r/server-tools-call-sampling-2026-12-01T00-00-00-000Z'),
      line(55, '=== Running scenario: json-schema-2020-12 ==='),
      line(70, '=== SUMMARY ==='),
      line(71, '✓ tools-list: 3 passed, 0 failed'),
      line(
        72,
        'Not scored for 2025-11-25: 1 scenario(s) run, 1 failing. These do not affect conformance.',
      ),
      line(73, '  ✗ json-schema-2020-12 (pending)'),
    ]);

    // Assess
    expect(scenarios).toEqual([
      {
        name: 'tools-list',
        dir: '/tmp/r/server-tools-list-2026-12-01T00-00-00-000Z',
        durationMs: 30,
      },
      {
        name: 'tools-call-sampling',
        dir: '/tmp/r/server-tools-call-sampling-2026-12-01T00-00-00-000Z',
        durationMs: 15,
      },
      { name: 'json-schema-2020-12', dir: undefined, durationMs: 15 },
    ]);
    expect([...notScored]).toEqual(['json-schema-2020-12']);
  });
});

describe('verdictOf', () => {
  const run = { name: 's', dir: 'd', durationMs: 5 };

  it('fails a scenario on any FAILURE, as the suite does', () => {
    expect(verdictOf(run, [success('a'), failure('b', 'no')]).passed).toBe(false);
  });

  it('passes one with warnings, saying so', () => {
    // Act
    const verdict = verdictOf(run, [success('a'), { id: 'w', status: 'WARNING' }]);

    // Assess
    expect(verdict).toMatchObject({ passed: true, vacuous: false });
    expect(verdict.warnings.map((check) => check.id)).toEqual(['w']);
  });

  it('marks a pass with nothing but the wire-schema check as vacuous', () => {
    // Act
    const verdict = verdictOf(run, [success('wire-schema-valid'), { id: 'w', status: 'WARNING' }]);

    // Assess
    expect(verdict).toMatchObject({ passed: true, vacuous: true });
  });
});

const verdict = (name: string, passed: boolean, durationMs = 10): ScenarioVerdict => ({
  name,
  passed,
  durationMs,
  failures: passed ? [] : [failure(name, 'failed')],
  warnings: [],
  vacuous: false,
});

describe('judgeSet', () => {
  const modern = TARGETS.find((target) => target.revision === '2026-07-28');
  const legacy = TARGETS.find((target) => target.revision === '2025-11-25');
  if (modern === undefined || legacy === undefined) throw new Error('targets missing');
  const many = (count: number, prefix: string) =>
    Array.from({ length: count }, (_, i) => verdict(`${prefix}-${i}`, true));

  it('meets 2026-07-28 with 37 of 37', () => {
    expect(judgeSet(modern, many(37, 's')).problems).toEqual([]);
  });

  it('misses it with any failure, or with fewer scenarios than the set has', () => {
    // Act
    const failed = judgeSet(modern, [...many(36, 's'), verdict('caching', false)]);
    const short = judgeSet(modern, many(36, 's'));

    // Assess
    expect(failed).toMatchObject({ passed: 36, failed: 1, problems: ['caching failed'] });
    expect(short.problems).toEqual(['ran 36 scored scenarios, expected 37']);
  });

  it('meets 2025-11-25 with only the four push-style scenarios failing, each at once', () => {
    // Act
    const report = judgeSet(legacy, [
      ...many(26, 's'),
      ...[...PUSH_STYLE_SCENARIOS].map((name) => verdict(name, false, 20)),
    ]);

    // Assess
    expect(report).toMatchObject({ passed: 26, failed: 4, problems: [] });
  });

  it('misses it when a push-style scenario waits instead of being refused at once', () => {
    // Act
    const report = judgeSet(legacy, [
      ...many(26, 's'),
      ...[...PUSH_STYLE_SCENARIOS].map((name, i) =>
        verdict(name, false, i === 0 ? PUSH_STYLE_MAX_MS + 1 : 20),
      ),
    ]);

    // Assess
    expect(report.problems).toEqual([
      `tools-call-sampling was not answered at once (${PUSH_STYLE_MAX_MS + 1} ms > ${PUSH_STYLE_MAX_MS} ms)`,
    ]);
  });

  it('misses it when anything else fails', () => {
    // Act
    const report = judgeSet(legacy, [
      ...many(25, 's'),
      verdict('ping', false),
      ...[...PUSH_STYLE_SCENARIOS].map((name) => verdict(name, false)),
    ]);

    // Assess
    expect(report.problems).toEqual(['ping failed']);
  });
});

describe('judgeReal', () => {
  it('counts only what applies without the fixtures, and a missing fixture is no defect', () => {
    // Act
    const report = judgeReal(
      '2026-07-28',
      [
        {
          ...verdict('server-stateless', false),
          failures: [failure('diag', 'Not testable: server does not list the diagnostic tool')],
        },
        verdict('tools-call-image', false),
        verdict('caching', true),
      ],
      (name) => APPLY_WITHOUT_FIXTURES.has(name),
    );

    // Assess
    expect(report.applicable.map((v) => v.name)).toEqual(['server-stateless', 'caching']);
    expect(report.defective).toEqual([]);
    expect(report.needFixtures).toEqual(['tools-call-image']);
    expect(report.notTestable).toEqual([{ scenario: 'server-stateless', check: 'diag' }]);
  });

  it('reports a real failure of an applicable scenario as a defect', () => {
    // Act
    const report = judgeReal('2025-11-25', [verdict('ping', false)], () => true);

    // Assess
    expect(report.defective.map((v) => v.name)).toEqual(['ping']);
  });
});

describe('firstLine', () => {
  it('shows a check’s message, else its detail message, else its id, shortened', () => {
    expect(firstLine(failure('a', 'one\ntwo'))).toBe('one');
    expect(firstLine({ id: 'b', status: 'WARNING', details: { message: 'no session' } })).toBe(
      'no session',
    );
    expect(firstLine({ id: 'c', status: 'WARNING' })).toBe('c');
    expect(firstLine(failure('d', 'x'.repeat(200)), 10)).toBe(`${'x'.repeat(9)}…`);
  });
});

describe('the audit cross-check', () => {
  const post = (host: string, body: unknown) => ({
    method: 'POST',
    host,
    body: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
  });

  it('counts the calls, reads and gets that got past the Host check, and those audited only when refused', () => {
    // Act
    const counted = auditedRequests(
      [
        post('127.0.0.1:4100', { method: 'tools/call' }),
        post('127.0.0.1:4100', { method: 'resources/read' }),
        post('127.0.0.1:4100', { method: 'prompts/get' }),
        post('127.0.0.1:4100', { method: 'completion/complete' }),
        post('127.0.0.1:4100', { method: 'resources/subscribe' }),
        post('127.0.0.1:4100', { method: 'tools/list' }),
        post('127.0.0.1:4100', 'not json'),
        post('evil.example.com', { method: 'tools/call' }),
        { method: 'GET', host: '127.0.0.1:4100', body: Buffer.alloc(0) },
      ],
      '127.0.0.1:4100',
    );

    // Assess
    expect(counted).toEqual({ calls: 3, refusable: 2 });
  });

  it('counts the audit records among the functions’ records', () => {
    // Act
    const records = auditRecords([
      { event: 'mcp.tool_call', status: 'success' },
      { event: 'mcp.completion', status: 'denied' },
      { event: 'mcp.auth_decision', decision: 'allow' },
      { level: 'INFO', message: 'cold start' },
    ]);

    // Assess
    expect(records).toBe(2);
  });
});

describe('the conformance fixture', () => {
  it('is never part of a deployment', () => {
    expect(MODULES.map((module) => module.name)).not.toContain(conformanceFixture.name);
  });

  it('puts every item behind its one permission, which its role grants', () => {
    // Act
    const items = [
      ...(conformanceFixture.tools ?? []),
      ...(conformanceFixture.resources ?? []),
      ...(conformanceFixture.resourceTemplates ?? []),
      ...(conformanceFixture.prompts ?? []),
    ];

    // Assess
    expect(new Set(items.map((item) => item.permission))).toEqual(
      new Set([CONFORMANCE_PERMISSION]),
    );
    expect(Object.values(CONFORMANCE_ROLES).flat()).toEqual([CONFORMANCE_PERMISSION]);
  });

  it('has the items the suite’s scenarios call by name', () => {
    // Assess
    expect((conformanceFixture.tools ?? []).map((tool) => tool.name)).toEqual(
      expect.arrayContaining([
        'test_simple_text',
        'test_image_content',
        'test_audio_content',
        'test_embedded_resource',
        'test_multiple_content_types',
        'test_error_handling',
        'test_tool_with_progress',
        'test_tool_with_logging',
        'test_missing_capability',
        'test_streaming_elicitation',
        'test_logging_tool',
        'test_input_required_result_elicitation',
        'test_input_required_result_sampling',
        'test_input_required_result_list_roots',
        'test_input_required_result_request_state',
        'test_input_required_result_multiple_inputs',
        'test_input_required_result_multi_round',
        'test_input_required_result_tampered_state',
        'test_input_required_result_capabilities',
        'test_sampling',
        'test_elicitation',
        'test_elicitation_sep1034_defaults',
        'test_elicitation_sep1330_enums',
      ]),
    );
    expect((conformanceFixture.resources ?? []).map((resource) => resource.uri)).toEqual([
      'test://static-text',
      'test://static-binary',
      'test://watched-resource',
    ]);
    expect((conformanceFixture.resourceTemplates ?? []).map((t) => t.uriTemplate)).toEqual([
      'test://template/{id}/data',
    ]);
    expect((conformanceFixture.prompts ?? []).map((prompt) => prompt.name)).toEqual([
      'test_simple_prompt',
      'test_prompt_with_arguments',
      'test_prompt_with_embedded_resource',
      'test_prompt_with_image',
      'test_input_required_result_prompt',
    ]);
  });
});
