import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { z } from 'zod';
import {
  type ToolContext,
  type ToolDefinition,
  ToolInputError,
} from '../../../../lambda/mcp/module-kit';
import type { Principal } from '../../../../lambda/shared/principal';
import { customerRecords, LOCAL_SEEDED_AT } from '../../../../modules/customer-records/module';
import {
  type CustomerFields,
  type CustomerRecord,
  customerRecordSchema,
  type RecordStore,
} from '../../../../modules/customer-records/store/customer-record';
import { sampleRecords } from '../../../../modules/customer-records/store/sample-records';
import {
  type CustomerRecordsDeps,
  deleteRecord,
  getRecord,
  MAX_PAGE_SIZE,
  MAX_REPORT_RECORDS,
  putRecord,
  queryCustomerData,
  runReport,
} from '../../../../modules/customer-records/tools';
import { useLocalRecordStore } from '../../../support/local-record-store';

/** When the module's local hook seeded the table. */
const SEEDED_AT = LOCAL_SEEDED_AT.toISOString();
const SAMPLES = sampleRecords();

const admin: Principal = {
  principalId: 'tools-test',
  authMethod: 'cognito',
  groups: ['admin'],
  scopes: [],
  keyId: '',
};

let store: RecordStore;
const records = useLocalRecordStore();

beforeAll(() => {
  store = records.store;
});

interface ContextOptions {
  readonly now?: Date;
  readonly store?: RecordStore;
  readonly progress?: ToolContext<CustomerRecordsDeps>['progress'];
}

/** What the server hands a tool: its module's deps, the caller, the clock, the request. */
function contextWith(options: ContextOptions = {}): ToolContext<CustomerRecordsDeps> {
  const now = options.now ?? new Date('2026-02-01T00:00:00.000Z');
  return {
    deps: { store: options.store ?? store },
    principal: admin,
    now: () => now,
    requestId: 'req-tools-test',
    signal: new AbortController().signal,
    progress: options.progress ?? (async () => undefined),
  };
}

const contextAt = (now: Date) => contextWith({ now });

/** Run a tool as the server does: input parsed by its schema, output checked by its schema. */
async function call(
  tool: ToolDefinition<CustomerRecordsDeps, z.ZodObject, z.ZodObject>,
  args: Record<string, unknown>,
  context: ToolContext<CustomerRecordsDeps> = contextWith(),
) {
  return tool.output.parse(await tool.run(tool.input.parse(args), context));
}

const recordsOf = (output: Record<string, unknown>) =>
  customerRecordSchema.array().parse(output.records);

const ids = (records: readonly { id: string }[]) => records.map((record) => record.id).sort();

/** Remove a record this test created, so every test sees the seeded table. */
function removeAfterTest(id: string) {
  onTestFinished(async () => {
    await store.delete(id);
  });
}

const newCustomer: CustomerFields = {
  name: 'Zora Test',
  email: 'zora.test@example.com',
  country: 'DE',
  segment: 'business',
  status: 'active',
  balance: 1234.56,
};

describe('get_record', () => {
  it('returns the record when the id exists', async () => {
    // Prepare
    const sample = SAMPLES.find((record) => record.id === 'cust-0007');

    // Act
    const output = await call(getRecord, { id: 'cust-0007' });

    // Assess
    expect(output).toEqual({
      found: true,
      record: { ...sample?.fields, id: 'cust-0007', createdAt: SEEDED_AT, updatedAt: SEEDED_AT },
    });
  });

  it('reports found false and no record when the id does not exist', async () => {
    // Act
    const output = await call(getRecord, { id: 'cust-9999' });

    // Assess
    expect(output).toEqual({ found: false });
  });
});

