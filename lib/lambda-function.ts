/**
 * One construct for every Lambda of the stack: bundled locally with esbuild (never Docker),
 * Node 22 on ARM64, minified with source maps (read only when an error is reported), X-Ray
 * tracing, its own log group with retention, and an environment typed by the schema the
 * runtime parses.
 */
import { dirname, isAbsolute, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import * as z from 'zod/mini';
import { type EnvironmentOf, LOCAL_ERROR_DETAIL_VARIABLE } from '../lambda/shared/env';
import { LAMBDA_BUNDLE_OPTIONS } from './bundle-options';
import { LogEncryptionKey } from './log-encryption-key';

const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** A Lambda entry point under `lambda/`, e.g. `mcp/index.ts`. */
export function lambdaEntry(relativePath: string): string {
  return fileURLToPath(new URL(`../lambda/${relativePath}`, import.meta.url));
}

/**
 * The variables every function gets besides its own and `POWERTOOLS_SERVICE_NAME` (the bench
 * starts its cold-start runs with exactly these). No `NODE_OPTIONS=--enable-source-maps`:
 * it cost 1.08-1.10× the cold start and ~30 ms for the first stack formatted after init. The
 * source maps still ship beside each bundle, and the request path maps a reported error's stack
 * through them only when it happens (`lambda/shared/source-mapped-stack.ts`).
 */
export const LAMBDA_COMMON_ENVIRONMENT = { POWERTOOLS_LOG_LEVEL: 'INFO' } as const;

export interface McpFunctionProps<S extends z.ZodMiniObject> {
  /** Entry file under `lambda/`, e.g. `mcp/index.ts`; it must export `handler`. */
  readonly entry: string;
  readonly description: string;
  /** Powertools service name, shown in every log record. */
  readonly serviceName: string;
  /** The schema the function parses its environment with at cold start. */
  readonly envSchema: S;
  /** The function's own variables, typed by `envSchema`. */
  readonly environment: EnvironmentOf<S>;
  /** How long the function's log group (its audit records) is kept. */
  readonly logRetention: logs.RetentionDays;
  /** Encrypts the function's log group. @default the stack's {@link LogEncryptionKey} */
  readonly logEncryptionKey?: kms.IKey;
  /** @default 256 */
  readonly memorySize?: number;
  /** @default Duration.seconds(10) */
  readonly timeout?: Duration;
  /**
   * Files and folders of the project (relative to its root) copied into the function's asset
   * at the same path, for a package the bundle leaves out and loads at run time: one that reads
   * files beside its code, as Cedar's reads its WebAssembly. @default none
   */
  readonly shippedFiles?: readonly string[];
}

/** Bundling hooks that copy project files into the asset, each at its own relative path. */
function copyInto(paths: readonly string[]) {
  for (const path of paths) {
    if (isAbsolute(path) || normalize(path).startsWith('..') || /["$`\\]/.test(path)) {
      throw new Error(`shippedFiles: ${path} must be a plain path inside the project`);
    }
  }
  return {
    beforeBundling: () => [],
    beforeInstall: () => [],
    afterBundling: (inputDir: string, outputDir: string) =>
      paths.map(
        (path) =>
          `mkdir -p "${join(outputDir, dirname(path))}" && cp -R "${join(inputDir, path)}" "${join(outputDir, path)}"`,
      ),
  };
}

export class McpFunction<S extends z.ZodMiniObject> extends Construct {
  readonly function: NodejsFunction;
  readonly logGroup: logs.LogGroup;
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: McpFunctionProps<S>) {
    super(scope, id);
    // Check literal values now (tokens resolve at deploy time): a typo fails synth, not a
    // cold start in production.
    const literal = Object.fromEntries(
      Object.entries(props.environment as Record<string, string>).filter(
        ([, value]) => !Token.isUnresolved(value),
      ),
    );
    const partial = z.partial(props.envSchema).safeParse(literal);
    if (!partial.success) {
      throw new Error(
        `${id}: environment does not match its schema: ${partial.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      );
    }

    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: props.logRetention,
      encryptionKey: props.logEncryptionKey ?? LogEncryptionKey.of(this),
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Its own role: writing to its own log group only, instead of the managed
    // AWSLambdaBasicExecutionRole, which may create and write any log group.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${id}: ${props.description}`.slice(0, 1000),
    });
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    );
    this.function = new NodejsFunction(this, 'Function', {
      role: this.role,
      entry: lambdaEntry(props.entry),
      handler: 'handler',
      description: props.description,
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: `${PROJECT_ROOT}/package-lock.json`,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.seconds(10),
      tracing: lambda.Tracing.ACTIVE,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.TEXT,
      environment: {
        ...(props.environment as Record<string, string>),
        POWERTOOLS_SERVICE_NAME: props.serviceName,
        ...LAMBDA_COMMON_ENVIRONMENT,
      },
      bundling: {
        minify: LAMBDA_BUNDLE_OPTIONS.minify,
        sourceMap: LAMBDA_BUNDLE_OPTIONS.sourcemap,
        target: LAMBDA_BUNDLE_OPTIONS.target,
        format: OutputFormat.CJS,
        externalModules: [...LAMBDA_BUNDLE_OPTIONS.external],
        esbuildArgs: Object.fromEntries(
          Object.entries(LAMBDA_BUNDLE_OPTIONS.alias).map(([from, to]) => [`--alias:${from}`, to]),
        ),
        forceDockerBundling: false,
        ...(props.shippedFiles === undefined || props.shippedFiles.length === 0
          ? {}
          : { commandHooks: copyInto(props.shippedFiles) }),
      },
    });
    // Local mode's error detail shows item errors to callers: no deployed function may have it,
    // whoever adds it (a module's infra returns variables the stack adds after this).
    this.node.addValidation({
      validate: () => {
        const cfn = this.function.node.defaultChild as lambda.CfnFunction;
        const variables = (
          Stack.of(this).resolve(cfn.environment) as { variables?: Record<string, unknown> }
        )?.variables;
        return variables !== undefined && Object.hasOwn(variables, LOCAL_ERROR_DETAIL_VARIABLE)
          ? [
              `${id}: ${LOCAL_ERROR_DETAIL_VARIABLE} is set only by the local gateway (it shows item errors to callers); remove it from the function's environment`,
            ]
          : [];
      },
    });
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'X-Ray tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions',
    });
    Validations.of(this.function).acknowledge({
      id: 'cdk-validator-cfnguard::lambda_inside_vpc_check',
      reason:
        'No VPC on purpose: the functions call only AWS public endpoints (Cognito JWKS, Secrets Manager, DynamoDB, KMS) over TLS with IAM; a VPC would add NAT gateways or interface endpoints per AZ and ENI cold starts, and protect nothing they reach',
    });
    Validations.of(this.function).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'Node.js 22 is pinned on purpose: the bundle targets node22 and the code is tested for it; move to 24 with the test matrix',
    });
  }
}
