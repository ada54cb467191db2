import { describe, expect, it } from 'vitest';
import {
  createGate,
  type GatedRequest,
  gatedRequest,
  INVALID_PARAMS_CODE,
  isMalformed,
  judge,
  LEGACY_RESOURCE_NOT_FOUND_CODE,
  PERMISSION_DENIED_CODE,
} from '../../../lambda/mcp/gate';
import { permissionsFor } from '../../../lambda/shared/policy';
import { FIXTURE_POLICY } from '../../support/fixture-deployment';

const gate = createGate(FIXTURE_POLICY);
const ANALYST = permissionsFor(FIXTURE_POLICY, ['analyst']);
const READONLY = permissionsFor(FIXTURE_POLICY, ['readonly']);
const ADMIN = permissionsFor(FIXTURE_POLICY, ['admin']);

const SCHEMA_URI = 'customers://schema/record';
const SUMMARY_TEMPLATE = 'customers://segments/{segment}/summary';

/** A gated request that must be well formed: the test fails if the gate found it malformed. */
function wellFormed(body: unknown): GatedRequest {
  const request = gatedRequest(body);
  if (request === undefined) throw new Error('expected a gated request, got none');
  if (isMalformed(request)) throw new Error(`expected a well-formed request: ${request.problem}`);
  return request;
}

const rpc = (method: string, params?: unknown) => ({ jsonrpc: '2.0', id: 1, method, params });

describe('gatedRequest', () => {
  it('names the tool and its arguments of a tools/call', () => {
    // Act
    const request = gatedRequest(
      rpc('tools/call', { name: 'get_record', arguments: { id: 'cust-0001' } }),
    );

    // Assess
    expect(request).toEqual({ kind: 'tool', requested: 'get_record', args: { id: 'cust-0001' } });
  });

  it('digests empty arguments for a tools/call that sends none', () => {
    // Act
    const request = gatedRequest(rpc('tools/call', { name: 'run_report' }));

    // Assess
    expect(request).toEqual({ kind: 'tool', requested: 'run_report', args: {} });
  });

  it('names the URI of a resources/read, and digests the URI', () => {
    // Act
    const request = gatedRequest(rpc('resources/read', { uri: SCHEMA_URI }));

    // Assess
    expect(request).toEqual({ kind: 'resource', requested: SCHEMA_URI, args: { uri: SCHEMA_URI } });
  });

  it('names the prompt and its arguments of a prompts/get', () => {
    // Act
    const request = gatedRequest(
      rpc('prompts/get', { name: 'segment_review', arguments: { segment: 'retail' } }),
    );

    // Assess
    expect(request).toEqual({
      kind: 'prompt',
      requested: 'segment_review',
      args: { segment: 'retail' },
    });
  });

  it.each([
    [{ type: 'ref/prompt', name: 'segment_review' }, 'prompt:segment_review'],
    [{ type: 'ref/resource', uri: SUMMARY_TEMPLATE }, `resource:${SUMMARY_TEMPLATE}`],
  ])('names the completion reference %j as %s', (ref, requested) => {
    // Act
    const request = gatedRequest(
      rpc('completion/complete', { ref, argument: { name: 'segment', value: 're' } }),
    );

    // Assess
    expect(request).toEqual({
      kind: 'completion',
      requested,
      args: { name: 'segment', value: 're' },
    });
  });

  it.each([
    'initialize',
    'tools/list',
    'resources/list',
    'resources/templates/list',
    'prompts/list',
    'ping',
    'server/discover',
    'notifications/initialized',
  ])('leaves %s ungated: it touches no single item', (method) => {
    // Act
    const request = gatedRequest(rpc(method, {}));

    // Assess
    expect(request).toBeUndefined();
  });

  it.each([null, 'tools/call', 42, []])(
    'leaves a body that is not an object (%j) ungated',
    (body) => {
      // Act
      const request = gatedRequest(body);

      // Assess
      expect(request).toBeUndefined();
    },
  );

  it.each<[string, string, unknown, string]>([
    ['tools/call without params', 'tools/call', undefined, 'params must be an object'],
    ['tools/call with array params', 'tools/call', ['get_record'], 'params must be an object'],
    ['tools/call with a numeric name', 'tools/call', { name: 42 }, 'params.name must be a string'],
    [
      'tools/call with array arguments',
      'tools/call',
      { name: 'get_record', arguments: ['cust-0001'] },
      'params.arguments must be an object',
    ],
    [
      'tools/call with string arguments',
      'tools/call',
      { name: 'get_record', arguments: 'cust-0001' },
      'params.arguments must be an object',
    ],
    ['resources/read without a uri', 'resources/read', {}, 'params.uri must be a string'],
    [
      'resources/read with a numeric uri',
      'resources/read',
      { uri: 7 },
      'params.uri must be a string',
    ],
    ['prompts/get without params', 'prompts/get', undefined, 'params must be an object'],
    ['prompts/get without a name', 'prompts/get', {}, 'params.name must be a string'],
    [
      'completion/complete without a ref',
      'completion/complete',
      {},
      'params.ref must be an object',
    ],
    [
      'completion/complete with a ref of no known type',
      'completion/complete',
      { ref: { type: 'ref/tool', name: 'get_record' } },
      'params.ref must name a prompt or a resource template',
    ],
  ])('finds %s malformed', (_label, method, params, problem) => {
    // Act
    const request = gatedRequest(rpc(method, params));

    // Assess
    expect(request).toMatchObject({ problem });
  });

  it('keeps the tool name of a call whose arguments are malformed, so the policy can judge it', () => {
    // Act
    const request = gatedRequest(rpc('tools/call', { name: 'delete_record', arguments: [1] }));

    // Assess
    expect(request).toMatchObject({ kind: 'tool', requested: 'delete_record' });
  });
});

