/**
 * `npm run conformance`: the official MCP conformance suite against this server, offline apart
 * from npx fetching the pinned suite (and Node 22 for it) once.
 *
 * It starts the local gateway (the synthesized stack in the local AWS emulator: API Gateway,
 * the deployed authorizer) with the MCP function built from `fixture-entry.ts`, the conformance
 * fixture module (`fixture-module.ts`) under a role granting its permission; mints that role a
 * token; and puts a loopback proxy in front that hands the suite's requests the token and maps
 * its own Host to the gateway's and its own Origin to one the deployment allows, nothing else.
 * Then it runs the suite for the 2026-07-28 requirement set and for the 2025-11-25 one, and
 * prints one line per set, `<revision>: N passed, N failed`, with the failing scenarios
 * under it. It exits non-zero below target: 37/37 for 2026-07-28; 26/30 for 2025-11-25, the
 * only failures the four push-style scenarios a stateless server cannot serve, each answered
 * at once. It also checks that every call, read and get the suite made left one audit record.
 *
 * `--real` serves the deployment's own modules and roles instead (no fixtures) and reports
 * the scenarios that apply to them: those must show no defect.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import {
  createServer,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  request,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { AUDIT_EVENTS, AUDIT_FIELDS } from '../lambda/shared/audit';
import { ROLE_PERMISSIONS } from '../modules/roles';
import { type LocalGateway, startLocalGateway } from '../tools/local/gateway';
import { loadSigningKey, mintAccessToken } from '../tools/local/identity';
import { runClientAuth } from './client-auth';
import { CONFORMANCE_ROLES } from './fixture-module';
import { FIXTURE_MCP } from './fixture-server';

// ---------------------------------------------------------------------------------------------
// Reading a run and judging it: which scenarios ran (from the lines the suite prints), how long
// each took (when each line arrived), what each check said (`checks.json` in the scenario's
// results folder), and whether the set meets its target. A scenario fails when any of its
// checks is a FAILURE, as the suite itself counts; warnings (SHOULD-level) do not fail it but
// are reported, and so is a scenario that passed with no successful check (nothing exercised).
// ---------------------------------------------------------------------------------------------

/** The suite, pinned, and the Node it needs (npx fetches both once, then uses its cache). */
export const SUITE_PACKAGE = '@modelcontextprotocol/conformance@0.2.0-alpha.12';
export const SUITE_NODE = 'node@22';

export type Revision = '2026-07-28' | '2025-11-25';

export interface SetTarget {
  readonly revision: Revision;
  /** How many scored scenarios the requirement set has. */
  readonly scored: number;
  /** The scenarios allowed to fail, and why. */
  readonly allowedFailures: ReadonlySet<string>;
}

/**
 * The 2025-11-25 scenarios that need a push-style server→client request in the middle of a
 * call (sampling, elicitation). A stateless server cannot receive the client's answer (it
 * would reach another instance), so it refuses at once; the suite then fails them.
 */
export const PUSH_STYLE_SCENARIOS: ReadonlySet<string> = new Set([
  'tools-call-sampling',
  'tools-call-elicitation',
  'elicitation-sep1034-defaults',
  'elicitation-sep1330-enums',
]);

/** "At once": a push-style scenario must be answered well inside the suite's 30 s timeout. */
export const PUSH_STYLE_MAX_MS = 5000;

export const TARGETS: readonly SetTarget[] = [
  { revision: '2026-07-28', scored: 37, allowedFailures: new Set() },
  { revision: '2025-11-25', scored: 30, allowedFailures: PUSH_STYLE_SCENARIOS },
];

/**
 * The scored scenarios that need none of the fixture's items (they list, probe the transport
 * or name nothing), so they apply to the real server too. Every other scored scenario calls a
 * fixture tool, resource or prompt by name (see `fixture-module.ts`).
 */
export const APPLY_WITHOUT_FIXTURES: ReadonlySet<string> = new Set([
  'server-initialize',
  'server-stateless',
  'logging-set-level',
  'ping',
  'tools-list',
  'resources-list',
  'prompts-list',
  'server-sse-multiple-streams',
  'sep-2164-resource-not-found',
  'dns-rebinding-protection',
  'caching',
  'input-required-result-unsupported-methods',
]);

