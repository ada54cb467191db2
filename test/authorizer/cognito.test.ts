/**
 * `cachedKeysFirst`: the sync path while the cached JWKS holds the token's key, the async
 * (fetching) path only when it does not, and every token error passed on as it is.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  JwksNotAvailableInCacheError,
  JwtExpiredError,
  KidNotFoundInJwksError,
} from 'aws-jwt-verify/error';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  type CognitoVerifier,
  cachedKeysFirst,
  createCognitoVerifier,
  UNKNOWN_KID_REFETCH_MS,
} from '../../lambda/authorizer/cognito';
import {
  LOCAL_CLIENT_ID,
  LOCAL_JWKS_URI,
  LOCAL_SCOPE,
  LOCAL_USER_POOL_ID,
  loadSigningKey,
  localJwks,
  mintAccessToken,
  type SigningKey,
} from '../../tools/local-identity';

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
    clock += UNKNOWN_KID_REFETCH_MS - 1;
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

  it('always fetches a JWKS that was never cached, however often', async () => {
    // Prepare
    const verifier = fakeVerifier(() => {
      throw new JwksNotAvailableInCacheError('uri');
    });
    const fast = cachedKeysFirst(verifier, () => 0);

    // Act
    await fast.verify('a');
    await fast.verify('b');

    // Assess
    expect(verifier.verify).toHaveBeenCalledTimes(2);
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
