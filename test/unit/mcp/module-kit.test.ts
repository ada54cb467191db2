/**
 * The module API beyond structured tools, end to end through the MCP handler (the gate, the
 * SDK, the item's code and the audit record): content tools (`contentTool`, `isError`),
 * logging (`log`), multi-round input (`ask`, `inputResponses`, sealed `requestState`) for
 * tools and prompts, subscribable and binary resources, and the capabilities the server
 * declares for them, in both eras. Each request must leave exactly one audit record (none
 * for an allowed completion or subscription).
 */
import { createHmac, randomBytes } from 'node:crypto';
import { LOG_LEVEL_META_KEY } from '@modelcontextprotocol/server';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { PERMISSION_DENIED_CODE } from '../../../lambda/mcp/gate';
import { createMcpHandler, type McpHandler } from '../../../lambda/mcp/handler';
import {
  acceptedContent,
  inputRequired,
  moduleKit,
  TOOL_CONTENT,
  type ToolContext,
} from '../../../lambda/mcp/module-kit';
import type { LoadedModule } from '../../../lambda/mcp/module-loader';
import {
  MemoryRequestStateLedger,
  RequestStateConfigurationError,
  type RequestStateKeyRing,
  type RequestStateLedger,
} from '../../../lambda/mcp/request-state';
import { KmsRequestStateKeyRing, type MacPort } from '../../../lambda/mcp/request-state-aws';
import { AUDIT_EVENTS, AUDIT_FIELDS, TOOL_CALL_STATUS } from '../../../lambda/shared/audit';
import { createLogger } from '../../../lambda/shared/logger';
import { buildPolicyTable } from '../../../lambda/shared/policy';
import type { Principal } from '../../../lambda/shared/principal';
import { proxyEvent } from '../../support/apigw-events';
import { type CapturedLogs, captureLogs } from '../../support/capture-logs';

const MODERN = '2026-07-28';
const LEGACY = '2025-11-25';
type Era = 'legacy' | 'modern';
const ERAS: readonly Era[] = ['legacy', 'modern'];

const PNG =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';

// ---------------------------------------------------------------------------------------------
// A module using every new part of the API

interface Deps {
  readonly deployed: string[];
}
const define = moduleKit<Deps>();

const showChart = define.contentTool({
  name: 'show_chart',
  title: 'Show chart',
  description: 'A chart and its caption.',
  permission: 'use',
  annotations: { readOnlyHint: true },
  input: z.object({ title: z.string() }),
  run: async ({ title }) => ({
    content: [
      { type: 'text', text: `Chart: ${title}` },
      { type: 'image', data: PNG, mimeType: 'image/png' },
      {
        type: 'resource',
        resource: { uri: 'charts://latest', mimeType: 'text/csv', text: 'month,total\n1,2' },
      },
    ],
  }),
});

const findOrder = define.contentTool({
  name: 'find_order',
  title: 'Find order',
  description: 'Reports a missing order as an error the model sees.',
  permission: 'use',
  annotations: { readOnlyHint: true },
  input: z.object({ id: z.string() }),
  run: async ({ id }) => ({
    isError: true,
    content: [{ type: 'text', text: `No order ${id}` }],
  }),
});

const badContent = define.contentTool({
  name: 'bad_content',
  title: 'Bad content',
  description: 'Answers with something that is no MCP content.',
  permission: 'use',
  annotations: { readOnlyHint: true },
  input: z.object({}),
  run: async () => ({ content: [{ type: 'hologram', beam: 'secret-internal' }] }) as never,
});

const noisy = define.contentTool({
  name: 'noisy',
  title: 'Noisy',
  description: 'Logs at two levels.',
  permission: 'use',
  annotations: { readOnlyHint: true },
  input: z.object({}),
  async run(_input, { log }) {
    await log('info', 'starting');
    await log('warning', 'running low');
    return { content: [{ type: 'text', text: 'done' }] };
  },
});

const confirmation = z.object({ confirm: z.boolean() });
const deployState = z.object({ env: z.string() });

