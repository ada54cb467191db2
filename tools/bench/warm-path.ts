/**
 * The warm request path in process (no network but dynalite's loopback): the authorizer with a
 * JWT and with API keys, the raw `verifySync` floor, and the MCP handler answering tools/list
 * and tools/call, the call in both protocol eras (a 2025-era request, answered SSE-framed, and
 * a 2026-07-28 one with its envelope and headers, answered JSON). Every case is checked to
 * succeed once before it is timed: a bench that measured fast 401s would be a lie.
 */

import type { APIGatewayProxyEvent } from 'aws-lambda';
import { ApiKeyStore } from '../../lambda/authorizer/api-key-store';
import { cachedKeysFirst, createCognitoVerifier } from '../../lambda/authorizer/cognito';
import { createAuthorizerHandler } from '../../lambda/authorizer/handler';
import { CallRecord } from '../../lambda/mcp/call-record';
import { destructiveToolNames } from '../../lambda/mcp/module-loader';
import { DynamoQuotaCounter, QUOTA_COUNTER_ATTRIBUTES } from '../../lambda/mcp/quota-counter';
import { createQuotaGate, type QuotaGate } from '../../lambda/mcp/quotas';
import { createRules } from '../../lambda/mcp/rules';
import {
  type ApiKeyDocument,
  emptyApiKeyDocument,
  formatApiKey,
  generateKeyId,
  generateSecret,
  hashApiKey,
  parseApiKey,
} from '../../lambda/shared/api-key';
import { DynamoDbClient } from '../../lambda/shared/aws/dynamodb';
import { createLogger } from '../../lambda/shared/logger';
import { findItem } from '../../lambda/shared/policy';
import { buildQuotaTable } from '../../lambda/shared/quota';
import { MODULES } from '../../modules/index';
import { POLICY } from '../../modules/policy';
import { createKeyedTable, type LocalDynamo, startLocalDynamo } from '../local/dynamo';
import {
  LOCAL_CLIENT_ID,
  LOCAL_SCOPE,
  LOCAL_USER_POOL_ID,
  localJwks,
  localJwksCache,
  mintAccessToken,
  type SigningKey,
} from '../local/identity';
import {
  answerOf,
  authorizerEvent,
  benchAnalyst,
  GET_RECORD_CALL,
  GET_RECORD_FOUND,
  mcpEvent,
  modernMcpEvent,
  RULED_CALL,
  RULED_CALL_ANSWERED,
  TOOLS_LIST_REQUEST,
} from './events';
import { type BenchMcpEntry, localModules, mcpEntry } from './mcp-under-test';
import { quietly } from './quietly';
import { type Measurement, type MeasureOptions, measure, measureAlternating } from './stats';

/** The warm cases of a call the argument rules judge (`RULED_CALL`), with and without them. */
export const RULED_CASE_PREFIX = 'MCP handler, tools/call query_customer_data';
/** The warm case of one rule decision alone. */
export const RULE_DECISION_CASE =
  'argument rules alone: one decision (Rules.judge, query_customer_data, warm)';

export interface WarmCase extends Measurement {
  readonly name: string;
}

export interface WarmReport {
  readonly cases: readonly WarmCase[];
  /** ApiKeyStore.verify ops/s at 1 key over ops/s at 10,000 keys (target ≤ 1.2). */
  readonly apiKeyCostRatio: number;
  /** Authorizer JWT ops/s over raw verifySync ops/s (target ≥ 0.8). */
  readonly jwtVsVerifySync: number;
}

/** The roles the bench's keys name, as the stack hands them to the authorizer. */
const BENCH_KEY_ROLES: ReadonlySet<string> = new Set(['analyst']);

/** Rounds of the 1-key/10,000-key comparison, alternated so neither size runs "second". */
const API_KEY_ROUNDS = 5;

