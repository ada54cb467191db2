/**
 * The authorizer's not-before snapshot: when it reads the source, what it refuses, and that it
 * fails closed once its copy is too old. A test clock and a source the test controls.
 */
import { describe, expect, it } from 'vitest';
import {
  MAX_REVOCATION_AGE_MS,
  RevocationList,
  type RevocationSource,
  RevocationsUnavailableError,
} from '../../../lambda/authorizer/revocation';
import { type RevocationEntry, refusedBy, userPrincipal } from '../../../lambda/shared/revocations';

const T0 = Date.parse('2026-12-01T12:00:00Z');
const SECONDS = Math.floor(T0 / 1000);
const ALICE = userPrincipal('alice');

/** A source whose content, failures and latency the test sets; it counts its loads. */
class ScriptedSource implements RevocationSource {
  entries = new Map<string, RevocationEntry>();
  loads = 0;
  fail: Error | undefined;
  /** When set, a load waits for this promise before answering. */
  gate: Promise<void> | undefined;

  async load(): Promise<ReadonlyMap<string, RevocationEntry>> {
    this.loads++;
    const snapshot = new Map(this.entries);
    if (this.gate !== undefined) await this.gate;
    if (this.fail !== undefined) throw this.fail;
    return snapshot;
  }
}

function setUp(options: { refreshMs?: number; maxAgeMs?: number; loadTimeoutMs?: number } = {}) {
  const clock = { now: T0 };
  const source = new ScriptedSource();
  const failures: unknown[] = [];
  const list = new RevocationList({
    source,
    refreshMs: options.refreshMs ?? 5000,
    maxAgeMs: options.maxAgeMs ?? 10_000,
    ...(options.loadTimeoutMs === undefined ? {} : { loadTimeoutMs: options.loadTimeoutMs }),
    onBackgroundFailure: (error) => failures.push(error),
    now: () => clock.now,
  });
  return { clock, source, list, failures };
}

const entry = (overrides: Partial<RevocationEntry> = {}): RevocationEntry => ({
  notBefore: SECONDS,
  expiresAt: SECONDS + 3900,
  ...overrides,
});

