import { describe, expect, it } from 'vitest';
import { MAX_CREDENTIAL_LENGTH, readCredential } from '../../../lambda/authorizer/credential';
import { formatApiKey } from '../../../lambda/shared/api-key';

const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl';
const KEY_ID = '0123456789abcdef';
const API_KEY = formatApiKey(KEY_ID, 'A'.repeat(43));

/** The credential's kind and reason, or its length: long tokens make unreadable diffs. */
function summary(credential: ReturnType<typeof readCredential>) {
  if (credential.kind === 'invalid') return { kind: credential.kind, reason: credential.reason };
  if (credential.kind === 'jwt') return { kind: credential.kind, length: credential.token.length };
  return { kind: credential.kind, keyId: credential.apiKey.keyId };
}

/** A JWT-shaped credential of exactly `length` characters. */
function jwtShapedOfLength(length: number): string {
  return `aaaaaaaaaa.${'b'.repeat(length - 22)}.cccccccccc`;
}

describe('readCredential: where the header is found', () => {
  it('reads the Authorization header from headers', () => {
    // Act
    const credential = readCredential({ Authorization: `Bearer ${JWT}` });

    // Assess
    expect(credential).toEqual({ kind: 'jwt', token: JWT });
  });

  it.each(['authorization', 'AUTHORIZATION', 'aUtHoRiZaTiOn'])(
    'finds the header whatever the case of its name (%s)',
    (name) => {
      // Act
      const credential = readCredential({ [name]: `Bearer ${JWT}` });

      // Assess
      expect(credential).toEqual({ kind: 'jwt', token: JWT });
    },
  );

  it('reads the header from multiValueHeaders when headers lacks it', () => {
    // Act
    const credential = readCredential(null, { Authorization: [`Bearer ${JWT}`] });

    // Assess
    expect(credential).toEqual({ kind: 'jwt', token: JWT });
  });

  it('finds the header in multiValueHeaders whatever the case of its name', () => {
    // Act
    const credential = readCredential({}, { AUTHORIZATION: [`Bearer ${JWT}`] });

    // Assess
    expect(credential).toEqual({ kind: 'jwt', token: JWT });
  });

  it('accepts the same value present in both headers and multiValueHeaders', () => {
    // Prepare
    const value = `Bearer ${JWT}`;

    // Act
    const credential = readCredential({ Authorization: value }, { Authorization: [value] });

    // Assess
    expect(credential).toEqual({ kind: 'jwt', token: JWT });
  });
});

describe('readCredential: missing credentials', () => {
  it('reports a request without headers as missing a credential', () => {
    // Act
    const credential = readCredential(null, null);

    // Assess
    expect(credential).toEqual({ kind: 'invalid', reason: 'missing_credential' });
  });

  it('reports a request with other headers only as missing a credential', () => {
    // Act
    const credential = readCredential(
      { Accept: 'application/json', 'X-Api-Key': API_KEY },
      { Accept: ['application/json'] },
    );

    // Assess
    expect(credential).toEqual({ kind: 'invalid', reason: 'missing_credential' });
  });

  it('reports an empty Authorization header as missing a credential', () => {
    // Act
    const credential = readCredential({ Authorization: '' });

    // Assess
    expect(credential).toEqual({ kind: 'invalid', reason: 'missing_credential' });
  });

  it('reports a blank Authorization header as missing a credential', () => {
    // Act
    const credential = readCredential({ Authorization: '   ' });

    // Assess
    expect(credential).toEqual({ kind: 'invalid', reason: 'missing_credential' });
  });

  it('reports an empty multiValueHeaders list as missing a credential', () => {
    // Act
    const credential = readCredential({}, { Authorization: [] });

    // Assess
    expect(credential).toEqual({ kind: 'invalid', reason: 'missing_credential' });
  });
});

describe('readCredential: the scheme', () => {
  it.each(['Bearer', 'bearer', 'BEARER', 'bEaReR'])('accepts the scheme spelled %s', (scheme) => {
    // Act
    const credential = readCredential({ Authorization: `${scheme} ${JWT}` });

    // Assess
    expect(credential).toEqual({ kind: 'jwt', token: JWT });
  });

  it.each([
    ['Basic', 'Basic dXNlcjpwYXNzd29yZA=='],
    ['Token', `Token ${API_KEY}`],
    ['Digest', 'Digest username="alice"'],
    ['no scheme at all', JWT],
    ['a scheme glued to Bearer', `BearerToken ${JWT}`],
  ])('refuses the %s scheme as the wrong scheme', (_label, header) => {
    // Act
    const credential = readCredential({ Authorization: header });

    // Assess
    expect(credential).toEqual({ kind: 'invalid', reason: 'wrong_scheme' });
  });

  it.each([
    ['Bearer', 'Bearer'],
    ['Bearer and a space', 'Bearer '],
    ['Bearer and spaces', 'Bearer    '],
  ])('refuses "%s" with nothing after it as malformed', (_label, header) => {
    // Act
    const credential = readCredential({ Authorization: header });

    // Assess
    expect(credential).toEqual({ kind: 'invalid', reason: 'malformed_credential' });
  });

  it('refuses a Bearer header carrying two credentials as malformed', () => {
    // Act
    const credential = readCredential({ Authorization: `Bearer ${JWT} ${API_KEY}` });

    // Assess
    expect(credential).toEqual({ kind: 'invalid', reason: 'malformed_credential' });
  });
});