/** A document of `count` hashed keys (built directly: addKey re-validates the whole document). */
export function documentWith(count: number): { document: ApiKeyDocument; key: string } {
  const document = emptyApiKeyDocument();
  let key = '';
  const created = new Date().toISOString();
  for (let i = 0; i < count; i++) {
    const keyId = generateKeyId();
    const material = formatApiKey(keyId, generateSecret());
    document.keys[keyId] = {
      name: `bot-${i}`,
      roles: ['analyst'],
      hash: hashApiKey(material),
      created,
      expires: null,
      revoked: null,
    };
    if (i === Math.floor(count / 2)) key = material;
  }
  return { document, key };
}

function storeFor(document: ApiKeyDocument): ApiKeyStore {
  const text = JSON.stringify(document);
  return new ApiKeyStore({
    source: { load: async () => ({ current: text }) },
    ttlMs: 3_600_000,
    minRefreshMs: 3_600_000,
  });
}

async function expectAllow(handler: () => Promise<unknown>, what: string): Promise<void> {
  const result = (await quietly(handler)) as { policyDocument?: { Statement?: unknown[] } };
  const text = JSON.stringify(result?.policyDocument);
  if (!text?.includes('"Allow"')) throw new Error(`bench: ${what} was not allowed: ${text}`);
}

/** Fail the bench unless `entry` answers `event` with 200, the framing and `expected` in it. */
async function expectAnswered(
  entry: BenchMcpEntry,
  event: APIGatewayProxyEvent,
  check: { readonly what: string; readonly expected: string; readonly framing: string },
): Promise<void> {
  const result = await quietly(() => entry(event));
  const answer = answerOf(result.body);
  const contentType = String(result.headers?.['content-type'] ?? '');
  if (
    result.statusCode !== 200 ||
    !contentType.startsWith(check.framing) ||
    answer?.result === undefined ||
    !JSON.stringify(answer.result).includes(check.expected)
  ) {
    throw new Error(
      `bench: ${check.what} did not succeed: ${result.statusCode} ${contentType} ${result.body}`,
    );
  }
}

/** Name of the quota counters' table in the bench's dynalite. */
const BENCH_QUOTA_TABLE = 'bench-quota-counters';

/**
 * A quota gate counting every get_record call per caller in a table on `dynamo`, as the
 * deployed gate counts (`lambda/mcp/lambda-entry.ts`), with a limit no run reaches.
 */
