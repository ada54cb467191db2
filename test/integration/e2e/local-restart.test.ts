/**
 * `npm run dev` restarted on the same `.local/` folder keeps the clients that registered
 * before: a registered client id is a record sealed under the stand-in KMS key, whose
 * material lives in `.local/kms/` like the signing key. (Before, the key was random per
 * process, and Inspector or mcp-remote were refused as `unknown_client` after every restart.)
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type LocalGateway, startLocalGateway } from '../../../tools/local/gateway';
import { testAssembly } from '../../support/test-assembly';

const REDIRECT = 'http://127.0.0.1:33418/callback';

/** A gateway on `port` (0: any) serving the run's default stack from `dir`. */
function serve(dir: string, port = 0): Promise<LocalGateway> {
  return startLocalGateway({ assembly: testAssembly({}), port, dir });
}

async function register(gateway: LocalGateway): Promise<string> {
  const response = await fetch(`${gateway.url}/register`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ redirect_uris: [REDIRECT], client_name: 'restart check' }),
  });
  expect(response.status).toBe(201);
  return ((await response.json()) as { client_id: string }).client_id;
}

/** The proxy's answer to a sign-in started by `clientId`: its status and error, if any. */
async function authorize(gateway: LocalGateway, clientId: string) {
  const verifier = randomBytes(32).toString('base64url');
  const url = new URL(`${gateway.url}/authorize`);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: REDIRECT,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    state: 'restart-check',
    resource: gateway.mcpUrl,
  }).toString();
  const response = await fetch(url, { redirect: 'manual' });
  return { status: response.status, body: await response.text() };
}

describe('a restarted local server', () => {
  const dirs: string[] = [];
  const running: LocalGateway[] = [];
  const folder = () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcp-restart-'));
    dirs.push(dir);
    return dir;
  };
  afterAll(async () => {
    await Promise.all(running.map((gateway) => gateway.stop()));
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('still knows a client registered before it restarted, on the same port and folder', async () => {
    // Prepare
    const dir = folder();
    const first = await serve(dir);
    const clientId = await register(first);
    const port = Number(new URL(first.url).port);
    await first.stop();

    // Act
    const second = await serve(dir, port);
    running.push(second);
    const answer = await authorize(second, clientId);

    // Assess
    // The consent page, naming the client it was registered as.
    expect(answer.status).toBe(200);
    expect(answer.body).toContain('restart check');
  }, 120_000);

  it('refuses a client id sealed by a server on another folder (other key material)', async () => {
    // Prepare
    const elsewhere = await serve(folder());
    running.push(elsewhere);
    const foreign = await register(elsewhere);
    const here = await serve(folder());
    running.push(here);

    // Act
    const answer = await authorize(here, foreign);

    // Assess
    expect({
      status: answer.status,
      refusal: /unknown_client|Unknown client_id|invalid_client/.test(answer.body),
    }).toEqual({ status: 400, refusal: true });
  }, 120_000);
});
