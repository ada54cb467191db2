/**
 * The MCP Lambda's handler for a list of modules and their policy: what `index.ts` exports for
 * the deployment's modules, and what a test's own entry exports for its modules (bundled and
 * run by the local emulator exactly as the deployed one). Module clients are built once per
 * instance from the environment their infrastructure set.
 */

import type { Logger } from '@aws-lambda-powertools/logger';
import { KmsSealer } from '../oauth-proxy/kms-sealer';
import { DynamoApprovalStore } from '../shared/approvals';
import { DynamoDbClient } from '../shared/aws/dynamodb';
import { failureName } from '../shared/aws/error';
import { KmsClient } from '../shared/aws/kms';
import { ConfigurationError, type McpEnv, mcpEnvSchema, parseEnv } from '../shared/env';
import { createLogger } from '../shared/logger';
import type { PolicyTable } from '../shared/policy';
import { buildQuotaTable, parseQuotaRules, QuotaError } from '../shared/quota';
import { type Approvals, createApprovals } from './approvals';
import { createMcpHandler } from './handler';
import { bufferedResult, type LambdaStreamingRuntime, streamingHandler } from './lambda-response';
import { localErrorDetailOn } from './local-error-detail';
import type { McpModule } from './module-kit';
import { destructiveToolNames, loadModules } from './module-loader';
import { DynamoQuotaCounter } from './quota-counter';
import { createQuotaGate, type QuotaGate } from './quotas';
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
  const quotas = quotaGateFor(env, modules, policy, logger);
  // Set by the local gateway alone (never by the stack): a failing item shows its author why.
  const localErrorDetail = localErrorDetailOn(process.env);
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
    ...(quotas === undefined ? {} : { quotas }),
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
    rules: { mode: env.RULE_MODE },
    localErrorDetail,
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
 * The deployment's quotas, as the stack set them (`QUOTA_RULES`, `QUOTA_TABLE_NAME`), checked
 * against the policy again: a rule naming an unknown tool, or rules without their table, stop
 * the function starting rather than serve uncounted.
 */
function quotaGateFor(
  env: McpEnv,
  modules: readonly McpModule[],
  policy: PolicyTable,
  logger: Logger,
): QuotaGate | undefined {
  const rules = parseQuotaRules(env.QUOTA_RULES);
  if (rules.length === 0) return undefined;
  if (env.QUOTA_TABLE_NAME === '') {
    throw new QuotaError('QUOTA_RULES names quotas but QUOTA_TABLE_NAME no table to count them in');
  }
  return createQuotaGate({
    table: buildQuotaTable(rules, policy, destructiveToolNames(modules)),
    counter: new DynamoQuotaCounter(new DynamoDbClient(), env.QUOTA_TABLE_NAME),
    onGiveBackFailed: (rule, error) =>
      logger.warn('Could not give back a quota use a refused request had taken', {
        quota: rule.id,
        error_type: failureName(error),
      }),
    onUncounted: (rule, error) =>
      logger.error('Let a use through uncounted: its quota counter failed', {
        quota: rule.id,
        error_type: failureName(error),
      }),
  });
}

/**
 * The deployment's approvals: the table, the key that seals tickets and the page's URL, all
 * three or none (then every call needing approval is refused).
 */
function approvalsFor(
  env: McpEnv,
  modules: Parameters<typeof createApprovals>[0],
  policy: PolicyTable,
  logger: Logger,
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
