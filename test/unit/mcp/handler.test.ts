import { Client } from '@modelcontextprotocol/client';
import {
  InMemoryTransport,
  type JSONRPCMessage,
  McpServer,
  type TransportSendOptions,
} from '@modelcontextprotocol/server';
import type { APIGatewayEventDefaultAuthorizerContext, APIGatewayProxyEvent } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { z } from 'zod';
import { createApprovals } from '../../../lambda/mcp/approvals';
import {
  INVALID_PARAMS_CODE,
  LEGACY_RESOURCE_NOT_FOUND_CODE,
  PERMISSION_DENIED_CODE,
} from '../../../lambda/mcp/gate';
import { createMcpHandler, type McpHandler } from '../../../lambda/mcp/handler';
import { JSONRPC } from '../../../lambda/mcp/http';
import type { LoadedModule } from '../../../lambda/mcp/module-loader';
import { MemoryQuotaCounter, type QuotaCounter } from '../../../lambda/mcp/quota-counter';
import { createQuotaGate, type QuotaGate, RATE_LIMITED_CODE } from '../../../lambda/mcp/quotas';
import type { McpResponse } from '../../../lambda/mcp/response';
import { authInfoFor, createServerFactory, SERVER_INFO } from '../../../lambda/mcp/server';
import type { StepUpOptions } from '../../../lambda/mcp/step-up';
import {
  AUDIT_EVENTS,
  AUDIT_FIELDS,
  type AuditEvent,
  DENIAL_REASONS,
  QUOTA_REFUSALS,
  TOOL_CALL_STATUS,
  UNKNOWN_ITEM,
  UNKNOWN_TOOL,
} from '../../../lambda/shared/audit';
import { createLogger } from '../../../lambda/shared/logger';
import { buildPolicyTable, type PolicyTable } from '../../../lambda/shared/policy';
import type { Principal } from '../../../lambda/shared/principal';
import { buildQuotaTable } from '../../../lambda/shared/quota';
import { authorizerContextOf, proxyEvent } from '../../support/apigw-events';
import { type CapturedLogs, captureLogs } from '../../support/capture-logs';
import {
  FIXTURE_POLICY,
  type FixtureStore,
  fixtureModule,
  MemoryFixtureStore,
} from '../../support/fixture-deployment';

const REQUEST_ID = 'c0ffee00-1234-4abc-8def-000000000042';
const SOURCE_IP = '203.0.113.7';
const MODERN = '2026-07-28';
const LEGACY = '2025-11-25';

type Era = 'legacy' | 'modern';
const ERAS: readonly Era[] = ['legacy', 'modern'];

/** The 2026-07-28 per-request envelope: every modern request carries it in `params._meta`. */
const ENVELOPE = {
  'io.modelcontextprotocol/protocolVersion': MODERN,
  'io.modelcontextprotocol/clientInfo': { name: 'handler-test', version: '0.0.0' },
  'io.modelcontextprotocol/clientCapabilities': {},
};

/** A valid W3C traceparent, and the trace id it carries. */
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const TRACEPARENT = `00-${TRACE_ID}-00f067aa0ba902b7-01`;

const analyst: Principal = {
  principalId: 'user-analyst-01',
  authMethod: 'cognito',
  groups: ['analyst'],
  scopes: ['mcp/tools'],
  keyId: '',
};
const admin: Principal = { ...analyst, principalId: 'user-admin-01', groups: ['admin'] };
const readonlyUser: Principal = { ...analyst, principalId: 'user-ro-01', groups: ['readonly'] };
const guest: Principal = { ...analyst, principalId: 'user-guest-01', groups: ['guest', 'Admin'] };
const reportingKey: Principal = {
  principalId: 'reporting-bot',
  authMethod: 'api_key',
  groups: ['analyst'],
  scopes: [],
  keyId: '0123456789abcdef',
};

// ---------------------------------------------------------------------------------------------
// Requests, as each era's client sends them

type Params = Record<string, unknown>;

interface RequestOptions {
  readonly id?: unknown;
  /** Keys added to `params._meta` (after the envelope, on a modern request). */
  readonly meta?: Params;
}

/** A JSON-RPC request as a client of `era` sends it: a modern one carries the envelope. */
function rpc(era: Era, method: string, params: Params = {}, options: RequestOptions = {}) {
  const meta = era === 'modern' ? { ...ENVELOPE, ...options.meta } : options.meta;
  return {
    jsonrpc: '2.0',
    id: 'id' in options ? options.id : 3,
    method,
    params: meta === undefined ? params : { ...params, _meta: meta },
  };
}

const callTool = (era: Era, name: string, args: Params = {}, options: RequestOptions = {}) =>
  rpc(era, 'tools/call', { name, arguments: args }, options);

const routed = z.object({
  method: z.string(),
  params: z.record(z.string(), z.unknown()).optional(),
});

/** The body field `Mcp-Name` mirrors, per method. */
const NAME_PARAM: Readonly<Record<string, string>> = {
  'tools/call': 'name',
  'prompts/get': 'name',
  'resources/read': 'uri',
};

/** The headers a client of `era` sends with `body`: a modern one mirrors its routing. */
function eraHeaders(era: Era, body: unknown): Record<string, string> {
  if (era === 'legacy') return { 'MCP-Protocol-Version': LEGACY };
  const headers: Record<string, string> = { 'MCP-Protocol-Version': MODERN };
  const parsed = routed.safeParse(body);
  if (!parsed.success) return headers;
  headers['Mcp-Method'] = parsed.data.method;
  const key = NAME_PARAM[parsed.data.method];
  const name = key === undefined ? undefined : parsed.data.params?.[key];
  if (typeof name === 'string') headers['Mcp-Name'] = name;
  return headers;
}

interface EventOptions {
  readonly era?: Era;
  readonly body?: unknown;
  /** Sent verbatim instead of `body`. */
  readonly rawBody?: string;
  readonly as?: Principal;
  readonly authorizer?: APIGatewayEventDefaultAuthorizerContext;
  readonly method?: string;
  /** Extra headers, or `null` to leave one of the era's out. */
  readonly headers?: Readonly<Record<string, string | null>>;
}

/** An API Gateway REST proxy event for POST /mcp, as the real gateway would send it. */
function mcpEvent(options: EventOptions = {}): APIGatewayProxyEvent {
  const method = options.method ?? 'POST';
  const era = options.era ?? 'legacy';
  const merged: Record<string, string | null> = {
    Host: 'abcdef1234.execute-api.eu-west-1.amazonaws.com',
    'Content-Type': 'application/json',
    Accept: 'application/json, text/event-stream',
    ...eraHeaders(era, options.body),
    ...options.headers,
  };
  const headers = Object.fromEntries(
    Object.entries(merged).filter((entry): entry is [string, string] => entry[1] !== null),
  );
  return proxyEvent({
    method,
    headers,
    body: options.rawBody ?? (options.body === undefined ? null : JSON.stringify(options.body)),
    requestId: REQUEST_ID,
    sourceIp: SOURCE_IP,
    ...('authorizer' in options
      ? { authorizer: options.authorizer }
      : { caller: options.as ?? analyst }),
  });
}

// ---------------------------------------------------------------------------------------------
// Answers

const idSchema = z.union([z.string(), z.number(), z.null()]);
const resultMessage = z.object({
  jsonrpc: z.literal('2.0'),
  id: idSchema,
  result: z.record(z.string(), z.unknown()),
});
const errorMessage = z.object({
  jsonrpc: z.literal('2.0'),
  id: idSchema,
  error: z.object({ code: z.number().int(), message: z.string(), data: z.unknown().optional() }),
});
const callToolResult = z.object({
  content: z.array(z.looseObject({ type: z.string(), text: z.string().optional() })),
  isError: z.boolean().optional(),
  structuredContent: z.record(z.string(), z.unknown()).optional(),
});
const progressMessage = z.object({
  jsonrpc: z.literal('2.0'),
  method: z.literal('notifications/progress'),
  params: z.looseObject({ progressToken: z.union([z.string(), z.number()]), progress: z.number() }),
});
const namedList = (key: string, field: string) =>
  z
    .object({ [key]: z.array(z.looseObject({ [field]: z.string() })) })
    .transform((list) => (list[key] ?? []).map((item) => String(item[field])));

/** Every value of a response header, whatever the case of its name. */
function headerValues(response: McpResponse, name: string): string[] {
  return Object.entries(response.headers)
    .filter(([key]) => key.toLowerCase() === name.toLowerCase())
    .map(([, value]) => value);
}

const isSse = (response: McpResponse) =>
  headerValues(response, 'content-type').some((type) => type.startsWith('text/event-stream'));

async function textOf(response: McpResponse): Promise<string> {
  return typeof response.body === 'string' ? response.body : new Response(response.body).text();
}

/** The JSON-RPC messages of the data lines of an SSE text, in order. */
function sseMessages(text: string): unknown[] {
  return text
    .split('\n\n')
    .flatMap((frame) => frame.split('\n').filter((line) => line.startsWith('data:')))
    .map((line) => JSON.parse(line.slice(5)));
}

/** The messages of an answer: the SSE frames' data, or the one JSON body. */
async function messagesOf(response: McpResponse): Promise<unknown[]> {
  const text = await textOf(response);
  if (isSse(response)) return sseMessages(text);
  return text === '' ? [] : [JSON.parse(text)];
}

/** The answer to the request itself: the last message with an id. */
async function answerOf(response: McpResponse): Promise<unknown> {
  const messages = await messagesOf(response);
  return messages
    .filter((message) => z.object({ id: z.unknown() }).safeParse(message).success)
    .at(-1);
}

