/**
 * The cost model: the arithmetic a team would get wrong by hand (API Gateway's tiers, the
 * authorizer cache, what scales with traffic and what does not), its inputs, the CLI, and its
 * picture of the stack (counts, memory sizes, log record sizes) against the real template and
 * the records the code really writes.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Context } from 'aws-lambda';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  AUTH_DECISION,
  auditAuthDecision,
  auditCall,
  digestArguments,
  TOOL_CALL_STATUS,
} from '../../../../lambda/shared/audit';
import { createLogger } from '../../../../lambda/shared/logger';
import { loadConfig } from '../../../../lib/config';
import { POLICY } from '../../../../modules/policy';
import {
  APPROVAL_COSTS,
  authorizerUsd,
  CostModelInputError,
  compareEarlyDeny,
  costInputsSchema,
  costPerMillionCalls,
  costPerMonth,
  HOURS_PER_MONTH,
  LOG_EVENT_BYTES,
  type MonthlyCost,
  PRICES,
  renderReport,
  reportOptionsFromArgs,
  STACK_INVENTORY,
  tieredCost,
  usd,
  XRAY_DEFAULT_SAMPLING,
  xRayTracesRecorded,
} from '../../../../tools/cost/model';
import { captureLogs } from '../../../support/capture-logs';
import { synthStack } from '../../../support/stack-fixture';
import { onlyId, type Resource, resourcesOf } from '../../../support/template-helpers';

const MILLION = 1_000_000;

function line(monthly: MonthlyCost, id: string) {
  const item = monthly.lineItems.find((candidate) => candidate.id === id);
  if (item === undefined) throw new Error(`no line item ${id}`);
  return item;
}

/** The report the CLI prints with no options. */
function defaultReport(): string {
  const options = reportOptionsFromArgs([]);
  if (options === 'help') throw new Error('unexpected help');
  return renderReport(options);
}

/** A dollar change as the report writes it: `+0.70`, `-0.09`. */
const signedUsd = (amount: number) => (amount > 0 ? `+${usd(amount)}` : usd(amount));

function inputError(fn: () => unknown): CostModelInputError {
  try {
    fn();
  } catch (error) {
    if (error instanceof CostModelInputError) return error;
    throw error;
  }
  throw new Error('expected a CostModelInputError');
}

describe('API Gateway REST pricing tiers', () => {
  const price = PRICES.apiGatewayRestRequests;

  it('charges $3.50 per million up to exactly 333 million requests', () => {
    expect(tieredCost(333 * MILLION, price)).toBeCloseTo(333 * 3.5, 6);
  });

  it('charges the 333,000,001st request at the second tier, $2.80 per million', () => {
    const extra = tieredCost(333 * MILLION + 1, price) - tieredCost(333 * MILLION, price);
    expect(extra).toBeCloseTo(2.8 / MILLION, 12);
  });

  it('fills the second tier up to 1 billion and the third up to 20 billion', () => {
    const firstBillion = 333 * 3.5 + 667 * 2.8;
    expect(tieredCost(1_000 * MILLION, price)).toBeCloseTo(firstBillion, 6);
    expect(tieredCost(20_000 * MILLION, price)).toBeCloseTo(firstBillion + 19_000 * 2.38, 6);
    const beyond = tieredCost(20_001 * MILLION, price) - tieredCost(20_000 * MILLION, price);
    expect(beyond).toBeCloseTo(1.51, 6);
  });

  it('prices HTTP requests, not tool calls, at the tier boundary', () => {
    // Prepare: 166.5M tool calls at 2 requests each are exactly 333M requests.
    const at = (toolCallsPerMonth: number) =>
      line(costPerMonth({ toolCallsPerMonth, httpRequestsPerToolCall: 2 }), 'apiGatewayRequests');

    // Act
    const boundary = at(166.5 * MILLION);
    const past = at(167.5 * MILLION);

    // Assess: the last 2M requests are in the second tier.
    expect(boundary.quantity).toBe(333 * MILLION);
    expect(boundary.usdPerMonth).toBeCloseTo(1165.5, 6);
    expect(past.usdPerMonth - boundary.usdPerMonth).toBeCloseTo(2 * 2.8, 6);
  });
});

