/**
 * Quota rules on their own: what a deployment may write (checked against its policy), which
 * rules count which item, the fixed windows, and whose counter a use goes to.
 */
import { describe, expect, it } from 'vitest';
import { buildPolicyTable, type PolicyItem } from '../../../lambda/shared/policy';
import type { Principal } from '../../../lambda/shared/principal';
import {
  buildQuotaTable,
  counterKey,
  parseQuotaRules,
  QuotaError,
  type QuotaRule,
  quotasFor,
  windowOf,
} from '../../../lambda/shared/quota';

/** A policy of its own: two tools, a resource and a prompt over two permissions. */
const POLICY = buildPolicyTable({
  roles: { reader: ['read'], writer: ['read', 'write'] },
  modules: [
    {
      name: 'fixture',
      permissions: { read: 'Read things', write: 'Change things' },
      tools: [
        { name: 'search', permission: 'read' },
        { name: 'erase', permission: 'write' },
      ],
      resources: [{ name: 'catalogue', uri: 'fixture://catalogue', permission: 'read' }],
      prompts: [{ name: 'summary', permission: 'read' }],
    },
  ],
});

const itemOf = (kind: PolicyItem['kind'], name: string): PolicyItem => {
  const item = POLICY.items[kind].find((candidate) => candidate.name === name);
  if (item === undefined) throw new Error(`no ${kind} ${name}`);
  return item;
};

const rule = (overrides: Partial<QuotaRule> = {}): QuotaRule => ({
  id: 'searches',
  tool: 'search',
  limit: 10,
  windowSeconds: 60,
  ...overrides,
});

describe('buildQuotaTable', () => {
  it('takes rules naming a tool or a permission the policy has', () => {
    // Act
    const table = buildQuotaTable(
      [rule(), rule({ id: 'reads', tool: undefined, permission: 'read', limit: 100 })],
      POLICY,
    );

    // Assess
    expect(table.rules.map((r) => r.id)).toEqual(['searches', 'reads']);
  });

  it.each([
    ['an unknown tool', rule({ tool: 'serach' }), /no listed module has a tool serach/],
    [
      'an unknown permission',
      rule({ tool: undefined, permission: 'admin' }),
      /declares the permission admin/,
    ],
    [
      'both a tool and a permission',
      rule({ permission: 'read' }),
      /exactly one of tool and permission/,
    ],
    ['neither a tool nor a permission', rule({ tool: undefined }), /exactly one/],
    ['a limit of 0', rule({ limit: 0 }), /limit must be a whole number from 1/],
    ['a fractional limit', rule({ limit: 2.5 }), /limit must be a whole number/],
    ['a window of 0 s', rule({ windowSeconds: 0 }), /windowSeconds must be whole seconds/],
    ['a window over a day', rule({ windowSeconds: 86_401 }), /windowSeconds must be whole seconds/],
    ['an id with capitals', rule({ id: 'Searches' }), /the id must be/],
    ['an id with a quote', rule({ id: 'a"b' }), /the id must be/],
  ])('refuses %s', (_name, bad, message) => {
    // Act & Assess
    expect(() => buildQuotaTable([bad], POLICY)).toThrow(QuotaError);
    expect(() => buildQuotaTable([bad], POLICY)).toThrow(message);
  });

  it('refuses two rules with one id', () => {
    // Act & Assess
    expect(() => buildQuotaTable([rule(), rule({ limit: 5 })], POLICY)).toThrow(/defined twice/);
  });

  it('refuses to let a destructive tool run uncounted, by name or by its permission', () => {
    // Prepare
    const destructive = new Set(['erase']);

    // Act & Assess
    expect(() =>
      buildQuotaTable([rule({ tool: 'erase', whenUnavailable: 'allow' })], POLICY, destructive),
    ).toThrow(/erase, annotated destructive/);
    expect(() =>
      buildQuotaTable(
        [rule({ tool: undefined, permission: 'write', whenUnavailable: 'allow' })],
        POLICY,
        destructive,
      ),
    ).toThrow(/erase, annotated destructive/);
    expect(
      buildQuotaTable([rule({ whenUnavailable: 'allow' })], POLICY, destructive).rules,
    ).toHaveLength(1);
  });
});

describe('quotasFor', () => {
  const table = buildQuotaTable(
    [rule(), rule({ id: 'reads', tool: undefined, permission: 'read', limit: 100 })],
    POLICY,
  );

  it('counts a tool under its own rule and its permission’s', () => {
    // Act & Assess
    expect(quotasFor(table, itemOf('tool', 'search')).map((r) => r.id)).toEqual([
      'searches',
      'reads',
    ]);
  });

  it('counts resource reads and prompt gets under their permission’s rule only', () => {
    // Act & Assess
    expect(quotasFor(table, itemOf('resource', 'catalogue')).map((r) => r.id)).toEqual(['reads']);
    expect(quotasFor(table, itemOf('prompt', 'summary')).map((r) => r.id)).toEqual(['reads']);
  });

  it('counts nothing a rule does not name', () => {
    // Act & Assess
    expect(quotasFor(table, itemOf('tool', 'erase'))).toEqual([]);
  });
});

describe('windowOf', () => {
  it('aligns windows to multiples of their length since the epoch', () => {
    // Act
    const inside = windowOf(rule({ windowSeconds: 300 }), 1_700_000_123_456);
    const atStart = windowOf(rule({ windowSeconds: 300 }), 1_700_000_100_000);
    const justBefore = windowOf(rule({ windowSeconds: 300 }), 1_700_000_099_999);

    // Assess: 1,700,000,100 is a multiple of 300
    expect(inside).toEqual({ start: 1_700_000_100, end: 1_700_000_400 });
    expect(atStart).toEqual(inside);
    expect(justBefore).toEqual({ start: 1_699_999_800, end: 1_700_000_100 });
  });
});

describe('counterKey', () => {
  const person: Principal = {
    principalId: 'alice',
    authMethod: 'cognito',
    groups: ['reader'],
    scopes: [],
    keyId: '',
  };

  it('gives a person and an API key named like them counters of their own', () => {
    // Prepare
    const key: Principal = { ...person, authMethod: 'api_key', keyId: 'alice' };

    // Act & Assess
    expect(counterKey(rule(), person, 0)).not.toBe(counterKey(rule(), key, 0));
  });

  it('gives each rule and window a counter of its own', () => {
    // Act
    const keys = new Set([
      counterKey(rule(), person, 0),
      counterKey(rule(), person, 60),
      counterKey(rule({ id: 'other' }), person, 0),
    ]);

    // Assess
    expect(keys.size).toBe(3);
  });
});

describe('parseQuotaRules', () => {
  it('reads the rules the stack wrote', () => {
    // Act & Assess
    expect(parseQuotaRules(JSON.stringify([rule()]))).toEqual([rule()]);
    expect(parseQuotaRules('[]')).toEqual([]);
  });

  it.each([
    ['not JSON', '{'],
    ['not a list', '{}'],
    ['a rule with a field no rule has', JSON.stringify([{ ...rule(), burst: 5 }])],
    ['a limit as text', JSON.stringify([{ ...rule(), limit: '10' }])],
  ])('refuses %s', (_name, text) => {
    // Act & Assess
    expect(() => parseQuotaRules(text)).toThrow(QuotaError);
  });
});