async function rpcResult(response: McpResponse) {
  return resultMessage.parse(await answerOf(response)).result;
}
async function rpcError(response: McpResponse) {
  return errorMessage.parse(await answerOf(response)).error;
}
async function toolResult(response: McpResponse) {
  return callToolResult.parse(await rpcResult(response));
}
function toolText(result: z.infer<typeof callToolResult>): string {
  return result.content
    .flatMap((block) => (block.text === undefined ? [] : [block.text]))
    .join('\n');
}

// ---------------------------------------------------------------------------------------------
// The store, the handler, the logs

/** The fixture module's store, shared by the file's tests as a Lambda instance's would be. */
const store: FixtureStore = new MemoryFixtureStore();
let logs: CapturedLogs;

beforeEach(() => {
  logs = captureLogs();
});

afterEach(() => {
  logs.restore();
});

const logger = createLogger('mcp-server');
const POLICY = FIXTURE_POLICY;

interface HandlerOptions {
  readonly policy?: PolicyTable;
  readonly modules?: readonly LoadedModule[];
  readonly stepUp?: StepUpOptions;
  readonly quotas?: QuotaGate;
}

/** The handler as the Lambda builds it: its answers may be streams. */
function rawHandlerWith(
  recordStore: FixtureStore = store,
  options: HandlerOptions = {},
): McpHandler {
  return createMcpHandler({
    config: { allowedOrigins: ['https://app.example.com'], maxBodyBytes: 1024 * 1024 },
    policy: options.policy ?? POLICY,
    modules: options.modules ?? [{ module: fixtureModule, deps: { store: recordStore } }],
    logger,
    ...(options.stepUp === undefined ? {} : { stepUp: options.stepUp }),
    ...(options.quotas === undefined ? {} : { quotas: options.quotas }),
  });
}

/**
 * The handler, each answer read to its end as a client would: a streamed (SSE) call is audited
 * when its answer passes through the stream, so a test that looks at the audit record must
 * have read it.
 */
function handlerWith(recordStore: FixtureStore = store, options: HandlerOptions = {}): McpHandler {
  const handle = rawHandlerWith(recordStore, options);
  return async (event, context) => {
    const response = await handle(event, context);
    return { ...response, body: await textOf(response) };
  };
}

/** The real store, with some methods replaced. Delegates explicitly: its fields are private. */
function storeWith(overrides: Partial<FixtureStore>): FixtureStore {
  return {
    get: (id) => store.get(id),
    put: (id, fields, now) => store.put(id, fields, now),
    delete: (id) => store.delete(id),
    query: (filter, limit, cursor) => store.query(filter, limit, cursor),
    scan: (filter, max, onProgress) => store.scan(filter, max, onProgress),
    ...overrides,
  };
}

/** The real store, noting the name of every method called. */
function observedStore(calls: string[]): FixtureStore {
  return storeWith({
    get: (id) => {
      calls.push('get');
      return store.get(id);
    },
    put: (id, fields, now) => {
      calls.push('put');
      return store.put(id, fields, now);
    },
    delete: (id) => {
      calls.push('delete');
      return store.delete(id);
    },
    query: (filter, limit, cursor) => {
      calls.push('query');
      return store.query(filter, limit, cursor);
    },
    scan: (filter, max, onProgress) => {
      calls.push('scan');
      return store.scan(filter, max, onProgress);
    },
  });
}

/** The real store, whose scans report progress three times before they read. */
function progressingStore(): FixtureStore {
  return storeWith({
    scan: async (filter, max, onProgress) => {
      for (const read of [10, 20, 30]) await onProgress?.(read);
      return store.scan(filter, max);
    },
  });
}

const CALL_EVENTS: readonly AuditEvent[] = [
  AUDIT_EVENTS.toolCall,
  AUDIT_EVENTS.resourceRead,
  AUDIT_EVENTS.promptGet,
  AUDIT_EVENTS.completion,
];

/** The audit records of one event, or of every call, read, get and completion. */
function auditRecords(event?: AuditEvent) {
  return logs.records().filter((record) => {
    const written = record[AUDIT_FIELDS.event];
    return event === undefined
      ? CALL_EVENTS.some((callEvent) => callEvent === written)
      : written === event;
  });
}

/** The one audit record of the request (of any call kind), failing if there is not exactly one. */
function onlyAuditRecord(event: AuditEvent = AUDIT_EVENTS.toolCall) {
  expect(auditRecords()).toHaveLength(1);
  const records = auditRecords(event);
  expect(records).toHaveLength(1);
  return records[0] ?? {};
}

// ---------------------------------------------------------------------------------------------

describe('createMcpHandler: the authorizer context', () => {
  it.each<[string, APIGatewayEventDefaultAuthorizerContext]>([
    ['missing', undefined],
    ['null', null],
    ['empty', {}],
    ['of an unknown authMethod', { ...authorizerContextOf(analyst), authMethod: 'saml' }],
    ['with groups that are not a string', { ...authorizerContextOf(analyst), groups: ['admin'] }],
    ['of an API key without a keyId', { ...authorizerContextOf(reportingKey), keyId: '' }],
  ])('answers 401 and runs no tool when the context is %s', async (_label, authorizer) => {
    // Prepare
    const calls: string[] = [];
    const handler = handlerWith(observedStore(calls));

    // Act
    const result = await handler(
      mcpEvent({ authorizer, body: callTool('legacy', 'get_record', { id: 'cust-0001' }) }),
    );

    // Assess
    expect(result.statusCode).toBe(401);
    expect(calls).toEqual([]);
    expect(auditRecords()).toEqual([]);
  });

  it('explains a 401 in a JSON-RPC error body with id null', async () => {
    // Act
    const result = await handlerWith()(
      mcpEvent({ authorizer: {}, body: rpc('legacy', 'tools/list') }),
    );

    // Assess
    expect(JSON.parse(await textOf(result))).toEqual({
      jsonrpc: '2.0',
      error: { code: JSONRPC.refused, message: 'Unauthorized' },
      id: null,
    });
  });
});

describe('createMcpHandler: an expired credential behind a cached Allow', () => {
  const expired = () => ({
    ...authorizerContextOf(analyst),
    expiresAt: String(Math.floor(Date.now() / 1000) - 5),
  });

  it.each(ERAS)('answers a %s call 401 with an invalid_token challenge', async (era) => {
    // Act
    const result = await handlerWith()(
      mcpEvent({
        era,
        authorizer: expired(),
        body: callTool(era, 'get_record', { id: 'cust-0001' }),
      }),
    );

    // Assess
    expect(result.statusCode).toBe(401);
    expect(result.headers['WWW-Authenticate']).toMatch(/error="invalid_token"/);
  });

  it('runs nothing and audits nothing for an expired credential', async () => {
    // Prepare
    const calls: string[] = [];

    // Act
    await handlerWith(observedStore(calls))(
      mcpEvent({
        authorizer: expired(),
        body: callTool('legacy', 'get_record', { id: 'cust-0001' }),
      }),
    );

    // Assess
    expect(calls).toEqual([]);
    expect(auditRecords()).toEqual([]);
  });
});

describe('createMcpHandler: a token narrowed below its roles', () => {
  const METADATA =
    'https://abcdef1234.execute-api.eu-west-1.amazonaws.com/prod/.well-known/oauth-protected-resource';
  const stepUp: StepUpOptions = {
    audienceScope: 'secure-mcp/tools',
    permissionScopes: Object.keys(POLICY.permissions).map((p) => `secure-mcp/${p}`),
    resourceMetadataUrl: () => METADATA,
  };
  /** An admin whose token names only read_data: its roles grant delete_data, its scopes do not. */
  const narrowedAdmin: Principal = {
    ...admin,
    scopes: ['secure-mcp/tools', 'secure-mcp/read_data'],
  };

  it.each(ERAS)(
    'answers a call its scopes exclude with 200 and -32003 naming the scopes to authorize with, and no WWW-Authenticate (%s)',
    async (era) => {
      // Act
      const result = await handlerWith(store, { stepUp })(
        mcpEvent({
          era,
          as: narrowedAdmin,
          body: callTool(era, 'delete_record', { id: 'cust-0001' }),
        }),
      );

      // Assess: a challenge from the function would reach clients as x-amzn-Remapped-WWW-Authenticate
      expect(result.statusCode).toBe(200);
      expect(headerValues(result, 'www-authenticate')).toEqual([]);
      expect(await rpcError(result)).toEqual({
        code: PERMISSION_DENIED_CODE,
        message: expect.stringMatching(/^Insufficient scope: 'delete_record'/),
        data: {
          tool: 'delete_record',
          requiredPermission: 'delete_data',
          requiredScopes: ['secure-mcp/tools', 'secure-mcp/read_data', 'secure-mcp/delete_data'],
          resourceMetadata: METADATA,
        },
      });
    },
  );

  it('answers a prompt its scopes exclude the same way', async () => {
    // Act
    const result = await handlerWith(store, { stepUp })(
      mcpEvent({
        era: 'modern',
        as: narrowedAdmin,
        body: rpc('modern', 'prompts/get', {
          name: 'segment_review',
          arguments: { segment: 'retail' },
        }),
      }),
    );

    // Assess
    expect(result.statusCode).toBe(200);
    expect(await rpcError(result)).toMatchObject({
      code: PERMISSION_DENIED_CODE,
      data: {
        prompt: 'segment_review',
        requiredScopes: ['secure-mcp/tools', 'secure-mcp/read_data', 'secure-mcp/run_reports'],
      },
    });
  });

  it('runs nothing and audits the refusal as a scope denial', async () => {
    // Prepare
    const calls: string[] = [];

    // Act
    await handlerWith(observedStore(calls), { stepUp })(
      mcpEvent({
        era: 'modern',
        as: narrowedAdmin,
        body: callTool('modern', 'delete_record', { id: 'cust-0001' }),
      }),
    );

    // Assess
    expect(calls).toEqual([]);
    expect(onlyAuditRecord()).toMatchObject({
      [AUDIT_FIELDS.status]: TOOL_CALL_STATUS.denied,
      [AUDIT_FIELDS.errorType]: DENIAL_REASONS.scope,
      [AUDIT_FIELDS.tool]: 'delete_record',
      [AUDIT_FIELDS.permission]: 'delete_data',
    });
  });

  it('names no scopes for what no role grants: no token could fix a role denial', async () => {
    // Act
    const result = await handlerWith(store, { stepUp })(
      mcpEvent({
        era: 'modern',
        as: { ...analyst, scopes: ['secure-mcp/tools', 'secure-mcp/read_data'] },
        body: callTool('modern', 'delete_record', { id: 'cust-0001' }),
      }),
    );

    // Assess
    const error = await rpcError(result);
    expect(error.code).toBe(PERMISSION_DENIED_CODE);
    expect(error.data).not.toHaveProperty('requiredScopes');
    expect(onlyAuditRecord()[AUDIT_FIELDS.errorType]).toBe(DENIAL_REASONS.permission);
  });
});

