import { describe, expect, it, vi } from 'vitest';
import {
  type ApiKeySource,
  ApiKeyStore,
  type ApiKeyStoreOptions,
  ApiKeysUnavailableError,
  type ApiKeyVersions,
  buildIndex,
} from '../../../lambda/authorizer/api-key-store';
import {
  type ApiKeyDocument,
  emptyApiKeyDocument,
  formatApiKey,
  generateSecret,
  hashApiKey,
  type ParsedApiKey,
  parseApiKey,
} from '../../../lambda/shared/api-key';
import { addKey, revokeKey } from '../../../tools/cli/api-key-admin';

const NOW = new Date('2026-03-01T12:00:00.000Z');
const TTL_MS = 300_000;
const MIN_REFRESH_MS = 10_000;

/** An {@link ApiKeySource} over documents held in memory, counting its loads. */
class MemorySource implements ApiKeySource {
  loads = 0;
  versions: ApiKeyVersions;

  constructor(current: ApiKeyDocument | string, previous?: ApiKeyDocument | string) {
    this.versions = versions(current, previous);
  }

  async load(): Promise<ApiKeyVersions> {
    this.loads += 1;
    return this.versions;
  }
}

function versions(
  current: ApiKeyDocument | string,
  previous?: ApiKeyDocument | string,
): ApiKeyVersions {
  const text = (doc: ApiKeyDocument | string) =>
    typeof doc === 'string' ? doc : JSON.stringify(doc);
  return { current: text(current), previous: previous === undefined ? undefined : text(previous) };
}

