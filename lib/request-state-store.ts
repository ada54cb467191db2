/**
 * What every instance of the MCP function shares for multi-round (2026-07-28 `input_required`)
 * requests, so a later round works on whichever instance Lambda hands it to:
 *
 * - an **HMAC KMS key** (`HMAC_256`, `GENERATE_VERIFY_MAC`) the state's sealing keys are derived
 *   from, one per day (`lambda/mcp/request-state-aws.ts`); it never leaves KMS, and the function
 *   may only GenerateMac with it;
 * - a **table of spent states** (one item per nonce, deleted by TTL once the state could no
 *   longer verify), so a state runs its round once across all instances; the function may only
 *   PutItem (conditionally) into it.
 *
 * Both hold nothing that outlives the states (ten minutes): removed with the stack.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { REQUEST_STATE_LEDGER_ATTRIBUTES } from '../lambda/mcp/request-state-aws';

/** What the MCP function does with each (see lambda/mcp/request-state-aws.ts). */
export const REQUEST_STATE_KEY_ACTIONS = ['kms:GenerateMac'] as const;
export const REQUEST_STATE_LEDGER_ACTIONS = ['dynamodb:PutItem'] as const;

export class RequestStateStore extends Construct {
  readonly key: kms.Key;
  readonly table: dynamodb.TableV2;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    // KMS does not rotate HMAC keys; the derived keys change every day instead.
    this.key = new kms.Key(this, 'Key', {
      description: 'MCP server: derives the keys that seal multi-round request state',
      keySpec: kms.KeySpec.HMAC_256,
      keyUsage: kms.KeyUsage.GENERATE_VERIFY_MAC,
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    this.table = new dynamodb.TableV2(this, 'Spent', {
      partitionKey: {
        name: REQUEST_STATE_LEDGER_ATTRIBUTES.partitionKey,
        type: dynamodb.AttributeType.STRING,
      },
      timeToLiveAttribute: REQUEST_STATE_LEDGER_ATTRIBUTES.ttl,
      billing: dynamodb.Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryptionV2.awsManagedKey(),
      removalPolicy: RemovalPolicy.DESTROY,
    });
  }

  /** Let `grantee` derive sealing keys and spend states, and nothing else. */
  grantUse(grantee: iam.IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: [...REQUEST_STATE_KEY_ACTIONS],
        resources: [this.key.keyArn],
      }),
    );
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: [...REQUEST_STATE_LEDGER_ACTIONS],
        resources: [this.table.tableArn],
      }),
    );
  }

  /** The variables the MCP function reads them by (`mcpEnvSchema`). */
  get environment(): { REQUEST_STATE_KEY_ID: string; REQUEST_STATE_TABLE_NAME: string } {
    return {
      REQUEST_STATE_KEY_ID: this.key.keyArn,
      REQUEST_STATE_TABLE_NAME: this.table.tableName,
    };
  }
}
