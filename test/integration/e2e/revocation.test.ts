/**
 * Revocation in seconds, end to end in local mode: the `users` and `keys` CLIs run as separate
 * processes (as an operator runs them) against a running local gateway; the deployed
 * authorizer, with the deployment's own settings, refuses the person's or the key's older
 * credentials within the not-before list's staleness bound (REVOCATIONS_MAX_AGE_SECONDS, 10 s),
 * the local sign-in refuses a disabled user, and a new sign-in carries the new groups.
 *
 * The authorizer's API-key cache lasts a minute (API_KEYS_CACHE_TTL_SECONDS), so a revoked key
 * is refused within the bound only through the not-before list, never through a reload of the
 * key secret.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { AUDIT_EVENTS, AUDIT_FIELDS } from '../../../lambda/shared/audit';
import { authorizerEnvSchema } from '../../../lambda/shared/env';
import { s256 } from '../../../tools/local/auth-server';
import {
  LOCAL_CLIENT_ID,
  LOCAL_SCOPE,
  loadSigningKey,
  mintAccessToken,
} from '../../../tools/local/identity';
import { DEPLOYMENT_ROLES, deploymentRole } from '../../support/deployment-roles';
import { startTestGateway, useLocalGateway } from '../../support/local-gateway-fixture';
import { signInLocally } from '../../support/local-sign-in';

const run = promisify(execFile);
/** The deployed authorizer's bound: its REVOCATIONS_MAX_AGE_SECONDS default. */
const MAX_AGE_MS =
  authorizerEnvSchema.parse({
    USER_POOL_ID: 'us-east-1_x',
    USER_POOL_CLIENT_IDS: 'c',
    REQUIRED_SCOPES: 's',
    API_KEYS_SECRET_ID: 'k',
    API_KEY_ROLES: 'analyst',
    REVOCATIONS_TABLE_NAME: 't',
  }).REVOCATIONS_MAX_AGE_SECONDS * 1000;
/** A pre-registered client's callback (any loopback port): the proxy sends the code there. */
const REDIRECT = 'http://localhost:40123/callback';
/** A role of the deployment besides admin that may list tools. */
const READER = deploymentRole({ grants: ['read_data'], lacks: ['delete_data'] });

const local = useLocalGateway('mcp-revocation-');

async function cli(script: 'users' | 'keys', args: string[]) {
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      ['--import', 'tsx', `tools/cli/${script}.ts`, ...args],
      { env: { ...process.env, MCP_LOCAL_DIR: local.dir } },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

/** One `tools/list` through the gateway: the authorizer's verdict is the status. */
async function listStatus(credential: string, mcpUrl = local.gateway.mcpUrl): Promise<number> {
  const response = await fetch(mcpUrl, {
    method: 'POST',
    headers: {
      Authorization: `Bearer ${credential}`,
      'Content-Type': 'application/json',
      Accept: 'application/json, text/event-stream',
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
  });
  await response.arrayBuffer();
  return response.status;
}

/** Poll until the credential gets `status`; the milliseconds it took, or Infinity. */
async function timeUntil(status: number, credential: string, limitMs: number): Promise<number> {
  const started = Date.now();
  while (Date.now() - started <= limitMs) {
    if ((await listStatus(credential)) === status) return Date.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return Number.POSITIVE_INFINITY;
}

const timeUntilRefused = (credential: string, limitMs: number) =>
  timeUntil(401, credential, limitMs);

/**
 * Sign in as a client does, through the OAuth proxy (consent, the local sign-in page, the
 * callback) and exchange the code: the access token, or the error the client is sent back with.
 */
async function signIn(sub: string, groups: string[]) {
  const verifier = randomBytes(32).toString('base64url');
  const url = new URL(`${local.gateway.url}/authorize`);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: LOCAL_CLIENT_ID,
    redirect_uri: REDIRECT,
    code_challenge: s256(verifier),
    code_challenge_method: 'S256',
    scope: LOCAL_SCOPE,
    resource: local.gateway.mcpUrl,
    state: 'st',
  }).toString();
  const callback = await signInLocally(url, sub, groups);
  const error = callback.searchParams.get('error');
  if (error !== null) return { error, state: callback.searchParams.get('state') };
  const response = await fetch(`${local.gateway.url}/token`, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      client_id: LOCAL_CLIENT_ID,
      redirect_uri: REDIRECT,
      code: callback.searchParams.get('code') ?? '',
      code_verifier: verifier,
      resource: local.gateway.mcpUrl,
    }),
  });
  const body = (await response.json()) as { access_token: string };
  return { token: body.access_token };
}

function groupsOf(token: string): unknown {
  const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString());
  return payload['cognito:groups'] ?? [];
}

/** A token the local pool issued a few seconds ago, as a client would hold it. */
function tokenFor(sub: string, groups: string[]): string {
  return mintAccessToken(loadSigningKey(local.dir), {
    sub,
    groups,
    now: new Date(Date.now() - 5000),
  });
}

/** Wait until the clock is past a not-before, so a new token is issued after it. */
async function pastNotBefore(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 1100));
}

