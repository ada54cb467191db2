/**
 * The deployment's policy table: its roles and its modules' items, checked once. The MCP
 * server, the CDK stack and the role table in `docs/authorization.md` all read this one value.
 */
import { buildPolicyTable } from '../lambda/shared/policy';
import { MODULES } from './index';
import { ROLE_PERMISSIONS } from './roles';

export const POLICY = buildPolicyTable({
  roles: ROLE_PERMISSIONS,
  modules: MODULES.map((module) => ({
    name: module.name,
    permissions: module.permissions,
    tools: module.tools,
    resources: module.resources,
    resourceTemplates: module.resourceTemplates,
    prompts: module.prompts,
  })),
});