describe('createMcpHandler: the request line', () => {
  it('answers a GET with 405 instead of opening an event stream', async () => {
    // Act
    const result = await handlerWith()(mcpEvent({ method: 'GET' }));

    // Assess
    expect(result.statusCode).toBe(405);
    expect(result.headers.Allow).toBe('POST');
  });

  it('answers a POST from an origin that is not allowed with 403, running nothing', async () => {
    // Prepare
    const calls: string[] = [];

    // Act
    const result = await handlerWith(observedStore(calls))(
      mcpEvent({
        body: callTool('legacy', 'get_record', { id: 'cust-0001' }),
        headers: { Origin: 'https://evil.example' },
      }),
    );

    // Assess
    expect(result.statusCode).toBe(403);
    expect(calls).toEqual([]);
  });

  it('gives an allowed browser origin its CORS headers on the answer', async () => {
    // Act
    const result = await handlerWith()(
      mcpEvent({
        era: 'modern',
        body: rpc('modern', 'tools/list'),
        headers: { Origin: 'https://app.example.com' },
      }),
    );

    // Assess
    expect(headerValues(result, 'access-control-allow-origin')).toEqual([
      'https://app.example.com',
    ]);
  });
});

describe('createMcpHandler: initialize, discovery and lists', () => {
  it('answers a 2025-11-25 initialize over SSE with its server info and the tools capability', async () => {
    // Act
    const result = await handlerWith()(
      mcpEvent({
        body: rpc('legacy', 'initialize', {
          protocolVersion: LEGACY,
          capabilities: {},
          clientInfo: { name: 'handler-test', version: '0.0.0' },
        }),
      }),
    );

    // Assess
    expect(isSse(result)).toBe(true);
    expect(await rpcResult(result)).toMatchObject({
      protocolVersion: LEGACY,
      serverInfo: SERVER_INFO,
      capabilities: { tools: expect.any(Object) },
      instructions: fixtureModule.instructions,
    });
  });

  it('answers a 2026-07-28 server/discover in JSON with the revision it serves', async () => {
    // Act
    const result = await handlerWith()(
      mcpEvent({ era: 'modern', body: rpc('modern', 'server/discover') }),
    );

    // Assess
    expect(isSse(result)).toBe(false);
    expect(await rpcResult(result)).toMatchObject({
      supportedVersions: [MODERN],
      capabilities: { tools: expect.any(Object), completions: expect.any(Object) },
    });
  });

  it.each(ERAS)(
    'lists exactly get_record, query_customer_data and run_report for an analyst (%s)',
    async (era) => {
      // Act
      const result = await handlerWith()(
        mcpEvent({ era, as: analyst, body: rpc(era, 'tools/list') }),
      );

      // Assess
      expect(namedList('tools', 'name').parse(await rpcResult(result))).toEqual([
        'get_record',
        'query_customer_data',
        'run_report',
      ]);
    },
  );

  it.each(ERAS)('lists every tool of the module for an admin (%s)', async (era) => {
    // Act
    const result = await handlerWith()(mcpEvent({ era, as: admin, body: rpc(era, 'tools/list') }));

    // Assess
    expect(namedList('tools', 'name').parse(await rpcResult(result))).toEqual(
      fixtureModule.tools?.map((tool) => tool.name),
    );
  });

  it.each(ERAS)('lists no tools for a caller with no recognised role (%s)', async (era) => {
    // Act
    const result = await handlerWith()(mcpEvent({ era, as: guest, body: rpc(era, 'tools/list') }));

    // Assess
    expect(namedList('tools', 'name').parse(await rpcResult(result))).toEqual([]);
  });

  it('lists only the record schema among the resources of a readonly caller', async () => {
    // Act
    const result = await handlerWith()(
      mcpEvent({ as: readonlyUser, body: rpc('legacy', 'resources/list') }),
    );

    // Assess
    expect(namedList('resources', 'uri').parse(await rpcResult(result))).toEqual([
      'customers://schema/record',
    ]);
  });

  it('lists no resource template for a readonly caller', async () => {
    // Act
    const result = await handlerWith()(
      mcpEvent({ as: readonlyUser, body: rpc('legacy', 'resources/templates/list') }),
    );

    // Assess
    expect(namedList('resourceTemplates', 'name').parse(await rpcResult(result))).toEqual([]);
  });

  it('lists the segment summaries among the resources of an analyst', async () => {
    // Act
    const result = await handlerWith()(
      mcpEvent({ era: 'modern', as: analyst, body: rpc('modern', 'resources/list') }),
    );

    // Assess
    expect(namedList('resources', 'uri').parse(await rpcResult(result))).toEqual([
      'customers://schema/record',
      'customers://segments/retail/summary',
      'customers://segments/business/summary',
      'customers://segments/enterprise/summary',
    ]);
  });

  it('lists only customer_summary among the prompts of a readonly caller', async () => {
    // Act
    const result = await handlerWith()(
      mcpEvent({ as: readonlyUser, body: rpc('legacy', 'prompts/list') }),
    );

    // Assess
    expect(namedList('prompts', 'name').parse(await rpcResult(result))).toEqual([
      'customer_summary',
    ]);
  });

  it('lists both prompts for an analyst', async () => {
    // Act
    const result = await handlerWith()(
      mcpEvent({ era: 'modern', as: analyst, body: rpc('modern', 'prompts/list') }),
    );

    // Assess
    expect(namedList('prompts', 'name').parse(await rpcResult(result))).toEqual([
      'customer_summary',
      'segment_review',
    ]);
  });
});

describe.each(ERAS)('createMcpHandler: a %s tools/call refused by the policy', (era) => {
  const deleteCall = (args: Params = { id: 'cust-0002' }) =>
    mcpEvent({ era, as: analyst, body: callTool(era, 'delete_record', args) });

  it('answers an analyst calling delete_record with error -32003 naming delete_data', async () => {
    // Act
    const result = await handlerWith()(deleteCall());

    // Assess
    const error = await rpcError(result);
    expect(error.code).toBe(PERMISSION_DENIED_CODE);
    expect(error.message).toContain('delete_data');
  });

  it('answers the refusal for the request id', async () => {
    // Act
    const result = await handlerWith()(deleteCall());

    // Assess
    expect(errorMessage.parse(await answerOf(result)).id).toBe(3);
  });

  it('calls the store not at all, and leaves the record in it', async () => {
    // Prepare
    const calls: string[] = [];

    // Act
    await handlerWith(observedStore(calls))(deleteCall());

    // Assess
    expect(calls).toEqual([]);
    expect(await store.get('cust-0002')).toMatchObject({ id: 'cust-0002' });
  });

  it('writes exactly one audit record, with status denied, for a refused call', async () => {
    // Act
    await handlerWith()(deleteCall());

    // Assess
    expect(onlyAuditRecord()).toMatchObject({
      [AUDIT_FIELDS.status]: TOOL_CALL_STATUS.denied,
      [AUDIT_FIELDS.tool]: 'delete_record',
      [AUDIT_FIELDS.permission]: 'delete_data',
      [AUDIT_FIELDS.protocolEra]: era,
    });
  });

  it('treats a refused call with invalid arguments as denied: permission comes first', async () => {
    // Act
    const result = await handlerWith()(deleteCall({ id: 42, cascade: true }));

    // Assess
    expect((await rpcError(result)).code).toBe(PERMISSION_DENIED_CODE);
    expect(onlyAuditRecord()[AUDIT_FIELDS.status]).toBe(TOOL_CALL_STATUS.denied);
  });

  it('treats a refused call whose arguments are not even an object as denied', async () => {
    // Prepare
    const body = rpc(era, 'tools/call', { name: 'delete_record', arguments: ['cust-0002'] });

    // Act
    const result = await handlerWith()(mcpEvent({ era, as: analyst, body }));

    // Assess
    expect((await rpcError(result)).code).toBe(PERMISSION_DENIED_CODE);
    expect(onlyAuditRecord()).toMatchObject({
      [AUDIT_FIELDS.status]: TOOL_CALL_STATUS.denied,
      [AUDIT_FIELDS.tool]: 'delete_record',
    });
  });

  it('answers an unknown tool with -32602 "Unknown tool"', async () => {
    // Act
    const result = await handlerWith()(
      mcpEvent({ era, as: admin, body: callTool(era, 'drop_all_tables') }),
    );

    // Assess
    expect(await rpcError(result)).toMatchObject({
      code: INVALID_PARAMS_CODE,
      message: 'Unknown tool: drop_all_tables',
    });
  });

  it('audits a call of an unknown tool as invalid', async () => {
    // Act
    await handlerWith()(mcpEvent({ era, as: admin, body: callTool(era, 'drop_all_tables') }));

    // Assess
    expect(onlyAuditRecord()[AUDIT_FIELDS.status]).toBe(TOOL_CALL_STATUS.invalid);
  });

  it('keeps the tool field a bounded dimension when the name is made up', async () => {
    // Prepare
    const madeUp = `x${'y'.repeat(500)}`;

    // Act
    await handlerWith()(mcpEvent({ era, as: admin, body: callTool(era, madeUp) }));

    // Assess
    expect(onlyAuditRecord()).toMatchObject({
      [AUDIT_FIELDS.tool]: UNKNOWN_TOOL,
      [AUDIT_FIELDS.requestedTool]: madeUp.slice(0, 64),
    });
  });
});

