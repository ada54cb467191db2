/**
 * The acid test of the monitoring: its metric filters and Contributor Insights rule, taken from
 * the synthesized template, count exactly the audit records the real authorizer and MCP handler
 * write through the local gateway, and its patterns count exactly what the real OAuth proxy and
 * MCP handlers write for each outcome. The construct's template itself: test/unit/lib/monitoring/.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMcpHandler, type McpHandler } from '../../../lambda/mcp/handler';
import { AesSealer } from '../../../lambda/oauth-proxy/aes-sealer';
import { CimdResolver } from '../../../lambda/oauth-proxy/cimd';
import { ClientDirectory } from '../../../lambda/oauth-proxy/clients';
import { createOAuthProxyHandler } from '../../../lambda/oauth-proxy/handler';
import { OAuthProxy } from '../../../lambda/oauth-proxy/proxy';
import {
  AUDIT_EVENTS,
  AUDIT_FIELDS,
  AUTH_DECISION,
  AUTHORIZATION_OUTCOME,
  UNKNOWN_TOOL,
} from '../../../lambda/shared/audit';
import { createLogger } from '../../../lambda/shared/logger';
import type { Principal } from '../../../lambda/shared/principal';
import { OAUTH_PATHS } from '../../../lambda/shared/routes';
import { METRIC_NAMES, TOOL_DIMENSION } from '../../../lib/monitoring';
import {
  deniedCallPattern,
  ruleDeniedPattern,
  ruleErrorPattern,
  ruleWouldDenyPattern,
} from '../../../lib/monitoring/patterns';
import { customerRecords } from '../../../modules/customer-records/module';
import type { RecordStore } from '../../../modules/customer-records/store/customer-record';
import { POLICY } from '../../../modules/policy';
import type { LocalGateway } from '../../../tools/local/gateway';
import { loadSigningKey, mintAccessToken } from '../../../tools/local/identity';
import { captureLogs } from '../../support/capture-logs';
import { deploymentRole } from '../../support/deployment-roles';
import { handlerFetch } from '../../support/handler-fetch';
import { MemoryCodeStore } from '../../support/in-process-oauth';
import { startTestGateway } from '../../support/local-gateway-fixture';
import {
  compileFilterPattern,
  evaluateInsightRule,
  evaluateMetricFilter,
  type MetricTransformation,
  parseInsightRule,
  parseJsonEvent,
  ruleMatches,
} from '../../support/log-patterns';
import { MemoryRefreshFamilyStore } from '../../support/memory-refresh-families';
import {
  abuseAlarm,
  breaches,
  buildFixture,
  onlyResource,
  type Resource,
  TOOL_NAMES,
} from '../../support/monitoring-fixture';
import { render } from '../../support/template-helpers';
import { testAssembly } from '../../support/test-assembly';

// ---------------------------------------------------------------------------------------------
// The acid test: the deployed patterns against the records the real handlers write
// ---------------------------------------------------------------------------------------------

describe('Monitoring against the audit records the real handlers write', () => {
  // The deployed stack's template: the one the gateway below serves.
  const fixture = { template: Template.fromJSON(testAssembly().template as never) };
  /** The log group a function of the stack writes to (its LoggingConfig), by service name. */
  const groupOf = (service: string) => {
    const fn = Object.values(fixture.template.findResources('AWS::Lambda::Function')).find(
      (resource) =>
        (resource as { Properties: { Environment?: { Variables?: Record<string, unknown> } } })
          .Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME === service,
    ) as Resource | undefined;
    const ref = (fn?.Properties.LoggingConfig as { LogGroup?: { Ref?: string } } | undefined)
      ?.LogGroup?.Ref;
    if (ref === undefined) throw new Error(`No log group for ${service}`);
    return ref;
  };
  const mcpGroup = groupOf('mcp-server');
  const authorizerGroup = groupOf('mcp-authorizer');
  /** The stage's access log group (the only log group the API's stage writes to). */
  const accessGroup = (() => {
    const stage = Object.values(fixture.template.findResources('AWS::ApiGateway::Stage'))[0] as
      | Resource
      | undefined;
    const arn = stage?.Properties.AccessLogSetting as
      | { DestinationArn?: { 'Fn::GetAtt'?: string[] } }
      | undefined;
    const id = arn?.DestinationArn?.['Fn::GetAtt']?.[0];
    if (id === undefined) throw new Error('No access log group');
    return id;
  })();

  /** The metric filters of the template: a metric may be fed by filters on two log groups. */
  const filters = (
    Object.values(fixture.template.findResources('AWS::Logs::MetricFilter')) as Resource[]
  ).map(({ Properties }) => {
    const [transformation] = Properties.MetricTransformations as (MetricTransformation & {
      MetricName: string;
    })[];
    if (transformation === undefined) throw new Error('A metric filter without a metric');
    return {
      metric: transformation.MetricName,
      pattern: Properties.FilterPattern as string,
      transformation,
      logGroup: (Properties.LogGroupName as { Ref: string }).Ref,
    };
  });
  /** The filter publishing `metric` (from `group`, when two log groups feed it). */
  const filter = (metric: string, group?: string) => {
    const found = filters.filter(
      (candidate) =>
        candidate.metric === metric && (group === undefined || candidate.logGroup === group),
    );
    if (found.length !== 1) {
      throw new Error(
        `${found.length} metric filters publish ${metric}${group ? ` from ${group}` : ''}`,
      );
    }
    return found[0] as (typeof found)[number];
  };
  const rule = parseInsightRule(
    render(onlyResource(fixture.template, 'AWS::CloudWatch::InsightRule').Properties.RuleBody),
  );

  let gateway: LocalGateway | undefined;
  let dir = '';
  /** Log lines by the logical id of the log group Lambda would have shipped them to. */
  const lines: Record<string, string[]> = {
    [mcpGroup]: [],
    [authorizerGroup]: [],
    [accessGroup]: [],
  };
  const records = (group: string) =>
    (lines[group] ?? []).flatMap((line) => {
      const record = parseJsonEvent(line);
      return record === undefined ? [] : [record];
    });
  const matching = (pattern: string, group: string) => {
    const matcher = compileFilterPattern(pattern);
    return (lines[group] ?? []).filter((line) => matcher.matches(line)).map((l) => JSON.parse(l));
  };
  const total = (metric: string, group: string) => {
    const { pattern, transformation } = filter(metric, group);
    return evaluateMetricFilter(pattern, transformation, lines[group] ?? []).reduce(
      (sum, series) => sum + series.sum,
      0,
    );
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mcp-monitoring-'));
    const key = loadSigningKey(dir);
    const token = (sub: string, groups: string[], expiresIn?: number) =>
      mintAccessToken(key, { sub, groups, ...(expiresIn === undefined ? {} : { expiresIn }) });
    // Reads records, may not delete them: her deletes are the denied calls counted below.
    const alice = token('alice', [
      deploymentRole({ grants: ['read_data'], lacks: ['delete_data'] }),
    ]);
    const bob = token('bob', ['analyst']);
    const carol = token('carol', ['admin']);

    {
      gateway = await startTestGateway(dir);
      const url = gateway.mcpUrl;
      const post = async (authorization: string | undefined, method: string, params: unknown) => {
        const response = await fetch(url, {
          method: 'POST',
          headers: {
            'Content-Type': 'application/json',
            Accept: 'application/json, text/event-stream',
            'MCP-Protocol-Version': '2025-06-18',
            ...(authorization === undefined ? {} : { Authorization: authorization }),
          },
          body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
        });
        await response.text();
        return response.status;
      };
      const call = async (bearer: string, name: string, args: unknown, times = 1) => {
        // One after another, so the records come in a known order.
        for (let i = 0; i < times; i += 1) {
          await post(`Bearer ${bearer}`, 'tools/call', { name, arguments: args });
        }
      };

      // The first request is an allowed tool call: it meets both functions cold. It also loads
      // Cedar (the tool has rules), whose WebAssembly V8 goes on compiling in the background
      // after the answer: a moment's pause lets that environment finish before the next call,
      // which would otherwise start a second (cold) one, as a quick follow-up may.
      await call(alice, 'query_customer_data', { segment: 'retail', limit: 2 });
      await new Promise((resolve) => setTimeout(resolve, 300));
      await call(alice, 'query_customer_data', { segment: 'retail', limit: 2 }, 4);
      await call(alice, 'delete_record', { id: 'cust-0001' }, 3);
      await post(`Bearer ${alice}`, 'tools/list', {});
      await call(bob, 'run_report', { group_by: 'segment' }, 2);
      await call(bob, 'put_record', { id: 'cust-0001', name: 'X' });
      // A store failure: DynamoDB throttles every attempt the client makes (3), so the tool
      // fails, and the handler does not.
      gateway.emulator.faults.failNext(
        'DynamoDB',
        'GetItem',
        { code: 'ProvisionedThroughputExceededException' },
        3,
      );
      await call(bob, 'get_record', { id: 'cust-0002' });
      await call(carol, 'get_record', { id: 'cust-0002' }, 2);
      await call(carol, 'no_such_tool', {});
      await call(carol, 'get_record', {});
      await post(undefined, 'tools/call', { name: 'get_record', arguments: { id: 'cust-0002' } });
      await post(undefined, 'tools/list', {});
      await post('Bearer not-a-token', 'tools/list', {});
      await post(`Bearer ${token('mallory', ['admin'], -60)}`, 'tools/list', {});
    }
    // What each function wrote to its own log group, as Lambda ships it (the emulator's).
    const { resolver } = gateway.emulator;
    for (const group of [mcpGroup, authorizerGroup, accessGroup]) {
      lines[group] = gateway.logs.events(resolver.ref(group)).map((event) => event.message);
    }
  }, 120_000);

  afterAll(async () => {
    await gateway?.stop();
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  it('captured one audit record per tool call and per authorizer decision', () => {
    // Act
    const events = (group: string) => records(group).map((record) => record[AUDIT_FIELDS.event]);

    // Assess
    expect(events(mcpGroup).filter((e) => e === AUDIT_EVENTS.toolCall)).toHaveLength(16);
    // Two requests carried no credential: API Gateway answered them 401 without calling the
    // authorizer, which therefore wrote nothing about them.
    expect(events(authorizerGroup).filter((e) => e === AUDIT_EVENTS.authDecision)).toHaveLength(19);
  });

  it('publishes one tool call per record, under the tool named in it', () => {
    // Prepare
    const { pattern, transformation, logGroup } = filter(METRIC_NAMES.toolCalls);

    // Act
    const series = evaluateMetricFilter(pattern, transformation, lines[logGroup] ?? []);

    // Assess
    expect(logGroup).toBe(mcpGroup);
    expect(Object.fromEntries(series.map((s) => [s.dimensions[TOOL_DIMENSION], s.sum]))).toEqual({
      query_customer_data: 5,
      delete_record: 3,
      run_report: 2,
      put_record: 1,
      get_record: 4,
      [UNKNOWN_TOOL]: 1,
    });
  });

  it('keeps the tool dimension bounded: an unknown tool is published as (unknown), never by name', () => {
    // Prepare
    const { pattern, transformation } = filter(METRIC_NAMES.toolCalls);

    // Act
    const values = evaluateMetricFilter(pattern, transformation, lines[mcpGroup] ?? []).map(
      (series) => series.dimensions[TOOL_DIMENSION],
    );

    // Assess
    expect(values).not.toContain('no_such_tool');
    for (const value of values) expect([...TOOL_NAMES, UNKNOWN_TOOL]).toContain(value);
  });

  it('counts exactly the denied calls as denied, and no successful or failed one', () => {
    // Act
    const denied = matching(filter(METRIC_NAMES.deniedCalls, mcpGroup).pattern, mcpGroup);

    // Assess
    expect(total(METRIC_NAMES.deniedCalls, mcpGroup)).toBe(4);
    expect(denied.map((r) => [r[AUDIT_FIELDS.caller], r[AUDIT_FIELDS.tool]])).toEqual([
      ['alice', 'delete_record'],
      ['alice', 'delete_record'],
      ['alice', 'delete_record'],
      ['bob', 'put_record'],
    ]);
  });

  it('counts exactly the call whose tool failed as a tool error', () => {
    // Act
    const errors = matching(filter(METRIC_NAMES.toolErrors).pattern, mcpGroup);

    // Assess
    expect(total(METRIC_NAMES.toolErrors, mcpGroup)).toBe(1);
    expect(errors).toMatchObject([
      { [AUDIT_FIELDS.caller]: 'bob', [AUDIT_FIELDS.tool]: 'get_record' },
    ]);
  });

  it('counts every refused credential as an authentication failure, and no allowed one', () => {
    // Prepare: one metric, two sources
    const fromAuthorizer = filter(METRIC_NAMES.authFailures, authorizerGroup);
    const fromAccessLog = filter(METRIC_NAMES.authFailures, accessGroup);

    // Act
    const failures = matching(fromAuthorizer.pattern, authorizerGroup);
    const credentialless = matching(fromAccessLog.pattern, accessGroup);

    // Assess: the authorizer's own refusals, and the requests refused before it ran
    expect(total(METRIC_NAMES.authFailures, authorizerGroup)).toBe(2);
    expect(total(METRIC_NAMES.authFailures, accessGroup)).toBe(2);
    expect(failures.map((r) => r[AUDIT_FIELDS.reason]).sort()).toEqual([
      'malformed_credential',
      'token_expired',
    ]);
    expect(failures.every((r) => r[AUDIT_FIELDS.decision] === AUTH_DECISION.deny)).toBe(true);
    expect(credentialless.map((r) => [r.status, r.errorType])).toEqual([
      ['401', 'UNAUTHORIZED'],
      ['401', 'UNAUTHORIZED'],
    ]);
  });

  it('counts no authorizer decision as a tool call, and no tool call as an authentication failure', () => {
    // Act
    const crossed = [
      ...[METRIC_NAMES.toolCalls, METRIC_NAMES.deniedCalls, METRIC_NAMES.toolErrors].map(
        (metric) => matching(filter(metric, mcpGroup).pattern, authorizerGroup).length,
      ),
      matching(filter(METRIC_NAMES.authFailures, authorizerGroup).pattern, mcpGroup).length,
    ];

    // Assess
    expect(crossed).toEqual([0, 0, 0, 0]);
  });

  it('counts one cold start per function: the first authorizer decision and the first tool call', () => {
    // Act
    const authorizer = matching(filter(METRIC_NAMES.authorizerColdStarts).pattern, authorizerGroup);
    const tool = matching(filter(METRIC_NAMES.coldStartToolCalls).pattern, mcpGroup);

    // Assess
    expect(authorizer).toEqual([records(authorizerGroup)[0]]);
    expect(tool).toEqual([records(mcpGroup)[0]]);
    expect(tool[0]).toMatchObject({
      [AUDIT_FIELDS.caller]: 'alice',
      [AUDIT_FIELDS.tool]: 'query_customer_data',
    });
  });

  it('counts tool calls per (caller, tool) in the Contributor Insights rule', () => {
    // Act
    const contributors = evaluateInsightRule(rule, `<${mcpGroup}>`, lines[mcpGroup] ?? []);

    // Assess
    expect(contributors).toEqual([
      { keys: ['alice', 'query_customer_data'], value: 5 },
      { keys: ['alice', 'delete_record'], value: 3 },
      { keys: ['carol', 'get_record'], value: 3 },
      { keys: ['bob', 'run_report'], value: 2 },
      { keys: ['bob', 'put_record'], value: 1 },
      { keys: ['bob', 'get_record'], value: 1 },
      { keys: ['carol', UNKNOWN_TOOL], value: 1 },
    ]);
  });

  it('reads no authorizer records into the Contributor Insights rule', () => {
    // Act
    const fromAuthorizerGroup = evaluateInsightRule(
      rule,
      `<${authorizerGroup}>`,
      lines[authorizerGroup] ?? [],
    );
    const passingFilters = (lines[authorizerGroup] ?? []).filter((line) => ruleMatches(rule, line));

    // Assess
    expect(fromAuthorizerGroup).toEqual([]);
    expect(passingFilters).toEqual([]);
  });

  it('raises the abuse alarm for more than the threshold of calls by one caller to one tool, not for exactly it', () => {
    // Prepare
    const [top] = evaluateInsightRule(rule, `<${mcpGroup}>`, lines[mcpGroup] ?? []);
    const topValue = top?.value ?? 0;

    // Act
    const below = abuseAlarm(buildFixture({ abuseThreshold: topValue - 1 }).template);
    const at = abuseAlarm(buildFixture({ abuseThreshold: topValue }).template);

    // Assess
    expect(topValue).toBe(5);
    expect([breaches(topValue, below), breaches(topValue, at)]).toEqual([true, false]);
  });
});