/** A clock the test moves by hand. */
function manualClock(start = NOW.getTime()) {
  let now = start;
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

function store(
  source: ApiKeySource,
  options: Partial<Omit<ApiKeyStoreOptions, 'source'>> = {},
): ApiKeyStore {
  return new ApiKeyStore({
    source,
    ttlMs: TTL_MS,
    minRefreshMs: MIN_REFRESH_MS,
    now: () => NOW.getTime(),
    ...options,
  });
}

function presented(key: string): ParsedApiKey {
  const parsed = parseApiKey(key);
  if (parsed === undefined) throw new Error(`Not a well-formed API key: ${key}`);
  return parsed;
}

/** A document holding one key, and that key. */
function oneKey(options: { expiresInDays?: number; roles?: string[] } = {}) {
  return addKey(emptyApiKeyDocument(), {
    name: 'ci-bot',
    roles: options.roles ?? ['readonly'],
    knownRoles: options.roles ?? ['readonly'],
    expiresInDays: options.expiresInDays,
    now: NOW,
  });
}

/** The same key id carrying a different secret, as rotation leaves it in AWSCURRENT. */
function rotated(document: ApiKeyDocument, keyId: string) {
  const record = document.keys[keyId];
  if (record === undefined) throw new Error(`No key ${keyId}`);
  const key = formatApiKey(keyId, generateSecret());
  const next: ApiKeyDocument = {
    version: 1,
    keys: { ...document.keys, [keyId]: { ...record, hash: hashApiKey(key) } },
  };
  return { document: next, key };
}

describe('ApiKeyStore.verify', () => {
  it('accepts a valid key with its name and roles', async () => {
    // Prepare
    const { document, keyId, key } = oneKey({ roles: ['analyst', 'readonly'] });

    // Act
    const verdict = await store(new MemorySource(document)).verify(presented(key));

    // Assess
    expect(verdict).toEqual({
      ok: true,
      keyId,
      name: 'ci-bot',
      roles: ['analyst', 'readonly'],
      expires: null,
    });
  });

  it('refuses a known key id with the wrong secret as wrong_secret', async () => {
    // Prepare
    const { document, keyId } = oneKey();
    const forged = formatApiKey(keyId, generateSecret());

    // Act
    const verdict = await store(new MemorySource(document)).verify(presented(forged));

    // Assess
    expect(verdict).toEqual({ ok: false, keyId, name: 'ci-bot', reason: 'wrong_secret' });
  });

  it('refuses a key id that is not in the document as unknown_key', async () => {
    // Prepare
    const { document } = oneKey();
    const stranger = formatApiKey('fedcba9876543210', generateSecret());

    // Act
    const verdict = await store(new MemorySource(document)).verify(presented(stranger));

    // Assess
    expect(verdict).toEqual({ ok: false, keyId: 'fedcba9876543210', reason: 'unknown_key' });
  });

  it('refuses a revoked key as key_revoked', async () => {
    // Prepare
    const { document, keyId, key } = oneKey();
    const revoked = revokeKey(document, keyId, NOW);

    // Act
    const verdict = await store(new MemorySource(revoked)).verify(presented(key));

    // Assess
    expect(verdict).toEqual({ ok: false, keyId, name: 'ci-bot', reason: 'key_revoked' });
  });

  it('refuses a key past its expiry as key_expired', async () => {
    // Prepare
    const { document, keyId, key } = oneKey({ expiresInDays: 30 });
    const now = () => NOW.getTime() + 31 * 86_400_000;

    // Act
    const verdict = await store(new MemorySource(document), { now }).verify(presented(key));

    // Assess
    expect(verdict).toEqual({ ok: false, keyId, name: 'ci-bot', reason: 'key_expired' });
  });

  it('accepts a key with an expiry that has not come yet', async () => {
    // Prepare
    const { document, key } = oneKey({ expiresInDays: 30 });
    const now = () => NOW.getTime() + 29 * 86_400_000;

    // Act
    const verdict = await store(new MemorySource(document), { now }).verify(presented(key));

    // Assess
    expect(verdict.ok).toBe(true);
  });

  it('accepts a record holding the secret in plain text rather than hashed', async () => {
    // Prepare
    const keyId = '00000000000000aa';
    const secret = generateSecret();
    const document = {
      version: 1,
      keys: {
        [keyId]: { name: 'rotated-bot', roles: ['admin'], secret, created: NOW.toISOString() },
      },
    };

    // Act
    const verdict = await store(new MemorySource(JSON.stringify(document))).verify(
      presented(formatApiKey(keyId, secret)),
    );

    // Assess
    expect(verdict).toEqual({
      ok: true,
      keyId,
      name: 'rotated-bot',
      roles: ['admin'],
      expires: null,
    });
  });

  it('refuses the wrong secret for a plain-text record as wrong_secret', async () => {
    // Prepare
    const keyId = '00000000000000aa';
    const document = {
      version: 1,
      keys: {
        [keyId]: {
          name: 'rotated-bot',
          roles: ['admin'],
          secret: generateSecret(),
          created: NOW.toISOString(),
        },
      },
    };

    // Act
    const verdict = await store(new MemorySource(JSON.stringify(document))).verify(
      presented(formatApiKey(keyId, generateSecret())),
    );

    // Assess
    expect(verdict).toMatchObject({ ok: false, reason: 'wrong_secret' });
  });
});

describe('ApiKeyStore.verify across a rotation (AWSCURRENT and AWSPREVIOUS)', () => {
  it('accepts the new key material from the current version', async () => {
    // Prepare
    const before = oneKey();
    const after = rotated(before.document, before.keyId);
    const source = new MemorySource(after.document, before.document);

    // Act
    const verdict = await store(source).verify(presented(after.key));

    // Assess
    expect(verdict).toMatchObject({ ok: true, keyId: before.keyId });
  });

  it('still accepts the old key material found only in the previous version', async () => {
    // Prepare
    const before = oneKey();
    const after = rotated(before.document, before.keyId);
    const source = new MemorySource(after.document, before.document);

    // Act
    const verdict = await store(source).verify(presented(before.key));

    // Assess
    expect(verdict).toMatchObject({ ok: true, keyId: before.keyId });
  });

  it('refuses the old key material once there is no previous version', async () => {
    // Prepare
    const before = oneKey();
    const after = rotated(before.document, before.keyId);

    // Act
    const verdict = await store(new MemorySource(after.document)).verify(presented(before.key));

    // Assess
    expect(verdict).toMatchObject({ ok: false, reason: 'wrong_secret' });
  });

  it('refuses a key id that exists only in the previous version', async () => {
    // Prepare
    const removed = oneKey();
    const source = new MemorySource(emptyApiKeyDocument(), removed.document);

    // Act
    const verdict = await store(source).verify(presented(removed.key));

    // Assess
    expect(verdict).toMatchObject({ ok: false, reason: 'unknown_key' });
  });

  it('refuses a key revoked in the current version although valid in the previous one', async () => {
    // Prepare
    const { document, keyId, key } = oneKey();
    const source = new MemorySource(revokeKey(document, keyId, NOW), document);

    // Act
    const verdict = await store(source).verify(presented(key));

    // Assess
    expect(verdict).toMatchObject({ ok: false, reason: 'key_revoked' });
  });

  it('refuses the old material of a key rotated and then revoked', async () => {
    // Prepare
    const before = oneKey();
    const after = rotated(before.document, before.keyId);
    const source = new MemorySource(revokeKey(after.document, before.keyId, NOW), before.document);

    // Act
    const verdict = await store(source).verify(presented(before.key));

    // Assess
    expect(verdict).toMatchObject({ ok: false, reason: 'key_revoked' });
  });

  it('takes roles from the current version, not the previous one', async () => {
    // Prepare
    const before = oneKey({ roles: ['admin'] });
    const record = before.document.keys[before.keyId];
    if (record === undefined) throw new Error('addKey returned no record');
    const demoted: ApiKeyDocument = {
      version: 1,
      keys: { [before.keyId]: { ...record, roles: ['readonly'] } },
    };
    const source = new MemorySource(demoted, before.document);

    // Act
    const verdict = await store(source).verify(presented(before.key));

    // Assess
    expect(verdict).toMatchObject({ ok: true, roles: ['readonly'] });
  });

  it('ignores an unreadable previous version and says so', async () => {
    // Prepare
    const { document, key } = oneKey();
    const onPreviousIgnored = vi.fn();
    const source = new MemorySource(document, '{"version":1,"keys":{"nothex":{}}}');

    // Act
    const verdict = await store(source, { onPreviousIgnored }).verify(presented(key));

    // Assess
    expect({ ok: verdict.ok, warnings: onPreviousIgnored.mock.calls.length }).toEqual({
      ok: true,
      warnings: 1,
    });
  });

  it('works on from the current version when the source could not read the previous one', async () => {
    // Prepare
    const { document, key } = oneKey();
    const onPreviousIgnored = vi.fn();
    const source = new MemorySource(document);
    source.versions = { ...source.versions, previousUnavailable: 'AWSPREVIOUS could not be read' };

    // Act
    const verdict = await store(source, { onPreviousIgnored }).verify(presented(key));

    // Assess
    expect(verdict.ok).toBe(true);
    expect(onPreviousIgnored).toHaveBeenCalledWith('AWSPREVIOUS could not be read');
  });

  it('does not put key text in the description of an unreadable previous version', async () => {
    // Prepare
    const { document, key } = oneKey();
    const secret = key.slice(-43);
    const onPreviousIgnored = vi.fn();
    const broken = `{"version":1,"keys":{"x":{"secret":"${secret}"}}}`;

    // Act
    await store(new MemorySource(document, broken), { onPreviousIgnored }).verify(presented(key));

    // Assess
    expect(onPreviousIgnored).toHaveBeenCalledWith(expect.not.stringContaining(secret));
  });
});

describe('buildIndex', () => {
  it('holds both digests for a rotated key and one for an unchanged key', () => {
    // Prepare
    const before = oneKey();
    const after = rotated(before.document, before.keyId);

    // Act
    const rotatedIndex = buildIndex(after.document, before.document);
    const unchangedIndex = buildIndex(before.document, before.document);

    // Assess
    expect([
      rotatedIndex.get(before.keyId)?.digests.length,
      unchangedIndex.get(before.keyId)?.digests.length,
    ]).toEqual([2, 1]);
  });

  it('leaves out key ids that exist only in the previous version', () => {
    // Prepare
    const removed = oneKey();

    // Act
    const index = buildIndex(emptyApiKeyDocument(), removed.document);

    // Assess
    expect(index.has(removed.keyId)).toBe(false);
  });
});

describe('ApiKeyStore caching', () => {
  it('loads the document once for several requests within the TTL', async () => {
    // Prepare
    const { document, key } = oneKey();
    const source = new MemorySource(document);
    const clock = manualClock();
    const keys = store(source, { now: clock.now });

    // Act
    await keys.verify(presented(key));
    clock.advance(TTL_MS - 1);
    await keys.verify(presented(key));

    // Assess
    expect(source.loads).toBe(1);
  });

  it('loads the document again once the TTL has passed', async () => {
    // Prepare
    const { document, key } = oneKey();
    const source = new MemorySource(document);
    const clock = manualClock();
    const keys = store(source, { now: clock.now });
    await keys.verify(presented(key));

    // Act
    clock.advance(TTL_MS);
    await keys.verify(presented(key));

    // Assess
    expect(source.loads).toBe(2);
  });

  it('sees a revocation made since the last load once the TTL has passed', async () => {
    // Prepare
    const { document, keyId, key } = oneKey();
    const source = new MemorySource(document);
    const clock = manualClock();
    const keys = store(source, { now: clock.now });
    await keys.verify(presented(key));
    source.versions = versions(revokeKey(document, keyId, NOW));

    // Act
    clock.advance(TTL_MS);
    const verdict = await keys.verify(presented(key));

    // Assess
    expect(verdict).toMatchObject({ ok: false, reason: 'key_revoked' });
  });

  it('reloads once for an unknown key and so finds a key created since the last load', async () => {
    // Prepare
    const first = oneKey();
    const source = new MemorySource(first.document);
    const clock = manualClock();
    const keys = store(source, { now: clock.now });
    await keys.verify(presented(first.key));
    const second = addKey(first.document, {
      name: 'new-bot',
      roles: ['readonly'],
      knownRoles: ['readonly'],
      now: NOW,
    });
    source.versions = versions(second.document);
    clock.advance(MIN_REFRESH_MS);

    // Act
    const verdict = await keys.verify(presented(second.key));

    // Assess
    expect({ verdict, loads: source.loads }).toMatchObject({
      verdict: { ok: true, name: 'new-bot' },
      loads: 2,
    });
  });

  it('does not reload for a second unknown key within minRefreshMs of the last load', async () => {
    // Prepare
    const { document, key } = oneKey();
    const source = new MemorySource(document);
    const clock = manualClock();
    const keys = store(source, { now: clock.now });
    await keys.verify(presented(key));
    clock.advance(MIN_REFRESH_MS);
    await keys.verify(presented(formatApiKey('1111111111111111', generateSecret())));

    // Act
    clock.advance(MIN_REFRESH_MS - 1);
    const verdict = await keys.verify(
      presented(formatApiKey('2222222222222222', generateSecret())),
    );

    // Assess
    expect({ reason: verdict.ok ? 'ok' : verdict.reason, loads: source.loads }).toEqual({
      reason: 'unknown_key',
      loads: 2,
    });
  });

  it('reloads for an unknown key again once minRefreshMs has passed', async () => {
    // Prepare
    const { document, key } = oneKey();
    const source = new MemorySource(document);
    const clock = manualClock();
    const keys = store(source, { now: clock.now });
    await keys.verify(presented(key));
    clock.advance(MIN_REFRESH_MS);
    await keys.verify(presented(formatApiKey('1111111111111111', generateSecret())));

    // Act
    clock.advance(MIN_REFRESH_MS);
    await keys.verify(presented(formatApiKey('2222222222222222', generateSecret())));

    // Assess
    expect(source.loads).toBe(3);
  });

  it('does not reload for a flood of unknown keys right after a load', async () => {
    // Prepare
    const { document, key } = oneKey();
    const source = new MemorySource(document);
    const keys = store(source);
    await keys.verify(presented(key));

    // Act
    for (let i = 0; i < 50; i += 1) {
      await keys.verify(
        presented(formatApiKey(i.toString(16).padStart(16, 'f'), generateSecret())),
      );
    }

    // Assess
    expect(source.loads).toBe(1);
  });

  it('shares one load between concurrent requests', async () => {
    // Prepare
    const { document, key } = oneKey();
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let loads = 0;
    const source: ApiKeySource = {
      load: async () => {
        loads += 1;
        await gate;
        return versions(document);
      },
    };
    const keys = store(source);

    // Act
    const pending = Promise.all([
      keys.verify(presented(key)),
      keys.verify(presented(key)),
      keys.verify(presented(key)),
    ]);
    release();
    const verdicts = await pending;

    // Assess
    expect({ loads, ok: verdicts.map((verdict) => verdict.ok) }).toEqual({
      loads: 1,
      ok: [true, true, true],
    });
  });
});

describe('ApiKeyStore when the document cannot be had', () => {
  function failingSource() {
    const source = {
      loads: 0,
      load: async (): Promise<ApiKeyVersions> => {
        source.loads += 1;
        throw new Error('ThrottlingException: Rate exceeded');
      },
    };
    return source;
  }

  it('throws ApiKeysUnavailableError when the source fails', async () => {
    // Prepare
    const keys = store(failingSource());

    // Act
    const verifying = keys.verify(presented(oneKey().key));

    // Assess
    await expect(verifying).rejects.toBeInstanceOf(ApiKeysUnavailableError);
  });

  it('fails fast without asking the source again within minRefreshMs of a failure', async () => {
    // Prepare
    const source = failingSource();
    const clock = manualClock();
    const keys = store(source, { now: clock.now });
    const { key } = oneKey();
    await keys.verify(presented(key)).catch(() => undefined);

    // Act
    clock.advance(MIN_REFRESH_MS - 1);
    const second = keys.verify(presented(key));

    // Assess
    await expect(second).rejects.toBeInstanceOf(ApiKeysUnavailableError);
    expect(source.loads).toBe(1);
  });

  it('asks the source again once minRefreshMs has passed since a failure', async () => {
    // Prepare
    const source = failingSource();
    const clock = manualClock();
    const keys = store(source, { now: clock.now });
    const { key } = oneKey();
    await keys.verify(presented(key)).catch(() => undefined);

    // Act
    clock.advance(MIN_REFRESH_MS);
    await keys.verify(presented(key)).catch(() => undefined);

    // Assess
    expect(source.loads).toBe(2);
  });

  it('drops the cached document when a reload fails, rather than serving it stale', async () => {
    // Prepare
    const { document, key } = oneKey();
    const source = new MemorySource(document);
    const clock = manualClock();
    const keys = store(source, { now: clock.now });
    await keys.verify(presented(key));
    source.load = async () => {
      throw new Error('AccessDeniedException');
    };

    // Act
    clock.advance(TTL_MS);
    const verifying = keys.verify(presented(key));

    // Assess
    await expect(verifying).rejects.toBeInstanceOf(ApiKeysUnavailableError);
  });

  it('keeps serving a fresh document when a reload forced by an unknown key fails', async () => {
    // Prepare
    const { document, key } = oneKey();
    const source = new MemorySource(document);
    const clock = manualClock();
    const keys = store(source, { now: clock.now });
    await keys.verify(presented(key));
    source.load = async () => {
      throw new Error('ThrottlingException');
    };
    clock.advance(MIN_REFRESH_MS);

    // Act: anyone can send an unknown key id and so force a reload
    const unknown = await keys.verify(
      presented(formatApiKey('0123456789abcdef', generateSecret())),
    );
    const known = await keys.verify(presented(key));

    // Assess
    expect({ unknown: unknown.ok, known: known.ok }).toEqual({ unknown: false, known: true });
  });

  it('throws ApiKeysUnavailableError when the current version is not JSON', async () => {
    // Prepare
    const keys = store(new MemorySource('not json'));

    // Act
    const verifying = keys.verify(presented(oneKey().key));

    // Assess
    await expect(verifying).rejects.toBeInstanceOf(ApiKeysUnavailableError);
  });

  it('throws ApiKeysUnavailableError when the current version fails the schema', async () => {
    // Prepare
    const { document, keyId, key } = oneKey();
    // Not a role name at all (a comma and a space): any well-formed name is stored.
    const broken = {
      ...document,
      keys: { [keyId]: { ...document.keys[keyId], roles: ['root, admin'] } },
    };

    // Act
    const verifying = store(new MemorySource(JSON.stringify(broken))).verify(presented(key));

    // Assess
    await expect(verifying).rejects.toBeInstanceOf(ApiKeysUnavailableError);
  });
});

describe('ApiKeyStore and the deployment’s roles', () => {
  it('reads a key naming any well-formed role, and returns its roles for the authorizer to judge', async () => {
    // Prepare: a role this store was never told of
    const { document, keyId, key } = oneKey();
    const renamed = {
      ...document,
      keys: { [keyId]: { ...document.keys[keyId], roles: ['auditor'] } },
    };

    // Act
    const verdict = await store(new MemorySource(JSON.stringify(renamed))).verify(presented(key));

    // Assess
    expect(verdict).toMatchObject({ ok: true, roles: ['auditor'] });
  });
});

describe('ApiKeyStore with a large document', () => {
  it('verifies keys anywhere in a document of 10,000 keys', async () => {
    // Prepare
    const keys: ApiKeyDocument['keys'] = {};
    const issued: string[] = [];
    for (let i = 0; i < 10_000; i += 1) {
      const keyId = i.toString(16).padStart(16, '0');
      const key = formatApiKey(keyId, generateSecret());
      issued.push(key);
      keys[keyId] = {
        name: `bot-${i}`,
        roles: ['readonly'],
        hash: hashApiKey(key),
        created: NOW.toISOString(),
        expires: null,
        revoked: null,
      };
    }
    const keyStore = store(new MemorySource({ version: 1, keys }));
    const picks = [0, 4_999, 9_999].map((i) => issued[i] ?? '');

    // Act
    const verdicts = await Promise.all(picks.map((key) => keyStore.verify(presented(key))));
    const forged = await keyStore.verify(
      presented(formatApiKey((4_999).toString(16).padStart(16, '0'), generateSecret())),
    );

    // Assess
    expect({
      names: verdicts.map((verdict) => (verdict.ok ? verdict.name : verdict.reason)),
      forged: forged.ok ? 'ok' : forged.reason,
    }).toEqual({ names: ['bot-0', 'bot-4999', 'bot-9999'], forged: 'wrong_secret' });
  });
});