describe('query_customer_data', () => {
  const matching = (keep: (fields: CustomerFields) => boolean) =>
    SAMPLES.filter((sample) => keep(sample.fields))
      .map((sample) => sample.id)
      .sort();

  it.each<[string, Record<string, unknown>, (fields: CustomerFields) => boolean]>([
    ['segment', { segment: 'enterprise' }, (f) => f.segment === 'enterprise'],
    ['status', { status: 'suspended' }, (f) => f.status === 'suspended'],
    ['country', { country: 'JP' }, (f) => f.country === 'JP'],
    [
      'balance range',
      { min_balance: 50_000, max_balance: 150_000 },
      (f) => f.balance >= 50_000 && f.balance <= 150_000,
    ],
    ['name prefix', { name_prefix: 'Chen ' }, (f) => f.name.startsWith('Chen ')],
    [
      'segment and status together',
      { segment: 'retail', status: 'active' },
      (f) => f.segment === 'retail' && f.status === 'active',
    ],
  ])('returns exactly the records matching the %s filter', async (_label, filter, keep) => {
    // Prepare
    const expected = matching(keep);

    // Act
    const output = await call(queryCustomerData, { ...filter, limit: MAX_PAGE_SIZE });

    // Assess
    expect(expected.length).toBeGreaterThan(0);
    expect(ids(recordsOf(output))).toEqual(expected);
  });

  it('matches the name prefix case-sensitively', async () => {
    // Act
    const output = await call(queryCustomerData, { name_prefix: 'chen', limit: MAX_PAGE_SIZE });

    // Assess
    expect(recordsOf(output)).toEqual([]);
  });

  it('rejects a limit of 51 at the schema', () => {
    // Act
    const parsed = queryCustomerData.input.safeParse({ limit: MAX_PAGE_SIZE + 1 });

    // Assess
    expect(parsed.success).toBe(false);
  });

  it('accepts a limit of 50', () => {
    // Act
    const parsed = queryCustomerData.input.safeParse({ limit: MAX_PAGE_SIZE });

    // Assess
    expect(parsed.success).toBe(true);
  });

  it('returns at most limit records, with a next_cursor when more match', async () => {
    // Act
    const output = await call(queryCustomerData, { limit: 5 });

    // Assess
    expect(recordsOf(output)).toHaveLength(5);
    expect(output.count).toBe(5);
    expect(output.next_cursor).toEqual(expect.any(String));
  });

  it.each<[string, Record<string, unknown>, (fields: CustomerFields) => boolean, number]>([
    ['no filter', {}, () => true, 7],
    ['a segment filter', { segment: 'business' }, (f) => f.segment === 'business', 3],
    ['a page size that divides the matches', {}, () => true, 8],
  ])(
    'visits every matching record exactly once when following next_cursor with %s',
    async (_label, filter, keep, limit) => {
      // Prepare
      const expected = matching(keep);
      const seen: CustomerRecord[] = [];
      let cursor: string | undefined;

      // Act
      for (let page = 0; page <= SAMPLES.length; page++) {
        const output = await call(queryCustomerData, { ...filter, limit, cursor });
        seen.push(...recordsOf(output));
        cursor = z.string().optional().parse(output.next_cursor);
        if (cursor === undefined) break;
      }

      // Assess
      expect(cursor).toBeUndefined();
      expect(seen).toHaveLength(expected.length);
      expect(ids(seen)).toEqual(expected);
    },
  );

  it.each<[string, Record<string, unknown>, (id: string) => boolean]>([
    ['a name filter', { name_prefix: 'Bulk ' }, (id) => id.startsWith('bulk-')],
    ['no filter', {}, () => true],
  ])(
    'visits every match exactly once when the table spans several Scan pages, with %s',
    async (_label, filter, keep) => {
      // Prepare: more records than one Scan request evaluates (100).
      const bulk = Array.from({ length: 130 }, (_, i) => `bulk-${String(i).padStart(3, '0')}`);
      onTestFinished(async () => {
        for (const id of bulk) await store.delete(id);
      });
      for (const id of bulk) {
        await store.put(id, { ...newCustomer, name: `Bulk ${id}` }, new Date(SEEDED_AT));
      }
      const expected = [...SAMPLES.map((sample) => sample.id), ...bulk].filter(keep).sort();
      const seen: CustomerRecord[] = [];
      let cursor: string | undefined;

      // Act
      for (let page = 0; page <= expected.length; page++) {
        const output = await call(queryCustomerData, { ...filter, limit: MAX_PAGE_SIZE, cursor });
        seen.push(...recordsOf(output));
        cursor = z.string().optional().parse(output.next_cursor);
        if (cursor === undefined) break;
      }

      // Assess
      expect(cursor).toBeUndefined();
      expect(seen).toHaveLength(expected.length);
      expect(ids(seen)).toEqual(expected);
    },
  );

  it.each([
    ['garbage', 'not-a-cursor!!'],
    [
      'a cursor with an extra key',
      Buffer.from('{"id":"cust-0001","role":"admin"}').toString('base64url'),
    ],
    ['a cursor with an id no record can have', Buffer.from('{"id":"../x"}').toString('base64url')],
    ['a cursor that is JSON but no object', Buffer.from('"cust-0001"').toString('base64url')],
  ])('rejects %s as a ToolInputError', async (_label, cursor) => {
    // Act
    const query = call(queryCustomerData, { cursor });

    // Assess
    await expect(query).rejects.toBeInstanceOf(ToolInputError);
  });

  it('rejects min_balance above max_balance as a ToolInputError', async () => {
    // Act
    const query = call(queryCustomerData, { min_balance: 200, max_balance: 100 });

    // Assess
    await expect(query).rejects.toBeInstanceOf(ToolInputError);
  });
});

