/**
 * The REQUEST authorizer handler end to end: real verifier (local JWKS), real API-key store over
 * an in-memory document, real Powertools logger whose output is captured as CloudWatch would get it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FetchError } from 'aws-jwt-verify/error';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';
import type { APIGatewayRequestAuthorizerEvent, Context } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type ApiKeySource, ApiKeyStore } from '../../../lambda/authorizer/api-key-store';
import { createCognitoVerifier } from '../../../lambda/authorizer/cognito';
import { earlyDenyPolicyOf } from '../../../lambda/authorizer/early-deny';
import {
  type AuthorizerDeps,
  type AuthorizerHandler,
  AuthorizerUnavailableError,
  createAuthorizerHandler,
} from '../../../lambda/authorizer/handler';
import { REQUIRED_SCOPES_CONTEXT_KEY } from '../../../lambda/authorizer/policy-document';
import { type ApiKeyDocument, formatApiKey, generateSecret } from '../../../lambda/shared/api-key';
import { AUDIT_EVENTS, AUDIT_FIELDS, type AuthReason } from '../../../lambda/shared/audit';
import { createLogger } from '../../../lambda/shared/logger';
import { addKey, revokeKey } from '../../../tools/cli/api-key-admin';
import { policyAllows } from '../../../tools/local/emulator/authorizer';
import {
  LOCAL_CLIENT_ID,
  LOCAL_SCOPE,
  LOCAL_USER_POOL_ID,
  loadSigningKey,
  localJwksCache,
  mintAccessToken,
  type SigningKey,
} from '../../../tools/local/identity';
import {
  type ApiCoordinates,
  authorizerEvent,
  methodArnOf,
  TEST_API,
} from '../../support/apigw-events';
import { type CapturedLogs, captureLogs } from '../../support/capture-logs';
import { FIXTURE_POLICY } from '../../support/fixture-deployment';

/** The API the requests come through: the test API, in eu-west-1. */
const API: ApiCoordinates = { ...TEST_API, region: 'eu-west-1' };
const { region: REGION, accountId: ACCOUNT, apiId: API_ID, stage: STAGE } = API;
const STAGE_ARN = `arn:aws:execute-api:${REGION}:${ACCOUNT}:${API_ID}/${STAGE}`;
const REQUEST_ID = 'c0ffee00-1234-4abc-8def-000000000001';
const SOURCE_IP = '203.0.113.7';
const USER_SUB = 'b7e5a1c2-0000-4000-8000-000000000001';
const NOW = new Date('2026-03-01T12:00:00.000Z');

/** The ARN of `method path` on this API, or on another stage or API of the same account. */
const methodArn = (method: string, path = '/mcp', elsewhere: Partial<ApiCoordinates> = {}) =>
  methodArnOf({ method, path, api: { ...API, ...elsewhere } });

/** The REQUEST authorizer's event for `method /mcp` with these Authorization values. */
function eventFor(
  authorization: string | readonly string[] | undefined,
  method = 'POST',
  extraHeaders: Readonly<Record<string, string>> = {},
): APIGatewayRequestAuthorizerEvent {
  return authorizerEvent({
    method,
    api: API,
    requestId: REQUEST_ID,
    sourceIp: SOURCE_IP,
    headers: {
      Host: `${API_ID}.execute-api.${REGION}.amazonaws.com`,
      ...extraHeaders,
      ...(authorization === undefined ? {} : { Authorization: authorization }),
    },
  });
}

