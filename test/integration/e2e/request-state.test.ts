/**
 * Multi-round requests (2026-07-28 `input_required`) on the synthesized stack, across Lambda
 * instances: a later round may reach any instance (Lambda hands a request to an idle one, or
 * starts one when the last round's is still finishing), so the state one sealed must open on
 * another, and a state spent on one must be spent on all. Before the stack shared its sealing
 * keys (KMS) and spent states (DynamoDB), each instance sealed with a random key of its own and
 * a round on another instance was refused: the conformance suite's multi-round scenario failed
 * on the emulator that way.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { CONFORMANCE_ROLES } from '../../../conformance/fixture-module';
import { FIXTURE_MCP } from '../../../conformance/fixture-server';
import { loadSigningKey, mintAccessToken } from '../../../tools/local/identity';
import { useLocalGateway } from '../../support/local-gateway-fixture';

const local = useLocalGateway('mcp-request-state-', undefined, () => ({ mcp: FIXTURE_MCP }));

const TOOL = 'test_input_required_result_request_state';
const MODERN = '2026-07-28';
const ENVELOPE = {
  'io.modelcontextprotocol/protocolVersion': MODERN,
  'io.modelcontextprotocol/clientInfo': { name: 'request-state-e2e', version: '1.0.0' },
  'io.modelcontextprotocol/clientCapabilities': { elicitation: { form: {} } },
};
const CONFIRMED = { confirm: { action: 'accept', content: { ok: true } } };

let token = '';
beforeAll(() => {
  token = mintAccessToken(loadSigningKey(local.dir), {
    sub: 'request-state-e2e',
    groups: Object.keys(CONFORMANCE_ROLES),
  });
});

interface Final {
  result?: { resultType?: string; requestState?: string; content?: { text?: string }[] };
  error?: { code: number; message: string };
}

/** One round: a 2026-07-28 tools/call of the fixture's request-state tool. */
async function round(params: Record<string, unknown> = {}): Promise<Final> {
  const response = await fetch(local.gateway.mcpUrl, {
    method: 'POST',
    headers: {
      Authorization: `Bearer ${token}`,
      'Content-Type': 'application/json',
      Accept: 'application/json, text/event-stream',
      'MCP-Protocol-Version': MODERN,
      'Mcp-Method': 'tools/call',
      'Mcp-Name': TOOL,
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 7,
      method: 'tools/call',
      params: { name: TOOL, arguments: {}, ...params, _meta: ENVELOPE },
    }),
  });
  const text = await response.text();
  const data = (response.headers.get('content-type') ?? '').startsWith('text/event-stream')
    ? text
        .split('\n')
        .filter((line) => line.startsWith('data:'))
        .map((line) => JSON.parse(line.slice(5)) as Record<string, unknown>)
    : [JSON.parse(text) as Record<string, unknown>];
  return (data.find((message) => message.id === 7) ?? {}) as Final;
}

/** Discard every MCP instance once idle: the next round starts on a new one. */
async function newInstancesOnly(): Promise<void> {
  const { lambda } = local.gateway.emulator;
  const mcp = local.gateway.functions['mcp-server'] as string;
  const deadline = Date.now() + 10_000;
  for (;;) {
    lambda.recycle(mcp);
    if (lambda.environmentCount(mcp) === 0) return;
    if (Date.now() > deadline) throw new Error('the MCP instance stayed busy');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function firstRound(): Promise<string> {
  const first = await round();
  expect(first.result?.resultType).toBe('input_required');
  expect(first.result?.requestState).toEqual(expect.any(String));
  return first.result?.requestState as string;
}

describe('a multi-round request across instances', () => {
  it('completes on another instance than the one that sealed its state', async () => {
    // Prepare
    const requestState = await firstRound();
    await newInstancesOnly();

    // Act
    const second = await round({ inputResponses: CONFIRMED, requestState });

    // Assess
    expect(second.error).toBeUndefined();
    expect(second.result?.content?.[0]?.text).toMatch(/^state-ok/);
  });

  it('refuses a state spent on one instance when it is replayed on another (-32602)', async () => {
    // Prepare
    const requestState = await firstRound();
    const spent = await round({ inputResponses: CONFIRMED, requestState });
    expect(spent.result?.content?.[0]?.text).toMatch(/^state-ok/);
    await newInstancesOnly();

    // Act
    const replay = await round({ inputResponses: CONFIRMED, requestState });

    // Assess
    expect(replay.error?.code).toBe(-32602);
  });

  it('runs a state sent twice at once exactly once, on two new instances', async () => {
    // Prepare: neither of the two instances that take the rounds sealed the state
    const requestState = await firstRound();
    await newInstancesOnly();

    // Act
    const answers = await Promise.all([
      round({ inputResponses: CONFIRMED, requestState }),
      round({ inputResponses: CONFIRMED, requestState }),
    ]);

    // Assess
    const done = answers.filter((answer) =>
      answer.result?.content?.[0]?.text?.startsWith('state-ok'),
    );
    const refused = answers.filter((answer) => answer.error?.code === -32602);
    expect([done.length, refused.length]).toEqual([1, 1]);
    expect(
      local.gateway.emulator.lambda.environmentCount(
        local.gateway.functions['mcp-server'] as string,
      ),
    ).toBe(2);
  });
});
