/**
 * ApiKeyStore keeps parsing and indexing the key document off the request path: it refreshes
 * ahead of the TTL in the background, and keeps its index when the document has not changed.
 */
import { describe, expect, it, vi } from 'vitest';
import {
  type ApiKeySource,
  ApiKeyStore,
  ApiKeysUnavailableError,
  type ApiKeyVersions,
} from '../../../lambda/authorizer/api-key-store';
import {
  emptyApiKeyDocument,
  parseApiKey,
  parseApiKeyDocument,
} from '../../../lambda/shared/api-key';
import { addKey, revokeKey } from '../../../tools/cli/api-key-admin';

const NOW = new Date('2026-03-01T12:00:00.000Z');
const TTL_MS = 60_000;
const AHEAD_MS = 12_000;
const MIN_REFRESH_MS = 10_000;

/** A source whose next load can be held open by the test. */
class HeldSource implements ApiKeySource {
  loads = 0;
  text: string;
  #hold: Promise<void> | undefined;
  #release: (() => void) | undefined;
  fail = false;

  constructor(text: string) {
    this.text = text;
  }

  /** Make the next load wait until `release()`. */
  holdNext(): void {
    this.#hold = new Promise((resolve) => {
      this.#release = resolve;
    });
  }

  release(): void {
    this.#release?.();
  }

  async load(): Promise<ApiKeyVersions> {
    this.loads += 1;
    const hold = this.#hold;
    this.#hold = undefined;
    await hold;
    if (this.fail) throw new Error('Secrets Manager is down');
    return { current: this.text };
  }
}

function setup() {
  const { document, key } = addKey(emptyApiKeyDocument(), {
    name: 'ci-bot',
    roles: ['analyst'],
    knownRoles: ['analyst'],
    now: NOW,
  });
  const source = new HeldSource(JSON.stringify(document));
  let now = NOW.getTime();
  const parse = vi.fn(parseApiKeyDocument);
  const keyStore = new ApiKeyStore({
    parseDocument: parse,
    source,
    ttlMs: TTL_MS,
    minRefreshMs: MIN_REFRESH_MS,
    refreshAheadMs: AHEAD_MS,
    now: () => now,
  });
  const parsed = parseApiKey(key);
  if (parsed === undefined) throw new Error('not a key');
  return {
    source,
    keyStore,
    document,
    parsed,
    parse,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('ApiKeyStore refresh ahead of the TTL', () => {
  it('answers from the fresh index at once and reloads in the background', async () => {
    // Prepare
    const { source, keyStore, parsed, advance } = setup();
    await keyStore.warm();
    advance(TTL_MS - AHEAD_MS + 1);
    source.holdNext();

    // Act: the reload is held open; the request must not wait for it.
    const verdict = await keyStore.verify(parsed);

    // Assess
    expect(verdict.ok).toBe(true);
    expect(source.loads).toBe(2);
    source.release();
  });

  it('starts no reload while the index is younger than TTL minus refreshAheadMs', async () => {
    // Prepare
    const { source, keyStore, parsed, advance } = setup();
    await keyStore.warm();
    advance(TTL_MS - AHEAD_MS - 1);

    // Act
    await keyStore.verify(parsed);

    // Assess
    expect(source.loads).toBe(1);
  });

  it('serves the refreshed document after the old TTL without a reload on the request path', async () => {
    // Prepare: the key is revoked while the first index is in use.
    const { source, keyStore, document, parsed, advance } = setup();
    await keyStore.warm();
    source.text = JSON.stringify(revokeKey(document, parsed.keyId, NOW));
    advance(TTL_MS - AHEAD_MS + 1);
    await keyStore.verify(parsed);
    await flush();

    // Act: past the first load's TTL, within the refreshed one's.
    advance(AHEAD_MS);
    const verdict = await keyStore.verify(parsed);

    // Assess
    expect(verdict).toMatchObject({ ok: false, reason: 'key_revoked' });
    expect(source.loads).toBe(2);
  });

  it('shares one background reload between the requests that find it due', async () => {
    // Prepare
    const { source, keyStore, parsed, advance } = setup();
    await keyStore.warm();
    advance(TTL_MS - AHEAD_MS + 1);
    source.holdNext();

    // Act
    await Promise.all([keyStore.verify(parsed), keyStore.verify(parsed), keyStore.verify(parsed)]);

    // Assess
    expect(source.loads).toBe(2);
    source.release();
  });

  it('fails closed once the TTL is out when the background reload failed', async () => {
    // Prepare
    const { source, keyStore, parsed, advance } = setup();
    await keyStore.warm();
    source.fail = true;
    advance(TTL_MS - 1);
    const stillFresh = await keyStore.verify(parsed);
    await flush();

    // Act
    advance(2);
    const verifying = keyStore.verify(parsed);

    // Assess
    expect(stillFresh.ok).toBe(true);
    await expect(verifying).rejects.toBeInstanceOf(ApiKeysUnavailableError);
  });
});

describe('ApiKeyStore reload of an unchanged document', () => {
  it('keeps its index instead of parsing the same texts again', async () => {
    // Prepare
    const { source, keyStore, parsed, parse, advance } = setup();
    await keyStore.warm();
    parse.mockClear();

    // Act
    advance(TTL_MS);
    const verdict = await keyStore.verify(parsed);

    // Assess
    expect({ ok: verdict.ok, loads: source.loads, parses: parse.mock.calls.length }).toEqual({
      ok: true,
      loads: 2,
      parses: 0,
    });
  });

  it('parses again when the text has changed', async () => {
    // Prepare
    const { source, keyStore, document, parsed, parse, advance } = setup();
    await keyStore.warm();
    parse.mockClear();
    source.text = JSON.stringify(revokeKey(document, parsed.keyId, NOW));

    // Act
    advance(TTL_MS);
    const verdict = await keyStore.verify(parsed);

    // Assess
    expect(parse).toHaveBeenCalledTimes(1);
    expect(verdict).toMatchObject({ ok: false, reason: 'key_revoked' });
  });
});
