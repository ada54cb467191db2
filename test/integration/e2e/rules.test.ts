/**
 * The argument rules end to end, in both protocol eras, with real MCP SDK clients through the
 * local gateway: the real authorizer (handing a claim on), the bundled MCP function loading
 * Cedar from beside its bundle as deployed, enforce and log-only deployments, the audit
 * records in the MCP log group.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  Client as ModernClient,
  StreamableHTTPClientTransport as ModernTransport,
} from '@modelcontextprotocol/client';
import { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as LegacyTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PERMISSION_DENIED_CODE } from '../../../lambda/mcp/gate';
import { AUDIT_EVENTS, AUDIT_FIELDS, TOOL_CALL_STATUS } from '../../../lambda/shared/audit';
import type { LocalGateway } from '../../../tools/local/gateway';
import { loadSigningKey, mintAccessToken } from '../../../tools/local/identity';
import {
  type GatewayLogs,
  gatewayLogs,
  startTestGateway,
} from '../../support/local-gateway-fixture';
import { DESK_CLAIM, PAYMENTS_ROLES, payments } from './fixtures/payments-module';

const ERAS = ['2025-11-25', '2026-07-28'] as const;
type Era = (typeof ERAS)[number];
type AnyClient = Pick<LegacyClient, 'callTool' | 'close'>;

async function connect(url: string, token: string, era: Era): Promise<AnyClient> {
  const requestInit = { headers: { Authorization: `Bearer ${token}` } };
  if (era === '2025-11-25') {
    const client = new LegacyClient({ name: 'rules-e2e-legacy', version: '1.0.0' });
    await client.connect(new LegacyTransport(new URL(url), { requestInit }));
    return client;
  }
  const client = new ModernClient(
    { name: 'rules-e2e-modern', version: '1.0.0' },
    { versionNegotiation: { mode: { pin: '2026-07-28' } } },
  );
  await client.connect(new ModernTransport(new URL(url), { requestInit }));
  return client as unknown as AnyClient;
}

/** The error a call was refused with (code and data), or undefined if it was answered. */
async function refusal(call: Promise<unknown>) {
  return call.then(
    () => undefined,
    (error: { code?: number; data?: unknown }) => ({ code: error.code, data: error.data }),
  );
}

/** A gateway for the suite, its logs, and tokens minted with its signing key. */
function useGateway(prefix: string, options: Parameters<typeof startTestGateway>[1] = {}) {
  const fixture = {} as { gateway: LocalGateway; dir: string; logs: GatewayLogs };
  fixture.logs = gatewayLogs(() => fixture.gateway);
  beforeAll(async () => {
    fixture.dir = mkdtempSync(join(tmpdir(), prefix));
    fixture.gateway = await startTestGateway(fixture.dir, options);
  }, 120_000);
  afterAll(async () => {
    await fixture.gateway?.stop();
    rmSync(fixture.dir, { recursive: true, force: true });
  });
  const token = (sub: string, groups: string[], claims?: Record<string, unknown>) =>
    mintAccessToken(loadSigningKey(fixture.dir), {
      sub,
      groups,
      ...(claims === undefined ? {} : { claims }),
    });
  /** The audit record of the last tool call. */
  const lastCall = () =>
    fixture.logs
      .records()
      .filter((record) => record[AUDIT_FIELDS.event] === AUDIT_EVENTS.toolCall)
      .at(-1);
  return { fixture, token, lastCall };
}

describe('the default deployment (the example module and its rules, enforced)', () => {
  const { fixture, token, lastCall } = useGateway('mcp-rules-e2e-');

  describe.each(ERAS)('MCP %s', (era) => {
    it("refuses an analyst's 30-row page naming the rule, from the bundled function", async () => {
      // Prepare
      const client = await connect(fixture.gateway.mcpUrl, token('bob', ['analyst']), era);

      try {
        // Act
        const refused = await refusal(
          client.callTool({ name: 'query_customer_data', arguments: { limit: 30 } }),
        );

        // Assess
        expect(refused).toEqual({
          code: PERMISSION_DENIED_CODE,
          data: { tool: 'query_customer_data', deniedBy: ['analyst-page-limit'] },
        });
        expect(lastCall()).toMatchObject({
          [AUDIT_FIELDS.status]: TOOL_CALL_STATUS.denied,
          [AUDIT_FIELDS.ruleVerdict]: 'deny',
          [AUDIT_FIELDS.ruleIds]: ['analyst-page-limit'],
        });
      } finally {
        await client.close();
      }
    });

    it("serves the same analyst's 10-row page, and an admin's 30", async () => {
      const asAnalyst = await connect(fixture.gateway.mcpUrl, token('bob', ['analyst']), era);
      const asAdmin = await connect(fixture.gateway.mcpUrl, token('alice', ['admin']), era);
      try {
        const ten = await asAnalyst.callTool({
          name: 'query_customer_data',
          arguments: { limit: 10 },
        });
        const thirty = await asAdmin.callTool({
          name: 'query_customer_data',
          arguments: { limit: 30 },
        });
        expect(ten.isError).toBeFalsy();
        expect(thirty.isError).toBeFalsy();
        expect(lastCall()?.[AUDIT_FIELDS.ruleVerdict]).toBe('allow');
      } finally {
        await asAnalyst.close();
        await asAdmin.close();
      }
    });

    it('refuses closing an enterprise account, whoever asks', async () => {
      const client = await connect(fixture.gateway.mcpUrl, token('alice', ['admin']), era);
      try {
        const refused = await refusal(
          client.callTool({
            name: 'put_record',
            arguments: {
              name: 'Big Co',
              email: 'ops@big.example',
              country: 'DE',
              segment: 'enterprise',
              status: 'closed',
              balance: 100,
            },
          }),
        );
        expect(refused?.data).toEqual({
          tool: 'put_record',
          deniedBy: ['enterprise-accounts-stay-open'],
        });
      } finally {
        await client.close();
      }
    });
  });
});

