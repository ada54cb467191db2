/**
 * Lambda entry point of the OAuth client registration endpoint (RFC 7591).
 */
import { parseEnv, registrationEnvSchema } from '../shared/env';
import { createLogger } from '../shared/logger';
import { createRegistrationHandler, exactMatchPolicy } from './handler';

const env = parseEnv(registrationEnvSchema);

export const handler = createRegistrationHandler({
  policy: {
    clientId: env.CLIENT_ID,
    // Exactly the app client's callback URLs: Cognito would refuse any other redirect anyway,
    // so registration promises nothing the authorization server will not honour.
    allowRedirectUri: exactMatchPolicy(env.CALLBACK_URLS),
    supportedScopes: env.SUPPORTED_SCOPES,
    defaultScopes: env.DEFAULT_SCOPES,
    // Cognito issues refresh tokens with every authorization-code grant.
    grantTypes: ['authorization_code', 'refresh_token'],
  },
  logger: createLogger('mcp-client-registration'),
  maxBodyBytes: env.MAX_BODY_BYTES,
});
