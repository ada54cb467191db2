/** The MCP function of the deployment `npm run verify` is tested against (`deployment.ts`). */
import { lambdaHandlerFor } from '../../../lambda/mcp/lambda-entry';
import { VERIFY_MODULES, VERIFY_POLICY } from './deployment';

export const handler = lambdaHandlerFor(VERIFY_MODULES.list, VERIFY_POLICY);