/** Let pending promise callbacks (a background reload) run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('refusedBy', () => {
  it('refuses a token issued before the not-before and accepts one issued at or after it', () => {
    expect(refusedBy(entry(), { issuedAt: SECONDS - 1 })).toBe(true);
    expect(refusedBy(entry(), { issuedAt: SECONDS })).toBe(false);
  });

  it('refuses a refreshed token of a signed-out session by its auth_time, however new its iat', () => {
    const signedOut = entry({ sessionNotBefore: SECONDS });
    expect(refusedBy(signedOut, { issuedAt: SECONDS + 60, authTime: SECONDS - 600 })).toBe(true);
    expect(refusedBy(signedOut, { issuedAt: SECONDS + 60, authTime: SECONDS + 30 })).toBe(false);
  });

  it('lets a group change pass a token refreshed after it (iat only: the session stays)', () => {
    expect(refusedBy(entry(), { issuedAt: SECONDS + 5, authTime: SECONDS - 600 })).toBe(false);
  });

  it('refuses a credential that carries no times (an API key) whenever a bound is set', () => {
    expect(refusedBy(entry(), {})).toBe(true);
    expect(refusedBy(entry({ notBefore: undefined, sessionNotBefore: SECONDS }), {})).toBe(true);
  });
});

describe('RevocationList', () => {
  it('loads once and answers from memory while the copy is younger than refreshMs', async () => {
    const { clock, source, list } = setUp();
    source.entries.set(ALICE, entry());
    expect(await list.isRevoked(ALICE, { issuedAt: SECONDS - 10 })).toBe(true);
    clock.now += 4999;
    expect(await list.isRevoked(ALICE, { issuedAt: SECONDS - 10 })).toBe(true);
    expect(await list.isRevoked(userPrincipal('bob'), { issuedAt: SECONDS - 10 })).toBe(false);
    expect(source.loads).toBe(1);
  });

  it('answers from the copy past refreshMs and reloads in the background for the next requests', async () => {
    const { clock, source, list } = setUp();
    await list.warm();
    source.entries.set(ALICE, entry());
    clock.now += 5000;
    // This request is answered from the copy, loaded before the entry was written...
    expect(await list.isRevoked(ALICE, { issuedAt: SECONDS - 10 })).toBe(false);
    expect(source.loads).toBe(2);
    await settle();
    // ...the next one from the reload it started.
    expect(await list.isRevoked(ALICE, { issuedAt: SECONDS - 10 })).toBe(true);
  });

  it('never uses a copy as old as maxAgeMs: the request waits for a reload', async () => {
    const { clock, source, list } = setUp();
    await list.warm();
    source.entries.set(ALICE, entry());
    clock.now += 10_000;
    expect(await list.isRevoked(ALICE, { issuedAt: SECONDS - 10 })).toBe(true);
    expect(source.loads).toBe(2);
  });

  it('honours an entry within maxAgeMs of its writing, whatever the request pattern', async () => {
    // One request per simulated 250 ms; the entry is written at a random moment.
    for (const writtenAfter of [1, 2_400, 4_999, 5_001, 9_999]) {
      const { clock, source, list } = setUp();
      await list.warm();
      const writtenAt = T0 + writtenAfter;
      let refusedAt: number | undefined;
      while (refusedAt === undefined && clock.now < T0 + 30_000) {
        clock.now += 250;
        if (clock.now >= writtenAt && !source.entries.has(ALICE))
          source.entries.set(ALICE, entry());
        if (await list.isRevoked(ALICE, { issuedAt: SECONDS - 10 })) refusedAt = clock.now;
        await settle();
      }
      expect(refusedAt).toBeDefined();
      expect((refusedAt as number) - writtenAt).toBeLessThanOrEqual(10_000);
    }
  });

  it('fails closed once the copy is too old and the source cannot be read', async () => {
    const { clock, source, list, failures } = setUp();
    await list.warm();
    source.fail = new Error('AccessDeniedException');
    clock.now += 6000;
    // Still young enough: answered, the failed background reload reported.
    expect(await list.isRevoked(ALICE)).toBe(false);
    await settle();
    expect(failures).toHaveLength(1);
    clock.now += 4000;
    await expect(list.isRevoked(ALICE)).rejects.toBeInstanceOf(RevocationsUnavailableError);
  });

  it('fails closed on the first request when the first load fails', async () => {
    const { source, list } = setUp();
    source.fail = new Error('ResourceNotFoundException');
    const error = await list.isRevoked(ALICE).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RevocationsUnavailableError);
    expect((error as Error).cause).toBe(source.fail);
  });

  it('gives up on a load that does not answer within loadTimeoutMs', async () => {
    const { source, list } = setUp({ loadTimeoutMs: 20 });
    source.gate = new Promise(() => {});
    await expect(list.isRevoked(ALICE)).rejects.toThrow(/did not load within 20 ms/);
  });

  it('shares one load between concurrent requests', async () => {
    const { source, list } = setUp();
    let open: () => void = () => {};
    source.gate = new Promise((resolve) => {
      open = resolve;
    });
    const answers = Promise.all([list.isRevoked(ALICE), list.isRevoked(ALICE), list.warm()]);
    open();
    await answers;
    expect(source.loads).toBe(1);
  });

  it('ignores an entry past its expiry that DynamoDB has not deleted yet', async () => {
    const { clock, source, list } = setUp();
    source.entries.set(ALICE, entry({ expiresAt: SECONDS + 3 }));
    expect(await list.isRevoked(ALICE, { issuedAt: SECONDS - 10 })).toBe(true);
    clock.now += 3000;
    expect(await list.isRevoked(ALICE, { issuedAt: SECONDS - 10 })).toBe(false);
  });

  it('refuses settings that would break the documented bound', () => {
    const source = new ScriptedSource();
    expect(
      () => new RevocationList({ source, refreshMs: 5000, maxAgeMs: MAX_REVOCATION_AGE_MS + 1 }),
    ).toThrow(/maxAgeMs/);
    expect(() => new RevocationList({ source, refreshMs: 11_000, maxAgeMs: 10_000 })).toThrow(
      /refreshMs/,
    );
    expect(
      () => new RevocationList({ source, refreshMs: 1000, maxAgeMs: 5000, loadTimeoutMs: 6000 }),
    ).toThrow(/loadTimeoutMs/);
  });
});
