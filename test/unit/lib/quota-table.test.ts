/**
 * Per-caller quotas in the stack: a deployment's rules (`modules/quotas.ts`) checked at synth,
 * handed to the MCP function with the table that counts them, which it may only update; the
 * burst alarm; and `-c enableQuotas=false`, which leaves all of it out.
 */
import { describe, expect, it } from 'vitest';
import { QUOTA_COUNTER_ATTRIBUTES } from '../../../lambda/mcp/quota-counter';
import { parseQuotaRules, QuotaError } from '../../../lambda/shared/quota';
import { METRIC_NAMES } from '../../../lib/monitoring';
import { rateLimitedCallPattern } from '../../../lib/monitoring/patterns';
import { FIXTURE_QUOTAS } from '../../support/fixture-deployment';
import { FIXTURE_STACK_MODULES } from '../../support/fixture-infra';
import { synthStack } from '../../support/stack-fixture';
import {
  actionsOf,
  functionOf,
  render,
  resourcesOf,
  roleStatements,
} from '../../support/template-helpers';

const COUNTERS_KEY = [{ AttributeName: QUOTA_COUNTER_ATTRIBUTES.partitionKey, KeyType: 'HASH' }];

describe('the quota table in the stack', () => {
  const { template } = synthStack();
  const mcp = functionOf(template, 'mcp-server');
  const counters = resourcesOf(template, 'AWS::DynamoDB::GlobalTable', { KeySchema: COUNTERS_KEY });
  const [tableId] = Object.keys(counters);

  it('hands the MCP function the deployment’s rules, as its cold start reads them back', () => {
    // Act
    const rules = parseQuotaRules(render(mcp.variables.QUOTA_RULES));

    // Assess
    expect(rules).toEqual(FIXTURE_QUOTAS);
    expect(rules.length).toBeGreaterThan(0);
  });

  it('counts in a table of its own, deleted by TTL, that the function finds by name', () => {
    // Assess
    expect(Object.keys(counters)).toHaveLength(1);
    expect(render(mcp.variables.QUOTA_TABLE_NAME)).toBe(`<${tableId}>`);
    expect(counters[tableId as string]?.Properties).toMatchObject({
      TimeToLiveSpecification: { AttributeName: QUOTA_COUNTER_ATTRIBUTES.ttl, Enabled: true },
      BillingMode: 'PAY_PER_REQUEST',
    });
  });

  it('lets the MCP function only UpdateItem on the table, and no other role touch it', () => {
    // Act
    const naming = Object.values(resourcesOf(template, 'AWS::IAM::Policy')).filter((policy) =>
      JSON.stringify(policy.Properties.PolicyDocument).includes(`"${tableId}"`),
    );
    const mcpActions = roleStatements(template, mcp.role)
      .filter((statement) => JSON.stringify(statement).includes(`"${tableId}"`))
      .flatMap(actionsOf);

    // Assess
    expect(mcpActions).toEqual(['dynamodb:UpdateItem']);
    expect(naming.map((policy) => JSON.stringify(policy.Properties.Roles))).toEqual([
      expect.stringContaining(`"${mcp.role}"`),
    ]);
  });

  it('alarms on bursts of refused uses, counted from the MCP log', () => {
    // Act
    const filters = Object.values(resourcesOf(template, 'AWS::Logs::MetricFilter')).filter(
      (filter) =>
        JSON.stringify(filter.Properties.MetricTransformations).includes(
          METRIC_NAMES.rateLimitedCalls,
        ),
    );
    const alarms = Object.values(resourcesOf(template, 'AWS::CloudWatch::Alarm')).filter((alarm) =>
      JSON.stringify(alarm.Properties).includes(METRIC_NAMES.rateLimitedCalls),
    );

    // Assess
    expect(filters.map((filter) => filter.Properties.FilterPattern)).toEqual([
      rateLimitedCallPattern().logPatternString,
    ]);
    expect(alarms).toHaveLength(1);
    expect(alarms[0]?.Properties).toMatchObject({ Threshold: 20 });
  });

  it('leaves out the table, the variables and the alarm with -c enableQuotas=false', () => {
    // Act
    const { template: off } = synthStack({ enableQuotas: 'false' });
    const variables = functionOf(off, 'mcp-server').variables;

    // Assess
    expect(resourcesOf(off, 'AWS::DynamoDB::GlobalTable', { KeySchema: COUNTERS_KEY })).toEqual({});
    expect(variables.QUOTA_RULES).toBeUndefined();
    expect(variables.QUOTA_TABLE_NAME).toBeUndefined();
    expect(JSON.stringify(off.toJSON())).not.toContain(METRIC_NAMES.rateLimitedCalls);
  });
});

describe('quota rules at synth', () => {
  const deployment = FIXTURE_STACK_MODULES;

  it('refuses a rule naming a tool no module has', () => {
    // Act & Assess
    expect(() =>
      synthStack(
        {},
        {
          modules: {
            ...deployment,
            quotas: [{ id: 'typo', tool: 'query_customer', limit: 1, windowSeconds: 60 }],
          },
        },
      ),
    ).toThrow(QuotaError);
  });

  it('refuses to let delete_record (destructive) run uncounted when its counter fails', () => {
    // Act & Assess
    expect(() =>
      synthStack(
        {},
        {
          modules: {
            ...deployment,
            quotas: [
              {
                id: 'deletes',
                tool: 'delete_record',
                limit: 10,
                windowSeconds: 3600,
                whenUnavailable: 'allow',
              },
            ],
          },
        },
      ),
    ).toThrow(/delete_record, annotated destructive/);
  });

  it('creates no table for a deployment without rules', () => {
    // Act
    const { template } = synthStack({}, { modules: { ...deployment, quotas: [] } });

    // Assess
    expect(
      resourcesOf(template, 'AWS::DynamoDB::GlobalTable', { KeySchema: COUNTERS_KEY }),
    ).toEqual({});
  });
});
