/**
 * The deployment `npm run verify` is tested against: the deployment's own modules plus
 * diagnostics (`stream_check`), with the deployment's roles and `diagnostics` granted to
 * admin, as a team serving the diagnostics module would configure it. One value for the stack
 * (`startTestGateway`'s `mcp.modules`) and the MCP function (`server-entry.ts`).
 */

import { buildPolicyTable } from '../../../lambda/shared/policy';
import type { ModuleInfra } from '../../../lib/module-infra';
import { diagnostics } from '../../../modules/diagnostics/module';
import { MODULES } from '../../../modules/index';
import { MODULE_INFRA } from '../../../modules/infra';
import { ROLE_PERMISSIONS } from '../../../modules/roles';

export const VERIFY_MODULES = {
  list: [...MODULES, diagnostics],
  infra: { ...MODULE_INFRA, diagnostics: null } as Readonly<Record<string, ModuleInfra>>,
  roles: {
    ...ROLE_PERMISSIONS,
    admin: [...ROLE_PERMISSIONS.admin, 'diagnostics'],
  } as Readonly<Record<string, readonly string[]>>,
};

export const VERIFY_POLICY = buildPolicyTable({
  roles: VERIFY_MODULES.roles,
  modules: VERIFY_MODULES.list,
});