describe.each(ERAS)('createMcpHandler: odd %s tools/call inputs (issue #10)', (era) => {
  type OddCall = (name: string, args: Params) => unknown;
  const withTask: OddCall = (name, args) =>
    rpc(era, 'tools/call', { name, arguments: args, task: { ttl: 60000 } });
  const withScalarMeta: OddCall = (name, args) => ({
    ...callTool(era, name, args),
    params: { name, arguments: args, _meta: 'x' },
  });
  const withObjectToken: OddCall = (name, args) =>
    callTool(era, name, args, { meta: { progressToken: { a: 1 } } });
  const withFractionalToken: OddCall = (name, args) =>
    callTool(era, name, args, { meta: { progressToken: 1.5 } });
  const withFractionalId: OddCall = (name, args) => callTool(era, name, args, { id: 0.5 });

  /** Each odd input, and the status the SDK's answer to an allowed call with it is audited as. */
  const ODD_INPUTS: readonly [string, OddCall, string][] = [
    ['a params.task', withTask, TOOL_CALL_STATUS.success],
    ['a _meta that is no object', withScalarMeta, TOOL_CALL_STATUS.invalid],
    ['an object progress token', withObjectToken, TOOL_CALL_STATUS.invalid],
    ['a fractional progress token', withFractionalToken, TOOL_CALL_STATUS.invalid],
    ['a fractional id', withFractionalId, TOOL_CALL_STATUS.invalid],
  ];
  const REFUSED_BY_THE_SDK = ODD_INPUTS.filter(([, , status]) => status !== 'success');

  describe.each(ODD_INPUTS)('with %s', (_label, oddCall, status) => {
    it('denies an analyst delete_record with -32003: the gate comes first', async () => {
      // Act
      const result = await handlerWith()(
        mcpEvent({ era, as: analyst, body: oddCall('delete_record', { id: 'cust-0002' }) }),
      );

      // Assess
      expect((await rpcError(result)).code).toBe(PERMISSION_DENIED_CODE);
    });

    it('leaves exactly one denied mcp.tool_call record for the analyst, and calls no store', async () => {
      // Prepare
      const calls: string[] = [];

      // Act
      await handlerWith(observedStore(calls))(
        mcpEvent({ era, as: analyst, body: oddCall('delete_record', { id: 'cust-0002' }) }),
      );

      // Assess
      expect(onlyAuditRecord()).toMatchObject({
        [AUDIT_FIELDS.status]: TOOL_CALL_STATUS.denied,
        [AUDIT_FIELDS.tool]: 'delete_record',
        [AUDIT_FIELDS.protocolEra]: era,
      });
      expect(calls).toEqual([]);
    });

    it(`leaves exactly one mcp.tool_call record, ${status}, for an admin get_record`, async () => {
      // Act
      await handlerWith()(
        mcpEvent({ era, as: admin, body: oddCall('get_record', { id: 'cust-0001' }) }),
      );

      // Assess
      expect(onlyAuditRecord()).toMatchObject({
        [AUDIT_FIELDS.status]: status,
        [AUDIT_FIELDS.tool]: 'get_record',
        [AUDIT_FIELDS.protocolEra]: era,
      });
    });
  });

  it('runs an admin get_record that carries a params.task as a plain call', async () => {
    // Act
    const result = await handlerWith()(
      mcpEvent({ era, as: admin, body: withTask('get_record', { id: 'cust-0001' }) }),
    );

    // Assess
    expect((await toolResult(result)).structuredContent).toMatchObject({ found: true });
  });

  it.each(REFUSED_BY_THE_SDK)(
    'answers an admin get_record with %s with 400 -32600',
    async (_label, oddCall) => {
      // Act
      const result = await handlerWith()(
        mcpEvent({ era, as: admin, body: oddCall('get_record', { id: 'cust-0001' }) }),
      );

      // Assess
      expect(result.statusCode).toBe(400);
      expect(errorMessage.parse(JSON.parse(await textOf(result))).error.code).toBe(
        JSONRPC.invalidRequest,
      );
    },
  );

  it.each(REFUSED_BY_THE_SDK)(
    'calls the store not at all for an admin get_record with %s',
    async (_label, oddCall) => {
      // Prepare
      const calls: string[] = [];

      // Act
      await handlerWith(observedStore(calls))(
        mcpEvent({ era, as: admin, body: oddCall('get_record', { id: 'cust-0001' }) }),
      );

      // Assess
      expect(calls).toEqual([]);
    },
  );
});

describe('createMcpHandler: the era and trace of an audit record', () => {
  it.each(ERAS)('records the %s era of a call', async (era) => {
    // Act
    await handlerWith()(
      mcpEvent({ era, as: analyst, body: callTool(era, 'get_record', { id: 'cust-0001' }) }),
    );

    // Assess
    expect(onlyAuditRecord()[AUDIT_FIELDS.protocolEra]).toBe(era);
  });

  it.each(ERAS)("records the trace id of a %s call's valid _meta.traceparent", async (era) => {
    // Act
    await handlerWith()(
      mcpEvent({
        era,
        as: analyst,
        body: callTool(
          era,
          'get_record',
          { id: 'cust-0001' },
          { meta: { traceparent: TRACEPARENT } },
        ),
      }),
    );

    // Assess
    expect(onlyAuditRecord()[AUDIT_FIELDS.traceId]).toBe(TRACE_ID);
  });

  it('records the trace id of a refused call too', async () => {
    // Act
    await handlerWith()(
      mcpEvent({
        as: analyst,
        body: callTool(
          'legacy',
          'delete_record',
          { id: 'x' },
          { meta: { traceparent: TRACEPARENT } },
        ),
      }),
    );

    // Assess
    expect(onlyAuditRecord()).toMatchObject({
      [AUDIT_FIELDS.status]: TOOL_CALL_STATUS.denied,
      [AUDIT_FIELDS.traceId]: TRACE_ID,
    });
  });

  it.each([
    ['garbage', 'not-a-traceparent'],
    ['version ff', `ff-${TRACE_ID}-00f067aa0ba902b7-01`],
    ['an all-zero trace id', `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`],
    ['an all-zero parent id', `00-${TRACE_ID}-${'0'.repeat(16)}-01`],
    ['upper-case hex', `00-${TRACE_ID.toUpperCase()}-00f067aa0ba902b7-01`],
    ['a number', 42],
  ])('records no trace id for a traceparent that is %s', async (_label, traceparent) => {
    // Act
    await handlerWith()(
      mcpEvent({
        era: 'modern',
        as: analyst,
        body: callTool('modern', 'get_record', { id: 'cust-0001' }, { meta: { traceparent } }),
      }),
    );

    // Assess
    expect(onlyAuditRecord()).not.toHaveProperty(AUDIT_FIELDS.traceId);
  });
});

