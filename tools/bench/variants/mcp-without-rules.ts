/**
 * Bench-only variant of the MCP Lambda entry: the deployment's modules with their argument
 * rules taken out, the same bundle otherwise. Beside the deployed bundle it shows what the
 * rules cost a call they judge (Cedar loaded on the first, a decision on each); without rules
 * the handler never loads Cedar.
 */
import { lambdaHandlerFor } from '../../../lambda/mcp/lambda-entry';
import { MODULES } from '../../../modules/index';
import { POLICY } from '../../../modules/policy';

export const handler = lambdaHandlerFor(
  MODULES.map((module) => ({ ...module, rules: undefined })),
  POLICY,
);
