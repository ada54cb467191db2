/**
 * The Secrets Manager secret holding the API keys, encrypted with its own KMS key, rotated on
 * a schedule by `lambda/rotation`. Only the authorizer (read) and the rotation function (read,
 * write a pending version, move labels) may read it, and, when one is named, an operator role
 * that hands keys out; its resource policy says so, and denies reading to everyone else.
 */
import { Duration, Lazy, RemovalPolicy, SecretValue, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import * as z from 'zod/mini';
import { emptyApiKeyDocument } from '../lambda/shared/api-key';
import { ROLE_ARN } from './config';
import { McpFunction } from './lambda-function';

export interface ApiKeysSecretProps {
  /** Days between automatic rotations. */
  readonly rotationDays: number;
  readonly logRetention: logs.RetentionDays;
  /**
   * The role people use to create, list and revoke keys (`npm run keys`): the one principal
   * besides the authorizer and the rotation function that the secret's resource policy lets
   * read it. Everyone else is denied `secretsmanager:GetSecretValue` whether this is set or
   * not: account administrators, the root user and the CDK deploy role included (they keep
   * every other action, so an administrator can still change or remove the policy).
   * @default none: only the two functions can read the keys, so nobody can hand keys out
   */
  readonly operatorRoleArn?: string;
}

export class ApiKeysSecret extends Construct {
  readonly key: kms.Key;
  readonly secret: secretsmanager.Secret;
  readonly rotation: McpFunction<z.ZodMiniObject>;
  /** The roles the resource policy lets read the keys. */
  private readonly readers: string[] = [];

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

    if (
      props.operatorRoleArn !== undefined &&
      !Token.isUnresolved(props.operatorRoleArn) &&
      !ROLE_ARN.test(props.operatorRoleArn)
    ) {
      throw new Error(
        `ApiKeysSecret: operatorRoleArn must be an IAM role ARN (arn:aws:iam::<account>:role/<name>), not ${props.operatorRoleArn}`,
      );
    }

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

    // The resource policy: who may read the key material, said on the secret itself.
    this.allowReadBy(this.rotation.role.roleArn);
    // Secrets Manager refuses any later policy that would open the secret to other accounts.
    const policy = this.secret.node.tryFindChild('Policy')?.node.defaultChild;
    if (policy instanceof secretsmanager.CfnResourcePolicy) policy.blockPublicPolicy = true;
    if (props.operatorRoleArn !== undefined) this.allowReadBy(props.operatorRoleArn);
    // Deny by default. An Allow in a resource policy restricts nobody: within the account a
    // request is allowed when the caller's IAM policy or the resource policy allows it, and
    // only an explicit Deny in either overrides every Allow (IAM User Guide, "Policy
    // evaluation logic"). So the readers are named twice: allowed above, exempt here.
    // - `aws:PrincipalArn` is in the context of every signed request, and for a role session
    //   it is the role's ARN, not the session's (IAM User Guide, "AWS global condition context
    //   keys"): the functions' execution roles and the operator role match as they are listed.
    //   A request without the key (an AWS service principal itself) is denied too: no service
    //   reads this value on its own (Secrets Manager only invokes the rotation function, which
    //   reads with its role).
    // - GetSecretValue only, which also gates BatchGetSecretValue (it needs GetSecretValue on
    //   each secret: Secrets Manager API Reference). Every other action stays with IAM, so an
    //   administrator can still put or delete this policy (no lock-out: the way back in if
    //   the operator role is lost), and CloudFormation, which creates and updates the secret
    //   but never reads its value, still deploys it.
    this.secret.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'DenyReadingKeysToAnyoneElse',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['secretsmanager:GetSecretValue'],
        resources: ['*'],
        conditions: {
          ArnNotEquals: { 'aws:PrincipalArn': Lazy.list({ produce: () => this.readers }) },
        },
      }),
    );
  }

  private allowReadBy(roleArn: string): void {
    this.readers.push(roleArn);
    this.secret.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ArnPrincipal(roleArn)],
        actions: ['secretsmanager:GetSecretValue'],
        resources: ['*'],
      }),
    );
  }

  /** Let the authorizer read the keys (both versions) and nothing else. */
  grantReadKeys(grantee: iam.IGrantable): void {
    const principal = grantee.grantPrincipal;
    if (!(principal instanceof iam.Role)) {
      throw new Error(
        'ApiKeysSecret.grantReadKeys: the grantee must be a function with its own role',
      );
    }
    this.secret.grantRead(grantee);
    this.allowReadBy(principal.roleArn);
  }
}
