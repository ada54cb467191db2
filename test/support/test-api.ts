/**
 * Small hand-written templates for the emulator's tests, in the shapes CDK synthesizes them
 * (a RestApi, its resources and methods, Lambda integrations whose URI is a `Fn::Join` around
 * the function's `Fn::GetAtt Arn`, the `AWS::Lambda::Permission` CDK adds per method), with
 * each function's code a tiny CommonJS folder written to a temporary directory, and the
 * emulator started over it (`startEmulator`, port 0, the code given by `codeOverrides`).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type Emulator,
  type EmulatorOptions,
  startEmulator,
} from '../../tools/local/emulator/emulator';
import type { CfnResource, CfnTemplate } from '../../tools/local/emulator/template';

export const API = 'Api';
export const STAGE = 'Stage';
export const STAGE_NAME = 'prod';

const ref = (logicalId: string) => ({ Ref: logicalId });
const arnOf = (logicalId: string) => ({ 'Fn::GetAtt': [logicalId, 'Arn'] });
/** `arn:<partition>:apigateway:<region>` and the rest, as CDK joins it. */
const apigatewayArn = (...tail: unknown[]) => ({
  'Fn::Join': ['', ['arn:', ref('AWS::Partition'), ':apigateway:', ref('AWS::Region'), ...tail]],
});

/** A logical id from a path and method: `/a/b` GET → `ApiabGET`. */
function idOf(...parts: string[]): string {
  return parts.join('').replace(/[^A-Za-z0-9]/g, '');
}

export interface FunctionOptions {
  /** Seconds. @default 3 */
  readonly timeout?: number;
  readonly memorySize?: number;
  readonly environment?: Readonly<Record<string, string>>;
}

export interface LambdaIntegrationOptions {
  readonly stream?: boolean;
  readonly timeoutMs?: number;
}

export interface MethodOptions {
  /** `fn:<logicalId>` for a Lambda proxy, or a MOCK integration object. */
  readonly function?: string;
  readonly lambda?: LambdaIntegrationOptions;
  readonly mock?: Record<string, unknown>;
  readonly authorizer?: string;
  /** Add no AWS::Lambda::Permission for this method. */
  readonly noPermission?: boolean;
  /** Extra Method properties (RequestValidatorId, RequestModels, RequestParameters, …). */
  readonly properties?: Record<string, unknown>;
}

/** A template under construction, and the code of its functions. */
export class TestApi {
  readonly resources: Record<string, CfnResource> = {};
  readonly conditions: Record<string, unknown> = {};
  readonly outputs: Record<string, { Value: unknown }> = {};
  readonly code = new Map<string, string>();
  readonly #paths = new Map<string, string>();

  constructor(options: { stage?: Record<string, unknown>; api?: Record<string, unknown> } = {}) {
    this.resources[API] = {
      Type: 'AWS::ApiGateway::RestApi',
      Properties: {
        Name: 'test-api',
        EndpointConfiguration: { Types: ['REGIONAL'] },
        ...options.api,
      },
    };
    this.resources.Deployment = {
      Type: 'AWS::ApiGateway::Deployment',
      Properties: { RestApiId: ref(API) },
    };
    this.resources[STAGE] = {
      Type: 'AWS::ApiGateway::Stage',
      Properties: {
        RestApiId: ref(API),
        DeploymentId: ref('Deployment'),
        StageName: STAGE_NAME,
        ...options.stage,
      },
    };
  }

  /** Any resource, as is. */
  add(logicalId: string, resource: CfnResource): this {
    this.resources[logicalId] = resource;
    return this;
  }

  /** A function whose `index.js` is `source` (CommonJS). */
  function(logicalId: string, source: string, options: FunctionOptions = {}): this {
    this.code.set(logicalId, source);
    this.resources[logicalId] = {
      Type: 'AWS::Lambda::Function',
      Properties: {
        Code: { ZipFile: 'local' },
        Handler: 'index.handler',
        Runtime: 'nodejs22.x',
        Role: 'arn:aws:iam::123456789012:role/test',
        Timeout: options.timeout ?? 3,
        ...(options.memorySize === undefined ? {} : { MemorySize: options.memorySize }),
        ...(options.environment === undefined
          ? {}
          : { Environment: { Variables: options.environment } }),
      },
    };
    return this;
  }

