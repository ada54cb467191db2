/**
 * Request size, end to end as AWS bounds it: API Gateway takes up to 10 MB, Lambda's invoke up
 * to 6 MB, the MCP function up to 1 MiB. Between 6 and 10 MB a request would pass the gateway
 * and fail the invoke (API Gateway's bare "Request Too Long"); the stack's WAF answers any body
 * over the function's limit with a 413 of its own first, a JSON-RPC error a client can read.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MAX_MCP_BODY_BYTES } from '../../../lambda/shared/env';
import type { LocalGateway } from '../../../tools/local/gateway';
import { loadSigningKey, mintAccessToken } from '../../../tools/local/identity';
import { startTestGateway, useLocalGateway } from '../../support/local-gateway-fixture';

const MB = 1024 * 1024;

/** A JSON-RPC tools/call whose arguments make the body `bytes` long. */
function bodyOf(bytes: number): string {
  const head =
    '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_record","arguments":{"id":"';
  const tail = '"}}}';
  return `${head}${'x'.repeat(bytes - head.length - tail.length)}${tail}`;
}

function post(url: string, body: string, token?: string) {
  return fetch(url, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      Accept: 'application/json, text/event-stream',
      ...(token === undefined ? {} : { Authorization: `Bearer ${token}` }),
    },
    body,
  });
}

describe('with WAF (the default deployment)', () => {
  const local = useLocalGateway('mcp-payload-waf-');
  const token = () => mintAccessToken(loadSigningKey(local.dir), { sub: 'pl', groups: ['admin'] });

  it.each([
    ['just over the function’s limit', DEFAULT_MAX_MCP_BODY_BYTES + 1],
    ['between Lambda’s 6 MB and API Gateway’s 10 MB', 7 * MB],
  ])('answers a body %s with WAF’s 413, a JSON-RPC error', async (_, bytes) => {
    // Act
    const response = await post(local.gateway.mcpUrl, bodyOf(bytes), token());

    // Assess
    expect(response.status).toBe(413);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await response.json()).toEqual({
      jsonrpc: '2.0',
      id: null,
      error: {
        code: -32600,
        message: `Request body too large: at most ${DEFAULT_MAX_MCP_BODY_BYTES} bytes`,
      },
    });
  });

  it('answers it before the authorizer runs: no credential needed to be refused', async () => {
    const response = await post(local.gateway.mcpUrl, bodyOf(2 * MB));
    expect(response.status).toBe(413);
  });

  it('serves a body at the limit', async () => {
    const response = await post(local.gateway.mcpUrl, bodyOf(DEFAULT_MAX_MCP_BODY_BYTES), token());
    expect(response.status).toBe(200);
  });
});

describe('without WAF (-c enableWaf=false)', () => {
  let dir = '';
  let gateway: LocalGateway | undefined;
  const token = () => mintAccessToken(loadSigningKey(dir), { sub: 'pl', groups: ['admin'] });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mcp-payload-nowaf-'));
    gateway = await startTestGateway(dir, { context: { enableWaf: false } });
  }, 120_000);

  afterAll(async () => {
    await gateway?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('leaves a body over 1 MiB to the MCP function, whose 413 is a JSON-RPC error', async () => {
    const response = await post(gateway?.mcpUrl ?? '', bodyOf(2 * MB), token());
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ jsonrpc: '2.0', error: { code: -32600 } });
  });

  it('answers a body over Lambda’s 6 MB with API Gateway’s own 413 (the invoke is refused)', async () => {
    const response = await post(gateway?.mcpUrl ?? '', bodyOf(7 * MB), token());
    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({ message: 'Request Too Long' });
  });

  it('answers a body over API Gateway’s 10 MB with its 413 before anything else', async () => {
    const response = await post(gateway?.mcpUrl ?? '', bodyOf(11 * MB));
    expect(response.status).toBe(413);
    expect(await response.text()).toBe('HTTP content length exceeded 10485760 bytes.');
  });
});
