/**
 * Lambda entry point of the MCP server: the modules this deployment lists (`modules/index.ts`)
 * under the deployment's policy.
 */
import { MODULES } from '../../modules/index';
import { POLICY } from '../../modules/policy';
import { lambdaHandlerFor } from './lambda-entry';

export const handler = lambdaHandlerFor(MODULES, POLICY);
