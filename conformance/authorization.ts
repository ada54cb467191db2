/**
 * `npm run conformance` (authorization part): the official MCP conformance suite's
 * authorization-server scenarios (`conformance authorization --url <issuer>`) against the local
 * OAuth proxy, offline apart from npx fetching the pinned suite once.
 *
 * The suite reads the proxy's metadata, then runs an authorization code grant: it prints the
 * authorization URL for a person to open and waits on its own loopback callback. Here a scripted
 * person (`test/helpers/local-sign-in.ts`: consent page, then the local sign-in page) answers
 * it, and the browser's last step, the redirect to the suite's callback, is followed. The grant
 * runs once per kind of client: a dynamically registered one, one identified by a Client ID
 * Metadata Document served from loopback, and the pre-registered client.
 *
 * It prints one line per client kind, `authorization (<kind>): N passed, N failed, N warnings`,
 * with the failing checks under it, and exits non-zero if any check failed.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { browserGet, CookieJar, signInLocally } from '../test/helpers/local-sign-in';
import { type LocalGateway, startLocalGateway } from '../tools/local-gateway';
import { LOCAL_CLIENT_ID } from '../tools/local-identity';
import { SUITE_NODE, SUITE_PACKAGE } from './run';

/** The kinds of client the grant runs as. */
export const CLIENT_KINDS = ['dcr', 'cimd', 'preregistered'] as const;
export type ClientKindRun = (typeof CLIENT_KINDS)[number];

/** One check as the suite writes it to `checks.json`. */
export interface AuthorizationCheck {
  readonly id: string;
  readonly status: 'SUCCESS' | 'FAILURE' | 'WARNING' | 'SKIPPED' | 'INFO';
  readonly errorMessage?: string;
}

export interface KindResult {
  readonly kind: ClientKindRun;
  readonly checks: readonly AuthorizationCheck[];
  readonly passed: number;
  readonly failed: number;
  readonly warnings: number;
}

/** Every check of a results folder (one subfolder per scenario, each with `checks.json`). */
export function readChecks(outDir: string): AuthorizationCheck[] {
  return readdirSync(outDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .flatMap((entry) => {
      try {
        return JSON.parse(
          readFileSync(join(outDir, entry.name, 'checks.json'), 'utf8'),
        ) as AuthorizationCheck[];
      } catch {
        return [];
      }
    });
}

/**
 * The verdict on one run: a check that was skipped counts as failed (the grant must run), a
 * warning is reported but passes, as the suite itself counts SHOULD-level findings.
 */
export function judge(kind: ClientKindRun, checks: readonly AuthorizationCheck[]): KindResult {
  const failed = checks.filter((c) => c.status === 'FAILURE' || c.status === 'SKIPPED').length;
  return {
    kind,
    checks,
    passed: checks.filter((c) => c.status === 'SUCCESS').length,
    failed: checks.length === 0 ? 1 : failed,
    warnings: checks.filter((c) => c.status === 'WARNING').length,
  };
}

/** A free loopback port for the suite's callback server. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  await new Promise((done) => server.close(done));
  return port;
}

/** The client id the grant uses, and what has to be torn down after. */
async function clientFor(
  kind: ClientKindRun,
  gateway: LocalGateway,
  redirectUri: string,
): Promise<{ clientId: string; close: () => Promise<void> }> {
  if (kind === 'preregistered') return { clientId: LOCAL_CLIENT_ID, close: async () => {} };
  if (kind === 'dcr') {
    const response = await fetch(`${gateway.url}/register`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ redirect_uris: [redirectUri], client_name: 'MCP conformance' }),
    });
    if (response.status !== 201) throw new Error(`Registration answered ${response.status}`);
    return {
      clientId: ((await response.json()) as { client_id: string }).client_id,
      close: async () => {},
    };
  }
  // A CIMD document on loopback http: allowed in local mode only.
  let clientId = '';
  const server: Server = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(
      JSON.stringify({
        client_id: clientId,
        client_name: 'MCP conformance (CIMD)',
        redirect_uris: [redirectUri],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'none',
      }),
    );
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  clientId = `http://127.0.0.1:${(server.address() as AddressInfo).port}/client.json`;
  return {
    clientId,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

/** One run of the suite as `kind`, a scripted person answering its authorization URL. */
export async function runKind(
  gateway: LocalGateway,
  kind: ClientKindRun,
  log: (line: string) => void = () => {},
): Promise<KindResult> {
  const port = await freePort();
  const client = await clientFor(kind, gateway, `http://127.0.0.1:${port}/callback`);
  const outDir = mkdtempSync(join(tmpdir(), `mcp-conformance-authz-${kind}-`));
  try {
    const child = spawn(
      'npx',
      [
        '-y',
        '-p',
        SUITE_NODE,
        '-p',
        SUITE_PACKAGE,
        '--',
        'conformance',
        'authorization',
        '--url',
        gateway.url,
        '--client-id',
        client.clientId,
        '--resource',
        gateway.mcpUrl,
        '--port',
        String(port),
        '--output-dir',
        outDir,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const person: Promise<void>[] = [];
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      log(line);
      if (!line.startsWith(`${gateway.url}/authorize?`)) return;
      // The person opens the URL: consent, sign-in, and the browser lands on the callback.
      person.push(
        (async () => {
          const callback = await signInLocally(new URL(line), 'conformance', ['readonly']);
          await browserGet(callback, new CookieJar());
        })().catch((error: unknown) => log(`person: ${String(error)}`)),
      );
    });
    child.stderr.on('data', () => {});
    const code = await new Promise<number>((done) => child.on('close', (c) => done(c ?? 1)));
    await Promise.all(person);
    log(`suite exited ${code}`);
    return judge(kind, readChecks(outDir));
  } finally {
    await client.close();
    rmSync(outDir, { recursive: true, force: true });
  }
}

async function main(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'mcp-conformance-authz-'));
  const gateway = await startLocalGateway({ port: 0, dir });
  const verbose = process.argv.includes('--verbose');
  let failed = 0;
  try {
    for (const kind of CLIENT_KINDS) {
      const result = await runKind(gateway, kind, verbose ? (l) => console.error(l) : undefined);
      console.log(
        `authorization (${kind}): ${result.passed} passed, ${result.failed} failed, ${result.warnings} warnings`,
      );
      for (const check of result.checks.filter((c) => c.status !== 'SUCCESS')) {
        console.log(`  ${check.status} ${check.id}: ${check.errorMessage ?? ''}`);
      }
      failed += result.failed;
    }
  } finally {
    await gateway.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return failed === 0 ? 0 : 1;
}

const entry = process.argv[1];
if (entry !== undefined && resolve(entry) === fileURLToPath(import.meta.url)) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