function lambdaContext(): Context {
  return {
    awsRequestId: 'aaaaaaaa-0000-4000-8000-000000000001',
    functionName: 'mcp-authorizer',
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:mcp-authorizer`,
    memoryLimitInMB: '256',
    logGroupName: '/aws/lambda/mcp-authorizer',
    logStreamName: '2026/03/01/[$LATEST]0000',
    callbackWaitsForEmptyEventLoop: false,
    getRemainingTimeInMillis: () => 3000,
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

interface Fixtures {
  readonly signingKey: SigningKey;
  readonly document: ApiKeyDocument;
  readonly keyId: string;
  readonly key: string;
  readonly revokedKey: string;
  /** A live key with the admin role. */
  readonly adminKey: string;
  /** A live key naming `auditor`, a role the deployment has since removed. */
  readonly formerRoleKey: string;
}

/** The deployment's roles as the stack hands them to the authorizer (no `auditor`). */
const KEY_ROLES: ReadonlySet<string> = new Set(['readonly', 'admin']);

let dir: string;
let fx: Fixtures;
let logs: CapturedLogs;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'authorizer-handler-'));
  const first = addKey(
    { version: 1, keys: {} },
    { name: 'ci-bot', roles: ['readonly'], knownRoles: ['readonly'], now: NOW },
  );
  const second = addKey(first.document, {
    name: 'old-bot',
    roles: ['admin'],
    knownRoles: ['admin'],
    now: NOW,
  });
  const third = addKey(revokeKey(second.document, second.keyId, NOW), {
    name: 'admin-bot',
    roles: ['admin'],
    knownRoles: ['admin'],
    now: NOW,
  });
  // Made while `auditor` was a role; the deployment has dropped it since.
  const fourth = addKey(third.document, {
    name: 'audit-bot',
    roles: ['readonly', 'auditor'],
    knownRoles: ['readonly', 'auditor'],
    now: NOW,
  });
  fx = {
    signingKey: loadSigningKey(dir),
    document: fourth.document,
    formerRoleKey: fourth.key,
    keyId: first.keyId,
    key: first.key,
    revokedKey: second.key,
    adminKey: third.key,
  };
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  logs = captureLogs();
});

afterEach(() => {
  logs.restore();
});

interface HandlerOptions
  extends Pick<
    AuthorizerDeps,
    'cacheTtlSeconds' | 'now' | 'stepUp' | 'earlyDeny' | 'revocations' | 'ruleClaims'
  > {
  readonly apiKeySource?: ApiKeySource;
  readonly jwksCache?: SimpleJwksCache;
}

/** The handler as `index.ts` builds it, with the logger at DEBUG so nothing escapes the checks. */
function authorizer(options: HandlerOptions = {}): AuthorizerHandler {
  const logger = createLogger('mcp-authorizer');
  logger.setLogLevel('DEBUG');
  const source: ApiKeySource = options.apiKeySource ?? {
    load: async () => ({ current: JSON.stringify(fx.document) }),
  };
  return createAuthorizerHandler({
    logger,
    apiKeyRoles: KEY_ROLES,
    verifier: createCognitoVerifier(
      {
        userPoolId: LOCAL_USER_POOL_ID,
        clientIds: [LOCAL_CLIENT_ID],
        requiredScopes: [LOCAL_SCOPE],
      },
      options.jwksCache ?? localJwksCache(fx.signingKey),
    ),
    apiKeys: new ApiKeyStore({ source, ttlMs: 300_000, minRefreshMs: 10_000 }),
    ...(options.cacheTtlSeconds === undefined ? {} : { cacheTtlSeconds: options.cacheTtlSeconds }),
    ...(options.now === undefined ? {} : { now: options.now }),
    ...(options.stepUp === undefined ? {} : { stepUp: options.stepUp }),
    ...(options.earlyDeny === undefined ? {} : { earlyDeny: options.earlyDeny }),
    ...(options.revocations === undefined ? {} : { revocations: options.revocations }),
    ...(options.ruleClaims === undefined ? {} : { ruleClaims: options.ruleClaims }),
  });
}

const unavailableKeys: ApiKeySource = {
  load: async () => {
    throw new Error('AccessDeniedException: not authorized to perform GetSecretValue');
  },
};

function unreachableJwks(): SimpleJwksCache {
  return new SimpleJwksCache({
    fetcher: {
      fetch: async (uri) => {
        throw new FetchError(uri, 'connect ETIMEDOUT');
      },
    },
  });
}

function userToken(
  options: { expiresIn?: number; groups?: string[]; scopes?: string[] } = {},
): string {
  return mintAccessToken(fx.signingKey, {
    sub: USER_SUB,
    groups: options.groups ?? ['analyst', 'readonly'],
    expiresIn: options.expiresIn,
    scopes: options.scopes,
  });
}

/** The `exp` claim of a token, in seconds. */
function expiryOf(token: string): number {
  const payload = token.split('.')[1] ?? '';
  return (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp: number }).exp;
}

/** The value a call settled with: its result, or what it threw. */
async function settle<T>(promise: Promise<T>): Promise<{ result?: T; error?: unknown }> {
  try {
    return { result: await promise };
  } catch (error) {
    return { error };
  }
}

function auditRecords(): Record<string, unknown>[] {
  return logs
    .records()
    .filter((record) => record[AUDIT_FIELDS.event] === AUDIT_EVENTS.authDecision);
}

describe('authorizer handler: Allow', () => {
  it('allows a valid token on every method of /mcp in this stage, and on nothing else', async () => {
    // Act
    const result = await authorizer()(eventFor(`Bearer ${userToken()}`), lambdaContext());

    // Assess
    expect(result.policyDocument.Statement).toEqual([
      { Action: 'execute-api:Invoke', Effect: 'Allow', Resource: [`${STAGE_ARN}/*/mcp`] },
    ]);
  });

  it('returns a policy that API Gateway applies to POST, GET and DELETE on /mcp', async () => {
    // Act
    const result = await authorizer()(eventFor(`Bearer ${userToken()}`), lambdaContext());

    // Assess
    expect(['POST', 'GET', 'DELETE'].map((m) => policyAllows(result, methodArn(m)))).toEqual([
      true,
      true,
      true,
    ]);
  });

  it('returns a policy that API Gateway does not apply to other paths, stages or APIs', async () => {
    // Act
    const result = await authorizer()(eventFor(`Bearer ${userToken()}`), lambdaContext());

    // Assess
    expect([
      policyAllows(result, methodArn('POST', '/other')),
      policyAllows(result, methodArn('POST', '/mcp/other')),
      policyAllows(result, methodArn('POST', '/mcp', { stage: 'dev' })),
      policyAllows(result, methodArn('POST', '/mcp', { apiId: 'zzzzzz9999' })),
    ]).toEqual([false, false, false, false]);
  });

  it('hands a Cognito caller on as sub, groups and scopes, all as strings', async () => {
    // Act
    const result = await authorizer()(eventFor(`Bearer ${userToken()}`), lambdaContext());

    // Assess
    expect({ principalId: result.principalId, context: result.context }).toEqual({
      principalId: USER_SUB,
      context: {
        principalId: USER_SUB,
        authMethod: 'cognito',
        groups: 'analyst,readonly',
        scopes: LOCAL_SCOPE,
        keyId: '',
        expiresAt: expect.stringMatching(/^\d{10}$/),
      },
    });
  });

  it('hands an API-key caller on as its name, roles and key id, all as strings', async () => {
    // Act
    const result = await authorizer()(eventFor(`Bearer ${fx.key}`), lambdaContext());

    // Assess
    expect({ principalId: result.principalId, context: result.context }).toEqual({
      principalId: 'ci-bot',
      context: {
        principalId: 'ci-bot',
        authMethod: 'api_key',
        groups: 'readonly',
        scopes: '',
        keyId: fx.keyId,
        expiresAt: '',
      },
    });
  });
});

describe('authorizer handler: claims for the argument rules (-c ruleClaims)', () => {
  const tokenWith = (claims: Record<string, unknown>) =>
    mintAccessToken(fx.signingKey, { sub: USER_SUB, groups: ['analyst'], claims });

  it('hands on the named claims as strings, as AgentCore Policy makes tags, and no others', async () => {
    // Prepare
    const token = tokenWith({
      'custom:department': 'sales',
      'custom:level': 3,
      'custom:regions': ['DE', 'FR'],
      'custom:missing': null,
      'custom:other': 'not named',
    });
    const named = ['custom:department', 'custom:level', 'custom:regions', 'custom:missing'];

    // Act
    const result = await authorizer({ ruleClaims: named })(
      eventFor(`Bearer ${token}`),
      lambdaContext(),
    );

    // Assess
    expect(JSON.parse(String(result.context?.claims))).toEqual({
      'custom:department': 'sales',
      'custom:level': '3',
      'custom:regions': '["DE","FR"]',
    });
  });

  it('hands on no claims when none are named', async () => {
    const result = await authorizer()(
      eventFor(`Bearer ${tokenWith({ 'custom:department': 'sales' })}`),
      lambdaContext(),
    );
    expect(result.context?.claims).toBeUndefined();
  });

  it('refuses (401) a token whose named claim is too long to carry, rather than drop it', async () => {
    // Act
    const { error } = await settle(
      authorizer({ ruleClaims: ['custom:department'] })(
        eventFor(`Bearer ${tokenWith({ 'custom:department': 'x'.repeat(1025) })}`),
        lambdaContext(),
      ),
    );

    // Assess
    expect((error as Error | undefined)?.message).toBe('Unauthorized');
    expect(auditRecords().at(-1)?.[AUDIT_FIELDS.reason]).toBe('malformed_claim');
  });
});

describe('authorizer handler: Unauthorized (401)', () => {
  const badCredentials: readonly { name: string; authorization: () => string | undefined }[] = [
    { name: 'no Authorization header', authorization: () => undefined },
    { name: 'a Basic credential', authorization: () => 'Basic dXNlcjpwYXNzd29yZA==' },
    { name: 'an expired token', authorization: () => `Bearer ${userToken({ expiresIn: -60 })}` },
    {
      name: 'an API key with the wrong secret',
      authorization: () => `Bearer ${formatApiKey(fx.keyId, generateSecret())}`,
    },
    { name: 'a revoked API key', authorization: () => `Bearer ${fx.revokedKey}` },
    {
      name: 'an unknown API key',
      authorization: () => `Bearer ${formatApiKey('fedcba9876543210', generateSecret())}`,
    },
  ];

  it.each(badCredentials)(
    'rejects $name with exactly Error("Unauthorized")',
    async ({ authorization }) => {
      // Act
      const { result, error } = await settle(
        authorizer()(eventFor(authorization()), lambdaContext()),
      );

      // Assess
      expect({
        result,
        type: (error as object | undefined)?.constructor,
        message: (error as Error | undefined)?.message,
      }).toEqual({ result: undefined, type: Error, message: 'Unauthorized' });
    },
  );
});

describe('authorizer handler: unavailable (503) when the credential cannot be checked', () => {
  /** A not-before list that cannot be read. */
  const unreadableList: NonNullable<HandlerOptions['revocations']> = {
    isRevoked: async () => {
      throw new Error('AccessDeniedException: not authorized to perform dynamodb:Scan');
    },
  };
  const unavailable = [
    {
      name: 'the API-key store is unavailable',
      reason: 'secret_unavailable',
      options: () => ({ apiKeySource: unavailableKeys }),
      authorization: () => `Bearer ${fx.key}`,
    },
    {
      name: 'the JWKS cannot be fetched',
      reason: 'jwks_unavailable',
      options: () => ({ jwksCache: unreachableJwks() }),
      authorization: () => `Bearer ${userToken()}`,
    },
    {
      name: 'the not-before list cannot be read',
      reason: 'revocations_unavailable',
      options: () => ({ revocations: unreadableList }),
      authorization: () => `Bearer ${userToken()}`,
    },
  ] as const;

  it.each(unavailable)(
    'throws AuthorizerUnavailableError, which API Gateway answers 5xx and never caches, when $name',
    async ({ options, authorization }) => {
      // Act
      const { result, error } = await settle(
        authorizer(options())(eventFor(authorization()), lambdaContext()),
      );

      // Assess: a Deny would be cached for the TTL and keep refusing after recovery
      expect(result).toBeUndefined();
      expect(error).toBeInstanceOf(AuthorizerUnavailableError);
      expect(error).toMatchObject({ name: 'AuthorizerUnavailableError' });
      expect((error as Error).message).not.toBe('Unauthorized');
    },
  );

  it.each(unavailable)(
    'still writes the deny record, with its reason, when $name',
    async ({ options, authorization, reason }) => {
      // Act
      await settle(authorizer(options())(eventFor(authorization()), lambdaContext()));

      // Assess
      expect(auditRecords()).toEqual([
        expect.objectContaining({
          [AUDIT_FIELDS.decision]: 'deny',
          [AUDIT_FIELDS.reason]: reason,
          [AUDIT_FIELDS.requestId]: REQUEST_ID,
        }),
      ]);
    },
  );

  it('logs why it failed closed: the chain of errors behind the failure', async () => {
    // Act
    await settle(
      authorizer({ apiKeySource: unavailableKeys })(eventFor(`Bearer ${fx.key}`), lambdaContext()),
    );

    // Assess
    const failure = logs
      .records()
      .find((record) => record.message === 'Failing closed: the credential could not be checked');
    expect(failure?.cause).toEqual([
      'ApiKeysUnavailableError: The API-key secret could not be read',
      'Error: AccessDeniedException: not authorized to perform GetSecretValue',
    ]);
  });

  it('answers the next request once the dependency is back: nothing of the failure is kept', async () => {
    // Prepare: a list that fails once, then reads
    let failures = 1;
    const authorize = authorizer({
      revocations: {
        isRevoked: async () => {
          if (failures-- > 0) throw new Error('ThrottlingException');
          return false;
        },
      },
    });
    const token = userToken();

    // Act
    const first = await settle(authorize(eventFor(`Bearer ${token}`), lambdaContext()));
    const second = await authorize(eventFor(`Bearer ${token}`), lambdaContext());

    // Assess
    expect(first.error).toBeInstanceOf(AuthorizerUnavailableError);
    expect(policyAllows(second, methodArn('POST'))).toBe(true);
  });
});

