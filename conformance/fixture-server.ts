/**
 * The deployment that serves the conformance fixture: the MCP function's code from
 * `fixture-entry.ts`, and the stack given the fixture's module (no AWS access) and role, so
 * the Cognito group and permission scope exist as for any module. For the local gateway's
 * `mcp` option.
 */
import { fileURLToPath } from 'node:url';
import type { LocalGatewayOptions } from '../tools/local/gateway';
import { CONFORMANCE_ROLES, conformanceFixture } from './fixture-module';

export const FIXTURE_MCP: NonNullable<LocalGatewayOptions['mcp']> = {
  entry: fileURLToPath(new URL('./fixture-entry.ts', import.meta.url)),
  modules: {
    list: [conformanceFixture],
    infra: { [conformanceFixture.name]: null },
    roles: CONFORMANCE_ROLES,
  },
};
