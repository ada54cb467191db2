/**
 * The quota step: the DynamoDB counter against an embedded DynamoDB (never more uses than the
 * limit, however many take at once), the gate over it (which rules a use takes, what a refusal
 * gives back, what a failing counter does), and the answer a refused client gets (SEP-3304's
 * draft of 2026-08-25).
 */
import { describe, expect, it } from 'vitest';
import {
  DynamoQuotaCounter,
  MemoryQuotaCounter,
  QUOTA_COUNTER_ATTRIBUTES,
  type QuotaCounter,
} from '../../../lambda/mcp/quota-counter';
import {
  type Admission,
  createQuotaGate,
  QUOTA_UNAVAILABLE_RETRY_SECONDS,
  quotaRefusal,
  RATE_LIMITED_CODE,
} from '../../../lambda/mcp/quotas';
import { buildPolicyTable, type PolicyItem } from '../../../lambda/shared/policy';
import type { Principal } from '../../../lambda/shared/principal';
import { buildQuotaTable, type QuotaRule } from '../../../lambda/shared/quota';
import { useDynaliteTables } from '../../support/dynalite-tables';

const TABLE = 'quota-counters';
const dynalite = useDynaliteTables({ [TABLE]: QUOTA_COUNTER_ATTRIBUTES.partitionKey });

const POLICY = buildPolicyTable({
  roles: { reader: ['read'] },
  modules: [
    {
      name: 'fixture',
      permissions: { read: 'Read things' },
      tools: [
        { name: 'search', permission: 'read' },
        { name: 'lookup', permission: 'read' },
      ],
    },
  ],
});
const SEARCH = POLICY.items.tool[0] as PolicyItem;
const LOOKUP = POLICY.items.tool[1] as PolicyItem;

const alice: Principal = {
  principalId: 'alice',
  authMethod: 'cognito',
  groups: ['reader'],
  scopes: [],
  keyId: '',
};
const bob: Principal = { ...alice, principalId: 'bob' };

const searches: QuotaRule = { id: 'searches', tool: 'search', limit: 3, windowSeconds: 60 };
const reads: QuotaRule = { id: 'reads', permission: 'read', limit: 5, windowSeconds: 60 };

/** Noon on 2023-11-14, inside a 60-second window that started 20 s before. */
const NOW = 1_699_963_220_000;

describe('DynamoQuotaCounter', () => {
  it('takes uses up to the limit, then refuses, and keeps the window’s end for the TTL', async () => {
    // Prepare
    const counter = new DynamoQuotaCounter(dynalite.db, TABLE);

    // Act
    const taken = [];
    for (let i = 0; i < 4; i++) taken.push(await counter.take('one', 3, 1_700_000_000));

    // Assess
    expect(taken).toEqual([1, 2, 3, undefined]);
    const { Item } = await dynalite.db.getItem({
      TableName: TABLE,
      Key: { [QUOTA_COUNTER_ATTRIBUTES.partitionKey]: 'one' },
    });
    expect(Item).toEqual({
      [QUOTA_COUNTER_ATTRIBUTES.partitionKey]: 'one',
      [QUOTA_COUNTER_ATTRIBUTES.count]: 3,
      [QUOTA_COUNTER_ATTRIBUTES.ttl]: 1_700_000_000,
    });
  });

  it('admits exactly the limit of 50 uses taken at once, from 50 counters on one table', async () => {
    // Prepare: one client per "instance", as 50 Lambdas would each have their own
    const instances = Array.from({ length: 50 }, () => new DynamoQuotaCounter(dynalite.db, TABLE));

    // Act
    const taken = await Promise.all(instances.map((counter) => counter.take('burst', 20, 1)));

    // Assess
    const admitted = taken.filter((uses) => uses !== undefined);
    expect(admitted).toHaveLength(20);
    expect(new Set(admitted).size).toBe(20);
  });

  it('gives back a use, and never below zero', async () => {
    // Prepare
    const counter = new DynamoQuotaCounter(dynalite.db, TABLE);
    await counter.take('back', 1, 1);

    // Act
    await counter.giveBack('back');
    await counter.giveBack('back');
    await counter.giveBack('never-taken');
    const again = await counter.take('back', 1, 1);

    // Assess
    expect(again).toBe(1);
  });

  it('rejects when the table cannot be written (never counts it as admitted)', async () => {
    // Act
    const taking = new DynamoQuotaCounter(dynalite.db, 'no-such-table').take('x', 1, 1);

    // Assess
    await expect(taking).rejects.toMatchObject({ code: 'ResourceNotFoundException' });
  });
});

/** A counter that fails on the rules named, else counts in memory. */
function failingFor(ruleIds: readonly string[], base = new MemoryQuotaCounter()): QuotaCounter {
  const fails = (key: string) => ruleIds.some((id) => key.startsWith(`["${id}"`));
  return {
    take: (key, limit, expiresAt) =>
      fails(key) ? Promise.reject(new Error('down')) : base.take(key, limit, expiresAt),
    giveBack: (key) => base.giveBack(key),
  };
}