describe('createGate(policy).itemFor', () => {
  it('finds a tool by its name', () => {
    // Act
    const item = gate.itemFor(wellFormed(rpc('tools/call', { name: 'delete_record' })));

    // Assess
    expect(item).toMatchObject({ kind: 'tool', name: 'delete_record', permission: 'delete_data' });
  });

  it('finds a static resource by its exact URI', () => {
    // Act
    const item = gate.itemFor(wellFormed(rpc('resources/read', { uri: SCHEMA_URI })));

    // Assess
    expect(item).toMatchObject({
      kind: 'resource',
      name: 'record_schema',
      permission: 'read_data',
    });
  });

  it('finds the template a concrete URI matches', () => {
    // Act
    const item = gate.itemFor(
      wellFormed(rpc('resources/read', { uri: 'customers://segments/retail/summary' })),
    );

    // Assess
    expect(item).toMatchObject({
      kind: 'resourceTemplate',
      name: 'segment_summary',
      permission: 'run_reports',
    });
  });

  it.each([
    ['an extra path segment in the variable', 'customers://segments/a/b/summary'],
    ['an empty variable', 'customers://segments//summary'],
    ['a query string', 'customers://segments/retail/summary?x=1'],
    ['a trailing slash on a static URI', `${SCHEMA_URI}/`],
    ['a different case of the scheme', 'CUSTOMERS://schema/record'],
    ['another scheme', 'file:///etc/passwd'],
  ])('finds no resource for a URI with %s', (_label, uri) => {
    // Act
    const item = gate.itemFor(wellFormed(rpc('resources/read', { uri })));

    // Assess
    expect(item).toBeUndefined();
  });

  it('finds the prompt a completion reference names', () => {
    // Act
    const item = gate.itemFor(
      wellFormed(
        rpc('completion/complete', {
          ref: { type: 'ref/prompt', name: 'segment_review' },
          argument: { name: 'segment', value: '' },
        }),
      ),
    );

    // Assess
    expect(item).toMatchObject({ kind: 'prompt', name: 'segment_review' });
  });

  it('finds the template a completion reference names by its URI template', () => {
    // Act
    const item = gate.itemFor(
      wellFormed(
        rpc('completion/complete', {
          ref: { type: 'ref/resource', uri: SUMMARY_TEMPLATE },
          argument: { name: 'segment', value: '' },
        }),
      ),
    );

    // Assess
    expect(item).toMatchObject({ kind: 'resourceTemplate', name: 'segment_summary' });
  });

  it('finds no template for a completion reference naming a concrete URI', () => {
    // Act
    const item = gate.itemFor(
      wellFormed(
        rpc('completion/complete', {
          ref: { type: 'ref/resource', uri: 'customers://segments/retail/summary' },
          argument: { name: 'segment', value: '' },
        }),
      ),
    );

    // Assess
    expect(item).toBeUndefined();
  });

  it('looks a name up among its own kind only: a prompt name is no tool', () => {
    // Prepare: names are unique per kind, not across kinds
    const asTool = wellFormed(rpc('tools/call', { name: 'customer_summary' }));
    const asPrompt = wellFormed(rpc('prompts/get', { name: 'customer_summary' }));

    // Act
    const items = [gate.itemFor(asTool), gate.itemFor(asPrompt)];

    // Assess
    expect(items).toEqual([undefined, expect.objectContaining({ kind: 'prompt' })]);
  });
});

