import {
  type CallToolResult,
  CallToolResultSchema,
  ErrorCode,
  InitializeResultSchema,
  JSONRPCErrorResponseSchema,
  JSONRPCResultResponseSchema,
  LATEST_PROTOCOL_VERSION,
  ListToolsResultSchema,
} from '@modelcontextprotocol/sdk/types.js';
import type {
  APIGatewayEventDefaultAuthorizerContext,
  APIGatewayProxyEvent,
  APIGatewayProxyResult,
} from 'aws-lambda';
import {
  afterAll,
  afterEach,
  beforeAll,
  beforeEach,
  describe,
  expect,
  it,
  onTestFinished,
} from 'vitest';
import { createMcpHandler, type McpHandler } from '../../lambda/mcp/handler';
import { JSONRPC } from '../../lambda/mcp/http';
import { PERMISSION_DENIED_CODE, SERVER_INFO } from '../../lambda/mcp/server';
import type { RecordStore } from '../../lambda/mcp/store/customer-record';
import { CUSTOMER_TOOLS, createRegistry } from '../../lambda/mcp/tools/registry';
import {
  AUDIT_EVENTS,
  AUDIT_FIELDS,
  TOOL_CALL_STATUS,
  UNKNOWN_TOOL,
} from '../../lambda/shared/audit';
import { createLogger } from '../../lambda/shared/logger';
import { type Principal, toAuthorizerContext } from '../../lambda/shared/principal';
import { type LocalDynamo, startLocalDynamo } from '../../tools/local-dynamo';
import { type CapturedLogs, captureLogs } from '../helpers/capture-logs';

const REQUEST_ID = 'c0ffee00-1234-4abc-8def-000000000042';
const SOURCE_IP = '203.0.113.7';

const analyst: Principal = {
  principalId: 'user-analyst-01',
  authMethod: 'cognito',
  groups: ['analyst'],
  scopes: ['mcp/tools'],
  keyId: '',
};
const admin: Principal = { ...analyst, principalId: 'user-admin-01', groups: ['admin'] };
const guest: Principal = { ...analyst, principalId: 'user-guest-01', groups: ['guest', 'Admin'] };
const reportingKey: Principal = {
  principalId: 'reporting-bot',
  authMethod: 'api_key',
  groups: ['analyst'],
  scopes: [],
  keyId: '0123456789abcdef',
};

/** The authorizer context API Gateway hands on: ours, plus the keys it adds itself. */
function authorizerFor(principal: Principal): APIGatewayEventDefaultAuthorizerContext {
  return { ...toAuthorizerContext(principal), integrationLatency: 3 };
}

interface EventOptions {
  readonly body?: unknown;
  readonly as?: Principal;
  readonly authorizer?: APIGatewayEventDefaultAuthorizerContext;
  readonly method?: string;
}

/** An API Gateway REST proxy event for POST /mcp, as the real gateway would send it. */
function mcpEvent(options: EventOptions = {}): APIGatewayProxyEvent {
  const method = options.method ?? 'POST';
  const headers = {
    Host: 'abcdef1234.execute-api.eu-west-1.amazonaws.com',
    'Content-Type': 'application/json',
    Accept: 'application/json, text/event-stream',
    'MCP-Protocol-Version': LATEST_PROTOCOL_VERSION,
  };
  return {
    resource: '/mcp',
    path: '/mcp',
    httpMethod: method,
    headers,
    multiValueHeaders: Object.fromEntries(
      Object.entries(headers).map(([name, value]) => [name, [value]]),
    ),
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    requestContext: {
      accountId: '123456789012',
      apiId: 'abcdef1234',
      authorizer:
        'authorizer' in options ? options.authorizer : authorizerFor(options.as ?? analyst),
      protocol: 'HTTP/1.1',
      httpMethod: method,
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: SOURCE_IP,
        user: null,
        userAgent: 'handler-test',
        userArn: null,
      },
      path: '/prod/mcp',
      stage: 'prod',
      requestId: REQUEST_ID,
      requestTimeEpoch: 1767225600000,
      resourceId: 'res123',
      resourcePath: '/mcp',
    },
    body: options.body === undefined ? null : JSON.stringify(options.body),
    isBase64Encoded: false,
  };
}

