/**
 * The step-up decision as pure functions, and the MCP handler's answer for each era: which
 * refusals become `403 insufficient_scope` and which stay the JSON-RPC -32003.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { PERMISSION_DENIED_CODE } from '../../lambda/mcp/gate';
import { createMcpHandler } from '../../lambda/mcp/handler';
import {
  challengeScopes,
  compileStepUp,
  insufficientScopeChallenge,
  StepUpConfigError,
  type StepUpOptions,
  speaksStepUp,
} from '../../lambda/mcp/step-up';
import { AUDIT_EVENTS, AUDIT_FIELDS, DENIAL_REASONS } from '../../lambda/shared/audit';
import { createLogger } from '../../lambda/shared/logger';
import { buildPolicyTable } from '../../lambda/shared/policy';
import { type Principal, toAuthorizerContext } from '../../lambda/shared/principal';
import { captureLogs } from '../helpers/capture-logs';

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

describe('speaksStepUp', () => {
  it.each([
    ['modern', undefined, true],
    ['legacy', '2025-11-25', true],
    ['legacy', '2025-06-18', false],
    ['legacy', '2025-03-26', false],
    ['legacy', undefined, false],
    ['legacy', 'garbage', false],
  ] as const)('%s with MCP-Protocol-Version %s: %s', (era, header, expected) => {
    expect(speaksStepUp(era, header)).toBe(expected);
  });
});

describe('insufficientScopeChallenge', () => {
  it('is an RFC 6750 Bearer challenge with the scopes space-separated', () => {
    expect(insufficientScopeChallenge(['rs/tools', 'rs/erase'], METADATA, 'erase')).toBe(
      `Bearer error="insufficient_scope", scope="rs/tools rs/erase", resource_metadata="${METADATA}", error_description="The token's scopes do not include permission erase"`,
    );
  });
});

// ---------------------------------------------------------------------------------------------

function callEvent(principal: Principal, headers: Record<string, string>): APIGatewayProxyEvent {
  const body = {
    jsonrpc: '2.0',
    id: 7,
    method: 'tools/call',
    params: { name: 'erase_doc', arguments: {} },
  };
  return {
    httpMethod: 'POST',
    path: '/mcp',
    resource: '/mcp',
    headers: { 'Content-Type': 'application/json', ...headers },
    multiValueHeaders: {},
    body: JSON.stringify(body),
    isBase64Encoded: false,
    requestContext: {
      requestId: 'req-1',
      identity: { sourceIp: '203.0.113.9' },
      authorizer: toAuthorizerContext(principal),
    },
  } as unknown as APIGatewayProxyEvent;
}

const LEGACY_HEADERS = { 'MCP-Protocol-Version': '2025-11-25' };

describe('the MCP handler', () => {
  const handlerWith = (stepUp: StepUpOptions | undefined) =>
    createMcpHandler({
      config: { allowedOrigins: [], maxBodyBytes: 1024 * 1024 },
      policy: POLICY,
      modules: [],
      logger: createLogger('step-up-test'),
      ...(stepUp === undefined ? {} : { stepUp }),
    });

  it('answers 403 insufficient_scope with a JSON-RPC body for the request, and audits it as a scope denial', async () => {
    // Prepare
    const logs = captureLogs();
    const narrowed = person(['admin'], ['rs/tools', 'rs/read']);

    // Act
    const response = await handlerWith(OPTIONS)(callEvent(narrowed, LEGACY_HEADERS));
    logs.restore();

    // Assess
    expect(response.statusCode).toBe(403);
    expect(response.headers['WWW-Authenticate']).toBe(
      insufficientScopeChallenge(['rs/tools', 'rs/read', 'rs/erase'], METADATA, 'erase'),
    );
    expect(JSON.parse(response.body as string)).toMatchObject({
      id: 7,
      error: {
        code: PERMISSION_DENIED_CODE,
        data: { requiredScopes: ['rs/tools', 'rs/read', 'rs/erase'] },
      },
    });
    const records = logs.records().filter((r) => r[AUDIT_FIELDS.event] === AUDIT_EVENTS.toolCall);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      [AUDIT_FIELDS.status]: 'denied',
      [AUDIT_FIELDS.errorType]: DENIAL_REASONS.scope,
      [AUDIT_FIELDS.permission]: 'erase',
    });
  });

  it('answers a client of an older revision (2025-06-18) with the JSON-RPC -32003 it understands', async () => {
    // Prepare
    const logs = captureLogs();

    // Act
    const response = await handlerWith(OPTIONS)(
      callEvent(person(['admin'], ['rs/tools', 'rs/read']), {
        'MCP-Protocol-Version': '2025-06-18',
      }),
    );
    logs.restore();

    // Assess
    expect(response.statusCode).toBe(200);
    expect(response.headers['WWW-Authenticate']).toBeUndefined();
    expect(JSON.parse(response.body as string).error.code).toBe(PERMISSION_DENIED_CODE);
  });

  it('answers a role denial with -32003 and no challenge, even for a narrowed token', async () => {
    // Prepare
    const logs = captureLogs();

    // Act
    const response = await handlerWith(OPTIONS)(
      callEvent(person(['writer'], ['rs/tools', 'rs/read']), LEGACY_HEADERS),
    );
    logs.restore();

    // Assess
    expect(response.statusCode).toBe(200);
    expect(response.headers['WWW-Authenticate']).toBeUndefined();
    expect(JSON.parse(response.body as string).error.code).toBe(PERMISSION_DENIED_CODE);
    expect(
      logs.records().find((r) => r[AUDIT_FIELDS.event] === AUDIT_EVENTS.toolCall),
    ).toMatchObject({
      [AUDIT_FIELDS.errorType]: DENIAL_REASONS.permission,
    });
  });

  it('without step-up configured, answers a scope denial like a role denial', async () => {
    // Prepare
    const logs = captureLogs();

    // Act
    const response = await handlerWith(undefined)(
      callEvent(person(['admin'], ['rs/tools', 'rs/read']), LEGACY_HEADERS),
    );
    logs.restore();

    // Assess
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body as string).error.code).toBe(PERMISSION_DENIED_CODE);
  });
});