describe.each(ERAS)('createMcpHandler: %s resources/read, prompts/get and completion', (era) => {
  const SUMMARY = 'customers://segments/retail/summary';
  const readSummary = (as: Principal) =>
    mcpEvent({ era, as, body: rpc(era, 'resources/read', { uri: SUMMARY }) });
  const getReview = (as: Principal) =>
    mcpEvent({
      era,
      as,
      body: rpc(era, 'prompts/get', { name: 'segment_review', arguments: { segment: 'retail' } }),
    });
  const completeReview = (as: Principal) =>
    mcpEvent({
      era,
      as,
      body: rpc(era, 'completion/complete', {
        ref: { type: 'ref/prompt', name: 'segment_review' },
        argument: { name: 'segment', value: 're' },
      }),
    });

  it('refuses a readonly caller reading a segment summary with -32003 naming run_reports', async () => {
    // Act
    const result = await handlerWith()(readSummary(readonlyUser));

    // Assess
    const error = await rpcError(result);
    expect(error.code).toBe(PERMISSION_DENIED_CODE);
    expect(error.message).toContain("requires permission 'run_reports'");
  });

  it('leaves one denied mcp.resource_read record for the refused read, and reads nothing', async () => {
    // Prepare
    const calls: string[] = [];

    // Act
    await handlerWith(observedStore(calls))(readSummary(readonlyUser));

    // Assess
    expect(onlyAuditRecord(AUDIT_EVENTS.resourceRead)).toMatchObject({
      [AUDIT_FIELDS.status]: TOOL_CALL_STATUS.denied,
      [AUDIT_FIELDS.resource]: 'segment_summary',
      [AUDIT_FIELDS.permission]: 'run_reports',
      [AUDIT_FIELDS.protocolEra]: era,
    });
    expect(calls).toEqual([]);
  });

  it('refuses a readonly caller the segment_review prompt with -32003 naming run_reports', async () => {
    // Act
    const result = await handlerWith()(getReview(readonlyUser));

    // Assess
    const error = await rpcError(result);
    expect(error.code).toBe(PERMISSION_DENIED_CODE);
    expect(error.message).toContain("requires permission 'run_reports'");
  });

  it('leaves one denied mcp.prompt_get record for the refused prompt', async () => {
    // Act
    await handlerWith()(getReview(readonlyUser));

    // Assess
    expect(onlyAuditRecord(AUDIT_EVENTS.promptGet)).toMatchObject({
      [AUDIT_FIELDS.status]: TOOL_CALL_STATUS.denied,
      [AUDIT_FIELDS.prompt]: 'segment_review',
      [AUDIT_FIELDS.permission]: 'run_reports',
    });
  });

  it('refuses a readonly caller completing a segment_review argument with -32003', async () => {
    // Act
    const result = await handlerWith()(completeReview(readonlyUser));

    // Assess
    const error = await rpcError(result);
    expect(error.code).toBe(PERMISSION_DENIED_CODE);
    expect(error.message).toContain("requires permission 'run_reports'");
  });

  it('leaves one denied mcp.completion record for the refused completion', async () => {
    // Act
    await handlerWith()(completeReview(readonlyUser));

    // Assess
    expect(onlyAuditRecord(AUDIT_EVENTS.completion)).toMatchObject({
      [AUDIT_FIELDS.status]: TOOL_CALL_STATUS.denied,
      [AUDIT_FIELDS.permission]: 'run_reports',
      [AUDIT_FIELDS.target]: 'segment_review',
    });
  });

  it('refuses a readonly caller completing a segment_summary variable with -32003', async () => {
    // Act
    const result = await handlerWith()(
      mcpEvent({
        era,
        as: readonlyUser,
        body: rpc(era, 'completion/complete', {
          ref: { type: 'ref/resource', uri: 'customers://segments/{segment}/summary' },
          argument: { name: 'segment', value: 'b' },
        }),
      }),
    );

    // Assess
    expect((await rpcError(result)).code).toBe(PERMISSION_DENIED_CODE);
  });

  it('reads a segment summary for an analyst', async () => {
    // Act
    const result = await handlerWith()(readSummary(analyst));

    // Assess
    expect(await rpcResult(result)).toMatchObject({
      contents: [
        {
          uri: SUMMARY,
          mimeType: 'application/json',
          text: expect.stringContaining('"segment":"retail"'),
        },
      ],
    });
  });

  it("leaves one successful mcp.resource_read record for an analyst's read", async () => {
    // Act
    await handlerWith()(readSummary(analyst));

    // Assess
    expect(onlyAuditRecord(AUDIT_EVENTS.resourceRead)).toMatchObject({
      [AUDIT_FIELDS.status]: TOOL_CALL_STATUS.success,
      [AUDIT_FIELDS.resource]: 'segment_summary',
    });
  });

  it("leaves one successful mcp.prompt_get record for an analyst's prompt", async () => {
    // Act
    await handlerWith()(getReview(analyst));

    // Assess
    expect(onlyAuditRecord(AUDIT_EVENTS.promptGet)).toMatchObject({
      [AUDIT_FIELDS.status]: TOOL_CALL_STATUS.success,
      [AUDIT_FIELDS.prompt]: 'segment_review',
    });
  });

  it('completes a segment_review argument for an analyst, auditing nothing', async () => {
    // Act
    const result = await handlerWith()(completeReview(analyst));

    // Assess
    expect(await rpcResult(result)).toMatchObject({ completion: { values: ['retail'] } });
    expect(auditRecords()).toEqual([]);
  });

  it(`answers an unknown resource with ${era === 'legacy' ? -32002 : -32602}, naming the URI`, async () => {
    // Act
    const result = await handlerWith()(
      mcpEvent({ era, as: admin, body: rpc(era, 'resources/read', { uri: 'nope://x' }) }),
    );

    // Assess
    expect(await rpcError(result)).toEqual({
      code: era === 'legacy' ? LEGACY_RESOURCE_NOT_FOUND_CODE : INVALID_PARAMS_CODE,
      message: 'Resource not found',
      data: { uri: 'nope://x' },
    });
  });

  it('audits a read of an unknown resource as invalid, with what was asked for', async () => {
    // Act
    await handlerWith()(
      mcpEvent({ era, as: admin, body: rpc(era, 'resources/read', { uri: 'nope://x' }) }),
    );

    // Assess
    expect(onlyAuditRecord(AUDIT_EVENTS.resourceRead)).toMatchObject({
      [AUDIT_FIELDS.status]: TOOL_CALL_STATUS.invalid,
      [AUDIT_FIELDS.resource]: UNKNOWN_ITEM,
      [AUDIT_FIELDS.requested]: 'nope://x',
    });
  });

  it('answers an unknown prompt with -32602', async () => {
    // Act
    const result = await handlerWith()(
      mcpEvent({ era, as: admin, body: rpc(era, 'prompts/get', { name: 'nope' }) }),
    );

    // Assess
    expect(await rpcError(result)).toMatchObject({
      code: INVALID_PARAMS_CODE,
      message: 'Unknown prompt: nope',
    });
  });

  it('audits a get of an unknown prompt as invalid', async () => {
    // Act
    await handlerWith()(
      mcpEvent({ era, as: admin, body: rpc(era, 'prompts/get', { name: 'nope' }) }),
    );

    // Assess
    expect(onlyAuditRecord(AUDIT_EVENTS.promptGet)).toMatchObject({
      [AUDIT_FIELDS.status]: TOOL_CALL_STATUS.invalid,
      [AUDIT_FIELDS.prompt]: UNKNOWN_ITEM,
    });
  });
});

describe('createMcpHandler: hygiene headers', () => {
  const answers: [string, () => APIGatewayProxyEvent, McpHandler?][] = [
    ['a legacy SSE answer', () => mcpEvent({ body: rpc('legacy', 'tools/list') })],
    ['a modern JSON answer', () => mcpEvent({ era: 'modern', body: rpc('modern', 'tools/list') })],
    [
      'a modern SSE progress stream',
      () =>
        mcpEvent({
          era: 'modern',
          body: callTool('modern', 'run_report', {}, { meta: { progressToken: 'p1' } }),
        }),
    ],
    ['a 401', () => mcpEvent({ authorizer: {}, body: rpc('legacy', 'tools/list') })],
    ['a 405', () => mcpEvent({ method: 'GET' })],
    ['a 403', () => mcpEvent({ headers: { Origin: 'https://evil.example' } })],
    ['a 400 parse error', () => mcpEvent({ rawBody: '{"jsonrpc":' })],
    [
      'a -32003 refusal',
      () => mcpEvent({ body: callTool('legacy', 'delete_record', { id: 'cust-0001' }) }),
    ],
    [
      'a 400 -32020 header mismatch',
      () =>
        mcpEvent({
          era: 'modern',
          body: callTool('modern', 'get_record', { id: 'cust-0001' }),
          headers: { 'Mcp-Name': 'run_report' },
        }),
    ],
  ];

  /** The directives of the one Cache-Control header, failing if there is not exactly one. */
  function cacheDirectives(result: McpResponse): string[] {
    const values = headerValues(result, 'cache-control');
    expect(values).toHaveLength(1);
    return (values[0] ?? '').split(',').map((directive) => directive.trim());
  }

  it.each(answers)('forbids caching %s, in one Cache-Control header', async (_label, event) => {
    // Act
    const result = await handlerWith()(event());

    // Assess
    expect(cacheDirectives(result)).toContain('no-store');
  });

  it.each(answers)('forbids type sniffing of %s', async (_label, event) => {
    // Act
    const result = await handlerWith()(event());

    // Assess
    expect(headerValues(result, 'x-content-type-options')).toEqual(['nosniff']);
  });

  it('keeps proxies from transforming an SSE stream', async () => {
    // Act
    const result = await rawHandlerWith()(mcpEvent({ body: rpc('legacy', 'tools/list') }));

    // Assess
    expect(isSse(result)).toBe(true);
    expect(cacheDirectives(result)).toEqual(['no-store', 'no-transform']);
  });
});

describe('createMcpHandler: a 2026-07-28 request whose headers and body disagree', () => {
  const mismatched = () =>
    mcpEvent({
      era: 'modern',
      as: admin,
      body: callTool('modern', 'get_record', { id: 'cust-0001' }),
      headers: { 'Mcp-Name': 'run_report' },
    });

  it('answers 400 with -32020 when Mcp-Name names another tool', async () => {
    // Act
    const result = await handlerWith()(mismatched());

    // Assess
    expect(result.statusCode).toBe(400);
    expect(errorMessage.parse(JSON.parse(await textOf(result))).error.code).toBe(-32020);
  });

  it('answers 400 with -32020 when Mcp-Method names another method', async () => {
    // Act
    const result = await handlerWith()(
      mcpEvent({
        era: 'modern',
        as: admin,
        body: callTool('modern', 'get_record', { id: 'cust-0001' }),
        headers: { 'Mcp-Method': 'tools/list' },
      }),
    );

    // Assess
    expect(result.statusCode).toBe(400);
    expect(errorMessage.parse(JSON.parse(await textOf(result))).error.code).toBe(-32020);
  });

  it('audits the call it refused as invalid, naming the tool of the body', async () => {
    // Act
    await handlerWith()(mismatched());

    // Assess
    expect(onlyAuditRecord()).toMatchObject({
      [AUDIT_FIELDS.status]: TOOL_CALL_STATUS.invalid,
      [AUDIT_FIELDS.tool]: 'get_record',
      [AUDIT_FIELDS.errorType]: 'JsonRpcError-32020',
      [AUDIT_FIELDS.protocolEra]: 'modern',
    });
  });

  it('runs nothing for it', async () => {
    // Prepare
    const calls: string[] = [];

    // Act
    await handlerWith(observedStore(calls))(mismatched());

    // Assess
    expect(calls).toEqual([]);
  });

  it('still refuses a forbidden tool with -32003 whatever its headers say', async () => {
    // Act
    const result = await handlerWith()(
      mcpEvent({
        era: 'modern',
        as: analyst,
        body: callTool('modern', 'delete_record', { id: 'cust-0001' }),
        headers: { 'Mcp-Name': 'get_record' },
      }),
    );

    // Assess
    expect((await rpcError(result)).code).toBe(PERMISSION_DENIED_CODE);
  });
});