const initializeRequest = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: {
    protocolVersion: LATEST_PROTOCOL_VERSION,
    capabilities: {},
    clientInfo: { name: 'handler-test', version: '0.0.0' },
  },
};
const listToolsRequest = { jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} };
const callTool = (name: string, args: Record<string, unknown>) => ({
  jsonrpc: '2.0',
  id: 3,
  method: 'tools/call',
  params: { name, arguments: args },
});

function rpcResult(result: APIGatewayProxyResult) {
  return JSONRPCResultResponseSchema.parse(JSON.parse(result.body)).result;
}
function rpcError(result: APIGatewayProxyResult) {
  return JSONRPCErrorResponseSchema.parse(JSON.parse(result.body)).error;
}
function toolResult(result: APIGatewayProxyResult): CallToolResult {
  return CallToolResultSchema.parse(rpcResult(result));
}
function textOf(result: CallToolResult): string {
  return result.content.flatMap((block) => (block.type === 'text' ? [block.text] : [])).join('\n');
}

let dynamo: LocalDynamo;
let logs: CapturedLogs;

beforeAll(async () => {
  dynamo = await startLocalDynamo();
});

afterAll(async () => {
  await dynamo.stop();
});

beforeEach(() => {
  logs = captureLogs();
});

afterEach(() => {
  logs.restore();
});

const registry = createRegistry(CUSTOMER_TOOLS);
const logger = createLogger('mcp-server');

function handlerWith(store: RecordStore = dynamo.store): McpHandler {
  return createMcpHandler({
    config: { allowedOrigins: [], maxBodyBytes: 1024 * 1024 },
    registry,
    store,
    logger,
  });
}

/** The real store, with some methods replaced. Delegates explicitly: its fields are private. */
function storeWith(overrides: Partial<RecordStore>): RecordStore {
  const real = dynamo.store;
  return {
    get: (id) => real.get(id),
    put: (id, fields, now) => real.put(id, fields, now),
    delete: (id) => real.delete(id),
    query: (filter, limit, cursor) => real.query(filter, limit, cursor),
    scan: (filter, max) => real.scan(filter, max),
    ...overrides,
  };
}

/** The real store, noting the name of every method called. */
function observedStore(calls: string[]): RecordStore {
  const real = dynamo.store;
  return storeWith({
    get: (id) => {
      calls.push('get');
      return real.get(id);
    },
    put: (id, fields, now) => {
      calls.push('put');
      return real.put(id, fields, now);
    },
    delete: (id) => {
      calls.push('delete');
      return real.delete(id);
    },
    query: (filter, limit, cursor) => {
      calls.push('query');
      return real.query(filter, limit, cursor);
    },
    scan: (filter, max) => {
      calls.push('scan');
      return real.scan(filter, max);
    },
  });
}

function auditRecords() {
  return logs.records().filter((record) => record[AUDIT_FIELDS.event] === AUDIT_EVENTS.toolCall);
}

function onlyAuditRecord() {
  const records = auditRecords();
  expect(records).toHaveLength(1);
  return records[0] ?? {};
}

describe('createMcpHandler: the authorizer context', () => {
  it.each<[string, APIGatewayEventDefaultAuthorizerContext]>([
    ['missing', undefined],
    ['null', null],
    ['empty', {}],
    ['of an unknown authMethod', { ...authorizerFor(analyst), authMethod: 'saml' }],
    ['with groups that are not a string', { ...authorizerFor(analyst), groups: ['admin'] }],
    ['of an API key without a keyId', { ...authorizerFor(reportingKey), keyId: '' }],
  ])('answers 401 and runs no tool when the context is %s', async (_label, authorizer) => {
    // Prepare
    const calls: string[] = [];
    const handler = handlerWith(observedStore(calls));

    // Act
    const result = await handler(
      mcpEvent({ authorizer, body: callTool('get_record', { id: 'cust-0001' }) }),
    );

    // Assess
    expect(result.statusCode).toBe(401);
    expect(calls).toEqual([]);
    expect(auditRecords()).toEqual([]);
  });

  it('explains a 401 in a JSON-RPC error body with id null', async () => {
    // Act
    const result = await handlerWith()(mcpEvent({ authorizer: {}, body: listToolsRequest }));

    // Assess
    expect(JSON.parse(result.body)).toEqual({
      jsonrpc: '2.0',
      error: { code: JSONRPC.refused, message: 'Unauthorized' },
      id: null,
    });
  });
});

