/**
 * The narrowed-scope decision as pure functions, and the MCP handler's answer: a call its roles
 * permit but its token's scopes exclude gets the gate's -32003 naming the scopes to authorize
 * again with, for every protocol revision (a `403` with `WWW-Authenticate` from the function
 * would reach clients as `x-amzn-Remapped-WWW-Authenticate`); a role denial gets the plain one.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { PERMISSION_DENIED_CODE } from '../../../lambda/mcp/gate';
import { createMcpHandler } from '../../../lambda/mcp/handler';
import type { McpResponse } from '../../../lambda/mcp/response';
import {
  challengeScopes,
  compileStepUp,
  insufficientScopeRefusal,
  StepUpConfigError,
  type StepUpOptions,
} from '../../../lambda/mcp/step-up';
import { AUDIT_EVENTS, AUDIT_FIELDS, DENIAL_REASONS } from '../../../lambda/shared/audit';
import { createLogger } from '../../../lambda/shared/logger';
import { buildPolicyTable } from '../../../lambda/shared/policy';
import type { Principal } from '../../../lambda/shared/principal';
import { proxyEvent } from '../../support/apigw-events';
import { captureLogs } from '../../support/capture-logs';

const POLICY = buildPolicyTable({
  roles: { admin: ['read', 'write', 'erase'], writer: ['read', 'write'] },
  modules: [
    {
      name: 'docs',
      permissions: { read: 'Read', write: 'Write', erase: 'Erase' },
      tools: [
        { name: 'read_doc', permission: 'read' },
        { name: 'write_doc', permission: 'write' },
        { name: 'erase_doc', permission: 'erase' },
      ],
    },
  ],
});

const METADATA = 'https://api.example.com/.well-known/oauth-protected-resource';
const OPTIONS: StepUpOptions = {
  audienceScope: 'rs/tools',
  permissionScopes: ['rs/read', 'rs/write', 'rs/erase'],
  resourceMetadataUrl: () => METADATA,
};
const STEP_UP = compileStepUp(POLICY, OPTIONS);

const person = (groups: string[], scopes: string[]): Principal => ({
  principalId: 'user-1',
  authMethod: 'cognito',
  groups,
  scopes,
  keyId: '',
});

describe('challengeScopes', () => {
  it('names the audience scope, the scopes the token keeps and the missing one, in policy order', () => {
    // Act
    const scopes = challengeScopes(
      POLICY,
      STEP_UP,
      person(['admin'], ['rs/tools', 'rs/erase']),
      'write',
    );

    // Assess: a client replacing its scope with these keeps `erase`
    expect(scopes).toEqual(['rs/tools', 'rs/write', 'rs/erase']);
  });

  it('gives no challenge when no role of the caller grants the permission (a role denial)', () => {
    expect(
      challengeScopes(POLICY, STEP_UP, person(['writer'], ['rs/tools', 'rs/read']), 'erase'),
    ).toBeUndefined();
  });

  it('gives no challenge to an API key, whatever scopes its principal carries', () => {
    // Prepare: an API-key principal never has scopes; even if one did, no token could widen it
    const key: Principal = { ...person(['admin'], ['rs/read']), authMethod: 'api_key', keyId: 'k' };

    // Assess
    expect(challengeScopes(POLICY, STEP_UP, key, 'erase')).toBeUndefined();
  });

  it('gives no challenge for a permission the token already carries', () => {
    expect(
      challengeScopes(POLICY, STEP_UP, person(['admin'], ['rs/tools', 'rs/read']), 'read'),
    ).toBeUndefined();
  });

  it('gives no challenge to an un-narrowed token, whose roles are all it has', () => {
    expect(
      challengeScopes(POLICY, STEP_UP, person(['writer'], ['rs/tools']), 'erase'),
    ).toBeUndefined();
  });
});

describe('compileStepUp', () => {
  it('refuses a permission without a scope: it could never be stepped up to', () => {
    expect(() =>
      compileStepUp(POLICY, { ...OPTIONS, permissionScopes: ['rs/read', 'rs/write'] }),
    ).toThrow(StepUpConfigError);
  });

  it('refuses a scope naming no permission: identity and policy drifted apart', () => {
    expect(() =>
      compileStepUp(POLICY, {
        ...OPTIONS,
        permissionScopes: [...OPTIONS.permissionScopes, 'rs/x'],
      }),
    ).toThrow(/rs\/x/);
  });

  it('refuses an empty audience scope', () => {
    expect(() => compileStepUp(POLICY, { ...OPTIONS, audienceScope: '' })).toThrow(
      StepUpConfigError,
    );
  });
});

describe('insufficientScopeRefusal', () => {
  const refusal = {
    status: 'denied' as const,
    code: PERMISSION_DENIED_CODE,
    message: 'Permission denied',
    data: { tool: 'erase_doc', requiredPermission: 'erase' },
    permission: 'erase',
    item: { kind: 'tool' as const, name: 'erase_doc', permission: 'erase', module: 'docs' },
    errorType: DENIAL_REASONS.permission,
  };

  it("is the gate's -32003 keeping the refusal's data and adding the scopes and the metadata URL", () => {
    // Act
    const answer = insufficientScopeRefusal(refusal, ['rs/tools', 'rs/erase'], METADATA);

    // Assess
    expect(answer).toEqual({
      code: PERMISSION_DENIED_CODE,
      message: expect.stringMatching(
        /^Insufficient scope: 'erase_doc' requires permission 'erase'/,
      ),
      data: {
        tool: 'erase_doc',
        requiredPermission: 'erase',
        requiredScopes: ['rs/tools', 'rs/erase'],
        resourceMetadata: METADATA,
      },
    });
  });

  it('names the scopes to authorize again with in its message, space-separated as OAuth writes them', () => {
    expect(insufficientScopeRefusal(refusal, ['rs/tools', 'rs/erase'], METADATA).message).toContain(
      "authorize again with scope 'rs/tools rs/erase'",
    );
  });
});

// ---------------------------------------------------------------------------------------------

/** The 2026-07-28 per-request envelope a modern client puts in `params._meta`. */
const ENVELOPE = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientInfo': { name: 'step-up-test', version: '0.0.0' },
  'io.modelcontextprotocol/clientCapabilities': {},
};