describe('put_record', () => {
  it('creates a record with a generated id when none is given', async () => {
    // Act
    const output = await call(putRecord, { ...newCustomer });
    const record = customerRecordSchema.parse(output.record);
    removeAfterTest(record.id);

    // Assess
    expect(output.created).toBe(true);
    expect(record.id).toMatch(
      /^cust-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
    );
  });

  it('stores the record it reports as created', async () => {
    // Act
    const output = await call(putRecord, { ...newCustomer });
    const record = customerRecordSchema.parse(output.record);
    removeAfterTest(record.id);

    // Assess
    expect(await store.get(record.id)).toEqual(record);
  });

  it('replaces an existing record, keeping its createdAt', async () => {
    // Prepare
    const id = 'tools-test-replace';
    removeAfterTest(id);
    const created = new Date('2026-03-01T10:00:00.000Z');
    const replaced = new Date('2026-03-02T11:30:00.000Z');
    await call(putRecord, { id, ...newCustomer }, contextAt(created));

    // Act
    const output = await call(
      putRecord,
      { id, ...newCustomer, status: 'closed', balance: 0 },
      contextAt(replaced),
    );

    // Assess
    expect(output).toEqual({
      created: false,
      record: {
        id,
        ...newCustomer,
        status: 'closed',
        balance: 0,
        createdAt: created.toISOString(),
        updatedAt: replaced.toISOString(),
      },
    });
    expect(await store.get(id)).toEqual(output.record);
  });
});

describe('delete_record', () => {
  it('reports deleted true and removes an existing record', async () => {
    // Prepare
    const id = 'tools-test-delete';
    removeAfterTest(id);
    await call(putRecord, { id, ...newCustomer });

    // Act
    const output = await call(deleteRecord, { id });

    // Assess
    expect(output).toEqual({ deleted: true, id });
    expect(await store.get(id)).toBeUndefined();
  });

  it('reports deleted false when deleting the same record a second time', async () => {
    // Prepare
    const id = 'tools-test-delete-twice';
    removeAfterTest(id);
    await call(putRecord, { id, ...newCustomer });
    await call(deleteRecord, { id });

    // Act
    const output = await call(deleteRecord, { id });

    // Assess
    expect(output).toEqual({ deleted: false, id });
  });
});

describe('DynamoRecordStore.scan', () => {
  it('reads no more of the table than asked, even when nothing matches the filter', async () => {
    // Act
    const result = await store.scan({ namePrefix: 'Zzz-no-such-name' }, 10);

    // Assess: stopped after 10 of the 40 records, and says the table holds more
    expect(result).toEqual({ records: [], truncated: true });
  });

  it('reports no truncation when it read the whole table', async () => {
    const result = await store.scan({}, 10_000);
    expect(result.truncated).toBe(false);
    expect(result.records.length).toBeGreaterThanOrEqual(SAMPLES.length);
  });
});

