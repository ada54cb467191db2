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
 * keep their readable names, and nothing here reads `modules/`. The code is an in-memory map.
 */
import * as z from 'zod';
import { moduleKit } from '../../lambda/mcp/module-kit';
import { buildPolicyTable } from '../../lambda/shared/policy';
import type { QuotaRule } from '../../lambda/shared/quota';

/** A record of the fixture's store. */
export interface FixtureRecord {
  readonly id: string;
  readonly segment: 'retail' | 'business' | 'enterprise';
  readonly status: 'active' | 'suspended' | 'closed';
  readonly country: string;
}

/** What the fixture's items work with: records by id. */
export interface FixtureDeps {
  readonly records: Map<string, FixtureRecord>;
}

/** The variable the fixture's infrastructure sets to its table's name. */
export const FIXTURE_TABLE_VARIABLE = 'FIXTURE_TABLE_NAME';

const SEGMENTS = ['retail', 'business', 'enterprise'] as const;
const STATUSES = ['active', 'suspended', 'closed'] as const;
const recordId = z.string().regex(/^cust-\d{4}$/);
const recordSchema = z.object({
  id: z.string(),
  segment: z.enum(SEGMENTS),
  status: z.enum(STATUSES),
  country: z.string(),
});

/** Three records, one per segment: what the fixture's `dependencies` starts with. */
export function fixtureRecords(): Map<string, FixtureRecord> {
  return new Map(
    SEGMENTS.map((segment, i) => {
      const id = `cust-000${i + 1}`;
      return [id, { id, segment, status: 'active', country: i === 0 ? 'DE' : 'FR' }];
    }),
  );
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
    const record = deps.records.get(id);
    return record === undefined ? { found: false } : { found: true, record };
  },
  summarize: (out) => (out.record === undefined ? 'No such record.' : out.record.id),
});

const queryCustomerData = define.tool({
  name: 'query_customer_data',
  title: 'Query records',
  description: 'Records matching a filter.',
  permission: 'read_data',
  annotations: { readOnlyHint: true },
  input: z.strictObject({
    segment: z.enum(SEGMENTS).optional(),
    country: z
      .string()
      .regex(/^[A-Z]{2}$/)
      .optional(),
    limit: z.number().int().min(1).max(50).default(10),
  }),
  output: z.object({ records: z.array(recordSchema), count: z.number().int() }),
  async run({ segment, country, limit }, { deps }) {
    const records = [...deps.records.values()]
      .filter((record) => segment === undefined || record.segment === segment)
      .filter((record) => country === undefined || record.country === country)
      .slice(0, limit);
    return { records, count: records.length };
  },
  summarize: (out) => `${out.count} records.`,
});

const putRecord = define.tool({
  name: 'put_record',
  title: 'Put record',
  description: 'Create or replace a record.',
  permission: 'write_data',
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true },
  approval: false,
  input: z.strictObject({ id: recordId, segment: z.enum(SEGMENTS), status: z.enum(STATUSES) }),
  output: z.object({ created: z.boolean() }),
  async run({ id, segment, status }, { deps }) {
    const created = !deps.records.has(id);
    deps.records.set(id, { id, segment, status, country: 'DE' });
    return { created };
  },
  summarize: (out) => (out.created ? 'Created.' : 'Replaced.'),
});

const deleteRecord = define.tool({
  name: 'delete_record',
  title: 'Delete record',
  description: 'Delete a record.',
  permission: 'delete_data',
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true },
  input: z.strictObject({ id: recordId }),
  output: z.object({ deleted: z.boolean() }),
  async run({ id }, { deps }) {
    return { deleted: deps.records.delete(id) };
  },
  summarize: (out) => (out.deleted ? 'Deleted.' : 'No such record.'),
});

const runReport = define.tool({
  name: 'run_report',
  title: 'Run report',
  description: 'Records counted by a field.',
  permission: 'run_reports',
  annotations: { readOnlyHint: true },
  input: z.strictObject({ group_by: z.enum(['segment', 'status']).default('segment') }),
  output: z.object({ groups: z.record(z.string(), z.number().int()) }),
  async run({ group_by }, { deps }) {
    const groups: Record<string, number> = {};
    for (const record of deps.records.values()) {
      groups[record[group_by]] = (groups[record[group_by]] ?? 0) + 1;
    }
    return { groups };
  },
  summarize: (out) => JSON.stringify(out.groups),
});

const recordSchemaResource = define.resource({
  name: 'record_schema',
  uri: 'customers://schema/record',
  title: 'Record schema',
  mimeType: 'application/json',
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
    const count = [...deps.records.values()].filter((r) => r.segment === segment).length;
    return { text: JSON.stringify({ segment, count }) };
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
  dependencies: () => ({ records: fixtureRecords() }),
});

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