describe.each(ERAS)('createMcpHandler: a %s tools/call that reports progress', (era) => {
  const reportWithToken = () =>
    mcpEvent({
      era,
      as: analyst,
      body: callTool(era, 'run_report', {}, { meta: { progressToken: 'p1' } }),
    });

  it('answers with an SSE stream', async () => {
    // Act
    const result = await rawHandlerWith(progressingStore())(reportWithToken());

    // Assess
    expect(isSse(result)).toBe(true);
    expect(result.body).toBeInstanceOf(ReadableStream);
  });

  it('sends every progress frame before the result', async () => {
    // Act
    const messages = await messagesOf(await handlerWith(progressingStore())(reportWithToken()));

    // Assess
    expect(
      messages.map((message) =>
        progressMessage.safeParse(message).success ? 'progress' : 'other',
      ),
    ).toEqual(['progress', 'progress', 'progress', 'other']);
    expect(resultMessage.safeParse(messages.at(-1)).success).toBe(true);
  });

  it('reports the progress in order, under the token the client sent', async () => {
    // Act
    const messages = await messagesOf(await handlerWith(progressingStore())(reportWithToken()));

    // Assess
    const progress = messages.flatMap((message) => {
      const parsed = progressMessage.safeParse(message);
      return parsed.success ? [parsed.data.params] : [];
    });
    expect(progress).toEqual([
      expect.objectContaining({ progressToken: 'p1', progress: 10 }),
      expect.objectContaining({ progressToken: 'p1', progress: 20 }),
      expect.objectContaining({ progressToken: 'p1', progress: 30 }),
    ]);
  });

  it('streams a progress frame while the tool is still running', async () => {
    // Prepare
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const slowStore = storeWith({
      scan: async (filter, max, onProgress) => {
        await onProgress?.(1);
        await released;
        return store.scan(filter, max);
      },
    });
    onTestFinished(() => release());
    const result = await rawHandlerWith(slowStore)(reportWithToken());
    if (typeof result.body === 'string') throw new Error('expected a stream');
    const reader = result.body.getReader();

    // Act
    const first = await reader.read();

    // Assess
    expect(sseMessages(new TextDecoder().decode(first.value))).toEqual([
      expect.objectContaining({ method: 'notifications/progress' }),
    ]);
    release();
    await reader.cancel();
  }, 10_000);

  it('writes the audit record as the answer passes, before the stream has ended', async () => {
    // Prepare
    const result = await rawHandlerWith(progressingStore())(reportWithToken());
    if (typeof result.body === 'string') throw new Error('expected a stream');
    const reader = result.body.getReader();
    const decoder = new TextDecoder();

    // Act: read up to the frame holding the answer, and no further
    let text = '';
    while (!sseMessages(text).some((message) => resultMessage.safeParse(message).success)) {
      const { done, value } = await reader.read();
      if (done) throw new Error('the stream ended before the answer');
      text += decoder.decode(value, { stream: true });
    }
    const recordsWithTheAnswer = auditRecords();
    await reader.cancel();

    // Assess: whoever holds the answer finds its record, and the end adds no second one
    expect(recordsWithTheAnswer).toEqual([
      expect.objectContaining({
        [AUDIT_FIELDS.status]: TOOL_CALL_STATUS.success,
        [AUDIT_FIELDS.tool]: 'run_report',
      }),
    ]);
    expect(auditRecords()).toHaveLength(1);
  });

  it('writes one successful audit record once the stream has ended', async () => {
    // Prepare
    const result = await rawHandlerWith(progressingStore())(reportWithToken());

    // Act
    await textOf(result);

    // Assess
    expect(onlyAuditRecord()).toMatchObject({
      [AUDIT_FIELDS.status]: TOOL_CALL_STATUS.success,
      [AUDIT_FIELDS.tool]: 'run_report',
    });
  });
});

describe('createMcpHandler: a tools/call without a progress token', () => {
  const report = (era: Era) =>
    mcpEvent({ era, as: analyst, body: callTool(era, 'run_report', {}) });

  it('answers a modern call with one JSON body, even if the tool reports progress', async () => {
    // Act
    const result = await rawHandlerWith(progressingStore())(report('modern'));

    // Assess
    expect(headerValues(result, 'content-type')).toEqual(['application/json']);
    expect(typeof result.body).toBe('string');
    expect(await messagesOf(result)).toEqual([
      expect.objectContaining({ result: expect.any(Object) }),
    ]);
  });

  it('answers a legacy call with an SSE stream of one frame, the result', async () => {
    // Act
    const result = await rawHandlerWith(progressingStore())(report('legacy'));

    // Assess
    expect(isSse(result)).toBe(true);
    expect(await messagesOf(result)).toEqual([
      expect.objectContaining({ result: expect.any(Object) }),
    ]);
  });
});

describe.each(ERAS)('createMcpHandler: a %s tools/call with bad arguments', (era) => {
  const SECRET_LOOKING = 'sk_live_51HqT9fKq8Zx3Yw2Vb7Nc';
  const badQuery = () =>
    mcpEvent({
      era,
      as: analyst,
      body: callTool(era, 'query_customer_data', { country: SECRET_LOOKING }),
    });

  it('returns an isError result naming the argument at fault', async () => {
    // Act
    const result = await toolResult(await handlerWith()(badQuery()));

    // Assess
    expect(result.isError).toBe(true);
    expect(toolText(result)).toMatch(/\bcountry\b/);
  });

  it('does not echo the rejected value in the response', async () => {
    // Act
    const text = await textOf(await handlerWith()(badQuery()));

    // Assess
    expect(text).toContain('"isError":true');
    expect(text).not.toContain(SECRET_LOOKING);
  });

  it('audits a permitted call with invalid arguments as invalid', async () => {
    // Act
    await handlerWith()(badQuery());

    // Assess
    expect(onlyAuditRecord()[AUDIT_FIELDS.status]).toBe(TOOL_CALL_STATUS.invalid);
  });

  it('does not write the rejected value to the log', async () => {
    // Act
    await handlerWith()(badQuery());

    // Assess
    expect(auditRecords()).toHaveLength(1);
    expect(logs.lines.filter((line) => line.includes(SECRET_LOOKING))).toEqual([]);
  });

  it('reports a cursor it did not issue as an isError result, audited as invalid', async () => {
    // Act
    const result = await handlerWith()(
      mcpEvent({
        era,
        as: analyst,
        body: callTool(era, 'query_customer_data', { cursor: 'forged!!' }),
      }),
    );

    // Assess
    expect((await toolResult(result)).isError).toBe(true);
    expect(onlyAuditRecord()).toMatchObject({
      [AUDIT_FIELDS.status]: TOOL_CALL_STATUS.invalid,
      [AUDIT_FIELDS.errorType]: 'ToolInputError',
    });
  });
});

describe.each(ERAS)('createMcpHandler: a %s tools/call whose store fails', (era) => {
  class ThroughputExceededError extends Error {
    override readonly name = 'ThroughputExceededError';
  }
  const INTERNAL_DETAIL = 'Rate exceeded for table mcp-records-prod-7f3a in 123456789012';
  const failingHandler = () =>
    handlerWith(
      storeWith({
        get: async () => {
          throw new ThroughputExceededError(INTERNAL_DETAIL);
        },
      }),
    );
  const getCall = () =>
    mcpEvent({ era, as: analyst, body: callTool(era, 'get_record', { id: 'cust-0003' }) });

  it('returns an isError result that quotes the request id', async () => {
    // Act
    const result = await toolResult(await failingHandler()(getCall()));

    // Assess
    expect(result.isError).toBe(true);
    expect(toolText(result)).toContain(REQUEST_ID);
  });

  it('keeps the error message, type and stack out of the response', async () => {
    // Act
    const text = await textOf(await failingHandler()(getCall()));

    // Assess
    expect(text).toContain(REQUEST_ID);
    expect(text).not.toContain('Rate exceeded');
    expect(text).not.toContain('ThroughputExceededError');
    expect(text).not.toMatch(/\bat .+:\d+:\d+|\.test\.ts|node_modules/);
  });

  it('audits the call as error with the type of the failure', async () => {
    // Act
    await failingHandler()(getCall());

    // Assess
    expect(onlyAuditRecord()).toMatchObject({
      [AUDIT_FIELDS.status]: TOOL_CALL_STATUS.error,
      [AUDIT_FIELDS.errorType]: 'ThroughputExceededError',
    });
  });

  it('keeps the error message and stack out of the log', async () => {
    // Act
    await failingHandler()(getCall());

    // Assess
    expect(auditRecords()).toHaveLength(1);
    expect(logs.lines.filter((line) => /Rate exceeded|\.test\.ts:\d+/.test(line))).toEqual([]);
  });
});

