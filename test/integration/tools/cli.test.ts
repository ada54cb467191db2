/**
 * The developer CLIs as a newcomer runs them: separate processes, reading and writing the
 * local identity folder (a temporary one here, through MCP_LOCAL_DIR).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { JwtExpiredError } from 'aws-jwt-verify/error';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCognitoVerifier } from '../../../lambda/authorizer/cognito';
import { parseApiKey } from '../../../lambda/shared/api-key';
import { addKey, FileKeyDocumentStore } from '../../../tools/cli/api-key-admin';
import {
  apiKeyFilePath,
  LOCAL_CLIENT_ID,
  LOCAL_SCOPE,
  LOCAL_USER_POOL_ID,
  loadSigningKey,
  localJwksCache,
} from '../../../tools/local/identity';
import { DEPLOYMENT_ROLES } from '../../support/deployment-roles';

const run = promisify(execFile);
/** Any role of the deployment: what a key is made with here does not matter. */
const ROLE = DEPLOYMENT_ROLES[0] as string;
let dir: string;

async function cli(script: 'token' | 'keys', args: string[]) {
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      ['--import', 'tsx', `tools/cli/${script}.ts`, ...args],
      {
        env: { ...process.env, MCP_LOCAL_DIR: dir },
      },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

function verifier() {
  return createCognitoVerifier(
    { userPoolId: LOCAL_USER_POOL_ID, clientIds: [LOCAL_CLIENT_ID], requiredScopes: [LOCAL_SCOPE] },
    localJwksCache(loadSigningKey(dir)),
  );
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mcp-cli-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('token', () => {
  it('prints an access token the local verifier accepts, with the groups asked for', async () => {
    // Act
    const groups = DEPLOYMENT_ROLES.slice(0, 2);
    const { code, stdout } = await cli('token', ['--sub', 'alice', '--groups', groups.join(',')]);

    // Assess
    expect(code).toBe(0);
    const payload = await verifier().verify(stdout.trim());
    expect(payload).toMatchObject({ sub: 'alice', 'cognito:groups': groups });
  });

  it('keeps the signing key private to its owner', async () => {
    await cli('token', ['--sub', 'alice']);
    expect(statSync(join(dir, 'signing-key.json')).mode & 0o077).toBe(0);
  });

  it('prints an already expired token for a negative --expires-in', async () => {
    // Act
    const { stdout } = await cli('token', ['--sub', 'alice', '--expires-in', '-60']);

    // Assess
    await expect(verifier().verify(stdout.trim())).rejects.toBeInstanceOf(JwtExpiredError);
  });

  it('signs for another app client when asked, which the local verifier refuses', async () => {
    const { stdout } = await cli('token', ['--sub', 'alice', '--client-id', 'someotherclient']);
    await expect(verifier().verify(stdout.trim())).rejects.toThrow(/client/i);
  });

  it('fails with usage and exit code 2 without --sub', async () => {
    const { code, stdout, stderr } = await cli('token', ['--groups', 'admin']);
    expect({ code, stdout }).toEqual({ code: 2, stdout: '' });
    expect(stderr).toMatch(/--sub is required/);
  });

  it('reports an unknown option as a usage error with exit code 2', async () => {
    const { code, stderr } = await cli('token', ['--sub', 'alice', '--role', 'admin']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/--role/);
  });
});

describe('keys', () => {
  it('creates a key, lists it without its secret and revokes it', async () => {
    // Act
    const created = await cli('keys', ['create', '--name', 'ci-bot', '--roles', 'analyst']);
    const key = created.stdout.trim();
    const parsed = parseApiKey(key);
    const listed = await cli('keys', ['list']);
    const revoked = await cli('keys', ['revoke', parsed?.keyId ?? '']);
    const after = await cli('keys', ['list', '--json']);

    // Assess
    expect(created.code).toBe(0);
    expect(parsed).toBeDefined();
    expect(listed.stdout).toMatch(new RegExp(`${parsed?.keyId}\\s+active\\s+ci-bot\\s+analyst`));
    expect(listed.stdout).not.toContain(key.slice(-43));
    expect(revoked.code).toBe(0);
    expect(JSON.parse(after.stdout)).toEqual([
      expect.objectContaining({ keyId: parsed?.keyId, status: 'revoked' }),
    ]);
  });

  it('stores only a hash of the key, in a file private to its owner', async () => {
    // Act
    const { stdout } = await cli('keys', ['create', '--name', 'nightly', '--roles', ROLE]);

    // Assess
    const file = readFileSync(apiKeyFilePath(dir), 'utf8');
    expect(file).not.toContain(stdout.trim().slice(-43));
    expect(statSync(apiKeyFilePath(dir)).mode & 0o077).toBe(0);
  });

  it('refuses a role that is not in the policy table, with exit code 2', async () => {
    const { code, stderr } = await cli('keys', ['create', '--name', 'bot', '--roles', 'superuser']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/Unknown role\(s\): superuser/);
  });

  it('refuses a name the key document would not accept, before writing anything', async () => {
    const { code, stderr } = await cli('keys', ['create', '--name', 'bad name!', '--roles', ROLE]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/Invalid name "bad name!"/);
  });

  it('lists, revokes and deletes keys when one names a role the deployment removed', async () => {
    // Prepare: a good key, and one made while `auditor` was a role (since removed)
    const good = parseApiKey(
      (await cli('keys', ['create', '--name', 'ok-bot', '--roles', ROLE])).stdout.trim(),
    );
    const store = new FileKeyDocumentStore(apiKeyFilePath(dir));
    const former = addKey(await store.read(), {
      name: 'audit-bot',
      roles: ['auditor'],
      knownRoles: ['auditor'],
      now: new Date(),
    });
    await store.write(former.document);

    // Act
    const listed = await cli('keys', ['list']);
    const revoked = await cli('keys', ['revoke', good?.keyId ?? '']);
    const deleted = await cli('keys', ['delete', former.keyId]);
    const after = JSON.parse((await cli('keys', ['list', '--json'])).stdout) as { keyId: string }[];

    // Assess: the other keys are untouched, the odd one is named with what to do
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(good?.keyId);
    expect(listed.stdout).toContain(former.keyId);
    expect(listed.stderr).toContain(
      `key ${former.keyId} (audit-bot) names auditor, not a role of this deployment`,
    );
    expect(listed.stderr).toContain(`keys delete ${former.keyId}`);
    expect(revoked.code).toBe(0);
    expect(deleted.code).toBe(0);
    expect(deleted.stderr).toContain(`deleted key ${former.keyId}`);
    expect(after.map((key) => key.keyId)).toContain(good?.keyId);
    expect(after.map((key) => key.keyId)).not.toContain(former.keyId);
  });

  it('refuses to delete a key id it does not hold', async () => {
    const { code, stderr } = await cli('keys', ['delete', '0123456789abcdef']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/No key with id/);
  });

  it('refuses to revoke a key id it does not hold', async () => {
    const { code, stderr } = await cli('keys', ['revoke', '0123456789abcdef']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/No key with id/);
  });
});