function authRecords(reason: string) {
  return local.logs
    .records()
    .filter(
      (r) =>
        r[AUDIT_FIELDS.event] === AUDIT_EVENTS.authDecision && r[AUDIT_FIELDS.reason] === reason,
    );
}

describe('users disable', () => {
  /** Alice's token from before she was disabled (issued before the not-before, whatever the pace). */
  let aliceBefore = '';

  it('refuses the user’s existing token within the list’s bound, audited as token_revoked', async () => {
    // Prepare
    const token = tokenFor('alice', ['admin']);
    aliceBefore = token;
    expect(await listStatus(token)).toBe(200);
    // Act
    const disabled = await cli('users', ['disable', 'alice', '--actor', 'ops-test']);
    const elapsed = await timeUntilRefused(token, MAX_AGE_MS + 1000);
    // Assess
    expect(disabled.code).toBe(0);
    expect(elapsed).toBeLessThanOrEqual(MAX_AGE_MS + 500);
    expect(authRecords('token_revoked').at(-1)).toMatchObject({
      [AUDIT_FIELDS.caller]: 'alice',
      [AUDIT_FIELDS.decision]: 'deny',
    });
  });

  it('writes the operator’s audit record: who, what, to whom, never a token', async () => {
    const { stderr } = await cli('users', ['sign-out', 'carol', '--actor', 'ops-test']);
    const record = JSON.parse(
      stderr.split('\n').find((line) => line.includes(AUDIT_EVENTS.operatorAction)) ?? '{}',
    );
    expect(record).toMatchObject({
      event: AUDIT_EVENTS.operatorAction,
      action: 'sign-out',
      actor: 'ops-test',
      user: 'carol',
      sub: 'carol',
      outcome: 'done',
    });
    expect(record.not_before).toBeTypeOf('number');
  });

  it('makes the local sign-in send a disabled user back with access_denied', async () => {
    const result = await signIn('alice', ['admin']);
    expect(result).toEqual({ error: 'access_denied', state: 'st' });
  });

  it('lets the user sign in again after enable, while the token from before stays refused', async () => {
    const old = aliceBefore;
    expect(old).not.toBe('');
    expect((await cli('users', ['enable', 'alice'])).code).toBe(0);
    const fresh = await signIn('alice', ['admin']);
    expect(fresh.token).toBeDefined();
    expect(await listStatus(fresh.token as string)).toBe(200);
    expect(await listStatus(old)).toBe(401);
  });
});

describe('users remove-group', () => {
  it('refuses the admin token issued before, and a new sign-in carries the groups left', async () => {
    // Prepare
    const before = tokenFor('bob', ['admin', READER]);
    expect(await listStatus(before)).toBe(200);
    expect((await cli('users', ['add-group', 'bob', READER])).code).toBe(0);
    // Act
    expect((await cli('users', ['remove-group', 'bob', 'admin'])).code).toBe(0);
    const elapsed = await timeUntilRefused(before, MAX_AGE_MS + 1000);
    await pastNotBefore();
    // The page still offers admin: the recorded groups win, as Cognito's would.
    const after = await signIn('bob', ['admin', READER]);
    // Assess
    expect(elapsed).toBeLessThanOrEqual(MAX_AGE_MS + 500);
    expect(groupsOf(after.token as string)).toEqual([READER]);
    expect(await listStatus(after.token as string)).toBe(200);
  });

  it('refuses a group that is not a role, changing nothing', async () => {
    const result = await cli('users', ['add-group', 'bob', 'superuser']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`one of ${DEPLOYMENT_ROLES.join(', ')}`);
  });
});

describe('keys revoke', () => {
  it('refuses the key within the list’s bound although the key cache lasts a minute', async () => {
    // Prepare
    const created = await cli('keys', ['create', '--name', 'ci-bot', '--roles', READER]);
    const key = created.stdout.trim();
    const keyId = key.split('_')[1] ?? '';
    // A new key is known once the authorizer reloads the secret: an unknown key forces a
    // reload, at most one per API_KEYS_MIN_REFRESH_SECONDS (10 s).
    expect(await timeUntil(200, key, 11_000)).toBeLessThan(11_000);
    // Act
    const revoked = await cli('keys', ['revoke', keyId, '--actor', 'ops-test']);
    const elapsed = await timeUntilRefused(key, MAX_AGE_MS + 1000);
    // Assess
    expect(revoked.code).toBe(0);
    expect(elapsed).toBeLessThanOrEqual(MAX_AGE_MS + 500);
    expect(authRecords('key_revoked').at(-1)).toMatchObject({ [AUDIT_FIELDS.keyId]: keyId });
  });
});

describe('a restarted local server', () => {
  it('still refuses tokens revoked before it started (the entries are kept in .local/)', async () => {
    const revoked = tokenFor('dave', ['admin']);
    expect((await cli('users', ['sign-out', 'dave'])).code).toBe(0);
    const second = await startTestGateway(local.dir);
    try {
      expect(await listStatus(revoked, second.mcpUrl)).toBe(401);
      expect(await listStatus(tokenFor('erin', ['admin']), second.mcpUrl)).toBe(200);
    } finally {
      await second.stop();
    }
  });
});
