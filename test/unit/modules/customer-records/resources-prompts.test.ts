import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { ItemContext } from '../../../../lambda/mcp/module-kit';
import type { Principal } from '../../../../lambda/shared/principal';
import { LOCAL_SEEDED_AT } from '../../../../modules/customer-records/module';
import {
  customerSummaryPrompt,
  segmentReviewPrompt,
} from '../../../../modules/customer-records/prompts';
import {
  recordSchemaResource,
  segmentSummaryTemplate,
} from '../../../../modules/customer-records/resources';
import {
  customerRecordSchema,
  type RecordStore,
  SEGMENTS,
} from '../../../../modules/customer-records/store/customer-record';
import { sampleRecords } from '../../../../modules/customer-records/store/sample-records';
import type { CustomerRecordsDeps } from '../../../../modules/customer-records/tools';
import { useLocalRecordStore } from '../../../support/local-record-store';

const SAMPLES = sampleRecords();

const analyst: Principal = {
  principalId: 'resources-test',
  authMethod: 'cognito',
  groups: ['analyst'],
  scopes: [],
  keyId: '',
};

let store: RecordStore;
const records = useLocalRecordStore();

beforeAll(() => {
  store = records.store;
});

/** What the server hands a resource or prompt: the module's deps, the caller, the request. */
function context(): ItemContext<CustomerRecordsDeps> {
  return {
    deps: { store },
    principal: analyst,
    now: () => new Date('2026-02-01T00:00:00.000Z'),
    requestId: 'req-resources-test',
    signal: new AbortController().signal,
  };
}

const summaryUri = (segment: string) => `customers://segments/${segment}/summary`;

const summarySchema = z.strictObject({
  segment: z.enum(SEGMENTS),
  count: z.number().int(),
  total_balance: z.number(),
  average_balance: z.number(),
  statuses: z.record(z.string(), z.number().int()),
  truncated: z.boolean(),
});

/** The text of a resource content, failing the test if it is a blob. */
function textOf(content: { text: string } | { blob: string }): string {
  if (!('text' in content)) throw new Error('expected a text content, got a blob');
  return content.text;
}

/** The text of one prompt message, failing the test if it is not text. */
function messageText(message: { content: { type: string } } | undefined): string {
  const parsed = z.object({ type: z.literal('text'), text: z.string() }).parse(message?.content);
  return parsed.text;
}

describe('the record_schema resource', () => {
  it('lives at customers://schema/record and needs read_data', () => {
    expect(recordSchemaResource).toMatchObject({
      uri: 'customers://schema/record',
      permission: 'read_data',
    });
  });

  it('reads as the JSON Schema of a customer record, as the tools return it', async () => {
    // Act
    const content = await recordSchemaResource.read(context());

    // Assess
    expect(JSON.parse(textOf(content))).toEqual(
      JSON.parse(JSON.stringify(z.toJSONSchema(customerRecordSchema, { io: 'output' }))),
    );
  });

  it('says its content is a JSON Schema', async () => {
    // Act
    const content = await recordSchemaResource.read(context());

    // Assess
    expect(content.mimeType).toBe('application/schema+json');
  });

  it('names every field of a record as required', async () => {
    // Act
    const schema = z
      .object({ required: z.array(z.string()) })
      .parse(JSON.parse(textOf(await recordSchemaResource.read(context()))));

    // Assess
    expect([...schema.required].sort()).toEqual(Object.keys(customerRecordSchema.shape).sort());
  });
});

