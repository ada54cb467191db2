/**
 * `npm run policy -- export --agentcore`: the rules in AgentCore Policy's names validate
 * against the schema written from AgentCore's documentation, decide every request as this
 * server decides it, and what cannot be carried over is said, never dropped silently.
 */
import type * as CedarWasm from '@cedar-policy/cedar-wasm/nodejs';
import { describe, expect, it } from 'vitest';
import { CallRecord } from '../../../lambda/mcp/call-record';
import type { McpModule } from '../../../lambda/mcp/module-kit';
import { createRules, loadCedar } from '../../../lambda/mcp/rules';
import { toCedarValue } from '../../../lambda/mcp/rules-schema';
import { createLogger } from '../../../lambda/shared/logger';
import {
  buildPolicyTable,
  decide,
  effectivePermissions,
  findItem,
} from '../../../lambda/shared/policy';
import type { Principal } from '../../../lambda/shared/principal';
import {
  AgentCoreExportError,
  exportText,
  exportToAgentCore,
  PLACEHOLDER_GATEWAY_ARN,
} from '../../../lib/agentcore-export';
import {
  agentCoreInputType,
  agentCoreSchema,
  resourceScopeProblem,
} from '../../../lib/agentcore-schema';
import { cedarTools } from '../../../lib/rules-validation';
import { FIXTURE_ROLES, FIXTURE_RULES, fixtureModule } from '../../support/fixture-deployment';

const TARGET = 'CustomerRecords';
const GATEWAY = 'arn:aws:bedrock-agentcore:eu-west-1:123456789012:gateway/records-gw-a1b2c3';
const cedar = cedarTools() as unknown as typeof CedarWasm;

/** The fixture's rules, and one of each shape the exporter translates. */
const EXTRA = `
@id("sales-sees-germany")
forbid (principal, action == Mcp::Action::"tool:query_customer_data", resource)
when { principal.hasTag("custom:department") && principal.getTag("custom:department") == "sales" }
unless { context.input has country && context.input.country == "DE" };

@id("openid-reads-only-by-id")
forbid (principal, action in [Mcp::Action::"tool:query_customer_data", Mcp::Action::"prompt:customer_summary"], resource)
when { principal.scopes.contains("openid") && context.input.limit > 40 };

@id("reports-by-segment-for-staff")
permit (principal, action == Mcp::Action::"tool:run_report", resource)
when { principal.groups.containsAny(["admin", "analyst"]) && context.input.group_by == "segment" };

@id("no-writes-after-hours")
forbid (principal, action == Mcp::Action::"tool:put_record", resource)
when { context.system.now.toTime() >= duration("20h") };

@id("enterprise-summary-for-admins")
forbid (principal, action == Mcp::Action::"resource:segment_summary", resource)
when { context.input.segment == "enterprise" };
`;
const module = { ...fixtureModule, rules: `${FIXTURE_RULES}${EXTRA}` } as McpModule;
const modules = [module];
/** The fixture's roles over the module. */
const POLICY = buildPolicyTable({ roles: FIXTURE_ROLES, modules });

const exported = exportToAgentCore(modules, {
  target: TARGET,
  gatewayArn: GATEWAY,
  roles: POLICY,
  cedar: cedarTools,
});

describe('the schema written from AgentCore Policy documentation', () => {
  const schema = agentCoreSchema(modules, TARGET).AgentCore;

  it('has the documented principal, resource and action names', () => {
    expect(Object.keys(schema.entityTypes)).toEqual(['OAuthUser', 'Gateway']);
    expect(schema.entityTypes.OAuthUser).toEqual({
      shape: { type: 'Record', attributes: { id: { type: 'String', required: true } } },
      tags: { type: 'String' },
    });
    expect(Object.keys(schema.actions)).toContain('CustomerRecords___query_customer_data');
    expect(schema.actions.CustomerRecords___query_customer_data).toMatchObject({
      memberOf: [{ id: 'CallTool' }],
      appliesTo: { principalTypes: ['OAuthUser'], resourceTypes: ['Gateway'] },
    });
  });

  it('types context.input from the published input schema: a defaulted argument is optional', () => {
    const input = agentCoreInputType(fixtureModule.tools?.[1]?.input as never);
    expect(input.attributes.limit).toEqual({ type: 'Long', required: false });
    expect(input.attributes.max_balance).toEqual({
      type: 'Extension',
      name: 'decimal',
      required: false,
    });
  });

  it('gives rules nothing but context.input (no time)', () => {
    const context = (
      schema.actions.CustomerRecords___put_record as {
        appliesTo: { context: { attributes: Record<string, unknown> } };
      }
    ).appliesTo.context.attributes;
    expect(Object.keys(context)).toEqual(['input']);
  });
});