/** A check the suite could not exercise (its prerequisite is missing), by its own prefix. */
export const NOT_TESTABLE_PREFIX = 'Not testable:';

export interface Check {
  readonly id: string;
  readonly status: 'SUCCESS' | 'FAILURE' | 'WARNING' | 'INFO' | 'SKIPPED' | string;
  readonly errorMessage?: string;
  readonly details?: { readonly message?: unknown };
}

/** One scenario as the suite's output reports it. */
export interface ScenarioRun {
  readonly name: string;
  /** Its results folder, as printed (relative to where the suite ran). */
  readonly dir: string | undefined;
  /** Milliseconds from the start of the scenario to the start of the next (or the summary). */
  readonly durationMs: number | undefined;
}

/** A line the suite printed and when it arrived (ms, any monotonic clock). */
export interface TimedLine {
  readonly at: number;
  readonly text: string;
}

const STARTED = /^=== Running scenario: (\S+) ===$/;
const SAVED = /^Results saved to (.+)$/;
const NOT_SCORED_HEADER = /^Not scored for /;
const NOT_SCORED_ITEM = /^\s+[✓✗] (\S+) \(/;

/** The scenarios a run went through, in order, and which it reported as not scored. */
export function parseRun(lines: readonly TimedLine[]): {
  readonly scenarios: readonly ScenarioRun[];
  readonly notScored: ReadonlySet<string>;
} {
  const started: { name: string; at: number; dir?: string }[] = [];
  const notScored = new Set<string>();
  let endedAt: number | undefined;
  let inNotScored = false;
  for (const { at, text } of lines) {
    const line = text.trimEnd();
    const start = STARTED.exec(line);
    if (start !== null) {
      started.push({ name: start[1] as string, at });
      continue;
    }
    const saved = SAVED.exec(line);
    const current = started.at(-1);
    if (saved !== null && current !== undefined && current.dir === undefined) {
      current.dir = (saved[1] as string).trim();
      continue;
    }
    if (line.startsWith('=== SUMMARY ===')) endedAt ??= at;
    if (NOT_SCORED_HEADER.test(line)) {
      inNotScored = true;
      continue;
    }
    if (inNotScored) {
      const item = NOT_SCORED_ITEM.exec(line);
      if (item !== null) notScored.add(item[1] as string);
      else if (line.trim() !== '') inNotScored = false;
    }
  }
  const scenarios = started.map((entry, index) => {
    const next = started[index + 1]?.at ?? endedAt;
    return {
      name: entry.name,
      dir: entry.dir,
      durationMs: next === undefined ? undefined : Math.round(next - entry.at),
    };
  });
  return { scenarios, notScored };
}

/** The checks a scenario's results folder holds. */
export function readChecks(dir: string, cwd: string): Check[] {
  const path = join(isAbsolute(dir) ? dir : join(cwd, dir), 'checks.json');
  const value: unknown = JSON.parse(readFileSync(path, 'utf8'));
  if (!Array.isArray(value)) throw new Error(`${path} is not a list of checks`);
  return value as Check[];
}

export interface ScenarioVerdict {
  readonly name: string;
  readonly passed: boolean;
  readonly durationMs: number | undefined;
  readonly failures: readonly Check[];
  readonly warnings: readonly Check[];
  /** Passed without a single successful check: nothing was exercised. */
  readonly vacuous: boolean;
}

export function verdictOf(run: ScenarioRun, checks: readonly Check[]): ScenarioVerdict {
  const failures = checks.filter((check) => check.status === 'FAILURE');
  // The wire-schema check passes whenever any traffic flowed: it proves nothing by itself.
  const successes = checks.filter(
    (check) => check.status === 'SUCCESS' && check.id !== 'wire-schema-valid',
  );
  return {
    name: run.name,
    passed: failures.length === 0,
    durationMs: run.durationMs,
    failures,
    warnings: checks.filter((check) => check.status === 'WARNING'),
    vacuous: failures.length === 0 && successes.length === 0,
  };
}

export interface SetReport {
  readonly revision: Revision;
  readonly verdicts: readonly ScenarioVerdict[];
  readonly passed: number;
  readonly failed: number;
  /** Why the set misses its target; empty when it meets it. */
  readonly problems: readonly string[];
}

/** The scored scenarios of a run against the fixture, judged against the set's target. */
export function judgeSet(target: SetTarget, verdicts: readonly ScenarioVerdict[]): SetReport {
  const passed = verdicts.filter((verdict) => verdict.passed).length;
  const failed = verdicts.length - passed;
  const problems: string[] = [];
  if (verdicts.length !== target.scored) {
    problems.push(`ran ${verdicts.length} scored scenarios, expected ${target.scored}`);
  }
  for (const verdict of verdicts) {
    if (!verdict.passed && !target.allowedFailures.has(verdict.name)) {
      problems.push(`${verdict.name} failed`);
    }
    if (target.allowedFailures.has(verdict.name)) {
      const ms = verdict.durationMs;
      if (ms === undefined || ms > PUSH_STYLE_MAX_MS) {
        problems.push(
          `${verdict.name} was not answered at once (${ms ?? '?'} ms > ${PUSH_STYLE_MAX_MS} ms)`,
        );
      }
    }
  }
  return { revision: target.revision, verdicts, passed, failed, problems };
}

/** A run against the real server: only what applies to it counts; "not testable" is no defect. */
export interface RealSetReport {
  readonly revision: Revision;
  readonly applicable: readonly ScenarioVerdict[];
  /** Applicable scenarios with a real failure (not a missing fixture). */
  readonly defective: readonly ScenarioVerdict[];
  /** Scored scenarios that call fixture items by name. */
  readonly needFixtures: readonly string[];
  /** Checks of applicable scenarios the suite could not exercise without the fixtures. */
  readonly notTestable: readonly { scenario: string; check: string }[];
}

export function judgeReal(
  revision: Revision,
  verdicts: readonly ScenarioVerdict[],
  applies: (scenario: string) => boolean,
): RealSetReport {
  const applicable = verdicts.filter((verdict) => applies(verdict.name));
  const notTestable = applicable.flatMap((verdict) =>
    verdict.failures
      .filter((check) => (check.errorMessage ?? '').startsWith(NOT_TESTABLE_PREFIX))
      .map((check) => ({ scenario: verdict.name, check: check.id })),
  );
  const defective = applicable.filter((verdict) =>
    verdict.failures.some((check) => !(check.errorMessage ?? '').startsWith(NOT_TESTABLE_PREFIX)),
  );
  return {
    revision,
    applicable,
    defective,
    needFixtures: verdicts.filter((verdict) => !applies(verdict.name)).map((v) => v.name),
    notTestable,
  };
}

/** The first line of a check's message, shortened for a terminal. */
export function firstLine(check: Check | undefined, max = 160): string {
  const detail = check?.details?.message;
  const message = check?.errorMessage ?? (typeof detail === 'string' ? detail : check?.id);
  const text = (message ?? '').split('\n')[0] ?? '';
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

// ---------------------------------------------------------------------------------------------
// The proxy. The suite can send no credential of its own: the proxy adds the `Authorization`
// header (the token then goes through the real authorizer), makes its own `Host` the gateway's
// and its own `Origin` one the deployment allows (`SUITE_ORIGIN`). Any other `Host` or `Origin` passes unchanged, so a request naming
// `evil.example.com` (the suite's DNS-rebinding probe) still meets the refusal, with a valid
// credential: the 4xx it gets is API Gateway's (no API answers by that name), not a 401; a
// foreign `Origin` under the gateway's own name reaches the MCP function's Origin check. Paths
// pass unchanged (the stage's `/prod/...`). Answers stream through as they come (SSE frames
// arrive while a tool runs).
// ---------------------------------------------------------------------------------------------

export interface ProxyMapping {
  /** The proxy's own `Host`, e.g. `127.0.0.1:4100`. */
  readonly ownHost: string;
  /** The gateway's `Host`, e.g. `127.0.0.1:4000`. */
  readonly targetHost: string;
  /**
   * The `Origin` the proxy's own origin stands for: one the deployment allows. Default the
   * gateway's origin.
   */
  readonly targetOrigin?: string;
  /** The bearer credential every request gets. */
  readonly token: string;
}

/** Hop-by-hop headers: each side of the proxy sets its own. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/**
 * The browser origin the suite's own name stands for. The deployed server refuses every
 * `Origin` it was not configured with (its own name included: nothing it serves calls `/mcp`
 * from a page), so the suite's deployment lists this one (`-c allowedOrigins`), as an operator
 * lists a web client they trust, and the proxy presents it for the suite's own origin.
 */
export const SUITE_ORIGIN = 'https://conformance-suite.example.test';

/** `http://<host>`: the origin a browser on that host sends. */
const originOf = (host: string) => `http://${host.toLowerCase()}`;

/**
 * The headers to send the gateway for a request's raw headers (name, value, name, value, …):
 * the proxy's own Host and Origin become the gateway's, any other passes unchanged, the
 * credential is set (replacing one the request carried), hop-by-hop headers are dropped.
 */
export function forwardedHeaders(
  rawHeaders: readonly string[],
  mapping: ProxyMapping,
): OutgoingHttpHeaders {
  const headers: Record<string, string | string[]> = {};
  const ownHost = mapping.ownHost.toLowerCase();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] as string).toLowerCase();
    let value = rawHeaders[i + 1] as string;
    if (HOP_BY_HOP.has(name) || name === 'authorization') continue;
    if (name === 'host' && value.toLowerCase() === ownHost) value = mapping.targetHost;
    if (name === 'origin' && value.toLowerCase() === originOf(ownHost)) {
      value = mapping.targetOrigin ?? originOf(mapping.targetHost);
    }
    const previous = headers[name];
    headers[name] =
      previous === undefined
        ? value
        : [...(Array.isArray(previous) ? previous : [previous]), value];
  }
  headers.authorization = `Bearer ${mapping.token}`;
  return headers;
}

