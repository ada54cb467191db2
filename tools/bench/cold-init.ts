/**
 * Cold init: each bundle loaded by a fresh `node` process that answers its first request and
 * exits, next to a bare `node -e 0` and the driver alone, all interleaved so machine noise hits
 * every kind alike. Two measures of each run:
 *
 * - wall-clock from spawn to exit, seen by this process (includes fork/exec, Node's bootstrap,
 *   the driver, the bundle and the exit): reported as the median, over the rounds, of the
 *   difference to `node -e 0`'s run in the same round;
 * - the child's own timestamps (`cold-driver.ts`): how long `require(bundle)` took and how long
 *   the first request(s) then took, with neither Node's bootstrap nor the exit in them.
 *
 * The MCP bundle answers its first requests in each protocol era: a 2025-era client's
 * `initialize` then `tools/call` (answers SSE-framed), and a 2026-07-28 client's
 * `server/discover` then `tools/call` (per-request envelope and headers, answers JSON).
 *
 * Offline and hermetic: the authorizer's Cognito JWKS is served by the driver, its Secrets
 * Manager prefetch by a loopback stand-in, the MCP server's DynamoDB by dynalite on loopback
 * (the modules' tables created and seeded there, as local mode does);
 * credentials are fake, shared AWS config files are pointed at nothing, and every other AWS
 * endpoint at a closed loopback port. Each bundle runs with the environment the stack gives its
 * function (`LAMBDA_COMMON_ENVIRONMENT`, the service name, the function's own variables), so
 * `NODE_OPTIONS` is the deployed one (none).
 *
 * After the timed rounds, the kinds marked for it are run again under `--cpu-prof`
 * (`cold-profile.ts`): the modules their init and first answer spend the time in.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { build } from 'esbuild';
import { emptyApiKeyDocument } from '../../lambda/shared/api-key';
import { LAMBDA_COMMON_ENVIRONMENT } from '../../lib/lambda-function';
import { LOCAL_TABLE_NAME, TABLE_NAME_VARIABLE } from '../../modules/customer-records/module';
import { addKey } from '../cli/api-key-admin';
import { startLocalDynamo } from '../local/dynamo';
import {
  LOCAL_CLIENT_ID,
  LOCAL_JWKS_URI,
  LOCAL_SCOPE,
  LOCAL_USER_POOL_ID,
  localJwks,
  mintAccessToken,
  type SigningKey,
} from '../local/identity';
import {
  createLocalRevocationsTable,
  LOCAL_REVOCATIONS_TABLE,
  localDynamoClient,
} from '../local/revocations';
import type { DriverConfig, DriverReport } from './cold-driver';
import { type ColdProfile, profileColdStart } from './cold-profile';
import {
  answerOf,
  authorizerEvent,
  benchAnalyst,
  GET_RECORD_CALL,
  GET_RECORD_FOUND,
  INITIALIZE_REQUEST,
  MODERN_PROTOCOL_VERSION,
  mcpEvent,
  modernMcpEvent,
  RULED_CALL,
  RULED_CALL_ANSWERED,
  SERVER_DISCOVER_REQUEST,
} from './events';
import { startLoopbackSecrets } from './loopback-secrets';
import { localModules } from './mcp-under-test';
import { percentile } from './stats';

/**
 * Targets from the cold-start issue: ms above a bare `node -e 0`, and at most `sdkRatio` times
 * the cost of merely loading the SDK v3 client(s) the Lambda used to load (a row of this run).
 */
export const COLD_TARGETS = {
  authorizer: { aboveMs: 60, sdkRow: 'SDK alone: secrets-manager', sdkRatio: 1.0 },
  mcp: { aboveMs: 120, sdkRow: 'SDK alone: dynamodb', sdkRatio: 1.0 },
} as const;

/** The cold rows of a call the argument rules judge, with and without them (`RULES_TAKEN_OUT`). */
export const RULED_COLD_ROW = 'mcp, ruled call';
export const RULED_COLD_ROW_MODERN = 'mcp 2026-07-28, ruled call';
export const RULES_TAKEN_OUT = ', rules taken out';

/** A cold-init row's target: ms above `node -e 0`, and its ratio to an SDK-alone row. */
export interface ColdTarget {
  readonly aboveMs: number;
  readonly sdkRow: string;
  readonly sdkRatio: number;
}

