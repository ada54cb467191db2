import { describe, expect, it } from 'vitest';
import {
  ExpiredPrincipalError,
  InvalidPrincipalError,
  type Principal,
  parsePrincipal,
  safeGroupNames,
  toAuthorizerContext,
} from '../../../lambda/shared/principal';

const cognitoUser: Principal = {
  principalId: '8f0c2b8e-1d3a-4c55-9e7b-2f6a1c0d9e41',
  authMethod: 'cognito',
  groups: ['analyst', 'readonly'],
  scopes: ['openid', 'mcp/tools.read'],
  keyId: '',
};

const apiKeyCaller: Principal = {
  principalId: 'reporting-bot',
  authMethod: 'api_key',
  groups: ['analyst'],
  scopes: [],
  keyId: '0123456789abcdef',
};

/** A well-formed context, as the authorizer would send it, to vary one field at a time. */
const validContext = {
  principalId: 'user-1',
  authMethod: 'cognito',
  groups: 'analyst',
  scopes: 'openid',
  keyId: '',
  expiresAt: '',
};

describe('toAuthorizerContext and parsePrincipal', () => {
  it.each([
    ['a Cognito user', cognitoUser],
    ['an API-key caller', apiKeyCaller],
  ])('round-trips %s unchanged', (_label, principal) => {
    // Prepare
    const context = toAuthorizerContext(principal);

    // Act
    const parsed = parsePrincipal(context);

    // Assess
    expect(parsed).toEqual(principal);
  });

  it('round-trips the claims handed to the argument rules', () => {
    // Prepare
    const principal: Principal = { ...cognitoUser, claims: { 'custom:department': 'sales' } };

    // Act
    const parsed = parsePrincipal(toAuthorizerContext(principal));

    // Assess
    expect(parsed.claims).toEqual({ 'custom:department': 'sales' });
  });

  it.each([
    ['claims that are not JSON', '{'],
    ['a claim value that is not a string', '{"a":1}'],
    ['a claim name that could not be one', '{"a b":"x"}'],
    ['a claim value over 1024 characters', JSON.stringify({ a: 'x'.repeat(1025) })],
  ])('refuses %s', (_label, claims) => {
    expect(() => parsePrincipal({ ...validContext, claims })).toThrow(InvalidPrincipalError);
  });

  it('round-trips a principal with no groups and no scopes as empty lists', () => {
    // Prepare
    const principal: Principal = { ...cognitoUser, groups: [], scopes: [] };

    // Act
    const parsed = parsePrincipal(toAuthorizerContext(principal));

    // Assess
    expect(parsed.groups).toEqual([]);
    expect(parsed.scopes).toEqual([]);
  });

  it('carries every value as a string, as API Gateway requires', () => {
    // Act
    const context = toAuthorizerContext(cognitoUser);

    // Assess
    expect(Object.values(context).every((value) => typeof value === 'string')).toBe(true);
  });
});

describe('toAuthorizerContext', () => {
  it('refuses a group whose name contains the list separator', () => {
    // Prepare
    const principal: Principal = { ...cognitoUser, groups: ['readonly', 'x,admin'] };

    // Act
    const convert = () => toAuthorizerContext(principal);

    // Assess
    expect(convert).toThrow(InvalidPrincipalError);
  });

  it('refuses a scope that contains a space', () => {
    // Prepare
    const principal: Principal = { ...cognitoUser, scopes: ['mcp/tools.read admin'] };

    // Act
    const convert = () => toAuthorizerContext(principal);

    // Assess
    expect(convert).toThrow(InvalidPrincipalError);
  });
  it('refuses more group text than parsePrincipal accepts, so the authorizer denies instead', () => {
    // Prepare: 65 Cognito groups of the maximum 128 characters join to 8,384 characters.
    const groups = Array.from({ length: 65 }, (_, i) => `g${String(i).padStart(127, '0')}`);
    const principal: Principal = { ...cognitoUser, groups };

    // Act
    const convert = () => toAuthorizerContext(principal);

    // Assess
    expect(convert).toThrow(InvalidPrincipalError);
  });
});