describe('run_report', () => {
  const groupsOf = (output: Record<string, unknown>) =>
    z
      .array(
        z.object({
          key: z.string(),
          count: z.number(),
          total_balance: z.number(),
          min_balance: z.number(),
          max_balance: z.number(),
        }),
      )
      .parse(output.groups);

  /** Per segment: count and total in whole cents, from the sample data itself. */
  function expectedBySegment() {
    const bySegment = new Map<string, { count: number; cents: number }>();
    for (const { fields } of SAMPLES) {
      const group = bySegment.get(fields.segment) ?? { count: 0, cents: 0 };
      group.count++;
      group.cents += Math.round(fields.balance * 100);
      bySegment.set(fields.segment, group);
    }
    return bySegment;
  }

  it('reports every record once: the segment counts sum to the number of records', async () => {
    // Act
    const output = await call(runReport, { group_by: 'segment' });

    // Assess
    const counted = groupsOf(output).reduce((sum, group) => sum + group.count, 0);
    expect(counted).toBe(SAMPLES.length);
    expect(output.record_count).toBe(SAMPLES.length);
    expect(output.truncated).toBe(false);
  });

  it('gives each segment the count and total balance of the sample data', async () => {
    // Prepare
    const expected = expectedBySegment();

    // Act
    const output = await call(runReport, { group_by: 'segment' });

    // Assess
    const groups = groupsOf(output);
    expect(groups.map((group) => group.key)).toEqual([...expected.keys()].sort());
    for (const group of groups) {
      const want = expected.get(group.key);
      expect(group.count).toBe(want?.count);
      expect(group.total_balance).toBeCloseTo((want?.cents ?? Number.NaN) / 100, 2);
    }
  });

  it('gives each segment the smallest and largest balance of the sample data', async () => {
    // Act
    const output = await call(runReport, { group_by: 'segment' });

    // Assess
    for (const group of groupsOf(output)) {
      const balances = SAMPLES.filter((s) => s.fields.segment === group.key).map(
        (s) => s.fields.balance,
      );
      expect(group.min_balance).toBe(Math.min(...balances));
      expect(group.max_balance).toBe(Math.max(...balances));
    }
  });

  it('applies its filters before aggregating', async () => {
    // Act
    const output = await call(runReport, { group_by: 'status', country: 'DE' });

    // Assess
    expect(output.record_count).toBe(SAMPLES.filter((s) => s.fields.country === 'DE').length);
  });
});

describe('the permission each tool needs', () => {
  it.each([
    { tool: getRecord, permission: 'read_data' },
    { tool: queryCustomerData, permission: 'read_data' },
    { tool: putRecord, permission: 'write_data' },
    { tool: deleteRecord, permission: 'delete_data' },
    { tool: runReport, permission: 'run_reports' },
  ])('makes $tool.name need $permission', ({ tool, permission }) => {
    expect(tool.permission).toBe(permission);
  });

  it('lists exactly these five tools in the module', () => {
    expect(customerRecords.tools?.map((tool) => tool.name)).toEqual([
      'get_record',
      'query_customer_data',
      'put_record',
      'delete_record',
      'run_report',
    ]);
  });

  it('declares every permission its tools need', () => {
    // Act
    const needed = new Set(customerRecords.tools?.map((tool) => tool.permission));

    // Assess
    expect([...needed].filter((p) => !Object.hasOwn(customerRecords.permissions, p))).toEqual([]);
  });
});

describe('run_report progress', () => {
  it('reports the records read so far, out of the most one report reads', async () => {
    // Prepare
    const updates: unknown[] = [];
    const context = contextWith({
      progress: async (update) => {
        updates.push(update);
      },
    });

    // Act
    await call(runReport, {}, context);

    // Assess
    expect(updates).toEqual([
      {
        progress: SAMPLES.length,
        total: MAX_REPORT_RECORDS,
        message: `Read ${SAMPLES.length} record(s)`,
      },
    ]);
  });

  it('reports once per batch the store reads, in order', async () => {
    // Prepare
    const batches: RecordStore = {
      get: (id) => store.get(id),
      put: (id, fields, now) => store.put(id, fields, now),
      delete: (id) => store.delete(id),
      query: (filter, limit, cursor) => store.query(filter, limit, cursor),
      scan: async (filter, max, onProgress) => {
        for (const read of [1000, 2000, 2500]) await onProgress?.(read);
        return store.scan(filter, max);
      },
    };
    const progressed: number[] = [];
    const context = contextWith({
      store: batches,
      progress: async ({ progress }) => {
        progressed.push(progress);
      },
    });

    // Act
    await call(runReport, {}, context);

    // Assess
    expect(progressed).toEqual([1000, 2000, 2500]);
  });
});

describe('DynamoRecordStore.scan progress', () => {
  it('tells how many records it has read after each batch', async () => {
    // Prepare
    const heard: number[] = [];

    // Act
    await store.scan({}, 10, async (read) => {
      heard.push(read);
    });

    // Assess
    expect(heard).toEqual([10]);
  });
});
