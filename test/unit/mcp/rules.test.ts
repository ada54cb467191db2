/**
 * The argument rules (Cedar) at the gate, with the real engine and real MCP clients of both
 * eras in process: each rule shape (numeric bounds, string sets, groups, a claim, the time,
 * a permit that narrows), enforce against log-only, what the audit record and the error say,
 * failing closed, loading Cedar only when needed, and rules written to be slipped past.
 */
import {
  Client as ModernClient,
  StreamableHTTPClientTransport as ModernTransport,
} from '@modelcontextprotocol/client';
import { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as LegacyTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CallRecord, UncheckedRulesError } from '../../../lambda/mcp/call-record';
import { INVALID_PARAMS_CODE, PERMISSION_DENIED_CODE } from '../../../lambda/mcp/gate';
import { createMcpHandler } from '../../../lambda/mcp/handler';
import { JSONRPC } from '../../../lambda/mcp/http';
import type { McpModule } from '../../../lambda/mcp/module-kit';
import { MemoryQuotaCounter } from '../../../lambda/mcp/quota-counter';
import { createQuotaGate } from '../../../lambda/mcp/quotas';
import { type CedarLoader, loadCedar } from '../../../lambda/mcp/rules';
import { AUDIT_EVENTS, AUDIT_FIELDS, TOOL_CALL_STATUS } from '../../../lambda/shared/audit';
import type { RuleMode } from '../../../lambda/shared/env';
import { createLogger } from '../../../lambda/shared/logger';
import { buildPolicyTable } from '../../../lambda/shared/policy';
import type { Principal } from '../../../lambda/shared/principal';
import { buildQuotaTable } from '../../../lambda/shared/quota';
import { rulesProblems } from '../../../lib/rules-validation';
import { type CapturedLogs, captureLogs } from '../../support/capture-logs';
import {
  FIXTURE_ROLE_NAMES,
  FIXTURE_ROLES,
  fixtureModule,
  MemoryFixtureStore,
} from '../../support/fixture-deployment';
import { handlerFetch } from '../../support/handler-fetch';

const QUERY = 'action == Mcp::Action::"tool:query_customer_data"';
const PUT = 'action == Mcp::Action::"tool:put_record"';

/** One rule of each shape the issue names, over the fixture module's items. */
const RULES = `
@id("analyst-page-limit")
forbid (principal, ${QUERY}, resource)
when { principal.groups.contains("analyst") && context.input.limit > 20 };

@id("readonly-small-pages")
forbid (principal, ${QUERY}, resource)
when { principal.groups.contains("readonly") && context.input.limit > 5 };

@id("enterprise-accounts-stay-open")
forbid (principal, ${PUT}, resource)
when { context.input.segment == "enterprise" && ["suspended", "closed"].contains(context.input.status) };

@id("big-balances-need-admin")
forbid (principal, ${PUT}, resource)
when { context.input.balance.greaterThan(decimal("1000000.0")) }
unless { principal.groups.contains("admin") && principal.authMethod == "cognito" };

@id("sales-sees-germany")
forbid (principal, ${QUERY}, resource)
when { principal.hasTag("custom:department") && principal.getTag("custom:department") == "sales" }
unless { context.input has country && context.input.country == "DE" };

@id("no-writes-after-hours")
forbid (principal, ${PUT}, resource)
when { context.system.now.toTime() >= duration("20h") };

@id("summaries-for-staff")
permit (principal, action == Mcp::Action::"prompt:customer_summary", resource)
when { principal.groups.contains("analyst") || principal.groups.contains("admin") };

@id("enterprise-summary-for-admins")
forbid (principal, action == Mcp::Action::"resource:segment_summary", resource)
when { context.input.segment == "enterprise" && !principal.groups.contains("admin") };

@id("no-enterprise-completion")
forbid (principal, action == Mcp::Action::"completion:prompt:segment_review", resource)
when { context.input.value like "ent*" };
`;

const ruled = { ...fixtureModule, rules: RULES } as McpModule;
/** The fixture deployment's roles over its module. */
const POLICY = buildPolicyTable({ roles: FIXTURE_ROLES, modules: [fixtureModule] });

const person = (id: string, groups: string[], claims?: Record<string, string>): Principal => ({
  principalId: id,
  authMethod: 'cognito',
  groups,
  scopes: ['mcp/tools'],
  keyId: '',
  ...(claims === undefined ? {} : { claims }),
});
const admin = person('alice', ['admin']);
const analyst = person('bob', ['analyst']);
const readonly = person('carol', ['readonly']);
const salesAnalyst = person('sam', ['analyst'], { 'custom:department': 'sales' });