describe('authorizer handler: a credential expiring within the cache TTL', () => {
  const TTL = 300;

  it('refuses (401) a token that expires before a cached Allow would, audited as expires_within_cache', async () => {
    // Prepare: API Gateway would keep the Allow until now + TTL, the token dies a second sooner
    const token = userToken();
    const now = () => (expiryOf(token) - TTL + 1) * 1000;

    // Act
    const { error } = await settle(
      authorizer({ cacheTtlSeconds: TTL, now })(eventFor(`Bearer ${token}`), lambdaContext()),
    );

    // Assess
    expect({ type: (error as object).constructor, message: (error as Error).message }).toEqual({
      type: Error,
      message: 'Unauthorized',
    });
    expect(auditRecords()).toEqual([
      expect.objectContaining({
        [AUDIT_FIELDS.decision]: 'deny',
        [AUDIT_FIELDS.reason]: 'expires_within_cache',
        [AUDIT_FIELDS.caller]: USER_SUB,
        [AUDIT_FIELDS.authMethod]: 'cognito',
      }),
    ]);
  });

  it('refuses a token expiring exactly when the cached Allow would end', async () => {
    // Prepare
    const token = userToken();

    // Act
    const { error } = await settle(
      authorizer({ cacheTtlSeconds: TTL, now: () => (expiryOf(token) - TTL) * 1000 })(
        eventFor(`Bearer ${token}`),
        lambdaContext(),
      ),
    );

    // Assess
    expect((error as Error | undefined)?.message).toBe('Unauthorized');
  });

  it('allows a token that outlives the cached Allow', async () => {
    // Prepare
    const token = userToken();

    // Act
    const result = await authorizer({
      cacheTtlSeconds: TTL,
      now: () => (expiryOf(token) - TTL - 1) * 1000,
    })(eventFor(`Bearer ${token}`), lambdaContext());

    // Assess
    expect(policyAllows(result, methodArn('POST'))).toBe(true);
  });

  it('refuses an API key that expires within the TTL', async () => {
    // Prepare: a key expiring in a day, judged 100 s before its end
    const { document, key } = addKey(
      { version: 1, keys: {} },
      {
        name: 'short-bot',
        roles: ['readonly'],
        knownRoles: ['readonly'],
        now: new Date(),
        expiresInDays: 1,
      },
    );
    const expires = Date.parse(Object.values(document.keys)[0]?.expires ?? '');

    // Act
    const { error } = await settle(
      authorizer({
        cacheTtlSeconds: TTL,
        now: () => expires - 100_000,
        apiKeySource: { load: async () => ({ current: JSON.stringify(document) }) },
      })(eventFor(`Bearer ${key}`), lambdaContext()),
    );

    // Assess
    expect((error as Error | undefined)?.message).toBe('Unauthorized');
    expect(auditRecords()).toEqual([
      expect.objectContaining({
        [AUDIT_FIELDS.reason]: 'expires_within_cache',
        [AUDIT_FIELDS.authMethod]: 'api_key',
      }),
    ]);
  });

  it('allows an API key that never expires, whatever the TTL', async () => {
    // Act
    const result = await authorizer({ cacheTtlSeconds: 3600 })(
      eventFor(`Bearer ${fx.key}`),
      lambdaContext(),
    );

    // Assess
    expect(policyAllows(result, methodArn('POST'))).toBe(true);
  });

  it('allows a token about to expire when nothing is cached (the default TTL of 0)', async () => {
    // Prepare
    const token = userToken();

    // Act
    const result = await authorizer({ now: () => (expiryOf(token) - 1) * 1000 })(
      eventFor(`Bearer ${token}`),
      lambdaContext(),
    );

    // Assess
    expect(policyAllows(result, methodArn('POST'))).toBe(true);
  });
});

