/**
 * Lambda entry point of the MCP server.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { mcpEnvSchema, parseEnv } from '../shared/env';
import { createLogger } from '../shared/logger';
import { createMcpHandler } from './handler';
import { DynamoRecordStore } from './store/dynamodb-record-store';
import { CUSTOMER_TOOLS, createRegistry } from './tools/registry';

const env = parseEnv(mcpEnvSchema);

export const handler = createMcpHandler({
  config: { allowedOrigins: env.ALLOWED_ORIGINS, maxBodyBytes: env.MAX_BODY_BYTES },
  registry: createRegistry(CUSTOMER_TOOLS),
  store: new DynamoRecordStore(new DynamoDBClient({}), env.RECORDS_TABLE_NAME),
  logger: createLogger('mcp-server'),
});
