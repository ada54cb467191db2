/**
 * The gateway when the API-key document cannot be read: API-key callers are refused, never let
 * through (the authorizer fails, and API Gateway answers 503 with Retry-After and caches
 * nothing), Cognito callers are unaffected, and the reason is audited.
 */
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatApiKey, generateKeyId, generateSecret } from '../../../lambda/shared/api-key';
import { AUDIT_EVENTS, AUDIT_FIELDS } from '../../../lambda/shared/audit';
import { apiKeyFilePath, loadSigningKey, mintAccessToken } from '../../../tools/local/identity';
import { useLocalGateway } from '../../support/local-gateway-fixture';

const local = useLocalGateway('mcp-fail-closed-', (dir) => {
  writeFileSync(apiKeyFilePath(dir), '{"version": 1, "keys": {"not-a-key-id": {}}}');
});

const listTools = (credential: string) =>
  fetch(local.gateway.mcpUrl, {
    method: 'POST',
    headers: {
      Authorization: `Bearer ${credential}`,
      'Content-Type': 'application/json',
      Accept: 'application/json, text/event-stream',
    },
    body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}',
  });

describe('an unreadable API-key document', () => {
  it('refuses API-key callers with 503 and Retry-After rather than letting them through', async () => {
    const response = await listTools(formatApiKey(generateKeyId(), generateSecret()));
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('5');
    expect(await response.json()).toEqual({
      message: 'The credential could not be checked just now; try again',
    });
  });

  it('audits the deny with the reason secret_unavailable', () => {
    const decisions = local.logs
      .records()
      .filter((record) => record[AUDIT_FIELDS.event] === AUDIT_EVENTS.authDecision);
    expect(decisions.at(-1)).toMatchObject({
      [AUDIT_FIELDS.decision]: 'deny',
      [AUDIT_FIELDS.reason]: 'secret_unavailable',
    });
  });

  it('still serves Cognito callers', async () => {
    const token = mintAccessToken(loadSigningKey(local.dir), {
      sub: 'alice',
      groups: ['readonly'],
    });
    const response = await listTools(token);
    expect(response.status).toBe(200);
  });
});