describe('a log-only deployment (-c ruleMode=log-only)', () => {
  const { fixture, token, lastCall } = useGateway('mcp-rules-log-only-', {
    context: { ruleMode: 'log-only' },
  });

  it.each(ERAS)(
    'MCP %s: serves the page the rule would refuse, recorded as would_deny',
    async (era) => {
      const client = await connect(fixture.gateway.mcpUrl, token('bob', ['analyst']), era);
      try {
        const result = await client.callTool({
          name: 'query_customer_data',
          arguments: { limit: 30 },
        });
        expect(result.isError).toBeFalsy();
        expect(lastCall()).toMatchObject({
          [AUDIT_FIELDS.status]: TOOL_CALL_STATUS.success,
          [AUDIT_FIELDS.ruleVerdict]: 'would_deny',
          [AUDIT_FIELDS.ruleIds]: ['analyst-page-limit'],
        });
      } finally {
        await client.close();
      }
    },
  );
});

describe('a deployment whose rules read a claim (-c ruleClaims=custom:desk)', () => {
  const { fixture, token, lastCall } = useGateway('mcp-rules-claims-', {
    context: { ruleClaims: DESK_CLAIM },
    mcp: {
      entry: fileURLToPath(new URL('./fixtures/payments-entry.ts', import.meta.url)),
      modules: { list: [payments], infra: { payments: null }, roles: PAYMENTS_ROLES },
    },
  });

  describe.each(ERAS)('MCP %s', (era) => {
    it('refuses a clerk over 500.00 and serves one at 500.00 (a decimal bound)', async () => {
      const client = await connect(fixture.gateway.mcpUrl, token('cleo', ['clerk']), era);
      try {
        const over = await refusal(
          client.callTool({
            name: 'approve_payment',
            arguments: { amount: 500.01, currency: 'EUR' },
          }),
        );
        const at = await client.callTool({
          name: 'approve_payment',
          arguments: { amount: 500, currency: 'EUR' },
        });
        expect(over?.data).toMatchObject({ deniedBy: ['clerk-limit'] });
        expect(at.isError).toBeFalsy();
      } finally {
        await client.close();
      }
    });

    it("reads the caller's desk from the token: the EU desk pays in euros only", async () => {
      // Prepare: the authorizer hands the claim on; a token without it is not held to the rule.
      const eu = await connect(
        fixture.gateway.mcpUrl,
        token('emma', ['manager'], { [DESK_CLAIM]: 'eu' }),
        era,
      );
      const us = await connect(
        fixture.gateway.mcpUrl,
        token('uma', ['manager'], { [DESK_CLAIM]: 'us' }),
        era,
      );
      try {
        // Act
        const dollars = await refusal(
          eu.callTool({ name: 'approve_payment', arguments: { amount: 10, currency: 'USD' } }),
        );
        const euros = await eu.callTool({
          name: 'approve_payment',
          arguments: { amount: 10, currency: 'EUR' },
        });
        const usDollars = await us.callTool({
          name: 'approve_payment',
          arguments: { amount: 10, currency: 'USD' },
        });

        // Assess
        expect(dollars?.data).toMatchObject({ deniedBy: ['eu-desk-pays-euros'] });
        expect(euros.isError).toBeFalsy();
        expect(usDollars.isError).toBeFalsy();
        expect(lastCall()?.[AUDIT_FIELDS.ruleVerdict]).toBe('allow');
      } finally {
        await eu.close();
        await us.close();
      }
    });
  });
});
