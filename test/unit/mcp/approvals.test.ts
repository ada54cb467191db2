/**
 * The approval gate (lambda/mcp/approvals.ts) through the real MCP handler, on both eras: what
 * a call needing approval is answered with, and that once a person has approved it, exactly
 * that call runs, once. The approvals table is the real DynamoDB protocol (dynalite); the
 * person's answer on the page is written as the page writes it (`store.decide`), after opening
 * the ticket the URL carries (the page itself is tested in test/unit/oauth-proxy/approval-page.test.ts).
 */
import { beforeEach, describe, expect, it } from 'vitest';
import * as z from 'zod';
import {
  APPROVAL_INPUT_KEY,
  ApprovalConfigurationError,
  createApprovals,
} from '../../../lambda/mcp/approvals';
import { createMcpHandler } from '../../../lambda/mcp/handler';
import { moduleKit } from '../../../lambda/mcp/module-kit';
import type { LoadedModule } from '../../../lambda/mcp/module-loader';
import {
  APPROVAL_STATUS,
  type ApprovalStore,
  clientBinding,
  MAX_APPROVAL_ARGUMENTS_BYTES,
} from '../../../lambda/shared/approvals';
import {
  APPROVAL_ERROR_TYPES,
  AUDIT_EVENTS,
  AUDIT_FIELDS,
  TOOL_CALL_STATUS,
} from '../../../lambda/shared/audit';
import { buildPolicyTable } from '../../../lambda/shared/policy';
import type { Principal } from '../../../lambda/shared/principal';
import {
  answerOf,
  type Era,
  envelope,
  type message,
  PAGE_URL,
  toolCallEvent,
  useApprovals,
} from './approvals-fixture';

// ---------------------------------------------------------------------------------------------
// A module whose tools count what they do

/** How many times each tool ran, by `tool:id`. */
const runs = new Map<string, number>();
const ran = (tool: string, id: string) => runs.get(`${tool}:${id}`) ?? 0;

const define = moduleKit<undefined>();
const erase = define.tool({
  name: 'erase',
  title: 'Erase a document',
  description: 'Erase one document.',
  permission: 'erase_docs',
  annotations: { destructiveHint: true },
  input: z.strictObject({ id: z.string(), reason: z.string().default('none given') }),
  output: z.object({ erased: z.string() }),
  async run({ id }) {
    runs.set(`erase:${id}`, ran('erase', id) + 1);
    return { erased: id };
  },
  summarize: (out) => `Erased ${out.erased}.`,
});
const rename = define.tool({
  name: 'rename',
  title: 'Rename a document',
  description: 'Rename one document.',
  permission: 'erase_docs',
  annotations: { destructiveHint: true },
  approval: false,
  input: z.strictObject({ id: z.string() }),
  output: z.object({ renamed: z.string() }),
  async run({ id }) {
    runs.set(`rename:${id}`, ran('rename', id) + 1);
    return { renamed: id };
  },
  summarize: (out) => `Renamed ${out.renamed}.`,
});
const docs = define.module({
  name: 'docs',
  permissions: { erase_docs: 'Erase and rename documents' },
  tools: [erase, rename],
  dependencies: (): undefined => undefined,
});
const MODULES: readonly LoadedModule[] = [{ module: docs, deps: undefined }];
const POLICY = buildPolicyTable({
  roles: { admin: ['erase_docs'], viewer: [] },
  modules: [docs],
});

const person = (sub: string, groups = ['admin']): Principal => ({
  principalId: sub,
  authMethod: 'cognito',
  groups,
  scopes: [],
  keyId: '',
});
const alice = person('alice-sub');
const bob = person('bob-sub');
const robot: Principal = { ...person('reporting-bot'), authMethod: 'api_key', keyId: 'k1' };

// ---------------------------------------------------------------------------------------------
// Requests and answers

/** The client the modern calls come from unless a test names another. */
const CLIENT = 'approvals-test';

interface CallOptions {
  readonly era?: Era;
  readonly as?: Principal;
  readonly tool?: string;
  readonly client?: string;
  /** A 2026-07-28 retry: the state and the answers sent back. */
  readonly retry?: { requestState: string; inputResponses: Record<string, unknown> };
  /** `_meta` in place of the envelope (a modern call). */
  readonly meta?: Record<string, unknown>;
}

function callEvent(args: Record<string, unknown>, options: CallOptions = {}) {
  return toolCallEvent(options.tool ?? 'erase', args, {
    as: options.as ?? alice,
    meta: options.meta ?? envelope(options.client ?? CLIENT),
    ...(options.era === undefined ? {} : { era: options.era }),
    ...(options.retry === undefined ? {} : { retry: options.retry }),
  });
}