describe('the authorizer cache', () => {
  const authorizerItems = ['authorizerRequests', 'authorizerDuration', 'logsAuthorizer'];

  it('invokes the authorizer for no request at a hit rate of 1', () => {
    const monthly = costPerMonth({ toolCallsPerMonth: MILLION, authorizerCacheHitRate: 1 });

    expect(monthly.authorizerInvocations).toBe(0);
    for (const id of authorizerItems) expect(line(monthly, id).usdPerMonth).toBe(0);
  });

  it('invokes the authorizer once per HTTP request at a hit rate of 0', () => {
    const monthly = costPerMonth({
      toolCallsPerMonth: MILLION,
      httpRequestsPerToolCall: 3,
      authorizerCacheHitRate: 0,
    });

    expect(monthly.authorizerInvocations).toBe(3 * MILLION);
    expect(line(monthly, 'authorizerRequests').usdPerMonth).toBeCloseTo(3 * 0.2, 9);
  });

  it('cuts what the authorizer costs by the hit rate', () => {
    const at = (rate: number) =>
      authorizerUsd(costPerMonth({ toolCallsPerMonth: MILLION, authorizerCacheHitRate: rate }));

    expect(at(0)).toBeGreaterThan(0);
    expect(at(0.9)).toBeCloseTo(0.1 * at(0), 9);
  });

  it('changes nothing but the authorizer and the storage of its logs', () => {
    // Prepare
    const none = costPerMonth({ toolCallsPerMonth: MILLION, authorizerCacheHitRate: 0 });
    const most = costPerMonth({ toolCallsPerMonth: MILLION, authorizerCacheHitRate: 0.9 });

    // Act
    const changed = none.lineItems
      .filter((item) => item.usdPerMonth !== line(most, item.id).usdPerMonth)
      .map((item) => item.id);

    // Assess
    expect(changed.sort()).toEqual([...authorizerItems, 'logsStorage'].sort());
  });
});

describe('inputs', () => {
  it.each([1.0001, -0.1, Number.NaN])('refuses a cache hit rate of %s', (rate) => {
    const error = inputError(() =>
      costPerMonth({ toolCallsPerMonth: 1, authorizerCacheHitRate: rate }),
    );
    expect(error.issues.map((issue) => issue.input)).toEqual(['authorizerCacheHitRate']);
  });

  it.each([
    ['toolCallsPerMonth', { toolCallsPerMonth: -1 }],
    ['readUnitsPerToolCall', { toolCallsPerMonth: 1, readUnitsPerToolCall: -1 }],
    ['cognitoMonthlyActiveUsers', { toolCallsPerMonth: 1, cognitoMonthlyActiveUsers: -5 }],
    ['accessLogBytes', { toolCallsPerMonth: 1, accessLogBytes: -500 }],
    ['toolCallsPerMonth', { toolCallsPerMonth: Number.POSITIVE_INFINITY }],
  ])('refuses a negative or infinite %s', (input, inputs) => {
    const error = inputError(() => costPerMonth(inputs));
    expect(error.issues.map((issue) => issue.input)).toEqual([input]);
    expect(error.message).toContain(input);
  });

  it('refuses fewer than one HTTP request per tool call and memory Lambda does not offer', () => {
    const inputs = (overrides: object) => ({ toolCallsPerMonth: 1, ...overrides });
    expect(
      inputError(() => costPerMonth(inputs({ httpRequestsPerToolCall: 0.5 }))).issues[0]?.input,
    ).toBe('httpRequestsPerToolCall');
    expect(inputError(() => costPerMonth(inputs({ mcpMemoryMb: 64 }))).issues[0]?.input).toBe(
      'mcpMemoryMb',
    );
    expect(
      inputError(() => costPerMonth(inputs({ authorizerMemoryMb: 300.5 }))).issues[0]?.input,
    ).toBe('authorizerMemoryMb');
  });

  it('refuses a misspelt input instead of silently keeping its default', () => {
    const error = inputError(() =>
      costPerMonth({ toolCallsPerMonth: 1, authorizerCacheHitrate: 0.9 } as never),
    );
    expect(error.message).toContain('authorizerCacheHitrate');
  });

  it('needs traffic for a per-call view', () => {
    expect(inputError(() => costPerMillionCalls({ toolCallsPerMonth: 0 })).issues[0]?.input).toBe(
      'toolCallsPerMonth',
    );
  });
});

