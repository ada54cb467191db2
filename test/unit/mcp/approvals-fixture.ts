/**
 * The approval gate (lambda/mcp/approvals.ts) through the real MCP handler, for the gate's
 * tests and its security review (approvals.test.ts, approvals-review.test.ts), each with a
 * module of its own: a handler over that module, a fresh approvals table for each test on the
 * real DynamoDB protocol (dynalite), the logs captured, the person's answer written as the
 * approval page writes it, and tools/call events of either era as API Gateway hands them on.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { afterEach, beforeEach, expect } from 'vitest';
import * as z from 'zod';
import { type ApprovalsDeps, createApprovals } from '../../../lambda/mcp/approvals';
import { createMcpHandler, type McpHandler } from '../../../lambda/mcp/handler';
import type { LoadedModule } from '../../../lambda/mcp/module-loader';
import type { McpResponse } from '../../../lambda/mcp/response';
import { AesSealer } from '../../../lambda/oauth-proxy/aes-sealer';
import { SEAL_PURPOSES } from '../../../lambda/oauth-proxy/ports';
import { openJson } from '../../../lambda/oauth-proxy/sealed-json';
import {
  APPROVAL_TABLE_ATTRIBUTES,
  type ApprovalStore,
  type ApprovalTicket,
  DynamoApprovalStore,
  parseApprovalTicket,
} from '../../../lambda/shared/approvals';
import { createLogger } from '../../../lambda/shared/logger';
import type { PolicyTable } from '../../../lambda/shared/policy';
import type { Principal } from '../../../lambda/shared/principal';
import { proxyEvent } from '../../support/apigw-events';
import { type CapturedLogs, captureLogs } from '../../support/capture-logs';
import { useDynaliteTables } from '../../support/dynalite-tables';
import { createKeyedTable } from '../../support/local-dynamo-client';

export const PAGE_URL = 'https://api.example.com/prod/approve';
export const MODERN = '2026-07-28';
export const LEGACY = '2025-11-25';
export type Era = 'legacy' | 'modern';

// ---------------------------------------------------------------------------------------------
// Requests and answers

/** A 2026-07-28 request's `_meta` envelope, from a client that can open URLs. */
export const envelope = (client?: string) => ({
  'io.modelcontextprotocol/protocolVersion': MODERN,
  ...(client === undefined
    ? {}
    : { 'io.modelcontextprotocol/clientInfo': { name: client, version: '1.0.0' } }),
  'io.modelcontextprotocol/clientCapabilities': { elicitation: { url: {} } },
});

export interface ToolCallOptions {
  /** @default 'legacy' */
  readonly era?: Era;
  /** The caller the authorizer allowed. */
  readonly as: Principal;
  /** A modern call's `_meta`. @default the envelope of a client that names none */
  readonly meta?: Record<string, unknown>;
  /** A 2026-07-28 retry: the state and the answers sent back, beside the arguments. */
  readonly retry?: { requestState: string; inputResponses: Record<string, unknown> };
}

let nextId = 1;

/**
 * A tools/call of `tool` as API Gateway hands it to the function. A string `args` is sent as
 * the raw JSON text of the arguments (duplicate keys and the like).
 */
export function toolCallEvent(
  tool: string,
  args: Record<string, unknown> | string,
  options: ToolCallOptions,
): APIGatewayProxyEvent {
  const era = options.era ?? 'legacy';
  const id = nextId++;
  const argsText = typeof args === 'string' ? args : JSON.stringify(args);
  const rest = {
    ...(era === 'modern' ? { _meta: options.meta ?? envelope() } : {}),
    ...options.retry,
  };
  const tail = Object.entries(rest)
    .map(([key, value]) => `,${JSON.stringify(key)}:${JSON.stringify(value)}`)
    .join('');
  return proxyEvent({
    headers: {
      Host: 'api.example.com',
      'Content-Type': 'application/json',
      Accept: 'application/json, text/event-stream',
      'MCP-Protocol-Version': era === 'modern' ? MODERN : LEGACY,
      ...(era === 'modern' ? { 'Mcp-Method': 'tools/call', 'Mcp-Name': tool } : {}),
    },
    body: `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":${JSON.stringify(tool)},"arguments":${argsText}${tail}}}`,
    requestId: `req-${id}`,
    sourceIp: '203.0.113.9',
    caller: options.as,
  });
}

