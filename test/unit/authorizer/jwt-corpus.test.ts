/**
 * `decide()` against a corpus of bad Cognito access tokens, verified by the production verifier
 * configuration with the local signing key standing in for the user pool's (offline).
 */
import { createHmac, createPublicKey } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FetchError } from 'aws-jwt-verify/error';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cachedKeysFirst, createCognitoVerifier } from '../../../lambda/authorizer/cognito';
import { type DecideDeps, decide } from '../../../lambda/authorizer/decide';
import { createAuthorizerHandler, UNAUTHORIZED } from '../../../lambda/authorizer/handler';
import { AUDIT_EVENTS, AUDIT_FIELDS, type AuthReason } from '../../../lambda/shared/audit';
import { createLogger } from '../../../lambda/shared/logger';
import {
  LOCAL_CLIENT_ID,
  LOCAL_JWKS_URI,
  LOCAL_SCOPE,
  LOCAL_USER_POOL_ID,
  loadSigningKey,
  localJwks,
  localJwksCache,
  mintAccessToken,
  type SigningKey,
} from '../../../tools/local/identity';
import { authorizerEvent } from '../../support/apigw-events';
import { captureLogs } from '../../support/capture-logs';

const VERIFIER_CONFIG = {
  userPoolId: LOCAL_USER_POOL_ID,
  clientIds: [LOCAL_CLIENT_ID],
  requiredScopes: [LOCAL_SCOPE],
};

let dirs: string[] = [];
let key: SigningKey;
/** Another RSA key pair that claims the user pool key's kid. */
let impostor: SigningKey;

beforeAll(() => {
  dirs = [mkdtempSync(join(tmpdir(), 'jwt-corpus-')), mkdtempSync(join(tmpdir(), 'jwt-corpus-'))];
  key = loadSigningKey(dirs[0]);
  impostor = { ...loadSigningKey(dirs[1]), kid: key.kid };
});

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/**
 * Fresh deps per test: the JWKS cache and its penalty box must not leak between cases. The
 * verifier is built as the Lambda builds it: cached keys first, fetching only when needed.
 */
function deps(jwksCache: SimpleJwksCache = localJwksCache(key)): DecideDeps {
  return {
    apiKeyRoles: new Set(),
    verifier: cachedKeysFirst(createCognitoVerifier(VERIFIER_CONFIG, jwksCache)),
    apiKeys: {
      verify: async () => {
        throw new Error('A bearer token must never reach the API-key store');
      },
    },
  };
}

function bearer(token: string) {
  return { headers: { Authorization: `Bearer ${token}` } };
}

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

function segments(token: string): [string, string, string] {
  const [header = '', payload = '', signature = ''] = token.split('.');
  return [header, payload, signature];
}