describe('how cost grows with traffic', () => {
  it('doubles every per-call item but X-Ray when traffic doubles below the first API tier', () => {
    // Prepare: X-Ray's per-second reservoir makes it sub-linear by design.
    const once = costPerMonth({ toolCallsPerMonth: 3 * MILLION });
    const twice = costPerMonth({ toolCallsPerMonth: 6 * MILLION });
    const linear = once.lineItems.filter(
      (item) => item.group === 'per-call' && item.id !== 'xRayTraces',
    );

    // Assess
    expect(linear.length).toBeGreaterThanOrEqual(12);
    for (const item of linear) {
      expect(item.usdPerMonth, item.id).toBeGreaterThan(0);
      expect(line(twice, item.id).usdPerMonth, item.id).toBeCloseTo(2 * item.usdPerMonth, 9);
    }
  });

  it('keeps fixed costs the same from no traffic to a billion calls', () => {
    const idle = costPerMonth({ toolCallsPerMonth: 0 });
    const busy = costPerMonth({ toolCallsPerMonth: 1_000 * MILLION });

    expect(idle.fixedUsd).toBeGreaterThan(0);
    expect(busy.fixedUsd).toBe(idle.fixedUsd);
    expect(idle.perCallUsd).toBe(0);
  });

  it('spreads fixed costs over the calls in the per-million view', () => {
    const low = costPerMillionCalls({ toolCallsPerMonth: 100_000 });
    const high = costPerMillionCalls({ toolCallsPerMonth: 100 * MILLION });

    expect(low.fixedUsd).toBeCloseTo(1_000 * high.fixedUsd, 6);
    expect(low.totalUsd).toBeCloseTo(low.perCallUsd + low.fixedUsd, 9);
  });

  it('traces every request up to one a second, then 5% of the rest', () => {
    const reservoir = XRAY_DEFAULT_SAMPLING.reservoirPerSecond * HOURS_PER_MONTH * 3600;

    expect(xRayTracesRecorded(1_000)).toBe(1_000);
    expect(xRayTracesRecorded(reservoir + MILLION)).toBeCloseTo(reservoir + 50_000, 6);
  });

  it('bills Lambda duration as invocations × billed seconds × memory in GB', () => {
    // 1M calls × 2 requests × 30 ms × 0.5 GB = 30,000 GB-seconds.
    const monthly = costPerMonth({ toolCallsPerMonth: MILLION, mcpBilledMs: 30, mcpMemoryMb: 512 });

    expect(line(monthly, 'mcpDuration').quantity).toBeCloseTo(30_000, 6);
    expect(line(monthly, 'mcpDuration').usdPerMonth).toBeCloseTo(30_000 * 0.0000133334, 9);
  });

  it('doubles only the MCP Lambda duration lines (its calls’, its rules’ and its approval waits’) when its memory doubles', () => {
    const small = costPerMonth({ toolCallsPerMonth: MILLION, mcpMemoryMb: 512 });
    const large = costPerMonth({ toolCallsPerMonth: MILLION, mcpMemoryMb: 1024 });
    const durations = ['mcpDuration', 'ruleDecisions', 'ruleColdLoads', 'approvalWait'].reduce(
      (total, id) => total + line(small, id).usdPerMonth,
      0,
    );

    expect(large.totalUsd - small.totalUsd).toBeCloseTo(durations, 9);
  });

  it('prices each approval: its page and retry requests, table units, KMS calls and wait', () => {
    const none = costPerMonth({ toolCallsPerMonth: MILLION, approvalShare: 0 });
    const some = costPerMonth({ toolCallsPerMonth: MILLION, approvalShare: 0.01 });
    const approvals = 10_000;

    expect(line(some, 'approvalTableWrites').quantity).toBe(approvals * APPROVAL_COSTS.tableWrites);
    expect(line(some, 'approvalTableReads').quantity).toBe(approvals * APPROVAL_COSTS.tableReads);
    expect(line(some, 'approvalKms').usdPerMonth).toBeCloseTo(
      (approvals * APPROVAL_COSTS.kmsRequests * 0.03) / 10_000,
      9,
    );
    expect(line(some, 'approvalWait').quantity).toBeCloseTo(
      approvals * APPROVAL_COSTS.waitSeconds * 0.5,
      9,
    );
    const approvalIds = some.lineItems.filter((item) => item.id.startsWith('approval'));
    expect(some.totalUsd - none.totalUsd).toBeCloseTo(
      approvalIds.reduce((total, item) => total + item.usdPerMonth, 0),
      9,
    );
    expect(
      none.lineItems
        .filter((item) => item.id.startsWith('approval'))
        .every((item) => item.usdPerMonth === 0),
    ).toBe(true);
  });
});