/** A structured tool that asks for confirmation first, carrying the environment in its state. */
const deploy = define.tool({
  name: 'deploy',
  title: 'Deploy',
  description: 'Deploys after the caller confirms.',
  permission: 'use',
  // Asks for its own confirmation (ask), which an approval would collide with.
  approval: false,
  input: z.object({ env: z.string() }),
  output: z.object({ deployed: z.string() }),
  async ask({ env }, { inputResponses, requestState, sealState }) {
    const confirmed = acceptedContent(inputResponses, 'confirm', confirmation);
    const state = deployState.safeParse(requestState());
    if (confirmed?.confirm === true && state.success && state.data.env === env) return undefined;
    return {
      inputRequests: {
        confirm: inputRequired.elicit({
          message: `Deploy to ${env}?`,
          requestedSchema: confirmation,
        }),
      },
      requestState: await sealState({ env }),
    };
  },
  async run({ env }, { deps, requestState }) {
    deps.deployed.push(env);
    return { deployed: deployState.parse(requestState()).env };
  },
  summarize: (output) => `Deployed to ${output.deployed}.`,
});

/** Another asking tool: a state sealed for `deploy` must not pass here. */
const rollback = define.tool({
  name: 'rollback',
  title: 'Roll back',
  description: 'Rolls back after the caller confirms.',
  permission: 'use',
  // Asks for its own confirmation (ask), which an approval would collide with.
  approval: false,
  input: z.object({ env: z.string() }),
  output: z.object({ rolledBack: z.string() }),
  async ask({ env }, { requestState, sealState }) {
    if (requestState() !== undefined) return undefined;
    return { requestState: await sealState({ env }) };
  },
  run: async ({ env }) => ({ rolledBack: env }),
  summarize: (output) => `Rolled back ${output.rolledBack}.`,
});

const briefing = define.prompt({
  name: 'briefing',
  description: 'A briefing on a topic the caller names when asked.',
  permission: 'use',
  args: z.object({}),
  async ask(_args, { inputResponses }) {
    if (acceptedContent(inputResponses, 'topic', z.object({ topic: z.string() }))) return undefined;
    return {
      inputRequests: {
        topic: inputRequired.elicit({
          message: 'Which topic?',
          requestedSchema: z.object({ topic: z.string() }),
        }),
      },
    };
  },
  async get(_args, { inputResponses }) {
    const answer = acceptedContent(inputResponses, 'topic', z.object({ topic: z.string() }));
    return {
      messages: [{ role: 'user', content: { type: 'text', text: `Brief me on ${answer?.topic}` } }],
    };
  },
});

const greeting = define.prompt({
  name: 'greeting',
  description: 'Greets a colour.',
  permission: 'use',
  args: z.object({ colour: z.string() }),
  complete: {
    colour: async (value) => ['red', 'green', 'grey'].filter((c) => c.startsWith(value)),
  },
  get: async ({ colour }) => ({
    messages: [{ role: 'user', content: { type: 'text', text: `Hello, ${colour}` } }],
  }),
});

const feed = define.resource({
  name: 'feed',
  uri: 'news://feed',
  mimeType: 'text/plain',
  permission: 'use',
  subscribable: true,
  read: async () => ({ mimeType: 'text/plain', text: 'nothing new' }),
});

const ledger = define.resource({
  name: 'ledger',
  uri: 'books://ledger',
  mimeType: 'text/plain',
  permission: 'audit',
  read: async () => ({ mimeType: 'text/plain', text: 'balanced' }),
});

const logo = define.resource({
  name: 'logo',
  uri: 'brand://logo',
  mimeType: 'image/png',
  permission: 'use',
  read: async () => ({ mimeType: 'image/png', blob: PNG }),
});

const richModule = define.module({
  name: 'rich',
  permissions: { use: 'Use the rich items', audit: 'Read the books' },
  tools: [showChart, findOrder, badContent, noisy, deploy, rollback],
  resources: [feed, ledger, logo],
  prompts: [briefing, greeting],
  dependencies: () => ({ deployed: [] }),
});

const ROLES = { user: ['use'], auditor: ['use', 'audit'] };
const policy = buildPolicyTable({ roles: ROLES, modules: [richModule] });

const principal = (id: string, groups: string[]): Principal => ({
  principalId: id,
  authMethod: 'cognito',
  groups,
  scopes: ['mcp/tools'],
  keyId: '',
});
const user = principal('user-1', ['user']);
const otherUser = principal('user-2', ['user']);
const auditor = principal('auditor-1', ['auditor']);

// ---------------------------------------------------------------------------------------------
// Requests and answers