// ---------------------------------------------------------------------------------------------
// The OAuth proxy and the argument rules
// ---------------------------------------------------------------------------------------------

describe('Monitoring of the OAuth proxy against the records its real handler writes', () => {
  const fixture = buildFixture({}, {}, { oauthProxy: true });
  const filters = Object.values(
    fixture.template.findResources('AWS::Logs::MetricFilter') as Record<string, Resource>,
  ).map(({ Properties }) => ({
    pattern: Properties.FilterPattern as string,
    transformation: (
      Properties.MetricTransformations as (MetricTransformation & {
        MetricName: string;
      })[]
    )[0] as MetricTransformation & { MetricName: string },
  }));
  const total = (metric: string, lines: readonly string[]) => {
    const found = filters.find((f) => f.transformation.MetricName === metric);
    if (found === undefined) throw new Error(`No metric filter publishes ${metric}`);
    return evaluateMetricFilter(found.pattern, found.transformation, lines).reduce(
      (sum, series) => sum + series.sum,
      0,
    );
  };

  const lines: string[] = [];
  const records = () =>
    lines.flatMap((line) => {
      const record = parseJsonEvent(line);
      return record?.[AUDIT_FIELDS.event] === AUDIT_EVENTS.oauthAuthorization ? [record] : [];
    });

  beforeAll(async () => {
    const issuer = 'https://mcp.example.com/prod';
    const sealer = new AesSealer();
    const preRegistered = 'preregistered-client';
    const handler = createOAuthProxyHandler({
      proxy: new OAuthProxy({
        config: {
          issuer,
          resource: `${issuer}/mcp`,
          upstream: {
            authorizeUrl: 'https://auth.example.com/oauth2/authorize',
            tokenUrl: 'https://auth.example.com/oauth2/token',
            clientId: 'upstream-client',
          },
          supportedScopes: ['mcp/tools'],
          defaultScopes: ['mcp/tools'],
          scopeDescriptions: {},
          consentRememberSeconds: 0,
          refreshTokenSeconds: 3600,
        },
        // The resolver as deployed: public https documents only, so these refusals are the
        // SSRF guard's own, before any connection.
        clients: new ClientDirectory({
          sealer,
          cimd: new CimdResolver(),
          preRegistered: {
            clientId: preRegistered,
            name: 'Operator app',
            redirectUris: ['http://localhost:8080/callback'],
          },
        }),
        sealer,
        codes: new MemoryCodeStore(),
        families: new MemoryRefreshFamilyStore(),
        fetch: async () => {
          throw new Error('No upstream call is expected');
        },
      }),
      logger: createLogger('mcp-oauth-proxy'),
    });
    const authorize = (overrides: Record<string, string>) =>
      handler({
        httpMethod: 'GET',
        resource: OAUTH_PATHS.authorize,
        path: `/prod${OAUTH_PATHS.authorize}`,
        headers: {},
        multiValueHeaders: {},
        queryStringParameters: {
          response_type: 'code',
          client_id: preRegistered,
          redirect_uri: 'http://localhost:51234/callback',
          code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
          code_challenge_method: 'S256',
          resource: `${issuer}/mcp`,
          state: 'client-state',
          ...overrides,
        },
        multiValueQueryStringParameters: null,
        body: null,
        isBase64Encoded: false,
        requestContext: { requestId: 'req', identity: { sourceIp: '198.51.100.7' } },
      } as unknown as Parameters<typeof handler>[0]);

    const logs = captureLogs();
    try {
      await authorize({}); // shown the consent page: not a refusal
      await authorize({ redirect_uri: 'https://attacker.example/callback' });
      await authorize({ code_challenge_method: 'plain' });
      await authorize({ resource: 'https://other.example.com/mcp' });
      // SSRF: a loopback address and the instance-metadata address as CIMD client ids
      await authorize({ client_id: 'https://127.0.0.1/client.json' });
      await authorize({ client_id: 'https://169.254.169.254/latest/client.json' });
    } finally {
      logs.restore();
    }
    lines.push(...logs.lines);
  });

  it('captured one oauth.authorization record per request, with the reasons the proxy gave', () => {
    // Act
    const reasons = records().map((r) => [r[AUDIT_FIELDS.outcome], r[AUDIT_FIELDS.reason]]);

    // Assess
    expect(reasons).toHaveLength(6);
    expect(reasons[0]).toEqual([AUTHORIZATION_OUTCOME.ok, 'consent_shown']);
    expect(reasons.slice(1).map(([outcome]) => outcome)).toEqual(
      Array(5).fill(AUTHORIZATION_OUTCOME.refused),
    );
    expect(reasons.slice(4).map(([, reason]) => reason)).toEqual([
      'cimd_blocked_address',
      'cimd_blocked_address',
    ]);
  });

  it('counts every refused step as a refused authorization, and the shown consent page not', () => {
    // Assess
    expect(total(METRIC_NAMES.refusedAuthorizations, lines)).toBe(5);
  });

  it('counts exactly the two SSRF refusals as CIMD refusals', () => {
    // Assess
    expect(total(METRIC_NAMES.cimdRefusals, lines)).toBe(2);
  });
});