describe('authorizer handler: gateway step-up', () => {
  const stepUp = { policy: earlyDenyPolicyOf(FIXTURE_POLICY), audienceScope: LOCAL_SCOPE };
  /** A 2026-07-28 request naming its tool in headers. */
  const callOf = (tool: string, version = '2026-07-28') => ({
    'MCP-Protocol-Version': version,
    'Mcp-Method': 'tools/call',
    'Mcp-Name': tool,
  });
  /** An admin whose token names only read_data. */
  const narrowedAdmin = () =>
    userToken({ groups: ['admin'], scopes: [LOCAL_SCOPE, 'secure-mcp/read_data'] });

  it('denies a call its roles grant but its scopes exclude, with the scopes it needs in the context as a JSON array', async () => {
    // Act
    const result = await authorizer({ stepUp })(
      eventFor(`Bearer ${narrowedAdmin()}`, 'POST', callOf('delete_record')),
      lambdaContext(),
    );

    // Assess: the ACCESS_DENIED response's body template inlines requiredScopes as JSON
    expect(policyAllows(result, methodArn('POST'))).toBe(false);
    expect(result.context).toEqual({ [REQUIRED_SCOPES_CONTEXT_KEY]: expect.any(String) });
    expect(JSON.parse(String(result.context?.[REQUIRED_SCOPES_CONTEXT_KEY]))).toEqual([
      'secure-mcp/tools',
      'secure-mcp/delete_data',
      'secure-mcp/read_data',
    ]);
  });

  it('audits the step-up as a deny for insufficient_scope, naming the tool and permission', async () => {
    // Act
    await authorizer({ stepUp })(
      eventFor(`Bearer ${narrowedAdmin()}`, 'POST', callOf('delete_record')),
      lambdaContext(),
    );

    // Assess
    expect(auditRecords()).toEqual([
      expect.objectContaining({
        [AUDIT_FIELDS.decision]: 'deny',
        [AUDIT_FIELDS.reason]: 'insufficient_scope',
        [AUDIT_FIELDS.tool]: 'delete_record',
        [AUDIT_FIELDS.permission]: 'delete_data',
        [AUDIT_FIELDS.caller]: USER_SUB,
      }),
    ]);
  });

  it.each([
    {
      name: 'a call no role of the caller grants (no token could fix it: the MCP function answers -32003)',
      token: () =>
        userToken({ groups: ['analyst'], scopes: [LOCAL_SCOPE, 'secure-mcp/read_data'] }),
      headers: callOf('delete_record'),
    },
    {
      name: 'an API key, which carries no scopes',
      token: () => fx.adminKey,
      headers: callOf('delete_record'),
    },
    {
      name: 'a call the narrowed token names',
      token: narrowedAdmin,
      headers: callOf('get_record'),
    },
    {
      name: 'a token not narrowed at all',
      token: () => userToken({ groups: ['admin'] }),
      headers: callOf('delete_record'),
    },
    {
      name: 'a 2025-11-25 request, whose body names the tool',
      token: narrowedAdmin,
      headers: callOf('delete_record', '2025-11-25'),
    },
  ])('allows $name', async ({ token, headers }) => {
    // Act
    const result = await authorizer({ stepUp })(
      eventFor(`Bearer ${token()}`, 'POST', headers),
      lambdaContext(),
    );

    // Assess
    expect(policyAllows(result, methodArn('POST'))).toBe(true);
  });

  it('allows what it would deny when gateway step-up is off: the MCP function answers it', async () => {
    // Act
    const result = await authorizer()(
      eventFor(`Bearer ${narrowedAdmin()}`, 'POST', callOf('delete_record')),
      lambdaContext(),
    );

    // Assess
    expect(policyAllows(result, methodArn('POST'))).toBe(true);
  });
});

