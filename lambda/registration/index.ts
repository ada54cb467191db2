/**
 * Lambda entry point of the OAuth client registration endpoint (RFC 7591): client ids are the
 * validated metadata sealed with KMS (purpose `dcr-client`), opened by the OAuth proxy.
 */
import { KmsSealer } from '../oauth-proxy/kms-sealer';
import { KmsClient } from '../shared/aws/kms';
import { parseEnv, registrationEnvSchema } from '../shared/env';
import { createLogger } from '../shared/logger';
import { createRegistrationHandler } from './handler';
import { dcrClientIdMinter } from './mint';

const env = parseEnv(registrationEnvSchema);

export const handler = createRegistrationHandler({
  policy: {
    // Any well-formed redirect URI (https, or http on loopback): registering one grants
    // nothing by itself. The proxy matches it on every request and shows its host to the
    // person, who approves before any code is sent there.
    allowRedirectUri: () => true,
    supportedScopes: env.SUPPORTED_SCOPES,
    defaultScopes: env.DEFAULT_SCOPES,
    // Cognito issues refresh tokens with every authorization-code grant.
    grantTypes: ['authorization_code', 'refresh_token'],
  },
  mintClientId: dcrClientIdMinter(new KmsSealer(new KmsClient(), env.KMS_KEY_ID)),
  logger: createLogger('mcp-client-registration'),
  maxBodyBytes: env.MAX_BODY_BYTES,
});
