/**
 * The official MCP conformance suite's client authorization scenarios (`conformance client
 * --suite auth`) against the example agent, `examples/agent.ts`, offline apart from npx
 * fetching the pinned suite (and Node 22 for it) once.
 *
 * For each scenario the suite starts a mock MCP server and authorization server, then runs
 * this file as the client (`--as-client <server url>`). That launcher is a thin shell: it
 * turns what the suite hands every client (the server URL; for `auth/pre-registration` the
 * client credentials in `MCP_CONFORMANCE_CONTEXT`) into the agent's own command line, and
 * runs the agent's `runCli`: headless (the mock authorization server approves with a redirect,
 * no page), with the CIMD URL the suite's scenarios expect, calling the suite's `test-tool`.
 *
 * It runs the auth suite at the suite's default wire and at 2026-07-28, then each auth
 * scenario the 2026-07-28 requirement set adds (see `RUNS`), prints one line per scenario,
 * `<scenario>: N passed, N failed, N warnings`, with every failed or warned check under it,
 * and exits non-zero unless every scenario passes with no failure and no warning.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { runCli } from '../examples/agent';

/** The client id URL the suite's CIMD scenario looks for (`auth/basic-cimd`). */
export const SUITE_CIMD_URL = 'https://conformance-test.local/client-metadata.json';
/** The tool every auth scenario's mock server offers (its step-up gates `tools/call`). */
export const SUITE_TOOL = 'test-tool';
/**
 * The client authorization scenarios the 2026-07-28 requirement set scores beyond the auth
 * suite (`requirements/2026-07-28.yaml` in the suite's package): `resource` mismatch,
 * `offline_access`, authorization-server migration, and RFC 9207 `iss` in all its forms.
 */
export const BEYOND_THE_SUITE = [
  'auth/resource-mismatch',
  'auth/offline-access-scope',
  'auth/offline-access-not-supported',
  'auth/authorization-server-migration',
  'auth/iss-supported',
  'auth/iss-not-advertised',
  'auth/iss-supported-missing',
  'auth/iss-wrong-issuer',
  'auth/iss-unexpected',
  'auth/iss-normalized',
  'auth/metadata-issuer-mismatch',
] as const;

/** One invocation of the suite: what it is called in the report and its arguments. */
interface SuiteRun {
  readonly label: string;
  readonly args: readonly string[];
}

/**
 * The auth suite at its default wire (2025-11-25, with an `initialize` handshake) and at
 * 2026-07-28 (stateless, plus the checks that revision adds: the step-up scope union,
 * `application_type` in DCR), then each scenario beyond the suite at 2026-07-28.
 */
export const RUNS: readonly SuiteRun[] = [
  { label: 'auth suite, default wire', args: ['--suite', 'auth'] },
  { label: 'auth suite, 2026-07-28', args: ['--suite', 'auth', '--spec-version', '2026-07-28'] },
  ...BEYOND_THE_SUITE.map((scenario) => ({
    label: `${scenario}, 2026-07-28`,
    args: ['--scenario', scenario, '--spec-version', '2026-07-28'],
  })),
];

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

// ---------------------------------------------------------------------------------------------
// The launcher the suite runs per scenario.
// ---------------------------------------------------------------------------------------------

/** What the suite may hand a client; only pre-registered credentials matter to this one. */
const contextSchema = z.looseObject({
  name: z.string(),
  client_id: z.string().min(1).optional(),
  client_secret: z.string().min(1).optional(),
});

/**
 * The agent's command line and environment for one scenario: the agent's own options, the
 * credentials of a pre-registered client from the context (a secret only ever in the
 * environment, as a person would pass it).
 */
export function agentInvocation(
  serverUrl: string,
  env: NodeJS.ProcessEnv,
): { argv: string[]; env: NodeJS.ProcessEnv } {
  const argv = [
    '--headless',
    '--callback-port',
    '0',
    '--client-metadata-url',
    SUITE_CIMD_URL,
    '--call',
    SUITE_TOOL,
    serverUrl,
  ];
  const raw = env.MCP_CONFORMANCE_CONTEXT;
  const context = raw === undefined ? undefined : contextSchema.parse(JSON.parse(raw));
  return {
    argv,
    env: {
      ...(context?.client_id === undefined ? {} : { MCP_CLIENT_ID: context.client_id }),
      ...(context?.client_secret === undefined ? {} : { MCP_CLIENT_SECRET: context.client_secret }),
    },
  };
}

async function launch(serverUrl: string | undefined): Promise<number> {
  if (serverUrl === undefined) throw new Error('usage: client-auth.ts --as-client <server url>');
  const { argv, env } = agentInvocation(serverUrl, process.env);
  return runCli(argv, env);
}

// ---------------------------------------------------------------------------------------------
// Reading a run: each scenario's checks (`checks.json` under its results folder).
// ---------------------------------------------------------------------------------------------

export interface ClientCheck {
  readonly id: string;
  readonly status: string;
  readonly description?: string;
  readonly errorMessage?: string;
}

export interface ClientScenarioResult {
  readonly scenario: string;
  readonly passed: number;
  readonly failed: number;
  readonly warnings: number;
  readonly problems: readonly ClientCheck[];
}