interface Scenario {
  readonly name: string;
  readonly decision: 'allow' | 'deny';
  readonly reason: AuthReason;
  /** The Authorization header value(s). */
  readonly authorization: () => string | string[] | undefined;
  readonly options?: () => HandlerOptions;
  /** Text that must never reach a log line. */
  readonly secrets: () => string[];
}

const jwtParts = (token: string) => [token, token.split('.')[2] ?? token];
const keyParts = (key: string) => [key, key.slice(-43)];

const SCENARIOS: readonly Scenario[] = [
  {
    name: 'a valid access token',
    decision: 'allow',
    reason: 'ok',
    authorization: () => `Bearer ${userToken()}`,
    secrets: () => [],
  },
  {
    name: 'a valid API key',
    decision: 'allow',
    reason: 'ok',
    authorization: () => `Bearer ${fx.key}`,
    secrets: () => keyParts(fx.key),
  },
  {
    name: 'no credential',
    decision: 'deny',
    reason: 'missing_credential',
    authorization: () => undefined,
    secrets: () => [],
  },
  {
    name: 'a token under the wrong scheme',
    decision: 'deny',
    reason: 'wrong_scheme',
    authorization: () => `Token ${userToken()}`,
    secrets: () => [],
  },
  {
    name: 'two different Authorization values',
    decision: 'deny',
    reason: 'malformed_credential',
    authorization: () => [`Bearer ${userToken()}`, `Bearer ${fx.key}`],
    secrets: () => [],
  },
  {
    name: 'an expired token',
    decision: 'deny',
    reason: 'token_expired',
    authorization: () => `Bearer ${userToken({ expiresIn: -60 })}`,
    secrets: () => [],
  },
  {
    name: 'a token with its groups tampered to admin',
    decision: 'deny',
    reason: 'invalid_signature',
    authorization: () => {
      const [header, payload, signature] = userToken().split('.');
      const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8'));
      const forged = Buffer.from(JSON.stringify({ ...claims, 'cognito:groups': ['admin'] }));
      return `Bearer ${header}.${forged.toString('base64url')}.${signature}`;
    },
    secrets: () => [],
  },
  {
    name: 'an API key with the wrong secret',
    decision: 'deny',
    reason: 'wrong_secret',
    authorization: () => `Bearer ${formatApiKey(fx.keyId, 'S'.repeat(43))}`,
    secrets: () => keyParts(formatApiKey(fx.keyId, 'S'.repeat(43))),
  },
  {
    name: 'a revoked API key',
    decision: 'deny',
    reason: 'key_revoked',
    authorization: () => `Bearer ${fx.revokedKey}`,
    secrets: () => keyParts(fx.revokedKey),
  },
  {
    // Refused whole, not served with the roles that remain; the other keys of the same
    // document (every other scenario's) are untouched.
    name: 'an API key naming a role the deployment no longer defines',
    decision: 'deny',
    reason: 'key_unknown_role',
    authorization: () => `Bearer ${fx.formerRoleKey}`,
    secrets: () => keyParts(fx.formerRoleKey),
  },
  {
    name: 'an API key while the key store is unavailable',
    decision: 'deny',
    reason: 'secret_unavailable',
    authorization: () => `Bearer ${fx.key}`,
    options: () => ({ apiKeySource: unavailableKeys }),
    secrets: () => keyParts(fx.key),
  },
  {
    name: 'a valid token while the JWKS is unreachable',
    decision: 'deny',
    reason: 'jwks_unavailable',
    authorization: () => `Bearer ${userToken()}`,
    options: () => ({ jwksCache: unreachableJwks() }),
    secrets: () => [],
  },
];

