/**
 * The local AWS the stack's template runs in: the template resolved in a local account
 * (`template.ts`), its REST API served by the API Gateway emulator (`rest-api.ts`), its
 * functions run from their `cdk.out` assets by the Lambda service (`lambda-service.ts`), and
 * the AWS services they call stood in for on loopback: DynamoDB (dynalite, the template's
 * tables), Secrets Manager, KMS and Cognito's JWKS (`services/`). Generic: it knows AWS, not
 * this project; `tools/local/gateway.ts` binds the project's local identity and data to it.
 *
 * Names: in AWS the API is `https://<api id>.execute-api.<region>.amazonaws.com` and a custom
 * domain its own name; here they are `http://127.0.0.1:<port>` and `http://localhost:<port>`.
 * Every value the template resolves to (a function's environment, a gateway response, a mock's
 * document) has the AWS names replaced by the local ones, as DNS would point them.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type ApiModel, buildApiModel } from './api-model';
import { assetDirectory, type CloudAssembly } from './cloud-assembly';
import { type FunctionDefinition, LambdaService } from './lambda-service';
import { LogGroups } from './logs';
import { type Endpoint, RestApi } from './rest-api';
import { startDynamoDb } from './services/dynamodb';
import { Faults } from './services/faults';
import { type JsonProtocolServer, serveJsonProtocol } from './services/json-protocol';
import { isModelledKeySpec, type LocalKey, startKms } from './services/kms';
import { type LocalSecret, startSecretsManager } from './services/secrets-manager';
import {
  type CfnResource,
  DEFAULT_ACCOUNT,
  type LocalAccount,
  TemplateResolver,
  UnsupportedTemplateError,
} from './template';
import { WebAcl } from './waf';

export interface EmulatorOptions {
  readonly assembly: CloudAssembly;
  /** Where state that must survive a restart is kept (KMS key material). */
  readonly stateDir: string;
  /** The API's port (0 picks one). @default 3000 */
  readonly port?: number;
  /** The loopback address the API listens on. @default 127.0.0.1 */
  readonly host?: string;
  /** Physical ids fixed in advance, by logical id (the local user pool's, its client's). */
  readonly fixedIds?: Readonly<Record<string, string>>;
  /**
   * The value of a secret of the template, read on every GetSecretValue. Default: the
   * template's own `SecretString` as AWSCURRENT.
   */
  readonly secretValue?: (arn: string, logicalId: string) => LocalSecret['read'] | undefined;
  /** Serves what the Cognito hosts answer (JWKS, hosted login), on its own loopback port. */
  readonly cognito?: (
    req: import('node:http').IncomingMessage,
    res: import('node:http').ServerResponse,
  ) => void;
  /** Run a function from another folder than its asset (a test's own bundle). */
  readonly codeOverrides?: Readonly<Record<string, string>>;
  /**
   * Variables a function gets besides the template's, by logical id: what a local tool adds
   * that AWS never has (the local gateway's error-detail switch). A name the template sets is
   * refused: the template stays the only source of what it says.
   */
  readonly extraEnvironment?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** HTTPS hosts the functions may reach, mapped to local servers (a test's CIMD host). */
  readonly extraHosts?: Readonly<Record<string, string>>;
  /** The gateway's clock. @default Date.now */
  readonly now?: () => number;
  /**
   * Model the small-write holding users report of AWS's streaming front end (not documented
   * by AWS): a streamed response's bytes leave only once this many are pending, or at its end
   * (`RestApiOptions.holdStreamedWritesBelowBytes`; reports put it at roughly 15-16 KB).
   * @default 0 (off)
   */
  readonly holdStreamedWritesBelowBytes?: number;
  /** Node binary of the execution environments. @default this process's */
  readonly nodeBinary?: string;
  readonly logs?: LogGroups;
}

export interface Emulator {
  readonly resolver: TemplateResolver;
  readonly api: ApiModel;
  readonly restApi: RestApi;
  readonly lambda: LambdaService;
  readonly logs: LogGroups;
  /** `http://127.0.0.1:<port>`: the execute-api name's local form. */
  readonly executeApiOrigin: string;
  /** The stage's base URL on the execute-api name, `http://127.0.0.1:<port>/prod`. */
  readonly stageUrl: string;
  /** `http://localhost:<port>`, when the template maps a custom domain. */
  readonly customDomainOrigin?: string;
  /** `http://127.0.0.1:<port>` of the Cognito stand-in (hosted login, JWKS). */
  readonly cognitoOrigin: string;
  readonly dynamoEndpoint: string;
  /** Failures the stand-ins answer with next (a throttled DynamoDB, a KMS outage). */
  readonly faults: Faults;
  /** Turn an AWS value of the template into the local one (names of the API, domains). */
  localize(value: string): string;
  /** A template value, resolved and localized. */
  resolve(value: unknown): unknown;
  /** The stack's outputs, resolved and localized. */
  readonly outputs: Readonly<Record<string, string>>;
  stop(): Promise<void>;
}

