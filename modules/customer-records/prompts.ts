/**
 * The example prompts: ready-made requests an assistant's user can pick, filled from the data
 * the caller may read.
 */
import * as z from 'zod';
import { recordIdSchema, SEGMENTS } from './store/customer-record';
import { define } from './tools';

export const customerSummaryPrompt = define.prompt({
  name: 'customer_summary',
  title: 'Draft a customer summary',
  description: 'A short account summary of one customer, for a relationship manager.',
  permission: 'read_data',
  args: z.object({ id: recordIdSchema.describe('Record id, e.g. cust-0001') }),
  async get({ id }, { deps: { store } }) {
    const record = await store.get(id);
    const text =
      record === undefined
        ? `There is no customer record ${id}. Say so, and suggest checking the id.`
        : `Write a three-sentence account summary of this customer for a relationship manager: who they are, their standing (segment, status, balance) and one suggested next step. Record:\n${JSON.stringify(record, null, 2)}`;
    return {
      description: `Summary of customer ${id}`,
      messages: [{ role: 'user', content: { type: 'text', text } }],
    };
  },
});

export const segmentReviewPrompt = define.prompt({
  name: 'segment_review',
  title: 'Review a customer segment',
  description: 'Ask for a review of one segment, with its summary attached.',
  permission: 'run_reports',
  args: z.object({ segment: z.enum(SEGMENTS).describe('retail, business or enterprise') }),
  complete: {
    segment: async (value) => SEGMENTS.filter((segment) => segment.startsWith(value)),
  },
  async get({ segment }) {
    return {
      description: `Review of the ${segment} segment`,
      messages: [
        {
          role: 'user',
          content: {
            type: 'text',
            text: `Review the ${segment} customer segment: what stands out in its balances and statuses, and what should the team look at first? Its summary is attached.`,
          },
        },
        {
          role: 'user',
          content: {
            type: 'resource_link',
            uri: `customers://segments/${segment}/summary`,
            name: `${segment} segment summary`,
            mimeType: 'application/json',
          },
        },
      ],
    };
  },
});
