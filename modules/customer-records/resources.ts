/**
 * The example resources: what a customer record looks like (for a client building calls), and
 * a per-segment summary an assistant can read without calling a tool.
 */
import * as z from 'zod';
import { customerRecordSchema, SEGMENTS } from './store/customer-record';
import { define, MAX_REPORT_RECORDS } from './tools';

export const recordSchemaResource = define.resource({
  name: 'record_schema',
  uri: 'customers://schema/record',
  title: 'Customer record schema',
  description: 'The JSON Schema of a customer record, as the tools return it.',
  mimeType: 'application/schema+json',
  permission: 'read_data',
  async read() {
    return {
      text: JSON.stringify(z.toJSONSchema(customerRecordSchema, { io: 'output' }), null, 2),
      mimeType: 'application/schema+json',
    };
  },
});

const isSegment = (value: string): value is (typeof SEGMENTS)[number] =>
  (SEGMENTS as readonly string[]).includes(value);

export const segmentSummaryTemplate = define.resourceTemplate({
  name: 'segment_summary',
  uriTemplate: 'customers://segments/{segment}/summary',
  title: 'Segment summary',
  description:
    'Count, total and average balance, and the status mix, of the customers in one segment.',
  mimeType: 'application/json',
  permission: 'run_reports',
  async list() {
    return SEGMENTS.map((segment) => ({
      uri: `customers://segments/${segment}/summary`,
      name: `${segment} segment summary`,
      // Clients show titles: each listed summary says which segment it is.
      title: `Segment summary: ${segment}`,
    }));
  },
  complete: {
    segment: async (value) => SEGMENTS.filter((segment) => segment.startsWith(value)),
  },
  async read(_uri, variables, { deps: { store } }) {
    const segment = String(variables.segment ?? '');
    if (!isSegment(segment)) {
      return { text: JSON.stringify({ error: `No segment ${segment.slice(0, 40)}` }) };
    }
    const { records, truncated } = await store.scan({ segment }, MAX_REPORT_RECORDS);
    const total = records.reduce((sum, record) => sum + record.balance, 0);
    const statuses: Record<string, number> = {};
    for (const record of records) statuses[record.status] = (statuses[record.status] ?? 0) + 1;
    return {
      mimeType: 'application/json',
      text: JSON.stringify({
        segment,
        count: records.length,
        total_balance: Math.round(total * 100) / 100,
        average_balance:
          records.length === 0 ? 0 : Math.round((total / records.length) * 100) / 100,
        statuses,
        truncated,
      }),
    };
  },
});