/** The gateway's response headers to pass back: all but the hop-by-hop ones. */
export function returnedHeaders(response: IncomingMessage): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(response.headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
  }
  return headers;
}

/** A request the proxy passed on, as it arrived. */
export interface ForwardedRequest {
  readonly method: string;
  readonly host: string | undefined;
  readonly body: Buffer;
}

export interface LoopbackProxy {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly host: string;
  /**
   * The proxy's URL for a URL of the gateway: the same path (the stage's, `/prod/mcp`), on the
   * proxy's origin. Paths pass through unchanged.
   */
  at(gatewayUrl: string): string;
  stop(): Promise<void>;
}

/** Start the proxy on a free loopback port, in front of the gateway at `target` (`http://…`). */
export async function startProxy(options: {
  readonly target: string;
  readonly token: string;
  /** What the proxy's own `Origin` becomes. Default the target's origin. */
  readonly origin?: string;
  /** Called with each request once its body is in (the runner counts what it passed on). */
  readonly onRequest?: (request: ForwardedRequest) => void;
}): Promise<LoopbackProxy> {
  const target = new URL(options.target);
  let mapping: ProxyMapping | undefined;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (options.onRequest !== undefined) {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () =>
        options.onRequest?.({
          method: req.method ?? '',
          host: req.headers.host,
          body: Buffer.concat(chunks),
        }),
      );
    }
    const upstream = request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: forwardedHeaders(req.rawHeaders, mapping as ProxyMapping),
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, returnedHeaders(answer));
        // Unbuffered: headers now, then each chunk as the gateway writes it.
        res.flushHeaders();
        answer.on('data', (chunk: Buffer) => res.write(chunk));
        answer.on('end', () => res.end());
        answer.on('error', () => res.destroy());
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent) {
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end('Bad gateway\n');
      } else {
        res.destroy();
      }
    });
    // The client went away (the suite aborts a held stream): stop the gateway's answer too.
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = `127.0.0.1:${port}`;
  mapping = {
    ownHost: host,
    targetHost: target.host,
    token: options.token,
    ...(options.origin === undefined ? {} : { targetOrigin: options.origin }),
  };
  return {
    url: `http://${host}`,
    host,
    at: (gatewayUrl) => {
      const { pathname, search } = new URL(gatewayUrl);
      return `http://${host}${pathname}${search}`;
    },
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The run.
// ---------------------------------------------------------------------------------------------

const USAGE = `usage: npm run conformance [-- [--real] [--set 2026-07-28|2025-11-25] [--keep]]

  --real   serve the deployment's modules and roles (no fixtures): report what applies to them
  --set    run one requirement set only (repeatable); default both
  --keep   keep the work folder (the suite's results and the gateway's log) and say where

Then (not with --real) the client authorization scenarios against examples/agent.ts
(conformance/client-auth.ts; run alone with \`npx tsx conformance/client-auth.ts\`).`;

/** The whole suite run must end well before this (it takes seconds once npx has it cached). */
const SUITE_TIMEOUT_MS = 10 * 60 * 1000;

/** The methods whose every request must leave exactly one audit record. */
const AUDITED_METHODS = new Set(['tools/call', 'resources/read', 'prompts/get']);
/** Methods audited only when refused (an allowed completion or subscription is no call). */
const AUDITED_WHEN_REFUSED = new Set([
  'completion/complete',
  'resources/subscribe',
  'resources/unsubscribe',
]);
const AUDITED_EVENTS = new Set<string>([
  AUDIT_EVENTS.toolCall,
  AUDIT_EVENTS.resourceRead,
  AUDIT_EVENTS.promptGet,
  AUDIT_EVENTS.completion,
]);

// The runner's own lines go to the real stdout; everything else written in this process
// (synthesis and bundling, Node warnings) and every line the functions write to their log
// groups goes to the work folder's log file.
const terminal = process.stdout.write.bind(process.stdout);
const say = (line = '') => terminal(`${line}\n`);

/** Route this process's writes to the log file; `line` adds one of the gateway's. */
function routeLogs(path: string): {
  readonly line: (text: string) => void;
  readonly restore: () => void;
} {
  const file = createWriteStream(path, { flags: 'a' });
  const original = { out: process.stdout.write, err: process.stderr.write };
  const write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    file.write(chunk);
    const callback = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined;
    callback?.();
    return true;
  }) as typeof process.stdout.write;
  process.stdout.write = write;
  process.stderr.write = write;
  let restored = false;
  return {
    line: (text) => {
      if (!restored) file.write(`${text}\n`);
    },
    restore: () => {
      if (restored) return;
      restored = true;
      process.stdout.write = original.out;
      process.stderr.write = original.err;
      file.end();
    },
  };
}

