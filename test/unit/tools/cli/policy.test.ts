/**
 * `npm run policy`: check the rules as cdk synth does, print their schema, export them for
 * AgentCore Policy, saying on stderr what cannot be carried over.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { type McpModule, moduleKit } from '../../../../lambda/mcp/module-kit';
import { buildPolicyTable } from '../../../../lambda/shared/policy';
import { UsageError } from '../../../../tools/cli/common';
import { type PolicyInputs, runPolicy } from '../../../../tools/cli/policy';
import { FIXTURE_ROLES, FIXTURE_RULES, fixtureModule } from '../../../support/fixture-deployment';

/** A second module, without rules: one tool. */
const define = moduleKit<undefined>();
const other = define.module({
  name: 'other',
  permissions: { ping: 'Ping' },
  tools: [
    define.tool({
      name: 'ping',
      title: 'Ping',
      description: 'Answers pong.',
      permission: 'ping',
      annotations: { readOnlyHint: true },
      input: z.object({}),
      output: z.object({ pong: z.boolean() }),
      run: async () => ({ pong: true }),
      summarize: () => 'pong',
    }),
  ],
  dependencies: () => undefined,
});
const ROLES = { ...FIXTURE_ROLES, pinger: ['ping'] };

/** The fixture module with rules (its own, or these) beside one without, under test roles. */
const inputsWith = (module: McpModule): PolicyInputs => {
  const modules = [module, other];
  return { modules, policy: buildPolicyTable({ roles: ROLES, modules }), claims: [] };
};
const withRules = (rules: string): PolicyInputs =>
  inputsWith({ ...fixtureModule, rules } as McpModule);
const deployed = withRules(FIXTURE_RULES);

describe('policy check', () => {
  it('passes rules that validate, naming the modules that have any', () => {
    expect(runPolicy(['check'], deployed)).toEqual({
      stdout: 'The rules of fixture-records validate.\n',
      stderr: '',
      exitCode: 0,
    });
  });

  it('fails with every problem, located, on stderr', () => {
    const result = runPolicy(
      ['check'],
      withRules(
        '@id("typo") forbid (principal, action == Mcp::Action::"tool:get_record", resource) when { context.input.idd == "x" };',
      ),
    );
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(
      /^- module fixture-records, rule "typo", line 1 of its rules: .*did you mean `id`/,
    );
  });

  it('checks tags against --claims', () => {
    const rules =
      '@id("dept") forbid (principal, action == Mcp::Action::"tool:get_record", resource) when { principal.hasTag("dept") };';
    expect(runPolicy(['check'], withRules(rules)).exitCode).toBe(1);
    expect(runPolicy(['check', '--claims', 'dept'], withRules(rules)).exitCode).toBe(0);
  });
});

describe('policy schema', () => {
  it('prints the Cedar schema the rules are written against', () => {
    const { stdout } = runPolicy(['schema'], deployed);
    expect(stdout).toMatch(/namespace Mcp \{/);
    expect(stdout).toMatch(/action "tool:query_customer_data" appliesTo/);
  });

  it("prints AgentCore Policy's schema for a target", () => {
    const { stdout } = runPolicy(['schema', '--agentcore', 'Records', '--json'], deployed);
    expect(JSON.parse(stdout).AgentCore.actions).toHaveProperty('Records___query_customer_data');
  });
});

describe('policy export --agentcore', () => {
  it('writes the rules and roles in AgentCore names and warns about the placeholder ARN', () => {
    // Act
    const result = runPolicy(
      ['export', '--agentcore', 'Records', '--module', 'fixture-records'],
      deployed,
    );

    // Assess
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('AgentCore::Action::"Records___query_customer_data"');
    expect(result.stdout).not.toContain('Records___ping');
    expect(result.stderr).toMatch(/warning: the policies name arn:aws:bedrock-agentcore:REGION/);
  });

  it('warns on stderr about each rule it cannot carry over', () => {
    const result = runPolicy(
      [
        'export',
        '--agentcore',
        'Records',
        '--gateway-arn',
        'arn:aws:bedrock-agentcore:eu-west-1:1:gateway/g',
      ],
      withRules(
        '@id("summaries") forbid (principal, action == Mcp::Action::"prompt:customer_summary", resource) when { context.input.id == "cust-0001" };',
      ),
    );
    expect(result.stderr).toMatch(
      /warning: not carried over: fixture-records rule summaries: it names only prompt:customer_summary: AgentCore Policy governs tools only/,
    );
    expect(result.stderr).not.toMatch(/REGION/);
  });

  it('exports nothing from rules that do not validate', () => {
    const result = runPolicy(
      ['export', '--agentcore', 'Records'],
      withRules('@id("x") forbid (principal, action == Mcp::Action::"tool:nope", resource);'),
    );
    expect(result).toMatchObject({ exitCode: 1, stdout: '' });
    expect(result.stderr).toMatch(/nothing was exported/);
  });

  it('needs a target name', () => {
    expect(() => runPolicy(['export'], deployed)).toThrow(UsageError);
  });
});

describe('npm run policy', () => {
  it("runs as a command on the deployment's modules, writing the export to --out", async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'mcp-policy-'));
    const out = join(dir, 'agentcore.cedar');
    try {
      // Act
      const { stderr } = await promisify(execFile)(process.execPath, [
        '--import',
        'tsx',
        'tools/cli/policy.ts',
        'export',
        '--agentcore',
        'CustomerRecords',
        '--out',
        out,
      ]);

      // Assess
      expect(stderr).toMatch(/wrote \d+ policies to/);
      expect(readFileSync(out, 'utf8')).toContain('@id("analyst-page-limit")');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('policy roles', () => {
  it('prints the role table of the deployment it is given: a column per role, a row per item', () => {
    // Act
    const result = runPolicy(['roles'], deployed);

    // Assess
    const [header, , ...rows] = result.stdout.trimEnd().split('\n');
    expect(result.exitCode).toBe(0);
    expect(header).toBe(`| Item | Kind | Needs permission | ${Object.keys(ROLES).join(' | ')} |`);
    expect(rows).toContain(
      `| \`ping\` | tool | \`ping\` | ${Object.keys(ROLES)
        .map((role) => (role === 'pinger' ? 'yes' : '—'))
        .join(' | ')} |`,
    );
    expect(rows).toHaveLength(
      Object.values(deployed.policy.items).reduce((sum, items) => sum + items.length, 0),
    );
  });
});