const logger = createLogger('mcp-server');
let logs: CapturedLogs;

beforeEach(() => {
  logs = captureLogs();
});
afterEach(() => {
  logs.restore();
});

interface Setup {
  readonly mode?: RuleMode;
  readonly loadCedar?: CedarLoader;
  readonly module?: McpModule;
  /** The clock the rules read. @default 10:00 UTC */
  readonly now?: Date;
}

/** A handler over the fixture module with `RULES` (or another module), and how it loads Cedar. */
function handlerWith(setup: Setup = {}) {
  const load = vi.fn(setup.loadCedar ?? loadCedar);
  const handler = createMcpHandler({
    config: { allowedOrigins: [], maxBodyBytes: 1024 * 1024 },
    policy: POLICY,
    modules: [{ module: setup.module ?? ruled, deps: { store: new MemoryFixtureStore() } }],
    logger,
    now: () => setup.now ?? new Date('2027-03-01T10:00:00Z'),
    rules: { mode: setup.mode ?? 'enforce', loadCedar: load },
  });
  return { handler, load };
}

const ERAS = ['2025-11-25', '2026-07-28'] as const;
type Era = (typeof ERAS)[number];
type AnyClient = Pick<LegacyClient, 'callTool' | 'getPrompt' | 'readResource' | 'complete'>;

async function clientFor(
  handler: ReturnType<typeof handlerWith>['handler'],
  caller: Principal,
  era: Era,
): Promise<AnyClient> {
  const fetch = handlerFetch(handler, () => caller);
  const url = new URL('https://mcp.example.com/mcp');
  if (era === '2025-11-25') {
    const client = new LegacyClient({ name: 'rules-legacy', version: '1.0.0' });
    await client.connect(new LegacyTransport(url, { fetch }));
    return client;
  }
  const client = new ModernClient(
    { name: 'rules-modern', version: '1.0.0' },
    { versionNegotiation: { mode: { pin: '2026-07-28' } } },
  );
  await client.connect(new ModernTransport(url, { fetch }));
  return client as unknown as AnyClient;
}

/** The JSON-RPC error a call was refused with, or undefined if it was answered. */
async function refusal(call: Promise<unknown>) {
  return call.then(
    () => undefined,
    (error: { code?: number; data?: unknown; message?: string }) => ({
      code: error.code,
      data: error.data,
      message: error.message,
    }),
  );
}

/** The audit records of item requests written so far. */
const audits = () =>
  logs
    .records()
    .filter((record) =>
      [
        AUDIT_EVENTS.toolCall,
        AUDIT_EVENTS.promptGet,
        AUDIT_EVENTS.resourceRead,
        AUDIT_EVENTS.completion,
      ].includes(record[AUDIT_FIELDS.event] as never),
    );
const lastAudit = () => audits().at(-1);

const putArgs = (overrides: Record<string, unknown> = {}) => ({
  name: 'Rules Test',
  email: 'rules@example.com',
  country: 'DE',
  segment: 'business',
  status: 'active',
  balance: 12.5,
  ...overrides,
});

it('the test rules validate, as cdk synth would demand', () => {
  expect(
    rulesProblems([ruled], { roles: FIXTURE_ROLE_NAMES, claims: ['custom:department'] }),
  ).toEqual([]);
});

