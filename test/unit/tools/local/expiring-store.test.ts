import { describe, expect, it } from 'vitest';
import { ExpiringStore } from '../../../../tools/local/expiring-store';

function store(maxEntries = 3) {
  const clock = { now: 1_000 };
  return {
    clock,
    store: new ExpiringStore<string>({ ttlMs: 100, maxEntries, now: () => clock.now }),
  };
}

describe('ExpiringStore', () => {
  it('gives a value back once, and only once', () => {
    // Prepare
    const { store: s } = store();
    s.put('a', 'value');

    // Act & Assess
    expect(s.take('a')).toBe('value');
    expect(s.take('a')).toBeUndefined();
  });

  it('gives nothing back once the entry has lived its time', () => {
    // Prepare
    const { clock, store: s } = store();
    s.put('a', 'value');

    // Act
    clock.now += 100;

    // Assess
    expect(s.take('a')).toBeUndefined();
  });

  it('drops expired entries as new ones arrive', () => {
    // Prepare
    const { clock, store: s } = store(10);
    s.put('a', '1');
    s.put('b', '2');
    clock.now += 150;

    // Act
    s.put('c', '3');

    // Assess
    expect(s.size).toBe(1);
  });

  it('holds at most maxEntries, dropping the oldest first', () => {
    // Prepare
    const { store: s } = store(3);

    // Act
    for (const key of ['a', 'b', 'c', 'd']) s.put(key, key);

    // Assess
    expect(s.size).toBe(3);
    expect(s.take('a')).toBeUndefined();
    expect(s.take('d')).toBe('d');
  });

  it('refuses a size that is not a whole number of at least one', () => {
    expect(() => new ExpiringStore({ ttlMs: 1, maxEntries: 0 })).toThrow(/maxEntries/);
  });
});