export interface ColdInitOptions {
  readonly projectRoot: string;
  /**
   * A folder inside the project for the driver and its configs; the bundles must be inside the
   * project too, so their external `@aws-sdk/*` imports resolve from its node_modules.
   */
  readonly workDir: string;
  /** Absolute paths of the built bundles (`index.js`). */
  readonly bundles: {
    readonly authorizer: string;
    readonly mcp: string;
    /** The bench-only Express baseline; left out when absent. */
    readonly express?: string;
    /**
     * The MCP bundle with the modules' argument rules taken out: beside the deployed one, a
     * call the rules judge shows what loading Cedar and the first decision cost. Left out when
     * absent.
     */
    readonly mcpWithoutRules?: string;
    /** Bench-only variants of the MCP bundle, each answering the 2026-07-28 tools/call. */
    readonly mcpVariants?: readonly {
      readonly name: string;
      readonly bundle: string;
      /** Variables over the deployed ones (e.g. a `NODE_OPTIONS` to measure). */
      readonly env?: Readonly<Record<string, string>>;
    }[];
  };
  readonly signingKey: SigningKey;
  /** Timed runs of each kind (one more, untimed, warms the file cache first). */
  readonly runs: number;
  /** `--cpu-prof` runs per profiled kind, averaged (0: no profiles). @default 0 */
  readonly profileRuns?: number;
  /** Modules each profile lists, largest first. @default 10 */
  readonly profileTop?: number;
}

export interface Spread {
  readonly p50: number;
  readonly p90: number;
  readonly min: number;
}

export interface SelfTimed {
  /** Process start to the driver's first line: Node's own bootstrap. */
  readonly bootMs: Spread;
  /** `require(bundle)`: the module's top-level init. */
  readonly requireMs: Spread;
  /** From loaded to the last answer of the first request(s). */
  readonly answerMs: Spread;
  /** require + answer: the bundle's own cold cost; bootstrap, driver and exit excluded. */
  readonly totalMs: Spread;
}

export interface ColdRow {
  readonly name: string;
  /** What the process does after starting. */
  readonly work: string;
  readonly runs: number;
  readonly wallMs: Spread;
  /** Median over the rounds of this kind's wall-clock minus `node -e 0`'s in the same round. */
  readonly aboveNodeMs: number;
  /** The child's own timestamps; none for `node -e 0`. */
  readonly self: SelfTimed | null;
  /** The issue's target for the row; null when none. */
  readonly target: ColdTarget | null;
}

export interface ColdReport {
  readonly runs: number;
  readonly rows: readonly ColdRow[];
  /**
   * GetSecretValue calls the loopback stand-in answered across all authorizer runs. Often 0:
   * the JWT path does not wait for the API-key prefetch, and the driver exits at its answer,
   * as Lambda freezes an environment once it has answered.
   */
  readonly secretFetches: number;
  /** Where the profiled kinds' cold starts go, module by module. */
  readonly profiles: readonly ColdProfile[];
}

interface ColdKind {
  readonly name: string;
  readonly work: string;
  readonly target: ColdTarget | null;
  /** The bundle to profile this kind's runs against, when it is profiled. */
  readonly profile?: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** Throws if the run did not do what it is measured for. */
  readonly check: (run: RunResult) => void;
}

interface RunResult {
  readonly wallMs: number;
  readonly code: number | null;
  readonly report: DriverReport | undefined;
  readonly output: string;
}

/** Spawn one process and time it from spawn to exit; its report comes on fd 3. */
export function runOnce(args: readonly string[], env: Record<string, string>): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, args, {
      env,
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    });
    let exited = started;
    let code: number | null = null;
    const output: Buffer[] = [];
    const report: Buffer[] = [];
    child.stdout?.on('data', (chunk: Buffer) => output.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => output.push(chunk));
    (child.stdio[3] as Readable).on('data', (chunk: Buffer) => report.push(chunk));
    child.once('exit', (exitCode) => {
      exited = process.hrtime.bigint();
      code = exitCode;
    });
    child.once('error', reject);
    child.once('close', () => {
      const text = Buffer.concat(report).toString('utf8');
      resolve({
        wallMs: Number(exited - started) / 1e6,
        code,
        report: text === '' ? undefined : (JSON.parse(text) as DriverReport),
        output: Buffer.concat(output).toString('utf8'),
      });
    });
  });
}

