/**
 * Lambda entry point of the REQUEST authorizer. Everything built here lives for the life of
 * the execution environment: the verifier's JWKS cache and the API-key cache survive between
 * invocations.
 */

import { authorizerEnvSchema, parseEnv } from '../shared/env';
import { createLogger } from '../shared/logger';
import { ApiKeyStore } from './api-key-store';
import { cachedKeysFirst, createCognitoVerifier } from './cognito';
import { parseEarlyDenyPolicy } from './early-deny';
import { createAuthorizerHandler, describeCause } from './handler';
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
  onPreviousIgnored: (why) => logger.warn('Ignoring the AWSPREVIOUS API-key version', { why }),
});

// Warm both caches during init; a failure here is retried (and fails closed) per request.
// The AWS SDK (Secrets Manager) is loaded here on purpose, although a JWT never needs it:
// Lambda runs init with more CPU than a 256 MB handler gets, so loading it lazily on the first
// API key would make that request several times slower to save a JWT cold start ~100 ms.
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

export const handler = createAuthorizerHandler({
  verifier: cachedKeysFirst(verifier),
  apiKeys,
  logger,
  ...(env.EARLY_DENY_POLICY === ''
    ? {}
    : { earlyDeny: parseEarlyDenyPolicy(env.EARLY_DENY_POLICY) }),
});
