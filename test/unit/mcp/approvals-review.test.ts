/**
 * Security review of the approval gate (issue 19), attacker's view: tries to get a call needing
 * approval through without the person's approval, or to spend an approval on another call.
 * Tests marked FINDING fail on the merged code and show a weakness; the others are regression
 * tests of attacks that held.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { moduleKit } from '../../../lambda/mcp/module-kit';
import type { LoadedModule } from '../../../lambda/mcp/module-loader';
import type { ApprovalStore } from '../../../lambda/shared/approvals';
import { buildPolicyTable } from '../../../lambda/shared/policy';
import type { Principal } from '../../../lambda/shared/principal';
import {
  answerOf,
  type Era,
  envelope,
  type message,
  toolCallEvent,
  useApprovals,
} from './approvals-fixture';

// ---------------------------------------------------------------------------------------------
// A module of tools a team could plausibly write

/** What each tool ran with, in order. */
const runs: { tool: string; args: unknown }[] = [];

const define = moduleKit<undefined>();

/** Deletes what is older than a date: the date is parsed into a Date by the schema. */
const purge = define.tool({
  name: 'purge_before',
  title: 'Purge old documents',
  description: 'Delete every document older than a date.',
  permission: 'erase_docs',
  annotations: { destructiveHint: true },
  input: z.strictObject({ before: z.iso.datetime().transform((text) => new Date(text)) }),
  output: z.object({ purged_before: z.string() }),
  async run({ before }) {
    runs.push({ tool: 'purge_before', args: before.toISOString() });
    return { purged_before: before.toISOString() };
  },
  summarize: (out) => `Purged before ${out.purged_before}.`,
});

/** A webhook target parsed into a URL object. */
const repoint = define.tool({
  name: 'repoint_webhook',
  title: 'Point the webhook elsewhere',
  description: 'Send every future event to another URL.',
  permission: 'erase_docs',
  annotations: { destructiveHint: true },
  input: z.strictObject({ target: z.url().transform((text) => new URL(text)) }),
  output: z.object({ target: z.string() }),
  async run({ target }) {
    runs.push({ tool: 'repoint_webhook', args: target.href });
    return { target: target.href };
  },
  summarize: (out) => `Webhook now ${out.target}.`,
});

/** A tool written without annotations: per the MCP spec a non-read-only tool is destructive. */
const wipe = define.tool({
  name: 'wipe_bucket',
  title: 'Wipe a bucket',
  description: 'Delete every object of a bucket.',
  permission: 'erase_docs',
  input: z.strictObject({ bucket: z.string() }),
  output: z.object({ wiped: z.string() }),
  async run({ bucket }) {
    runs.push({ tool: 'wipe_bucket', args: bucket });
    return { wiped: bucket };
  },
  summarize: (out) => `Wiped ${out.wiped}.`,
});

/** Plain string ids, like the example's delete_record. */
const erase = define.tool({
  name: 'erase',
  title: 'Erase a document',
  description: 'Erase one document.',
  permission: 'erase_docs',
  annotations: { destructiveHint: true },
  input: z.strictObject({ id: z.string(), count: z.number().optional() }),
  output: z.object({ erased: z.string() }),
  async run(args) {
    runs.push({ tool: 'erase', args });
    return { erased: args.id };
  },
  summarize: (out) => `Erased ${out.erased}.`,
});

/** A looser schema: a free-form options bag. */
const bulk = define.tool({
  name: 'bulk_erase',
  title: 'Erase documents in bulk',
  description: 'Erase documents matching options.',
  permission: 'erase_docs',
  annotations: { destructiveHint: true },
  input: z.object({ options: z.record(z.string(), z.unknown()) }),
  output: z.object({ erased: z.number() }),
  async run({ options }) {
    runs.push({ tool: 'bulk_erase', args: { ...options, inherited: options.everything } });
    return { erased: 0 };
  },
  summarize: () => 'Done.',
});

const docs = define.module({
  name: 'docs',
  permissions: { erase_docs: 'Erase documents' },
  tools: [purge, repoint, wipe, erase, bulk],
  dependencies: (): undefined => undefined,
});
const MODULES: readonly LoadedModule[] = [{ module: docs, deps: undefined }];
const POLICY = buildPolicyTable({ roles: { admin: ['erase_docs'] }, modules: [docs] });

const alice: Principal = {
  principalId: 'alice-sub',
  authMethod: 'cognito',
  groups: ['admin'],
  scopes: [],
  keyId: '',
};

// ---------------------------------------------------------------------------------------------
// Requests and answers

function callEvent(
  tool: string,
  args: Record<string, unknown> | string,
  options: { era?: Era; client?: string } = {},
) {
  return toolCallEvent(tool, args, {
    as: alice,
    meta: envelope(options.client),
    ...(options.era === undefined ? {} : { era: options.era }),
  });
}

