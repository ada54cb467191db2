/**
 * Lambda entry point of the OAuth proxy: `GET|POST /authorize`, `GET /callback`, `POST /token`
 * under the API base URL. Built once per instance: KMS for sealing, DynamoDB for codes and
 * refresh-token families, the not-before list (the authorizer's reader of it), the CIMD
 * resolver (public https documents only), the upstream (Cognito's hosted login).
 */
import { RevocationList } from '../authorizer/revocation';
import { DynamoDbRevocationSource, jsonClientScanPort } from '../authorizer/revocation-dynamodb';
import { DynamoApprovalStore } from '../shared/approvals';
import { DynamoDbClient } from '../shared/aws/dynamodb';
import { KmsClient } from '../shared/aws/kms';
import { oauthProxyEnvSchema, parseEnv } from '../shared/env';
import { createLogger } from '../shared/logger';
import { ApprovalPage } from './approval-page';
import { CimdResolver } from './cimd';
import { ClientDirectory } from './clients';
import { DynamoDbCodeStore } from './dynamodb-code-store';
import { DynamoDbRefreshFamilyStore } from './dynamodb-refresh-family-store';
import { createOAuthProxyHandler } from './handler';
import { KmsSealer } from './kms-sealer';
import { OAuthProxy } from './proxy';

const env = parseEnv(oauthProxyEnvSchema);
const sealer = new KmsSealer(new KmsClient(), env.KMS_KEY_ID);
const dynamo = new DynamoDbClient();

const upstream = {
  authorizeUrl: env.UPSTREAM_AUTHORIZE_URL,
  tokenUrl: env.UPSTREAM_TOKEN_URL,
  clientId: env.UPSTREAM_CLIENT_ID,
  timeoutMs: env.UPSTREAM_TIMEOUT_MS,
};
const codes = new DynamoDbCodeStore(dynamo, env.CODES_TABLE_NAME);

const proxy = new OAuthProxy({
  config: {
    issuer: env.ISSUER,
    resource: env.RESOURCE,
    upstream,
    supportedScopes: env.SUPPORTED_SCOPES,
    defaultScopes: env.DEFAULT_SCOPES,
    scopeDescriptions: env.SCOPE_DESCRIPTIONS,
    consentRememberSeconds: env.CONSENT_REMEMBER_SECONDS,
    refreshTokenSeconds: env.REFRESH_TOKEN_SECONDS,
  },
  clients: new ClientDirectory({
    sealer,
    cimd: new CimdResolver(
      env.CIMD_ALLOWED_HOSTS.length === 0 ? {} : { allowedHosts: env.CIMD_ALLOWED_HOSTS },
    ),
    preRegistered: {
      clientId: env.PRE_REGISTERED_CLIENT_ID,
      name: env.PRE_REGISTERED_CLIENT_NAME,
      redirectUris: env.PRE_REGISTERED_REDIRECT_URIS,
    },
  }),
  sealer,
  codes,
  families: new DynamoDbRefreshFamilyStore(dynamo, env.REFRESH_FAMILIES_TABLE_NAME),
  // Refreshes are rare (one an hour per client): most read the list afresh, with the
  // authorizer's bound; an unreadable list fails the refresh (500), leaving the family as it is.
  sessions: new RevocationList({
    source: new DynamoDbRevocationSource({
      tableName: env.REVOCATIONS_TABLE_NAME,
      scan: jsonClientScanPort(dynamo.client),
    }),
    refreshMs: 5_000,
    maxAgeMs: 10_000,
  }),
});

// The approval page beside the consent page, where the deployment has an approvals table.
const approvalPage =
  env.APPROVALS_TABLE_NAME === ''
    ? undefined
    : new ApprovalPage({
        config: {
          issuer: env.ISSUER,
          upstream,
          signInScopes: env.DEFAULT_SCOPES,
          approvalSeconds: env.APPROVAL_SECONDS,
          signInMaxAgeSeconds: env.APPROVAL_SIGN_IN_MAX_AGE_SECONDS,
        },
        sealer,
        codes,
        store: new DynamoApprovalStore(dynamo, env.APPROVALS_TABLE_NAME),
      });

export const handler = createOAuthProxyHandler({
  proxy,
  logger: createLogger('mcp-oauth-proxy'),
  ...(approvalPage === undefined ? {} : { approvalPage }),
});