const envelope = (capabilities: Record<string, unknown> = {}) => ({
  'io.modelcontextprotocol/protocolVersion': MODERN,
  'io.modelcontextprotocol/clientInfo': { name: 'module-api-test', version: '0.0.0' },
  'io.modelcontextprotocol/clientCapabilities': capabilities,
});

interface Call {
  readonly era: Era;
  readonly method: string;
  readonly params?: Record<string, unknown>;
  readonly as?: Principal;
  /** Modern: the client capabilities the envelope declares. */
  readonly capabilities?: Record<string, unknown>;
  /** Modern: more `_meta` keys. */
  readonly meta?: Record<string, unknown>;
}

const NAME_PARAM: Readonly<Record<string, string>> = {
  'tools/call': 'name',
  'prompts/get': 'name',
  'resources/read': 'uri',
};

function eventFor(call: Call): APIGatewayProxyEvent {
  const params = call.params ?? {};
  const meta = call.era === 'modern' ? { ...envelope(call.capabilities), ...call.meta } : call.meta;
  const body = {
    jsonrpc: '2.0',
    id: 9,
    method: call.method,
    params: meta === undefined ? params : { ...params, _meta: meta },
  };
  const headers: Record<string, string> = {
    Host: 'mcp.example.com',
    'Content-Type': 'application/json',
    Accept: 'application/json, text/event-stream',
    'MCP-Protocol-Version': call.era === 'modern' ? MODERN : LEGACY,
  };
  if (call.era === 'modern') {
    headers['Mcp-Method'] = call.method;
    const key = NAME_PARAM[call.method];
    const name = key === undefined ? undefined : params[key];
    if (typeof name === 'string') headers['Mcp-Name'] = name;
  }
  return proxyEvent({
    headers,
    body: JSON.stringify(body),
    requestId: 'req-module-api',
    sourceIp: '203.0.113.5',
    caller: call.as ?? user,
  });
}

interface Answer {
  readonly status: number;
  readonly sse: boolean;
  /** Every JSON-RPC message of the answer, in order. */
  readonly messages: readonly Record<string, unknown>[];
  /** The answer to the request. */
  readonly final: {
    result?: Record<string, unknown>;
    error?: { code: number; message: string; data?: unknown };
  };
}

let logs: CapturedLogs;
let deps: Deps;
/** One Lambda instance: its request-state key (a random one) lives as long as it does. */
let instance: McpHandler;

/** A handler serving this test's module, as one Lambda instance builds it. */
function handlerWith(shared?: {
  key: string | RequestStateKeyRing;
  ledger?: RequestStateLedger;
}): McpHandler {
  const modules: LoadedModule[] = [{ module: richModule, deps }];
  return createMcpHandler({
    config: { allowedOrigins: [], maxBodyBytes: 1024 * 1024 },
    policy,
    modules,
    logger: createLogger('mcp-server'),
    ...(shared === undefined
      ? {}
      : {
          requestStateKey: shared.key,
          ...(shared.ledger === undefined ? {} : { requestStateLedger: shared.ledger }),
        }),
  });
}

beforeEach(() => {
  logs = captureLogs();
  deps = { deployed: [] };
  instance = handlerWith();
});

afterEach(() => {
  logs.restore();
});

/** Send one request to the instance (or another handler); read its answer to the end. */
async function send(call: Call, handle: McpHandler = instance): Promise<Answer> {
  const response = await handle(eventFor(call));
  const text =
    typeof response.body === 'string' ? response.body : await new Response(response.body).text();
  const sse = (response.headers['content-type'] ?? '').startsWith('text/event-stream');
  const messages = sse
    ? text
        .split('\n\n')
        .map((frame) =>
          frame
            .split('\n')
            .filter((line) => line.startsWith('data:'))
            .map((line) => line.slice(5).trim())
            .join('\n'),
        )
        .filter((data) => data !== '')
        .map((data) => JSON.parse(data) as Record<string, unknown>)
    : text === ''
      ? []
      : [JSON.parse(text) as Record<string, unknown>];
  const final = (messages.find((message) => 'id' in message) ?? {}) as Answer['final'];
  return { status: response.statusCode, sse, messages, final };
}

/** The audit records of calls, reads, gets and completions written so far. */
function auditRecords() {
  const events: readonly string[] = [
    AUDIT_EVENTS.toolCall,
    AUDIT_EVENTS.resourceRead,
    AUDIT_EVENTS.promptGet,
    AUDIT_EVENTS.completion,
  ];
  return logs.records().filter((record) => events.includes(String(record[AUDIT_FIELDS.event])));
}