/** Counts as the suite does: a scenario passes with no FAILURE and no WARNING. */
export function summarize(scenario: string, checks: readonly ClientCheck[]): ClientScenarioResult {
  const problems = checks.filter((c) => c.status === 'FAILURE' || c.status === 'WARNING');
  return {
    scenario,
    passed: checks.filter((c) => c.status === 'SUCCESS').length,
    failed: checks.filter((c) => c.status === 'FAILURE').length,
    warnings: checks.filter((c) => c.status === 'WARNING').length,
    problems,
  };
}

/** Every `checks.json` under a results folder, by the scenario its folder is named for. */
export function readResults(dir: string): ClientScenarioResult[] {
  const results: ClientScenarioResult[] = [];
  const walk = (path: string) => {
    for (const entry of readdirSync(path)) {
      const child = join(path, entry);
      if (statSync(child).isDirectory()) walk(child);
      else if (entry === 'checks.json') {
        const checks = z
          .array(z.looseObject({ id: z.string(), status: z.string() }))
          .parse(JSON.parse(readFileSync(child, 'utf8'))) as ClientCheck[];
        results.push(summarize(scenarioName(path, dir), checks));
      }
    }
  };
  walk(dir);
  return results.sort((a, b) => a.scenario.localeCompare(b.scenario));
}

/** The suite writes `<out>/auth/scope-step-up-2026-12-01T14-22-34-761Z/`: → `auth/scope-step-up`. */
export function scenarioName(path: string, root: string): string {
  const relative = path.slice(root.length + 1).replace(/\\/g, '/');
  return relative.replace(/-\d{4}-\d{2}-\d{2}T[\d-]+Z?$/, '');
}

// ---------------------------------------------------------------------------------------------
// Running the suite.
// ---------------------------------------------------------------------------------------------

async function runSuite(run: SuiteRun, outDir: string): Promise<{ code: number; output: string }> {
  // Imported here, not at the top: the launcher the suite runs per scenario needs none of it.
  const { SUITE_NODE, SUITE_PACKAGE } = await import('./run');
  const command = `${join(ROOT, 'node_modules', '.bin', 'tsx')} ${fileURLToPath(import.meta.url)} --as-client`;
  const args = [
    '-y',
    '-p',
    SUITE_NODE,
    '-p',
    SUITE_PACKAGE,
    '--',
    'conformance',
    'client',
    ...run.args,
    '--command',
    command,
    '-o',
    outDir,
  ];
  return new Promise((resolveRun, reject) => {
    const child = spawn('npx', args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', (code) => resolveRun({ code: code ?? 1, output }));
  });
}

export interface RunReport {
  readonly label: string;
  readonly results: readonly ClientScenarioResult[];
  readonly ok: boolean;
}

const passes = (result: ClientScenarioResult) => result.failed === 0 && result.warnings === 0;

/** Every run in `RUNS`, one line per scenario; `say` prints. */
export async function runClientAuth(say: (line: string) => void): Promise<RunReport[]> {
  const { SUITE_NODE, SUITE_PACKAGE } = await import('./run');
  const work = mkdtempSync(join(tmpdir(), 'mcp-client-auth-'));
  const reports: RunReport[] = [];
  say(`conformance client: ${SUITE_PACKAGE} (${SUITE_NODE}) against examples/agent.ts`);
  try {
    for (const [index, run] of RUNS.entries()) {
      const outDir = join(work, String(index));
      const { output } = await runSuite(run, outDir);
      let results: ClientScenarioResult[] = [];
      try {
        results = readResults(outDir);
      } catch {
        results = [];
      }
      const passing = results.filter(passes).length;
      const single = results.length === 1 && results[0]?.scenario === run.args[1];
      if (!single) say(`${run.label}: ${passing}/${results.length} scenarios pass`);
      for (const result of results) {
        const mark = passes(result) ? '✓' : '✗';
        const line = `${result.passed} passed, ${result.failed} failed, ${result.warnings} warnings`;
        say(single ? `${mark} ${run.label}: ${line}` : `  ${mark} ${result.scenario}: ${line}`);
        for (const problem of result.problems) {
          const text = (problem.errorMessage ?? problem.description ?? '').split('\n')[0] ?? '';
          say(`      ${problem.status} ${problem.id}: ${text.slice(0, 160)}`);
        }
      }
      if (results.length === 0) {
        say(`${run.label}: the suite ran nothing`);
        for (const line of output.trim().split('\n').slice(-15)) say(`    ${line}`);
      }
      reports.push({
        label: run.label,
        results,
        ok: results.length > 0 && passing === results.length,
      });
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const scenarios = reports.flatMap((report) => report.results);
  say(`client auth: ${scenarios.filter(passes).length}/${scenarios.length} scenario runs pass`);
  return reports;
}

const entry = process.argv[1];
if (entry !== undefined && resolve(entry) === fileURLToPath(import.meta.url)) {
  const asClient = process.argv.indexOf('--as-client');
  const done =
    asClient === -1
      ? runClientAuth((line) => process.stdout.write(`${line}\n`)).then((reports) =>
          reports.every((r) => r.ok) ? 0 : 1,
        )
      : launch(process.argv[asClient + 1]);
  done.then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