describe('judge', () => {
  const deleteCall = wellFormed(
    rpc('tools/call', { name: 'delete_record', arguments: { id: 'x' } }),
  );

  it('lets a permitted call through with the item it names', () => {
    // Act
    const verdict = judge(gate, deleteCall, ADMIN, 'modern');

    // Assess
    expect(verdict).toEqual({ item: expect.objectContaining({ name: 'delete_record' }) });
  });

  it('denies a call the caller lacks the permission for with -32003', () => {
    // Act
    const verdict = judge(gate, deleteCall, ANALYST, 'legacy');

    // Assess
    expect(verdict).toMatchObject({
      refusal: { status: 'denied', code: PERMISSION_DENIED_CODE, errorType: 'PermissionDenied' },
    });
  });

  it('names the item and the permission in the denial, and in its data', () => {
    // Act
    const verdict = judge(gate, deleteCall, ANALYST, 'modern');

    // Assess
    expect(verdict).toMatchObject({
      refusal: {
        message: expect.stringMatching(/tool 'delete_record' requires permission 'delete_data'/),
        data: { tool: 'delete_record', requiredPermission: 'delete_data' },
        permission: 'delete_data',
      },
    });
  });

  it('never echoes the arguments in a denial', () => {
    // Prepare
    const secret = 'sk_live_51HqT9fKq8Zx3Yw2Vb7Nc';
    const call = wellFormed(
      rpc('tools/call', { name: 'delete_record', arguments: { id: secret } }),
    );

    // Act
    const verdict = judge(gate, call, ANALYST, 'modern');

    // Assess
    expect('refusal' in verdict).toBe(true);
    expect(JSON.stringify(verdict)).not.toContain(secret);
  });

  it.each<[string, unknown, string]>([
    [
      'resources/read',
      rpc('resources/read', { uri: 'customers://segments/retail/summary' }),
      "resource 'segment_summary' requires permission 'run_reports'",
    ],
    [
      'prompts/get',
      rpc('prompts/get', { name: 'segment_review', arguments: { segment: 'retail' } }),
      "prompt 'segment_review' requires permission 'run_reports'",
    ],
    [
      'completion/complete',
      rpc('completion/complete', {
        ref: { type: 'ref/prompt', name: 'segment_review' },
        argument: { name: 'segment', value: 'r' },
      }),
      "completion target 'segment_review' requires permission 'run_reports'",
    ],
  ])('denies a readonly caller the %s of a run_reports item, naming it', (_label, body, text) => {
    // Act
    const verdict = judge(gate, wellFormed(body), READONLY, 'modern');

    // Assess
    expect(verdict).toMatchObject({
      refusal: {
        status: 'denied',
        code: PERMISSION_DENIED_CODE,
        message: expect.stringContaining(text),
      },
    });
  });

  it('denies a caller with no permission at all even a read_data tool', () => {
    // Act
    const verdict = judge(
      gate,
      wellFormed(rpc('tools/call', { name: 'get_record' })),
      new Set<string>(),
      'legacy',
    );

    // Assess
    expect(verdict).toMatchObject({ refusal: { status: 'denied', permission: 'read_data' } });
  });

  const toolCall = rpc('tools/call', { name: 'drop_all_tables' });
  const promptGet = rpc('prompts/get', { name: 'nope' });
  const resourceRead = rpc('resources/read', { uri: 'nope://x' });
  const completion = rpc('completion/complete', { ref: { type: 'ref/prompt', name: 'nope' } });

  it.each([
    {
      kind: 'tool',
      era: 'legacy',
      body: toolCall,
      code: INVALID_PARAMS_CODE,
      message: 'Unknown tool: drop_all_tables',
    },
    {
      kind: 'tool',
      era: 'modern',
      body: toolCall,
      code: INVALID_PARAMS_CODE,
      message: 'Unknown tool: drop_all_tables',
    },
    {
      kind: 'prompt',
      era: 'legacy',
      body: promptGet,
      code: INVALID_PARAMS_CODE,
      message: 'Unknown prompt: nope',
    },
    {
      kind: 'prompt',
      era: 'modern',
      body: promptGet,
      code: INVALID_PARAMS_CODE,
      message: 'Unknown prompt: nope',
    },
    {
      kind: 'resource',
      era: 'legacy',
      body: resourceRead,
      code: LEGACY_RESOURCE_NOT_FOUND_CODE,
      message: 'Resource not found',
    },
    {
      kind: 'resource',
      era: 'modern',
      body: resourceRead,
      code: INVALID_PARAMS_CODE,
      message: 'Resource not found',
    },
    {
      kind: 'completion',
      era: 'modern',
      body: completion,
      code: INVALID_PARAMS_CODE,
      message: 'Unknown completion reference',
    },
  ] as const)(
    'answers an unknown $kind in the $era era with $code $message',
    ({ body, era, code, message }) => {
      // Act
      const verdict = judge(gate, wellFormed(body), ADMIN, era);

      // Assess
      expect(verdict).toMatchObject({
        refusal: { status: 'invalid', code, message, errorType: 'UnknownItem' },
      });
    },
  );

  it('puts the unknown URI in the data of a resource-not-found answer', () => {
    // Act
    const verdict = judge(
      gate,
      wellFormed(rpc('resources/read', { uri: 'nope://x' })),
      ADMIN,
      'legacy',
    );

    // Assess
    expect(verdict).toMatchObject({ refusal: { data: { uri: 'nope://x' } } });
  });

  it('cuts a made-up name to 200 characters in its answer', () => {
    // Prepare
    const madeUp = `x${'y'.repeat(5000)}`;

    // Act
    const verdict = judge(gate, wellFormed(rpc('tools/call', { name: madeUp })), ADMIN, 'modern');

    // Assess
    expect(verdict).toMatchObject({
      refusal: { message: `Unknown tool: ${madeUp.slice(0, 200)}` },
    });
  });

  it('says an unknown name is unknown to every caller, not denied, so it names no permission', () => {
    // Act
    const verdict = judge(
      gate,
      wellFormed(rpc('tools/call', { name: 'nope' })),
      new Set(),
      'modern',
    );

    // Assess
    expect(verdict).toMatchObject({ refusal: { status: 'invalid' } });
    expect(verdict).not.toHaveProperty('refusal.permission');
  });
});
