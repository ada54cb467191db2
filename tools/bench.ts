/**
 * Benchmarks of the request path, in process (no network): `npm run bench`.
 *
 * The API-key check must cost the same with 1 key or 10,000: it is a Map lookup by key id and
 * one constant-time digest comparison, never a scan. Figures vary with the machine; compare
 * ratios from one run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { ApiKeyStore } from '../lambda/authorizer/api-key-store';
import { createCognitoVerifier } from '../lambda/authorizer/cognito';
import { createAuthorizerHandler } from '../lambda/authorizer/handler';
import {
  type ApiKeyDocument,
  emptyApiKeyDocument,
  formatApiKey,
  generateKeyId,
  generateSecret,
  hashApiKey,
  parseApiKey,
} from '../lambda/shared/api-key';
import { createLogger } from '../lambda/shared/logger';
import {
  LOCAL_CLIENT_ID,
  LOCAL_SCOPE,
  LOCAL_USER_POOL_ID,
  loadSigningKey,
  localJwksCache,
  mintAccessToken,
} from './local-identity';

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 20_000);
const ROUNDS = 5;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

/** Run `fn` ITERATIONS times after a warm-up; ops per second. Logs are swallowed meanwhile. */
async function measure(fn: () => Promise<unknown>): Promise<number> {
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  process.stdout.write = (() => true) as typeof process.stdout.write;
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    for (let i = 0; i < Math.min(1000, ITERATIONS); i++) await fn();
    const started = process.hrtime.bigint();
    for (let i = 0; i < ITERATIONS; i++) await fn();
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    return ITERATIONS / seconds;
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}

/** A document of `count` hashed keys (built directly: addKey re-validates the whole document). */
function documentWith(count: number): { document: ApiKeyDocument; key: string } {
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

function authorizerEvent(credential: string): APIGatewayRequestAuthorizerEvent {
  return {
    type: 'REQUEST',
    methodArn: 'arn:aws:execute-api:us-east-1:123456789012:api/prod/POST/mcp',
    headers: { Authorization: `Bearer ${credential}` },
    requestContext: { requestId: 'bench', identity: { sourceIp: '127.0.0.1' } },
  } as unknown as APIGatewayRequestAuthorizerEvent;
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'mcp-bench-'));
  try {
    const rows: [string, number][] = [];
    // Alternate the two sizes over several rounds and keep the median, so JIT warm-up and
    // machine noise do not favour whichever runs second.
    const sizes = [1, 10_000];
    const cases = await Promise.all(
      sizes.map(async (count) => {
        const { document, key } = documentWith(count);
        const store = storeFor(document);
        await store.warm();
        const parsed = parseApiKey(key);
        if (parsed === undefined) throw new Error('bench key did not parse');
        return { count, run: () => store.verify(parsed), samples: [] as number[] };
      }),
    );
    for (let round = 0; round < ROUNDS; round++) {
      for (const c of cases) c.samples.push(await measure(c.run));
    }
    for (const c of cases)
      rows.push([`ApiKeyStore.verify, ${c.count} key(s), median of ${ROUNDS}`, median(c.samples)]);

    const signingKey = loadSigningKey(dir);
    const logger = createLogger('bench');
    const verifier = createCognitoVerifier(
      {
        userPoolId: LOCAL_USER_POOL_ID,
        clientIds: [LOCAL_CLIENT_ID],
        requiredScopes: [LOCAL_SCOPE],
      },
      localJwksCache(signingKey),
    );
    for (const count of [1, 10_000]) {
      const { document, key } = documentWith(count);
      const handler = createAuthorizerHandler({ verifier, apiKeys: storeFor(document), logger });
      const event = authorizerEvent(key);
      rows.push([
        `authorizer handler, API key, ${count} key(s)`,
        await measure(() => handler(event)),
      ]);
    }
    const token = mintAccessToken(signingKey, {
      sub: 'bench',
      groups: ['analyst'],
      expiresIn: 3600,
    });
    const jwtHandler = createAuthorizerHandler({
      verifier,
      apiKeys: storeFor(emptyApiKeyDocument()),
      logger,
    });
    const jwtEvent = authorizerEvent(token);
    rows.push([
      'authorizer handler, Cognito access token (RS256)',
      await measure(() => jwtHandler(jwtEvent)),
    ]);

    const width = Math.max(...rows.map(([name]) => name.length));
    process.stdout.write(`node ${process.version}, ${ITERATIONS} iterations each\n`);
    for (const [name, opsPerSecond] of rows) {
      process.stdout.write(
        `${name.padEnd(width)}  ${Math.round(opsPerSecond).toLocaleString('en-US').padStart(10)} ops/s\n`,
      );
    }
    const [one, many] = [rows[0]?.[1] ?? 0, rows[1]?.[1] ?? 0];
    process.stdout.write(`verify cost ratio, 10,000 keys vs 1 key: ${(one / many).toFixed(2)}x\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
