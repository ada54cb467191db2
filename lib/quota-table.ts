/**
 * Where per-caller quota uses are counted: one item per caller, rule and window, taken with a
 * conditional `UpdateItem` (`lambda/mcp/quota-counter.ts`) and deleted by TTL once its window
 * has passed. On demand, encrypted; nothing in it outlives its window, so it goes with the
 * stack. The MCP function may update items and nothing else.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { QUOTA_COUNTER_ATTRIBUTES } from '../lambda/mcp/quota-counter';
import type { QuotaRule } from '../lambda/shared/quota';

/** What the MCP function does to the table (see lambda/mcp/quota-counter.ts). */
export const QUOTA_COUNTER_ACTIONS = ['dynamodb:UpdateItem'] as const;

export interface QuotaTableProps {
  /** The rules, as checked against the policy (`buildQuotaTable`). */
  readonly rules: readonly QuotaRule[];
}

export class QuotaTable extends Construct {
  readonly table: dynamodb.TableV2;
  readonly rules: readonly QuotaRule[];

  constructor(scope: Construct, id: string, props: QuotaTableProps) {
    super(scope, id);
    this.rules = props.rules;
    this.table = new dynamodb.TableV2(this, 'Counters', {
      partitionKey: {
        name: QUOTA_COUNTER_ATTRIBUTES.partitionKey,
        type: dynamodb.AttributeType.STRING,
      },
      timeToLiveAttribute: QUOTA_COUNTER_ATTRIBUTES.ttl,
      billing: dynamodb.Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryptionV2.awsManagedKey(),
      removalPolicy: RemovalPolicy.DESTROY,
    });
  }

  /** Let `grantee` count uses, and nothing else. */
  grantCount(grantee: iam.IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: [...QUOTA_COUNTER_ACTIONS],
        resources: [this.table.tableArn],
      }),
    );
  }

  /** The variables the MCP function reads the quotas by (`mcpEnvSchema`). */
  get environment(): { QUOTA_RULES: string; QUOTA_TABLE_NAME: string } {
    return {
      QUOTA_RULES: JSON.stringify(this.rules),
      QUOTA_TABLE_NAME: this.table.tableName,
    };
  }
}
