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
import { type ApiKeySource, ApiKeyStore } from '../../lambda/authorizer/api-key-store';
import { createCognitoVerifier } from '../../lambda/authorizer/cognito';
import { type AuthorizerHandler, createAuthorizerHandler } from '../../lambda/authorizer/handler';
import { type ApiKeyDocument, formatApiKey, generateSecret } from '../../lambda/shared/api-key';
import { AUDIT_EVENTS, AUDIT_FIELDS, type AuthReason } from '../../lambda/shared/audit';
import { createLogger } from '../../lambda/shared/logger';
import { addKey, revokeKey } from '../../tools/api-key-admin';
import { policyAllows } from '../../tools/emulator/authorizer';
import {
  LOCAL_CLIENT_ID,
  LOCAL_SCOPE,
  LOCAL_USER_POOL_ID,
  loadSigningKey,
  localJwksCache,
  mintAccessToken,
  type SigningKey,
} from '../../tools/local-identity';
import { type CapturedLogs, captureLogs } from '../helpers/capture-logs';

const REGION = 'eu-west-1';
const ACCOUNT = '123456789012';
const API_ID = 'abcdef1234';
const STAGE = 'prod';
const STAGE_ARN = `arn:aws:execute-api:${REGION}:${ACCOUNT}:${API_ID}/${STAGE}`;
const REQUEST_ID = 'c0ffee00-1234-4abc-8def-000000000001';
const SOURCE_IP = '203.0.113.7';
const USER_SUB = 'b7e5a1c2-0000-4000-8000-000000000001';
const NOW = new Date('2026-03-01T12:00:00.000Z');

const methodArn = (method: string, path = '/mcp', stageArn = STAGE_ARN) =>
  `${stageArn}/${method}${path}`;

/** A REST API REQUEST-authorizer event for `method /mcp`, as API Gateway sends it. */
function authorizerEvent(
  authorization: string | readonly string[] | undefined,
  method = 'POST',
): APIGatewayRequestAuthorizerEvent {
  const values =
    authorization === undefined
      ? []
      : typeof authorization === 'string'
        ? [authorization]
        : [...authorization];
  const last = values.at(-1);
  return {
    type: 'REQUEST',
    methodArn: methodArn(method),
    resource: '/mcp',
    path: '/mcp',
    httpMethod: method,
    headers: {
      Host: `${API_ID}.execute-api.${REGION}.amazonaws.com`,
      ...(last === undefined ? {} : { Authorization: last }),
    },
    multiValueHeaders: {
      Host: [`${API_ID}.execute-api.${REGION}.amazonaws.com`],
      ...(values.length === 0 ? {} : { Authorization: values }),
    },
    pathParameters: {},
    queryStringParameters: {},
    multiValueQueryStringParameters: {},
    stageVariables: {},
    requestContext: {
      accountId: ACCOUNT,
      apiId: API_ID,
      stage: STAGE,
      requestId: REQUEST_ID,
      httpMethod: method,
      path: `/${STAGE}/mcp`,
      resourcePath: '/mcp',
      identity: { sourceIp: SOURCE_IP },
    },
  } as unknown as APIGatewayRequestAuthorizerEvent;
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
}