describe('Monitoring of the argument rules against the records the real MCP handler writes', () => {
  it('counts exactly the records the real MCP handler writes for each outcome', async () => {
    // Prepare: the example module's own rules, in each mode, and with Cedar missing.
    const analyst: Principal = {
      principalId: 'bob',
      authMethod: 'cognito',
      groups: ['analyst'],
      scopes: [],
      keyId: '',
    };
    const store = { query: async () => ({ records: [] }) } as unknown as RecordStore;
    const handlerFor = (mode: 'enforce' | 'log-only', broken = false) =>
      createMcpHandler({
        config: { allowedOrigins: [], maxBodyBytes: 1024 * 1024 },
        policy: POLICY,
        modules: [{ module: customerRecords, deps: { store } }],
        logger: createLogger('mcp-server'),
        rules: {
          mode,
          ...(broken ? { loadCedar: async () => Promise.reject(new Error('no cedar')) } : {}),
        },
      });
    const query = (limit: number) => ({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'query_customer_data', arguments: { limit } },
    });
    const send = async (handler: McpHandler, body: unknown) => {
      const response = await handlerFetch(handler, () => analyst)('https://x/mcp', {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          Accept: 'application/json, text/event-stream',
          'MCP-Protocol-Version': '2025-11-25',
        },
        body: JSON.stringify(body),
      });
      await response.text();
    };
    const logs = captureLogs();
    try {
      // Act
      const enforce = handlerFor('enforce');
      await send(enforce, query(30)); // denied by analyst-page-limit
      await send(enforce, query(30));
      await send(enforce, query(5)); // allowed
      await send(handlerFor('log-only'), query(30)); // would be denied, runs
      await send(handlerFor('enforce', true), query(5)); // Cedar missing: refused
    } finally {
      logs.restore();
    }
    const count = (pattern: logs.JsonPattern) => {
      const matcher = compileFilterPattern(pattern.logPatternString);
      return logs.lines.filter((line) => matcher.matches(line)).length;
    };

    // Assess
    expect(count(ruleDeniedPattern())).toBe(2);
    expect(count(ruleWouldDenyPattern())).toBe(1);
    expect(count(ruleErrorPattern())).toBe(1);
    expect(count(deniedCallPattern())).toBe(2);
  });
});
