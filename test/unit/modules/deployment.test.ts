/**
 * This project's deployment as `modules/` lists it: whatever modules and roles it names, its
 * policy table is built from exactly them, its argument rules validate, its quotas name what
 * exists, and its rules export to AgentCore Policy with nothing left behind. These hold for any
 * deployment, so adding a module or a role keeps them passing (core tests run on the fixture
 * deployment in `test/support/` instead).
 */
import { describe, expect, it } from 'vitest';
import { destructiveToolNames } from '../../../lambda/mcp/module-loader';
import { buildQuotaTable } from '../../../lambda/shared/quota';
import { exportToAgentCore } from '../../../lib/agentcore-export';
import { rulesProblems } from '../../../lib/rules-validation';
import { MODULES } from '../../../modules/index';
import { MODULE_INFRA } from '../../../modules/infra';
import { POLICY } from '../../../modules/policy';
import { QUOTA_RULES } from '../../../modules/quotas';
import { ROLE_PERMISSIONS, ROLES } from '../../../modules/roles';

describe('the deployment policy (modules/policy.ts)', () => {
  it('grants each role exactly the permissions modules/roles.ts says', () => {
    expect(POLICY.roles).toEqual(ROLE_PERMISSIONS);
    expect(Object.keys(POLICY.roles)).toEqual(ROLES);
  });

  it('holds every tool, resource, template and prompt of the listed modules, with its permission', () => {
    // Prepare
    const declared = MODULES.flatMap((module) =>
      (
        [
          ['tool', module.tools],
          ['resource', module.resources],
          ['resourceTemplate', module.resourceTemplates],
          ['prompt', module.prompts],
        ] as const
      ).flatMap(([kind, items]) =>
        (items ?? []).map((item) => `${module.name} ${kind}:${item.name}=${item.permission}`),
      ),
    );

    // Act
    const held = Object.values(POLICY.items)
      .flat()
      .map((item) => `${item.module} ${item.kind}:${item.name}=${item.permission}`);

    // Assess
    expect(declared.length).toBeGreaterThan(0);
    expect(held.sort()).toEqual(declared.sort());
  });

  it('names an AWS access entry for every listed module, and none for a module not listed', () => {
    expect(Object.keys(MODULE_INFRA).sort()).toEqual(MODULES.map((module) => module.name).sort());
  });
});

describe("the deployment's rules and quotas", () => {
  it('validate against the schema generated from the modules, as cdk synth demands', () => {
    expect(rulesProblems([...MODULES], { roles: ROLES, claims: [] })).toEqual([]);
  });

  it('name only tools and permissions the modules have', () => {
    expect(() => buildQuotaTable(QUOTA_RULES, POLICY, destructiveToolNames(MODULES))).not.toThrow();
  });

  it('export to AgentCore Policy whole: every rule of every module, and the roles', () => {
    // Prepare
    const ruleIds = MODULES.flatMap((module) =>
      [...(module.rules ?? '').matchAll(/@id\("([^"]+)"\)/g)].map(([, id]) => id as string),
    );

    // Act
    const deployed = exportToAgentCore([...MODULES], { target: 'Deployment', roles: POLICY });

    // Assess
    expect(deployed.notCarried).toEqual([]);
    expect(deployed.policies.map((policy) => policy.id)).toEqual(
      expect.arrayContaining([...ruleIds, 'mcp:roles']),
    );
  });
});