function fail(kind: string, run: RunResult, why: string): never {
  throw new Error(
    `cold init (${kind}): ${why}; exit ${run.code}; ${run.report?.error ?? ''}\n${run.output.slice(-2_000)}`,
  );
}

/** The driver ran, loaded, answered every event and exited cleanly. */
function checkDriver(kind: string, run: RunResult, events: number): DriverReport {
  const { report } = run;
  if (run.code !== 0 || report === undefined || report.error !== undefined) {
    fail(kind, run, 'the driver did not finish');
  }
  if (report.answeredMs.length !== events) fail(kind, run, 'not every event was answered');
  return report;
}

/** The JSON-RPC result of a proxy answer (its body JSON or SSE-framed), if it succeeded. */
function resultOf(answer: unknown): Record<string, unknown> | undefined {
  const { statusCode, body } = (answer ?? {}) as { statusCode?: unknown; body?: unknown };
  if (statusCode !== 200 || typeof body !== 'string') return undefined;
  const result = answerOf(body)?.result;
  return typeof result === 'object' && result !== null
    ? (result as Record<string, unknown>)
    : undefined;
}

/** What opens an MCP kind's run (initialize, server/discover), and how to tell it worked. */
interface Opening {
  readonly method: string;
  readonly ok: (result: Record<string, unknown>) => boolean;
}

const INITIALIZED: Opening = {
  method: 'initialize',
  ok: (result) => typeof result.protocolVersion === 'string',
};

const DISCOVERED: Opening = {
  method: 'server/discover',
  ok: (result) =>
    Array.isArray(result.supportedVersions) &&
    result.supportedVersions.includes(MODERN_PROTOCOL_VERSION),
};

function checkMcpAnswers(kind: string, run: RunResult, opening: Opening): void {
  const report = checkDriver(kind, run, 2);
  const [first, call] = report.answers;
  const opened = resultOf(first);
  if (opened === undefined || !opening.ok(opened)) {
    fail(kind, run, `${opening.method} failed: ${JSON.stringify(first)}`);
  }
  if (!JSON.stringify(resultOf(call) ?? null).includes(GET_RECORD_FOUND)) {
    fail(kind, run, `tools/call failed: ${JSON.stringify(call)}`);
  }
}

export function spread(values: readonly number[]): Spread {
  return {
    p50: percentile(values, 50),
    p90: percentile(values, 90),
    min: values.length === 0 ? 0 : Math.min(...values),
  };
}

/**
 * The median of `values[i] - floor[i]`: paired by round (the runs of one round are seconds
 * apart at most), so a change in the machine's load during the bench cancels out instead of
 * landing on whichever kind ran then.
 */
export function medianAbove(values: readonly number[], floor: readonly number[]): number {
  if (values.length !== floor.length) {
    throw new RangeError(`medianAbove: ${values.length} values but ${floor.length} floor runs`);
  }
  return percentile(
    values.map((value, i) => value - (floor[i] as number)),
    50,
  );
}