describe('createMcpHandler: the request line', () => {
  it('answers a GET with 405 instead of opening an event stream', async () => {
    // Act
    const result = await handlerWith()(mcpEvent({ method: 'GET' }));

    // Assess
    expect(result.statusCode).toBe(405);
    expect(result.headers?.Allow).toBe('POST');
  });
});

describe('createMcpHandler: initialize and tools/list', () => {
  it('answers initialize with its server info and the tools capability', async () => {
    // Act
    const result = await handlerWith()(mcpEvent({ body: initializeRequest }));

    // Assess
    const initialized = InitializeResultSchema.parse(rpcResult(result));
    expect(initialized.serverInfo).toMatchObject(SERVER_INFO);
    expect(initialized.capabilities.tools).toBeDefined();
  });

  it('lists exactly get_record, query_customer_data and run_report for an analyst', async () => {
    // Act
    const result = await handlerWith()(mcpEvent({ as: analyst, body: listToolsRequest }));

    // Assess
    const { tools } = ListToolsResultSchema.parse(rpcResult(result));
    expect(tools.map((tool) => tool.name)).toEqual([
      'get_record',
      'query_customer_data',
      'run_report',
    ]);
  });

  it('lists every tool for an admin', async () => {
    // Act
    const result = await handlerWith()(mcpEvent({ as: admin, body: listToolsRequest }));

    // Assess
    const { tools } = ListToolsResultSchema.parse(rpcResult(result));
    expect(tools.map((tool) => tool.name).sort()).toEqual(
      CUSTOMER_TOOLS.map((tool) => tool.name).sort(),
    );
  });

  it('lists no tools for a caller with no recognised role', async () => {
    // Act
    const result = await handlerWith()(mcpEvent({ as: guest, body: listToolsRequest }));

    // Assess
    expect(ListToolsResultSchema.parse(rpcResult(result)).tools).toEqual([]);
  });
});

describe('createMcpHandler: tools/call refused by the policy', () => {
  it('answers an analyst calling delete_record with error -32003 naming delete_data', async () => {
    // Act
    const result = await handlerWith()(
      mcpEvent({ as: analyst, body: callTool('delete_record', { id: 'cust-0002' }) }),
    );

    // Assess
    const error = rpcError(result);
    expect(error.code).toBe(PERMISSION_DENIED_CODE);
    expect(error.message).toContain('delete_data');
  });

  it('leaves the record in the store when delete_record is refused', async () => {
    // Act
    await handlerWith()(
      mcpEvent({ as: analyst, body: callTool('delete_record', { id: 'cust-0002' }) }),
    );

    // Assess
    expect(await dynamo.store.get('cust-0002')).toMatchObject({ id: 'cust-0002' });
  });

  it('writes exactly one audit record, with status denied, for a refused call', async () => {
    // Act
    await handlerWith()(
      mcpEvent({ as: analyst, body: callTool('delete_record', { id: 'cust-0002' }) }),
    );

    // Assess
    expect(auditRecords()).toEqual([
      expect.objectContaining({
        [AUDIT_FIELDS.status]: TOOL_CALL_STATUS.denied,
        [AUDIT_FIELDS.tool]: 'delete_record',
        [AUDIT_FIELDS.permission]: 'delete_data',
      }),
    ]);
  });

  it('treats a refused call with invalid arguments as denied: permission comes first', async () => {
    // Act
    const result = await handlerWith()(
      mcpEvent({ as: analyst, body: callTool('delete_record', { id: 42, cascade: true }) }),
    );

    // Assess
    expect(rpcError(result).code).toBe(PERMISSION_DENIED_CODE);
    expect(onlyAuditRecord()[AUDIT_FIELDS.status]).toBe(TOOL_CALL_STATUS.denied);
  });

  it('answers an unknown tool with a JSON-RPC invalid-params error', async () => {
    // Act
    const result = await handlerWith()(
      mcpEvent({ as: admin, body: callTool('drop_all_tables', {}) }),
    );

    // Assess
    expect(rpcError(result).code).toBe(ErrorCode.InvalidParams);
  });

  it('audits a call of an unknown tool as invalid', async () => {
    // Act
    await handlerWith()(mcpEvent({ as: admin, body: callTool('drop_all_tables', {}) }));

    // Assess
    expect(onlyAuditRecord()[AUDIT_FIELDS.status]).toBe(TOOL_CALL_STATUS.invalid);
  });

  it('keeps the tool field a bounded dimension when the name is made up', async () => {
    // Prepare
    const madeUp = `x${'y'.repeat(500)}`;

    // Act
    await handlerWith()(mcpEvent({ as: admin, body: callTool(madeUp, {}) }));

    // Assess
    const record = onlyAuditRecord();
    expect(record[AUDIT_FIELDS.tool]).toBe(UNKNOWN_TOOL);
    expect(record[AUDIT_FIELDS.requestedTool]).toBe(madeUp.slice(0, 64));
  });
});

