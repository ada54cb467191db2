/**
 * The client id URL rules (draft-ietf-oauth-client-id-metadata-document section 3), checked
 * before any DNS or network access, and `isCimdClientId`, which sorts CIMD ids from others.
 */
import { describe, expect, it } from 'vitest';
import { CimdError, CimdResolver, isCimdClientId } from '../../../lambda/oauth-proxy/cimd';
import { scriptedLookup } from './cimd-fixtures';

async function refusal(resolver: CimdResolver, clientId: string): Promise<CimdError> {
  const error = await resolver.resolve(clientId).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (error instanceof CimdError) return error;
  throw new Error(`expected a CimdError, got ${String(error)}`);
}

describe('CimdResolver refuses a client id, before any lookup, that', () => {
  it.each([
    ['http://example.com/client.json', 'cimd_not_https', 'uses plain http'],
    ['ftp://example.com/client.json', 'cimd_not_https', 'uses another scheme'],
    ['https://example.com', 'cimd_invalid_client_id', 'has no path'],
    ['https://example.com/', 'cimd_invalid_client_id', 'has only the root path'],
    ['https://example.com/client.json#x', 'cimd_invalid_client_id', 'has a fragment'],
    ['https://example.com/client.json#', 'cimd_invalid_client_id', 'has an empty fragment'],
    ['https://user@example.com/client.json', 'cimd_invalid_client_id', 'has a user name'],
    ['https://user:pw@example.com/c.json', 'cimd_invalid_client_id', 'has a password'],
    ['https://example.com/a/./client.json', 'cimd_invalid_client_id', 'has a . segment'],
    ['https://example.com/a/../client.json', 'cimd_invalid_client_id', 'has a .. segment'],
    ['https://example.com/a/%2e%2E/c.json', 'cimd_invalid_client_id', 'has an encoded .. segment'],
    ['https://example.com/a/.%2e/c.json', 'cimd_invalid_client_id', 'has a half-encoded ..'],
    ['https://example.com/a/..', 'cimd_invalid_client_id', 'ends in a .. segment'],
    ['HTTPS://example.com/client.json', 'cimd_invalid_client_id', 'spells the scheme upper-case'],
    ['https://Example.com/client.json', 'cimd_invalid_client_id', 'spells the host upper-case'],
    ['https://example.com:443/client.json', 'cimd_invalid_client_id', 'names the default port'],
    ['https://2130706433/client.json', 'cimd_invalid_client_id', 'writes 127.0.0.1 as a number'],
    ['https://0x7f.1/client.json', 'cimd_invalid_client_id', 'writes 127.0.0.1 in hex'],
    ['https://[::ffff:127.0.0.1]/c.json', 'cimd_invalid_client_id', 'writes a mapped IPv6 dotted'],
    ['https://example.com\\client.json', 'cimd_invalid_client_id', 'uses a backslash'],
    ['https://example.com/client json', 'cimd_invalid_client_id', 'has a space'],
    ['https://exämple.com/client.json', 'cimd_invalid_client_id', 'is not ASCII (IDN unencoded)'],
    ['https://example.com/\u202eclient.json', 'cimd_invalid_client_id', 'has a bidi override'],
    [`https://example.com/${'a'.repeat(600)}`, 'cimd_invalid_client_id', 'is longer than 512'],
    ['', 'cimd_invalid_client_id', 'is empty'],
    ['not a url', 'cimd_invalid_client_id', 'is not a URL'],
  ])('%s -> %s (%s)', async (clientId, reason) => {
    // Prepare
    const lookup = scriptedLookup({ 'example.com': ['93.184.215.14'] });
    const resolver = new CimdResolver({ lookup });

    // Act
    const error = await refusal(resolver, clientId);

    // Assess
    expect(error.reason).toBe(reason);
    expect(lookup.calls).toEqual([]);
    // The message is logged: it must not echo the caller's URL.
    if (clientId.length > 0) expect(error.message).not.toContain(clientId);
  });

  it('uses plain http on a loopback host without the local-mode flag', async () => {
    // Prepare
    const resolver = new CimdResolver({ lookup: scriptedLookup({}) });

    // Act + Assess
    expect((await refusal(resolver, 'http://127.0.0.1:8123/client.json')).reason).toBe(
      'cimd_not_https',
    );
    expect((await refusal(resolver, 'http://localhost:8123/client.json')).reason).toBe(
      'cimd_not_https',
    );
  });

  it('uses plain http on a non-loopback host even in local mode', async () => {
    // Prepare
    const lookup = scriptedLookup({ 'cimd.test': ['127.0.0.1'] });
    const resolver = new CimdResolver({ lookup, allowLoopbackHttp: true });

    // Act
    const error = await refusal(resolver, 'http://cimd.test:8123/client.json');

    // Assess: a name that merely resolves to loopback is not a loopback host.
    expect(error.reason).toBe('cimd_not_https');
    expect(lookup.calls).toEqual([]);
  });
});