describe.each(ERAS)('MCP %s, enforce mode', (era) => {
  describe('numeric bounds', () => {
    it('refuses an analyst more than 20 rows, naming the rule in the error and the audit record', async () => {
      // Prepare
      const { handler } = handlerWith();
      const client = await clientFor(handler, analyst, era);

      // Act
      const refused = await refusal(
        client.callTool({ name: 'query_customer_data', arguments: { limit: 21 } }),
      );

      // Assess
      expect(refused?.code).toBe(PERMISSION_DENIED_CODE);
      expect(refused?.data).toEqual({
        tool: 'query_customer_data',
        deniedBy: ['analyst-page-limit'],
      });
      expect(lastAudit()).toMatchObject({
        [AUDIT_FIELDS.tool]: 'query_customer_data',
        [AUDIT_FIELDS.status]: TOOL_CALL_STATUS.denied,
        [AUDIT_FIELDS.errorType]: 'RuleDenied',
        [AUDIT_FIELDS.ruleVerdict]: 'deny',
        [AUDIT_FIELDS.ruleIds]: ['analyst-page-limit'],
      });
    });

    it('lets an analyst have 20 rows, and an admin 50', async () => {
      // Prepare
      const { handler } = handlerWith();
      const asAnalyst = await clientFor(handler, analyst, era);
      const asAdmin = await clientFor(handler, admin, era);

      // Act
      const twenty = await asAnalyst.callTool({
        name: 'query_customer_data',
        arguments: { limit: 20 },
      });
      const fifty = await asAdmin.callTool({
        name: 'query_customer_data',
        arguments: { limit: 50 },
      });

      // Assess
      expect(twenty.isError).toBeFalsy();
      expect(fifty.isError).toBeFalsy();
      expect(lastAudit()).toMatchObject({
        [AUDIT_FIELDS.status]: TOOL_CALL_STATUS.success,
        [AUDIT_FIELDS.ruleVerdict]: 'allow',
        [AUDIT_FIELDS.ruleIds]: [],
      });
    });

    it('judges a left-out argument as its default: readonly gets 10 rows by default, over its 5', async () => {
      // Prepare
      const { handler } = handlerWith();
      const client = await clientFor(handler, readonly, era);

      // Act
      const refused = await refusal(
        client.callTool({ name: 'query_customer_data', arguments: {} }),
      );

      // Assess
      expect(refused?.data).toMatchObject({ deniedBy: ['readonly-small-pages'] });
    });

    it.each([
      ['the same number spelled 21.0', 21.0],
      ['an exponent', 2.1e1],
    ])('refuses %s like 21', async (_, limit) => {
      const { handler } = handlerWith();
      const client = await clientFor(handler, analyst, era);
      const refused = await refusal(
        client.callTool({ name: 'query_customer_data', arguments: { limit } }),
      );
      expect(refused?.data).toMatchObject({ deniedBy: ['analyst-page-limit'] });
    });

    it('never runs the tool on a number sent as a string: its schema refuses it first', async () => {
      // Prepare
      const { handler } = handlerWith();
      const client = await clientFor(handler, analyst, era);

      // Act
      const result = await client
        .callTool({ name: 'query_customer_data', arguments: { limit: '30' } })
        .catch((error: { code?: number }) => ({ isError: true, code: error.code }));

      // Assess
      expect(result.isError).toBe(true);
      expect(lastAudit()?.[AUDIT_FIELDS.status]).toBe(TOOL_CALL_STATUS.invalid);
    });
  });

  describe('string sets', () => {
    it('refuses suspending an enterprise account', async () => {
      const { handler } = handlerWith();
      const client = await clientFor(handler, admin, era);
      const refused = await refusal(
        client.callTool({
          name: 'put_record',
          arguments: putArgs({ segment: 'enterprise', status: 'suspended' }),
        }),
      );
      expect(refused?.data).toMatchObject({ deniedBy: ['enterprise-accounts-stay-open'] });
    });

    it('lets an active enterprise account be written', async () => {
      const { handler } = handlerWith();
      const client = await clientFor(handler, admin, era);
      const result = await client.callTool({
        name: 'put_record',
        arguments: putArgs({ segment: 'enterprise', status: 'active' }),
      });
      expect(result.isError).toBeFalsy();
    });

    it.each([
      ['another case', { segment: 'Enterprise', status: 'suspended' }],
      ['a look-alike letter (Cyrillic і)', { segment: 'enterprіse', status: 'suspended' }],
      ['a trailing space', { segment: 'enterprise ', status: 'suspended' }],
      ['an extra property', { segment: 'enterprise', status: 'suspended', Segment: 'retail' }],
    ])(
      'never writes a variant slipped past the rule: %s is refused by the schema',
      async (_, args) => {
        // Prepare
        const { handler } = handlerWith();
        const client = await clientFor(handler, admin, era);

        // Act
        const result = await client
          .callTool({ name: 'put_record', arguments: putArgs(args) })
          .catch(() => ({ isError: true }));

        // Assess: refused as invalid; no record was written.
        expect(result.isError).toBe(true);
        expect(lastAudit()?.[AUDIT_FIELDS.status]).toBe(TOOL_CALL_STATUS.invalid);
      },
    );
  });

  describe('decimals', () => {
    it('refuses a balance over the bound unless an admin signed in writes it', async () => {
      const { handler } = handlerWith();
      const client = await clientFor(
        handler,
        { ...admin, authMethod: 'api_key', keyId: 'k1' },
        era,
      );
      const refused = await refusal(
        client.callTool({ name: 'put_record', arguments: putArgs({ balance: 1000000.01 }) }),
      );
      expect(refused?.data).toMatchObject({ deniedBy: ['big-balances-need-admin'] });
    });

    it('refuses a number with more places than Cedar holds rather than round it', async () => {
      // Prepare: rounded to four places, 1000000.00001 would pass the rule as 1000000.0.
      const { handler } = handlerWith();
      const client = await clientFor(handler, analyst, era);

      // Act
      const refused = await refusal(
        client.callTool({ name: 'put_record', arguments: putArgs({ balance: 1000000.00001 }) }),
      );

      // Assess: analysts may not write at all; admins get the refusal below.
      expect(refused?.code).toBe(PERMISSION_DENIED_CODE);
      const asAdmin = await clientFor(handlerWith().handler, admin, era);
      const unrepresentable = await refusal(
        asAdmin.callTool({ name: 'put_record', arguments: putArgs({ balance: 1000000.00001 }) }),
      );
      expect(unrepresentable?.code).toBe(INVALID_PARAMS_CODE);
      expect(unrepresentable?.data).toMatchObject({ ruleError: 'UnrepresentableInput' });
      expect(lastAudit()).toMatchObject({
        [AUDIT_FIELDS.status]: TOOL_CALL_STATUS.invalid,
        [AUDIT_FIELDS.ruleError]: 'UnrepresentableInput',
      });
    });
  });

  describe('principal attributes', () => {
    it('reads a claim the authorizer handed on: sales sees Germany only', async () => {
      // Prepare
      const { handler } = handlerWith();
      const client = await clientFor(handler, salesAnalyst, era);

      // Act
      const everywhere = await refusal(
        client.callTool({ name: 'query_customer_data', arguments: { limit: 5 } }),
      );
      const germany = await client.callTool({
        name: 'query_customer_data',
        arguments: { limit: 5, country: 'DE' },
      });

      // Assess
      expect(everywhere?.data).toMatchObject({ deniedBy: ['sales-sees-germany'] });
      expect(germany.isError).toBeFalsy();
    });

    it('lets a caller without the claim through that rule', async () => {
      const { handler } = handlerWith();
      const client = await clientFor(handler, analyst, era);
      const result = await client.callTool({
        name: 'query_customer_data',
        arguments: { limit: 5 },
      });
      expect(result.isError).toBeFalsy();
    });
  });

  describe('time', () => {
    it('refuses writes after 20:00 UTC and allows them before', async () => {
      // Prepare
      const late = await clientFor(
        handlerWith({ now: new Date('2027-03-01T20:30:00Z') }).handler,
        admin,
        era,
      );
      const early = await clientFor(
        handlerWith({ now: new Date('2027-03-01T19:59:00Z') }).handler,
        admin,
        era,
      );

      // Act
      const refused = await refusal(late.callTool({ name: 'put_record', arguments: putArgs() }));
      const allowed = await early.callTool({ name: 'put_record', arguments: putArgs() });

      // Assess
      expect(refused?.data).toMatchObject({ deniedBy: ['no-writes-after-hours'] });
      expect(allowed.isError).toBeFalsy();
    });
  });

  describe('resources, prompts and completions', () => {
    it('narrows a prompt the roles allow to the callers a permit rule names', async () => {
      // Prepare: readonly may get customer_summary by its role; the permit names staff only.
      const { handler } = handlerWith();
      const asReadonly = await clientFor(handler, readonly, era);
      const asAnalyst = await clientFor(handler, analyst, era);

      // Act
      const refused = await refusal(
        asReadonly.getPrompt({ name: 'customer_summary', arguments: { id: 'cust-0001' } }),
      );
      const got = await asAnalyst.getPrompt({
        name: 'customer_summary',
        arguments: { id: 'cust-0001' },
      });

      // Assess
      expect(refused?.code).toBe(PERMISSION_DENIED_CODE);
      expect(refused?.message).toMatch(/no rule permits prompt 'customer_summary'/);
      expect(refused?.data).toEqual({
        prompt: 'customer_summary',
        deniedBy: ['summaries-for-staff'],
      });
      expect(got.messages.length).toBeGreaterThan(0);
    });

    it("judges a resource template's variables", async () => {
      const { handler } = handlerWith();
      const client = await clientFor(handler, analyst, era);
      const refused = await refusal(
        client.readResource({ uri: 'customers://segments/enterprise/summary' }),
      );
      const retail = await client.readResource({ uri: 'customers://segments/retail/summary' });
      expect(refused?.data).toMatchObject({
        resource: 'segment_summary',
        deniedBy: ['enterprise-summary-for-admins'],
      });
      expect(retail.contents.length).toBe(1);
    });

    it("judges a completion's argument, and audits the refusal", async () => {
      const { handler } = handlerWith();
      const client = await clientFor(handler, analyst, era);
      const refused = await refusal(
        client.complete({
          ref: { type: 'ref/prompt', name: 'segment_review' },
          argument: { name: 'segment', value: 'ent' },
        }),
      );
      const completed = await client.complete({
        ref: { type: 'ref/prompt', name: 'segment_review' },
        argument: { name: 'segment', value: 're' },
      });
      expect(refused?.data).toMatchObject({ deniedBy: ['no-enterprise-completion'] });
      expect(lastAudit()).toMatchObject({
        [AUDIT_FIELDS.event]: AUDIT_EVENTS.completion,
        [AUDIT_FIELDS.ruleIds]: ['no-enterprise-completion'],
      });
      expect(completed.completion.values).toEqual(['retail']);
    });
  });
});

