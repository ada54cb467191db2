/**
 * A buffered Lambda proxy result as API Gateway reads it; the cases and outcomes are those of
 * AWS-recorded responses (LocalStack's `test_aws_proxy_response_payload_format_validation`
 * snapshot, non-AWS evidence) where the AWS page says only "a different format … 502".
 */
import { describe, expect, it } from 'vitest';
import { parseProxyResult } from '../../../../../tools/local/emulator/proxy-result';

describe('a well-formed proxy result', () => {
  it.each([
    ['a status only: an empty body', { statusCode: 200 }, 200, ''],
    ['a status as a string', { statusCode: '201', body: 'x' }, 201, 'x'],
    ['no status: 200', { headers: { a: 'b' }, body: 'x' }, 200, 'x'],
    ['headers null', { statusCode: 204, headers: null }, 204, ''],
  ])('%s', (_name, result, status, body) => {
    const parsed = parseProxyResult(JSON.stringify(result));

    expect(parsed).toMatchObject({ kind: 'ok', statusCode: status, body });
  });

  it('writes a non-string header value as text', () => {
    const parsed = parseProxyResult(
      JSON.stringify({ statusCode: 200, headers: { 'header-bool': true } }),
    );

    expect(parsed.kind === 'ok' && parsed.headers).toEqual([['header-bool', 'true']]);
  });
});

describe('a malformed proxy result (502 "Malformed Lambda proxy response")', () => {
  it.each([
    ['an unknown key', { statusCode: 200, wrongValue: 'value' }, /unknown key wrongValue/],
    ['an empty object', {}, /empty object/],
    ['a status that is not a number', { statusCode: 'test' }, /statusCode "test"/],
    ['a plain string', 'justAString', /not a JSON object/],
    [
      'a multiValueHeaders value that is not a list',
      { statusCode: 200, multiValueHeaders: { a: 'b' } },
      /not a list/,
    ],
    [
      'a body that is not a string',
      { statusCode: 200, body: { a: 1 } },
      /body that is not a string/,
    ],
  ])('%s', (_name, result, why) => {
    const parsed = parseProxyResult(JSON.stringify(result));

    expect(parsed.kind).toBe('malformed');
    expect(parsed.kind === 'malformed' && parsed.why).toMatch(why);
  });

  it('text that is not JSON at all', () => {
    expect(parseProxyResult('<html>').kind).toBe('malformed');
  });
});
