/**
 * The MCP Lambda's handler for a list of modules and their policy: what `index.ts` exports for
 * the deployment's modules, and what a test's own entry exports for its modules (bundled and
 * run by the local emulator exactly as the deployed one). Module clients are built once per
 * instance from the environment their infrastructure set.
 */
import { KmsSealer } from '../oauth-proxy/kms-sealer';
import { DynamoApprovalStore } from '../shared/approvals';
import { DynamoDbClient } from '../shared/aws/dynamodb';
import { KmsClient } from '../shared/aws/kms';
import { ConfigurationError, mcpEnvSchema, parseEnv } from '../shared/env';
import { createLogger } from '../shared/logger';
import type { PolicyTable } from '../shared/policy';
import { type Approvals, createApprovals } from './approvals';
import { createMcpHandler } from './handler';
import { bufferedResult, type LambdaStreamingRuntime, streamingHandler } from './lambda-response';
import { loadModules, type McpModule } from './module';
import { DynamoRequestStateLedger, KmsRequestStateKeyRing } from './request-state-aws';

export function lambdaHandlerFor(modules: readonly McpModule[], policy: PolicyTable): unknown {
  const env = parseEnv(mcpEnvSchema);
  // In Lambda the runtime's `awslambda` is always there: answers stream (API Gateway's STREAM
  // transfer mode). Loaded anywhere else (a benchmark, a script), the same code answers
  // buffered. (Some libraries put an empty `awslambda` object on globalThis: look for the
  // function itself.)
  const runtime = (globalThis as { awslambda?: Partial<LambdaStreamingRuntime> }).awslambda;
  const streaming = typeof runtime?.streamifyResponse === 'function';
  const logger = createLogger('mcp-server');
  const loaded = loadModules(modules, process.env);
  const handle = createMcpHandler({
    config: {
      allowedOrigins: env.ALLOWED_ORIGINS,
      allowedHosts: env.ALLOWED_HOSTS.map((host) => host.toLowerCase()),
      maxBodyBytes: env.MAX_BODY_BYTES,
    },
    policy,
    modules: loaded,
    logger,
    approvals: approvalsFor(env, loaded, policy, logger),
    // Multi-round state every instance opens and spends alike (the stack names both; a key
    // without the table refuses to start).
    ...(env.REQUEST_STATE_KEY_ID === ''
      ? {}
      : { requestStateKey: new KmsRequestStateKeyRing(new KmsClient(), env.REQUEST_STATE_KEY_ID) }),
    ...(env.REQUEST_STATE_TABLE_NAME === ''
      ? {}
      : {
          requestStateLedger: new DynamoRequestStateLedger(
            new DynamoDbClient(),
            env.REQUEST_STATE_TABLE_NAME,
          ),
        }),
    // The padding is for an answer that streams; a buffered one leaves whole anyway.
    streamFlushBytes: streaming ? env.STREAM_FLUSH_BYTES : 0,
    // Step-up when the stack names the metadata (it always does; a bare function does not).
    ...(env.RESOURCE_METADATA_URL === ''
      ? {}
      : {
          stepUp: {
            audienceScope: env.REQUIRED_SCOPE,
            permissionScopes: env.PERMISSION_SCOPES,
            resourceMetadataUrl: () => env.RESOURCE_METADATA_URL,
          },
        }),
  });

  return streaming
    ? streamingHandler(handle, runtime as LambdaStreamingRuntime)
    : bufferedResult(handle);
}

/**
 * The deployment's approvals: the table, the key that seals tickets and the page's URL, all
 * three or none (then every call needing approval is refused).
 */
function approvalsFor(
  env: ReturnType<typeof parseEnv<typeof mcpEnvSchema>>,
  modules: Parameters<typeof createApprovals>[0],
  policy: PolicyTable,
  logger: ReturnType<typeof createLogger>,
): Approvals {
  const off = env.APPROVAL_OFF;
  const parts = [env.APPROVALS_TABLE_NAME, env.APPROVAL_TICKET_KEY_ID, env.APPROVAL_PAGE_URL];
  if (parts.every((part) => part === '')) return createApprovals(modules, { logger, off });
  if (parts.some((part) => part === '')) {
    throw new ConfigurationError(
      'Invalid environment: APPROVALS_TABLE_NAME, APPROVAL_TICKET_KEY_ID and APPROVAL_PAGE_URL are set together or not at all',
    );
  }
  return createApprovals(modules, {
    store: new DynamoApprovalStore(new DynamoDbClient(), env.APPROVALS_TABLE_NAME),
    sealer: new KmsSealer(new KmsClient(), env.APPROVAL_TICKET_KEY_ID),
    policy,
    pageUrl: env.APPROVAL_PAGE_URL,
    logger,
    off,
    waitMs: env.APPROVAL_WAIT_SECONDS * 1000,
  });
}
