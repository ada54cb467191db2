import { describe, expect, it } from 'vitest';
import {
  ApprovalArgumentsError,
  approvalBinding,
  canonicalArguments,
  clientText,
  revealHidden,
} from '../../../lambda/shared/approvals';

const caller = { authMethod: 'cognito', principalId: 'alice-sub', keyId: '' } as const;

function bind(args: unknown) {
  return approvalBinding({ caller, tool: 'purge', arguments: args, client: {} });
}

describe('canonicalArguments', () => {
  it('is the JSON shown, keys sorted and toJSON honoured (a Date is its ISO string)', () => {
    // Act
    const canonical = canonicalArguments({ z: 1, before: new Date('2020-01-01T00:00:00Z') });

    // Assess
    expect(canonical).toBe('{"before":"2020-01-01T00:00:00.000Z","z":1}');
  });

  it('digests two dates differently, and shows each as its JSON', () => {
    // Act
    const one = bind({ before: new Date('2020-01-01T00:00:00Z') });
    const other = bind({ before: new Date('2099-12-31T00:00:00Z') });

    // Assess
    expect(one.argumentsDigest).not.toBe(other.argumentsDigest);
    expect(one.key).not.toBe(other.key);
    expect(one.shown).toEqual({ before: '2020-01-01T00:00:00.000Z' });
  });

  it('counts an absent optional field and one set to undefined as the same call', () => {
    expect(bind({ id: 'a', count: undefined }).key).toBe(bind({ id: 'a' }).key);
  });

  it.each([
    ['a Map', { tags: new Map([['a', 1]]) }],
    ['a Set', { ids: new Set(['a']) }],
    ['a BigInt', { count: 10n }],
    ['NaN', { count: Number.NaN }],
    ['Infinity', { count: Number.POSITIVE_INFINITY }],
    ['undefined in an array', { ids: ['a', undefined] }],
    ['a hole in an array', { ids: new Array(2).fill('a', 1) }],
    ['a function', { pick: () => true }],
    ['a class instance', { where: new (class Where {})() }],
    ['an object whose prototype is another object', { options: Object.create({ all: true }) }],
  ])('refuses arguments holding %s (the page could not show them as they run)', (_, args) => {
    expect(() => bind(args)).toThrow(ApprovalArgumentsError);
  });
});

describe('revealHidden', () => {
  it('writes bidi controls, zero-width and other format characters as escapes', () => {
    expect(revealHidden('a\u202Eb\u2066c\u200Bd\uFEFFe\u{E0041}')).toEqual({
      text: 'a\\u202eb\\u2066c\\u200bd\\ufeffe\\u{e0041}',
      hidden: true,
    });
  });

  it('leaves visible text, accents and emoji as they are', () => {
    expect(revealHidden('café 👍 日本')).toEqual({ text: 'café 👍 日本', hidden: false });
  });
});

describe('clientText', () => {
  it('keeps a client name’s bidi override as a visible escape, never as itself', () => {
    expect(clientText('Trusted \u202Etnega\u202C')).toBe('Trusted \\u202etnega\\u202c');
  });

  it('drops control characters and cuts the name to 64 characters', () => {
    expect(clientText(`a\u0007b${'x'.repeat(100)}`)).toHaveLength(64);
    expect(clientText('a\u0007b')).toBe('ab');
  });
});
