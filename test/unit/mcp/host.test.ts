/** The MCP Lambda answers only requests naming this API, whatever API Gateway let through. */
import { describe, expect, it } from 'vitest';
import { checkRequestLine } from '../../../lambda/mcp/http';
import { proxyEvent } from '../../support/apigw-events';

const config = {
  allowedOrigins: [],
  maxBodyBytes: 1024,
  allowedHosts: ['abc123.execute-api.eu-west-1.amazonaws.com', 'mcp.example.com'],
};
const withHost = (host: string | undefined) =>
  proxyEvent({ headers: host === undefined ? {} : { Host: host } });

describe('checkRequestLine: Host', () => {
  it.each(['abc123.execute-api.eu-west-1.amazonaws.com', 'MCP.example.com'])(
    'lets %s through',
    (host) => {
      expect(checkRequestLine(withHost(host), config)).toBeUndefined();
    },
  );

  it.each([
    ['another API', 'other99.execute-api.eu-west-1.amazonaws.com'],
    ['a look-alike', 'mcp.example.com.evil.example'],
    ['no Host at all', undefined],
  ])('refuses %s with 403', (_, host) => {
    expect(checkRequestLine(withHost(host), config)?.statusCode).toBe(403);
  });

  it('checks no Host when no name is configured', () => {
    expect(
      checkRequestLine(withHost('anything.example'), { ...config, allowedHosts: [] }),
    ).toBeUndefined();
  });
});