describe('optional parts', () => {
  it('drops the web ACL, its rules and its request charge without WAF', () => {
    const withWaf = costPerMonth({ toolCallsPerMonth: MILLION });
    const without = costPerMonth({ toolCallsPerMonth: MILLION, enableWaf: false });
    const wafIds = ['wafRequests', 'wafWebAcl', 'wafRules'];

    expect(line(withWaf, 'wafRequests').usdPerMonth).toBeCloseTo(2 * 0.6, 9);
    expect(without.lineItems.filter((item) => wafIds.includes(item.id))).toEqual([]);
    expect(withWaf.totalUsd - without.totalUsd).toBeCloseTo(1.2 + 5 + STACK_INVENTORY.wafRules, 9);
  });

  it('applies no free tier unless asked', () => {
    const monthly = costPerMonth({ toolCallsPerMonth: MILLION });
    expect(monthly.lineItems.filter((item) => item.group === 'free-tier')).toEqual([]);
    expect(monthly.freeTierUsd).toBe(0);
  });

  it('never credits more free tier than was charged', () => {
    // Prepare: so little traffic that the free tier covers all of Lambda.
    const monthly = costPerMonth({ toolCallsPerMonth: 100, applyFreeTier: true });
    const lambda = ['authorizerRequests', 'mcpRequests'].reduce(
      (total, id) => total + line(monthly, id).usdPerMonth,
      0,
    );

    // Assess
    expect(line(monthly, 'freeLambdaRequests').usdPerMonth).toBeCloseTo(-lambda, 12);
    expect(monthly.freeTierUsd).toBeLessThan(0);
    expect(monthly.totalUsd).toBeGreaterThan(0);
  });
});