/** Run the suite for one requirement set; its output lines, timed as they arrive. */
async function runSuite(
  url: string,
  revision: Revision,
  outDir: string,
  cwd: string,
  log: (line: string) => void,
): Promise<{ lines: TimedLine[]; errors: string[]; code: number | null }> {
  const args = [
    '-y',
    '-p',
    SUITE_NODE,
    '-p',
    SUITE_PACKAGE,
    '--',
    'conformance',
    'server',
    '--url',
    url,
    '--requirements',
    revision,
    '-o',
    outDir,
  ];
  const child: ChildProcess = spawn('npx', args, {
    cwd,
    env: { ...process.env, NO_COLOR: '1', npm_config_update_notifier: 'false' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: TimedLine[] = [];
  const timer = setTimeout(() => child.kill('SIGTERM'), SUITE_TIMEOUT_MS);
  const out = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  out.on('line', (text) => {
    lines.push({ at: performance.now(), text });
    log(text);
  });
  const err = createInterface({ input: child.stderr as NodeJS.ReadableStream });
  const errors: string[] = [];
  err.on('line', (text) => {
    errors.push(text);
    log(`[stderr] ${text}`);
  });
  const code = await new Promise<number | null>((resolve) => {
    child.on('close', (exitCode) => resolve(exitCode));
    child.on('error', () => resolve(null));
  });
  clearTimeout(timer);
  return { lines, errors, code };
}

/** The scored scenarios of a run, each judged from its checks. */
function verdictsOf(lines: readonly TimedLine[], cwd: string): ScenarioVerdict[] {
  const { scenarios, notScored } = parseRun(lines);
  return scenarios
    .filter((scenario) => !notScored.has(scenario.name))
    .map((scenario) => {
      if (scenario.dir === undefined) {
        return verdictOf(scenario, [
          { id: scenario.name, status: 'FAILURE', errorMessage: 'the suite saved no results' },
        ]);
      }
      return verdictOf(scenario, readChecks(scenario.dir, cwd));
    });
}

const ms = (value: number | undefined) => (value === undefined ? '?' : `${value} ms`);

function printFixtureSet(revision: Revision, verdicts: readonly ScenarioVerdict[]): boolean {
  const target = TARGETS.find((entry) => entry.revision === revision);
  if (target === undefined) throw new Error(`no target for ${revision}`);
  const report = judgeSet(target, verdicts);
  say(`${revision}: ${report.passed} passed, ${report.failed} failed`);
  for (const verdict of report.verdicts) {
    if (!verdict.passed) {
      const why = PUSH_STYLE_SCENARIOS.has(verdict.name)
        ? `push-style, answered in ${ms(verdict.durationMs)}`
        : `in ${ms(verdict.durationMs)}`;
      say(`  ${verdict.name} (${why}): ${firstLine(verdict.failures[0])}`);
    }
  }
  printNotes(report.verdicts);
  for (const problem of report.problems) say(`  below target: ${problem}`);
  return report.problems.length === 0;
}

/** Scenarios that passed but say less than a pass suggests: warnings, or nothing exercised. */
function printNotes(verdicts: readonly ScenarioVerdict[]): void {
  for (const verdict of verdicts) {
    if (!verdict.passed || (!verdict.vacuous && verdict.warnings.length === 0)) continue;
    const how = verdict.vacuous ? 'without exercising anything' : 'with warnings';
    const what = verdict.warnings.map((check) => `${check.id}: ${firstLine(check, 100)}`);
    say(`  note: ${verdict.name} passed ${how} (${what.join('; ') || 'no successful check'})`);
  }
}

function printRealSet(revision: Revision, verdicts: readonly ScenarioVerdict[]): boolean {
  const report = judgeReal(revision, verdicts, (name) => APPLY_WITHOUT_FIXTURES.has(name));
  const applicablePassed = report.applicable.length - report.defective.length;
  say(
    `${revision} (real modules): ${applicablePassed} passed, ${report.defective.length} failed of ${report.applicable.length} that apply; ${report.needFixtures.length} need the fixtures`,
  );
  for (const verdict of report.defective) {
    const real = verdict.failures.filter(
      (check) => !(check.errorMessage ?? '').startsWith(NOT_TESTABLE_PREFIX),
    );
    say(`  ${verdict.name}: ${real.map((check) => firstLine(check, 120)).join('; ')}`);
  }
  const byScenario = new Map<string, string[]>();
  for (const { scenario, check } of report.notTestable) {
    byScenario.set(scenario, [...(byScenario.get(scenario) ?? []), check]);
  }
  for (const [scenario, checks] of byScenario) {
    say(`  not testable without the fixtures: ${scenario}: ${checks.join(', ')}`);
  }
  printNotes(report.applicable);
  return report.defective.length === 0;
}

/**
 * What the proxy passed on under the gateway's own name (so past its Host check): the calls,
 * reads and gets, each owed one audit record, and the requests owed one only if refused.
 */
export function auditedRequests(
  requests: readonly ForwardedRequest[],
  ownHost: string,
): { readonly calls: number; readonly refusable: number } {
  let calls = 0;
  let refusable = 0;
  for (const request of requests) {
    if (request.method !== 'POST' || request.host?.toLowerCase() !== ownHost) continue;
    let method: unknown;
    try {
      method = (JSON.parse(request.body.toString('utf8')) as { method?: unknown } | null)?.method;
    } catch {
      continue; // Not JSON: the edge refuses it before any call exists.
    }
    if (typeof method !== 'string') continue;
    if (AUDITED_METHODS.has(method)) calls += 1;
    else if (AUDITED_WHEN_REFUSED.has(method)) refusable += 1;
  }
  return { calls, refusable };
}

/** The audit records (calls, reads, gets, completions) among the functions' JSON records. */
export function auditRecords(records: readonly Record<string, unknown>[]): number {
  return records.filter((record) => {
    const event = record[AUDIT_FIELDS.event];
    return typeof event === 'string' && AUDITED_EVENTS.has(event);
  }).length;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      real: { type: 'boolean', default: false },
      set: { type: 'string', multiple: true },
      keep: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    say(USAGE);
    return 0;
  }
  const revisions = (values.set ?? TARGETS.map((target) => target.revision)) as Revision[];
  for (const revision of revisions) {
    if (!TARGETS.some((target) => target.revision === revision)) {
      say(`unknown requirement set ${revision}\n${USAGE}`);
      return 2;
    }
  }

  const work = mkdtempSync(join(tmpdir(), 'mcp-conformance-'));
  const identity = join(work, 'identity');
  mkdirSync(identity, { recursive: true });
  const logPath = join(work, 'gateway.log');
  const logs = routeLogs(logPath);
  const log = (line: string) => process.stdout.write(`[suite] ${line}\n`);

  const real = values.real === true;
  let gateway: LocalGateway | undefined;
  let proxy: LoopbackProxy | undefined;
  let ok = true;
  try {
    // The deployment's modules and roles as they are, or the fixture's entry and role.
    gateway = await startLocalGateway({
      port: 0,
      dir: identity,
      allowedOrigins: [SUITE_ORIGIN],
      ...(real ? {} : { mcp: FIXTURE_MCP }),
    });
    gateway.logs.subscribe((event) => logs.line(`${event.group}: ${event.message}`));
    // Every role the served policy has: the suite sees everything there is to see.
    const groups = Object.keys(real ? ROLE_PERMISSIONS : CONFORMANCE_ROLES);
    const token = mintAccessToken(loadSigningKey(identity), {
      sub: 'conformance-suite',
      groups,
      expiresIn: 3600,
    });
    const requests: ForwardedRequest[] = [];
    proxy = await startProxy({
      target: gateway.url,
      token,
      origin: SUITE_ORIGIN,
      onRequest: (request) => requests.push(request),
    });
    const url = proxy.at(gateway.mcpUrl);
    say(
      `conformance: ${SUITE_PACKAGE} (${SUITE_NODE}) against ${real ? 'the real modules' : 'the conformance fixture'} at ${url}`,
    );
    const timings: string[] = [];
    for (const revision of revisions) {
      const outDir = join(work, `results-${revision}`);
      const started = performance.now();
      const { lines, errors, code } = await runSuite(url, revision, outDir, work, log);
      const verdicts = verdictsOf(lines, work);
      if (verdicts.length === 0) {
        // npx could not fetch the suite or Node 22, or the suite refused its arguments.
        say(`${revision}: 0 passed, 0 failed (the suite ran nothing, exit ${code})`);
        for (const text of errors.slice(-15)) say(`  ${text}`);
        ok = false;
        continue;
      }
      const met = real ? printRealSet(revision, verdicts) : printFixtureSet(revision, verdicts);
      timings.push(`${revision} ${Math.round((performance.now() - started) / 100) / 10} s`);
      ok &&= met;
    }
    // Let the last answers' records be written.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const { calls, refusable } = auditedRequests(requests, proxy.host);
    const records = auditRecords(gateway.logs.records());
    say(`audit: ${calls} calls, reads and gets (and ${refusable} others); ${records} records`);
    say(`time: ${timings.join(', ')}`);
    // One record per call, read and get; one more for each other request that was refused.
    // The fixture grants every completion and subscription the suite asks for.
    if (real ? records < calls || records > calls + refusable : records !== calls) {
      say('  below target: every call, read and get must leave exactly one audit record');
      ok = false;
    }
  } catch (error) {
    ok = false;
    logs.restore();
    throw error;
  } finally {
    await proxy?.stop();
    await gateway?.stop();
    logs.restore();
    // Below target, the evidence stays: the suite's results and the gateway's log.
    if (values.keep === true || !ok) say(`kept ${work} (suite results, gateway.log)`);
    else rmSync(work, { recursive: true, force: true });
  }
  // The example agent as an OAuth client, against the suite's mock servers.
  if (!real) ok = (await runClientAuth(say)).every((report) => report.ok) && ok;
  return ok ? 0 : 1;
}

/** Run as a script (`tsx conformance/run.ts`), not when a test imports the pieces above. */
const entry = process.argv[1];
if (entry !== undefined && resolve(entry) === fileURLToPath(import.meta.url)) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(
        `conformance: ${error instanceof Error ? error.stack : String(error)}\n`,
      );
      process.exit(1);
    },
  );
}