/** The approval URL of an answer in either era, or undefined when it is not one. */
function approvalUrl(answer: z.infer<typeof message>): URL | undefined {
  if (answer.error?.code === -32042) {
    const data = answer.error.data as { elicitations: { url: string }[] };
    return new URL(data.elicitations[0]?.url ?? '');
  }
  const result = answer.result as
    | { resultType?: string; inputRequests?: { approval?: { params?: { url?: string } } } }
    | undefined;
  if (result?.resultType === 'input_required') {
    return new URL(result.inputRequests?.approval?.params?.url ?? '');
  }
  return undefined;
}

function mustAsk(answer: z.infer<typeof message>): URL {
  const url = approvalUrl(answer);
  expect(url, JSON.stringify(answer)).toBeDefined();
  return url as URL;
}

// ---------------------------------------------------------------------------------------------

const approvals = useApprovals({
  tablePrefix: 'approvals-review',
  modules: MODULES,
  policy: POLICY,
});
const { handler, ticketOf } = approvals;

beforeEach(() => {
  runs.length = 0;
});

/** The person approves what the ticket shows (as the page writes it). */
const approve = (url: URL) => approvals.answer(url);

// ---------------------------------------------------------------------------------------------

describe('FINDING: the binding digest ignores what a schema parses into objects', () => {
  it('does not run a purge before another date on the approval of one date', async () => {
    // Prepare: the person sees and approves "before 2020-01-01" (the page shows the Date's JSON)
    const h = handler();
    const url = mustAsk(
      await answerOf(await h(callEvent('purge_before', { before: '2020-01-01T00:00:00Z' }))),
    );
    const shown = await approve(url);
    expect(shown.arguments).toEqual({ before: '2020-01-01T00:00:00.000Z' });

    // Act: the agent retries with a date eighty years later
    const swapped = await answerOf(
      await h(callEvent('purge_before', { before: '2099-12-31T00:00:00Z' })),
    );

    // Assess: it must be asked for anew, and nothing may have run
    expect(runs).toEqual([]);
    mustAsk(swapped);
  });

  it('does not repoint a webhook to another host on the approval of one host', async () => {
    // Prepare
    const h = handler();
    const url = mustAsk(
      await answerOf(
        await h(callEvent('repoint_webhook', { target: 'https://hooks.example.com/a' })),
      ),
    );
    await approve(url);

    // Act
    const swapped = await answerOf(
      await h(callEvent('repoint_webhook', { target: 'https://attacker.example.net/steal' })),
    );

    // Assess
    expect(runs).toEqual([]);
    mustAsk(swapped);
  });
});

describe('FINDING: a tool without annotations needs no approval', () => {
  it('asks for approval of a tool that declares neither approval nor hints (spec default destructiveHint: true)', async () => {
    // Act
    const answer = await answerOf(await handler()(callEvent('wipe_bucket', { bucket: 'prod' })));

    // Assess: the MCP spec's default for a tool that is not read-only is destructive
    expect(runs).toEqual([]);
    mustAsk(answer);
  });
});

describe('argument canonicalization between request and retry (held)', () => {
  it('binds the last of duplicate JSON keys, which is what the page shows and what runs', async () => {
    // Prepare: requested with {"id":"a","id":"b"}: JSON.parse keeps "b"
    const h = handler();
    const url = mustAsk(await answerOf(await h(callEvent('erase', '{"id":"a","id":"b"}'))));
    const shown = await approve(url);
    expect(shown.arguments).toEqual({ id: 'b' });

    // Act: a retry with plain "a" must not run
    const other = await answerOf(await h(callEvent('erase', { id: 'a' })));
    const same = await answerOf(await h(callEvent('erase', { id: 'b' })));

    // Assess
    mustAsk(other);
    expect(approvalUrl(same)).toBeUndefined();
    expect(runs).toEqual([{ tool: 'erase', args: { id: 'b' } }]);
  });

  it('counts key order as the same call (canonical), and runs it once', async () => {
    const h = handler();
    await approve(mustAsk(await answerOf(await h(callEvent('erase', '{"id":"a","count":2}')))));
    const same = await answerOf(await h(callEvent('erase', '{"count":2,"id":"a"}')));
    expect(approvalUrl(same)).toBeUndefined();
    expect(runs).toHaveLength(1);
  });

  it('does not count another Unicode normalization of a string as the same call', async () => {
    const h = handler();
    await approve(mustAsk(await answerOf(await h(callEvent('erase', { id: 'caf\u00e9' })))));
    const decomposed = await answerOf(await h(callEvent('erase', { id: 'cafe\u0301' })));
    mustAsk(decomposed);
    expect(runs).toEqual([]);
  });

  it('counts 1 and 1.0 as one number (JSON has one), and not 1 and 1.0000000000000002', async () => {
    const h = handler();
    await approve(mustAsk(await answerOf(await h(callEvent('erase', '{"id":"a","count":1}')))));
    const near = await answerOf(
      await h(callEvent('erase', '{"id":"a","count":1.0000000000000002}')),
    );
    mustAsk(near);
    const same = await answerOf(await h(callEvent('erase', '{"id":"a","count":1.0}')));
    expect(approvalUrl(same)).toBeUndefined();
    expect(runs).toEqual([{ tool: 'erase', args: { id: 'a', count: 1 } }]);
  });

  it('counts integers past 2^53 that JSON parses to the same double as one call (what runs is that double)', async () => {
    const h = handler();
    await approve(
      mustAsk(await answerOf(await h(callEvent('erase', '{"id":"a","count":9007199254740993}')))),
    );
    const same = await answerOf(await h(callEvent('erase', '{"id":"a","count":9007199254740992}')));
    expect(approvalUrl(same)).toBeUndefined();
    expect(runs).toEqual([{ tool: 'erase', args: { id: 'a', count: 9007199254740992 } }]);
  });

  it('does not let a __proto__ key smuggle options past the digest', async () => {
    const h = handler();
    await approve(
      mustAsk(await answerOf(await h(callEvent('bulk_erase', '{"options":{"tag":"old"}}')))),
    );
    const smuggled = await answerOf(
      await h(callEvent('bulk_erase', '{"options":{"tag":"old","__proto__":{"everything":true}}}')),
    );
    // Either asked anew, or run without the smuggled option
    if (approvalUrl(smuggled) === undefined) {
      expect(runs).toEqual([{ tool: 'bulk_erase', args: { tag: 'old', inherited: undefined } }]);
    } else {
      expect(runs).toEqual([]);
    }
  });
});