  /** The resource id of a path, creating the resources on the way (`/` is the root). */
  resource(path: string): unknown {
    if (path === '/') return { 'Fn::GetAtt': [API, 'RootResourceId'] };
    let parent: unknown = { 'Fn::GetAtt': [API, 'RootResourceId'] };
    let sofar = '';
    for (const part of path.split('/').filter((p) => p !== '')) {
      sofar += `/${part}`;
      let logicalId = this.#paths.get(sofar);
      if (logicalId === undefined) {
        logicalId = idOf('Api', sofar, 'Resource');
        this.#paths.set(sofar, logicalId);
        this.resources[logicalId] = {
          Type: 'AWS::ApiGateway::Resource',
          Properties: { RestApiId: ref(API), ParentId: parent, PathPart: part },
        };
      }
      parent = ref(logicalId);
    }
    return parent;
  }

  /** A method; a Lambda proxy gets the permission CDK adds (unless `noPermission`). */
  method(path: string, httpMethod: string, options: MethodOptions): string {
    const logicalId = idOf('Api', path, httpMethod);
    let integration: Record<string, unknown>;
    if (options.function !== undefined) {
      const stream = options.lambda?.stream === true;
      integration = {
        Type: 'AWS_PROXY',
        IntegrationHttpMethod: 'POST',
        ...(stream ? { ResponseTransferMode: 'STREAM' } : {}),
        ...(options.lambda?.timeoutMs === undefined
          ? {}
          : { TimeoutInMillis: options.lambda.timeoutMs }),
        Uri: apigatewayArn(
          `:lambda:path/${stream ? '2021-11-15' : '2015-03-31'}/functions/`,
          arnOf(options.function),
          stream ? '/response-streaming-invocations' : '/invocations',
        ),
      };
      if (options.noPermission !== true) {
        this.permission(
          options.function,
          `/${httpMethod === 'ANY' ? '*' : httpMethod}${path}`,
          logicalId,
        );
      }
    } else {
      integration = options.mock ?? { Type: 'MOCK' };
    }
    this.resources[logicalId] = {
      Type: 'AWS::ApiGateway::Method',
      Properties: {
        RestApiId: ref(API),
        ResourceId: this.resource(path),
        HttpMethod: httpMethod,
        AuthorizationType: options.authorizer === undefined ? 'NONE' : 'CUSTOM',
        ...(options.authorizer === undefined ? {} : { AuthorizerId: ref(options.authorizer) }),
        Integration: integration,
        ...options.properties,
      },
    };
    return logicalId;
  }

  /** `apigateway.amazonaws.com` may invoke `fn` for `<api>/<stage><suffix>` (as CDK writes it). */
  permission(fn: string, suffix: string, forId: string): this {
    return this.#invokePermission(`${forId}Permission`, fn, ['/', ref(STAGE), suffix]);
  }

