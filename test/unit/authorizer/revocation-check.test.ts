/**
 * The not-before step in the authorizer handler: a verified token or key that the list refuses
 * is a 401 audited as token_revoked / key_revoked; a list that cannot be read is an
 * AuthorizerUnavailableError (API Gateway's 503, never cached the way a Deny would be) audited as
 * revocations_unavailable, never an Allow.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ApiKeyStore } from '../../../lambda/authorizer/api-key-store';
import { createCognitoVerifier } from '../../../lambda/authorizer/cognito';
import {
  AuthorizerUnavailableError,
  createAuthorizerHandler,
} from '../../../lambda/authorizer/handler';
import { RevocationList, type RevocationSource } from '../../../lambda/authorizer/revocation';
import { emptyApiKeyDocument } from '../../../lambda/shared/api-key';
import { AUDIT_EVENTS, AUDIT_FIELDS } from '../../../lambda/shared/audit';
import { createLogger } from '../../../lambda/shared/logger';
import {
  apiKeyPrincipal,
  type RevocationEntry,
  userPrincipal,
} from '../../../lambda/shared/revocations';
import { addKey } from '../../../tools/cli/api-key-admin';
import {
  LOCAL_CLIENT_ID,
  LOCAL_SCOPE,
  LOCAL_USER_POOL_ID,
  loadSigningKey,
  localJwksCache,
  mintAccessToken,
  type SigningKey,
} from '../../../tools/local/identity';
import { authorizerEvent } from '../../support/apigw-events';
import { type CapturedLogs, captureLogs } from '../../support/capture-logs';

let dir: string;
let signingKey: SigningKey;
let logs: CapturedLogs;
const { document, key, keyId } = addKey(emptyApiKeyDocument(), {
  name: 'ci-bot',
  roles: ['analyst'],
  knownRoles: ['analyst'],
  now: new Date(),
});

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mcp-revocation-check-'));
  signingKey = loadSigningKey(dir);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeEach(() => {
  logs = captureLogs();
});
afterEach(() => logs.restore());

function handlerWith(source: RevocationSource) {
  return createAuthorizerHandler({
    logger: createLogger('mcp-authorizer'),
    apiKeyRoles: new Set(['analyst']),
    verifier: createCognitoVerifier(
      {
        userPoolId: LOCAL_USER_POOL_ID,
        clientIds: [LOCAL_CLIENT_ID],
        requiredScopes: [LOCAL_SCOPE],
      },
      localJwksCache(signingKey),
    ),
    apiKeys: new ApiKeyStore({
      source: { load: async () => ({ current: JSON.stringify(document) }) },
      ttlMs: 60_000,
      minRefreshMs: 10_000,
    }),
    revocations: new RevocationList({ source, refreshMs: 5000, maxAgeMs: 10_000 }),
  });
}

const listOf = (entries: Record<string, RevocationEntry>): RevocationSource => ({
  load: async () => new Map(Object.entries(entries)),
});

const event = (credential: string) =>
  authorizerEvent({
    api: { region: 'eu-west-1' },
    requestId: 'r-1',
    sourceIp: '203.0.113.7',
    headers: { Authorization: `Bearer ${credential}` },
  });

const nowSeconds = () => Math.floor(Date.now() / 1000);

function lastDecision() {
  return logs
    .records()
    .filter((record) => record[AUDIT_FIELDS.event] === AUDIT_EVENTS.authDecision)
    .at(-1);
}

describe('the authorizer with a not-before list', () => {
  it('answers 401 for a token issued before the user’s not-before, audited as token_revoked', async () => {
    const token = mintAccessToken(signingKey, { sub: 'alice', groups: ['admin'] });
    const handler = handlerWith(
      listOf({
        [userPrincipal('alice')]: { notBefore: nowSeconds() + 1, expiresAt: nowSeconds() + 3900 },
      }),
    );
    await expect(handler(event(token))).rejects.toThrow('Unauthorized');
    expect(lastDecision()).toMatchObject({
      [AUDIT_FIELDS.decision]: 'deny',
      [AUDIT_FIELDS.reason]: 'token_revoked',
      [AUDIT_FIELDS.caller]: 'alice',
      [AUDIT_FIELDS.authMethod]: 'cognito',
    });
  });

  it('allows a token issued after the not-before (a refresh after a group change)', async () => {
    const token = mintAccessToken(signingKey, { sub: 'alice', groups: ['readonly'] });
    const handler = handlerWith(
      listOf({
        [userPrincipal('alice')]: { notBefore: nowSeconds() - 5, expiresAt: nowSeconds() + 3900 },
      }),
    );
    const result = await handler(event(token));
    expect(result.policyDocument.Statement[0]).toMatchObject({ Effect: 'Allow' });
  });

  it('answers 401 for a listed API key, audited as key_revoked with its key id', async () => {
    const handler = handlerWith(
      listOf({
        [apiKeyPrincipal(keyId)]: { notBefore: nowSeconds(), expiresAt: nowSeconds() + 3900 },
      }),
    );
    await expect(handler(event(key))).rejects.toThrow('Unauthorized');
    expect(lastDecision()).toMatchObject({
      [AUDIT_FIELDS.reason]: 'key_revoked',
      [AUDIT_FIELDS.keyId]: keyId,
      [AUDIT_FIELDS.authMethod]: 'api_key',
    });
  });

  it('throws AuthorizerUnavailableError (503, never cached) when the list cannot be read, audited as revocations_unavailable', async () => {
    const token = mintAccessToken(signingKey, { sub: 'alice', groups: ['admin'] });
    const handler = handlerWith({
      load: async () => {
        throw new Error('AccessDeniedException: not authorized to perform dynamodb:Scan');
      },
    });
    await expect(handler(event(token))).rejects.toBeInstanceOf(AuthorizerUnavailableError);
    expect(lastDecision()).toMatchObject({
      [AUDIT_FIELDS.decision]: 'deny',
      [AUDIT_FIELDS.reason]: 'revocations_unavailable',
      [AUDIT_FIELDS.caller]: 'alice',
    });
    expect(logs.lines.join('\n')).not.toContain(token);
  });

  it('leaves a bad credential’s answer alone: the list is asked only about verified ones', async () => {
    let loads = 0;
    const handler = handlerWith({
      load: async () => {
        loads++;
        return new Map();
      },
    });
    await expect(handler(event('not.a.jwt'))).rejects.toThrow('Unauthorized');
    expect(loads).toBe(0);
  });
});
