/**
 * `npm run conformance` (authorization part): the official MCP conformance suite's
 * authorization-server scenarios (`conformance authorization --url <issuer>`) against the OAuth
 * proxy as deployed, in the local gateway (the synthesized stack in the local AWS emulator),
 * offline apart from npx fetching the pinned suite once.
 *
 * The issuer is the stage's URL (`http://127.0.0.1:<port>/prod`): of the locations the suite
 * tries, API Gateway serves the metadata at the OpenID one appended to it
 * (`/prod/.well-known/openid-configuration`); the root ones are outside the stage (403), as on
 * execute-api. The suite then runs an authorization code grant: it prints the authorization
 * URL for a person to open and waits on its own loopback callback. Here a scripted person
 * (`test/support/local-sign-in.ts`: the proxy's consent page, then the sign-in page on the
 * Cognito stand-in) answers it, and the browser's last step, the redirect to the suite's
 * callback, is followed. The grant runs once per kind of client: a dynamically registered one,
 * one identified by a Client ID Metadata Document (on an https name the gateway maps to a local
 * server), and the pre-registered client (the suite's callback registered for it).
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
import { DEFAULT_CALLBACK_URLS } from '../lib/config';
import { browserGet, CookieJar, signInLocally } from '../test/support/local-sign-in';
import { type LocalGateway, startLocalGateway } from '../tools/local/gateway';
import { LOCAL_CLIENT_ID } from '../tools/local/identity';
import { SUITE_NODE, SUITE_PACKAGE } from './run';

/**
 * The redirect URI the suite asks an operator to register for its callback (`--port` 3000 by
 * default). The OAuth proxy matches a loopback redirect URI on any port (RFC 8252 §7.3), so
 * the pre-registered client, given this one (`-c callbackUrls`), accepts each run's free port.
 */
export const SUITE_CALLBACK_URL = 'http://127.0.0.1:3000/callback';

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

/**
 * The https host the CIMD client's metadata document is served under. The OAuth proxy's SSRF
 * guard refuses loopback, as in AWS, so the gateway maps this name to a local server
 * (`extraHosts`), as DNS would point it at the client's web server.
 */
export const CIMD_HOST = 'conformance-client.example.test';

/** The CIMD client's metadata document, on a local server, for whichever callback comes next. */
export interface CimdDocumentServer {
  /** `http://127.0.0.1:<port>`: where {@link CIMD_HOST} is mapped. */
  readonly origin: string;
  /** `https://<CIMD_HOST>/client.json`: the client id and the document's URL. */
  readonly clientId: string;
  /** The one redirect URI the document names from now on. */
  redirectTo(uri: string): void;
  close(): Promise<void>;
}

export async function startCimdDocumentServer(): Promise<CimdDocumentServer> {
  const clientId = `https://${CIMD_HOST}/client.json`;
  let redirectUri = '';
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
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    clientId,
    redirectTo: (uri) => {
      redirectUri = uri;
    },
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

/** The client id the grant uses. */
async function clientFor(
  kind: ClientKindRun,
  gateway: LocalGateway,
  redirectUri: string,
  cimd: CimdDocumentServer,
): Promise<string> {
  if (kind === 'preregistered') return LOCAL_CLIENT_ID;
  if (kind === 'dcr') {
    const response = await fetch(`${gateway.url}/register`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ redirect_uris: [redirectUri], client_name: 'MCP conformance' }),
    });
    if (response.status !== 201) throw new Error(`Registration answered ${response.status}`);
    return ((await response.json()) as { client_id: string }).client_id;
  }
  cimd.redirectTo(redirectUri);
  return cimd.clientId;
}

/** One run of the suite as `kind`, a scripted person answering its authorization URL. */
export async function runKind(
  gateway: LocalGateway,
  kind: ClientKindRun,
  cimd: CimdDocumentServer,
  log: (line: string) => void = () => {},
): Promise<KindResult> {
  const port = await freePort();
  const clientId = await clientFor(kind, gateway, `http://127.0.0.1:${port}/callback`, cimd);
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
        clientId,
        '--resource',
        gateway.mcpUrl,
        '--port',
        String(port),
        '--output-dir',
        outDir,
      ],
      // Its own process group, so the suite under npx can be stopped with it.
      { stdio: ['ignore', 'pipe', 'pipe'], detached: true },
    );
    const person: Promise<void>[] = [];
    const stuck: AuthorizationCheck[] = [];
    // The suite prints the URL before its callback server listens; a quick sign-in must not
    // land before it does.
    let callbackListening: () => void = () => {};
    const listening = new Promise<void>((done) => {
      callbackListening = done;
    });
    child.on('close', () => callbackListening());
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      log(line);
      if (line.startsWith('Callback server started')) callbackListening();
      if (!line.startsWith(`${gateway.url}/authorize?`)) return;
      // The person opens the URL: consent, sign-in, and the browser lands on the callback.
      person.push(
        (async () => {
          const callback = await signInLocally(new URL(line), 'conformance', ['readonly']);
          await listening;
          await browserGet(callback, new CookieJar());
        })().catch((error: unknown) => {
          // The suite would wait minutes for a callback that cannot come: stop it, say why.
          stuck.push({ id: 'person', status: 'FAILURE', errorMessage: String(error) });
          if (child.pid !== undefined) process.kill(-child.pid, 'SIGTERM');
        }),
      );
    });
    child.stderr.on('data', () => {});
    const code = await new Promise<number>((done) => child.on('close', (c) => done(c ?? 1)));
    await Promise.all(person);
    log(`suite exited ${code}`);
    return judge(kind, [...readChecks(outDir), ...stuck]);
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}

async function main(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'mcp-conformance-authz-'));
  const cimd = await startCimdDocumentServer();
  const gateway = await startLocalGateway({
    port: 0,
    dir,
    // The operator registers the suite's callback for the pre-registered client.
    context: { callbackUrls: [...DEFAULT_CALLBACK_URLS, SUITE_CALLBACK_URL] },
    extraHosts: { [CIMD_HOST]: cimd.origin },
  });
  const verbose = process.argv.includes('--verbose');
  let failed = 0;
  try {
    for (const kind of CLIENT_KINDS) {
      const log = verbose ? (line: string) => console.error(line) : undefined;
      const result = await runKind(gateway, kind, cimd, log);
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
    await cimd.close();
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