describe('createQuotaGate', () => {
  const gateWith = (
    rules: readonly QuotaRule[],
    counter: QuotaCounter = new MemoryQuotaCounter(),
  ) => createQuotaGate({ table: buildQuotaTable(rules, POLICY), counter, now: () => NOW });

  it('admits a caller up to the limit, then refuses until the window ends', async () => {
    // Prepare
    const gate = gateWith([searches]);

    // Act
    const answers: Admission[] = [];
    for (let i = 0; i < 4; i++) answers.push(await gate.admit(alice, SEARCH));

    // Assess: the window started 20 s before NOW, so it ends 40 s after
    expect(answers.map((answer) => answer.kind)).toEqual([
      'admitted',
      'admitted',
      'admitted',
      'limited',
    ]);
    expect(answers[3]).toMatchObject({ rule: searches, retryAfterMs: 40_000 });
  });

  it('counts each caller apart, and items no rule names not at all', async () => {
    // Prepare
    const gate = gateWith([searches]);
    for (let i = 0; i < 3; i++) await gate.admit(alice, SEARCH);

    // Act
    const other = await gate.admit(bob, SEARCH);
    const unnamed = await gate.admit(alice, LOOKUP);

    // Assess
    expect(other.kind).toBe('admitted');
    expect(unnamed).toEqual({ kind: 'admitted', rules: [] });
  });

  it('admits again in the next window', async () => {
    // Prepare
    let now = NOW;
    const gate = createQuotaGate({
      table: buildQuotaTable([searches], POLICY),
      counter: new MemoryQuotaCounter(),
      now: () => now,
    });
    for (let i = 0; i < 3; i++) await gate.admit(alice, SEARCH);

    // Act
    now += 40_000;
    const next = await gate.admit(alice, SEARCH);

    // Assess
    expect(next.kind).toBe('admitted');
  });

  it('gives back what a use took under one rule when another rule refuses it', async () => {
    // Prepare: reads (5) counts search and lookup; searches (3) only search
    const counter = new MemoryQuotaCounter();
    const gate = gateWith([reads, searches], counter);
    for (let i = 0; i < 3; i++) await gate.admit(alice, SEARCH);

    // Act: the 4th search is refused by searches after reads took a use
    const refused = await gate.admit(alice, SEARCH);
    const lookups = [await gate.admit(alice, LOOKUP), await gate.admit(alice, LOOKUP)];
    const third = await gate.admit(alice, LOOKUP);

    // Assess: reads holds 3 searches + 2 lookups = 5, the refused search given back
    expect(refused).toMatchObject({ kind: 'limited', rule: searches });
    expect(lookups.map((answer) => answer.kind)).toEqual(['admitted', 'admitted']);
    expect(third).toMatchObject({ kind: 'limited', rule: reads });
  });

  it('refuses a use its counter cannot take (fails closed), giving back the others', async () => {
    // Prepare
    const base = new MemoryQuotaCounter();
    const gate = gateWith([reads, searches], failingFor(['searches'], base));

    // Act
    const answer = await gate.admit(alice, SEARCH);
    const lookups = [];
    for (let i = 0; i < 6; i++) lookups.push((await gate.admit(alice, LOOKUP)).kind);

    // Assess: the refused search took nothing from reads
    expect(answer).toMatchObject({ kind: 'unavailable', rule: searches });
    expect(lookups).toEqual([
      'admitted',
      'admitted',
      'admitted',
      'admitted',
      'admitted',
      'limited',
    ]);
  });

  it('lets a use through uncounted when its rule says so, and says so', async () => {
    // Prepare
    const told: string[] = [];
    const gate = createQuotaGate({
      table: buildQuotaTable([{ ...searches, whenUnavailable: 'allow' }], POLICY),
      counter: failingFor(['searches']),
      now: () => NOW,
      onUncounted: (rule) => told.push(rule.id),
    });

    // Act
    const answer = await gate.admit(alice, SEARCH);

    // Assess
    expect(answer.kind).toBe('admitted');
    expect(told).toEqual(['searches']);
  });
});

describe('quotaRefusal', () => {
  it('answers over the limit with 429, Retry-After and JSON-RPC -32023 as SEP-3304 drafts it', () => {
    // Act
    const answer = quotaRefusal({ kind: 'limited', rule: searches, retryAfterMs: 40_500 }, 7);

    // Assess
    expect(answer.statusCode).toBe(429);
    expect(answer.headers).toMatchObject({
      'Retry-After': '41',
      'RateLimit-Limit': '3',
      'RateLimit-Remaining': '0',
    });
    expect(JSON.parse(answer.body)).toEqual({
      jsonrpc: '2.0',
      id: 7,
      error: {
        code: RATE_LIMITED_CODE,
        message: expect.stringContaining('searches'),
        data: { retryAfterMs: 40_500, limit: 3, remaining: 0 },
      },
    });
    expect(RATE_LIMITED_CODE).toBe(-32023);
  });

  it('answers an uncountable use with 503 and an internal error, not -32023', () => {
    // Act
    const answer = quotaRefusal({ kind: 'unavailable', rule: searches, error: new Error() }, 'r1');

    // Assess
    expect(answer.statusCode).toBe(503);
    expect(answer.headers['Retry-After']).toBe(String(QUOTA_UNAVAILABLE_RETRY_SECONDS));
    expect(JSON.parse(answer.body)).toMatchObject({ id: 'r1', error: { code: -32603 } });
    expect(answer.body).not.toContain('down');
  });
});