function onlyRecord() {
  const records = auditRecords();
  expect(records).toHaveLength(1);
  return records[0] as Record<string, unknown>;
}

const callTool = (
  era: Era,
  name: string,
  args: Record<string, unknown>,
  extra: Partial<Call> = {},
) => send({ era, method: 'tools/call', params: { name, arguments: args }, ...extra });

// ---------------------------------------------------------------------------------------------

describe('a content tool', () => {
  it.each(ERAS)('is listed without an output schema (%s)', async (era) => {
    // Act
    const answer = await send({ era, method: 'tools/list' });

    // Assess
    const tools = answer.final.result?.tools as { name: string; outputSchema?: unknown }[];
    expect(tools.find((tool) => tool.name === 'show_chart')?.outputSchema).toBeUndefined();
    expect(tools.find((tool) => tool.name === 'deploy')?.outputSchema).toBeDefined();
  });

  it.each(ERAS)(
    'answers with its text, image and embedded resource as they are (%s)',
    async (era) => {
      // Act
      const answer = await callTool(era, 'show_chart', { title: 'Sales' });

      // Assess
      expect(answer.final.result).toMatchObject({
        content: [
          { type: 'text', text: 'Chart: Sales' },
          { type: 'image', data: PNG, mimeType: 'image/png' },
          { type: 'resource', resource: { uri: 'charts://latest', text: 'month,total\n1,2' } },
        ],
      });
      expect(answer.final.result?.structuredContent).toBeUndefined();
      expect(answer.final.result?.isError).toBeUndefined();
      expect(onlyRecord()).toMatchObject({
        [AUDIT_FIELDS.status]: TOOL_CALL_STATUS.success,
        [AUDIT_FIELDS.tool]: 'show_chart',
      });
    },
  );

  it.each(ERAS)(
    'reports its own failure as an isError result, audited as an error (%s)',
    async (era) => {
      // Act
      const answer = await callTool(era, 'find_order', { id: 'ord-9' });

      // Assess
      expect(answer.final.result).toMatchObject({
        isError: true,
        content: [{ type: 'text', text: 'No order ord-9' }],
      });
      expect(onlyRecord()).toMatchObject({
        [AUDIT_FIELDS.status]: TOOL_CALL_STATUS.error,
        [AUDIT_FIELDS.errorType]: 'ToolReportedError',
      });
    },
  );

  it('that answers with no MCP content fails without passing it on', async () => {
    // Act
    const answer = await callTool('modern', 'bad_content', {});

    // Assess
    expect(answer.final.result?.isError).toBe(true);
    expect(JSON.stringify(answer.final)).not.toContain('secret-internal');
    expect(onlyRecord()).toMatchObject({ [AUDIT_FIELDS.status]: TOOL_CALL_STATUS.error });
  });

  it('keeps TOOL_CONTENT as the output of a content tool', () => {
    expect(showChart.output).toBe(TOOL_CONTENT);
    expect(
      showChart.summarize(TOOL_CONTENT.parse({ content: [{ type: 'text', text: 'a' }] })),
    ).toBe('a');
  });
});

describe('logging from an item', () => {
  const logMessages = (answer: Answer) =>
    answer.messages
      .filter((message) => message.method === 'notifications/message')
      .map((message) => (message.params as { level: string; data: unknown }).level);

  it('reaches a 2025-11-25 client on the call’s stream, before the result', async () => {
    // Act
    const answer = await callTool('legacy', 'noisy', {});

    // Assess
    expect(answer.sse).toBe(true);
    expect(logMessages(answer)).toEqual(['info', 'warning']);
    expect(answer.messages.at(-1)).toMatchObject({
      id: 9,
      result: { content: [{ text: 'done' }] },
    });
  });

  it('is not sent to a 2026-07-28 client that asked for no log level', async () => {
    // Act
    const answer = await callTool('modern', 'noisy', {});

    // Assess
    expect(logMessages(answer)).toEqual([]);
    expect(answer.final.result).toMatchObject({ content: [{ text: 'done' }] });
  });

  it('reaches a 2026-07-28 client at and above the level its request asked for', async () => {
    // Act
    const answer = await callTool(
      'modern',
      'noisy',
      {},
      { meta: { [LOG_LEVEL_META_KEY]: 'warning' } },
    );

    // Assess
    expect(logMessages(answer)).toEqual(['warning']);
  });

  it('answers a 2025-11-25 logging/setLevel with an empty result, and 2026-07-28 has no such method', async () => {
    // Act
    const legacy = await send({
      era: 'legacy',
      method: 'logging/setLevel',
      params: { level: 'info' },
    });
    const modern = await send({
      era: 'modern',
      method: 'logging/setLevel',
      params: { level: 'info' },
    });

    // Assess
    expect(legacy.final.result).toEqual({});
    expect(modern.status).toBe(404);
    expect(modern.final.error?.code).toBe(-32601);
    expect(auditRecords()).toEqual([]);
  });
});