describe('readCredential: several Authorization values', () => {
  it('refuses two different values in multiValueHeaders as malformed', () => {
    // Act
    const credential = readCredential(
      { Authorization: `Bearer ${API_KEY}` },
      { Authorization: [`Bearer ${JWT}`, `Bearer ${API_KEY}`] },
    );

    // Assess
    expect(credential).toEqual({ kind: 'invalid', reason: 'malformed_credential' });
  });

  it('refuses different values under differently cased header names as malformed', () => {
    // Act
    const credential = readCredential({
      authorization: `Bearer ${JWT}`,
      Authorization: `Bearer ${API_KEY}`,
    });

    // Assess
    expect(credential).toEqual({ kind: 'invalid', reason: 'malformed_credential' });
  });

  it('refuses a value in headers that differs from the one in multiValueHeaders', () => {
    // Act
    const credential = readCredential(
      { Authorization: `Bearer ${API_KEY}` },
      { Authorization: [`Bearer ${JWT}`] },
    );

    // Assess
    expect(credential).toEqual({ kind: 'invalid', reason: 'malformed_credential' });
  });
});

describe('readCredential: length', () => {
  it('refuses a credential far over the length limit as malformed', () => {
    // Act
    const credential = readCredential({
      Authorization: `Bearer ${jwtShapedOfLength(MAX_CREDENTIAL_LENGTH * 2)}`,
    });

    // Assess
    expect(summary(credential)).toEqual({ kind: 'invalid', reason: 'malformed_credential' });
  });

  it('accepts a credential exactly MAX_CREDENTIAL_LENGTH characters long', () => {
    // Prepare
    const token = jwtShapedOfLength(MAX_CREDENTIAL_LENGTH);

    // Act
    const credential = readCredential({ Authorization: `Bearer ${token}` });

    // Assess
    expect(summary(credential)).toEqual({ kind: 'jwt', length: token.length });
  });

  it('refuses a credential one character longer than MAX_CREDENTIAL_LENGTH as malformed', () => {
    // Act
    const credential = readCredential({
      Authorization: `Bearer ${jwtShapedOfLength(MAX_CREDENTIAL_LENGTH + 1)}`,
    });

    // Assess
    expect(summary(credential)).toEqual({ kind: 'invalid', reason: 'malformed_credential' });
  });
});

describe('readCredential: the kind of credential', () => {
  it('classifies three base64url segments as a JWT', () => {
    // Act
    const credential = readCredential({ Authorization: `Bearer ${JWT}` });

    // Assess
    expect(credential).toEqual({ kind: 'jwt', token: JWT });
  });

  it('classifies a well-formed mcpk_ key as an API key and names its key id', () => {
    // Act
    const credential = readCredential({ Authorization: `Bearer ${API_KEY}` });

    // Assess
    expect(credential).toEqual({ kind: 'api_key', apiKey: { keyId: KEY_ID, key: API_KEY } });
  });

  it('tolerates trailing spaces after the credential', () => {
    // Act
    const credential = readCredential({ Authorization: `Bearer ${API_KEY}  ` });

    // Assess
    expect(credential).toEqual({ kind: 'api_key', apiKey: { keyId: KEY_ID, key: API_KEY } });
  });

  it.each([
    ['the bare prefix', 'mcpk_'],
    ['junk after the prefix', 'mcpk_not-a-key'],
    ['an upper-case key id', formatApiKey('0123456789ABCDEF', 'A'.repeat(43))],
    ['a short key id', formatApiKey('0123456789abcde', 'A'.repeat(43))],
    ['a short secret', formatApiKey(KEY_ID, 'A'.repeat(42))],
    ['a long secret', formatApiKey(KEY_ID, 'A'.repeat(44))],
    ['a secret outside base64url', formatApiKey(KEY_ID, `${'A'.repeat(42)}+`)],
    ['a JWT behind the prefix', `mcpk_${JWT}`],
  ])('refuses the API-key prefix with %s as malformed', (_label, value) => {
    // Act
    const credential = readCredential({ Authorization: `Bearer ${value}` });

    // Assess
    expect(credential).toEqual({ kind: 'invalid', reason: 'malformed_credential' });
  });

  it.each([
    ['one segment', 'opaque-token'],
    ['two segments', 'header.payload'],
    ['four segments', 'a.b.c.d'],
    ['an empty signature', 'header.payload.'],
    ['an empty header', '.payload.signature'],
    ['standard base64 characters', 'a+b.c/d.e=f'],
  ])('refuses a credential with %s as malformed', (_label, value) => {
    // Act
    const credential = readCredential({ Authorization: `Bearer ${value}` });

    // Assess
    expect(credential).toEqual({ kind: 'invalid', reason: 'malformed_credential' });
  });
});