describe.each(ERAS)('MCP %s, log-only mode', (era) => {
  it('runs a call the rules deny and records it as a would-be denial', async () => {
    // Prepare
    const { handler } = handlerWith({ mode: 'log-only' });
    const client = await clientFor(handler, analyst, era);

    // Act
    const result = await client.callTool({ name: 'query_customer_data', arguments: { limit: 30 } });

    // Assess
    expect(result.isError).toBeFalsy();
    expect(lastAudit()).toMatchObject({
      [AUDIT_FIELDS.status]: TOOL_CALL_STATUS.success,
      [AUDIT_FIELDS.ruleVerdict]: 'would_deny',
      [AUDIT_FIELDS.ruleIds]: ['analyst-page-limit'],
    });
  });

  it('records a would-be denial of a completion, which is otherwise not audited', async () => {
    const { handler } = handlerWith({ mode: 'log-only' });
    const client = await clientFor(handler, analyst, era);
    const completed = await client.complete({
      ref: { type: 'ref/prompt', name: 'segment_review' },
      argument: { name: 'segment', value: 'ent' },
    });
    expect(completed.completion.values).toEqual(['enterprise']);
    expect(lastAudit()).toMatchObject({
      [AUDIT_FIELDS.event]: AUDIT_EVENTS.completion,
      [AUDIT_FIELDS.ruleVerdict]: 'would_deny',
    });
  });
});