describe('a tool that asks for input (2026-07-28)', () => {
  const ELICITATION = { elicitation: { form: {} } };

  async function firstRound(as: Principal = user, tool = 'deploy', handle = instance) {
    const answer = await send(
      {
        era: 'modern',
        method: 'tools/call',
        params: { name: tool, arguments: { env: 'prod' } },
        as,
        capabilities: ELICITATION,
      },
      handle,
    );
    return answer.final.result as {
      resultType: string;
      inputRequests?: Record<string, { method: string; params: { message: string } }>;
      requestState: string;
    };
  }

  const accepted = { confirm: { action: 'accept', content: { confirm: true } } };

  /** KMS GenerateMac under one HMAC key (RFC 2104), failing while `failing()` says so. */
  function hmacKms(failing: () => boolean = () => false): MacPort {
    const material = randomBytes(32);
    return {
      generateMac: async ({ KeyId, Message }) => {
        if (failing()) throw new Error('KMS is unreachable');
        return { Mac: createHmac('sha256', material).update(Message).digest(), KeyId };
      },
    };
  }

  /** The second round of the deploy: confirmed, with `requestState`, as `as`, on `handle`. */
  const confirmDeploy = (requestState: unknown, as: Principal = user, handle = instance) =>
    send(
      {
        era: 'modern',
        method: 'tools/call',
        params: {
          name: 'deploy',
          arguments: { env: 'prod' },
          inputResponses: accepted,
          requestState,
        },
        as,
        capabilities: ELICITATION,
      },
      handle,
    );

  it('asks first, with its state sealed, and runs nothing', async () => {
    // Act
    const round = await firstRound();

    // Assess
    expect(round.resultType).toBe('input_required');
    expect(round.inputRequests?.confirm).toMatchObject({
      method: 'elicitation/create',
      params: { message: 'Deploy to prod?' },
    });
    expect(round.requestState).toMatch(/^v1\./);
    expect(deps.deployed).toEqual([]);
    expect(onlyRecord()).toMatchObject({
      [AUDIT_FIELDS.status]: TOOL_CALL_STATUS.success,
      [AUDIT_FIELDS.tool]: 'deploy',
    });
  });

  it('runs with the answer and its own state on the retry', async () => {
    // Prepare
    const { requestState } = await firstRound();

    // Act
    const answer = await confirmDeploy(requestState);

    // Assess
    expect(answer.final.result).toMatchObject({
      resultType: 'complete',
      structuredContent: { deployed: 'prod' },
    });
    expect(deps.deployed).toEqual(['prod']);
  });

  it.each([
    ['tampered with', (state: string) => `${state.slice(0, -2)}xx`],
    ['made up', () => 'v1.e30.AAAA'],
  ])('refuses a state %s before any item code runs (-32602)', async (_how, forge) => {
    // Prepare
    const { requestState } = await firstRound();
    logs.lines.length = 0;

    // Act
    const answer = await confirmDeploy(forge(requestState));

    // Assess
    expect(answer.final.error).toMatchObject({
      code: -32602,
      data: { reason: 'invalid_request_state' },
    });
    expect(deps.deployed).toEqual([]);
    expect(onlyRecord()).toMatchObject({ [AUDIT_FIELDS.status]: TOOL_CALL_STATUS.invalid });
  });

  it('refuses a state sealed for another caller', async () => {
    // Prepare
    const { requestState } = await firstRound(user);

    // Act
    const answer = await confirmDeploy(requestState, otherUser);

    // Assess
    expect(answer.final.error?.code).toBe(-32602);
    expect(deps.deployed).toEqual([]);
  });

  it('spends a state on its first use: the confirmed deploy cannot be replayed', async () => {
    // Prepare
    const { requestState } = await firstRound();
    const first = await confirmDeploy(requestState);

    // Act
    const replay = await confirmDeploy(requestState);

    // Assess
    expect(first.final.result).toMatchObject({ structuredContent: { deployed: 'prod' } });
    expect(replay.final.error).toMatchObject({
      code: -32602,
      data: { reason: 'invalid_request_state' },
    });
    expect(deps.deployed).toEqual(['prod']);
  });

  it('refuses a state sealed for other arguments of the same tool', async () => {
    // Prepare: rollback runs on any state of its own, so only the binding stands in the way
    const round = await callTool('modern', 'rollback', { env: 'staging' });
    const requestState = round.final.result?.requestState;

    // Act
    const answer = await send({
      era: 'modern',
      method: 'tools/call',
      params: { name: 'rollback', arguments: { env: 'prod' }, requestState },
    });

    // Assess
    expect(round.final.result?.resultType).toBe('input_required');
    expect(answer.final.error).toMatchObject({ code: -32602 });
  });

  it('refuses a person’s state for an API key whose name is that person’s sub', async () => {
    // Prepare
    const { requestState } = await firstRound(user);
    const key: Principal = {
      principalId: user.principalId,
      authMethod: 'api_key',
      groups: ['user'],
      scopes: [],
      keyId: 'k-user-1',
    };

    // Act
    const answer = await confirmDeploy(requestState, key);

    // Assess
    expect(answer.final.error?.code).toBe(-32602);
    expect(deps.deployed).toEqual([]);
  });

  it('refuses a state sealed for another tool', async () => {
    // Prepare
    const { requestState } = await firstRound(user, 'deploy');

    // Act
    const answer = await send({
      era: 'modern',
      method: 'tools/call',
      params: { name: 'rollback', arguments: { env: 'prod' }, requestState },
      capabilities: ELICITATION,
    });

    // Assess
    expect(answer.final.error?.code).toBe(-32602);
  });

  it('refuses a state sealed by an instance with another key, and takes one with the same', async () => {
    // Prepare
    const shared = {
      key: 'a-request-state-key-shared-by-instances',
      ledger: new MemoryRequestStateLedger(),
    };
    const sealing = handlerWith(shared);
    const { requestState } = await firstRound(user, 'deploy', sealing);
    const retry = (handle: McpHandler) => confirmDeploy(requestState, user, handle);

    // Act
    const elsewhere = await retry(instance);
    const sameKey = await retry(handlerWith(shared));
    const againOnAThird = await retry(handlerWith(shared));

    // Assess: spent on the instance that took it, for every instance sharing the ledger
    expect(elsewhere.final.error?.code).toBe(-32602);
    expect(sameKey.final.result).toMatchObject({ structuredContent: { deployed: 'prod' } });
    expect(againOnAThird.final.error?.code).toBe(-32602);
    expect(deps.deployed).toEqual(['prod']);
  });

  it('opens a state sealed by another instance deriving its keys from the same KMS key, once', async () => {
    // Prepare: two instances, each with its own ring over one HMAC key, one ledger
    const kms = hmacKms();
    const ledger = new MemoryRequestStateLedger();
    const sealing = handlerWith({ key: new KmsRequestStateKeyRing(kms, 'key'), ledger });
    const opening = handlerWith({ key: new KmsRequestStateKeyRing(kms, 'key'), ledger });
    const { requestState } = await firstRound(user, 'deploy', sealing);

    // Act
    const confirmed = await confirmDeploy(requestState, user, opening);
    const replayed = await confirmDeploy(requestState, user, sealing);

    // Assess
    expect(confirmed.final.result).toMatchObject({ structuredContent: { deployed: 'prod' } });
    expect(replayed.final.error?.code).toBe(-32602);
    expect(deps.deployed).toEqual(['prod']);
  });

  it('refuses the state (-32602), runs nothing and logs an error when its keys cannot be had', async () => {
    // Prepare: KMS answers the first round, then fails
    let failing = false;
    const kms = hmacKms(() => failing);
    const ledger = new MemoryRequestStateLedger();
    const sealing = handlerWith({ key: new KmsRequestStateKeyRing(kms, 'key'), ledger });
    const { requestState } = await firstRound(user, 'deploy', sealing);
    failing = true;

    // Act: another instance, which has no key yet
    const answer = await confirmDeploy(
      requestState,
      user,
      handlerWith({ key: new KmsRequestStateKeyRing(kms, 'key'), ledger }),
    );

    // Assess
    expect(answer.final.error?.code).toBe(-32602);
    expect(deps.deployed).toEqual([]);
    expect(logs.records()).toContainEqual(
      expect.objectContaining({
        level: 'ERROR',
        message: expect.stringMatching(/request state/),
        error_type: 'Error',
      }),
    );
  });

  it('refuses to start with a key shared by instances but no ledger they share', () => {
    // Act & Assess
    expect(() => handlerWith({ key: 'a-request-state-key-shared-by-instances' })).toThrow(
      RequestStateConfigurationError,
    );
  });

  it('asks again when the answer is missing', async () => {
    // Prepare
    const { requestState } = await firstRound();

    // Act
    const answer = await send({
      era: 'modern',
      method: 'tools/call',
      params: { name: 'deploy', arguments: { env: 'prod' }, inputResponses: {}, requestState },
      capabilities: ELICITATION,
    });

    // Assess
    expect(answer.final.result?.resultType).toBe('input_required');
    expect(deps.deployed).toEqual([]);
  });

  it('is refused when the client did not declare it can answer (-32021, HTTP 400)', async () => {
    // Act
    const answer = await callTool('modern', 'deploy', { env: 'prod' });

    // Assess
    expect(answer.status).toBe(400);
    expect(answer.final.error).toMatchObject({
      code: -32021,
      data: { requiredCapabilities: { elicitation: expect.any(Object) } },
    });
    expect(onlyRecord()).toMatchObject({
      [AUDIT_FIELDS.status]: TOOL_CALL_STATUS.invalid,
      [AUDIT_FIELDS.errorType]: 'JsonRpcError-32021',
    });
  });

  it('tells a 2025-11-25 client at once that it needs a 2026-07-28 one', async () => {
    // Act
    const started = performance.now();
    const answer = await callTool('legacy', 'deploy', { env: 'prod' });

    // Assess
    expect(performance.now() - started).toBeLessThan(2000);
    expect(answer.final.result).toMatchObject({
      isError: true,
      content: [{ type: 'text', text: expect.stringContaining('2026-07-28') }],
    });
    expect(deps.deployed).toEqual([]);
    expect(onlyRecord()).toMatchObject({
      [AUDIT_FIELDS.status]: TOOL_CALL_STATUS.invalid,
      [AUDIT_FIELDS.errorType]: 'InputUnavailable',
    });
  });
});

