/**
 * The deployment core tests run against, in place of this project's (`modules/`): a module of
 * the tests' own, its roles, its quota and its policy table. The core (authorizer, MCP handler,
 * gate, policy, constructs) is tested on these, so adding a module, renaming a role or deleting
 * the example module changes no core test; only tests about the deployment itself read
 * `modules/` (the README's role table, the example module's own tests, end-to-end tests of the
 * default stack).
 *
 * Its items, permissions and roles are shaped like a small records app (get_record, read_data,
 * admin, readonly…), as the example module was when the core tests were first written: they
 * keep their readable names, and nothing here reads `modules/`. Its items call a store port
 * (`FixtureStore`, in memory by default) that a test may watch, slow down or break.
 */
import * as z from 'zod';
import { moduleKit, ToolInputError } from '../../lambda/mcp/module-kit';
import { buildPolicyTable } from '../../lambda/shared/policy';
import type { QuotaRule } from '../../lambda/shared/quota';

const SEGMENTS = ['retail', 'business', 'enterprise'] as const;
const STATUSES = ['active', 'suspended', 'closed'] as const;
const recordId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/);
const fieldsSchema = z.object({
  name: z.string().min(1),
  email: z.email(),
  country: z.string().regex(/^[A-Z]{2}$/, 'an ISO 3166-1 alpha-2 code'),
  segment: z.enum(SEGMENTS),
  status: z.enum(STATUSES),
  balance: z.number().finite(),
});
const recordSchema = fieldsSchema.extend({ id: z.string() });

/** A record of the fixture's store. */
export type FixtureRecord = z.infer<typeof recordSchema>;
export type FixtureFields = z.infer<typeof fieldsSchema>;

/** What `query_customer_data` and `run_report` filter on; all optional, combined with AND. */
export interface FixtureFilter {
  readonly segment?: FixtureRecord['segment'] | undefined;
  readonly status?: FixtureRecord['status'] | undefined;
  readonly country?: string | undefined;
  readonly minBalance?: number | undefined;
  readonly maxBalance?: number | undefined;
}

/** The port the fixture's items call: a test may watch it, slow it down or break it. */
export interface FixtureStore {
  get(id: string): Promise<FixtureRecord | undefined>;
  put(
    id: string,
    fields: FixtureFields,
    now: Date,
  ): Promise<{ record: FixtureRecord; created: boolean }>;
  delete(id: string): Promise<FixtureRecord | undefined>;
  query(
    filter: FixtureFilter,
    limit: number,
    cursor?: string,
  ): Promise<{ records: FixtureRecord[]; nextCursor?: string | undefined }>;
  /** Matches among the first `maxRead` records, `onProgress` told after each batch of 10. */
  scan(
    filter: FixtureFilter,
    maxRead: number,
    onProgress?: (read: number) => Promise<void>,
  ): Promise<{ records: FixtureRecord[]; truncated: boolean }>;
}

/** What the fixture's items work with. */
export interface FixtureDeps {
  readonly store: FixtureStore;
}

/** The variable the fixture's infrastructure sets to its table's name. */
export const FIXTURE_TABLE_VARIABLE = 'FIXTURE_TABLE_NAME';

const COUNTRIES = ['DE', 'US', 'FR', 'JP'];

/** `count` records, ids `cust-0001`…, every segment, status and country in turn. */
export function fixtureRecords(count = 40): FixtureRecord[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `cust-${String(i + 1).padStart(4, '0')}`,
    name: `Customer ${i + 1}`,
    email: `customer${i + 1}@example.com`,
    country: COUNTRIES[i % COUNTRIES.length] as string,
    segment: SEGMENTS[i % SEGMENTS.length] as FixtureRecord['segment'],
    status: STATUSES[i % STATUSES.length] as FixtureRecord['status'],
    balance: (i + 1) * 100,
  }));
}

const matches = (filter: FixtureFilter) => (record: FixtureRecord) =>
  (filter.segment === undefined || record.segment === filter.segment) &&
  (filter.status === undefined || record.status === filter.status) &&
  (filter.country === undefined || record.country === filter.country) &&
  (filter.minBalance === undefined || record.balance >= filter.minBalance) &&
  (filter.maxBalance === undefined || record.balance <= filter.maxBalance);

/** The fixture's store in memory, holding {@link fixtureRecords} to begin with. */
export class MemoryFixtureStore implements FixtureStore {
  readonly #records = new Map(fixtureRecords().map((record) => [record.id, record]));

  async get(id: string) {
    return this.#records.get(id);
  }

  async put(id: string, fields: FixtureFields) {
    const created = !this.#records.has(id);
    const record = { id, ...fields };
    this.#records.set(id, record);
    return { record, created };
  }

