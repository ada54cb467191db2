/**
 * The not-before list: a DynamoDB table of one small item per principal whose older credentials
 * the authorizer must refuse (`user#<sub>`, `key#<id>`), each deleted by TTL once no credential
 * it refuses can still be valid. On demand, point-in-time recovery, encrypted, protected from
 * deletion (without it every authorizer denies: fail closed).
 *
 * Reading is the authorizer's alone (Scan, nothing else); writing is the operator's, through the
 * managed policy this construct creates for the `users` and `keys revoke` CLIs (attach it to the
 * operator's role), together with the Cognito admin actions `users` calls.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import type * as cognito from 'aws-cdk-lib/aws-cognito';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { REVOCATION_ATTRIBUTES } from '../lambda/shared/revocations';

/** What the authorizer does to the table (see lambda/authorizer/revocation-dynamodb.ts). */
export const REVOCATION_READ_ACTIONS = ['dynamodb:Scan'] as const;
/** What the CLIs do to it (see tools/cli/revocation-writer.ts). */
export const REVOCATION_WRITE_ACTIONS = ['dynamodb:UpdateItem'] as const;
/** The Cognito admin calls of `npm run users` (see tools/cli/cognito-user-directory.ts). */
export const USER_ADMIN_ACTIONS = [
  'cognito-idp:AdminGetUser',
  'cognito-idp:AdminListGroupsForUser',
  'cognito-idp:AdminDisableUser',
  'cognito-idp:AdminEnableUser',
  'cognito-idp:AdminUserGlobalSignOut',
  'cognito-idp:AdminAddUserToGroup',
  'cognito-idp:AdminRemoveUserFromGroup',
] as const;

export interface RevocationsTableProps {
  /** The user pool whose people the operator policy may disable, sign out and regroup. */
  readonly userPool: cognito.IUserPool;
}

export class RevocationsTable extends Construct {
  readonly table: dynamodb.TableV2;
  /** Attach to the operator's role: write the list, administer the pool's users. */
  readonly operatorPolicy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: RevocationsTableProps) {
    super(scope, id);
    this.table = new dynamodb.TableV2(this, 'Table', {
      partitionKey: { name: REVOCATION_ATTRIBUTES.principal, type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: REVOCATION_ATTRIBUTES.expiresAt,
      billing: dynamodb.Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryptionV2.awsManagedKey(),
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.operatorPolicy = new iam.ManagedPolicy(this, 'OperatorPolicy', {
      description:
        'MCP server operators: revoke people and API keys within seconds (npm run users, npm run keys -- revoke)',
      statements: [
        new iam.PolicyStatement({
          actions: [...REVOCATION_WRITE_ACTIONS],
          resources: [this.table.tableArn],
        }),
        new iam.PolicyStatement({
          actions: [...USER_ADMIN_ACTIONS],
          resources: [props.userPool.userPoolArn],
        }),
      ],
    });
  }

  /** Let the authorizer read the whole list, and nothing else. */
  grantReadList(grantee: iam.IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: [...REVOCATION_READ_ACTIONS],
        resources: [this.table.tableArn],
      }),
    );
  }
}