describe('a prompt that asks for input', () => {
  it('asks a 2026-07-28 client, then renders with its answer', async () => {
    // Act
    const first = await send({
      era: 'modern',
      method: 'prompts/get',
      params: { name: 'briefing' },
      capabilities: { elicitation: { form: {} } },
    });
    const second = await send({
      era: 'modern',
      method: 'prompts/get',
      params: {
        name: 'briefing',
        inputResponses: { topic: { action: 'accept', content: { topic: 'tides' } } },
      },
      capabilities: { elicitation: { form: {} } },
    });

    // Assess
    expect(first.final.result).toMatchObject({
      resultType: 'input_required',
      inputRequests: { topic: { method: 'elicitation/create' } },
    });
    expect(second.final.result).toMatchObject({
      messages: [{ content: { text: 'Brief me on tides' } }],
    });
    expect(auditRecords()).toHaveLength(2);
  });

  it('refuses a 2025-11-25 client at once, with one invalid record', async () => {
    // Act
    const answer = await send({
      era: 'legacy',
      method: 'prompts/get',
      params: { name: 'briefing' },
    });

    // Assess
    expect(answer.final.error).toMatchObject({
      code: -32600,
      message: expect.stringContaining('2026-07-28'),
    });
    expect(onlyRecord()).toMatchObject({
      [AUDIT_FIELDS.event]: AUDIT_EVENTS.promptGet,
      [AUDIT_FIELDS.status]: TOOL_CALL_STATUS.invalid,
      [AUDIT_FIELDS.errorType]: 'InputUnavailable',
    });
  });
});