/** The retry of a modern call, with the client's answer to the approval URL. */
function retryEvent(
  args: Record<string, unknown>,
  ask: { requestState: string },
  action: 'accept' | 'decline' = 'accept',
) {
  return callEvent(args, {
    era: 'modern',
    retry: {
      requestState: ask.requestState,
      inputResponses: { [APPROVAL_INPUT_KEY]: { action } },
    },
  });
}

const elicitation = z.object({
  mode: z.literal('url'),
  url: z.string(),
  message: z.string(),
  elicitationId: z.string().optional(),
});

/** The URL a legacy call was answered with (-32042), failing if it was answered otherwise. */
function legacyUrl(answer: z.infer<typeof message>): URL {
  expect(answer.error?.code).toBe(-32042);
  const data = z.object({ elicitations: z.array(elicitation).length(1) }).parse(answer.error?.data);
  return new URL((data.elicitations[0] as z.infer<typeof elicitation>).url);
}

/** The URL and state a modern call was answered with (input_required). */
function modernAsk(answer: z.infer<typeof message>): { url: URL; requestState: string } {
  const result = z
    .object({
      resultType: z.literal('input_required'),
      inputRequests: z.object({
        [APPROVAL_INPUT_KEY]: z.object({
          method: z.literal('elicitation/create'),
          params: elicitation,
        }),
      }),
      requestState: z.string(),
    })
    .parse(answer.result);
  return {
    url: new URL(result.inputRequests[APPROVAL_INPUT_KEY].params.url),
    requestState: result.requestState,
  };
}

const toolResult = z.object({
  content: z.array(z.object({ type: z.string(), text: z.string().optional() })),
  isError: z.boolean().optional(),
  structuredContent: z.record(z.string(), z.unknown()).optional(),
});

// ---------------------------------------------------------------------------------------------
// The handler, the table, the page's side

const approvals = useApprovals({ tablePrefix: 'approvals', modules: MODULES, policy: POLICY });
const { handler, ticketOf, answer, logger } = approvals;

beforeEach(() => runs.clear());

const auditOf = (event: string) =>
  approvals.logs.records().filter((record) => record.event === event);
const approvalSteps = () =>
  auditOf(AUDIT_EVENTS.approval).map((record) => [record.step, record.reason]);

// ---------------------------------------------------------------------------------------------

describe('which calls need approval', () => {
  it('runs a tool whose module declares approval: false at once', async () => {
    // Act
    const result = await answerOf(await handler()(callEvent({ id: 'd1' }, { tool: 'rename' })));

    // Assess
    expect(toolResult.parse(result.result).isError).toBeFalsy();
    expect(ran('rename', 'd1')).toBe(1);
    expect(approvalSteps()).toEqual([]);
  });

  it('runs a destructive tool at once where the deployment switched its approval off', async () => {
    // Act
    const result = await answerOf(
      await handler({ off: ['erase'] })(callEvent({ id: 'd1' }, { tool: 'erase' })),
    );

    // Assess
    expect(toolResult.parse(result.result).structuredContent).toEqual({ erased: 'd1' });
    expect(ran('erase', 'd1')).toBe(1);
  });

  it('refuses to start when approvalOff names a tool that declares no approval', () => {
    // Act & Assess
    expect(() => createApprovals(MODULES, { logger, off: ['rename', 'erasee'] })).toThrow(
      ApprovalConfigurationError,
    );
  });

  it('refuses to start when a tool needing approval also asks for input of its own', () => {
    // Prepare
    const asking = define.tool({
      ...erase,
      name: 'erase_asking',
      async ask() {
        return undefined;
      },
      run: erase.run,
    });
    const module = define.module({
      name: 'docs-asking',
      permissions: docs.permissions,
      tools: [asking],
      dependencies: (): undefined => undefined,
    });

    // Act & Assess
    expect(() => createApprovals([{ module, deps: undefined }], { logger })).toThrow(
      /erase_asking needs approval and asks for input/,
    );
  });

  it('requires approval where a rule says so, even of a tool that declares none', async () => {
    // Act
    const answer = await answerOf(
      await handler({ rules: [(call) => call.tool === 'rename'] })(
        callEvent({ id: 'd1' }, { tool: 'rename' }),
      ),
    );

    // Assess
    legacyUrl(answer);
    expect(ran('rename', 'd1')).toBe(0);
  });

  it('refuses every call needing approval when the function has no approvals table', async () => {
    // Prepare
    const bare = createMcpHandler({
      config: { allowedOrigins: [], maxBodyBytes: 1024 * 1024 },
      policy: POLICY,
      modules: MODULES,
      logger,
    });

    // Act
    const result = toolResult.parse((await answerOf(await bare(callEvent({ id: 'd1' })))).result);

    // Assess
    expect(result.isError).toBe(true);
    expect(ran('erase', 'd1')).toBe(0);
    expect(auditOf(AUDIT_EVENTS.toolCall)[0]).toMatchObject({
      [AUDIT_FIELDS.status]: TOOL_CALL_STATUS.denied,
      [AUDIT_FIELDS.errorType]: APPROVAL_ERROR_TYPES.unavailable,
    });
  });
});

