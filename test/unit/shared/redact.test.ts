import { describe, expect, it } from 'vitest';
import { REDACTED, redactSecrets } from '../../../lambda/shared/redact';

/** A JWT as Cognito issues them (header.payload.signature); the signature is made up. */
const JWT =
  'eyJraWQiOiJsb2NhbCIsImFsZyI6IlJTMjU2In0.eyJzdWIiOiJhbGljZSIsImNvZ25pdG86Z3JvdXBzIjpbImFkbWluIl19.c2lnbmF0dXJlLW9mLXRoZS10b2tlbi1ub3QtcmVhbA';
/** An API key in this project's format: `mcpk_<key id>_<43 characters of secret>`. */
const API_KEY = 'mcpk_0123456789abcdef_Q2hhbmdlLW1lLXRoaXMtaXMtYS1mYWtlLXNlY3JldC0x';
const SECRET_PART = API_KEY.slice('mcpk_0123456789abcdef_'.length);

describe('redactSecrets', () => {
  it('cuts a JWT out of a message, leaving the words around it', () => {
    // Act
    const text = redactSecrets(`Could not verify ${JWT} for alice`);

    // Assess
    expect(text).toBe(`Could not verify ${REDACTED} for alice`);
  });

  it("cuts an API key's secret, keeping its key id, which names it and is not secret", () => {
    // Act
    const text = redactSecrets(`Key ${API_KEY} was refused`);

    // Assess
    expect(text).toBe(`Key mcpk_0123456789abcdef_${REDACTED} was refused`);
    expect(text).not.toContain(SECRET_PART);
  });

  it('cuts a malformed API key whole', () => {
    expect(redactSecrets('got mcpk_not-a-real-key here')).toBe(`got mcpk_${REDACTED} here`);
  });

  it.each([
    ['an Authorization header', `Authorization: Bearer ${JWT}`],
    ['an Authorization header of an API key', `authorization: Bearer ${API_KEY}`],
    ['an Authorization field in JSON', `{"Authorization":"Basic YWxhZGRpbjpvcGVuc2VzYW1l"}`],
    ['a bearer credential alone', 'sent Bearer abcdefgh12345678 to upstream'],
  ])('cuts the value of %s', (_label, message) => {
    // Act
    const text = redactSecrets(message);

    // Assess
    expect(text).toContain(REDACTED);
    expect(text).not.toMatch(/eyJ|mcpk_0123456789abcdef_Q|YWxhZGRpbjpvcGVuc2VzYW1l|abcdefgh1234/);
  });

  it.each([
    ['a long-term AWS access key id', 'AKIAIOSFODNN7EXAMPLE', 'key AKIAIOSFODNN7EXAMPLE used'],
    ['a temporary AWS access key id', 'ASIAZ3EXAMPLE0000000', 'key ASIAZ3EXAMPLE0000000 used'],
    [
      'an AWS secret access key',
      'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      'secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY leaked',
    ],
    [
      'a hex digest',
      '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
      'hash 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
    ],
    ['a password given by name', 'hunter2', 'login failed: password=hunter2'],
    ['a client secret in JSON', 's3cr3t', '{"client_secret": "s3cr3t"}'],
  ])('cuts %s', (_label, secret, message) => {
    // Act
    const text = redactSecrets(message);

    // Assess
    expect(text).toContain(REDACTED);
    expect(text).not.toContain(secret);
  });

  it.each([
    ['a request id', 'Request id: c0ffee00-1234-4abc-8def-000000000042'],
    ['a table name as the emulator makes them', 'Table TestStack-OrdersTable7D9A3B1C-1XYZABCDEFGH'],
    ['a validation message', "1 validation error detected: Value '' at 'tableName' failed"],
    ['an ARN', 'arn:aws:dynamodb:us-east-1:123456789012:table/mcp-records-local'],
  ])('leaves %s alone', (_label, message) => {
    expect(redactSecrets(message)).toBe(message);
  });
});
