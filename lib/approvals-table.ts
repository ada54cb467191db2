/**
 * Where a person's approvals of calls live (`lambda/shared/approvals.ts`): one item per call
 * binding (a digest of caller, tool, arguments and client), holding an id, a status and a
 * deadline, never the arguments. The MCP function asks for approvals and spends them; the
 * approval page records the person's answers. Every change is a conditional write, and
 * DynamoDB's TTL removes items once their deadline has passed (the code checks the deadline
 * itself: TTL deletes only eventually).
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { APPROVAL_TABLE_ATTRIBUTES } from '../lambda/shared/approvals';

/** What the MCP function does with the table: read, ask (conditional put), spend (update). */
export const APPROVAL_REQUEST_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
] as const;
/** What the approval page does with it: read, record an answer (conditional update). */
export const APPROVAL_DECISION_ACTIONS = ['dynamodb:GetItem', 'dynamodb:UpdateItem'] as const;

export class ApprovalsTable extends Construct {
  readonly table: dynamodb.TableV2;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.table = new dynamodb.TableV2(this, 'Table', {
      partitionKey: {
        name: APPROVAL_TABLE_ATTRIBUTES.partitionKey,
        type: dynamodb.AttributeType.STRING,
      },
      timeToLiveAttribute: APPROVAL_TABLE_ATTRIBUTES.ttl,
      billing: dynamodb.Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryptionV2.awsManagedKey(),
      // Approvals live minutes; the audit log keeps their story.
      removalPolicy: RemovalPolicy.DESTROY,
    });
  }

  /** Let the MCP function ask for approvals and spend them, and nothing else. */
  grantRequests(grantee: iam.IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: [...APPROVAL_REQUEST_ACTIONS],
        resources: [this.table.tableArn],
      }),
    );
  }

  /** Let the approval page read approvals and record answers, and nothing else. */
  grantDecisions(grantee: iam.IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: [...APPROVAL_DECISION_ACTIONS],
        resources: [this.table.tableArn],
      }),
    );
  }
}