describe('the picture of the stack', () => {
  let template: ReturnType<typeof synthStack>['template'];

  beforeAll(() => {
    // The cost model prices this project's deployment: its tools, alarms and tables.
    ({ template } = synthStack({}, { modules: 'deployment' }));
  });

  const countOf = (type: string) => Object.keys(resourcesOf(template, type)).length;
  /** The one resource of `type` (matching `props`); fails unless there is exactly one. */
  const only = (type: string, props?: Record<string, unknown>): Resource =>
    resourcesOf(template, type, props)[onlyId(template, type, props)] as Resource;

  /** The logical id of the Lambda function an authorizer or integration URI points at. */
  function functionIn(value: unknown): string {
    const ids = JSON.stringify(value).match(/"Fn::GetAtt":\["([A-Za-z0-9]+)","Arn"\]/);
    if (ids?.[1] === undefined) throw new Error(`no function ARN in ${JSON.stringify(value)}`);
    return ids[1];
  }

  function memoryOf(functionId: string): unknown {
    return (resourcesOf(template, 'AWS::Lambda::Function')[functionId] as Resource).Properties
      .MemorySize;
  }

  it('counts the alarms, keys, secrets, dashboards and rules the stack creates', () => {
    expect(countOf('AWS::CloudWatch::Alarm')).toBe(STACK_INVENTORY.alarms);
    expect(countOf('AWS::KMS::Key')).toBe(STACK_INVENTORY.kmsKeys);
    expect(countOf('AWS::SecretsManager::Secret')).toBe(STACK_INVENTORY.secrets);
    expect(countOf('AWS::CloudWatch::Dashboard')).toBe(STACK_INVENTORY.dashboards);
    expect(countOf('AWS::CloudWatch::InsightRule')).toBe(STACK_INVENTORY.contributorInsightsRules);
  });

  it('counts the rules of the web ACL', () => {
    expect(only('AWS::WAFv2::WebACL').Properties.Rules).toHaveLength(STACK_INVENTORY.wafRules);
  });

  it('counts one custom metric per metric name the filters publish, and one per tool for the one with a Tool dimension', () => {
    // Two filters may feed one metric (denied calls: the MCP function's and the authorizer's
    // early denies); CloudWatch bills the metric once.
    const filters = Object.values(resourcesOf(template, 'AWS::Logs::MetricFilter'));
    const perName = new Map<string, number>();
    for (const filter of filters) {
      const transformations = filter.Properties.MetricTransformations as {
        MetricName: string;
        Dimensions?: unknown[];
      }[];
      for (const t of transformations) {
        const count = (t.Dimensions ?? []).length > 0 ? POLICY.items.tool.length + 1 : 1; // every tool name and `(unknown)`
        perName.set(t.MetricName, count);
      }
    }
    const metrics = [...perName.values()].reduce((total, count) => total + count, 0);
    expect(filters.length).toBeGreaterThan(perName.size);
    expect(metrics).toBe(STACK_INVENTORY.customMetrics);
  });

  it("prices the authorizer and the MCP Lambda at the stack's memory sizes", () => {
    // Prepare: the authorizer, and the protected POST it guards (the MCP endpoint).
    const authorizerId = onlyId(template, 'AWS::ApiGateway::Authorizer');
    const authorizer = only('AWS::ApiGateway::Authorizer');
    const post = only('AWS::ApiGateway::Method', {
      HttpMethod: 'POST',
      AuthorizerId: { Ref: authorizerId },
    });

    // Assess
    expect(memoryOf(functionIn(authorizer.Properties.AuthorizerUri))).toBe(
      STACK_INVENTORY.authorizerMemoryMb,
    );
    expect(memoryOf(functionIn(post.Properties.Integration))).toBe(STACK_INVENTORY.mcpMemoryMb);
  });

  it("defaults to the configuration's log retention and WAF setting", () => {
    const config = loadConfig(() => undefined);
    const defaults = costInputsSchema.parse({ toolCallsPerMonth: 0 });

    expect(defaults.logRetentionDays).toBe(config.logRetentionDays);
    expect(defaults.enableWaf).toBe(config.enableWaf);
  });

  it('defaults to no cache hits, as the configuration deploys the authorizer cache off', () => {
    // Prepare
    const config = loadConfig(() => undefined);

    // Act
    const defaults = costInputsSchema.parse({ toolCallsPerMonth: 0 });

    // Assess: gateway step-up (on by default) needs the cache off
    expect(config.authorizerCacheTtlSeconds).toBe(0);
    expect(defaults.authorizerCacheHitRate).toBe(0);
  });

  it('sizes an access-log line like the JSON format of the stage', () => {
    // Prepare: representative values for the $context variables; API Gateway writes '-' for
    // one with no value, which is what an unknown new variable gets here.
    const samples: Record<string, string> = {
      requestId: '8f5e3c2a-1b2c-4d5e-8f90-123456789abc',
      extendedRequestId: 'AbCdEfGhIjKlMnO=',
      requestTime: '26/Nov/2026:06:28:05 +0000',
      'identity.sourceIp': '203.0.113.7',
      'identity.userAgent': 'claude-code/2.0.0 (cli)',
      httpMethod: 'POST',
      resourcePath: '/mcp',
      status: '200',
      responseLength: '1234',
      responseLatency: '45',
      integrationLatency: '38',
      'authorizer.principalId': '1f2e3d4c-5b6a-4789-9abc-def012345678',
      'authorizer.authMethod': 'cognito',
      'authorizer.status': '200',
      'waf.status': '200',
    };
    const stage = only('AWS::ApiGateway::Stage');
    const format = (stage.Properties.AccessLogSetting as { Format: string }).Format;

    // Act
    const filled = format.replace(
      /\$context\.([A-Za-z.]+)/g,
      (_, name: string) => samples[name] ?? '-',
    );

    // Assess
    expect(JSON.parse(filled)).toMatchObject({ resourcePath: '/mcp' });
    expect(Buffer.byteLength(filled) / LOG_EVENT_BYTES.accessLog).toBeGreaterThan(0.85);
    expect(Buffer.byteLength(filled) / LOG_EVENT_BYTES.accessLog).toBeLessThan(1.15);
  });
});