  #invokePermission(logicalId: string, fn: string, tail: unknown[]): this {
    this.resources[logicalId] = {
      Type: 'AWS::Lambda::Permission',
      Properties: {
        Action: 'lambda:InvokeFunction',
        FunctionName: arnOf(fn),
        Principal: 'apigateway.amazonaws.com',
        SourceArn: {
          'Fn::Join': [
            '',
            [
              'arn:',
              ref('AWS::Partition'),
              ':execute-api:',
              ref('AWS::Region'),
              ':',
              ref('AWS::AccountId'),
              ':',
              ref(API),
              ...tail,
            ],
          ],
        },
      },
    };
    return this;
  }

  /** A web ACL with these properties, associated with the stage. */
  webAcl(logicalId: string, properties: Record<string, unknown>): this {
    this.resources[logicalId] = {
      Type: 'AWS::WAFv2::WebACL',
      Properties: { DefaultAction: { Allow: {} }, Scope: 'REGIONAL', ...properties },
    };
    this.resources[`${logicalId}Association`] = {
      Type: 'AWS::WAFv2::WebACLAssociation',
      Properties: {
        ResourceArn: apigatewayArn('::/restapis/', ref(API), '/stages/', ref(STAGE)),
        WebACLArn: { 'Fn::GetAtt': [logicalId, 'Arn'] },
      },
    };
    return this;
  }

  /** A REQUEST authorizer running `fn`, with the permission CDK adds for it. */
  authorizer(
    logicalId: string,
    fn: string,
    options: { identitySource?: string; ttl?: number; noPermission?: boolean } = {},
  ): this {
    this.resources[logicalId] = {
      Type: 'AWS::ApiGateway::Authorizer',
      Properties: {
        RestApiId: ref(API),
        Name: logicalId,
        Type: 'REQUEST',
        ...(options.identitySource === undefined ? {} : { IdentitySource: options.identitySource }),
        ...(options.ttl === undefined ? {} : { AuthorizerResultTtlInSeconds: options.ttl }),
        AuthorizerUri: {
          'Fn::Join': [
            '',
            [
              'arn:',
              { 'Fn::Select': [1, { 'Fn::Split': [':', arnOf(fn)] }] },
              ':apigateway:',
              { 'Fn::Select': [3, { 'Fn::Split': [':', arnOf(fn)] }] },
              ':lambda:path/2015-03-31/functions/',
              arnOf(fn),
              '/invocations',
            ],
          ],
        },
      },
    };
    if (options.noPermission !== true) {
      this.#invokePermission(`${logicalId}Permission`, fn, ['/authorizers/', ref(logicalId)]);
    }
    return this;
  }

  /** A gateway response of `type`. */
  gatewayResponse(
    type: string,
    options: {
      statusCode?: string;
      headers?: Record<string, unknown>;
      templates?: Record<string, unknown>;
    } = {},
  ): this {
    this.resources[idOf('GatewayResponse', type)] = {
      Type: 'AWS::ApiGateway::GatewayResponse',
      Properties: {
        RestApiId: ref(API),
        ResponseType: type,
        ...(options.statusCode === undefined ? {} : { StatusCode: options.statusCode }),
        ResponseParameters: Object.fromEntries(
          Object.entries(options.headers ?? {}).map(([name, value]) => [
            `gatewayresponse.header.${name}`,
            value,
          ]),
        ),
        ResponseTemplates: options.templates ?? {},
      },
    };
    return this;
  }

  /** Stage properties merged in (MethodSettings, AccessLogSetting, Variables). */
  stage(properties: Record<string, unknown>): this {
    const stage = this.resources[STAGE] as { Properties: Record<string, unknown> };
    Object.assign(stage.Properties, properties);
    return this;
  }

  template(): CfnTemplate {
    return {
      Resources: structuredClone(this.resources),
      ...(Object.keys(this.conditions).length > 0
        ? { Conditions: structuredClone(this.conditions) }
        : {}),
      ...(Object.keys(this.outputs).length > 0 ? { Outputs: structuredClone(this.outputs) } : {}),
    };
  }
}

/** A running emulator over a {@link TestApi}. */
export interface Served {
  readonly emulator: Emulator;
  /** The stage's base URL: `http://127.0.0.1:<port>/prod`. */
  readonly url: string;
  /** Fetch a path under the stage. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** The access-log lines written so far. */
  accessLog(): string[];
  stop(): Promise<void>;
}

/** Write each function's code to its own folder and start the emulator over the template. */
export async function serve(
  api: TestApi,
  options: Partial<Omit<EmulatorOptions, 'assembly' | 'stateDir'>> = {},
): Promise<Served> {
  const dir = mkdtempSync(join(tmpdir(), 'emulator-test-'));
  const codeOverrides: Record<string, string> = {};
  for (const [logicalId, source] of api.code) {
    const folder = join(dir, 'code', logicalId);
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, 'index.js'), source);
    codeOverrides[logicalId] = folder;
  }
  let emulator: Emulator;
  try {
    emulator = await startEmulator({
      assembly: { directory: dir, stackName: 'EmulatorTest', template: api.template() },
      stateDir: join(dir, 'state'),
      port: 0,
      ...options,
      codeOverrides: { ...codeOverrides, ...options.codeOverrides },
    });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    emulator,
    url: emulator.stageUrl,
    fetch: (path, init) => fetch(`${emulator.stageUrl}${path}`, init),
    accessLog: () => {
      const group = emulator.api.stage.accessLog?.destinationArn
        .split(':log-group:')[1]
        ?.replace(/:\*$/, '');
      return group === undefined ? [] : emulator.logs.events(group).map((event) => event.message);
    },
    stop: async () => {
      await emulator.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A MOCK integration answering `status` with `body` (application/json). */
export function mockIntegration(
  body: string,
  options: { passthrough?: string; status?: string } = {},
): Record<string, unknown> {
  return {
    Type: 'MOCK',
    ...(options.passthrough === undefined ? {} : { PassthroughBehavior: options.passthrough }),
    RequestTemplates: { 'application/json': `{"statusCode": ${options.status ?? '200'}}` },
    IntegrationResponses: [
      { StatusCode: options.status ?? '200', ResponseTemplates: { 'application/json': body } },
    ],
  };
}

/** A buffered handler answering with `result` (a JS expression over `event`). */
export function answering(expression: string): string {
  return `exports.handler = async (event, context) => (${expression});\n`;
}

/** A handler that returns its event as the JSON body (what API Gateway sent the function). */
export const ECHO = answering(
  "{ statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(event) }",
);