describe('createMcpHandler: tools/call with bad arguments', () => {
  const SECRET_LOOKING = 'sk_live_51HqT9fKq8Zx3Yw2Vb7Nc';
  const badQuery = () =>
    mcpEvent({ as: analyst, body: callTool('query_customer_data', { country: SECRET_LOOKING }) });

  it('returns an isError result naming the argument at fault', async () => {
    // Act
    const result = toolResult(await handlerWith()(badQuery()));

    // Assess
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/\bcountry\b/);
  });

  it('does not echo the rejected value in the response', async () => {
    // Act
    const result = await handlerWith()(badQuery());

    // Assess
    expect(toolResult(result).isError).toBe(true);
    expect(result.body).not.toContain(SECRET_LOOKING);
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
      mcpEvent({ as: analyst, body: callTool('query_customer_data', { cursor: 'forged!!' }) }),
    );

    // Assess
    expect(toolResult(result).isError).toBe(true);
    expect(onlyAuditRecord()[AUDIT_FIELDS.status]).toBe(TOOL_CALL_STATUS.invalid);
  });
});

describe('createMcpHandler: a tool whose store fails', () => {
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
    mcpEvent({ as: analyst, body: callTool('get_record', { id: 'cust-0003' }) });

  it('returns an isError result that quotes the request id', async () => {
    // Act
    const result = toolResult(await failingHandler()(getCall()));

    // Assess
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain(REQUEST_ID);
  });

  it('keeps the error message, type and stack out of the response', async () => {
    // Act
    const result = await failingHandler()(getCall());

    // Assess
    expect(toolResult(result).isError).toBe(true);
    expect(result.body).not.toContain('Rate exceeded');
    expect(result.body).not.toContain('ThroughputExceededError');
    expect(result.body).not.toMatch(/\bat .+:\d+:\d+|\.test\.ts|node_modules/);
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
    const error = rpcError(result);
    expect(error.code).toBe(ErrorCode.InvalidParams);
    expect(error.message).toMatch(/^Invalid params: params/);
    expect(onlyAuditRecord()[AUDIT_FIELDS.status]).toBe(TOOL_CALL_STATUS.invalid);
  });
});

describe('createMcpHandler: deeply nested bodies', () => {
  it('refuses arguments nested beyond the limit with 400, before anything walks them', async () => {
    // Prepare: 5,000 levels would overflow a recursive walk (JSON.stringify included)
    const nested = `${'{"a":'.repeat(5000)}"x"${'}'.repeat(5000)}`;
    const event = {
      ...mcpEvent({ as: analyst }),
      body: `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"delete_record","arguments":{"id":"cust-0001","extra":${nested}}}}`,
    };

    // Act
    const result = await handlerWith()(event);

    // Assess
    expect(result.statusCode).toBe(400);
    expect(JSON.parse(result.body).error.message).toMatch(/nested deeper than 32 levels/);
    expect(auditRecords()).toHaveLength(0);
  });
});