async function listen(server: Server, port: number, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

/** The one resource of a type, or an error naming how many there are. */
export function onlyResource(
  resolver: TemplateResolver,
  type: string,
): [string, CfnResource] | undefined {
  const found = resolver.resourcesOfType(type);
  if (found.length > 1) {
    throw new UnsupportedTemplateError(
      `The emulator models one ${type}; the template has ${found.length}`,
    );
  }
  return found[0];
}

/** A function's extra variables, none of them one its template sets. */
function extraVariables(
  logicalId: string,
  templateVariables: Readonly<Record<string, unknown>> | undefined,
  extra: Readonly<Record<string, string>> | undefined,
): Readonly<Record<string, string>> {
  for (const name of Object.keys(extra ?? {})) {
    if (templateVariables !== undefined && Object.hasOwn(templateVariables, name)) {
      throw new Error(`${logicalId}: the template sets ${name} already; extraEnvironment may not`);
    }
  }
  return extra ?? {};
}

function tableDefinition(resolver: TemplateResolver, logicalId: string) {
  const prop = (name: string) => resolver.property(logicalId, name);
  const indexes = (name: string) =>
    ((prop(name) as Record<string, unknown>[] | undefined) ?? []).map((index) => ({
      IndexName: index.IndexName,
      KeySchema: index.KeySchema,
      Projection: index.Projection,
    }));
  const gsis = indexes('GlobalSecondaryIndexes');
  const lsis = indexes('LocalSecondaryIndexes');
  return {
    TableName: resolver.ref(logicalId),
    AttributeDefinitions: prop('AttributeDefinitions'),
    KeySchema: prop('KeySchema'),
    BillingMode: 'PAY_PER_REQUEST',
    ...(gsis.length > 0 ? { GlobalSecondaryIndexes: gsis } : {}),
    ...(lsis.length > 0 ? { LocalSecondaryIndexes: lsis } : {}),
  };
}

export async function startEmulator(options: EmulatorOptions): Promise<Emulator> {
  const { assembly } = options;
  const account: LocalAccount = {
    ...DEFAULT_ACCOUNT,
    stackName: assembly.stackName,
    ...(options.fixedIds === undefined ? {} : { fixedIds: options.fixedIds }),
  };
  const resolver = new TemplateResolver(assembly.template, account);
  const api = buildApiModel(resolver);
  const logs = options.logs ?? new LogGroups();
  const host = options.host ?? '127.0.0.1';
  const stops: (() => Promise<void> | void)[] = [];
  const stop = async () => {
    for (const step of stops.reverse()) await step();
  };

  try {
    // The servers first: every local name needs its port.
    const apiServer = createServer();
    const apiPort = await listen(apiServer, options.port ?? 3000, host);
    stops.push(
      () =>
        new Promise<void>((resolve) => {
          apiServer.closeAllConnections();
          apiServer.close(() => resolve());
        }),
    );
    const cognitoServer = createServer((req, res) => {
      if (options.cognito !== undefined) options.cognito(req, res);
      else res.writeHead(404).end();
    });
    const cognitoPort = await listen(cognitoServer, 0, '127.0.0.1');
    stops.push(
      () =>
        new Promise<void>((resolve) => {
          cognitoServer.closeAllConnections();
          cognitoServer.close(() => resolve());
        }),
    );

    const { region, urlSuffix } = account;
    const executeApiHost = `${api.apiId}.execute-api.${region}.${urlSuffix}`;
    const executeApiOrigin = `http://${host}:${apiPort}`;
    const cognitoOrigin = `http://127.0.0.1:${cognitoPort}`;
    const domains = api.domains;
    if (domains.length > 1) {
      throw new UnsupportedTemplateError('The emulator serves one custom domain (as localhost)');
    }
    const customDomain = domains[0];
    const customDomainOrigin =
      customDomain === undefined ? undefined : `http://localhost:${apiPort}`;
    const hostedLogin = onlyResource(resolver, 'AWS::Cognito::UserPoolDomain');
    const loginHost =
      hostedLogin === undefined
        ? undefined
        : `${resolver.ref(hostedLogin[0])}.auth.${region}.amazoncognito.com`;
    /** AWS name → local origin, longest first so no name is replaced inside another. */
    const renames: [string, string][] = [[executeApiHost, executeApiOrigin]];
    if (customDomain !== undefined && customDomainOrigin !== undefined) {
      renames.push([customDomain.domainName, customDomainOrigin]);
    }
    if (loginHost !== undefined) renames.push([loginHost, cognitoOrigin]);
    renames.sort((a, b) => b[0].length - a[0].length);
    const localize = (value: string): string => {
      let out = value;
      for (const [awsHost, origin] of renames) {
        out = out.split(`https://${awsHost}`).join(origin);
        out = out.split(awsHost).join(new URL(origin).host);
      }
      return out;
    };
    const localizeDeep = (value: unknown): unknown => {
      if (typeof value === 'string') return localize(value);
      if (Array.isArray(value)) return value.map(localizeDeep);
      if (value !== null && typeof value === 'object') {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, localizeDeep(v)]));
      }
      return value;
    };
    const localApi: ApiModel = localizeDeep({
      ...api,
      gatewayResponses: [...api.gatewayResponses.entries()],
    }) as ApiModel;
    (localApi as { gatewayResponses: unknown }).gatewayResponses = new Map(
      localApi.gatewayResponses as unknown as [string, never][],
    );

    // DynamoDB: the template's tables, empty, in an embedded dynalite.
    const faults = new Faults();
    const dynamo = await startDynamoDb(faults);
    stops.push(() => dynamo.stop());
    const dynamoEndpoint = dynamo.endpoint;
    const tables = [
      ...resolver.resourcesOfType('AWS::DynamoDB::Table'),
      ...resolver.resourcesOfType('AWS::DynamoDB::GlobalTable'),
    ];
    for (const [logicalId] of tables) {
      await createTable(dynamoEndpoint, tableDefinition(resolver, logicalId));
    }

    // Secrets Manager and KMS.
    const secrets: LocalSecret[] = resolver
      .resourcesOfType('AWS::SecretsManager::Secret')
      .map(([logicalId]) => {
        const arn = resolver.ref(logicalId);
        const initial = resolver.property(logicalId, 'SecretString');
        const template: Record<string, string> =
          typeof initial === 'string' ? { AWSCURRENT: initial } : {};
        const read = options.secretValue?.(arn, logicalId) ?? (() => template);
        return { arn, name: arn.split(':secret:')[1]?.slice(0, -7) ?? logicalId, read };
      });
    const secretsServer = await startSecretsManager(secrets, faults);
    stops.push(() => secretsServer.stop());
    const keys: LocalKey[] = resolver
      .resourcesOfType('AWS::KMS::Key')
      .map(([logicalId, resource]) => {
        const keySpec = resource.Properties?.KeySpec;
        if (keySpec !== undefined && (typeof keySpec !== 'string' || !isModelledKeySpec(keySpec))) {
          throw new UnsupportedTemplateError(
            `KMS key ${logicalId}: KeySpec ${JSON.stringify(keySpec)} is not modelled (symmetric and HMAC keys are)`,
          );
        }
        return {
          keyId: resolver.ref(logicalId),
          arn: resolver.getAtt(logicalId, 'Arn'),
          ...(keySpec === undefined ? {} : { keySpec }),
        };
      });
    const kmsServer = await startKms(keys, options.stateDir, faults);
    stops.push(() => kmsServer.stop());
    // Cognito's management API is not on any request path: asked, it answers so, loudly.
    const cognitoIdp: JsonProtocolServer = await serveJsonProtocol(
      'AWSCognitoIdentityProviderService',
      {},
    );
    stops.push(() => cognitoIdp.stop());

    // The functions.
    const functions: FunctionDefinition[] = resolver
      .resourcesOfType('AWS::Lambda::Function')
      .map(([logicalId]) => {
        const codeDirectory =
          options.codeOverrides?.[logicalId] ?? assetDirectory(assembly, logicalId);
        if (codeDirectory === undefined) {
          throw new UnsupportedTemplateError(
            `${logicalId}: its code was not bundled into the assembly (synthesized with bundling off?)`,
          );
        }
        const runtime = String(resolver.property(logicalId, 'Runtime') ?? '');
        if (
          resolver.property(logicalId, 'PackageType') === 'Image' ||
          !runtime.startsWith('nodejs')
        ) {
          throw new UnsupportedTemplateError(
            `${logicalId}: runtime ${runtime || '(container image)'} is not modelled (Node.js zip functions only)`,
          );
        }
        if (resolver.property(logicalId, 'Layers') !== undefined) {
          // A layer's code is not in the function's asset: what it provides would be missing.
          throw new UnsupportedTemplateError(`${logicalId}: Lambda layers are not modelled`);
        }
        const functionName = resolver.ref(logicalId);
        const environment = (
          resolver.property(logicalId, 'Environment') as
            | { Variables?: Record<string, unknown> }
            | undefined
        )?.Variables;
        const logging = resolver.property(logicalId, 'LoggingConfig') as
          | { LogGroup?: string; LogFormat?: string }
          | undefined;
        if (logging?.LogFormat !== undefined && logging.LogFormat !== 'Text') {
          throw new UnsupportedTemplateError(
            `${logicalId}: log format ${logging.LogFormat} is not modelled (Text only)`,
          );
        }
        return {
          logicalId,
          functionName,
          arn: resolver.getAtt(logicalId, 'Arn'),
          codeDirectory,
          handler: String(resolver.property(logicalId, 'Handler') ?? 'index.handler'),
          runtime,
          timeoutSeconds: Number(resolver.property(logicalId, 'Timeout') ?? 3),
          memoryMb: Number(resolver.property(logicalId, 'MemorySize') ?? 128),
          environment: {
            ...Object.fromEntries(
              Object.entries(environment ?? {}).map(([name, value]) => [
                name,
                localize(String(value)),
              ]),
            ),
            ...extraVariables(logicalId, environment, options.extraEnvironment?.[logicalId]),
          },
          logGroupName: logging?.LogGroup ?? `/aws/lambda/${functionName}`,
        };
      });
    const lambda = new LambdaService({
      functions,
      region,
      endpoints: {
        DYNAMODB: dynamoEndpoint,
        SECRETS_MANAGER: secretsServer.endpoint,
        KMS: kmsServer.endpoint,
        COGNITO_IDENTITY_PROVIDER: cognitoIdp.endpoint,
      },
      hosts: {
        [`cognito-idp.${region}.${urlSuffix}`]: cognitoOrigin,
        [`issuer-cognito-idp.${region}.${urlSuffix}`]: cognitoOrigin,
        ...(options.extraHosts ?? {}),
      },
      logs,
      ...(options.nodeBinary === undefined ? {} : { nodeBinary: options.nodeBinary }),
    });
    stops.push(() => lambda.stop());

    let waf: WebAcl | undefined;
    if (api.webAclLogicalId !== undefined) {
      waf = new WebAcl(resolver.resource(api.webAclLogicalId).Properties ?? {}, options.now);
      for (const rule of waf.unmodelled) {
        logs.write(
          'local-emulator',
          'waf',
          `WAF rule ${rule} is not modelled: it matches nothing here`,
        );
      }
    }
    const accessLogGroup = api.stage.accessLog?.destinationArn
      .split(':log-group:')[1]
      ?.replace(/:\*$/, '');
    const restApi = new RestApi({
      api: localApi,
      account,
      lambda,
      logs,
      ...(accessLogGroup === undefined ? {} : { accessLogGroup }),
      ...(waf === undefined ? {} : { waf }),
      ...(options.now === undefined ? {} : { now: options.now }),
      ...(options.holdStreamedWritesBelowBytes === undefined
        ? {}
        : { holdStreamedWritesBelowBytes: options.holdStreamedWritesBelowBytes }),
    });
    const endpoints: Endpoint[] = [];
    if (api.executeApiEndpoint) {
      endpoints.push({
        kind: 'execute-api',
        host: new URL(executeApiOrigin).host,
        awsHost: executeApiHost,
        basePath: api.stage.name,
      });
    }
    if (customDomain !== undefined && customDomainOrigin !== undefined) {
      endpoints.push({
        kind: 'custom-domain',
        host: new URL(customDomainOrigin).host,
        awsHost: customDomain.domainName,
        basePath: customDomain.basePath,
      });
    }
    restApi.setEndpoints(endpoints);
    apiServer.on('request', restApi.handle);

    const outputs = Object.fromEntries(
      Object.entries(assembly.template.Outputs ?? {}).flatMap(([name, output]) => {
        try {
          return [[name, localize(resolver.resolveString(output.Value, `Outputs.${name}`))]];
        } catch {
          return [];
        }
      }),
    );
    return {
      resolver,
      api: localApi,
      restApi,
      lambda,
      logs,
      executeApiOrigin,
      stageUrl: `${executeApiOrigin}/${api.stage.name}`,
      ...(customDomainOrigin === undefined ? {} : { customDomainOrigin }),
      cognitoOrigin,
      dynamoEndpoint,
      faults,
      localize,
      resolve: (value) => localizeDeep(resolver.resolve(value)),
      outputs,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** CreateTable on the embedded DynamoDB, over its JSON protocol. */
async function createTable(endpoint: string, definition: Record<string, unknown>): Promise<void> {
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-amz-json-1.0',
      'X-Amz-Target': 'DynamoDB_20120810.CreateTable',
      // dynalite ignores the signature but wants the header's shape.
      Authorization:
        'AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0',
      'X-Amz-Date': '20260101T000000Z',
    },
    body: JSON.stringify(definition),
  });
  if (!response.ok) {
    throw new UnsupportedTemplateError(
      `Could not create table ${String(definition.TableName)} locally: ${await response.text()}`,
    );
  }
}
