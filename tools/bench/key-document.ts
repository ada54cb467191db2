/**
 * What the API-key document costs the request path, at 300 and 10,000 keys: the work a reload
 * does (parse + index the texts, ~20 µs per key), and what a request pays when the document
 * falls due — before this change, that whole reload on whichever request found the TTL out;
 * now a request in the refresh window is answered from the fresh index while the reload runs in
 * the background, and a reload of unchanged texts keeps the index.
 */
import { ApiKeyStore, buildIndex } from '../../lambda/authorizer/api-key-store';
import { type ParsedApiKey, parseApiKey, parseApiKeyDocument } from '../../lambda/shared/api-key';
import { percentile } from './stats';
import { documentWith } from './warm-path';

export interface KeyDocumentCase {
  readonly keys: number;
  /** Parse + index of the document: the reload's own work, median ms. */
  readonly parseAndIndexMs: number;
  /** A verify that finds the index in its refresh window: median ms on the request path. */
  readonly dueVerifyMs: number;
  /** A verify after the TTL, the document unchanged: median ms (the fetch is in memory here). */
  readonly expiredUnchangedVerifyMs: number;
}

/** Timed repetitions per figure: the median is shown. */
const REPEATS = 7;
const TTL_MS = 60_000;

const msOf = async (fn: () => unknown) => {
  const started = performance.now();
  await fn();
  return performance.now() - started;
};

async function caseFor(keys: number): Promise<KeyDocumentCase> {
  const { document, key } = documentWith(keys);
  const text = JSON.stringify(document);
  const presented = parseApiKey(key) as ParsedApiKey;
  const parse: number[] = [];
  const due: number[] = [];
  const expired: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    parse.push(await msOf(() => buildIndex(parseApiKeyDocument(text))));
    let now = 0;
    const store = new ApiKeyStore({
      source: { load: async () => ({ current: text }) },
      ttlMs: TTL_MS,
      minRefreshMs: 1_000,
      refreshAheadMs: TTL_MS / 5,
      now: () => now,
    });
    await store.warm();
    now = TTL_MS - 1;
    due.push(await msOf(() => store.verify(presented)));
    // Let the background reload finish, then let its TTL run out with the texts unchanged.
    await new Promise((resolve) => setImmediate(resolve));
    now += TTL_MS;
    expired.push(await msOf(() => store.verify(presented)));
  }
  return {
    keys,
    parseAndIndexMs: percentile(parse, 50),
    dueVerifyMs: percentile(due, 50),
    expiredUnchangedVerifyMs: percentile(expired, 50),
  };
}

export async function runKeyDocument(sizes: readonly number[] = [300, 10_000]) {
  const cases: KeyDocumentCase[] = [];
  for (const keys of sizes) cases.push(await caseFor(keys));
  return cases;
}