/** The cold driver as one CommonJS file in `workDir`. */
async function buildDriver(projectRoot: string, workDir: string): Promise<string> {
  const outfile = join(workDir, 'cold-driver.cjs');
  await build({
    entryPoints: [join(projectRoot, 'tools/bench/cold-driver.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    logLevel: 'error',
  });
  return outfile;
}

export async function runColdInit(options: ColdInitOptions): Promise<ColdReport> {
  if (!(Number.isInteger(options.runs) && options.runs > 0)) {
    throw new RangeError(`cold init: runs must be a positive integer, got ${options.runs}`);
  }
  const { workDir, bundles, signingKey } = options;
  const driver = await buildDriver(options.projectRoot, workDir);
  const files = [
    bundles.authorizer,
    bundles.mcp,
    ...(bundles.express === undefined ? [] : [bundles.express]),
    ...(bundles.mcpWithoutRules === undefined ? [] : [bundles.mcpWithoutRules]),
    ...(bundles.mcpVariants ?? []).map((variant) => variant.bundle),
  ];
  for (const bundle of files) {
    // The project is `"type": "module"`; a Lambda asset has no package.json, so its .js is
    // CommonJS. Say so next to each bundle, or Node would load it as ESM and fail.
    writeFileSync(join(dirname(bundle), 'package.json'), '{ "type": "commonjs" }\n');
  }
  const secretId = 'mcp-bench/api-keys';
  const benchKey = addKey(emptyApiKeyDocument(), {
    name: 'bench-cold',
    roles: ['analyst'],
    knownRoles: ['analyst'],
    now: new Date(),
  });
  const secrets = await startLoopbackSecrets(secretId, JSON.stringify(benchKey.document));
  const dynamo = await startLocalDynamo();
  try {
    // The modules' tables, created and seeded as local mode does; the bundles reach them
    // through their own clients, pointed at dynalite by AWS_ENDPOINT_URL_DYNAMODB.
    await localModules(dynamo);
    // The authorizer reads the (empty) not-before list at init, as deployed.
    const revocationsClient = localDynamoClient(dynamo.endpoint);
    await createLocalRevocationsTable(revocationsClient);
    revocationsClient.destroy();
    const writeConfig = (name: string, config: DriverConfig) => {
      const path = join(workDir, `${name}.json`);
      writeFileSync(path, JSON.stringify(config));
      return path;
    };
    const hermetic: Record<string, string> = {
      AWS_REGION: 'us-east-1',
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'fake-access-key-id',
      AWS_SECRET_ACCESS_KEY: 'bench-secret-access-key',
      AWS_SESSION_TOKEN: 'bench-session-token',
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_CONFIG_FILE: join(workDir, 'no-aws-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(workDir, 'no-aws-credentials'),
      // Any service without its own endpoint below meets a closed loopback port, never AWS.
      AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      AWS_SDK_JS_SUPPRESS_NODE_DEPRECATION_WARNING: '1',
    };
    const analyst = benchAnalyst();
    const mcpEvents = [mcpEvent(analyst, INITIALIZE_REQUEST), mcpEvent(analyst, GET_RECORD_CALL)];
    const modernEvents = [
      modernMcpEvent(analyst, SERVER_DISCOVER_REQUEST),
      modernMcpEvent(analyst, GET_RECORD_CALL),
    ];
    // As the stack deploys them (lib/lambda-function.ts), plus the loopback endpoints.
    const mcpEnv = {
      ...LAMBDA_COMMON_ENVIRONMENT,
      POWERTOOLS_SERVICE_NAME: 'mcp-server',
      [TABLE_NAME_VARIABLE]: LOCAL_TABLE_NAME,
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    };
    const authorizerEnv = {
      ...LAMBDA_COMMON_ENVIRONMENT,
      POWERTOOLS_SERVICE_NAME: 'mcp-authorizer',
      USER_POOL_ID: LOCAL_USER_POOL_ID,
      USER_POOL_CLIENT_IDS: LOCAL_CLIENT_ID,
      REQUIRED_SCOPES: LOCAL_SCOPE,
      API_KEYS_SECRET_ID: secretId,
      // The roles the bench's key names (`analyst`), as the stack hands the deployment's.
      API_KEY_ROLES: 'analyst',
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
      REVOCATIONS_TABLE_NAME: LOCAL_REVOCATIONS_TABLE,
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    };
    const calledAlone = (kind: string) => (run: RunResult) => {
      const report = checkDriver(kind, run, 1);
      if (!JSON.stringify(resultOf(report.answers[0]) ?? null).includes(GET_RECORD_FOUND)) {
        fail(kind, run, `tools/call failed: ${JSON.stringify(report.answers)}`);
      }
    };
    const allowed = (kind: string) => (run: RunResult) => {
      const report = checkDriver(kind, run, 1);
      if (!JSON.stringify(report.answers[0]).includes('"Allow"')) {
        fail(kind, run, `the credential was not allowed: ${JSON.stringify(report.answers)}`);
      }
      return report;
    };
    const token = mintAccessToken(signingKey, {
      sub: 'bench-cold',
      groups: ['analyst'],
      expiresIn: 3600,
    });
    const jwks = { uri: LOCAL_JWKS_URI, body: JSON.stringify(localJwks(signingKey)) };

    const kinds: ColdKind[] = [
      {
        name: 'node -e 0',
        work: 'nothing (the floor)',
        target: null,
        args: ['-e', '0'],
        env: {},
        check: (run) => {
          if (run.code !== 0) fail('node -e 0', run, 'node failed');
        },
      },
      {
        name: 'driver alone',
        work: 'the driver, no bundle',
        target: null,
        args: [driver, writeConfig('driver-alone', { events: [] })],
        env: {},
        check: (run) => void checkDriver('driver alone', run, 0),
      },
      {
        name: 'authorizer',
        work: 'JWT (RS256), JWKS fetched',
        target: COLD_TARGETS.authorizer,
        args: [
          driver,
          writeConfig('authorizer', {
            bundle: bundles.authorizer,
            events: [authorizerEvent(token)],
            jwks,
          }),
        ],
        env: authorizerEnv,
        check: (run) => {
          const report = allowed('authorizer')(run);
          if (report.jwksFetches === 0) fail('authorizer', run, 'the JWKS was never fetched');
        },
      },
      {
        name: 'authorizer, API key',
        work: 'API key, key secret read at init',
        target: COLD_TARGETS.authorizer,
        profile: bundles.authorizer,
        args: [
          driver,
          writeConfig('authorizer-api-key', {
            bundle: bundles.authorizer,
            events: [authorizerEvent(benchKey.key)],
            jwks,
          }),
        ],
        env: authorizerEnv,
        check: (run) => void allowed('authorizer, API key')(run),
      },
      {
        name: 'mcp',
        work: 'initialize + tools/call (2025-11-25)',
        target: COLD_TARGETS.mcp,
        args: [driver, writeConfig('mcp', { bundle: bundles.mcp, events: mcpEvents })],
        env: mcpEnv,
        check: (run) => checkMcpAnswers('mcp', run, INITIALIZED),
      },
      {
        name: 'mcp 2026-07-28',
        work: 'server/discover + tools/call',
        target: null,
        args: [driver, writeConfig('mcp-modern', { bundle: bundles.mcp, events: modernEvents })],
        env: mcpEnv,
        check: (run) => checkMcpAnswers('mcp 2026-07-28', run, DISCOVERED),
      },
      {
        name: 'mcp 2026-07-28, tools/call',
        work: 'tools/call alone (DynamoDB in the path)',
        target: COLD_TARGETS.mcp,
        profile: bundles.mcp,
        args: [
          driver,
          writeConfig('mcp-modern-call', {
            bundle: bundles.mcp,
            events: [modernMcpEvent(analyst, GET_RECORD_CALL)],
          }),
        ],
        env: mcpEnv,
        check: calledAlone('mcp 2026-07-28, tools/call'),
      },
    ];
    // The SDK clients each bundle loads from node_modules at init, alone: their share of it.
    for (const [name, modules] of [
      ['SDK alone: secrets-manager', ['@aws-sdk/client-secrets-manager']],
      ['SDK alone: dynamodb', ['@aws-sdk/client-dynamodb', '@aws-sdk/lib-dynamodb']],
    ] as const) {
      kinds.push({
        name,
        work: `require ${modules.join(' + ')}`,
        target: null,
        args: [driver, writeConfig(name.replaceAll(/[^a-z]+/g, '-'), { modules, events: [] })],
        env: {},
        check: (run) => void checkDriver(name, run, 0),
      });
    }
    // The argument rules: a call they judge (Cedar loaded on it, the rules preparsed, the first
    // decision made), against the same call to the same bundle without rules, in each era.
    if (bundles.mcpWithoutRules !== undefined) {
      const ruled = (kind: string, opening?: Opening) => (run: RunResult) => {
        const report = checkDriver(kind, run, opening === undefined ? 1 : 2);
        const [first] = report.answers;
        if (opening !== undefined) {
          const opened = resultOf(first);
          if (opened === undefined || !opening.ok(opened)) fail(kind, run, 'the opening failed');
        }
        const call = report.answers.at(-1);
        if (!JSON.stringify(resultOf(call) ?? null).includes(RULED_CALL_ANSWERED)) {
          fail(kind, run, `the ruled tools/call failed: ${JSON.stringify(call)}`);
        }
      };
      for (const [suffix, bundle] of [
        ['', bundles.mcp],
        [RULES_TAKEN_OUT, bundles.mcpWithoutRules],
      ] as const) {
        const legacy = `${RULED_COLD_ROW}${suffix}`;
        const modern = `${RULED_COLD_ROW_MODERN}${suffix}`;
        kinds.push(
          {
            name: legacy,
            work: 'initialize + tools/call query_customer_data (2025-11-25)',
            target: null,
            args: [
              driver,
              writeConfig(legacy.replaceAll(/[^a-z0-9]+/g, '-'), {
                bundle,
                events: [mcpEvent(analyst, INITIALIZE_REQUEST), mcpEvent(analyst, RULED_CALL)],
              }),
            ],
            env: mcpEnv,
            check: ruled(legacy, INITIALIZED),
          },
          {
            name: modern,
            work: 'tools/call query_customer_data alone',
            target: null,
            args: [
              driver,
              writeConfig(modern.replaceAll(/[^a-z0-9]+/g, '-'), {
                bundle,
                events: [modernMcpEvent(analyst, RULED_CALL)],
              }),
            ],
            env: mcpEnv,
            check: ruled(modern),
          },
        );
      }
    }
    for (const variant of bundles.mcpVariants ?? []) {
      kinds.push({
        name: variant.name,
        work: 'tools/call alone (2026-07-28)',
        target: null,
        args: [
          driver,
          writeConfig(variant.name.replaceAll(/[^a-z]+/g, '-'), {
            bundle: variant.bundle,
            events: [modernMcpEvent(analyst, GET_RECORD_CALL)],
          }),
        ],
        env: { ...mcpEnv, ...variant.env },
        check: calledAlone(variant.name),
      });
    }
    if (bundles.express !== undefined) {
      kinds.push({
        name: 'express baseline',
        work: 'initialize + tools/call (2025-11-25)',
        target: null,
        args: [driver, writeConfig('express', { bundle: bundles.express, events: mcpEvents })],
        env: mcpEnv,
        check: (run) => checkMcpAnswers('express baseline', run, INITIALIZED),
      });
    }

    const samples = new Map<string, RunResult[]>(kinds.map((kind) => [kind.name, []]));
    // Round 0 warms the file cache and is not recorded; each round starts at the next kind.
    for (let round = 0; round <= options.runs; round++) {
      for (let i = 0; i < kinds.length; i++) {
        const kind = kinds[(i + round) % kinds.length] as ColdKind;
        const run = await runOnce(kind.args, { ...hermetic, ...kind.env });
        kind.check(run);
        if (round > 0) samples.get(kind.name)?.push(run);
      }
    }
    const unexpected = secrets.unexpected();
    if (unexpected.length > 0) {
      throw new Error(`cold init: unexpected Secrets Manager calls:\n${unexpected.join('\n')}`);
    }

    const floor = samples.get('node -e 0') ?? [];
    const rows = kinds.map((kind): ColdRow => {
      const runs = samples.get(kind.name) ?? [];
      const wallMs = spread(runs.map((run) => run.wallMs));
      const reports = runs.flatMap((run) => (run.report === undefined ? [] : [run.report]));
      const last = (report: DriverReport) => report.answeredMs.at(-1) ?? report.loadedMs;
      return {
        name: kind.name,
        work: kind.work,
        runs: runs.length,
        wallMs,
        aboveNodeMs: medianAbove(
          runs.map((run) => run.wallMs),
          floor.map((run) => run.wallMs),
        ),
        self:
          reports.length === 0
            ? null
            : {
                bootMs: spread(reports.map((r) => r.startedMs)),
                requireMs: spread(reports.map((r) => r.loadedMs - r.requiringMs)),
                answerMs: spread(reports.map((r) => last(r) - r.loadedMs)),
                totalMs: spread(reports.map((r) => last(r) - r.requiringMs)),
              },
        target: kind.target,
      };
    });

    const profiles: ColdProfile[] = [];
    const profileRuns = options.profileRuns ?? 0;
    for (const kind of kinds) {
      if (kind.profile === undefined || profileRuns === 0) continue;
      profiles.push(
        await profileColdStart(
          { name: kind.name, bundle: kind.profile, args: kind.args, env: kind.env },
          {
            runs: profileRuns,
            workDir,
            ...(options.profileTop === undefined ? {} : { top: options.profileTop }),
            run: async (args, env) => {
              const run = await runOnce(args, { ...hermetic, ...env });
              kind.check(run);
              return run.report as DriverReport;
            },
          },
        ),
      );
    }
    return { runs: options.runs, rows, secretFetches: secrets.served(), profiles };
  } finally {
    await dynamo.stop();
    await secrets.stop();
  }
}
