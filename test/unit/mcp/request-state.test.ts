/**
 * The request-state ledger on its own: a nonce is spent once, and forgotten only once no state
 * carrying it could verify any more.
 */
import { describe, expect, it } from 'vitest';
import { MemoryRequestStateLedger } from '../../../lambda/mcp/request-state';

describe('MemoryRequestStateLedger', () => {
  it('spends a nonce once', async () => {
    // Prepare
    const ledger = new MemoryRequestStateLedger(() => 1_000_000);

    // Act
    const first = await ledger.spend('n1', 1600);
    const second = await ledger.spend('n1', 1600);
    const other = await ledger.spend('n2', 1600);

    // Assess
    expect([first, second, other]).toEqual([true, false, true]);
  });

  it('remembers a nonce until its time is up, and only then forgets it', async () => {
    // Prepare
    let now = 1_000_000;
    const ledger = new MemoryRequestStateLedger(() => now);
    await ledger.spend('n1', 1600);

    // Act
    now = 1_599_000;
    const before = await ledger.spend('n1', 2199);
    now = 1_600_001;
    const after = await ledger.spend('n1', 2200);

    // Assess
    expect(before).toBe(false);
    expect(after).toBe(true);
  });
});