async function benchQuotaGate(dynamo: LocalDynamo): Promise<QuotaGate> {
  const db = new DynamoDbClient({
    endpoint: dynamo.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  await createKeyedTable(db, BENCH_QUOTA_TABLE, QUOTA_COUNTER_ATTRIBUTES.partitionKey);
  const rules = [{ id: 'bench', tool: 'get_record', limit: 1_000_000_000, windowSeconds: 300 }];
  return createQuotaGate({
    table: buildQuotaTable(rules, POLICY, destructiveToolNames(MODULES)),
    counter: new DynamoQuotaCounter(db, BENCH_QUOTA_TABLE),
  });
}

export async function runWarmPath(
  signingKey: SigningKey,
  options: MeasureOptions,
): Promise<WarmReport> {
  const cases: WarmCase[] = [];
  const run = async (name: string, fn: () => unknown): Promise<WarmCase> => {
    const result = { name, ...(await quietly(() => measure(fn, options))) };
    cases.push(result);
    return result;
  };

  const logger = createLogger('bench');
  const verifierConfig = {
    userPoolId: LOCAL_USER_POOL_ID,
    clientIds: [LOCAL_CLIENT_ID],
    requiredScopes: [LOCAL_SCOPE],
  };
  const verifier = createCognitoVerifier(verifierConfig, localJwksCache(signingKey));

  // The JWT path against its floor, first (before the 10,000-key documents fill the heap) and
  // in alternating blocks, so GC and machine noise land on both. The handler is built as the
  // Lambda builds it (cachedKeysFirst) and writes its audit record; verifySync is the library
  // alone, same configuration, JWKS cached.
  const token = mintAccessToken(signingKey, { sub: 'bench', groups: ['analyst'], expiresIn: 3600 });
  const jwtHandler = createAuthorizerHandler({
    verifier: cachedKeysFirst(verifier),
    apiKeys: storeFor(emptyApiKeyDocument()),
    apiKeyRoles: BENCH_KEY_ROLES,
    logger,
  });
  const jwtEvent = authorizerEvent(token);
  await expectAllow(() => jwtHandler(jwtEvent), 'the access token');
  const raw = createCognitoVerifier(verifierConfig);
  raw.cacheJwks(localJwks(signingKey) as Parameters<typeof raw.cacheJwks>[0]);
  raw.verifySync(token);
  const [jwt, floor] = await quietly(() =>
    measureAlternating(
      () => jwtHandler(jwtEvent),
      () => raw.verifySync(token),
      { ...options, block: 100 },
    ),
  );
  cases.push(
    { name: 'authorizer handler, Cognito access token (RS256), audit record included', ...jwt },
    { name: 'baseline: aws-jwt-verify verifySync (same token, alternating blocks)', ...floor },
  );
  // For the breakdown: the same handler with its audit record written to nowhere.
  const silent = createAuthorizerHandler({
    verifier: cachedKeysFirst(verifier),
    apiKeys: storeFor(emptyApiKeyDocument()),
    apiKeyRoles: BENCH_KEY_ROLES,
    logger: new Proxy(logger, {
      get: (target, key) =>
        key === 'info' || key === 'warn' || key === 'error' || key === 'addContext'
          ? () => {}
          : Reflect.get(target, key),
    }),
  });
  await run('authorizer handler, Cognito access token, no audit record (breakdown only)', () =>
    silent(jwtEvent),
  );

  // ApiKeyStore alone, 1 vs 10,000 keys: median of alternated rounds, so JIT warm-up and
  // machine noise do not favour whichever size runs second.
  const sizes = await Promise.all(
    [1, 10_000].map(async (count) => {
      const { document, key } = documentWith(count);
      const store = storeFor(document);
      await store.warm();
      const parsed = parseApiKey(key);
      if (parsed === undefined) throw new Error('bench: the generated key did not parse');
      return { count, document, key, parsed, store, rounds: [] as Measurement[] };
    }),
  );
  for (let round = 0; round < API_KEY_ROUNDS; round++) {
    for (const size of sizes) {
      const { store, parsed } = size;
      size.rounds.push(await quietly(() => measure(() => store.verify(parsed), options)));
    }
  }
  const storeOps: number[] = [];
  for (const size of sizes) {
    // The round with the median throughput, reported whole so its percentiles match it.
    const byOps = [...size.rounds].sort((a, b) => a.opsPerSecond - b.opsPerSecond);
    const middle = byOps[Math.floor(byOps.length / 2)] as Measurement;
    storeOps.push(middle.opsPerSecond);
    cases.push({
      name: `ApiKeyStore.verify, ${size.count.toLocaleString('en-US')} key(s), median of ${API_KEY_ROUNDS}`,
      ...middle,
    });
  }
  const [oneKey = 0, manyKeys = 0] = storeOps;
  const apiKeyCostRatio = manyKeys > 0 ? oneKey / manyKeys : Number.POSITIVE_INFINITY;

  for (const size of sizes) {
    const handler = createAuthorizerHandler({
      verifier,
      apiKeys: storeFor(size.document),
      apiKeyRoles: BENCH_KEY_ROLES,
      logger,
    });
    const event = authorizerEvent(size.key);
    await expectAllow(() => handler(event), 'the API key');
    await run(`authorizer handler, API key, ${size.count.toLocaleString('en-US')} key(s)`, () =>
      handler(event),
    );
  }

  // The MCP handler with the real DynamoDB adapter on dynalite: tools/call includes an HTTP
  // round trip on loopback and dynalite's own work, which Lambda would spend on DynamoDB.
  const dynamo = await startLocalDynamo();
  try {
    const modules = await localModules(dynamo);
    const mcp = mcpEntry(modules, logger);
    const analyst = benchAnalyst();
    const list = mcpEvent(analyst, TOOLS_LIST_REQUEST);
    const legacyCall = mcpEvent(analyst, GET_RECORD_CALL);
    const modernCall = modernMcpEvent(analyst, GET_RECORD_CALL);
    for (const [what, event, expected, framing] of [
      ['tools/list', list, '"get_record"', 'text/event-stream'],
      ['tools/call (2025-11-25)', legacyCall, GET_RECORD_FOUND, 'text/event-stream'],
      ['tools/call (2026-07-28)', modernCall, GET_RECORD_FOUND, 'application/json'],
    ] as const) {
      await expectAnswered(mcp, event, { what, expected, framing });
    }
    await run('MCP handler, tools/list (analyst)', () => mcp(list));
    // The two eras in alternating blocks, so the machine's noise falls on both alike.
    const [legacy, modern] = await quietly(() =>
      measureAlternating(
        () => mcp(legacyCall),
        () => mcp(modernCall),
        { ...options, block: 100 },
      ),
    );
    cases.push(
      { name: 'MCP handler, tools/call get_record, 2025-11-25 (dynalite in the path)', ...legacy },
      { name: 'MCP handler, tools/call get_record, 2026-07-28 (dynalite in the path)', ...modern },
    );

    // The argument rules: a call they judge, against the same modules without rules, in
    // alternating blocks, each era; then one decision alone.
    const ruled = mcpEntry(modules, logger);
    const unruled = mcpEntry(
      modules.map((entry) => ({ ...entry, module: { ...entry.module, rules: undefined } })),
      logger,
    );
    for (const [era, event] of [
      ['2025-11-25', mcpEvent(analyst, RULED_CALL)],
      ['2026-07-28', modernMcpEvent(analyst, RULED_CALL)],
    ] as const) {
      for (const [entry, which] of [
        [ruled, 'with rules'],
        [unruled, 'without rules'],
      ] as const) {
        const result = await quietly(() => entry(event));
        if (!JSON.stringify(answerOf(result.body)?.result ?? null).includes(RULED_CALL_ANSWERED)) {
          throw new Error(`bench: the ruled call (${era}, ${which}) failed: ${result.body}`);
        }
      }
      const [withRules, withoutRules] = await quietly(() =>
        measureAlternating(
          () => ruled(event),
          () => unruled(event),
          { ...options, block: 100 },
        ),
      );
      cases.push(
        { name: `${RULED_CASE_PREFIX}, ${era}, argument rules (Cedar)`, ...withRules },
        { name: `${RULED_CASE_PREFIX}, ${era}, same modules without rules`, ...withoutRules },
      );
    }
    const rules = createRules(MODULES, { logger });
    const call = new CallRecord(
      { kind: 'tool', requested: RULED_CALL.params.name, args: RULED_CALL.params.arguments },
      'modern',
      undefined,
    );
    call.item = findItem(POLICY, 'tool', RULED_CALL.params.name);
    if ((await rules.judge(call, analyst)) !== undefined || call.rules?.verdict !== 'allow') {
      throw new Error('bench: the rules did not allow the ruled call');
    }
    await run(RULE_DECISION_CASE, () => rules.judge(call, analyst));
    // The same 2026-07-28 call counted by a per-caller quota, as the deployed quota gate counts
    // it (one conditional UpdateItem, here on dynalite, before the tool runs), beside the call
    // without, in alternating blocks. The limit is out of reach: every timed call is admitted.
    const counted = mcpEntry(modules, logger, await benchQuotaGate(dynamo));
    await expectAnswered(counted, modernCall, {
      what: 'tools/call (2026-07-28, quota counted)',
      expected: GET_RECORD_FOUND,
      framing: 'application/json',
    });
    const [uncounted, quota] = await quietly(() =>
      measureAlternating(
        () => mcp(modernCall),
        () => counted(modernCall),
        { ...options, block: 100 },
      ),
    );
    cases.push(
      { name: 'MCP handler, tools/call get_record, 2026-07-28, no quota', ...uncounted },
      { name: 'MCP handler, tools/call get_record, 2026-07-28, quota counted', ...quota },
    );
  } finally {
    await dynamo.stop();
  }

  return { cases, apiKeyCostRatio, jwtVsVerifySync: jwt.opsPerSecond / floor.opsPerSecond };
}
