/**
 * The Express baseline as a Lambda entry point, wired like `lambda/mcp/index.ts`: bundled
 * with the same options for the cold-init comparison only. Never deployed.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoRecordStore } from '../../lambda/mcp/store/dynamodb-record-store';
import { CUSTOMER_TOOLS, createRegistry } from '../../lambda/mcp/tools/registry';
import { mcpEnvSchema, parseEnv } from '../../lambda/shared/env';
import { createLogger } from '../../lambda/shared/logger';
import { createExpressMcpHandler } from './express-baseline';

const env = parseEnv(mcpEnvSchema);

export const handler = createExpressMcpHandler({
  registry: createRegistry(CUSTOMER_TOOLS),
  store: new DynamoRecordStore(new DynamoDBClient({}), env.RECORDS_TABLE_NAME),
  logger: createLogger('mcp-server'),
});