describe('a 2025-11-25 call needing approval', () => {
  it('is answered with -32042 and the approval URL, and nothing runs', async () => {
    // Act
    const answer = await answerOf(await handler()(callEvent({ id: 'd1' })));

    // Assess
    const url = legacyUrl(answer);
    expect(`${url.origin}${url.pathname}`).toBe(PAGE_URL);
    expect(ran('erase', 'd1')).toBe(0);
    expect(auditOf(AUDIT_EVENTS.toolCall)).toEqual([
      expect.objectContaining({
        [AUDIT_FIELDS.status]: TOOL_CALL_STATUS.approvalRequired,
        [AUDIT_FIELDS.errorType]: APPROVAL_ERROR_TYPES.required,
      }),
    ]);
    expect(approvalSteps()).toEqual([['requested', 'ok']]);
  });

  it('puts the call in the ticket, sealed: the URL shows neither arguments nor person', async () => {
    // Act
    const url = legacyUrl(await answerOf(await handler()(callEvent({ id: 'secret-doc-42' }))));

    // Assess
    expect(url.href).not.toContain('secret-doc-42');
    expect(url.href).not.toContain('alice');
    expect([...url.searchParams.keys()]).toEqual(['ticket']);
    expect(await ticketOf(url)).toMatchObject({
      sub: 'alice-sub',
      tool: { name: 'erase', title: 'Erase a document', permission: 'erase_docs' },
      // As the tool's schema parsed them: the default filled in.
      arguments: { id: 'secret-doc-42', reason: 'none given' },
      roles: ['admin'],
    });
  });

  it('runs once the person approved, when called again with the same arguments', async () => {
    // Prepare
    const h = handler();
    const url = legacyUrl(await answerOf(await h(callEvent({ id: 'd1' }))));
    await answer(url);

    // Act
    const result = toolResult.parse((await answerOf(await h(callEvent({ id: 'd1' })))).result);

    // Assess
    expect(result.structuredContent).toEqual({ erased: 'd1' });
    expect(ran('erase', 'd1')).toBe(1);
    expect(approvalSteps()).toEqual([
      ['requested', 'ok'],
      ['consumed', 'ok'],
    ]);
  });

  it('runs it only once: the same call again needs a new approval', async () => {
    // Prepare
    const h = handler();
    await answer(legacyUrl(await answerOf(await h(callEvent({ id: 'd1' })))));
    await h(callEvent({ id: 'd1' }));

    // Act
    const replay = await answerOf(await h(callEvent({ id: 'd1' })));

    // Assess
    legacyUrl(replay);
    expect(ran('erase', 'd1')).toBe(1);
    expect(approvalSteps()).toContainEqual(['refused', 'replayed']);
  });

  it('does not run other arguments on an approval, and keeps it for the approved ones', async () => {
    // Prepare
    const h = handler();
    await answer(legacyUrl(await answerOf(await h(callEvent({ id: 'd1' })))));

    // Act
    const swapped = await answerOf(await h(callEvent({ id: 'd2' })));
    const approved = await answerOf(await h(callEvent({ id: 'd1' })));

    // Assess
    legacyUrl(swapped);
    expect(ran('erase', 'd2')).toBe(0);
    expect(toolResult.parse(approved.result).structuredContent).toEqual({ erased: 'd1' });
  });

  it('does not count one argument default the same as another value', async () => {
    // Prepare: approved with the default reason
    const h = handler();
    await answer(legacyUrl(await answerOf(await h(callEvent({ id: 'd1' })))));

    // Act
    const other = await answerOf(await h(callEvent({ id: 'd1', reason: 'cleanup' })));

    // Assess
    legacyUrl(other);
    expect(ran('erase', 'd1')).toBe(0);
  });

  it('counts an approval for the same parsed arguments, however the call spelled them', async () => {
    // Prepare: approved with the default spelled out
    const h = handler();
    await answer(legacyUrl(await answerOf(await h(callEvent({ reason: 'none given', id: 'd1' })))));

    // Act
    const result = await answerOf(await h(callEvent({ id: 'd1' })));

    // Assess
    expect(toolResult.parse(result.result).structuredContent).toEqual({ erased: 'd1' });
  });

  it('never runs another person’s approved call', async () => {
    // Prepare
    const h = handler();
    await answer(legacyUrl(await answerOf(await h(callEvent({ id: 'd1' }, { as: bob })))));

    // Act
    const answerToAlice = await answerOf(await h(callEvent({ id: 'd1' }, { as: alice })));

    // Assess
    legacyUrl(answerToAlice);
    expect(ran('erase', 'd1')).toBe(0);
  });

  it('refuses a call the person denied, and keeps refusing it while the denial holds', async () => {
    // Prepare
    const h = handler();
    await answer(legacyUrl(await answerOf(await h(callEvent({ id: 'd1' })))), 'denied');

    // Act
    const first = toolResult.parse((await answerOf(await h(callEvent({ id: 'd1' })))).result);
    const again = toolResult.parse((await answerOf(await h(callEvent({ id: 'd1' })))).result);

    // Assess
    expect(first.isError).toBe(true);
    expect(first.content[0]?.text).toMatch(/denied/);
    expect(again.isError).toBe(true);
    expect(ran('erase', 'd1')).toBe(0);
    expect(auditOf(AUDIT_EVENTS.toolCall).at(-1)).toMatchObject({
      [AUDIT_FIELDS.status]: TOOL_CALL_STATUS.denied,
      [AUDIT_FIELDS.errorType]: APPROVAL_ERROR_TYPES.denied,
    });
  });

  it('does not run on an approval past its time, and asks again', async () => {
    // Prepare: approved, then a clock past the approval's deadline
    let clock = Date.now();
    const h = handler({ now: () => clock });
    await answer(legacyUrl(await answerOf(await h(callEvent({ id: 'd1' })))), 'approved', 60);
    clock += 61_000;

    // Act
    const late = await answerOf(await h(callEvent({ id: 'd1' })));

    // Assess
    legacyUrl(late);
    expect(ran('erase', 'd1')).toBe(0);
    expect(approvalSteps()).toContainEqual(['expired', 'approval_expired']);
  });

  it('runs exactly one of 20 concurrent retries of one approved call', async () => {
    // Prepare
    const h = handler();
    await answer(legacyUrl(await answerOf(await h(callEvent({ id: 'd1' })))));

    // Act
    const answers = await Promise.all(
      Array.from({ length: 20 }, async () => answerOf(await h(callEvent({ id: 'd1' })))),
    );

    // Assess
    expect(ran('erase', 'd1')).toBe(1);
    expect(answers.filter((a) => a.result !== undefined && a.error === undefined)).toHaveLength(1);
    expect(answers.filter((a) => a.error?.code === -32042)).toHaveLength(19);
    expect(approvalSteps().filter(([step]) => step === 'consumed')).toHaveLength(1);
  });

  it('refuses an API-key caller: no person can sign in to approve', async () => {
    // Act
    const result = toolResult.parse(
      (await answerOf(await handler()(callEvent({ id: 'd1' }, { as: robot })))).result,
    );

    // Assess
    expect(result.isError).toBe(true);
    expect(result.content[0]?.text).toMatch(/API-key caller/);
    expect(approvalSteps()).toEqual([['refused', 'no_person']]);
  });

  it(`refuses arguments over ${MAX_APPROVAL_ARGUMENTS_BYTES} bytes: too large to show`, async () => {
    // Act
    const result = toolResult.parse(
      (await answerOf(await handler()(callEvent({ id: 'x'.repeat(MAX_APPROVAL_ARGUMENTS_BYTES) }))))
        .result,
    );

    // Assess
    expect(result.isError).toBe(true);
    expect(approvalSteps()).toEqual([['refused', 'arguments_too_large']]);
  });

  it('refuses, and runs nothing, when the approvals table fails', async () => {
    // Prepare
    const failing: ApprovalStore = {
      get: () => Promise.reject(Object.assign(new Error('x'), { name: 'AwsError' })),
      request: () => Promise.reject(new Error('down')),
      consume: () => Promise.reject(new Error('down')),
      decide: () => Promise.reject(new Error('down')),
    };

    // Act
    const result = toolResult.parse(
      (await answerOf(await handler({ store: failing })(callEvent({ id: 'd1' })))).result,
    );

    // Assess
    expect(result.isError).toBe(true);
    expect(ran('erase', 'd1')).toBe(0);
    expect(approvalSteps()).toEqual([['refused', 'unavailable']]);
  });

  it('never writes the arguments to the log', async () => {
    // Prepare
    const h = handler();
    await answer(legacyUrl(await answerOf(await h(callEvent({ id: 'secret-doc-77' })))));

    // Act
    await h(callEvent({ id: 'secret-doc-77' }));

    // Assess
    expect(approvals.logs.lines.join('\n')).not.toContain('secret-doc-77');
  });
});

