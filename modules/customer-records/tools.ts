/**
 * The example tools over customer records. Each names the permission it needs; the server
 * checks it before any of this code runs.
 */
import { randomUUID } from 'node:crypto';
import * as z from 'zod';
import { moduleKit, ToolInputError } from '#module-kit';
import {
  customerFieldsSchema,
  customerRecordSchema,
  InvalidCursorError,
  type RecordFilter,
  type RecordStore,
  recordIdSchema,
  SEGMENTS,
  STATUSES,
} from './store/customer-record';

/** What the tools work with: built once per Lambda instance by the module. */
export interface CustomerRecordsDeps {
  readonly store: RecordStore;
}

export const define = moduleKit<CustomerRecordsDeps>();

/** Largest page `query_customer_data` returns. */
export const MAX_PAGE_SIZE = 50;
/** Most table records one report reads; larger tables report `truncated: true`. */
export const MAX_REPORT_RECORDS = 10_000;

export const getRecord = define.tool({
  name: 'get_record',
  permission: 'read_data',
  title: 'Get customer record',
  description: 'Fetch one customer record by id.',
  annotations: { readOnlyHint: true, openWorldHint: false },
  input: z.strictObject({ id: recordIdSchema.describe('Record id, e.g. cust-0001') }),
  output: z.object({ found: z.boolean(), record: customerRecordSchema.optional() }),
  async run({ id }, { deps: { store } }) {
    const record = await store.get(id);
    return record === undefined ? { found: false } : { found: true, record };
  },
  summarize: (out) =>
    out.record === undefined
      ? 'No record with that id.'
      : `${out.record.id}: ${out.record.name} (${out.record.segment}, ${out.record.status}, ${out.record.country}), balance ${out.record.balance}`,
});

const filterShape = {
  segment: z.enum(SEGMENTS).optional(),
  status: z.enum(STATUSES).optional(),
  country: z
    .string()
    .regex(/^[A-Z]{2}$/, 'an ISO 3166-1 alpha-2 code')
    .optional(),
  min_balance: z.number().finite().optional(),
  max_balance: z.number().finite().optional(),
  name_prefix: z.string().min(1).max(100).optional(),
};

function toFilter(input: {
  segment?: RecordFilter['segment'];
  status?: RecordFilter['status'];
  country?: string | undefined;
  min_balance?: number | undefined;
  max_balance?: number | undefined;
  name_prefix?: string | undefined;
}): RecordFilter {
  return {
    segment: input.segment,
    status: input.status,
    country: input.country,
    minBalance: input.min_balance,
    maxBalance: input.max_balance,
    namePrefix: input.name_prefix,
  };
}

export const queryCustomerData = define.tool({
  name: 'query_customer_data',
  permission: 'read_data',
  title: 'Query customer data',
  description: `List customer records matching all given filters, ${MAX_PAGE_SIZE} at most per page; pass next_cursor back to get the next page.`,
  annotations: { readOnlyHint: true, openWorldHint: false },
  input: z.strictObject({
    ...filterShape,
    limit: z.number().int().min(1).max(MAX_PAGE_SIZE).default(10),
    cursor: z.string().min(1).max(512).optional().describe('next_cursor of the previous page'),
  }),
  output: z.object({
    records: z.array(customerRecordSchema),
    count: z.number().int(),
    next_cursor: z.string().optional(),
  }),
  async run(input, { deps: { store } }) {
    if (
      input.min_balance !== undefined &&
      input.max_balance !== undefined &&
      input.min_balance > input.max_balance
    ) {
      throw new ToolInputError('min_balance must not exceed max_balance');
    }
    try {
      const page = await store.query(toFilter(input), input.limit, input.cursor);
      return { records: page.records, count: page.records.length, next_cursor: page.nextCursor };
    } catch (error) {
      if (error instanceof InvalidCursorError) throw new ToolInputError(error.message);
      throw error;
    }
  },
  summarize: (out) =>
    [
      `${out.count} record(s)${out.next_cursor === undefined ? '' : ' (more available: pass next_cursor)'}`,
      ...out.records.map(
        (r) =>
          `- ${r.id}: ${r.name} (${r.segment}, ${r.status}, ${r.country}), balance ${r.balance}`,
      ),
    ].join('\n'),
});

