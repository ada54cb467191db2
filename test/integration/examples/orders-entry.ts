/**
 * The MCP Lambda's entry for the deployment `own-module.test.ts` models: the project's modules
 * and the example orders module, under roles that grant `read_orders` to a clerk. What
 * `lambda/mcp/index.ts` would be once `modules/index.ts` and `modules/roles.ts` list them;
 * bundled and run by the local emulator exactly as that one.
 */
import { orders } from '../../../examples/orders-module/module';
import { lambdaHandlerFor } from '../../../lambda/mcp/lambda-entry';
import { buildPolicyTable } from '../../../lambda/shared/policy';
import { MODULES } from '../../../modules/index';
import { ORDERS_ROLES } from './orders-roles';

const modules = [...MODULES, orders];

export const handler = lambdaHandlerFor(
  modules,
  buildPolicyTable({ roles: ORDERS_ROLES, modules }),
);