describe('createMcpHandler: an expired credential behind a cached Allow', () => {
  it('answers 401 with an invalid_token challenge and runs nothing', async () => {
    // Prepare
    const calls: string[] = [];
    const expired = {
      ...authorizerFor(analyst),
      expiresAt: String(Math.floor(Date.now() / 1000) - 5),
    };

    // Act
    const result = await handlerWith(observedStore(calls))(
      mcpEvent({ authorizer: expired, body: callTool('get_record', { id: 'cust-0001' }) }),
    );

    // Assess
    expect(result.statusCode).toBe(401);
    expect(result.headers?.['WWW-Authenticate']).toMatch(/error="invalid_token"/);
    expect(calls).toEqual([]);
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

  it('gives a successful API-key call every audit field that applies, and no other', async () => {
    // Prepare
    const expected = Object.values(AUDIT_FIELDS).filter(
      (field) =>
        !DECISION_ONLY.includes(field) &&
        !REGISTRATION_ONLY.includes(field) &&
        field !== AUDIT_FIELDS.errorType &&
        field !== AUDIT_FIELDS.requestedTool,
    );

    // Act
    await handlerWith()(
      mcpEvent({ as: reportingKey, body: callTool('get_record', { id: 'cust-0004' }) }),
    );

    // Assess
    const auditFields = new Set<string>(Object.values(AUDIT_FIELDS));
    const present = Object.keys(onlyAuditRecord()).filter((key) => auditFields.has(key));
    expect(present.sort()).toEqual([...expected].sort());
  });

  it('records who called which tool, from where, with what outcome', async () => {
    // Prepare
    const args = { id: 'cust-0004' };

    // Act
    await handlerWith()(mcpEvent({ as: reportingKey, body: callTool('get_record', args) }));

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
    });
  });

  it('omits the key id for a Cognito caller', async () => {
    // Act
    await handlerWith()(
      mcpEvent({ as: analyst, body: callTool('get_record', { id: 'cust-0004' }) }),
    );

    // Assess
    expect(onlyAuditRecord()).not.toHaveProperty(AUDIT_FIELDS.keyId);
  });

  it('gives equal arguments the same args_digest whatever their key order', async () => {
    // Prepare
    const handler = handlerWith();

    // Act
    await handler(
      mcpEvent({ body: callTool('query_customer_data', { segment: 'retail', limit: 5 }) }),
    );
    await handler(
      mcpEvent({ body: callTool('query_customer_data', { limit: 5, segment: 'retail' }) }),
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
      mcpEvent({ body: callTool('query_customer_data', { segment: 'retail', limit: 5 }) }),
    );
    await handler(
      mcpEvent({ body: callTool('query_customer_data', { segment: 'business', limit: 5 }) }),
    );

    // Assess
    const [first, second] = auditRecords().map((record) => record[AUDIT_FIELDS.argsDigest]);
    expect(first).toEqual(expect.stringMatching(/^sha256:/));
    expect(second).not.toBe(first);
  });

  it('never writes raw argument values to the log', async () => {
    // Prepare
    const id = 'handler-test-audit';
    onTestFinished(async () => {
      await dynamo.store.delete(id);
    });
    const email = 'quokka.zebrafish.7731@audit-probe.example';
    const name = 'Quokka Zebrafish-Oyelaran';

    // Act
    const result = await handlerWith()(
      mcpEvent({
        as: admin,
        body: callTool('put_record', {
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
    expect(toolResult(result).isError).not.toBe(true);
    expect(onlyAuditRecord()[AUDIT_FIELDS.status]).toBe(TOOL_CALL_STATUS.success);
    expect(logs.lines.filter((line) => line.includes(email) || line.includes(name))).toEqual([]);
  });
});