/** A `tools/call` of `erase_doc` as a client of `version` sends it (none: no header at all). */
function callEvent(principal: Principal, version: string | undefined): APIGatewayProxyEvent {
  const modern = version === '2026-07-28';
  const body = {
    jsonrpc: '2.0',
    id: 7,
    method: 'tools/call',
    params: { name: 'erase_doc', arguments: {}, ...(modern ? { _meta: ENVELOPE } : {}) },
  };
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    Accept: 'application/json, text/event-stream',
    ...(version === undefined ? {} : { 'MCP-Protocol-Version': version }),
    ...(modern ? { 'Mcp-Method': 'tools/call', 'Mcp-Name': 'erase_doc' } : {}),
  };
  return proxyEvent({
    headers,
    body: JSON.stringify(body),
    requestId: 'req-1',
    sourceIp: '203.0.113.9',
    caller: principal,
  });
}

/** Every revision a client may speak: the answer no longer depends on it. */
const VERSIONS = [
  ['2026-07-28', '2026-07-28'],
  ['2025-11-25', '2025-11-25'],
  ['2025-06-18', '2025-06-18'],
  ['no MCP-Protocol-Version (2025-03-26)', undefined],
] as const;

/** The status, the headers' names and the JSON-RPC message of a JSON answer. */
async function answerOf(response: McpResponse) {
  const text =
    typeof response.body === 'string' ? response.body : await new Response(response.body).text();
  return {
    statusCode: response.statusCode,
    headerNames: Object.keys(response.headers).map((name) => name.toLowerCase()),
    message: JSON.parse(text) as { id: unknown; error?: { code: number; data?: unknown } },
  };
}

