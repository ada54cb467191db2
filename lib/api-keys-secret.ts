/**
 * The Secrets Manager secret holding the API keys, encrypted with its own KMS key, rotated on
 * a schedule by `lambda/rotation`. Only the authorizer (read) and the rotation function (read,
 * write a pending version, move labels) may use it.
 */
import { Duration, RemovalPolicy, SecretValue, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import * as z from 'zod/mini';
import { emptyApiKeyDocument } from '../lambda/shared/api-key';
import { McpFunction } from './lambda-function';

export interface ApiKeysSecretProps {
  /** Days between automatic rotations. */
  readonly rotationDays: number;
  readonly logRetention: logs.RetentionDays;
}

export class ApiKeysSecret extends Construct {
  readonly key: kms.Key;
  readonly secret: secretsmanager.Secret;
  readonly rotation: McpFunction<z.ZodMiniObject>;

  constructor(scope: Construct, id: string, props: ApiKeysSecretProps) {
    super(scope, id);
    if (
      !Number.isInteger(props.rotationDays) ||
      props.rotationDays < 1 ||
      props.rotationDays > 365
    ) {
      throw new Error(
        `ApiKeysSecret: rotationDays must be a whole number from 1 to 365, not ${props.rotationDays}`,
      );
    }
    this.key = new kms.Key(this, 'Key', {
      description: 'Encrypts the MCP API-key secret',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.secret = new secretsmanager.Secret(this, 'Secret', {
      description:
        'MCP server API keys: key id -> hashed (or rotated, plain) key material, name, roles',
      encryptionKey: this.key,
      // An empty key document: no secret material is ever in the template.
      secretStringValue: SecretValue.unsafePlainText(JSON.stringify(emptyApiKeyDocument())),
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.rotation = new McpFunction(this, 'Rotation', {
      entry: 'rotation/index.ts',
      description: 'Rotates the MCP API-key secret: fresh key material, same key ids and roles',
      serviceName: 'mcp-key-rotation',
      envSchema: z.object({}),
      environment: {},
      logRetention: props.logRetention,
      timeout: Duration.seconds(30),
    });
    // The schedule is wired by hand rather than with addRotationSchedule(), which would also
    // grant secretsmanager:GetRandomPassword on '*' (our key material comes from node:crypto).
    const rotationFunction = this.rotation.function;
    // For this secret only (confused deputy: no other secret's rotation may invoke it).
    rotationFunction.addPermission('InvokedBySecretsManager', {
      principal: new iam.ServicePrincipal('secretsmanager.amazonaws.com'),
      sourceAccount: Stack.of(this).account,
      sourceArn: this.secret.secretArn,
    });
    rotationFunction.addToRolePolicy(
      new iam.PolicyStatement({
        actions: [
          'secretsmanager:DescribeSecret',
          'secretsmanager:GetSecretValue',
          'secretsmanager:PutSecretValue',
          'secretsmanager:UpdateSecretVersionStage',
        ],
        resources: [this.secret.secretArn],
      }),
    );
    // Secrets Manager decrypts on read and generates a data key on write, on the caller's behalf.
    rotationFunction.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: [this.key.keyArn],
        conditions: {
          StringEquals: {
            'kms:ViaService': `secretsmanager.${Stack.of(this).region}.amazonaws.com`,
          },
        },
      }),
    );
    const schedule = new secretsmanager.CfnRotationSchedule(this, 'Schedule', {
      secretId: this.secret.secretArn,
      rotationLambdaArn: rotationFunction.functionArn,
      rotationRules: { scheduleExpression: `rate(${props.rotationDays} days)` },
      rotateImmediatelyOnUpdate: false,
    });
    // Secrets Manager checks it may invoke the function when the schedule is created.
    schedule.node.addDependency(rotationFunction);
  }

  /** Let the authorizer read the keys (both versions) and nothing else. */
  grantReadKeys(grantee: iam.IGrantable): void {
    this.secret.grantRead(grantee);
  }
}
