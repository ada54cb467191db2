/**
 * The MCP Lambda's entry when `npm run conformance` serves the fixture: the fixture module
 * under its own role, bundled and run by the local emulator exactly as `lambda/mcp/index.ts`
 * is for the deployment's modules. Never deployed.
 */
import { lambdaHandlerFor } from '../lambda/mcp/lambda-entry';
import { buildPolicyTable } from '../lambda/shared/policy';
import { CONFORMANCE_ROLES, conformanceFixture } from './fixture-module';

export const handler = lambdaHandlerFor(
  [conformanceFixture],
  buildPolicyTable({ roles: CONFORMANCE_ROLES, modules: [conformanceFixture] }),
);