describe('createMcpHandler: malformed tools/call params', () => {
  const malformed = (params: unknown) => ({ jsonrpc: '2.0', id: 9, method: 'tools/call', params });

  it.each([
    ['arguments as an array', { name: 'get_record', arguments: ['cust-0001'] }],
    ['arguments as a string', { name: 'get_record', arguments: 'cust-0001' }],
    ['a numeric name', { name: 42, arguments: {} }],
    ['no params at all', undefined],
  ])('answers %s with -32602 and audits it as invalid', async (_label, params) => {
    // Act
    const result = await handlerWith()(mcpEvent({ as: analyst, body: malformed(params) }));

    // Assess
    const error = await rpcError(result);
    expect(error.code).toBe(INVALID_PARAMS_CODE);
    expect(error.message).toMatch(/^Invalid params: params/);
    expect(onlyAuditRecord()[AUDIT_FIELDS.status]).toBe(TOOL_CALL_STATUS.invalid);
  });

  it('names the permitted tool whose arguments were malformed in the audit record', async () => {
    // Act
    await handlerWith()(
      mcpEvent({ as: analyst, body: malformed({ name: 'get_record', arguments: [1] }) }),
    );

    // Assess
    expect(onlyAuditRecord()[AUDIT_FIELDS.tool]).toBe('get_record');
  });
});

describe('createMcpHandler: deeply nested bodies', () => {
  it('refuses arguments nested beyond the limit with 400, before anything walks them', async () => {
    // Prepare: 5,000 levels would overflow a recursive walk (JSON.stringify included)
    const nested = `${'{"a":'.repeat(5000)}"x"${'}'.repeat(5000)}`;
    const event = mcpEvent({
      as: analyst,
      rawBody: `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"delete_record","arguments":{"id":"cust-0001","extra":${nested}}}}`,
    });

    // Act
    const result = await handlerWith()(event);

    // Assess
    expect(result.statusCode).toBe(400);
    expect(JSON.parse(await textOf(result)).error.message).toMatch(/nested deeper than 32 levels/);
    expect(auditRecords()).toHaveLength(0);
  });
});

describe('createMcpHandler: audit records', () => {
  /** Fields of the authorizer's decision records, never of a tool call. */
  const DECISION_ONLY: readonly string[] = [AUDIT_FIELDS.decision, AUDIT_FIELDS.reason];
  /** The fields of the registration endpoint's `oauth.client_registration` records. */
  const REGISTRATION_ONLY: readonly string[] = [
    AUDIT_FIELDS.outcome,
    AUDIT_FIELDS.httpStatus,
    AUDIT_FIELDS.oauthError,
    AUDIT_FIELDS.field,
    AUDIT_FIELDS.redirectUriCount,
    AUDIT_FIELDS.clientNameLength,
    AUDIT_FIELDS.metadataDigest,
    AUDIT_FIELDS.bodyBytes,
  ];
  /** The fields of the OAuth proxy's `oauth.authorization` records. */
  const AUTHORIZATION_ONLY: readonly string[] = [
    AUDIT_FIELDS.step,
    AUDIT_FIELDS.clientKind,
    AUDIT_FIELDS.clientHost,
    AUDIT_FIELDS.clientDigest,
    AUDIT_FIELDS.redirectHost,
    AUDIT_FIELDS.scopes,
    AUDIT_FIELDS.familyDigest,
    AUDIT_FIELDS.familyEnded,
  ];
  /** The fields of the `mcp.approval` records only. */
  const APPROVAL_ONLY: readonly string[] = [AUDIT_FIELDS.approvalDigest, AUDIT_FIELDS.clientName];
  /** The fields that name the item of the other call kinds, or an unknown one. */
  const OTHER_KINDS: readonly string[] = [
    AUDIT_FIELDS.resource,
    AUDIT_FIELDS.prompt,
    AUDIT_FIELDS.target,
    AUDIT_FIELDS.requested,
    AUDIT_FIELDS.requestedTool,
  ];

  /** Only for an item some argument rule names (get_record has none). */
  const RULES_ONLY: readonly string[] = [
    AUDIT_FIELDS.ruleVerdict,
    AUDIT_FIELDS.ruleIds,
    AUDIT_FIELDS.ruleError,
  ];

  it('gives a successful, traced API-key call every audit field that applies, and no other', async () => {
    // Prepare
    const expected = Object.values(AUDIT_FIELDS).filter(
      (field) =>
        !DECISION_ONLY.includes(field) &&
        !REGISTRATION_ONLY.includes(field) &&
        !AUTHORIZATION_ONLY.includes(field) &&
        !APPROVAL_ONLY.includes(field) &&
        !OTHER_KINDS.includes(field) &&
        !RULES_ONLY.includes(field) &&
        field !== AUDIT_FIELDS.errorType &&
        // Only a quota's refusal names its rule.
        field !== AUDIT_FIELDS.quota,
    );

    // Act
    await handlerWith()(
      mcpEvent({
        era: 'modern',
        as: reportingKey,
        body: callTool(
          'modern',
          'get_record',
          { id: 'cust-0004' },
          { meta: { traceparent: TRACEPARENT } },
        ),
      }),
    );

    // Assess
    const auditFields = new Set<string>(Object.values(AUDIT_FIELDS));
    const present = Object.keys(onlyAuditRecord()).filter((key) => auditFields.has(key));
    expect(present.sort()).toEqual([...expected].sort());
  });

  it.each(ERAS)(
    'records who called which tool, from where, with what outcome (%s)',
    async (era) => {
      // Prepare
      const args = { id: 'cust-0004' };

      // Act
      await handlerWith()(
        mcpEvent({ era, as: reportingKey, body: callTool(era, 'get_record', args) }),
      );

      // Assess
      expect(onlyAuditRecord()).toMatchObject({
        [AUDIT_FIELDS.event]: AUDIT_EVENTS.toolCall,
        [AUDIT_FIELDS.status]: TOOL_CALL_STATUS.success,
        [AUDIT_FIELDS.tool]: 'get_record',
        [AUDIT_FIELDS.permission]: 'read_data',
        [AUDIT_FIELDS.caller]: reportingKey.principalId,
        [AUDIT_FIELDS.authMethod]: 'api_key',
        [AUDIT_FIELDS.keyId]: reportingKey.keyId,
        [AUDIT_FIELDS.groups]: ['analyst'],
        [AUDIT_FIELDS.durationMs]: expect.any(Number),
        [AUDIT_FIELDS.requestId]: REQUEST_ID,
        [AUDIT_FIELDS.sourceIp]: SOURCE_IP,
        [AUDIT_FIELDS.argsDigest]: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
        [AUDIT_FIELDS.argsBytes]: Buffer.byteLength(JSON.stringify(args)),
        [AUDIT_FIELDS.protocolEra]: era,
      });
    },
  );

  it('omits the key id for a Cognito caller', async () => {
    // Act
    await handlerWith()(
      mcpEvent({ as: analyst, body: callTool('legacy', 'get_record', { id: 'cust-0004' }) }),
    );

    // Assess
    expect(onlyAuditRecord()).not.toHaveProperty(AUDIT_FIELDS.keyId);
  });

  it('gives equal arguments the same args_digest whatever their key order and era', async () => {
    // Prepare
    const handler = handlerWith();

    // Act
    await handler(
      mcpEvent({
        body: callTool('legacy', 'query_customer_data', { segment: 'retail', limit: 5 }),
      }),
    );
    await handler(
      mcpEvent({
        era: 'modern',
        body: callTool('modern', 'query_customer_data', { limit: 5, segment: 'retail' }),
      }),
    );

    // Assess
    const [first, second] = auditRecords().map((record) => record[AUDIT_FIELDS.argsDigest]);
    expect(first).toEqual(expect.stringMatching(/^sha256:/));
    expect(second).toBe(first);
  });

  it('gives different arguments different args_digests', async () => {
    // Prepare
    const handler = handlerWith();

    // Act
    await handler(
      mcpEvent({
        era: 'modern',
        body: callTool('modern', 'query_customer_data', { segment: 'retail', limit: 5 }),
      }),
    );
    await handler(
      mcpEvent({
        era: 'modern',
        body: callTool('modern', 'query_customer_data', { segment: 'business', limit: 5 }),
      }),
    );

    // Assess
    const [first, second] = auditRecords().map((record) => record[AUDIT_FIELDS.argsDigest]);
    expect(first).toEqual(expect.stringMatching(/^sha256:/));
    expect(second).not.toBe(first);
  });

  it('digests the arguments of a refused call the same as those of an allowed one', async () => {
    // Prepare
    const args = { id: 'cust-0005' };

    // Act
    await handlerWith()(mcpEvent({ as: analyst, body: callTool('legacy', 'delete_record', args) }));
    await handlerWith()(mcpEvent({ as: analyst, body: callTool('legacy', 'get_record', args) }));

    // Assess
    const [denied, allowed] = auditRecords().map((record) => record[AUDIT_FIELDS.argsDigest]);
    expect(denied).toEqual(expect.stringMatching(/^sha256:/));
    expect(allowed).toBe(denied);
  });

  it.each(ERAS)('never writes raw argument values to the log (%s)', async (era) => {
    // Prepare
    const id = `handler-test-audit-${era}`;
    onTestFinished(async () => {
      await store.delete(id);
    });
    const email = 'quokka.zebrafish.7731@audit-probe.example';
    const name = 'Quokka Zebrafish-Oyelaran';

    // Act
    const result = await handlerWith()(
      mcpEvent({
        era,
        as: admin,
        body: callTool(era, 'put_record', {
          id,
          name,
          email,
          country: 'NZ',
          segment: 'retail',
          status: 'active',
          balance: 77.31,
        }),
      }),
    );

    // Assess
    expect((await toolResult(result)).isError).not.toBe(true);
    expect(onlyAuditRecord()[AUDIT_FIELDS.status]).toBe(TOOL_CALL_STATUS.success);
    expect(logs.lines.filter((line) => line.includes(email) || line.includes(name))).toEqual([]);
  });
});