export const putRecord = define.tool({
  name: 'put_record',
  permission: 'write_data',
  title: 'Create or replace customer record',
  description: 'Create a customer record, or replace the one with the given id.',
  annotations: {
    readOnlyHint: false,
    destructiveHint: true,
    idempotentHint: true,
    openWorldHint: false,
  },
  // A replace overwrites, but creating and correcting records is the write role's daily work,
  // and the record can be written back; deleting is the one that needs a person's approval.
  approval: false,
  input: z.strictObject({
    id: recordIdSchema.optional().describe('Omit to create a new record with a generated id'),
    ...customerFieldsSchema.shape,
  }),
  output: z.object({ created: z.boolean(), record: customerRecordSchema }),
  async run({ id, ...fields }, { deps: { store }, now }) {
    return store.put(id ?? `cust-${randomUUID()}`, fields, now());
  },
  summarize: (out) =>
    `${out.created ? 'Created' : 'Replaced'} ${out.record.id} (${out.record.name}).`,
});

export const deleteRecord = define.tool({
  name: 'delete_record',
  permission: 'delete_data',
  title: 'Delete customer record',
  description: 'Delete one customer record by id.',
  annotations: {
    readOnlyHint: false,
    destructiveHint: true,
    idempotentHint: true,
    openWorldHint: false,
  },
  input: z.strictObject({ id: recordIdSchema }),
  output: z.object({ deleted: z.boolean(), id: z.string() }),
  async run({ id }, { deps: { store } }) {
    const deleted = await store.delete(id);
    return { deleted: deleted !== undefined, id };
  },
  summarize: (out) =>
    out.deleted ? `Deleted ${out.id}.` : `No record ${out.id}; nothing deleted.`,
});

const GROUP_BY = ['segment', 'status', 'country'] as const;

export const runReport = define.tool({
  name: 'run_report',
  permission: 'run_reports',
  title: 'Run customer report',
  description:
    'Aggregate customer records (optionally filtered) by segment, status or country: count, total, average, minimum and maximum balance per group.',
  annotations: { readOnlyHint: true, openWorldHint: false },
  input: z.strictObject({
    group_by: z.enum(GROUP_BY).default('segment'),
    ...filterShape,
  }),
  output: z.object({
    group_by: z.enum(GROUP_BY),
    groups: z.array(
      z.object({
        key: z.string(),
        count: z.number().int(),
        total_balance: z.number(),
        average_balance: z.number(),
        min_balance: z.number(),
        max_balance: z.number(),
      }),
    ),
    record_count: z.number().int(),
    truncated: z.boolean(),
  }),
  async run(input, { deps: { store }, progress }) {
    const groups = new Map<string, { count: number; total: number; min: number; max: number }>();
    // Progress per batch read: a client that sent a progress token sees the report move.
    const { records, truncated } = await store.scan(toFilter(input), MAX_REPORT_RECORDS, (read) =>
      progress({
        progress: read,
        total: MAX_REPORT_RECORDS,
        message: `Read ${read} record(s)`,
      }),
    );
    for (const record of records) {
      const key = record[input.group_by];
      const group = groups.get(key) ?? { count: 0, total: 0, min: Infinity, max: -Infinity };
      group.count++;
      group.total += record.balance;
      group.min = Math.min(group.min, record.balance);
      group.max = Math.max(group.max, record.balance);
      groups.set(key, group);
    }
    return summarizeGroups(input.group_by, groups, records.length, truncated);
  },
  summarize: (out) =>
    [
      `${out.record_count} record(s) by ${out.group_by}${out.truncated ? ` (from the first ${MAX_REPORT_RECORDS} records of the table only)` : ''}:`,
      ...out.groups.map(
        (g) =>
          `- ${g.key}: ${g.count} record(s), total ${g.total_balance}, average ${g.average_balance}`,
      ),
    ].join('\n'),
});

const cents = (value: number) => Math.round(value * 100) / 100;

function summarizeGroups(
  groupBy: (typeof GROUP_BY)[number],
  groups: Map<string, { count: number; total: number; min: number; max: number }>,
  recordCount: number,
  truncated: boolean,
) {
  return {
    group_by: groupBy,
    groups: [...groups.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, g]) => ({
        key,
        count: g.count,
        total_balance: cents(g.total),
        average_balance: cents(g.total / g.count),
        min_balance: g.min,
        max_balance: g.max,
      })),
    record_count: recordCount,
    truncated,
  };
}