  async delete(id: string) {
    const record = this.#records.get(id);
    this.#records.delete(id);
    return record;
  }

  async query(filter: FixtureFilter, limit: number, cursor?: string) {
    // A cursor is the offset this store handed out, nothing else.
    const offset =
      cursor === undefined ? 0 : Number(/^o(\d{1,6})$/.exec(cursor)?.[1] ?? Number.NaN);
    if (Number.isNaN(offset)) throw new ToolInputError('cursor: not one this server issued');
    const all = [...this.#records.values()].filter(matches(filter));
    const records = all.slice(offset, offset + limit);
    const next = offset + limit;
    return { records, ...(next < all.length ? { nextCursor: `o${next}` } : {}) };
  }

  async scan(filter: FixtureFilter, maxRead: number, onProgress?: (read: number) => Promise<void>) {
    const read = [...this.#records.values()].slice(0, maxRead);
    for (let done = 10; done < read.length + 10; done += 10) {
      await onProgress?.(Math.min(done, read.length));
    }
    return { records: read.filter(matches(filter)), truncated: this.#records.size > maxRead };
  }
}

const define = moduleKit<FixtureDeps>();

const getRecord = define.tool({
  name: 'get_record',
  title: 'Get record',
  description: 'One record by id.',
  permission: 'read_data',
  annotations: { readOnlyHint: true },
  input: z.strictObject({ id: recordId }),
  output: z.object({ found: z.boolean(), record: recordSchema.optional() }),
  async run({ id }, { deps }) {
    const record = await deps.store.get(id);
    return record === undefined ? { found: false } : { found: true, record };
  },
  summarize: (out) => (out.record === undefined ? 'No such record.' : out.record.id),
});

const queryCustomerData = define.tool({
  name: 'query_customer_data',
  title: 'Query records',
  description: 'Records matching a filter, a page at a time.',
  permission: 'read_data',
  annotations: { readOnlyHint: true },
  input: z.strictObject({
    segment: z.enum(SEGMENTS).optional(),
    status: z.enum(STATUSES).optional(),
    country: fieldsSchema.shape.country.optional(),
    min_balance: z.number().finite().optional(),
    max_balance: z.number().finite().optional(),
    limit: z.number().int().min(1).max(50).default(10),
    cursor: z.string().min(1).max(512).optional(),
  }),
  output: z.object({
    records: z.array(recordSchema),
    count: z.number().int(),
    next_cursor: z.string().optional(),
  }),
  async run(input, { deps }) {
    const { records, nextCursor } = await deps.store.query(
      {
        segment: input.segment,
        status: input.status,
        country: input.country,
        minBalance: input.min_balance,
        maxBalance: input.max_balance,
      },
      input.limit,
      input.cursor,
    );
    return {
      records,
      count: records.length,
      ...(nextCursor === undefined ? {} : { next_cursor: nextCursor }),
    };
  },
  summarize: (out) => `${out.count} records.`,
});

const putRecord = define.tool({
  name: 'put_record',
  title: 'Put record',
  description: 'Create a record, or replace the one with the given id.',
  permission: 'write_data',
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true },
  approval: false,
  input: z.strictObject({ id: recordId.optional(), ...fieldsSchema.shape }),
  output: z.object({ created: z.boolean(), record: recordSchema }),
  async run({ id, ...fields }, { deps, now }) {
    return deps.store.put(
      id ?? `cust-${String(now().getTime() % 10_000).padStart(4, '0')}`,
      fields,
      now(),
    );
  },
  summarize: (out) => `${out.created ? 'Created' : 'Replaced'} ${out.record.id}.`,
});

const deleteRecord = define.tool({
  name: 'delete_record',
  title: 'Delete record',
  description: 'Delete a record.',
  permission: 'delete_data',
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true },
  input: z.strictObject({ id: recordId }),
  output: z.object({ deleted: z.boolean(), id: z.string() }),
  async run({ id }, { deps }) {
    return { deleted: (await deps.store.delete(id)) !== undefined, id };
  },
  summarize: (out) => (out.deleted ? `Deleted ${out.id}.` : 'No such record.'),
});

const runReport = define.tool({
  name: 'run_report',
  title: 'Run report',
  description: 'Records counted by a field.',
  permission: 'run_reports',
  annotations: { readOnlyHint: true },
  input: z.strictObject({
    group_by: z.enum(['segment', 'status', 'country']).default('segment'),
  }),
  output: z.object({ groups: z.record(z.string(), z.number().int()), truncated: z.boolean() }),
  async run({ group_by }, { deps, progress }) {
    const { records, truncated } = await deps.store.scan({}, 10_000, (read) =>
      progress({ progress: read, message: `Read ${read} record(s)` }),
    );
    const groups: Record<string, number> = {};
    for (const record of records) groups[record[group_by]] = (groups[record[group_by]] ?? 0) + 1;
    return { groups, truncated };
  },
  summarize: (out) => JSON.stringify(out.groups),
});

const recordSchemaResource = define.resource({
  name: 'record_schema',
  uri: 'customers://schema/record',
  title: 'Record schema',
  mimeType: 'application/schema+json',
  permission: 'read_data',
  read: async () => ({ text: JSON.stringify(z.toJSONSchema(recordSchema)) }),
});

const segmentSummary = define.resourceTemplate({
  name: 'segment_summary',
  uriTemplate: 'customers://segments/{segment}/summary',
  title: 'Segment summary',
  mimeType: 'application/json',
  permission: 'run_reports',
  list: async () =>
    SEGMENTS.map((segment) => ({
      uri: `customers://segments/${segment}/summary`,
      name: `${segment} segment summary`,
    })),
  complete: {
    segment: async (value) => SEGMENTS.filter((segment) => segment.startsWith(value)),
  },
  read: async (_uri, variables, { deps }) => {
    const segment = String(variables.segment);
    const known = (SEGMENTS as readonly string[]).includes(segment);
    const { records } = known
      ? await deps.store.scan({ segment: segment as FixtureRecord['segment'] }, 10_000)
      : { records: [] };
    return {
      mimeType: 'application/json',
      text: JSON.stringify({ segment: segment.slice(0, 40), count: records.length }),
    };
  },
});

const customerSummary = define.prompt({
  name: 'customer_summary',
  title: 'Summarize a record',
  permission: 'read_data',
  args: z.object({ id: recordId }),
  get: async ({ id }) => ({
    messages: [{ role: 'user', content: { type: 'text', text: `Summarize record ${id}.` } }],
  }),
});

const segmentReview = define.prompt({
  name: 'segment_review',
  title: 'Review a segment',
  permission: 'run_reports',
  args: z.object({ segment: z.enum(SEGMENTS) }),
  complete: {
    segment: async (value) => SEGMENTS.filter((segment) => segment.startsWith(value)),
  },
  get: async ({ segment }) => ({
    messages: [{ role: 'user', content: { type: 'text', text: `Review the ${segment} segment.` } }],
  }),
});

/** The fixture module: five tools, a resource, a resource template and two prompts. */
export const fixtureModule = define.module({
  name: 'fixture-records',
  permissions: {
    read_data: 'Read records',
    write_data: 'Create and replace records',
    delete_data: 'Delete records',
    run_reports: 'Report on records',
  },
  tools: [getRecord, queryCustomerData, putRecord, deleteRecord, runReport],
  resources: [recordSchemaResource],
  resourceTemplates: [segmentSummary],
  prompts: [customerSummary, segmentReview],
  instructions: 'Records of the fixture deployment, in memory.',
  dependencies: () => ({ store: new MemoryFixtureStore() }),
});

/**
 * Argument rules over the fixture's items (its module has none: add them where a test needs
 * Cedar, `{ ...fixtureModule, rules: FIXTURE_RULES }`).
 */
export const FIXTURE_RULES = `
@id("analyst-page-limit")
forbid (principal, action == Mcp::Action::"tool:query_customer_data", resource)
when { principal.groups.contains("analyst") && context.input.limit > 20 };

@id("enterprise-accounts-stay-open")
forbid (principal, action == Mcp::Action::"tool:put_record", resource)
when { context.input.segment == "enterprise" && ["suspended", "closed"].contains(context.input.status) };
`;

/** The roles core tests use: each a Cognito group (and an API-key role) granting these. */
export const FIXTURE_ROLES = {
  admin: ['read_data', 'write_data', 'delete_data', 'run_reports'],
  analyst: ['read_data', 'run_reports'],
  readonly: ['read_data'],
} as const satisfies Record<string, readonly string[]>;

/** The fixture's role names. */
export const FIXTURE_ROLE_NAMES = Object.keys(FIXTURE_ROLES) as (keyof typeof FIXTURE_ROLES)[];

/** The fixture's policy table: its roles over its module. */
export const FIXTURE_POLICY = buildPolicyTable({ roles: FIXTURE_ROLES, modules: [fixtureModule] });

/** The fixture's per-caller quota: 100 queries per caller per 5 minutes. */
export const FIXTURE_QUOTAS: readonly QuotaRule[] = [
  { id: 'customer-queries', tool: 'query_customer_data', limit: 100, windowSeconds: 300 },
];