describe('the segment_summary template', () => {
  it('is customers://segments/{segment}/summary and needs run_reports', () => {
    expect(segmentSummaryTemplate).toMatchObject({
      uriTemplate: 'customers://segments/{segment}/summary',
      permission: 'run_reports',
    });
  });

  it('lists one summary per segment', async () => {
    // Act
    const listed = await segmentSummaryTemplate.list?.(context());

    // Assess
    expect(listed?.map((entry) => entry.uri)).toEqual(SEGMENTS.map(summaryUri));
  });

  it.each(SEGMENTS)('counts the %s records and their balances from the table', async (segment) => {
    // Prepare
    const members = SAMPLES.filter((sample) => sample.fields.segment === segment);
    const cents = members.reduce((sum, s) => sum + Math.round(s.fields.balance * 100), 0);

    // Act
    const content = await segmentSummaryTemplate.read(
      new URL(summaryUri(segment)),
      { segment },
      context(),
    );

    // Assess
    const summary = summarySchema.parse(JSON.parse(textOf(content)));
    expect(summary).toMatchObject({ segment, count: members.length, truncated: false });
    expect(summary.total_balance).toBeCloseTo(cents / 100, 2);
  });

  it('gives the status mix of a segment, summing to its count', async () => {
    // Prepare
    const members = SAMPLES.filter((sample) => sample.fields.segment === 'business');
    const expected: Record<string, number> = {};
    for (const { fields } of members) expected[fields.status] = (expected[fields.status] ?? 0) + 1;

    // Act
    const content = await segmentSummaryTemplate.read(
      new URL(summaryUri('business')),
      { segment: 'business' },
      context(),
    );

    // Assess
    expect(summarySchema.parse(JSON.parse(textOf(content))).statuses).toEqual(expected);
  });

  it('says its content is JSON', async () => {
    // Act
    const content = await segmentSummaryTemplate.read(
      new URL(summaryUri('retail')),
      { segment: 'retail' },
      context(),
    );

    // Assess
    expect(content.mimeType).toBe('application/json');
  });

  it('answers a segment that does not exist with an error, cutting what it echoes to 40 characters', async () => {
    // Prepare
    const madeUp = `vip${'x'.repeat(500)}`;

    // Act
    const content = await segmentSummaryTemplate.read(
      new URL(summaryUri(madeUp)),
      { segment: madeUp },
      context(),
    );

    // Assess
    expect(JSON.parse(textOf(content))).toEqual({ error: `No segment ${madeUp.slice(0, 40)}` });
  });

  it('reads no records for a segment that does not exist', async () => {
    // Prepare
    const scans: string[] = [];
    const observed: RecordStore = {
      get: (id) => store.get(id),
      put: (id, fields, now) => store.put(id, fields, now),
      delete: (id) => store.delete(id),
      query: (filter, limit, cursor) => store.query(filter, limit, cursor),
      scan: (filter, max, onProgress) => {
        scans.push(String(filter.segment));
        return store.scan(filter, max, onProgress);
      },
    };

    // Act
    await segmentSummaryTemplate.read(
      new URL(summaryUri('vip')),
      { segment: 'vip' },
      {
        ...context(),
        deps: { store: observed },
      },
    );

    // Assess
    expect(scans).toEqual([]);
  });

  it.each([
    ['', [...SEGMENTS]],
    ['b', ['business']],
    ['e', ['enterprise']],
    ['x', []],
  ])('completes the segment "%s" to %j', async (value, expected) => {
    // Act
    const values = await segmentSummaryTemplate.complete?.segment?.(value, context());

    // Assess
    expect(values).toEqual(expected);
  });
});

describe('the customer_summary prompt', () => {
  it('needs read_data', () => {
    expect(customerSummaryPrompt.permission).toBe('read_data');
  });

  it('asks for a summary of the record it reads', async () => {
    // Act
    const prompt = await customerSummaryPrompt.get({ id: 'cust-0007' }, context());

    // Assess
    const text = messageText(prompt.messages[0]);
    expect(text).toMatch(/^Write a three-sentence account summary/);
    expect(text).toContain('"id": "cust-0007"');
    expect(text).toContain(LOCAL_SEEDED_AT.toISOString());
  });

  it('sends one user message', async () => {
    // Act
    const prompt = await customerSummaryPrompt.get({ id: 'cust-0007' }, context());

    // Assess
    expect(prompt.messages.map((message) => message.role)).toEqual(['user']);
  });

  it('says there is no record when the id does not exist', async () => {
    // Act
    const prompt = await customerSummaryPrompt.get({ id: 'cust-9999' }, context());

    // Assess
    expect(messageText(prompt.messages[0])).toMatch(/^There is no customer record cust-9999\./);
  });

  it('refuses an id that is no record id at its schema', () => {
    // Act
    const parsed = customerSummaryPrompt.args.safeParse({ id: '../cust-0001' });

    // Assess
    expect(parsed.success).toBe(false);
  });
});

describe('the segment_review prompt', () => {
  it('needs run_reports', () => {
    expect(segmentReviewPrompt.permission).toBe('run_reports');
  });

  it('asks for a review of the segment, naming it', async () => {
    // Act
    const prompt = await segmentReviewPrompt.get({ segment: 'enterprise' }, context());

    // Assess
    expect(messageText(prompt.messages[0])).toMatch(/^Review the enterprise customer segment/);
  });

  it("links the segment's summary resource", async () => {
    // Act
    const prompt = await segmentReviewPrompt.get({ segment: 'enterprise' }, context());

    // Assess
    expect(prompt.messages[1]?.content).toEqual({
      type: 'resource_link',
      uri: summaryUri('enterprise'),
      name: 'enterprise segment summary',
      mimeType: 'application/json',
    });
  });

  it('refuses a segment that does not exist at its schema', () => {
    // Act
    const parsed = segmentReviewPrompt.args.safeParse({ segment: 'vip' });

    // Assess
    expect(parsed.success).toBe(false);
  });

  it.each([
    ['re', ['retail']],
    ['', [...SEGMENTS]],
    ['z', []],
  ])('completes the segment "%s" to %j', async (value, expected) => {
    // Act
    const values = await segmentReviewPrompt.complete?.segment?.(value, context());

    // Assess
    expect(values).toEqual(expected);
  });
});