function decodeSegment(segment: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(segment, 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** A valid token for a readonly user, the starting point of most forgeries. */
function validToken(overrides: Partial<Parameters<typeof mintAccessToken>[1]> = {}): string {
  return mintAccessToken(key, { sub: 'user-0001', groups: ['readonly'], ...overrides });
}

/** The RSA public key as PEM text: what a confused verifier would use as the HMAC secret. */
function publicKeyPem(signingKey: SigningKey): string {
  return createPublicKey({ key: signingKey.publicJwk, format: 'jwk' })
    .export({ type: 'spki', format: 'pem' })
    .toString();
}

/** Change one character in the middle of a segment (never the last: it may only hold padding bits). */
function flipCharacter(segment: string): string {
  const at = Math.floor(segment.length / 2);
  const replacement = segment[at] === 'A' ? 'B' : 'A';
  return `${segment.slice(0, at)}${replacement}${segment.slice(at + 1)}`;
}

interface BadToken {
  readonly name: string;
  readonly reason: AuthReason;
  readonly token: () => string;
}

const CORPUS: readonly BadToken[] = [
  {
    name: 'an alg none token with an empty signature',
    reason: 'malformed_credential',
    token: () => {
      const [, payload] = segments(validToken());
      return `${b64url({ kid: key.kid, alg: 'none' })}.${payload}.`;
    },
  },
  {
    name: 'an alg none token that still carries a signature',
    reason: 'invalid_algorithm',
    token: () => validToken({ header: { alg: 'none' } }),
  },
  {
    name: 'an HS256 token keyed with the RSA public key (key confusion)',
    reason: 'invalid_algorithm',
    token: () => {
      const [, payload] = segments(validToken({ groups: ['admin'] }));
      const header = b64url({ kid: key.kid, alg: 'HS256', typ: 'JWT' });
      const signature = createHmac('sha256', publicKeyPem(key))
        .update(`${header}.${payload}`)
        .digest('base64url');
      return `${header}.${payload}.${signature}`;
    },
  },
  {
    name: 'an expired token',
    reason: 'token_expired',
    token: () => validToken({ expiresIn: -60 }),
  },
  {
    name: 'a token that is not valid yet (nbf in the future)',
    reason: 'token_not_yet_valid',
    token: () => validToken({ claims: { nbf: Math.floor(Date.now() / 1000) + 3600 } }),
  },
  {
    name: 'a token from another user pool (wrong issuer)',
    reason: 'wrong_issuer',
    token: () =>
      validToken({ issuer: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Attacker01' }),
  },
  {
    // aws-jwt-verify accepts this spelling too, with a JWKS of its own that it would fetch.
    name: "a token naming the pool's other issuer spelling (issuer-cognito-idp)",
    reason: 'wrong_issuer',
    token: () =>
      validToken({
        issuer: `https://issuer-cognito-idp.us-east-1.amazonaws.com/${LOCAL_USER_POOL_ID}`,
      }),
  },
  {
    name: 'a token for another app client',
    reason: 'wrong_client',
    token: () => validToken({ clientId: 'someotherappclient0000000' }),
  },
  {
    name: 'an id token instead of an access token',
    reason: 'wrong_token_use',
    token: () => validToken({ tokenUse: 'id' }),
  },
  {
    name: 'a token without the required scope',
    reason: 'missing_scope',
    token: () => validToken({ scopes: ['openid', 'profile'] }),
  },
  {
    name: 'a token with no scope at all',
    reason: 'missing_scope',
    token: () => validToken({ scopes: [] }),
  },
  {
    // Scopes only narrow: dropping a malformed one would leave the token less narrowed.
    name: 'a correctly signed token with a scope over 256 characters',
    reason: 'malformed_scope',
    token: () => validToken({ scopes: [LOCAL_SCOPE, `secure-mcp/${'x'.repeat(250)}`] }),
  },
  {
    name: 'a correctly signed token with a scope holding a double quote',
    reason: 'malformed_scope',
    token: () => validToken({ scopes: [LOCAL_SCOPE, 'secure-mcp/read_data"'] }),
  },
  {
    name: 'a correctly signed token with a scope holding a backslash',
    reason: 'malformed_scope',
    token: () => validToken({ scopes: [LOCAL_SCOPE, 'mcp-server\\read_data'] }),
  },
  {
    name: 'a correctly signed token with a scope holding a tab',
    reason: 'malformed_scope',
    token: () => validToken({ scopes: [`${LOCAL_SCOPE}\tsecure-mcp/read_data`, LOCAL_SCOPE] }),
  },
  {
    name: 'a correctly signed token with more scopes than the authorizer context carries',
    reason: 'malformed_scope',
    token: () =>
      validToken({ scopes: [LOCAL_SCOPE, ...Array.from({ length: 100 }, (_, i) => `s${i}`)] }),
  },
  {
    name: 'a tampered payload (groups swapped to admin, signature kept)',
    reason: 'invalid_signature',
    token: () => {
      const [header, payload, signature] = segments(validToken());
      const claims = { ...decodeSegment(payload), 'cognito:groups': ['admin'] };
      return `${header}.${b64url(claims)}.${signature}`;
    },
  },
  {
    name: 'a tampered signature (one character changed)',
    reason: 'invalid_signature',
    token: () => {
      const [header, payload, signature] = segments(validToken());
      return `${header}.${payload}.${flipCharacter(signature)}`;
    },
  },
  {
    name: 'a token whose signature was cut short',
    reason: 'invalid_signature',
    token: () => validToken().slice(0, -10),
  },
  {
    name: 'a token signed by another RSA key under the same kid',
    reason: 'invalid_signature',
    token: () => mintAccessToken(impostor, { sub: 'user-0001', groups: ['admin'] }),
  },
  {
    name: 'a token naming a kid the user pool does not publish',
    reason: 'unknown_kid',
    token: () => validToken({ header: { kid: 'not-a-published-kid' } }),
  },
  {
    name: 'a token without a kid',
    reason: 'unknown_kid',
    token: () => validToken({ header: { kid: undefined } }),
  },
  {
    name: 'a token truncated inside its payload',
    reason: 'malformed_credential',
    token: () => {
      const token = validToken();
      return token.slice(0, token.indexOf('.') + 20);
    },
  },
  {
    name: 'a token that is not base64 at all',
    reason: 'malformed_credential',
    token: () => '%%%.$$$.!!!',
  },
  {
    name: 'a token whose segments are base64url but not JSON',
    reason: 'malformed_credential',
    token: () => 'bm90IGpzb24.c3RpbGwgbm90IGpzb24.c2lnbmF0dXJl',
  },
  {
    name: 'a token whose header is JSON but not an object',
    reason: 'malformed_credential',
    token: () => {
      const [, payload, signature] = segments(validToken());
      return `${b64url('RS256')}.${payload}.${signature}`;
    },
  },
  {
    name: 'an empty token',
    reason: 'malformed_credential',
    token: () => '',
  },
  {
    name: 'a correctly signed token without a sub',
    reason: 'invalid_token',
    token: () => validToken({ claims: { sub: undefined } }),
  },
  {
    name: 'a correctly signed token whose cognito:groups is not a list',
    reason: 'invalid_token',
    token: () => validToken({ claims: { 'cognito:groups': 'admin' } }),
  },
];

/** Deps whose JWKS is already cached (a warm Lambda): every check runs on the sync path. */
async function warmDeps(): Promise<DecideDeps> {
  const jwksCache = localJwksCache(key);
  await jwksCache.getJwks(LOCAL_JWKS_URI);
  return deps(jwksCache);
}

/** Both paths of `cachedKeysFirst`: a cold verifier fetches the JWKS, a warm one does not. */
const PATHS = [
  { path: 'the JWKS still to fetch (async path)', prepare: async () => deps() },
  { path: 'the JWKS cached (sync path)', prepare: warmDeps },
];

describe.each(PATHS)('decide() with a bad bearer token and $path', ({ prepare }) => {
  it.each(CORPUS)(
    'refuses $name as unauthorized with reason $reason',
    async ({ token, reason }) => {
      // Prepare
      const request = bearer(token());

      // Act
      const decision = await decide(request, await prepare());

      // Assess
      expect(decision).toMatchObject({ effect: 'unauthorized', reason });
    },
  );
});

describe.each(PATHS)('decide() with a valid access token and $path', ({ prepare }) => {
  it('allows the caller as the principal named by sub, with its groups and scopes', async () => {
    // Prepare
    const token = mintAccessToken(key, {
      sub: 'b7e5a1c2-0000-4000-8000-000000000001',
      groups: ['analyst', 'readonly'],
    });

    // Act
    const decision = await decide(bearer(token), await prepare());

    // Assess
    expect(decision).toEqual({
      effect: 'allow',
      principal: {
        principalId: 'b7e5a1c2-0000-4000-8000-000000000001',
        authMethod: 'cognito',
        groups: ['analyst', 'readonly'],
        scopes: [LOCAL_SCOPE],
        keyId: '',
        expiresAt: expect.any(Number),
      },
      // For the not-before list: a token's iat and auth_time travel with the decision.
      issued: { issuedAt: expect.any(Number), authTime: expect.any(Number) },
    });
  });

  it('splits a space-separated scope claim into separate scopes', async () => {
    // Prepare
    const token = validToken({ scopes: [LOCAL_SCOPE, 'openid', 'email'] });

    // Act
    const decision = await decide(bearer(token), deps());

    // Assess
    expect(decision).toMatchObject({
      effect: 'allow',
      principal: { scopes: [LOCAL_SCOPE, 'openid', 'email'] },
    });
  });

  it('gives a caller without cognito:groups an empty group list', async () => {
    // Prepare
    const token = validToken({ groups: [] });

    // Act
    const decision = await decide(bearer(token), deps());

    // Assess
    expect(decision).toMatchObject({ effect: 'allow', principal: { groups: [] } });
  });

  it('drops a group named "x,admin" so that it can never become the admin role', async () => {
    // Prepare
    const token = validToken({ groups: ['x,admin', 'readonly'] });

    // Act
    const decision = await decide(bearer(token), deps());

    // Assess
    expect(decision).toMatchObject({ effect: 'allow', principal: { groups: ['readonly'] } });
  });
});

describe('decide() when the JWKS cannot be had', () => {
  it('denies with jwks_unavailable when fetching the JWKS fails', async () => {
    // Prepare
    const jwksCache = new SimpleJwksCache({
      fetcher: {
        fetch: async (uri) => {
          throw new FetchError(uri, 'connect ECONNREFUSED');
        },
      },
    });

    // Act
    const decision = await decide(bearer(validToken()), deps(jwksCache));

    // Assess
    expect(decision).toMatchObject({ effect: 'deny', reason: 'jwks_unavailable' });
  });

  it('denies with jwks_unavailable when the JWKS endpoint returns something else', async () => {
    // Prepare
    const jwksCache = new SimpleJwksCache({
      fetcher: {
        fetch: async () => new TextEncoder().encode('<html>Service Unavailable</html>').buffer,
      },
    });

    // Act
    const decision = await decide(bearer(validToken()), deps(jwksCache));

    // Assess
    expect(decision).toMatchObject({ effect: 'deny', reason: 'jwks_unavailable' });
  });

  it('denies (fails closed) when the fetcher fails in an unexpected way', async () => {
    // Prepare
    const jwksCache = new SimpleJwksCache({
      fetcher: {
        fetch: async () => {
          throw new TypeError('socket hang up');
        },
      },
    });

    // Act
    const decision = await decide(bearer(validToken()), deps(jwksCache));

    // Assess
    expect(decision).toMatchObject({ effect: 'deny' });
  });

  it('never fetches a JWKS from the issuer a token names for itself', async () => {
    // Prepare
    const fetched: string[] = [];
    const jwksCache = new SimpleJwksCache({
      fetcher: {
        fetch: async (uri) => {
          fetched.push(uri);
          return new TextEncoder().encode(JSON.stringify(localJwks(key))).buffer;
        },
      },
    });
    const token = validToken({ issuer: 'https://attacker.example/us-east-1_LocalDev01' });

    // Act
    await decide(bearer(token), deps(jwksCache));

    // Assess
    expect(fetched.filter((uri) => uri !== LOCAL_JWKS_URI)).toEqual([]);
  });
});

describe("the authorizer handler with forged tokens naming the pool's other issuer spelling", () => {
  it('answers 401 with an audited wrong_issuer, no ERROR log and no JWKS fetch, every time', async () => {
    // Prepare: a warm authorizer whose JWKS endpoint records every fetch.
    const fetched: string[] = [];
    const jwksCache = new SimpleJwksCache({
      fetcher: {
        fetch: async (uri) => {
          fetched.push(uri);
          if (uri !== LOCAL_JWKS_URI) throw new FetchError(uri, 'connect ETIMEDOUT');
          return new TextEncoder().encode(JSON.stringify(localJwks(key))).buffer;
        },
      },
    });
    const verifier = createCognitoVerifier(VERIFIER_CONFIG, jwksCache);
    await verifier.hydrate();
    const handler = createAuthorizerHandler({
      ...deps(),
      verifier: cachedKeysFirst(verifier),
      logger: createLogger('mcp-authorizer'),
    });
    const forged = validToken({
      groups: ['admin'],
      issuer: `https://issuer-cognito-idp.us-east-1.amazonaws.com/${LOCAL_USER_POOL_ID}`,
    });
    const event = authorizerEvent({
      requestId: 'forged-1',
      headers: { Authorization: `Bearer ${forged}` },
    });
    const logs = captureLogs();

    // Act
    let outcomes: PromiseSettledResult<unknown>[];
    try {
      outcomes = await Promise.allSettled([1, 2, 3].map(() => handler(event)));
    } finally {
      logs.restore();
    }

    // Assess: API Gateway turns the Unauthorized error into a 401.
    for (const outcome of outcomes) {
      expect(outcome.status).toBe('rejected');
      expect((outcome as PromiseRejectedResult).reason).toEqual(new Error(UNAUTHORIZED));
    }
    const records = logs.records();
    const audits = records.filter((r) => r[AUDIT_FIELDS.event] === AUDIT_EVENTS.authDecision);
    expect(audits.map((r) => [r[AUDIT_FIELDS.decision], r[AUDIT_FIELDS.reason]])).toEqual([
      ['deny', 'wrong_issuer'],
      ['deny', 'wrong_issuer'],
      ['deny', 'wrong_issuer'],
    ]);
    expect(records.filter((r) => r.level === 'ERROR')).toEqual([]);
    expect(fetched).toEqual([LOCAL_JWKS_URI]);
  });
});