describe('the audit record of a denial', () => {
  it('names the rules and never the arguments', async () => {
    // Prepare
    const { handler } = handlerWith();
    const client = await clientFor(handler, admin, '2026-07-28');
    const secret = 'Very Secret Corp';

    // Act
    await refusal(
      client.callTool({
        name: 'put_record',
        arguments: putArgs({ name: secret, segment: 'enterprise', status: 'closed' }),
      }),
    );

    // Assess
    expect(lastAudit()?.[AUDIT_FIELDS.ruleIds]).toEqual(['enterprise-accounts-stay-open']);
    expect(logs.lines.join('\n')).not.toContain(secret);
  });
});

describe('failing closed', () => {
  const broken: CedarLoader = async () => {
    throw new Error('Cannot find module @cedar-policy/cedar-wasm/nodejs');
  };

  it.each<RuleMode>(['enforce', 'log-only'])(
    'refuses with 503 and -32603 when Cedar cannot be loaded (%s), and audits it',
    async (mode) => {
      // Prepare
      const { handler } = handlerWith({ mode, loadCedar: broken });
      const fetch = handlerFetch(handler, () => analyst);

      // Act
      const response = await fetch('https://mcp.example.com/mcp', {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          Accept: 'application/json, text/event-stream',
          'MCP-Protocol-Version': '2025-11-25',
        },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 7,
          method: 'tools/call',
          params: { name: 'query_customer_data', arguments: { limit: 5 } },
        }),
      });

      // Assess
      expect(response.status).toBe(503);
      expect(await response.json()).toMatchObject({
        id: 7,
        error: {
          code: JSONRPC.internalError,
          data: { tool: 'query_customer_data', ruleError: 'CedarUnavailable' },
        },
      });
      expect(lastAudit()).toMatchObject({
        [AUDIT_FIELDS.status]: TOOL_CALL_STATUS.error,
        [AUDIT_FIELDS.errorType]: 'RuleError',
        [AUDIT_FIELDS.ruleError]: 'CedarUnavailable',
      });
    },
  );

  it('refuses when a rule raises an error, which Cedar alone would skip (a forbid that overflows)', async () => {
    // Prepare: Cedar skips a policy whose evaluation errs; a skipped forbid would allow.
    const module = {
      ...fixtureModule,
      rules: `@id("overflow") forbid (principal, ${QUERY}, resource) when { context.input.limit * 9223372036854775807 > 0 };`,
    } as McpModule;
    const { handler } = handlerWith({ module });
    const client = await clientFor(handler, admin, '2026-07-28');

    // Act
    const refused = await refusal(
      client.callTool({ name: 'query_customer_data', arguments: { limit: 5 } }),
    );

    // Assess
    expect(refused).toBeDefined();
    expect(lastAudit()).toMatchObject({
      [AUDIT_FIELDS.status]: TOOL_CALL_STATUS.error,
      [AUDIT_FIELDS.ruleError]: 'RuleFailed',
      [AUDIT_FIELDS.ruleIds]: ['overflow'],
    });
  });
});

