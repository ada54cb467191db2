/**
 * Early deny: which requests the authorizer refuses by their 2026-07-28 headers (and which it
 * must let through to the MCP Lambda), the policy document it reads, and the handler's Deny and
 * audit record.
 */
import { isDeepStrictEqual } from 'node:util';
import type { APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import type { AccessTokenVerifier } from '../../../lambda/authorizer/cognito';
import {
  EarlyDenyPolicyError,
  earlyDenyPolicyOf,
  forbiddenItem,
  narrowedItem,
  parseEarlyDenyPolicy,
} from '../../../lambda/authorizer/early-deny';
import { createAuthorizerHandler } from '../../../lambda/authorizer/handler';
import { challengeScopes, compileStepUp } from '../../../lambda/mcp/step-up';
import { AUDIT_EVENTS, AUDIT_FIELDS } from '../../../lambda/shared/audit';
import { createLogger } from '../../../lambda/shared/logger';
import type { Principal } from '../../../lambda/shared/principal';
import { policyAllows } from '../../../tools/local/emulator/authorizer';
import { authorizerEvent, methodArnOf, type Values } from '../../support/apigw-events';
import { captureLogs } from '../../support/capture-logs';
import { FIXTURE_POLICY } from '../../support/fixture-deployment';

const EARLY = earlyDenyPolicyOf(FIXTURE_POLICY);
const MODERN = '2026-07-28';

/** The headers of a request, as the authorizer's event carries them (both maps). */
const request = (headers: Values) => authorizerEvent({ headers });

const call = (name: string, method = 'tools/call', version = MODERN) =>
  request({ 'MCP-Protocol-Version': version, 'Mcp-Method': method, 'Mcp-Name': name });

describe('forbiddenItem', () => {
  it('refuses a 2026-07-28 tools/call of a tool none of the roles grant', () => {
    expect(forbiddenItem(EARLY, { groups: ['analyst'] }, call('delete_record'))).toEqual({
      kind: 'tool',
      item: 'delete_record',
      permission: 'delete_data',
    });
  });

  it('refuses a prompt and a fixed resource by name and URI', () => {
    expect(
      forbiddenItem(EARLY, { groups: ['readonly'] }, call('segment_review', 'prompts/get')),
    ).toMatchObject({ kind: 'prompt', permission: 'run_reports' });
    expect(
      forbiddenItem(EARLY, { groups: [] }, call('customers://schema/record', 'resources/read')),
    ).toMatchObject({
      kind: 'resource',
      item: 'customers://schema/record',
    });
  });

  it('lets through a call any one of the roles grants', () => {
    expect(
      forbiddenItem(EARLY, { groups: ['readonly', 'admin'] }, call('delete_record')),
    ).toBeUndefined();
  });

  it.each([
    [
      'a 2025-11-25 request (its body, not a header, says what it calls)',
      call('delete_record', 'tools/call', '2025-11-25'),
    ],
    [
      'a request with no protocol version',
      request({ 'Mcp-Method': 'tools/call', 'Mcp-Name': 'delete_record' }),
    ],
    [
      'a request with no Mcp-Name',
      request({ 'MCP-Protocol-Version': MODERN, 'Mcp-Method': 'tools/call' }),
    ],
    ['tools/list (no item)', call('delete_record', 'tools/list')],
    ['completion/complete (left to the MCP Lambda)', call('delete_record', 'completion/complete')],
    ["an unknown tool (the MCP Lambda answers the spec's error)", call('no_such_tool')],
    [
      "a resource template's URI (matched by the MCP Lambda)",
      call('customers://segments/retail/summary', 'resources/read'),
    ],
    [
      'an Mcp-Name sent twice',
      request({
        'MCP-Protocol-Version': MODERN,
        'Mcp-Method': 'tools/call',
        'Mcp-Name': ['get_record', 'delete_record'],
      }),
    ],
  ])('lets through %s', (_, headers) => {
    expect(forbiddenItem(EARLY, { groups: ['readonly'] }, headers)).toBeUndefined();
  });

  it("ignores the token's scopes: what the roles grant and the scopes exclude is step-up's (narrowedItem)", () => {
    // Prepare: forbiddenItem takes no scopes at all; an admin narrowed to read_data is an admin here
    expect(forbiddenItem(EARLY, { groups: ['admin'] }, call('delete_record'))).toBeUndefined();
  });
});

const AUDIENCE = 'secure-mcp/tools';
const scope = (permission: string) => `secure-mcp/${permission}`;

/** A person signed in through Cognito, with its token's scopes. */
const person = (groups: string[], permissions: string[] = []) => ({
  authMethod: 'cognito' as const,
  groups,
  scopes: [AUDIENCE, ...permissions.map(scope)],
});

describe('narrowedItem', () => {
  it('names a tool the roles grant but the scopes exclude, with the audience, its scope and the scopes kept', () => {
    // Act
    const narrowed = narrowedItem(
      EARLY,
      person(['admin'], ['read_data']),
      call('delete_record'),
      AUDIENCE,
    );

    // Assess
    expect(narrowed).toEqual({
      kind: 'tool',
      item: 'delete_record',
      permission: 'delete_data',
      requiredScopes: [AUDIENCE, scope('delete_data'), scope('read_data')],
    });
  });

  it('keeps only the scopes the roles grant: asking for more would be refused again', () => {
    // Act: an analyst's token names delete_data, which no role of the analyst grants
    const narrowed = narrowedItem(
      EARLY,
      person(['analyst'], ['read_data', 'delete_data']),
      call('run_report'),
      AUDIENCE,
    );

    // Assess
    expect(narrowed?.requiredScopes).toEqual([AUDIENCE, scope('run_reports'), scope('read_data')]);
  });

  it('names a prompt and a fixed resource by name and URI', () => {
    expect(
      narrowedItem(
        EARLY,
        person(['admin'], ['read_data']),
        call('segment_review', 'prompts/get'),
        AUDIENCE,
      ),
    ).toMatchObject({ kind: 'prompt', item: 'segment_review', permission: 'run_reports' });
    expect(
      narrowedItem(
        EARLY,
        person(['admin'], ['delete_data']),
        call('customers://schema/record', 'resources/read'),
        AUDIENCE,
      ),
    ).toMatchObject({ kind: 'resource', item: 'customers://schema/record' });
  });

  it("names the permission scopes under the audience scope's resource server", () => {
    expect(
      narrowedItem(EARLY, person(['admin'], ['read_data']), call('delete_record'), 'rs-2/tools')
        ?.requiredScopes,
    ).toEqual(['rs-2/tools', 'rs-2/delete_data', 'rs-2/read_data']);
  });

  it.each([
    [
      'a permission no role grants (no token could fix it)',
      person(['analyst'], ['read_data']),
      call('delete_record'),
    ],
    ['a permission the token names', person(['admin'], ['read_data']), call('get_record')],
    ['a token not narrowed at all', person(['admin']), call('delete_record')],
    [
      'an API key, even one whose principal carried scopes',
      { ...person(['admin'], ['read_data']), authMethod: 'api_key' as const },
      call('delete_record'),
    ],
    [
      'a 2025-11-25 request (its body, not a header, says what it calls)',
      person(['admin'], ['read_data']),
      call('delete_record', 'tools/call', '2025-11-25'),
    ],
    ['an unknown tool', person(['admin'], ['read_data']), call('no_such_tool')],
    ['tools/list (no item)', person(['admin'], ['read_data']), call('delete_record', 'tools/list')],
  ])('is undefined for %s', (_, principal, headers) => {
    expect(narrowedItem(EARLY, principal, headers, AUDIENCE)).toBeUndefined();
  });

  it('asks for the same scopes as the MCP function would, for every tool and caller', () => {
    // Prepare: the MCP function's own computation, over the same policy
    const stepUp = compileStepUp(FIXTURE_POLICY, {
      audienceScope: AUDIENCE,
      permissionScopes: Object.keys(FIXTURE_POLICY.permissions).map(scope),
      resourceMetadataUrl: () => 'https://example.com/.well-known/oauth-protected-resource',
    });
    const callers: Pick<Principal, 'authMethod' | 'groups' | 'scopes'>[] = [
      person(['admin'], ['read_data']),
      person(['admin'], ['run_reports', 'write_data']),
      person(['analyst'], ['read_data', 'delete_data']),
      person(['analyst', 'readonly'], ['run_reports']),
      person(['admin'], ['no_such_permission']),
      person(['admin']),
    ];
    const sorted = (scopes: readonly string[] | undefined) =>
      scopes === undefined ? undefined : [...scopes].sort();

    // Act
    const answers = callers.flatMap((caller) =>
      FIXTURE_POLICY.items.tool.map((tool) => ({
        caller,
        tool: tool.name,
        gateway: sorted(narrowedItem(EARLY, caller, call(tool.name), AUDIENCE)?.requiredScopes),
        lambda: sorted(challengeScopes(FIXTURE_POLICY, stepUp, caller, tool.permission)),
      })),
    );

    // Assess: step-ups were found, and the two agree on each
    expect(answers.filter((answer) => answer.lambda !== undefined).length).toBeGreaterThan(5);
    expect(answers.filter((answer) => !isDeepStrictEqual(answer.gateway, answer.lambda))).toEqual(
      [],
    );
  });
});

describe('the early-deny policy document', () => {
  it('round-trips through the environment and holds every named item of the policy', () => {
    // Act
    const parsed = parseEarlyDenyPolicy(JSON.stringify(EARLY));

    // Assess
    expect(parsed).toEqual(EARLY);
    expect(Object.keys(parsed.tools)).toEqual(FIXTURE_POLICY.items.tool.map((tool) => tool.name));
    expect(parsed.roles).toEqual(FIXTURE_POLICY.roles);
  });

  it.each([
    ['not JSON', '{'],
    ['the wrong shape', JSON.stringify({ roles: {}, tools: {} })],
    ['an unknown field', JSON.stringify({ ...EARLY, extra: 1 })],
  ])('refuses a document that is %s', (_, text) => {
    expect(() => parseEarlyDenyPolicy(text)).toThrow(EarlyDenyPolicyError);
  });
});

// ---------------------------------------------------------------------------------------------

const API = { region: 'eu-west-1' };
const METHOD_ARN = methodArnOf({ method: 'POST', path: '/mcp', api: API });

/** The authorizer's event for a bearer token and these headers. */
function eventWith(headers: Record<string, string>): APIGatewayRequestAuthorizerEvent {
  return authorizerEvent({
    api: API,
    requestId: 'req-early',
    sourceIp: '203.0.113.8',
    headers: { Authorization: 'Bearer a.b.c', ...headers },
  });
}

/** A verifier that accepts any token as an analyst's. */
const analystVerifier: AccessTokenVerifier = {
  verify: async () => ({
    sub: 'bob',
    exp: Math.floor(Date.now() / 1000) + 600,
    scope: 'secure-mcp/tools',
    'cognito:groups': ['analyst'],
  }),
};

describe('the authorizer with early deny', () => {
  const handler = (earlyDeny: boolean) =>
    createAuthorizerHandler({
      logger: createLogger('early-deny-test'),
      apiKeyRoles: new Set(['analyst']),
      verifier: analystVerifier,
      apiKeys: { verify: async () => ({ ok: false, reason: 'unknown_key', keyId: '' }) },
      ...(earlyDeny ? { earlyDeny: EARLY } : {}),
    });
  const forbidden = {
    'MCP-Protocol-Version': MODERN,
    'Mcp-Method': 'tools/call',
    'Mcp-Name': 'delete_record',
  };

  it('answers a Deny and audits it as item_forbidden, naming the tool and permission', async () => {
    // Prepare
    const logs = captureLogs();

    // Act
    const result = await handler(true)(eventWith(forbidden));
    logs.restore();

    // Assess
    expect(policyAllows(result, METHOD_ARN)).toBe(false);
    const [record] = logs
      .records()
      .filter((r) => r[AUDIT_FIELDS.event] === AUDIT_EVENTS.authDecision);
    expect(record).toMatchObject({
      [AUDIT_FIELDS.decision]: 'deny',
      [AUDIT_FIELDS.reason]: 'item_forbidden',
      [AUDIT_FIELDS.tool]: 'delete_record',
      [AUDIT_FIELDS.permission]: 'delete_data',
      [AUDIT_FIELDS.caller]: 'bob',
    });
  });

  it("allows the same principal's permitted call right after (nothing of the Deny carries over)", async () => {
    // Prepare
    const logs = captureLogs();
    const authorize = handler(true);

    // Act
    await authorize(eventWith(forbidden));
    const next = await authorize(eventWith({ ...forbidden, 'Mcp-Name': 'get_record' }));
    logs.restore();

    // Assess
    expect(policyAllows(next, METHOD_ARN)).toBe(true);
  });

  it('allows everything a valid credential asks for when early deny is off', async () => {
    // Prepare
    const logs = captureLogs();

    // Act
    const result = await handler(false)(eventWith(forbidden));
    logs.restore();

    // Assess: the MCP Lambda refuses it instead
    expect(policyAllows(result, METHOD_ARN)).toBe(true);
  });
});