describe('isCimdClientId', () => {
  it.each([
    ['https://claude.ai/oauth/claude-code-client-metadata', true],
    ['https://example.com/client.json', true],
    ['https://example.com/a/../client.json', true], // looks like one; resolve() refuses it
    ['https://example.com', false],
    ['https://example.com/', false],
    ['http://example.com/client.json', false],
    ['http://127.0.0.1:3000/client.json', false],
    ['public-client-0001', false],
    ['7d3k2l1m0n9o8p7q6r5s4t3u2v', false],
    ['', false],
  ])('%s -> %s', (clientId, expected) => {
    expect(isCimdClientId(clientId)).toBe(expected);
  });

  it('accepts plain http only on loopback hosts, and only with the local-mode flag', () => {
    const local = { allowLoopbackHttp: true };
    expect(isCimdClientId('http://127.0.0.1:3000/client.json', local)).toBe(true);
    expect(isCimdClientId('http://[::1]:3000/client.json', local)).toBe(true);
    expect(isCimdClientId('http://localhost:3000/client.json', local)).toBe(true);
    expect(isCimdClientId('http://example.com/client.json', local)).toBe(false);
    expect(
      new CimdResolver({ allowLoopbackHttp: true }).isCimdClientId('http://localhost:1/c'),
    ).toBe(true);
    expect(new CimdResolver().isCimdClientId('http://localhost:1/c')).toBe(false);
  });
});

describe('CimdResolver options', () => {
  it('refuses allowLoopbackHttp inside Lambda, where loopback is the Runtime API', () => {
    // Prepare
    const previous = process.env.AWS_LAMBDA_FUNCTION_NAME;
    process.env.AWS_LAMBDA_FUNCTION_NAME = 'oauth-proxy';
    try {
      // Act + Assess
      expect(() => new CimdResolver({ allowLoopbackHttp: true })).toThrow(/local mode/);
      expect(() => new CimdResolver()).not.toThrow();
    } finally {
      if (previous === undefined) delete process.env.AWS_LAMBDA_FUNCTION_NAME;
      else process.env.AWS_LAMBDA_FUNCTION_NAME = previous;
    }
  });

  it.each([
    [{ allowedHosts: ['https://claude.ai'] }, /allowedHosts\[0\]/],
    [{ allowedHosts: ['claude.ai', 'claude.ai:443'] }, /allowedHosts\[1\]/],
    [{ allowedHosts: ['*'] }, /allowedHosts\[0\]/],
    [{ timeoutMs: 0 }, /timeoutMs/],
    [{ maxBytes: -1 }, /maxBytes/],
    [{ cacheEntries: 1.5 }, /cacheEntries/],
    [{ minCacheSeconds: 600, maxCacheSeconds: 60 }, /minCacheSeconds/],
  ])('refuses a misconfiguration %j with a message naming the option', (options, message) => {
    expect(() => new CimdResolver(options)).toThrow(message);
  });
});