/** Run one scenario; the token text it sent is added to its secrets. */
async function run(scenario: Scenario): Promise<{ secrets: string[] }> {
  const authorization = scenario.authorization();
  const values = authorization === undefined ? [] : [authorization].flat();
  const presented = values.flatMap((value) => {
    const credential = value.replace(/^\S+ +/, '');
    return credential.startsWith('mcpk_') ? keyParts(credential) : jwtParts(credential);
  });
  await settle(authorizer(scenario.options?.())(eventFor(authorization), lambdaContext()));
  return { secrets: [...new Set([...scenario.secrets(), ...presented])] };
}

describe('authorizer handler: audit', () => {
  it.each(SCENARIOS)(
    'writes exactly one auth-decision record ($decision, $reason) for $name',
    async (scenario) => {
      // Act
      await run(scenario);

      // Assess
      expect(
        auditRecords().map((record) => ({
          decision: record[AUDIT_FIELDS.decision],
          reason: record[AUDIT_FIELDS.reason],
        })),
      ).toEqual([{ decision: scenario.decision, reason: scenario.reason }]);
    },
  );

  it('records the caller, its key id, groups, request id and source IP on an allow', async () => {
    // Act
    await authorizer()(eventFor(`Bearer ${fx.key}`), lambdaContext());

    // Assess
    expect(auditRecords()).toEqual([
      expect.objectContaining({
        [AUDIT_FIELDS.caller]: 'ci-bot',
        [AUDIT_FIELDS.authMethod]: 'api_key',
        [AUDIT_FIELDS.keyId]: fx.keyId,
        [AUDIT_FIELDS.groups]: ['readonly'],
        [AUDIT_FIELDS.requestId]: REQUEST_ID,
        [AUDIT_FIELDS.sourceIp]: SOURCE_IP,
      }),
    ]);
  });

  it('names the key id, but not the key, of a refused API key', async () => {
    // Prepare
    const forged = formatApiKey(fx.keyId, generateSecret());

    // Act
    await settle(authorizer()(eventFor(`Bearer ${forged}`), lambdaContext()));

    // Assess
    expect(auditRecords()).toEqual([
      expect.objectContaining({ [AUDIT_FIELDS.keyId]: fx.keyId, [AUDIT_FIELDS.caller]: 'ci-bot' }),
    ]);
  });
});

describe('authorizer handler: no credential text in the logs', () => {
  it.each(SCENARIOS)('logs no token, key or secret text for $name', async (scenario) => {
    // Act
    const { secrets } = await run(scenario);

    // Assess
    expect(logs.lines.length).toBeGreaterThan(0);
    expect(secrets.filter((secret) => logs.lines.some((line) => line.includes(secret)))).toEqual(
      [],
    );
  });
});
