import { describe, expect, it } from 'vitest';
import { isOwnHost, localNames, parseAllowedOrigins } from '../../../../tools/local/origins';

describe('localNames', () => {
  it('names the three loopback spellings of the port, as Host values and origins', () => {
    // Act
    const names = localNames('127.0.0.1', 3000);

    // Assess
    expect([...names.hosts].sort()).toEqual(['127.0.0.1:3000', '[::1]:3000', 'localhost:3000']);
    expect(names.origins).toEqual([
      'http://127.0.0.1:3000',
      'http://localhost:3000',
      'http://[::1]:3000',
    ]);
  });

  it('adds the name of a specific interface it is bound to, but never a wildcard address', () => {
    expect(localNames('192.168.1.20', 3000).hosts.has('192.168.1.20:3000')).toBe(true);
    expect(localNames('0.0.0.0', 3000).hosts.has('0.0.0.0:3000')).toBe(false);
    expect(localNames('::', 3000).hosts.size).toBe(3);
  });
});

describe('isOwnHost', () => {
  const names = localNames('127.0.0.1', 3000);

  it.each([
    ['127.0.0.1:3000', true],
    ['LOCALHOST:3000', true],
    ['[::1]:3000', true],
    ['127.0.0.1:3001', false],
    ['127.0.0.1', false],
    ['rebind.example:3000', false],
    ['localhost.rebind.example:3000', false],
    ['127.0.0.1:3000.rebind.example', false],
    [undefined, false],
  ])('%s -> %s', (host, expected) => {
    expect(isOwnHost(host, names)).toBe(expected);
  });
});

describe('parseAllowedOrigins', () => {
  it('takes comma-separated and repeated values, trimmed, each once', () => {
    expect(
      parseAllowedOrigins(
        ['http://localhost:6274, https://app.example.com', 'http://localhost:6274'],
        '--allow-origin',
      ),
    ).toEqual(['http://localhost:6274', 'https://app.example.com']);
  });

  it.each([
    ['a trailing slash', 'http://localhost:6274/'],
    ['a path', 'https://app.example.com/inspector'],
    ['plain http off loopback', 'http://app.example.com'],
    ['no scheme', 'localhost:6274'],
    ['the literal null origin', 'null'],
  ])('refuses %s, naming where it came from', (_, value) => {
    expect(() => parseAllowedOrigins([value], 'MCP_ALLOWED_ORIGINS')).toThrow(
      /^MCP_ALLOWED_ORIGINS: /,
    );
  });
});