describe('FINDING: a denial binds the client’s own claim, so the agent re-asks at once', () => {
  it('keeps refusing the denied call when the agent only changes the client name it claims', async () => {
    // Prepare: the person denies delete of "a" asked by a client calling itself "agent"
    const h = handler();
    const url = mustAsk(
      await answerOf(await h(callEvent('erase', { id: 'a' }, { era: 'modern', client: 'agent' }))),
    );
    const ticket = await ticketOf(url);
    const now = Math.floor(Date.now() / 1000);
    expect(
      await approvals.store.decide(ticket.key, ticket.approvalId, 'denied', now + 300, now),
    ).toBe(true);

    // Act: the same call, same person, another claimed name (or the 2025 era, which names none)
    const renamed = await answerOf(
      await h(callEvent('erase', { id: 'a' }, { era: 'modern', client: 'agent2' })),
    );
    const legacy = await answerOf(await h(callEvent('erase', { id: 'a' })));

    // Assess: the person said no to this call; they must not be asked again while it holds
    expect(runs).toEqual([]);
    expect(approvalUrl(renamed)).toBeUndefined();
    expect(approvalUrl(legacy)).toBeUndefined();
  });
});

describe('eras and clients (held)', () => {
  it('does not spend an approval asked by a 2026-07-28 client on a 2025-11-25 call', async () => {
    const h = handler();
    await approve(
      mustAsk(
        await answerOf(
          await h(callEvent('erase', { id: 'a' }, { era: 'modern', client: 'agent' })),
        ),
      ),
    );
    const legacy = await answerOf(await h(callEvent('erase', { id: 'a' })));
    mustAsk(legacy);
    expect(runs).toEqual([]);
  });

  it('spends an approval asked in 2025-11-25 on a 2026-07-28 call that names no client (same person, same call: by design)', async () => {
    const h = handler();
    await approve(mustAsk(await answerOf(await h(callEvent('erase', { id: 'a' })))));
    const modern = await answerOf(await h(callEvent('erase', { id: 'a' }, { era: 'modern' })));
    expect(approvalUrl(modern)).toBeUndefined();
    expect(runs).toHaveLength(1);
  });
});

describe('failures (held)', () => {
  it('refuses when the table read fails after a failed consume (fail closed)', async () => {
    const broken: ApprovalStore = {
      get: async () => {
        throw Object.assign(new Error('boom'), { code: 'InternalServerError' });
      },
      request: async () => true,
      consume: async () => undefined,
      decide: async () => true,
    };
    const answer = await answerOf(
      await handler({ store: broken })(callEvent('erase', { id: 'a' })),
    );
    expect(approvalUrl(answer)).toBeUndefined();
    expect((answer.result as { isError?: boolean } | undefined)?.isError).toBe(true);
    expect(runs).toEqual([]);
  });

  it('refuses when a rule throws (a policy engine failing), and runs nothing', async () => {
    const answer = await answerOf(
      await handler({
        rules: [
          () => {
            throw new Error('policy engine down: secret internals');
          },
        ],
      })(callEvent('erase', { id: 'a' })),
    );
    expect(runs).toEqual([]);
    expect(JSON.stringify(answer)).not.toContain('secret internals');
  });

  it('does not treat an approved item past its expiresAt (TTL not yet swept) as in force', async () => {
    let clock = Date.now();
    const h = handler({ now: () => clock });
    const url = mustAsk(await answerOf(await h(callEvent('erase', { id: 'a' }))));
    const ticket = await ticketOf(url);
    const now = Math.floor(clock / 1000);
    expect(
      await approvals.store.decide(ticket.key, ticket.approvalId, 'approved', now + 1, now),
    ).toBe(true);
    clock += 1000; // expiresAt == now: no longer in force
    const late = await answerOf(await h(callEvent('erase', { id: 'a' })));
    mustAsk(late);
    expect(runs).toEqual([]);
  });
});
