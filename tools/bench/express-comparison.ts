/**
 * Warm tools/call in process: our MCP handler against the Express baseline
 * (`express-baseline.ts`), both answering the same API Gateway event with the same registry,
 * store and logger, timed in alternating blocks of calls so machine noise favours neither.
 *
 * Two wirings of the store: dynalite on loopback (as the warm path: the DynamoDB round trip is
 * in every call) and the same record served from memory, which leaves only the two designs'
 * own work to compare.
 */
import { createMcpHandler } from '../../lambda/mcp/handler';
import type { CustomerRecord, RecordStore } from '../../lambda/mcp/store/customer-record';
import { CUSTOMER_TOOLS, createRegistry } from '../../lambda/mcp/tools/registry';
import { createLogger } from '../../lambda/shared/logger';
import { startLocalDynamo } from '../local-dynamo';
import { benchAnalyst, GET_RECORD_CALL, GET_RECORD_FOUND, mcpEvent } from './events';
import { createExpressMcpHandler } from './express-baseline';
import { quietly } from './quietly';
import { type AlternatingOptions, type Measurement, measureAlternating } from './stats';

export interface DesignComparison {
  /** How the record store was wired. */
  readonly store: 'dynalite' | 'memory';
  readonly ours: Measurement;
  readonly express: Measurement;
  /** ours ops/s ÷ Express ops/s. */
  readonly ratio: number;
}

/**
 * The JSON-RPC `result` of a successful get_record answer; throws with what came back
 * otherwise. Both designs are checked to succeed, identically, before anything is timed.
 */
export function toolCallResult(response: { statusCode: number; body: string }): unknown {
  if (response.statusCode !== 200 || !response.body.includes(GET_RECORD_FOUND)) {
    throw new Error(`bench: tools/call did not succeed: ${response.statusCode} ${response.body}`);
  }
  return (JSON.parse(response.body) as { result: unknown }).result;
}

/** The given records from memory: all a get_record call needs, and nothing else. */
export function memoryStore(records: readonly CustomerRecord[]): RecordStore {
  const byId = new Map(records.map((record) => [record.id, record]));
  const unused = async (): Promise<never> => {
    throw new Error('bench: the memory store serves get_record only');
  };
  return {
    get: async (id) => byId.get(id),
    put: unused,
    delete: unused,
    query: unused,
    scan: unused,
  };
}

/** Both designs over one store, answering the bench's tools/call the same way. */
export function buildDesigns(store: RecordStore) {
  const deps = { registry: createRegistry(CUSTOMER_TOOLS), store, logger: createLogger('bench') };
  return {
    ours: createMcpHandler({ ...deps, config: { allowedOrigins: [], maxBodyBytes: 1 << 20 } }),
    express: createExpressMcpHandler(deps),
  };
}

async function compareOn(
  store: DesignComparison['store'],
  recordStore: RecordStore,
  options: AlternatingOptions,
): Promise<DesignComparison> {
  const designs = buildDesigns(recordStore);
  const call = mcpEvent(benchAnalyst(), GET_RECORD_CALL);
  const [a, b] = await quietly(() => Promise.all([designs.ours(call), designs.express(call)]));
  if (JSON.stringify(toolCallResult(a)) !== JSON.stringify(toolCallResult(b))) {
    throw new Error(`bench: the two designs answered differently:\n${a.body}\n${b.body}`);
  }
  const [ours, express] = await quietly(() =>
    measureAlternating(
      () => designs.ours(call),
      () => designs.express(call),
      options,
    ),
  );
  return { store, ours, express, ratio: ours.opsPerSecond / express.opsPerSecond };
}

/** The comparison with dynalite in the path, then with the record in memory. */
export async function compareWithExpress(
  options: AlternatingOptions,
): Promise<readonly DesignComparison[]> {
  const dynamo = await startLocalDynamo();
  try {
    const record = await dynamo.store.get(GET_RECORD_CALL.params.arguments.id);
    if (record === undefined) throw new Error('bench: the seeded record is missing');
    return [
      await compareOn('dynalite', dynamo.store, options),
      await compareOn('memory', memoryStore([record]), options),
    ];
  } finally {
    await dynamo.stop();
  }
}