/** A JSON-RPC answer: a result or an error. */
export const message = z.object({
  id: z.unknown(),
  result: z.record(z.string(), z.unknown()).optional(),
  error: z.object({ code: z.number(), message: z.string(), data: z.unknown() }).optional(),
});

/** The answer to the call, from a JSON body or the last SSE frame. */
export async function answerOf(response: McpResponse) {
  const text =
    typeof response.body === 'string' ? response.body : await new Response(response.body).text();
  const data = text
    .split('\n')
    .filter((line) => line.startsWith('data:'))
    .map((line) => line.slice(5));
  return message.parse(JSON.parse(data.at(-1) ?? text));
}

// ---------------------------------------------------------------------------------------------
// The handler, the table, the page's side

export interface ApprovalsFixture {
  /** This test's approvals table. */
  readonly store: ApprovalStore;
  /** This test's log lines. */
  readonly logs: CapturedLogs;
  readonly logger: ReturnType<typeof createLogger>;
  /** The MCP handler with the approval gate, `overrides` on its defaults. */
  handler(overrides?: Partial<ApprovalsDeps>): McpHandler;
  /** What the page reads from the URL: the ticket, opened. */
  ticketOf(url: URL): Promise<ApprovalTicket>;
  /** The person's answer on the page, written as the page writes it; the ticket answered. */
  answer(url: URL, decision?: 'approved' | 'denied', seconds?: number): Promise<ApprovalTicket>;
}

/** Register the hooks of a test file of the gate serving `modules` under `policy`. */
export function useApprovals(options: {
  /** Names this file's tables (`<prefix>-1`, `<prefix>-2`, …). */
  readonly tablePrefix: string;
  readonly modules: readonly LoadedModule[];
  readonly policy: PolicyTable;
}): ApprovalsFixture {
  const tables = useDynaliteTables({});
  const sealer = new AesSealer();
  const logger = createLogger('mcp-server');
  let store: ApprovalStore | undefined;
  let logs: CapturedLogs | undefined;
  let tableCount = 0;

  beforeEach(async () => {
    // A table of its own for each test: the same call in two tests is two approvals.
    const name = `${options.tablePrefix}-${++tableCount}`;
    await createKeyedTable(tables.db, name, APPROVAL_TABLE_ATTRIBUTES.partitionKey);
    store = new DynamoApprovalStore(tables.db, name);
    logs = captureLogs();
  });

  afterEach(() => logs?.restore());

  const current = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`No ${what} outside a test`);
    return value;
  };

  const ticketOf = async (url: URL): Promise<ApprovalTicket> => {
    const { value } = await openJson(
      sealer,
      SEAL_PURPOSES.approvalTicket,
      url.searchParams.get('ticket') ?? '',
      Math.floor(Date.now() / 1000),
      parseApprovalTicket,
    );
    return value;
  };

  return {
    get store() {
      return current(store, 'approvals table');
    },
    get logs() {
      return current(logs, 'captured logs');
    },
    logger,
    handler: (overrides = {}) =>
      createMcpHandler({
        config: { allowedOrigins: [], maxBodyBytes: 1024 * 1024 },
        policy: options.policy,
        modules: options.modules,
        logger,
        approvals: createApprovals(options.modules, {
          store: current(store, 'approvals table'),
          sealer,
          policy: options.policy,
          pageUrl: PAGE_URL,
          logger,
          waitMs: 0,
          pollMs: 10,
          ...overrides,
        }),
      }),
    ticketOf,
    answer: async (url, decision = 'approved', seconds = 300) => {
      const ticket = await ticketOf(url);
      const now = Math.floor(Date.now() / 1000);
      const decided = await current(store, 'approvals table').decide(
        ticket.key,
        ticket.approvalId,
        decision,
        now + seconds,
        now,
      );
      expect(decided).toBe(true);
      return ticket;
    },
  };
}
