/**
 * The Express baseline as a Lambda entry point, wired like `lambda/mcp/index.ts` (the same
 * environment check, policy and modules, their clients built from the environment): bundled
 * with the same options for the cold-init comparison only. Never deployed.
 */
import { loadModules } from '../../lambda/mcp/module-loader';
import { mcpEnvSchema, parseEnv } from '../../lambda/shared/env';
import { createLogger } from '../../lambda/shared/logger';
import { MODULES } from '../../modules/index';
import { POLICY } from '../../modules/policy';
import { createExpressMcpHandler } from './express-baseline';

// Read for the same init work as the Lambda entry; the baseline has no Origin or size check.
parseEnv(mcpEnvSchema);

export const handler = createExpressMcpHandler({
  policy: POLICY,
  modules: loadModules(MODULES, process.env),
  logger: createLogger('mcp-server'),
});
