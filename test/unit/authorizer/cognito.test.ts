/**
 * `cachedKeysFirst`: the sync path while the cached JWKS holds the token's key, the async
 * (fetching) path only when it does not, at most one fetch per window, and every token error
 * passed on as it is. `createCognitoVerifier`: one issuer, the pool's, checked before any key.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  JwksNotAvailableInCacheError,
  JwtExpiredError,
  JwtInvalidIssuerError,
  KidNotFoundInJwksError,
} from 'aws-jwt-verify/error';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  type CognitoVerifier,
  cachedKeysFirst,
  createCognitoVerifier,
  JWKS_REFETCH_MS,
  reasonForJwtError,
  userPoolIssuer,
} from '../../../lambda/authorizer/cognito';
import {
  LOCAL_CLIENT_ID,
  LOCAL_ISSUER,
  LOCAL_JWKS_URI,
  LOCAL_SCOPE,
  LOCAL_USER_POOL_ID,
  loadSigningKey,
  localJwks,
  mintAccessToken,
  type SigningKey,
} from '../../../tools/local/identity';

const PAYLOAD = { sub: 'user-1' };

function fakeVerifier(syncOutcome: () => Record<string, unknown>) {
  const verifier = {
    verifySync: vi.fn((_token: string) => syncOutcome()),
    verify: vi.fn(async (_token: string) => ({ sub: 'from-async' })),
  } satisfies CognitoVerifier;
  return verifier;
}

describe('cachedKeysFirst', () => {
  it('answers from the sync path when the cached JWKS holds the key, never fetching', async () => {
    // Prepare
    const verifier = fakeVerifier(() => PAYLOAD);

    // Act
    const payload = await cachedKeysFirst(verifier).verify('t');

    // Assess
    expect(payload).toBe(PAYLOAD);
    expect(verifier.verify).not.toHaveBeenCalled();
  });

  it.each([
    { why: 'the JWKS is not cached yet', error: new JwksNotAvailableInCacheError('uri') },
    { why: 'the cached JWKS lacks the kid', error: new KidNotFoundInJwksError('no kid') },
  ])('goes the async (fetching) way when $why', async ({ error }) => {
    // Prepare
    const verifier = fakeVerifier(() => {
      throw error;
    });

    // Act
    const payload = await cachedKeysFirst(verifier).verify('t');

    // Assess
    expect(payload).toEqual({ sub: 'from-async' });
    expect(verifier.verify).toHaveBeenCalledWith('t');
  });

  it('refetches for unknown kids at most once per window, whatever the fetch gave', async () => {
    // Prepare: the JWKS endpoint fails, and forged tokens carry ever new kids.
    let clock = 0;
    const verifier = fakeVerifier(() => {
      throw new KidNotFoundInJwksError('no such kid');
    });
    verifier.verify.mockRejectedValue(new Error('JWKS fetch failed'));
    const fast = cachedKeysFirst(verifier, () => clock);

    // Act
    const first = fast.verify('forged-1');
    const second = fast.verify('forged-2');
    clock += JWKS_REFETCH_MS - 1;
    const third = fast.verify('forged-3');
    clock += 1;
    const fourth = fast.verify('forged-4');

    // Assess: one fetch per window; in between, refused as an unknown kid (401), not fetched.
    await expect(first).rejects.toThrow('JWKS fetch failed');
    await expect(second).rejects.toBeInstanceOf(KidNotFoundInJwksError);
    await expect(third).rejects.toBeInstanceOf(KidNotFoundInJwksError);
    await expect(fourth).rejects.toThrow('JWKS fetch failed');
    expect(verifier.verify.mock.calls.map(([token]) => token)).toEqual(['forged-1', 'forged-4']);
  });

  it('fetches a JWKS never cached at most once per window while the fetch fails', async () => {
    // Prepare: the cold-start fetch failed and the JWKS endpoint still fails.
    let clock = 0;
    const verifier = fakeVerifier(() => {
      throw new JwksNotAvailableInCacheError('uri');
    });
    verifier.verify.mockRejectedValue(new Error('JWKS fetch failed'));
    const fast = cachedKeysFirst(verifier, () => clock);

    // Act
    const first = fast.verify('a');
    const second = fast.verify('b');
    clock += JWKS_REFETCH_MS;
    const third = fast.verify('c');

    // Assess: in between, refused as unavailable (fail closed) without a fetch.
    await expect(first).rejects.toThrow('JWKS fetch failed');
    await expect(second).rejects.toBeInstanceOf(JwksNotAvailableInCacheError);
    await expect(third).rejects.toThrow('JWKS fetch failed');
    expect(verifier.verify.mock.calls.map(([token]) => token)).toEqual(['a', 'c']);
  });

  it('rejects with the token error itself, without a second (async) try', async () => {
    // Prepare
    const expired = new JwtExpiredError('expired', 1);
    const verifier = fakeVerifier(() => {
      throw expired;
    });

    // Act & Assess
    await expect(cachedKeysFirst(verifier).verify('t')).rejects.toBe(expired);
    expect(verifier.verify).not.toHaveBeenCalled();
  });

  describe('with the real verifier when the user pool rotates its signing key', () => {
    let dirs: string[] = [];
    let oldKey: SigningKey;
    let newKey: SigningKey;

    beforeAll(() => {
      dirs = [mkdtempSync(join(tmpdir(), 'cognito-')), mkdtempSync(join(tmpdir(), 'cognito-'))];
      oldKey = loadSigningKey(dirs[0]);
      newKey = loadSigningKey(dirs[1]);
    });

    afterAll(() => {
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    });

    it('refetches the JWKS once for the new kid, then verifies from the cache again', async () => {
      // Prepare: the pool publishes the old key, then both.
      let published = [oldKey];
      const fetches: string[] = [];
      const jwksCache = new SimpleJwksCache({
        fetcher: {
          fetch: async (uri) => {
            fetches.push(uri);
            const keys = published.flatMap((k) => localJwks(k).keys);
            return new TextEncoder().encode(JSON.stringify({ keys })).buffer;
          },
        },
      });
      const verifier = createCognitoVerifier(
        {
          userPoolId: LOCAL_USER_POOL_ID,
          clientIds: [LOCAL_CLIENT_ID],
          requiredScopes: [LOCAL_SCOPE],
        },
        jwksCache,
      );
      const fast = cachedKeysFirst(verifier);
      await fast.verify(mintAccessToken(oldKey, { sub: 'before' }));
      published = [oldKey, newKey];

      // Act
      const rotated = await fast.verify(mintAccessToken(newKey, { sub: 'after' }));
      const again = await fast.verify(mintAccessToken(newKey, { sub: 'again' }));

      // Assess
      expect([rotated.sub, again.sub]).toEqual(['after', 'again']);
      expect(fetches).toEqual([LOCAL_JWKS_URI, LOCAL_JWKS_URI]);
    });
  });
});

describe('createCognitoVerifier', () => {
  let dir: string;
  let key: SigningKey;
  const config = {
    userPoolId: LOCAL_USER_POOL_ID,
    clientIds: [LOCAL_CLIENT_ID],
    requiredScopes: [LOCAL_SCOPE],
  };
  /** The pool's other issuer spelling, which aws-jwt-verify would accept on its own. */
  const updatedIssuer = LOCAL_ISSUER.replace('https://cognito-idp.', 'https://issuer-cognito-idp.');

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cognito-'));
    key = loadSigningKey(dir);
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  /** A JWKS cache that serves the local key at any URI and records what it was asked for. */
  function recordingJwksCache() {
    const fetches: string[] = [];
    const jwksCache = new SimpleJwksCache({
      fetcher: {
        fetch: async (uri) => {
          fetches.push(uri);
          return new TextEncoder().encode(JSON.stringify(localJwks(key))).buffer;
        },
      },
    });
    return { fetches, jwksCache };
  }

  it("expects the pool's original issuer, the one the stack pins and the metadata names", () => {
    // Act & Assess
    expect(userPoolIssuer(LOCAL_USER_POOL_ID)).toBe(LOCAL_ISSUER);
    expect(createCognitoVerifier(config).issuer).toBe(LOCAL_ISSUER);
  });

  it("refuses a token naming the pool's other issuer spelling as a wrong issuer, fetching nothing", async () => {
    // Prepare: a warm verifier; forged tokens name the UPDATED spelling, whose JWKS is never cached.
    const { fetches, jwksCache } = recordingJwksCache();
    const verifier = createCognitoVerifier(config, jwksCache);
    await verifier.hydrate();
    const fast = cachedKeysFirst(verifier);
    const forged = mintAccessToken(key, { sub: 'forged', issuer: updatedIssuer });

    // Act
    const outcomes = await Promise.allSettled([1, 2, 3].map(() => fast.verify(forged)));

    // Assess: three refusals as wrong_issuer (401), and only the cold-start fetch of the pool's JWKS.
    for (const outcome of outcomes) {
      expect(outcome.status).toBe('rejected');
      const reason = (outcome as PromiseRejectedResult).reason;
      expect(reason).toBeInstanceOf(JwtInvalidIssuerError);
      expect(reasonForJwtError(reason)).toBe('wrong_issuer');
    }
    expect(fetches).toEqual([LOCAL_JWKS_URI]);
  });

  it('refuses the other spelling on the async path too, before any JWKS is fetched', async () => {
    // Prepare: a cold verifier, so the library would fetch that spelling's JWKS.
    const { fetches, jwksCache } = recordingJwksCache();
    const verifier = createCognitoVerifier(config, jwksCache);

    // Act
    const outcome = verifier.verify(mintAccessToken(key, { sub: 'forged', issuer: updatedIssuer }));

    // Assess
    await expect(outcome).rejects.toBeInstanceOf(JwtInvalidIssuerError);
    expect(fetches).toEqual([]);
  });

  it("hydrates the pool's JWKS only, not the other spelling's", async () => {
    // Prepare
    const { fetches, jwksCache } = recordingJwksCache();

    // Act
    await createCognitoVerifier(config, jwksCache).hydrate();

    // Assess
    expect(fetches).toEqual([LOCAL_JWKS_URI]);
  });

  it('still verifies a token from the pool after cacheJwks, offline', () => {
    // Prepare
    const verifier = createCognitoVerifier(config, recordingJwksCache().jwksCache);
    verifier.cacheJwks(localJwks(key) as Parameters<typeof verifier.cacheJwks>[0]);

    // Act
    const payload = verifier.verifySync(mintAccessToken(key, { sub: 'alice' }));

    // Assess
    expect(payload.sub).toBe('alice');
  });
});