describe('the export', () => {
  it('validates, strictly, against the schema written from AgentCore Policy documentation', () => {
    // Act
    const answer = cedar.validate({
      schema: agentCoreSchema(modules, TARGET) as never,
      policies: {
        staticPolicies: Object.fromEntries(exported.policies.map((p) => [p.id, p.text])),
      },
      validationSettings: { mode: 'strict' },
    });

    // Assess
    expect(answer).toMatchObject({
      type: 'success',
      validationErrors: [],
      validationWarnings: [],
    });
  });

  it('names the gateway in every policy as AgentCore demands for named actions', () => {
    for (const policy of exported.policies) {
      const json = cedar.policyToJson(policy.text);
      if (json.type !== 'success') throw new Error(policy.text);
      expect(resourceScopeProblem(json.json as never)).toBeUndefined();
    }
  });

  it("carries the roles: AgentCore denies by default, so each permission is a forbid unless the caller's groups grant it", () => {
    const roles = exported.policies.find((policy) => policy.id === 'roles:write_data');
    expect(roles?.text).toContain(
      'forbid(principal, action in [AgentCore::Action::"CustomerRecords___put_record"]',
    );
    expect(roles?.text).toContain('unless { principal.hasTag("cognito:groups")');
    expect(roles?.text).toContain('like "*\\"admin\\"*"');
  });

  it('writes a defaulted argument as this server sees it: the default when the caller left it out', () => {
    const limit = exported.policies.find((policy) => policy.id === 'analyst-page-limit');
    expect(limit?.text).toContain(
      '(if context.input has limit then context.input.limit else 10) > 20',
    );
  });

  it('lists what cannot be carried over instead of dropping it', () => {
    expect(exported.notCarried).toEqual([
      expect.objectContaining({
        rule: 'openid-reads-only-by-id',
        dropped: 'actions',
        reason: expect.stringMatching(
          /prompt:customer_summary, which AgentCore Policy does not govern/,
        ),
      }),
      expect.objectContaining({
        rule: 'no-writes-after-hours',
        dropped: 'rule',
        reason: expect.stringMatching(
          /context\.system: AgentCore Policy gives rules context\.input only/,
        ),
      }),
      expect.objectContaining({
        rule: 'enterprise-summary-for-admins',
        dropped: 'rule',
        reason: expect.stringMatching(/AgentCore Policy governs tools only/),
      }),
    ]);
    const text = exportText(exported, { target: TARGET, gatewayArn: GATEWAY });
    expect(text).toMatch(/NOT CARRIED: fixture-records rule no-writes-after-hours/);
  });

  it('puts a placeholder for the gateway ARN when none is given, and says so', () => {
    const withoutArn = exportToAgentCore([fixtureModule], { target: TARGET });
    expect(withoutArn.policies[0]?.text).toContain(PLACEHOLDER_GATEWAY_ARN);
    expect(exportText(withoutArn, { target: TARGET })).toContain(
      `Replace ${PLACEHOLDER_GATEWAY_ARN}`,
    );
  });

  it('refuses a target name AgentCore would not accept', () => {
    expect(() => exportToAgentCore([fixtureModule], { target: 'records_target' })).toThrow(
      AgentCoreExportError,
    );
  });

  it('writes an open action with "resource is AgentCore::Gateway", and says it covered more here', () => {
    const open = exportToAgentCore(
      [
        {
          ...fixtureModule,
          rules:
            '@id("nobody-on-the-list") forbid (principal, action, resource) when { principal.id == "mallory" };',
        } as McpModule,
      ],
      { target: TARGET, gatewayArn: GATEWAY },
    );
    expect(open.policies[0]?.text).toContain('action, resource is AgentCore::Gateway');
    expect(open.notCarried[0]?.reason).toMatch(/resources, prompts and completions too/);
  });
});

