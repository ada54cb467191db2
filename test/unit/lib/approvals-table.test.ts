/**
 * The approvals table in the stack: keyed and expiring by the shared vocabulary, on demand,
 * recoverable, encrypted; the MCP function may read, ask (put) and spend (update), the approval
 * page read and answer (update), nobody else anything. Both functions are told where it is, and
 * the deployment's `approvalOff` and approval times reach them.
 */
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { describe, expect, it } from 'vitest';
import {
  APPROVAL_TABLE_ATTRIBUTES,
  DEFAULT_APPROVAL_SECONDS,
  DEFAULT_APPROVAL_SIGN_IN_MAX_AGE_SECONDS,
} from '../../../lambda/shared/approvals';
import { mcpEnvSchema, oauthProxyEnvSchema } from '../../../lambda/shared/env';
import { APPROVAL_PATHS } from '../../../lambda/shared/routes';
import {
  APPROVAL_DECISION_ACTIONS,
  APPROVAL_REQUEST_ACTIONS,
  ApprovalsTable,
} from '../../../lib/approvals-table';
import { ConfigError } from '../../../lib/config';
import { synthStack } from '../../support/stack-fixture';
import {
  actionsOf,
  functionOf,
  render,
  resourcesOf,
  roleStatements,
} from '../../support/template-helpers';

const { stack, template } = synthStack();
const construct = stack.node
  .findAll()
  .find((c): c is ApprovalsTable => c instanceof ApprovalsTable);
if (construct === undefined) throw new Error('The stack has no ApprovalsTable');
const tableId = stack.getLogicalId(construct.table.node.defaultChild as dynamodb.CfnGlobalTable);
const mcp = functionOf(template, 'mcp-server');
const proxy = functionOf(template, 'mcp-oauth-proxy');

/** The actions each role holds on the table. */
function actionsOnTable(role: string): string[] {
  return roleStatements(template, role)
    .filter((statement) =>
      JSON.stringify((statement as { Resource?: unknown }).Resource).includes(`"${tableId}"`),
    )
    .flatMap(actionsOf)
    .sort();
}

describe('ApprovalsTable', () => {
  it('expires items by the deadline attribute the code writes, billed on demand, recoverable', () => {
    // Act
    const table = resourcesOf(template, 'AWS::DynamoDB::GlobalTable')[tableId];

    // Assess
    expect(table?.Properties.KeySchema).toEqual([
      { AttributeName: APPROVAL_TABLE_ATTRIBUTES.partitionKey, KeyType: 'HASH' },
    ]);
    expect(table?.Properties).toMatchObject({
      TimeToLiveSpecification: { AttributeName: APPROVAL_TABLE_ATTRIBUTES.ttl, Enabled: true },
      BillingMode: 'PAY_PER_REQUEST',
      Replicas: [
        expect.objectContaining({
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        }),
      ],
    });
  });

  it('lets the MCP function read, ask for and spend approvals, and nothing more', () => {
    // Assess
    expect(actionsOnTable(mcp.role)).toEqual([...APPROVAL_REQUEST_ACTIONS].sort());
  });

  it('lets the approval page read and answer approvals, and nothing more (no put: it asks for none)', () => {
    // Assess
    expect(actionsOnTable(proxy.role)).toEqual([...APPROVAL_DECISION_ACTIONS].sort());
  });

  it('grants no other role anything on it', () => {
    // Act
    const holders = Object.values(resourcesOf(template, 'AWS::IAM::Policy'))
      .filter((policy) => JSON.stringify(policy.Properties.PolicyDocument).includes(`"${tableId}"`))
      .flatMap((policy) => policy.Properties.Roles as unknown[])
      .map(render);

    // Assess
    expect(holders.sort()).toEqual([`<${mcp.role}>`, `<${proxy.role}>`].sort());
  });

  it('tells the MCP function the table, the ticket key and the page, all read by its schema', () => {
    // Assess
    expect(mcp.variables.APPROVALS_TABLE_NAME).toEqual({ Ref: tableId });
    expect(render(mcp.variables.APPROVAL_PAGE_URL)).toMatch(
      new RegExp(`/prod${APPROVAL_PATHS.page}$`),
    );
    expect(render(mcp.variables.APPROVAL_TICKET_KEY_ID)).toMatch(/^<\w+\.Arn>$/);
    expect(mcp.variables.APPROVAL_OFF).toBe('');
    for (const name of ['APPROVALS_TABLE_NAME', 'APPROVAL_TICKET_KEY_ID', 'APPROVAL_PAGE_URL']) {
      expect(Object.keys(mcpEnvSchema.shape)).toContain(name);
    }
  });

  it('tells the approval page the table and the default approval and sign-in times', () => {
    // Assess
    expect(proxy.variables).toMatchObject({
      APPROVALS_TABLE_NAME: { Ref: tableId },
      APPROVAL_SECONDS: String(DEFAULT_APPROVAL_SECONDS),
      APPROVAL_SIGN_IN_MAX_AGE_SECONDS: String(DEFAULT_APPROVAL_SIGN_IN_MAX_AGE_SECONDS),
    });
    expect(Object.keys(oauthProxyEnvSchema.shape)).toEqual(
      expect.arrayContaining(['APPROVAL_SECONDS', 'APPROVAL_SIGN_IN_MAX_AGE_SECONDS']),
    );
  });

  it('carries -c approvalOff, approvalMinutes and approvalSignInMaxAgeMinutes', () => {
    // Act
    const { template: custom } = synthStack({
      approvalOff: 'delete_record',
      approvalMinutes: '2',
      approvalSignInMaxAgeMinutes: '10',
    });

    // Assess
    expect(functionOf(custom, 'mcp-server').variables.APPROVAL_OFF).toBe('delete_record');
    expect(functionOf(custom, 'mcp-oauth-proxy').variables).toMatchObject({
      APPROVAL_SECONDS: '120',
      APPROVAL_SIGN_IN_MAX_AGE_SECONDS: '600',
    });
  });

  it('fails the synth when approvalOff names a tool that declares no approval', () => {
    // Act & Assess
    expect(() => synthStack({ approvalOff: 'delete_recrod' })).toThrow(ConfigError);
    expect(() => synthStack({ approvalOff: 'get_record' })).toThrow(
      /get_record declare\(s\) no approval \(tools that do: delete_record\)/,
    );
  });
});