let dir: string;
let fx: Fixtures;
let logs: CapturedLogs;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'authorizer-handler-'));
  const first = addKey({ version: 1, keys: {} }, { name: 'ci-bot', roles: ['readonly'], now: NOW });
  const second = addKey(first.document, { name: 'old-bot', roles: ['admin'], now: NOW });
  fx = {
    signingKey: loadSigningKey(dir),
    document: revokeKey(second.document, second.keyId, NOW),
    keyId: first.keyId,
    key: first.key,
    revokedKey: second.key,
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

interface HandlerOptions {
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
    verifier: createCognitoVerifier(
      {
        userPoolId: LOCAL_USER_POOL_ID,
        clientIds: [LOCAL_CLIENT_ID],
        requiredScopes: [LOCAL_SCOPE],
      },
      options.jwksCache ?? localJwksCache(fx.signingKey),
    ),
    apiKeys: new ApiKeyStore({ source, ttlMs: 300_000, minRefreshMs: 10_000 }),
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

function userToken(options: { expiresIn?: number; groups?: string[] } = {}): string {
  return mintAccessToken(fx.signingKey, {
    sub: USER_SUB,
    groups: options.groups ?? ['analyst', 'readonly'],
    expiresIn: options.expiresIn,
  });
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
    const result = await authorizer()(authorizerEvent(`Bearer ${userToken()}`), lambdaContext());

    // Assess
    expect(result.policyDocument.Statement).toEqual([
      { Action: 'execute-api:Invoke', Effect: 'Allow', Resource: [`${STAGE_ARN}/*/mcp`] },
    ]);
  });

  it('returns a policy that API Gateway applies to POST, GET and DELETE on /mcp', async () => {
    // Act
    const result = await authorizer()(authorizerEvent(`Bearer ${userToken()}`), lambdaContext());

    // Assess
    expect(['POST', 'GET', 'DELETE'].map((m) => policyAllows(result, methodArn(m)))).toEqual([
      true,
      true,
      true,
    ]);
  });

  it('returns a policy that API Gateway does not apply to other paths, stages or APIs', async () => {
    // Act
    const result = await authorizer()(authorizerEvent(`Bearer ${userToken()}`), lambdaContext());

    // Assess
    expect([
      policyAllows(result, methodArn('POST', '/other')),
      policyAllows(result, methodArn('POST', '/mcp/other')),
      policyAllows(result, methodArn('POST', '/mcp', STAGE_ARN.replace('/prod', '/dev'))),
      policyAllows(result, methodArn('POST', '/mcp', STAGE_ARN.replace(API_ID, 'zzzzzz9999'))),
    ]).toEqual([false, false, false, false]);
  });

  it('hands a Cognito caller on as sub, groups and scopes, all as strings', async () => {
    // Act
    const result = await authorizer()(authorizerEvent(`Bearer ${userToken()}`), lambdaContext());

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
    const result = await authorizer()(authorizerEvent(`Bearer ${fx.key}`), lambdaContext());

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
        authorizer()(authorizerEvent(authorization()), lambdaContext()),
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

describe('authorizer handler: Deny (403) when the credential cannot be checked', () => {
  it('returns a Deny policy, not a throw, when the API-key store is unavailable', async () => {
    // Act
    const { result, error } = await settle(
      authorizer({ apiKeySource: unavailableKeys })(
        authorizerEvent(`Bearer ${fx.key}`),
        lambdaContext(),
      ),
    );

    // Assess
    expect({ error, effects: result?.policyDocument.Statement.map((s) => s.Effect) }).toEqual({
      error: undefined,
      effects: ['Deny'],
    });
  });

  it('logs why it failed closed: the chain of errors behind the deny', async () => {
    // Act
    await authorizer({ apiKeySource: unavailableKeys })(
      authorizerEvent(`Bearer ${fx.key}`),
      lambdaContext(),
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

  it('returns a Deny policy under which API Gateway refuses the request', async () => {
    // Act
    const result = await authorizer({ apiKeySource: unavailableKeys })(
      authorizerEvent(`Bearer ${fx.key}`),
      lambdaContext(),
    );

    // Assess
    expect(policyAllows(result, methodArn('POST'))).toBe(false);
  });

  it('returns a Deny policy, not a throw, when the JWKS cannot be fetched', async () => {
    // Act
    const { result, error } = await settle(
      authorizer({ jwksCache: unreachableJwks() })(
        authorizerEvent(`Bearer ${userToken()}`),
        lambdaContext(),
      ),
    );

    // Assess
    expect({ error, effects: result?.policyDocument.Statement.map((s) => s.Effect) }).toEqual({
      error: undefined,
      effects: ['Deny'],
    });
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
  await settle(authorizer(scenario.options?.())(authorizerEvent(authorization), lambdaContext()));
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
    await authorizer()(authorizerEvent(`Bearer ${fx.key}`), lambdaContext());

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
    await settle(authorizer()(authorizerEvent(`Bearer ${forged}`), lambdaContext()));

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
