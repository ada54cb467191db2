/**
 * Header rules between a client and a Lambda integration, checked against every row of AWS's
 * table in both directions, and the headers API Gateway adds to the request.
 */
import { describe, expect, it } from 'vitest';
import {
  eventHeaderMaps,
  integrationRequestHeaders,
  mergeProxyHeaders,
  remapIntegrationResponseHeaders,
} from '../../../../../tools/local/emulator/header-rules';
import { DOCUMENTED_HEADERS } from '../../../../support/documented-headers';

const ADDED = { sourceIp: '198.51.100.7', port: '443', proto: 'https', traceId: 'Root=1-abc-def' };

describe('an integration response header, as the documented table says', () => {
  it.each(DOCUMENTED_HEADERS.map(([name, , response]) => [name, response]))(
    '%s is %s',
    (name, rule) => {
      const sent = remapIntegrationResponseHeaders([[name, 'from-the-function']]);

      const expected = {
        passthrough: [[name, 'from-the-function']],
        remapped: [[`X-Amzn-Remapped-${name}`, 'from-the-function']],
        'remapped-overwritten': [[`X-Amzn-Remapped-${name}`, 'from-the-function']],
        dropped: [],
      }[rule];
      expect(sent).toEqual(expected);
    },
  );

  it('keeps a header the table does not list, and its spelling', () => {
    expect(remapIntegrationResponseHeaders([['mcp-session-id', 'x']])).toEqual([
      ['mcp-session-id', 'x'],
    ]);
  });

  it('remaps whatever the case the function wrote', () => {
    expect(remapIntegrationResponseHeaders([['www-authenticate', 'Bearer']])).toEqual([
      ['X-Amzn-Remapped-www-authenticate', 'Bearer'],
    ]);
  });
});

describe('a request header on its way to the function, as the documented table says', () => {
  it.each(DOCUMENTED_HEADERS.map(([name, request]) => [name, request]))(
    '%s is %s',
    (name, rule) => {
      const received = integrationRequestHeaders([[name, 'from-the-client']], ADDED);

      const kept = received.some(([n, v]) => n === name && v === 'from-the-client');
      expect(kept).toBe(rule === 'passthrough');
    },
  );
});

describe('headers API Gateway adds to the request (the AWS tutorial event shows them)', () => {
  it('adds X-Amzn-Trace-Id, X-Forwarded-For, X-Forwarded-Port and X-Forwarded-Proto', () => {
    const received = integrationRequestHeaders([['Accept', '*/*']], ADDED);

    expect(received).toEqual([
      ['Accept', '*/*'],
      ['X-Amzn-Trace-Id', 'Root=1-abc-def'],
      ['X-Forwarded-For', '198.51.100.7'],
      ['X-Forwarded-Port', '443'],
      ['X-Forwarded-Proto', 'https'],
    ]);
  });

  it("appends the client's address to an X-Forwarded-For the client sent", () => {
    const received = integrationRequestHeaders([['x-forwarded-for', '203.0.113.1']], ADDED);

    expect(received).toContainEqual(['X-Forwarded-For', '203.0.113.1, 198.51.100.7']);
  });

  it("replaces a client's own trace id, port and protocol with API Gateway's", () => {
    const received = integrationRequestHeaders(
      [
        ['X-Amzn-Trace-Id', 'Root=forged'],
        ['X-Forwarded-Proto', 'http'],
        ['X-Forwarded-Port', '80'],
      ],
      ADDED,
    );

    expect(received.filter(([name]) => /^x-(amzn-trace-id|forwarded-p)/i.test(name))).toEqual([
      ['X-Amzn-Trace-Id', 'Root=1-abc-def'],
      ['X-Forwarded-Port', '443'],
      ['X-Forwarded-Proto', 'https'],
    ]);
  });
});

describe('the proxy event and result header maps', () => {
  it("gives the event's headers the last value of a repeated header and multiValueHeaders all", () => {
    const maps = eventHeaderMaps([
      ['X-Tag', 'a'],
      ['X-Tag', 'b'],
    ]);

    expect(maps).toEqual({ headers: { 'X-Tag': 'b' }, multiValueHeaders: { 'X-Tag': ['a', 'b'] } });
  });

  it('lets multiValueHeaders win over headers for the same name, as the proxy-integration page says', () => {
    const merged = mergeProxyHeaders(
      { 'Set-Cookie': 'solo', Other: 1 },
      { 'set-cookie': ['a', 'b'] },
    );

    expect(merged).toEqual([
      ['Other', '1'],
      ['set-cookie', 'a'],
      ['set-cookie', 'b'],
    ]);
  });
});