describe('a 2026-07-28 call needing approval', () => {
  it('is answered with input_required: one URL elicitation and a requestState', async () => {
    // Act
    const answer = await answerOf(await handler()(callEvent({ id: 'd1' }, { era: 'modern' })));

    // Assess
    const { url } = modernAsk(answer);
    expect(`${url.origin}${url.pathname}`).toBe(PAGE_URL);
    expect(answer.error).toBeUndefined();
    expect(ran('erase', 'd1')).toBe(0);
    expect(await ticketOf(url)).toMatchObject({
      client: { name: 'approvals-test', version: '1.0.0' },
    });
  });

  it('runs when the client retries with its state after the person approved', async () => {
    // Prepare
    const h = handler();
    const ask = modernAsk(await answerOf(await h(callEvent({ id: 'd1' }, { era: 'modern' }))));
    await answer(ask.url);

    // Act
    const result = await answerOf(await h(retryEvent({ id: 'd1' }, ask)));

    // Assess
    expect(toolResult.parse(result.result).structuredContent).toEqual({ erased: 'd1' });
    expect(ran('erase', 'd1')).toBe(1);
  });

  it('waits for the person when the client comes back before they answered', async () => {
    // Prepare
    const h = handler({ waitMs: 5_000, pollMs: 20 });
    const ask = modernAsk(await answerOf(await h(callEvent({ id: 'd1' }, { era: 'modern' }))));

    // Act: the retry arrives first; the person approves while it waits
    const retry = h(retryEvent({ id: 'd1' }, ask));
    await new Promise((resolve) => setTimeout(resolve, 100));
    await answer(ask.url);
    const result = await answerOf(await retry);

    // Assess
    expect(toolResult.parse(result.result).structuredContent).toEqual({ erased: 'd1' });
  });

  it('asks again, for the same approval, when the person has not answered yet', async () => {
    // Prepare
    const h = handler();
    const first = modernAsk(await answerOf(await h(callEvent({ id: 'd1' }, { era: 'modern' }))));

    // Act
    const again = modernAsk(await answerOf(await h(retryEvent({ id: 'd1' }, first))));

    // Assess
    expect((await ticketOf(again.url)).approvalId).toBe((await ticketOf(first.url)).approvalId);
    expect(ran('erase', 'd1')).toBe(0);
  });

  it('refuses the call when the client declined to open the URL', async () => {
    // Prepare
    const h = handler();
    const ask = modernAsk(await answerOf(await h(callEvent({ id: 'd1' }, { era: 'modern' }))));

    // Act
    const result = await answerOf(await h(retryEvent({ id: 'd1' }, ask, 'decline')));

    // Assess
    expect(toolResult.parse(result.result).isError).toBe(true);
    expect(approvalSteps()).toContainEqual(['denied', 'declined_in_client']);
  });

  it('refuses a retry whose arguments differ from the state’s (-32602), running nothing', async () => {
    // Prepare
    const h = handler();
    const ask = modernAsk(await answerOf(await h(callEvent({ id: 'd1' }, { era: 'modern' }))));
    await answer(ask.url);

    // Act
    const swapped = await answerOf(await h(retryEvent({ id: 'd2' }, ask)));

    // Assess
    expect(swapped.error?.code).toBe(-32602);
    expect(ran('erase', 'd2')).toBe(0);
    expect(ran('erase', 'd1')).toBe(0);
  });

  it('does not run on an approval given for another client', async () => {
    // Prepare
    const h = handler();
    const ask = modernAsk(
      await answerOf(await h(callEvent({ id: 'd1' }, { era: 'modern', client: 'inspector' }))),
    );
    await answer(ask.url);

    // Act
    const other = await answerOf(await h(callEvent({ id: 'd1' }, { era: 'modern' })));

    // Assess
    modernAsk(other);
    expect(ran('erase', 'd1')).toBe(0);
  });

  it('refuses a client that cannot open a URL, before asking anyone', async () => {
    // Act
    const result = await answerOf(
      await handler()(
        callEvent(
          { id: 'd1' },
          {
            era: 'modern',
            meta: {
              ...envelope(CLIENT),
              'io.modelcontextprotocol/clientCapabilities': { elicitation: {} },
            },
          },
        ),
      ),
    );

    // Assess
    expect(toolResult.parse(result.result).isError).toBe(true);
    expect(approvalSteps()).toEqual([['refused', 'url_elicitation_unsupported']]);
    expect(await approvals.store.get('approval#x')).toBeUndefined();
  });
});