describe('the MCP handler', () => {
  const handlerWith = (stepUp: StepUpOptions | undefined) =>
    createMcpHandler({
      config: { allowedOrigins: [], maxBodyBytes: 1024 * 1024 },
      policy: POLICY,
      modules: [],
      logger: createLogger('step-up-test'),
      ...(stepUp === undefined ? {} : { stepUp }),
    });
  const narrowed = person(['admin'], ['rs/tools', 'rs/read']);

  it.each(VERSIONS)(
    'answers a narrowed token (%s) with 200 and -32003 naming the scopes and the metadata URL, never a challenge API Gateway would rename',
    async (_, version) => {
      // Prepare
      const logs = captureLogs();

      // Act
      const answer = await answerOf(await handlerWith(OPTIONS)(callEvent(narrowed, version)));
      logs.restore();

      // Assess
      expect(answer).toEqual({
        statusCode: 200,
        headerNames: expect.not.arrayContaining(['www-authenticate']),
        message: {
          jsonrpc: '2.0',
          id: 7,
          error: {
            code: PERMISSION_DENIED_CODE,
            message: expect.stringMatching(/^Insufficient scope: 'erase_doc'/),
            data: {
              tool: 'erase_doc',
              requiredPermission: 'erase',
              requiredScopes: ['rs/tools', 'rs/read', 'rs/erase'],
              resourceMetadata: METADATA,
            },
          },
        },
      });
    },
  );

  it('audits the refusal once, as a scope denial of the permission', async () => {
    // Prepare
    const logs = captureLogs();

    // Act
    await handlerWith(OPTIONS)(callEvent(narrowed, '2025-11-25'));
    logs.restore();

    // Assess
    const records = logs.records().filter((r) => r[AUDIT_FIELDS.event] === AUDIT_EVENTS.toolCall);
    expect(records).toEqual([
      expect.objectContaining({
        [AUDIT_FIELDS.status]: 'denied',
        [AUDIT_FIELDS.errorType]: DENIAL_REASONS.scope,
        [AUDIT_FIELDS.tool]: 'erase_doc',
        [AUDIT_FIELDS.permission]: 'erase',
      }),
    ]);
  });

  it('asks for the metadata URL of the name the request came in by', async () => {
    // Prepare
    const logs = captureLogs();
    const hosts: (string | undefined)[] = [];
    const event = callEvent(narrowed, '2026-07-28');
    event.headers.Host = 'mcp.example.com';

    // Act
    const answer = await answerOf(
      await handlerWith({
        ...OPTIONS,
        resourceMetadataUrl: (host) => {
          hosts.push(host);
          return `https://${host}/.well-known/oauth-protected-resource`;
        },
      })(event),
    );
    logs.restore();

    // Assess
    expect(hosts).toEqual(['mcp.example.com']);
    expect(answer.message.error?.data).toMatchObject({
      resourceMetadata: 'https://mcp.example.com/.well-known/oauth-protected-resource',
    });
  });

  it.each(VERSIONS)(
    'answers a role denial (%s) with the plain -32003: no scopes, since no token could fix it',
    async (_, version) => {
      // Prepare
      const logs = captureLogs();

      // Act
      const answer = await answerOf(
        await handlerWith(OPTIONS)(callEvent(person(['writer'], ['rs/tools', 'rs/read']), version)),
      );
      logs.restore();

      // Assess
      expect(answer.statusCode).toBe(200);
      expect(answer.message.error?.code).toBe(PERMISSION_DENIED_CODE);
      expect(answer.message.error?.data).not.toHaveProperty('requiredScopes');
      expect(
        logs.records().find((r) => r[AUDIT_FIELDS.event] === AUDIT_EVENTS.toolCall),
      ).toMatchObject({ [AUDIT_FIELDS.errorType]: DENIAL_REASONS.permission });
    },
  );

  it('without step-up configured, answers a scope denial like a role denial', async () => {
    // Prepare
    const logs = captureLogs();

    // Act
    const answer = await answerOf(await handlerWith(undefined)(callEvent(narrowed, '2025-11-25')));
    logs.restore();

    // Assess
    expect(answer.statusCode).toBe(200);
    expect(answer.message.error?.code).toBe(PERMISSION_DENIED_CODE);
    expect(answer.message.error?.data).not.toHaveProperty('requiredScopes');
  });
});