describe('the export decides as this server does', () => {
  const rules = createRules(modules, { logger: createLogger('export-test'), loadCedar });
  const exportedSet = Object.fromEntries(exported.policies.map((p) => [p.id, p.text]));

  const person = (groups: string[], extra: Partial<Principal> = {}): Principal => ({
    principalId: `user-${groups.join('-') || 'none'}`,
    authMethod: 'cognito',
    groups,
    scopes: ['secure-mcp/tools'],
    keyId: '',
    ...extra,
  });

  /** Allowed by this server: the role gate, then the rules (the deployed path). */
  async function here(caller: Principal, tool: string, args: Record<string, unknown>) {
    const item = findItem(POLICY, 'tool', tool);
    const access = decide(item, effectivePermissions(POLICY, caller.groups, caller.scopes));
    if (!access.allowed) return false;
    const call = new CallRecord({ kind: 'tool', requested: tool, args }, 'modern', undefined);
    call.item = access.item;
    return (await rules.judge(call, caller)) === undefined;
  }

  /** Allowed by AgentCore: the request its documentation describes, against the export. */
  function there(caller: Principal, tool: string, args: Record<string, unknown>) {
    const input = agentCoreInputType(
      module.tools?.find((candidate) => candidate.name === tool)?.input as never,
    );
    const tags: Record<string, string> = {
      'cognito:groups': JSON.stringify(caller.groups),
      scope: caller.scopes.join(' '),
      ...caller.claims,
    };
    const answer = cedar.isAuthorized({
      principal: { type: 'AgentCore::OAuthUser', id: caller.principalId },
      action: { type: 'AgentCore::Action', id: `${TARGET}___${tool}` },
      resource: { type: 'AgentCore::Gateway', id: GATEWAY },
      context: { input: toCedarValue(input, args) } as never,
      policies: { staticPolicies: exportedSet },
      entities: [
        {
          uid: { type: 'AgentCore::OAuthUser', id: caller.principalId },
          attrs: { id: caller.principalId },
          parents: [],
          tags,
        },
      ],
    });
    if (answer.type !== 'success') throw new Error(JSON.stringify(answer.errors));
    expect(answer.response.diagnostics.errors).toEqual([]);
    return answer.response.decision === 'allow';
  }

  const put = (segment: string, status: string) => ({
    name: 'X',
    email: 'x@example.com',
    country: 'DE',
    segment,
    status,
    balance: 1,
  });

  it.each([
    ['an analyst, default page size', ['analyst'], {}, 'query_customer_data', {}, true],
    ['an analyst, 21 rows', ['analyst'], {}, 'query_customer_data', { limit: 21 }, false],
    ['an analyst, 20 rows', ['analyst'], {}, 'query_customer_data', { limit: 20 }, true],
    ['an admin, 50 rows', ['admin'], {}, 'query_customer_data', { limit: 50 }, true],
    ['a user with no role', [], {}, 'query_customer_data', {}, false],
    [
      'sales, everywhere',
      ['readonly'],
      { claims: { 'custom:department': 'sales' } },
      'query_customer_data',
      {},
      false,
    ],
    [
      'sales, in Germany',
      ['readonly'],
      { claims: { 'custom:department': 'sales' } },
      'query_customer_data',
      { country: 'DE' },
      true,
    ],
    [
      'an openid token, 45 rows',
      ['admin'],
      { scopes: ['openid', 'secure-mcp/tools'] },
      'query_customer_data',
      { limit: 45 },
      false,
    ],
    [
      'an admin suspending an enterprise',
      ['admin'],
      {},
      'put_record',
      put('enterprise', 'suspended'),
      false,
    ],
    [
      'an admin opening an enterprise',
      ['admin'],
      {},
      'put_record',
      put('enterprise', 'active'),
      true,
    ],
    ['an analyst writing', ['analyst'], {}, 'put_record', put('retail', 'active'), false],
    ['an analyst, report by segment (default)', ['analyst'], {}, 'run_report', {}, true],
    [
      'an analyst, report by country',
      ['analyst'],
      {},
      'run_report',
      { group_by: 'country' },
      false,
    ],
    ['a readonly user, report', ['readonly'], {}, 'run_report', {}, false],
  ] as const)('%s: the same answer', async (_, groups, extra, tool, args, allowed) => {
    // Prepare
    const caller = person([...groups], extra as Partial<Principal>);

    // Act
    const ours = await here(caller, tool, args);
    const theirs = there(caller, tool, args);

    // Assess
    expect(ours).toBe(allowed);
    expect(theirs).toBe(allowed);
  });
});