describe('an item whose arguments the rules could not read', () => {
  it("never runs: the record stops the item's code should the SDK let it through", () => {
    // Prepare: arguments the item's schema refuses, which the rules therefore never judged.
    const call = new CallRecord(
      { kind: 'tool', requested: 'query_customer_data', args: { limit: '30' } },
      'modern',
      undefined,
    );
    call.holdForRules();

    // Act and Assess
    expect(() => call.ran()).toThrow(UncheckedRulesError);
    expect(call.hasRun).toBe(false);
  });
});

describe('rules and quotas', () => {
  it('refuses by rule before the quota counts: a refused call spends none of it', async () => {
    // Prepare: a quota of two queries, and a handler that judges the rules first.
    const counter = new MemoryQuotaCounter();
    const handler = createMcpHandler({
      config: { allowedOrigins: [], maxBodyBytes: 1024 * 1024 },
      policy: POLICY,
      modules: [{ module: ruled, deps: { store: new MemoryFixtureStore() } }],
      logger,
      now: () => new Date('2027-03-01T10:00:00Z'),
      quotas: createQuotaGate({
        table: buildQuotaTable(
          [{ id: 'two-queries', tool: 'query_customer_data', limit: 2, windowSeconds: 3600 }],
          POLICY,
        ),
        counter,
      }),
    });
    const client = await clientFor(handler, analyst, '2026-07-28');

    // Act: three refused by the rule, then two within the quota.
    for (let i = 0; i < 3; i++) {
      await refusal(client.callTool({ name: 'query_customer_data', arguments: { limit: 30 } }));
    }
    const first = await client.callTool({ name: 'query_customer_data', arguments: { limit: 5 } });
    const second = await client.callTool({ name: 'query_customer_data', arguments: { limit: 5 } });

    // Assess
    expect(first.isError).toBeFalsy();
    expect(second.isError).toBeFalsy();
    const statuses = audits().map((record) => record[AUDIT_FIELDS.status]);
    expect(statuses).toEqual(['denied', 'denied', 'denied', 'success', 'success']);
  });
});

describe('loading Cedar', () => {
  it('never loads it for a deployment without rules', async () => {
    // Prepare
    const { handler, load } = handlerWith({
      module: { ...fixtureModule, rules: undefined } as McpModule,
    });
    const client = await clientFor(handler, admin, '2026-07-28');

    // Act
    await client.callTool({ name: 'query_customer_data', arguments: { limit: 50 } });

    // Assess
    expect(load).not.toHaveBeenCalled();
    expect(lastAudit()?.[AUDIT_FIELDS.ruleVerdict]).toBeUndefined();
  });

  it('loads it only for an item a rule names, and once per instance', async () => {
    // Prepare
    const { handler, load } = handlerWith();
    const client = await clientFor(handler, admin, '2026-07-28');

    // Act
    await client.callTool({ name: 'get_record', arguments: { id: 'cust-0001' } });
    const afterUnruled = load.mock.calls.length;
    for (let i = 0; i < 3; i++) {
      await client.callTool({ name: 'query_customer_data', arguments: { limit: 5 } });
    }

    // Assess
    expect(afterUnruled).toBe(0);
    expect(load).toHaveBeenCalledTimes(1);
  });
});