describe('audit record sizes', () => {
  const lambdaContext = (name: string, memory: number) =>
    ({
      functionName: `SecureMcpServer-${name}-AbCdEfGhIjKl`,
      functionVersion: '$LATEST',
      invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:SecureMcpServer-${name}-AbCdEfGhIjKl`,
      memoryLimitInMB: String(memory),
      awsRequestId: '8f5e3c2a-1b2c-4d5e-8f90-123456789abc',
    }) as Context;

  /** The one line `write` logs, as Lambda would ship it, with the keys it has in Lambda. */
  function loggedBytes(
    service: string,
    context: Context,
    write: (logger: ReturnType<typeof createLogger>) => void,
  ) {
    vi.stubEnv(
      '_X_AMZN_TRACE_ID',
      'Root=1-67a1b2c3-0123456789abcdef01234567;Parent=0123456789abcdef;Sampled=1',
    );
    const logs = captureLogs();
    try {
      const logger = createLogger(service);
      logger.addContext(context);
      write(logger);
    } finally {
      logs.restore();
    }
    expect(logs.lines).toHaveLength(1);
    return Buffer.byteLength(`${logs.lines[0]}\n`);
  }

  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('sizes a tool-call record like the one the MCP handler writes', () => {
    const args = digestArguments({ id: 'cust-0001' });
    const bytes = loggedBytes('mcp-server', lambdaContext('McpServerFunction', 512), (logger) =>
      auditCall(logger, {
        kind: 'tool',
        status: TOOL_CALL_STATUS.success,
        item: 'get_record',
        permission: 'read_data',
        caller: '1f2e3d4c-5b6a-4789-9abc-def012345678',
        authMethod: 'cognito',
        keyId: '',
        groups: ['analyst'],
        durationMs: 12.34,
        requestId: 'AbCdEfGhIjKlMnO=',
        sourceIp: '203.0.113.7',
        argsDigest: args.digest,
        argsBytes: args.bytes,
        protocolEra: 'modern',
        traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      }),
    );

    expect(bytes / LOG_EVENT_BYTES.toolCallAudit).toBeGreaterThan(0.85);
    expect(bytes / LOG_EVENT_BYTES.toolCallAudit).toBeLessThan(1.15);
  });

  it('sizes what the argument rules add to a tool-call record', () => {
    // Prepare
    const args = digestArguments({ limit: 5 });
    const record = {
      kind: 'tool' as const,
      status: TOOL_CALL_STATUS.success,
      item: 'query_customer_data',
      permission: 'read_data',
      caller: '1f2e3d4c-5b6a-4789-9abc-def012345678',
      authMethod: 'cognito',
      keyId: '',
      groups: ['analyst'],
      durationMs: 12.34,
      requestId: 'AbCdEfGhIjKlMnO=',
      sourceIp: '203.0.113.7',
      argsDigest: args.digest,
      argsBytes: args.bytes,
      protocolEra: 'modern' as const,
    };
    const context = lambdaContext('McpServerFunction', 512);

    // Act: an allowed call, and one a rule would deny (log-only), against none.
    const plain = loggedBytes('mcp-server', context, (logger) => auditCall(logger, record));
    const allowed = loggedBytes('mcp-server', context, (logger) =>
      auditCall(logger, { ...record, rules: { verdict: 'allow', ruleIds: [] } }),
    );
    const wouldDeny = loggedBytes('mcp-server', context, (logger) =>
      auditCall(logger, {
        ...record,
        rules: { verdict: 'would_deny', ruleIds: ['analyst-page-limit'] },
      }),
    );

    // Assess
    expect(allowed - plain).toBeGreaterThan(LOG_EVENT_BYTES.ruleAuditFields * 0.85);
    expect(allowed - plain).toBeLessThan(LOG_EVENT_BYTES.ruleAuditFields * 1.15);
    expect(wouldDeny - plain).toBeLessThan(LOG_EVENT_BYTES.ruleAuditFields * 2);
  });

  it('sizes an authorizer decision like the one the authorizer writes', () => {
    const bytes = loggedBytes(
      'mcp-authorizer',
      lambdaContext('AuthorizerFunction', 256),
      (logger) =>
        auditAuthDecision(logger, {
          decision: AUTH_DECISION.allow,
          reason: 'ok',
          authMethod: 'cognito',
          caller: '1f2e3d4c-5b6a-4789-9abc-def012345678',
          groups: ['analyst'],
          requestId: 'AbCdEfGhIjKlMnO=',
          sourceIp: '203.0.113.7',
        }),
    );

    expect(bytes / LOG_EVENT_BYTES.authDecisionAudit).toBeGreaterThan(0.85);
    expect(bytes / LOG_EVENT_BYTES.authDecisionAudit).toBeLessThan(1.15);
  });
});

describe('the report', () => {
  const options = (args: string[]) => {
    const parsed = reportOptionsFromArgs(args);
    if (parsed === 'help') throw new Error('unexpected help');
    return parsed;
  };

  it('shows every line item per traffic level and what each cache hit rate saves', () => {
    // Act
    const report = renderReport(options([]));

    // Assess: the default levels and hit rates, each line item, and figures from the model.
    for (const level of ['100k $/mo', '1M $/mo', '10M $/mo', '100M $/mo']) {
      expect(report).toContain(level);
    }
    for (const item of costPerMonth({ toolCallsPerMonth: MILLION }).lineItems) {
      expect(report).toContain(item.label);
    }
    const noCache = costPerMonth({ toolCallsPerMonth: 10 * MILLION, authorizerCacheHitRate: 0 });
    const cached = costPerMonth({ toolCallsPerMonth: 10 * MILLION, authorizerCacheHitRate: 0.9 });
    const savingsRow = report.split('\n').find((row) => /^10M\s+90%/.test(row));
    expect(savingsRow?.trim().endsWith(usd(noCache.totalUsd - cached.totalUsd))).toBe(true);
  });

  it('prices the line items with the cache off unless a hit rate is given', () => {
    // Act
    const parsed = options([]);

    // Assess
    expect(parsed.cacheHitRate).toBe(0);
    expect(parsed.cacheHitRates).toEqual([0, 0.5, 0.9]);
    expect(renderReport(parsed)).toContain('line item (cache hit rate 0%)');
  });

  it('reads one traffic level, a hit rate and the switches from the command line', () => {
    const parsed = options([
      '--calls-per-month',
      '5000000',
      '--cache-hit-rate',
      '0.8',
      '--without-waf',
      '--memory-mb',
      '1024',
    ]);

    expect(parsed.trafficLevels).toEqual([5_000_000]);
    expect(parsed.cacheHitRate).toBe(0.8);
    expect(parsed.cacheHitRates).toEqual([0, 0.5, 0.8, 0.9]);
    expect(parsed.base).toMatchObject({ enableWaf: false, mcpMemoryMb: 1024 });
  });

  it('names the flag of a value out of range or not a number', () => {
    expect(() => reportOptionsFromArgs(['--cache-hit-rate', '1.5'])).toThrow(/--cache-hit-rate/);
    expect(() => reportOptionsFromArgs(['--calls-per-month', 'lots'])).toThrow(
      /--calls-per-month takes a number/,
    );
    expect(() => reportOptionsFromArgs(['--calls-per-month', '-5'])).toThrow(/--calls-per-month/);
  });
});

describe('the CLI', () => {
  const run = promisify(execFile);

  async function cli(args: string[]) {
    try {
      const { stdout, stderr } = await run(process.execPath, [
        '--import',
        'tsx',
        'tools/cost/model.ts',
        ...args,
      ]);
      return { code: 0, stdout, stderr };
    } catch (error) {
      const failed = error as { code: number; stdout: string; stderr: string };
      return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
    }
  }

  it('prints the report for the traffic asked for', async () => {
    const { code, stdout } = await cli(['--calls-per-month', '2000000']);

    expect(code).toBe(0);
    const expected = costPerMonth({ toolCallsPerMonth: 2 * MILLION });
    const totalRow = stdout.split('\n').find((row) => row.startsWith('TOTAL'));
    expect(totalRow).toContain(usd(expected.totalUsd));
    expect(stdout).toContain('What the authorizer cache saves');
  });

  it('exits 2 and names the flag for a hit rate above 1', async () => {
    const { code, stdout, stderr } = await cli(['--cache-hit-rate', '1.5']);

    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain('--cache-hit-rate');
  });
});

describe('argument rules', () => {
  const inputs = { toolCallsPerMonth: 10_000_000 };
  const line = (monthly: ReturnType<typeof costPerMonth>, id: string) =>
    monthly.lineItems.find((item) => item.id === id);

  it('prices a decision per ruled call and Cedar loading per new instance, at the MCP memory', () => {
    // Act
    const monthly = costPerMonth({
      ...inputs,
      ruledCallShare: 0.5,
      ruleDecisionMs: 2,
      ruleColdLoadMs: 1000,
      mcpColdStartsPerMonth: 100,
    });

    // Assess: GB-seconds = runs × seconds × GB.
    expect(line(monthly, 'ruleDecisions')?.quantity).toBeCloseTo(5_000_000 * 0.002 * 0.5);
    expect(line(monthly, 'ruleColdLoads')?.quantity).toBeCloseTo(100 * 1 * 0.5);
  });

  it('prices nothing of the rules for modules without any', () => {
    const monthly = costPerMonth({ ...inputs, argumentRules: false });
    expect(line(monthly, 'ruleDecisions')).toBeUndefined();
    expect(line(monthly, 'ruleColdLoads')).toBeUndefined();
    expect(costPerMonth(inputs).totalUsd).toBeGreaterThan(monthly.totalUsd);
  });

  it('reads the rules inputs from the command line', () => {
    const parsed = reportOptionsFromArgs(['--without-rules', '--ruled-share', '0.9']);
    if (parsed === 'help') throw new Error('unexpected help');
    expect(parsed.base).toMatchObject({ argumentRules: false, ruledCallShare: 0.9 });
  });
});

describe('early deny', () => {
  it('runs the authorizer on every request, whatever cache hit rate is given (the cache must be off)', () => {
    const monthly = costPerMonth({
      toolCallsPerMonth: MILLION,
      authorizerCacheHitRate: 0.9,
      earlyDeny: true,
    });
    expect(monthly.authorizerInvocations).toBe(monthly.httpRequests);
  });

  it('saves one MCP invocation, its audit record and platform lines per denied 2026-07-28 call', () => {
    // Prepare
    const base = { toolCallsPerMonth: MILLION, deniedCallShare: 0.1, modernCallShare: 0.5 };

    // Act
    const off = costPerMonth({ ...base, authorizerCacheHitRate: 0 });
    const on = costPerMonth({ ...base, earlyDeny: true });

    // Assess: 10% denied × 50% modern of a million calls
    expect(on.earlyDeniedCalls).toBeCloseTo(50_000);
    expect(off.mcpInvocations - on.mcpInvocations).toBeCloseTo(50_000);
    expect(line(on, 'mcpRequests').quantity).toBeCloseTo(off.httpRequests - 50_000);
    expect(line(on, 'logsMcp').usdPerMonth).toBeLessThan(line(off, 'logsMcp').usdPerMonth);
    expect(line(on, 'authorizerRequests').quantity).toBe(line(off, 'authorizerRequests').quantity);
    expect(on.totalUsd).toBeLessThan(off.totalUsd);
  });

  it('pays for itself at once against the default deployment, whose cache is already off', () => {
    const compared = compareEarlyDeny({ toolCallsPerMonth: MILLION });
    expect(compared.breakEvenDeniedShare).toBe(0);
    expect(compared.authorizerInvocationsAdded).toBe(0);
    expect(compared.deltaUsd).toBeLessThan(0);
  });

  it('breaks even against a 50% cache hit rate only when most calls are denied, exactly where the bills meet', () => {
    // Act
    const inputs = { toolCallsPerMonth: 10 * MILLION, authorizerCacheHitRate: 0.5 };
    const share = compareEarlyDeny(inputs).breakEvenDeniedShare;

    // Assess
    expect(share).toBeGreaterThan(0.5);
    expect(share).toBeLessThan(1);
    const off = costPerMonth(inputs).totalUsd;
    const atBreakEven = costPerMonth({
      ...inputs,
      earlyDeny: true,
      deniedCallShare: share,
    }).totalUsd;
    expect(atBreakEven).toBeCloseTo(off, 6);
    expect(compareEarlyDeny({ ...inputs, deniedCallShare: 0.01 }).deltaUsd).toBeGreaterThan(0);
  });

  it('never pays for itself against a 90% cache hit rate', () => {
    expect(
      compareEarlyDeny({ toolCallsPerMonth: MILLION, authorizerCacheHitRate: 0.9 })
        .breakEvenDeniedShare,
    ).toBeUndefined();
  });

  it('reports what early deny costs and its break-even share, and reads its flags', () => {
    // Act
    const parsed = reportOptionsFromArgs(['--denied-share', '0.2', '--early-deny']);
    if (parsed === 'help') throw new Error('expected options');
    const report = renderReport(parsed);

    // Assess
    expect(parsed.base).toMatchObject({ deniedCallShare: 0.2, earlyDeny: true });
    expect(report).toContain('What early deny costs');
    expect(() => reportOptionsFromArgs(['--denied-share', '2'])).toThrow(/--denied-share/);
  });

  it('compares early deny with the default deployment (the cache off) and with each cache hit rate a team might turn on', () => {
    // Act
    const report = defaultReport();
    const lines = report.split('\n');
    const header = lines.find((row) => row.startsWith('calls/mo  denied'));
    const row = lines.find((candidate) => /^1M\s+10%/.test(candidate));
    const deltaAt = (rate: number) =>
      compareEarlyDeny({
        toolCallsPerMonth: MILLION,
        authorizerCacheHitRate: rate,
        deniedCallShare: 0.1,
      }).deltaUsd;

    // Assess: one column per hit rate, the default's first
    expect(header?.split(/\s{2,}/).slice(3)).toEqual([
      'vs cache off (default): $/mo',
      'vs cache 50%: $/mo',
      'vs cache 90%: $/mo',
    ]);
    expect(row?.split(/\s+/).slice(3)).toEqual([0, 0.5, 0.9].map((r) => signedUsd(deltaAt(r))));
  });

  it('gives the break-even share against the default deployment and each cache hit rate', () => {
    // Act
    const report = defaultReport();

    // Assess
    expect(report).toMatch(
      /Break-even denied-call share: 0\.0% against the cache off \(the default: every denied call is pure saving\); \d+\.\d% against a 50% cache hit rate; never \(over 100%\) against a 90% cache hit rate\./,
    );
  });
});
