/**
 * Refresh-token families: the client's token (a family id and a secret, kept only as digests)
 * and the stores that hold each family (DynamoDB in AWS, here against dynalite; memory in local
 * mode), held to the same contract: conditional rotation, one winner of two, an end that drops
 * the upstream token and sticks, nothing after the deadline.
 */
import { describe, expect, it } from 'vitest';
import {
  DynamoDbRefreshFamilyStore,
  REFRESH_FAMILY_ATTRIBUTES,
} from '../../../lambda/oauth-proxy/dynamodb-refresh-family-store';
import {
  familyDigest,
  newRefreshToken,
  parseRefreshToken,
  RefreshFamilyConflictError,
  type RefreshFamilyStore,
  rotatedRefreshToken,
} from '../../../lambda/oauth-proxy/refresh-families';
import { useDynaliteTables } from '../../support/dynalite-tables';
import { MemoryRefreshFamilyStore } from '../../support/memory-refresh-families';

describe('client refresh tokens', () => {
  it('are 32 random bytes in base64url that parse back to their family and secret digests', () => {
    // Act
    const issued = newRefreshToken();
    const parsed = parseRefreshToken(issued.token);

    // Assess
    expect(issued.token).toMatch(/^[\w-]{43}$/);
    expect(parsed).toEqual({ familyKey: issued.familyKey, secretHash: issued.secretHash });
    expect(issued.familyKey).toMatch(/^family#[0-9a-f]{64}$/);
    expect(issued.familyKey).not.toContain(issued.token);
    expect(newRefreshToken().familyKey).not.toBe(issued.familyKey);
  });

  it('rotate to a token of the same family with another secret', () => {
    // Prepare
    const first = newRefreshToken();

    // Act
    const next = rotatedRefreshToken(first.token);

    // Assess
    expect(next.familyKey).toBe(first.familyKey);
    expect(next.secretHash).not.toBe(first.secretHash);
    expect(next.token).not.toBe(first.token);
    expect(parseRefreshToken(next.token)).toEqual({
      familyKey: first.familyKey,
      secretHash: next.secretHash,
    });
  });

  it.each([
    ['an upstream-looking token', 'eyJjdHkiOiJKV1QiLCJlbmMiOiJBMjU2R0NNIiwiYWxnIjoiUlNBLU9BRVAifQ'],
    ['a short one', 'abc'],
    ['a second spelling of the same bytes', `${newRefreshToken().token.slice(0, 42)}B`],
    ['nothing', ''],
  ])('refuse to parse %s', (_, token) => {
    // A spelling that decodes to the same bytes must not pass as a second token.
    const bytes = Buffer.from(token, 'base64url');
    if (token.length === 43) expect(bytes.toString('base64url')).not.toBe(token);
    expect(parseRefreshToken(token)).toBeUndefined();
  });

  it('label a family for the log by a short digest, not by its key', () => {
    const { familyKey } = newRefreshToken();
    expect(familyDigest(familyKey)).toMatch(/^[0-9a-f]{16}$/);
    expect(familyKey).not.toContain(familyDigest(familyKey));
  });
});

const TABLE = 'oauth-refresh-families';
const dynalite = useDynaliteTables({ [TABLE]: REFRESH_FAMILY_ATTRIBUTES.partitionKey });

describe.each([
  [
    'DynamoDbRefreshFamilyStore (dynalite)',
    (now: () => number): RefreshFamilyStore =>
      new DynamoDbRefreshFamilyStore(dynalite.db, TABLE, now),
  ],
  [
    'MemoryRefreshFamilyStore',
    (now: () => number): RefreshFamilyStore => new MemoryRefreshFamilyStore({ now }),
  ],
])('%s', (_, make) => {
  let now = Date.UTC(2026, 11, 1, 12);
  const seconds = () => Math.floor(now / 1000);
  const store = () => make(() => now);
  /** A new family in a new store, its first token's parts. */
  async function created() {
    const families = store();
    const first = newRefreshToken();
    await families.create(first.familyKey, {
      secretHash: first.secretHash,
      sealed: 'sealed-0',
      expiresAt: seconds() + 3600,
    });
    return { families, first };
  }

  it('holds a new family at generation 0 with its secret digest and sealed state', async () => {
    // Act
    const { families, first } = await created();

    // Assess
    expect(await families.get(first.familyKey)).toEqual({
      secretHash: first.secretHash,
      generation: 0,
      sealed: 'sealed-0',
      expiresAt: seconds() + 3600,
    });
    expect(await families.get(newRefreshToken().familyKey)).toBeUndefined();
  });

  it('refuses to create a family under a key already held', async () => {
    // Prepare
    const { families, first } = await created();

    // Act
    const again = families.create(first.familyKey, {
      secretHash: 'other',
      sealed: 'other',
      expiresAt: seconds() + 3600,
    });

    // Assess
    await expect(again).rejects.toBeInstanceOf(RefreshFamilyConflictError);
    expect((await families.get(first.familyKey))?.secretHash).toBe(first.secretHash);
  });

  it('rotates once from the current secret, and never from an old one', async () => {
    // Prepare
    const { families, first } = await created();
    const second = rotatedRefreshToken(first.token);
    const third = rotatedRefreshToken(first.token);

    // Act
    const rotated = await families.rotate(
      first.familyKey,
      { secretHash: first.secretHash, generation: 0 },
      { secretHash: second.secretHash, sealed: 'sealed-1' },
    );
    const fromOld = await families.rotate(
      first.familyKey,
      { secretHash: first.secretHash, generation: 0 },
      { secretHash: third.secretHash, sealed: 'sealed-x' },
    );

    // Assess
    expect([rotated, fromOld]).toEqual([true, false]);
    expect(await families.get(first.familyKey)).toMatchObject({
      secretHash: second.secretHash,
      generation: 1,
      sealed: 'sealed-1',
    });
  });

  it('lets exactly one of concurrent rotations from the same secret win', async () => {
    // Prepare
    const { families, first } = await created();
    const candidates = [1, 2, 3, 4].map(() => rotatedRefreshToken(first.token));

    // Act
    const results = await Promise.all(
      candidates.map((next, i) =>
        families.rotate(
          first.familyKey,
          { secretHash: first.secretHash, generation: 0 },
          { secretHash: next.secretHash, sealed: `sealed-${i}` },
        ),
      ),
    );

    // Assess
    expect(results.filter((won) => won)).toHaveLength(1);
    const winner = results.indexOf(true);
    expect((await families.get(first.familyKey))?.secretHash).toBe(candidates[winner]?.secretHash);
  });

  it('ends a family for good: its upstream token dropped, the first reason kept, no rotation after', async () => {
    // Prepare
    const { families, first } = await created();

    // Act
    await families.end(first.familyKey, 'refresh_token_reused');
    await families.end(first.familyKey, 'session_ended');
    const rotated = await families.rotate(
      first.familyKey,
      { secretHash: first.secretHash, generation: 0 },
      { secretHash: 'next', sealed: 'sealed-1' },
    );

    // Assess
    const family = await families.get(first.familyKey);
    expect(family?.ended).toBe('refresh_token_reused');
    expect(family?.sealed).toBeUndefined();
    expect(rotated).toBe(false);
  });

  it('has nothing after the deadline, whether or not the item was swept yet', async () => {
    // Prepare
    const { families, first } = await created();
    now += 3601_000;

    // Act
    const family = await families.get(first.familyKey);
    const rotated = await families.rotate(
      first.familyKey,
      { secretHash: first.secretHash, generation: 0 },
      { secretHash: 'next', sealed: 'sealed-1' },
    );

    // Assess
    expect(family).toBeUndefined();
    expect(rotated).toBe(false);
  });
});

describe('DynamoDbRefreshFamilyStore items', () => {
  it('hold digests, the sealed state and the TTL attribute: never a usable token', async () => {
    // Prepare
    const first = newRefreshToken();

    // Act
    await new DynamoDbRefreshFamilyStore(dynalite.db, TABLE, () => 1_800_000_000_000).create(
      first.familyKey,
      { secretHash: first.secretHash, sealed: 'sealed-value', expiresAt: 1_900_000_000 },
    );
    const { Item } = await dynalite.db.getItem({
      TableName: TABLE,
      Key: { pk: first.familyKey },
    });

    // Assess
    expect(Item).toEqual({
      pk: first.familyKey,
      secretHash: first.secretHash,
      generation: 0,
      sealed: 'sealed-value',
      expiresAt: 1_900_000_000,
      updatedAt: 1_800_000_000,
    });
    expect(JSON.stringify(Item)).not.toContain(first.token);
  });
});