describe('resources', () => {
  it.each(ERAS)('reads binary content as a blob (%s)', async (era) => {
    // Act
    const answer = await send({ era, method: 'resources/read', params: { uri: 'brand://logo' } });

    // Assess
    expect(answer.final.result).toMatchObject({
      contents: [{ uri: 'brand://logo', mimeType: 'image/png', blob: PNG }],
    });
    expect(onlyRecord()).toMatchObject({ [AUDIT_FIELDS.status]: TOOL_CALL_STATUS.success });
  });
});

describe('subscriptions (2025-11-25)', () => {
  const subscribe = (uri: string, as: Principal = user, method = 'resources/subscribe') =>
    send({ era: 'legacy', method, params: { uri }, as });

  it('are declared, with lists that never change, to a caller who may read a subscribable resource', async () => {
    // Act
    const answer = await send({
      era: 'legacy',
      method: 'initialize',
      params: {
        protocolVersion: LEGACY,
        capabilities: {},
        clientInfo: { name: 't', version: '0' },
      },
    });

    // Assess
    expect(answer.final.result?.capabilities).toMatchObject({
      tools: { listChanged: false },
      resources: { listChanged: false, subscribe: true },
      prompts: { listChanged: false },
      logging: {},
      completions: {},
    });
  });

  it('are not declared in 2026-07-28, which has no such method', async () => {
    // Act
    const discover = await send({ era: 'modern', method: 'server/discover' });
    const refused = await send({
      era: 'modern',
      method: 'resources/subscribe',
      params: { uri: 'news://feed' },
    });

    // Assess
    expect(discover.final.result?.capabilities).toMatchObject({
      resources: { listChanged: false },
    });
    const capabilities = discover.final.result?.capabilities as {
      resources?: Record<string, unknown>;
    };
    expect(capabilities.resources?.subscribe).toBeUndefined();
    expect(refused.status).toBe(404);
    expect(refused.final.error?.code).toBe(-32601);
    expect(auditRecords()).toEqual([]);
  });

  it.each(['resources/subscribe', 'resources/unsubscribe'])(
    'acknowledge %s of a subscribable resource, which is no call to audit',
    async (method) => {
      // Act
      const answer = await subscribe('news://feed', user, method);

      // Assess
      expect(answer.final.result).toEqual({});
      expect(auditRecords()).toEqual([]);
    },
  );

  it('refuse one of a resource the caller may not read, naming the permission, with one denied record', async () => {
    // Act
    const answer = await subscribe('books://ledger', user);

    // Assess
    expect(answer.final.error).toMatchObject({
      code: PERMISSION_DENIED_CODE,
      data: { requiredPermission: 'audit' },
    });
    expect(onlyRecord()).toMatchObject({
      [AUDIT_FIELDS.event]: AUDIT_EVENTS.resourceRead,
      [AUDIT_FIELDS.status]: TOOL_CALL_STATUS.denied,
    });
  });

  it('refuse one of a readable resource that takes no subscriptions', async () => {
    // Act
    const answer = await subscribe('books://ledger', auditor);

    // Assess
    expect(answer.final.error).toMatchObject({
      code: -32602,
      message: 'This resource does not accept subscriptions',
    });
    expect(auditRecords()).toEqual([]);
  });

  it('refuse one of an unknown resource as not found, with one record', async () => {
    // Act
    const answer = await subscribe('news://nowhere');

    // Assess
    expect(answer.final.error?.code).toBe(-32002);
    expect(onlyRecord()).toMatchObject({ [AUDIT_FIELDS.status]: TOOL_CALL_STATUS.invalid });
  });
});

describe('completions of a module’s prompt argument', () => {
  it.each(ERAS)('answer from the module’s completer (%s)', async (era) => {
    // Act
    const answer = await send({
      era,
      method: 'completion/complete',
      params: {
        ref: { type: 'ref/prompt', name: 'greeting' },
        argument: { name: 'colour', value: 'gr' },
      },
    });

    // Assess
    expect(answer.final.result).toMatchObject({ completion: { values: ['green', 'grey'] } });
  });
});

describe('moduleKit items called outside the server', () => {
  it('get an inert exchange: no log, no answers, no state, and no state to seal', async () => {
    // Prepare
    const context: ToolContext<Deps> = {
      deps,
      principal: user,
      requestId: 'unit',
      now: () => new Date(0),
      signal: new AbortController().signal,
      progress: async () => undefined,
    };

    // Act
    const shown = await noisy.run({}, context);
    const asked = deploy.ask?.({ env: 'dev' }, context);

    // Assess
    expect(shown).toEqual({ content: [{ type: 'text', text: 'done' }] });
    await expect(asked).rejects.toThrow(/No request state/);
  });
});