describe('the approvals table', () => {
  let store: ApprovalStore;
  beforeEach(() => {
    store = approvals.store;
  });

  it('keeps a pending request in force against a new one, and lets a spent one go', async () => {
    // Prepare
    const now = Math.floor(Date.now() / 1000);
    const key = `approval#${'k'.repeat(43)}`;
    const first = { key, approvalId: 'a'.repeat(22), expiresAt: now + 60 };

    // Act
    const stored = await store.request(first, now);
    const overwritten = await store.request({ ...first, approvalId: 'b'.repeat(22) }, now);
    await store.decide(key, first.approvalId, APPROVAL_STATUS.approved, now + 60, now);
    const spent = await store.consume(key, now);
    const again = await store.request({ ...first, approvalId: 'c'.repeat(22) }, now);

    // Assess
    expect([stored, overwritten, spent?.approvalId, again]).toEqual([
      true,
      false,
      first.approvalId,
      true,
    ]);
    expect(await store.get(key)).toMatchObject({
      approvalId: 'c'.repeat(22),
      status: APPROVAL_STATUS.pending,
    });
  });

  it('spends an approval only for the client that asked, which another client supersedes', async () => {
    // Prepare
    const now = Math.floor(Date.now() / 1000);
    const key = `approval#${'n'.repeat(43)}`;
    const agent = clientBinding({ name: 'agent' });
    const other = clientBinding({ name: 'other' });
    await store.request(
      { key, client: agent, approvalId: 'a'.repeat(22), expiresAt: now + 60 },
      now,
    );
    await store.decide(key, 'a'.repeat(22), APPROVAL_STATUS.approved, now + 60, now);

    // Act
    const byOther = await store.consume(key, now, other);
    const superseded = await store.request(
      { key, client: other, approvalId: 'b'.repeat(22), expiresAt: now + 60 },
      now,
    );
    const byAgent = await store.consume(key, now, agent);

    // Assess
    expect([byOther, superseded, byAgent]).toEqual([undefined, true, undefined]);
    expect(await store.get(key)).toMatchObject({ client: other, status: APPROVAL_STATUS.pending });
  });

  it('keeps a denial in force against a request from any client', async () => {
    // Prepare
    const now = Math.floor(Date.now() / 1000);
    const key = `approval#${'o'.repeat(43)}`;
    const agent = clientBinding({ name: 'agent' });
    await store.request(
      { key, client: agent, approvalId: 'a'.repeat(22), expiresAt: now + 60 },
      now,
    );
    await store.decide(key, 'a'.repeat(22), APPROVAL_STATUS.denied, now + 60, now);

    // Act
    const renamed = await store.request(
      {
        key,
        client: clientBinding({ name: 'agent2' }),
        approvalId: 'b'.repeat(22),
        expiresAt: now + 60,
      },
      now,
    );
    const unnamed = await store.request(
      { key, approvalId: 'c'.repeat(22), expiresAt: now + 60 },
      now,
    );

    // Assess
    expect([renamed, unnamed]).toEqual([false, false]);
    expect(await store.get(key)).toMatchObject({ status: APPROVAL_STATUS.denied });
  });

  it('records no answer for a request that is not the pending one', async () => {
    // Prepare
    const now = Math.floor(Date.now() / 1000);
    const key = `approval#${'m'.repeat(43)}`;
    await store.request({ key, approvalId: 'a'.repeat(22), expiresAt: now + 60 }, now);

    // Act
    const wrongId = await store.decide(key, 'z'.repeat(22), 'approved', now + 60, now);
    const late = await store.decide(key, 'a'.repeat(22), 'approved', now + 60, now + 61);

    // Assess
    expect([wrongId, late]).toEqual([false, false]);
  });
});