describe('createMcpHandler: a deployment that lists no module', () => {
  const empty = () =>
    handlerWith(store, { policy: buildPolicyTable({ roles: {}, modules: [] }), modules: [] });

  it('answers initialize, with no instructions', async () => {
    // Act
    const result = await empty()(
      mcpEvent({
        body: rpc('legacy', 'initialize', {
          protocolVersion: LEGACY,
          capabilities: {},
          clientInfo: { name: 'handler-test', version: '0.0.0' },
        }),
      }),
    );

    // Assess
    const initialized = await rpcResult(result);
    expect(initialized).toMatchObject({ serverInfo: SERVER_INFO });
    expect(initialized).not.toHaveProperty('instructions');
  });

  it('answers tools/list with no tools', async () => {
    // Act
    const result = await empty()(mcpEvent({ as: admin, body: rpc('legacy', 'tools/list') }));

    // Assess
    expect(namedList('tools', 'name').parse(await rpcResult(result))).toEqual([]);
  });

  it('answers a call of a tool no module declares as unknown', async () => {
    // Act
    const result = await empty()(
      mcpEvent({ as: admin, body: callTool('legacy', 'get_record', { id: 'cust-0001' }) }),
    );

    // Assess
    expect((await rpcError(result)).code).toBe(INVALID_PARAMS_CODE);
  });
});

describe('the server the factory builds for a 2025-11-25 session', () => {
  it('refuses a sampling request at once when the client did not declare sampling', async () => {
    // Prepare: a tool that asks the client's model, on the server a request would get
    const factory = createServerFactory({
      modules: [],
      approvals: createApprovals([], { logger }),
    });
    const server = await factory({
      era: 'legacy',
      authInfo: authInfoFor({
        principal: admin,
        granted: new Set(),
        requestId: REQUEST_ID,
        call: undefined,
      }),
    });
    if (!(server instanceof McpServer)) throw new Error('expected an McpServer');
    server.registerTool('ask_model', { description: 'Asks the client model.' }, async (ctx) => {
      await ctx.mcpReq.requestSampling({
        messages: [{ role: 'user', content: { type: 'text', text: 'hello' } }],
        maxTokens: 5,
      });
      return { content: [{ type: 'text', text: 'sampled' }] };
    });
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    const sentToClient: JSONRPCMessage[] = [];
    const send = serverSide.send.bind(serverSide);
    serverSide.send = (message: JSONRPCMessage, options?: TransportSendOptions) => {
      sentToClient.push(message);
      return send(message, options);
    };
    await server.connect(serverSide);
    const client = new Client({ name: 'no-sampling', version: '0.0.0' });
    await client.connect(clientSide);
    onTestFinished(() => client.close());

    // Act
    const result = await client.callTool({ name: 'ask_model', arguments: {} });

    // Assess
    expect(result).toMatchObject({
      isError: true,
      content: [{ type: 'text', text: expect.stringMatching(/does not support sampling/) }],
    });
    expect(sentToClient.filter((message) => 'method' in message)).toEqual([]);
  });
});

describe('createMcpHandler: per-caller quotas', () => {
  /** Two get_record calls per caller per hour; query_customer_data by read_data, three. */
  const quotaGate = (counter: QuotaCounter = new MemoryQuotaCounter()) =>
    createQuotaGate({
      table: buildQuotaTable(
        [
          { id: 'record-lookups', tool: 'get_record', limit: 2, windowSeconds: 3600 },
          { id: 'reads', permission: 'read_data', limit: 3, windowSeconds: 3600 },
        ],
        POLICY,
      ),
      counter,
    });

  it.each(ERAS)(
    'refuses the use past the limit with 429 and -32023 before the tool runs (%s)',
    async (era) => {
      // Prepare
      const calls: string[] = [];
      const handle = handlerWith(observedStore(calls), { quotas: quotaGate() });
      const call = () =>
        handle(mcpEvent({ era, body: callTool(era, 'get_record', { id: 'cust-0004' }) }));
      await call();
      await call();
      calls.length = 0;

      // Act
      const refused = await call();

      // Assess
      expect(refused.statusCode).toBe(429);
      expect(refused.headers).toMatchObject({ 'Retry-After': expect.stringMatching(/^\d+$/) });
      const error = await rpcError(refused);
      expect(error).toMatchObject({
        code: RATE_LIMITED_CODE,
        data: { limit: 2, remaining: 0, retryAfterMs: expect.any(Number) },
      });
      expect(calls).toEqual([]);
      expect(auditRecords(AUDIT_EVENTS.toolCall).at(-1)).toMatchObject({
        [AUDIT_FIELDS.status]: TOOL_CALL_STATUS.rateLimited,
        [AUDIT_FIELDS.errorType]: QUOTA_REFUSALS.exceeded,
        [AUDIT_FIELDS.quota]: 'record-lookups',
        [AUDIT_FIELDS.tool]: 'get_record',
      });
    },
  );

  it('counts a permission’s quota across its tools and resource reads, per caller', async () => {
    // Prepare
    const handle = handlerWith(store, { quotas: quotaGate() });
    const as = (principal: Principal, body: unknown) =>
      handle(mcpEvent({ era: 'modern', as: principal, body }));
    const read = rpc('modern', 'resources/read', { uri: 'customers://schema/record' });

    // Act: three uses of read_data by the analyst, then a fourth; the admin is apart
    const first = await as(analyst, callTool('modern', 'get_record', { id: 'cust-0004' }));
    const second = await as(analyst, read);
    const third = await as(analyst, callTool('modern', 'query_customer_data', { limit: 1 }));
    const fourth = await as(analyst, read);
    const admins = await as(admin, read);

    // Assess
    expect([first, second, third, fourth, admins].map((answer) => answer.statusCode)).toEqual([
      200, 200, 200, 429, 200,
    ]);
    expect(auditRecords(AUDIT_EVENTS.resourceRead).at(-2)).toMatchObject({
      [AUDIT_FIELDS.status]: TOOL_CALL_STATUS.rateLimited,
      [AUDIT_FIELDS.quota]: 'reads',
    });
  });

  it('judges roles first: a refused call is -32003 however often, and takes no quota', async () => {
    // Prepare: one report per caller per hour; readonly may run none
    const handle = handlerWith(store, {
      quotas: createQuotaGate({
        table: buildQuotaTable(
          [{ id: 'reports', tool: 'run_report', limit: 1, windowSeconds: 3600 }],
          POLICY,
        ),
        counter: new MemoryQuotaCounter(),
      }),
    });
    const report = () =>
      handle(
        mcpEvent({
          era: 'modern',
          as: readonlyUser,
          body: callTool('modern', 'run_report', { group_by: 'segment' }),
        }),
      );

    // Act
    const first = await report();
    const second = await report();

    // Assess: were the quota taken first, the second would be a 429
    expect([first.statusCode, second.statusCode]).toEqual([200, 200]);
    expect((await rpcError(first)).code).toBe(-32003);
    expect((await rpcError(second)).code).toBe(-32003);
  });

  it('refuses with 503, runs nothing and logs an error when the counter fails', async () => {
    // Prepare
    const calls: string[] = [];
    const failing: QuotaCounter = {
      take: () => Promise.reject(new Error('DynamoDB is unreachable')),
      giveBack: () => Promise.resolve(),
    };
    const handle = handlerWith(observedStore(calls), { quotas: quotaGate(failing) });

    // Act
    const answer = await handle(
      mcpEvent({ era: 'modern', body: callTool('modern', 'get_record', { id: 'cust-0004' }) }),
    );

    // Assess
    expect(answer.statusCode).toBe(503);
    expect(answer.headers['Retry-After']).toBe('5');
    expect((await rpcError(answer)).code).toBe(-32603);
    expect(calls).toEqual([]);
    expect(auditRecords(AUDIT_EVENTS.toolCall).at(-1)).toMatchObject({
      [AUDIT_FIELDS.status]: TOOL_CALL_STATUS.rateLimited,
      [AUDIT_FIELDS.errorType]: QUOTA_REFUSALS.unavailable,
    });
    expect(logs.records()).toContainEqual(
      expect.objectContaining({ level: 'ERROR', quota: 'record-lookups', error_type: 'Error' }),
    );
  });

  it('lets a browser read when to retry (CORS exposes Retry-After and the RateLimit headers)', async () => {
    // Prepare
    const handle = handlerWith(store, { quotas: quotaGate() });
    const call = () =>
      handle(
        mcpEvent({
          era: 'modern',
          body: callTool('modern', 'get_record', { id: 'cust-0004' }),
          headers: { Origin: 'https://app.example.com' },
        }),
      );
    await call();
    await call();

    // Act
    const refused = await call();

    // Assess
    expect(refused.headers['Access-Control-Allow-Origin']).toBe('https://app.example.com');
    expect(refused.headers['Access-Control-Expose-Headers']).toMatch(
      /Retry-After.*RateLimit-Limit.*RateLimit-Remaining/,
    );
  });
});