describe('safeGroupNames', () => {
  it('drops a group whose name contains a comma and keeps the others', () => {
    // Act
    const safe = safeGroupNames(['analyst', 'x,admin', 'readonly']);

    // Assess
    expect(safe).toEqual(['analyst', 'readonly']);
  });

  it('keeps group names with letters, digits, symbols and punctuation other than the comma', () => {
    // Prepare
    const groups = ['Équipe-Finance', 'team_42', 'ops@eu.example', 'a+b'];

    // Act
    const safe = safeGroupNames(groups);

    // Assess
    expect(safe).toEqual(groups);
  });
});

describe('parsePrincipal', () => {
  it.each<[string, unknown]>([
    ['undefined', undefined],
    ['null', null],
    ['an empty object', {}],
    ['a string', 'analyst'],
    ['a numeric principalId', { ...validContext, principalId: 42 }],
    ['a numeric groups value', { ...validContext, groups: 1 }],
    ['groups as an array', { ...validContext, groups: ['admin'] }],
    ['a boolean keyId', { ...validContext, keyId: false }],
    ['an unknown authMethod', { ...validContext, authMethod: 'saml' }],
    ['a missing authMethod', { ...validContext, authMethod: undefined }],
    ['an empty principalId', { ...validContext, principalId: '' }],
    ['a principalId over 256 characters', { ...validContext, principalId: 'u'.repeat(257) }],
    ['a groups string over 8192 characters', { ...validContext, groups: 'g'.repeat(8193) }],
    ['more than 100 groups', { ...validContext, groups: Array(101).fill('g').join(',') }],
    ['an empty group between separators', { ...validContext, groups: 'readonly,,admin' }],
    ['a trailing group separator', { ...validContext, groups: 'readonly,' }],
    ['a scope list with a double space', { ...validContext, scopes: 'openid  email' }],
    ['a keyId over 64 characters', { ...validContext, keyId: 'k'.repeat(65) }],
    ['an API-key caller without a key id', { ...validContext, authMethod: 'api_key', keyId: '' }],
    [
      'an API-key caller with no keyId field',
      { principalId: 'bot', authMethod: 'api_key', groups: 'analyst', scopes: '' },
    ],
  ])('rejects %s', (_label, authorizer) => {
    // Act
    const parse = () => parsePrincipal(authorizer);

    // Assess
    expect(parse).toThrow(InvalidPrincipalError);
  });

  it('accepts values exactly at their size limits', () => {
    // Prepare
    const authorizer = {
      ...validContext,
      principalId: 'u'.repeat(256),
      groups: Array(100).fill('g').join(','),
      keyId: 'k'.repeat(64),
    };

    // Act
    const principal = parsePrincipal(authorizer);

    // Assess
    expect(principal.principalId).toHaveLength(256);
    expect(principal.groups).toHaveLength(100);
    expect(principal.keyId).toHaveLength(64);
  });

  it('ignores the extra keys API Gateway adds to the authorizer context', () => {
    // Prepare
    const authorizer = { ...validContext, integrationLatency: 12 };

    // Act
    const principal = parsePrincipal(authorizer);

    // Assess
    expect(principal).toEqual({
      principalId: 'user-1',
      authMethod: 'cognito',
      groups: ['analyst'],
      scopes: ['openid'],
      keyId: '',
      expiresAt: undefined,
    });
  });

  it('refuses a context whose credential has expired since it was authorized', () => {
    // Prepare: a cached Allow for a token that expired a second ago
    const authorizer = { ...validContext, expiresAt: '1767225600' };

    // Act
    const parse = () => parsePrincipal(authorizer, 1767225601_000);

    // Assess
    expect(parse).toThrow(ExpiredPrincipalError);
  });

  it('accepts a context whose credential has not expired yet', () => {
    const authorizer = { ...validContext, expiresAt: '1767225600' };
    expect(parsePrincipal(authorizer, 1767225599_000).expiresAt).toBe(1767225600);
  });

  it('refuses an expiry that is not a whole number of seconds', () => {
    expect(() => parsePrincipal({ ...validContext, expiresAt: '17e9' })).toThrow(
      InvalidPrincipalError,
    );
  });
});
