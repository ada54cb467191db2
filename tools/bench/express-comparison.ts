/**
 * Warm tools/call in process: our MCP handler against the Express baseline
 * (`express-baseline.ts`), both answering the same API Gateway event (a 2025-era request: the
 * baseline's SDK 1.x speaks no other) with the same policy, modules, store and logger, timed in
 * alternating blocks of calls so machine noise favours neither.
 *
 * Two wirings of the store: dynalite on loopback (as the warm path: the DynamoDB round trip is
 * in every call) and the same record served from memory, which leaves only the two designs'
 * own work to compare.
 */
import type { LoadedModule } from '../../lambda/mcp/module-loader';
import { createLogger } from '../../lambda/shared/logger';
import { customerRecords } from '../../modules/customer-records/module';
import type {
  CustomerRecord,
  RecordStore,
} from '../../modules/customer-records/store/customer-record';
import type { CustomerRecordsDeps } from '../../modules/customer-records/tools';
import { POLICY } from '../../modules/policy';
import { startLocalDynamo } from '../local/dynamo';
import { answerOf, benchAnalyst, GET_RECORD_CALL, GET_RECORD_FOUND, mcpEvent } from './events';
import { createExpressMcpHandler } from './express-baseline';
import { localModules, mcpEntry } from './mcp-under-test';
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
 * The JSON-RPC `result` of a successful get_record answer, framed either way (our handler and
 * the baseline both answer a 2025-era request in SSE); throws with what came back otherwise.
 * Both designs are checked to succeed, identically, before anything is timed.
 */
export function toolCallResult(response: { statusCode: number; body: string }): unknown {
  const result = answerOf(response.body)?.result;
  if (
    response.statusCode !== 200 ||
    result === undefined ||
    !JSON.stringify(result).includes(GET_RECORD_FOUND)
  ) {
    throw new Error(`bench: tools/call did not succeed: ${response.statusCode} ${response.body}`);
  }
  return result;
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

/** The example module over `store`: what get_record reads, and nothing else changed. */
function recordsOver(store: RecordStore): LoadedModule[] {
  return [{ module: customerRecords, deps: { store } satisfies CustomerRecordsDeps }];
}

/** Both designs over the example module on one store, answering the bench's tools/call. */
export function buildDesigns(store: RecordStore) {
  const modules = recordsOver(store);
  const logger = createLogger('bench');
  return {
    ours: mcpEntry(modules, logger),
    express: createExpressMcpHandler({ policy: POLICY, modules, logger }),
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
    const [records] = await localModules(dynamo, [customerRecords]);
    if (records === undefined) throw new Error('bench: the example module did not load');
    const { store } = records.deps as CustomerRecordsDeps;
    const record = await store.get(GET_RECORD_CALL.params.arguments.id);
    if (record === undefined) throw new Error('bench: the seeded record is missing');
    return [
      await compareOn('dynalite', store, options),
      await compareOn('memory', memoryStore([record]), options),
    ];
  } finally {
    await dynamo.stop();
  }
}
