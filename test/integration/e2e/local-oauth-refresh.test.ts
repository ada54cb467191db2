/**
 * Refresh tokens in local mode, end to end through the local gateway: the proxy's own tokens,
 * rotated at each refresh, bound to their client, a reused one ending the family; and the
 * `users` CLI's sign-out ending it too (the local sign-in server refuses the session, as
 * Cognito does after a global sign-out), with the audit records the proxy writes.
 */
import { describe, expect, it } from 'vitest';
import { s256 } from '../../../lambda/oauth-proxy/pkce';
import { AUDIT_EVENTS, AUDIT_FIELDS } from '../../../lambda/shared/audit';
import { applyUserChange } from '../../../tools/cli/user-admin';
import { LOCAL_CLIENT_ID } from '../../../tools/local/identity';
import { LocalRevocationWriter } from '../../../tools/local/revocations';
import { LocalUserDirectory, usersFilePath } from '../../../tools/local/user-file';
import { useLocalGateway } from '../../support/local-gateway-fixture';
import { signInLocally } from '../../support/local-sign-in';

const local = useLocalGateway('mcp-oauth-refresh-');
const REDIRECT = 'http://localhost:40124/callback';
const VERIFIER = 'local-refresh-test-verifier-'.padEnd(43, 'x');

interface TokenAnswer {
  readonly status: number;
  readonly body: { access_token?: string; refresh_token?: string; error?: string };
}

async function tokenRequest(form: Record<string, string>): Promise<TokenAnswer> {
  const response = await fetch(`${local.gateway.url}/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });
  return { status: response.status, body: (await response.json()) as TokenAnswer['body'] };
}

/** `sub` signs in as the pre-registered client: its first tokens. */
async function signIn(sub: string) {
  const authorize = new URL(`${local.gateway.url}/authorize`);
  for (const [name, value] of Object.entries({
    response_type: 'code',
    client_id: LOCAL_CLIENT_ID,
    redirect_uri: REDIRECT,
    code_challenge: s256(VERIFIER),
    code_challenge_method: 'S256',
    resource: local.gateway.mcpUrl,
    state: 'refresh-test',
  })) {
    authorize.searchParams.set(name, value);
  }
  const callback = await signInLocally(authorize, sub, ['analyst']);
  const answer = await tokenRequest({
    grant_type: 'authorization_code',
    code: callback.searchParams.get('code') ?? '',
    client_id: LOCAL_CLIENT_ID,
    redirect_uri: REDIRECT,
    code_verifier: VERIFIER,
    resource: local.gateway.mcpUrl,
  });
  expect(answer.status).toBe(200);
  return answer.body;
}

const refresh = (token: string | undefined, clientId = LOCAL_CLIENT_ID) =>
  tokenRequest({ grant_type: 'refresh_token', refresh_token: token ?? '', client_id: clientId });

/** Does the MCP endpoint take the access token? */
async function accepted(accessToken: string | undefined): Promise<boolean> {
  const response = await fetch(local.gateway.mcpUrl, {
    method: 'POST',
    headers: {
      Authorization: `Bearer ${accessToken}`,
      'Content-Type': 'application/json',
      Accept: 'application/json, text/event-stream',
      'MCP-Protocol-Version': '2025-11-25',
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
  });
  await response.body?.cancel();
  return response.status === 200;
}

/** The proxy's refresh records written since `from`. */
function refreshRecords(from: number) {
  return local.logs
    .records()
    .slice(from)
    .filter(
      (r) =>
        r[AUDIT_FIELDS.event] === AUDIT_EVENTS.oauthAuthorization &&
        r[AUDIT_FIELDS.step] === 'refresh',
    );
}

describe('refresh through the local OAuth proxy', () => {
  it('rotates the refresh token, refuses the old one and then the whole family', async () => {
    // Prepare
    const first = await signIn('carol');
    const from = local.logs.records().length;

    // Act
    const second = await refresh(first.refresh_token);
    const reused = await refresh(first.refresh_token);
    const newest = await refresh(second.body.refresh_token);

    // Assess
    expect(second.status).toBe(200);
    expect(second.body.refresh_token).toMatch(/^[\w-]{43}$/);
    expect(second.body.refresh_token).not.toBe(first.refresh_token);
    expect(await accepted(second.body.access_token)).toBe(true);
    expect([reused.status, reused.body.error]).toEqual([400, 'invalid_grant']);
    expect([newest.status, newest.body.error]).toEqual([400, 'invalid_grant']);
    expect(refreshRecords(from).map((r) => r[AUDIT_FIELDS.reason])).toEqual([
      'ok',
      'refresh_token_reused',
      'refresh_family_ended',
    ]);
    expect(refreshRecords(from)[1]).toMatchObject({ [AUDIT_FIELDS.familyEnded]: true });
    expect(JSON.stringify(local.logs.records().slice(from))).not.toContain(
      second.body.refresh_token,
    );
  });

  it('refuses a refresh token presented under a CIMD URL it was not issued to', async () => {
    // Prepare
    const first = await signIn('dave');

    // Act
    const stolen = await refresh(first.refresh_token, 'https://evil.example/client.json');
    const owner = await refresh(first.refresh_token);

    // Assess
    expect([stolen.status, stolen.body.error]).toEqual([400, 'invalid_grant']);
    expect(owner.status).toBe(400);
  });

  it('ends the family at the next refresh after `users sign-out`, as Cognito does', async () => {
    // Prepare
    const first = await signIn('erin');
    const before = await refresh(first.refresh_token);
    const from = local.logs.records().length;

    // Act: the CLI's local path, as `npm run users -- sign-out erin` runs it
    await applyUserChange(
      {
        directory: new LocalUserDirectory(usersFilePath(local.dir)),
        revocations: new LocalRevocationWriter(local.dir),
        actor: 'test',
        audit: () => {},
        roles: [],
      },
      { action: 'sign-out', username: 'erin' },
    );
    const after = await refresh(before.body.refresh_token);
    const again = await refresh(before.body.refresh_token);

    // Assess
    expect(before.status).toBe(200);
    expect([after.status, after.body.error]).toEqual([400, 'invalid_grant']);
    expect(refreshRecords(from)[0]).toMatchObject({
      [AUDIT_FIELDS.reason]: 'upstream_error',
      [AUDIT_FIELDS.familyEnded]: true,
    });
    expect(again.status).toBe(400);
  });
});
