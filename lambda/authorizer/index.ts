/**
 * Lambda entry point of the REQUEST authorizer. Everything built here lives for the life of
 * the execution environment: the verifier's JWKS cache and the API-key cache survive between
 * invocations.
 */

import { AwsJsonClient } from '../shared/aws/json-client';
import { DYNAMODB } from '../shared/aws/services';
import { authorizerEnvSchema, parseEnv } from '../shared/env';
import { createLogger } from '../shared/logger';
import { withSourceMappedErrors } from '../shared/source-mapped-stack';
import { ApiKeyStore } from './api-key-store';
import { cachedKeysFirst, createCognitoVerifier } from './cognito';
import { parseEarlyDenyPolicy } from './early-deny';
import { AuthorizerUnavailableError, createAuthorizerHandler, describeCause } from './handler';
import { RevocationList } from './revocation';
import { DynamoDbRevocationSource, jsonClientScanPort } from './revocation-dynamodb';
import { SecretsManagerApiKeySource } from './secrets-manager-source';

const env = parseEnv(authorizerEnvSchema);
const logger = createLogger('mcp-authorizer');

const verifier = createCognitoVerifier({
  userPoolId: env.USER_POOL_ID,
  clientIds: env.USER_POOL_CLIENT_IDS,
  requiredScopes: env.REQUIRED_SCOPES,
});

const apiKeys = new ApiKeyStore({
  source: new SecretsManagerApiKeySource(env.API_KEYS_SECRET_ID),
  ttlMs: env.API_KEYS_CACHE_TTL_SECONDS * 1000,
  minRefreshMs: env.API_KEYS_MIN_REFRESH_SECONDS * 1000,
  // The last fifth of the TTL: a busy instance reloads (and re-indexes) the key document in the
  // background, never on a caller's request.
  refreshAheadMs: (env.API_KEYS_CACHE_TTL_SECONDS * 1000) / 5,
  onPreviousIgnored: (why) => logger.warn('Ignoring the AWSPREVIOUS API-key version', { why }),
});

// The operator's not-before list (`users`, `keys revoke`), over the small AWS client: two
// attempts of 800 ms fit the list's 2-second load timeout, after which a request is denied.
const revocations = new RevocationList({
  source: new DynamoDbRevocationSource({
    tableName: env.REVOCATIONS_TABLE_NAME,
    scan: jsonClientScanPort(
      new AwsJsonClient(DYNAMODB, { maxAttempts: 2, attemptTimeoutMs: 800 }),
    ),
  }),
  refreshMs: env.REVOCATIONS_REFRESH_SECONDS * 1000,
  maxAgeMs: env.REVOCATIONS_MAX_AGE_SECONDS * 1000,
  onBackgroundFailure: (error) =>
    logger.warn('Could not refresh the not-before list', { cause: describeCause(error) }),
});
revocations
  .warm()
  .catch((error) =>
    logger.warn('Could not prefetch the not-before list', { cause: describeCause(error) }),
  );

// Warm both caches during init; a failure here is retried (and fails closed) per request.
// Secrets Manager is read through the small AWS client (`../shared/aws`), not SDK v3, whose
// client alone cost ~100 ms of this function's cold start; the client loads in a few ms, so it
// is loaded eagerly and the first API key pays no load of its own.
verifier
  .hydrate()
  .catch((error) =>
    logger.warn('Could not prefetch the Cognito JWKS', { cause: describeCause(error) }),
  );
apiKeys
  .warm()
  .catch((error) =>
    logger.warn('Could not prefetch the API-key secret', { cause: describeCause(error) }),
  );

// The deployment's roles, as the stack set them: the one thing of the deployment the key check
// needs, given here rather than imported, so the authorizer serves whatever roles it is given.
const apiKeyRoles = new Set(env.API_KEY_ROLES);

const policy =
  env.EARLY_DENY_POLICY === '' ? undefined : parseEarlyDenyPolicy(env.EARLY_DENY_POLICY);
if (env.GATEWAY_STEP_UP === 'true' && policy === undefined) {
  throw new Error('GATEWAY_STEP_UP needs EARLY_DENY_POLICY (the policy document)');
}

// `Unauthorized` is the answer to every refused credential, and an unavailable dependency is
// logged by the handler with its cause: neither is a fault whose stack is looked at. Anything
// else that escapes is logged by the runtime, mapped to source lines.
export const handler = withSourceMappedErrors(
  createAuthorizerHandler({
    verifier: cachedKeysFirst(verifier),
    apiKeys,
    apiKeyRoles,
    revocations,
    logger,
    cacheTtlSeconds: env.AUTHORIZER_CACHE_TTL_SECONDS,
    ...(env.GATEWAY_STEP_UP === 'true' && policy !== undefined
      ? { stepUp: { policy, audienceScope: env.REQUIRED_SCOPES[0] as string } }
      : policy === undefined
        ? {}
        : { earlyDeny: policy }),
  }),
  (error) =>
    error instanceof AuthorizerUnavailableError ||
    (error instanceof Error && error.message === 'Unauthorized'),
);
