/**
 * The REST API as the template defines it, in the terms API Gateway serves it by: the stage,
 * the resource tree and its methods, each method's authorizer, request validation and
 * integration, the gateway responses, the custom domains mapped to the stage, and who may
 * invoke which function. Built from the template alone (pure): everything the emulator does
 * for a request is read from here, so a route, header or response that exists only in the
 * emulator cannot exist.
 *
 * What the template asks for and the emulator cannot do is refused here, with the resource
 * and property named: better no local server than one that answers differently from AWS.
 */
import { type CfnResource, type TemplateResolver, UnsupportedTemplateError } from './template';

/** One part of an identity source, as API Gateway names them. */
export type IdentitySource =
  | { readonly kind: 'header'; readonly name: string }
  | { readonly kind: 'querystring'; readonly name: string }
  | { readonly kind: 'context'; readonly name: string }
  | { readonly kind: 'stageVariables'; readonly name: string };

export interface AuthorizerModel {
  readonly id: string;
  readonly logicalId: string;
  readonly name: string;
  readonly type: 'REQUEST';
  readonly identitySources: readonly IdentitySource[];
  /** 0: caching off. API Gateway's default when the property is absent is 300. */
  readonly resultTtlSeconds: number;
  /** The function it invokes (logical id). */
  readonly functionLogicalId: string;
}

export interface IntegrationResponseModel {
  readonly statusCode: string;
  readonly selectionPattern?: string;
  readonly responseParameters: Readonly<Record<string, string>>;
  readonly responseTemplates: Readonly<Record<string, string>>;
}

export type IntegrationModel =
  | {
      readonly type: 'AWS_PROXY';
      readonly functionLogicalId: string;
      readonly transferMode: 'BUFFERED' | 'STREAM';
      readonly timeoutMs: number;
    }
  | {
      readonly type: 'MOCK';
      readonly requestTemplates: Readonly<Record<string, string>>;
      readonly passthroughBehavior: 'WHEN_NO_MATCH' | 'WHEN_NO_TEMPLATES' | 'NEVER';
      readonly integrationResponses: readonly IntegrationResponseModel[];
    };

export interface MethodModel {
  readonly logicalId: string;
  /** `GET`, `POST`, …, or `ANY`. */
  readonly httpMethod: string;
  /** The resource path, `/mcp`, `/.well-known/oauth-protected-resource`. */
  readonly resourcePath: string;
  /** The resource's id (`$context.resourceId`). */
  readonly resourceId: string;
  readonly authorizationType: 'NONE' | 'CUSTOM';
  readonly authorizer?: AuthorizerModel;
  readonly validator?: { readonly body: boolean; readonly parameters: boolean };
  /** Content type → JSON schema (draft 4) of the request body. */
  readonly requestModels: Readonly<Record<string, unknown>>;
  /** `method.request.header.X` → required. */
  readonly requestParameters: Readonly<Record<string, boolean>>;
  readonly integration: IntegrationModel;
  /** Status code → the response parameters the method response declares. */
  readonly methodResponses: Readonly<Record<string, Readonly<Record<string, boolean>>>>;
}

export interface GatewayResponseModel {
  readonly type: string;
  readonly statusCode?: string;
  /** `gatewayresponse.header.X` → a mapping expression (`'static'`, `method.request.header.Y`, …). */
  readonly responseParameters: Readonly<Record<string, string>>;
  readonly responseTemplates: Readonly<Record<string, string>>;
}

export interface ThrottleModel {
  /** `*` or a method. */
  readonly httpMethod: string;
  /** `/*` or a resource path. */
  readonly resourcePath: string;
  readonly rateLimit: number;
  readonly burstLimit: number;
}

export interface StageModel {
  readonly name: string;
  readonly variables: Readonly<Record<string, string>>;
  readonly throttles: readonly ThrottleModel[];
  /** The access-log format (`$context` variables), and the log group it is written to. */
  readonly accessLog?: { readonly format: string; readonly destinationArn: string };
}

export interface DomainModel {
  readonly domainName: string;
  /** '' maps the stage at the domain's root. */
  readonly basePath: string;
}

/** Who may invoke a function: `apigateway.amazonaws.com` with a source ARN pattern. */
export interface InvokePermission {
  readonly functionLogicalId: string;
  readonly sourceArn: string;
}

export interface ApiModel {
  readonly logicalId: string;
  readonly apiId: string;
  readonly name: string;
  /** The `execute-api` endpoint answers (false when the template turns it off). */
  readonly executeApiEndpoint: boolean;
  readonly binaryMediaTypes: readonly string[];
  readonly stage: StageModel;
  readonly methods: readonly MethodModel[];
  readonly gatewayResponses: ReadonlyMap<string, GatewayResponseModel>;
  readonly domains: readonly DomainModel[];
  readonly permissions: readonly InvokePermission[];
  /** The WAF web ACL associated with the stage (logical id), if any. */
  readonly webAclLogicalId?: string;
}

/** Template keys the emulator knows how to honour, per type; anything else is refused. */
const KNOWN_PROPERTIES: Readonly<Record<string, readonly string[]>> = {
  'AWS::ApiGateway::RestApi': [
    'Name',
    'Description',
    'EndpointConfiguration',
    'DisableExecuteApiEndpoint',
    'BinaryMediaTypes',
    'Tags',
  ],
  'AWS::ApiGateway::Method': [
    'HttpMethod',
    'ResourceId',
    'RestApiId',
    'AuthorizationType',
    'AuthorizerId',
    'ApiKeyRequired',
    'RequestValidatorId',
    'RequestModels',
    'RequestParameters',
    'Integration',
    'MethodResponses',
  ],
  'AWS::ApiGateway::Authorizer': [
    'Name',
    'RestApiId',
    'Type',
    'AuthorizerUri',
    'IdentitySource',
    'AuthorizerResultTtlInSeconds',
    // "An optional customer-defined field, used in OpenAPI imports and exports without
    // functional impact" (AWS::ApiGateway::Authorizer AuthType).
    'AuthType',
  ],
};

function refuseUnknownProperties(logicalId: string, resource: CfnResource): void {
  const known = KNOWN_PROPERTIES[resource.Type];
  if (known === undefined) return;
  for (const key of Object.keys(resource.Properties ?? {})) {
    if (!known.includes(key)) {
      throw new UnsupportedTemplateError(
        `${logicalId} (${resource.Type}) sets ${key}, which the local emulator does not model`,
      );
    }
  }
}

/**
 * The function a Lambda integration or authorizer URI invokes: the URI is
 * `arn:<partition>:apigateway:<region>:lambda:path/<date>/functions/<function ARN>/<action>`,
 * the function ARN a `Fn::GetAtt [<logical id>, Arn]` inside a `Fn::Join`.
 */
function functionOfUri(
  uri: unknown,
  where: string,
): { functionLogicalId: string; action: 'invocations' | 'response-streaming-invocations' } {
  let functionLogicalId: string | undefined;
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(visit);
    else if (value !== null && typeof value === 'object') {
      const getAtt = (value as Record<string, unknown>)['Fn::GetAtt'];
      if (Array.isArray(getAtt) && getAtt[1] === 'Arn' && typeof getAtt[0] === 'string') {
        functionLogicalId ??= getAtt[0];
      }
      for (const item of Object.values(value)) visit(item);
    }
  };
  visit(uri);
  const text = JSON.stringify(uri);
  const action = /response-streaming-invocations/.test(text)
    ? 'response-streaming-invocations'
    : /\/invocations/.test(text)
      ? 'invocations'
      : undefined;
  if (functionLogicalId === undefined || action === undefined) {
    throw new UnsupportedTemplateError(
      `${where}: the integration URI names no Lambda function of this template`,
    );
  }
  return { functionLogicalId, action };
}

/** `method.request.header.Authorization, context.path` → identity sources. */
export function parseIdentitySource(text: string, where: string): IdentitySource[] {
  return text
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .map((part) => {
      const header = /^method\.request\.header\.(.+)$/.exec(part);
      if (header) return { kind: 'header', name: header[1] as string };
      const query = /^method\.request\.querystring\.(.+)$/.exec(part);
      if (query) return { kind: 'querystring', name: query[1] as string };
      const context = /^context\.(.+)$/.exec(part);
      if (context) return { kind: 'context', name: context[1] as string };
      const stage = /^stageVariables\.(.+)$/.exec(part);
      if (stage) return { kind: 'stageVariables', name: stage[1] as string };
      throw new UnsupportedTemplateError(
        `${where}: identity source ${part} is not one API Gateway knows`,
      );
    });
}

const API_GATEWAY = 'apigateway.amazonaws.com';

/**
 * A method setting's resource path: `/*`, or `/` followed by the path with each `/` written
 * `~1` (`/~1register` is `/register`), as the Stage's MethodSettings spell it.
 */
function settingPath(path: string): string {
  return path === '/*' ? path : path.slice(1).replace(/~1/g, '/');
}

export function buildApiModel(resolver: TemplateResolver): ApiModel {
  const apis = resolver.resourcesOfType('AWS::ApiGateway::RestApi');
  if (apis.length !== 1) {
    throw new UnsupportedTemplateError(
      `The emulator serves exactly one REST API; the template has ${apis.length}`,
    );
  }
  for (const type of [
    'AWS::ApiGatewayV2::Api',
    'AWS::ApiGateway::UsagePlan',
    'AWS::ApiGateway::ApiKey',
  ]) {
    const found = resolver.resourcesOfType(type);
    if (found.length > 0) {
      throw new UnsupportedTemplateError(
        `${found[0]?.[0]} (${type}) is not modelled by the local emulator`,
      );
    }
  }
  const [apiLogicalId, api] = apis[0] as [string, CfnResource];
  refuseUnknownProperties(apiLogicalId, api);
  const apiId = resolver.ref(apiLogicalId);
  const endpointTypes = (
    resolver.property(apiLogicalId, 'EndpointConfiguration') as { Types?: string[] } | undefined
  )?.Types ?? ['EDGE'];
  if (endpointTypes.join() !== 'REGIONAL') {
    throw new UnsupportedTemplateError(
      `${apiLogicalId}: endpoint type ${endpointTypes.join()} (the emulator models REGIONAL endpoints only)`,
    );
  }
  const rootId = resolver.getAtt(apiLogicalId, 'RootResourceId');

  // The resource tree: id → path.
  const paths = new Map<string, string>([[rootId, '/']]);
  const pending = new Map(
    resolver.resourcesOfType('AWS::ApiGateway::Resource').map(([logicalId]) => [
      resolver.ref(logicalId),
      {
        parent: resolver.resolveString(
          resolver.resource(logicalId).Properties?.ParentId,
          `${logicalId}.ParentId`,
        ),
        part: resolver.resolveString(
          resolver.resource(logicalId).Properties?.PathPart,
          `${logicalId}.PathPart`,
        ),
        logicalId,
      },
    ]),
  );
  while (pending.size > 0) {
    let progressed = false;
    for (const [id, { parent, part, logicalId }] of pending) {
      const parentPath = paths.get(parent);
      if (parentPath === undefined) continue;
      if (/[{}]/.test(part)) {
        throw new UnsupportedTemplateError(
          `${logicalId}: path parameters ({${part}}) are not modelled by the local emulator`,
        );
      }
      paths.set(id, parentPath === '/' ? `/${part}` : `${parentPath}/${part}`);
      pending.delete(id);
      progressed = true;
    }
    if (!progressed)
      throw new UnsupportedTemplateError('A resource whose parent is not in the tree');
  }

  const stages = resolver.resourcesOfType('AWS::ApiGateway::Stage');
  if (stages.length !== 1) {
    throw new UnsupportedTemplateError(
      `The emulator serves exactly one stage; the template has ${stages.length}`,
    );
  }
  const [stageLogicalId] = stages[0] as [string, CfnResource];
  const stageProp = (name: string) => resolver.property(stageLogicalId, name);
  for (const unsupported of ['CacheClusterEnabled', 'CanarySetting', 'ClientCertificateId']) {
    if (stageProp(unsupported) !== undefined && stageProp(unsupported) !== false) {
      throw new UnsupportedTemplateError(
        `${stageLogicalId} sets ${unsupported}, which the local emulator does not model`,
      );
    }
  }
  const methodSettings =
    (stageProp('MethodSettings') as Record<string, unknown>[] | undefined) ?? [];
  const throttles: ThrottleModel[] = methodSettings
    .filter(
      (setting) =>
        setting.ThrottlingRateLimit !== undefined || setting.ThrottlingBurstLimit !== undefined,
    )
    .map((setting) => ({
      httpMethod: String(setting.HttpMethod ?? '*'),
      resourcePath: settingPath(String(setting.ResourcePath ?? '/*')),
      rateLimit: Number(setting.ThrottlingRateLimit ?? 10_000),
      burstLimit: Number(setting.ThrottlingBurstLimit ?? 5_000),
    }));
  for (const setting of methodSettings) {
    if (setting.CachingEnabled === true) {
      throw new UnsupportedTemplateError(
        `${stageLogicalId}: response caching is not modelled by the local emulator`,
      );
    }
  }
  const accessLogSetting = stageProp('AccessLogSetting') as
    | { Format?: string; DestinationArn?: string }
    | undefined;
  const stage: StageModel = {
    name: String(stageProp('StageName')),
    variables: (stageProp('Variables') as Record<string, string> | undefined) ?? {},
    throttles,
    ...(accessLogSetting?.Format !== undefined && accessLogSetting.DestinationArn !== undefined
      ? {
          accessLog: {
            format: accessLogSetting.Format,
            destinationArn: accessLogSetting.DestinationArn,
          },
        }
      : {}),
  };

  const authorizers = new Map<string, AuthorizerModel>();
  for (const [logicalId, resource] of resolver.resourcesOfType('AWS::ApiGateway::Authorizer')) {
    refuseUnknownProperties(logicalId, resource);
    const type = String(resolver.property(logicalId, 'Type'));
    if (type !== 'REQUEST') {
      throw new UnsupportedTemplateError(
        `${logicalId}: ${type} authorizers are not modelled (REQUEST only)`,
      );
    }
    const ttlProperty = resolver.property(logicalId, 'AuthorizerResultTtlInSeconds');
    // AWS: "If this field is not set, the default value is 300. The maximum value is 3600"
    // (Authorizer, authorizerResultTtlInSeconds, API Gateway API reference).
    const ttl = ttlProperty === undefined ? 300 : Number(ttlProperty);
    if (!Number.isInteger(ttl) || ttl < 0 || ttl > 3600) {
      throw new UnsupportedTemplateError(
        `${logicalId}: AuthorizerResultTtlInSeconds ${String(ttlProperty)} (AWS accepts 0 to 3600)`,
      );
    }
    const identity = String(resolver.property(logicalId, 'IdentitySource') ?? '');
    const identitySources = parseIdentitySource(identity, `${logicalId}.IdentitySource`);
    if (ttl > 0 && identitySources.length === 0) {
      // "For the REQUEST authorizer, this is required when authorization caching is enabled"
      // (Authorizer, identitySource): AWS refuses the template; here every caller would share
      // one cached policy.
      throw new UnsupportedTemplateError(
        `${logicalId}: a REQUEST authorizer with caching on (TTL ${ttl}) needs an IdentitySource`,
      );
    }
    authorizers.set(resolver.ref(logicalId), {
      id: resolver.ref(logicalId),
      logicalId,
      name: String(resolver.property(logicalId, 'Name') ?? logicalId),
      type: 'REQUEST',
      identitySources,
      resultTtlSeconds: ttl,
      functionLogicalId: functionOfUri(
        resource.Properties?.AuthorizerUri,
        `${logicalId}.AuthorizerUri`,
      ).functionLogicalId,
    });
  }

  const validators = new Map(
    resolver.resourcesOfType('AWS::ApiGateway::RequestValidator').map(([logicalId]) => [
      resolver.ref(logicalId),
      {
        body: resolver.property(logicalId, 'ValidateRequestBody') === true,
        parameters: resolver.property(logicalId, 'ValidateRequestParameters') === true,
      },
    ]),
  );
  const models = new Map(
    resolver
      .resourcesOfType('AWS::ApiGateway::Model')
      .map(([logicalId]) => [resolver.ref(logicalId), resolver.property(logicalId, 'Schema')]),
  );

  const methods: MethodModel[] = [];
  for (const [logicalId, resource] of resolver.resourcesOfType('AWS::ApiGateway::Method')) {
    refuseUnknownProperties(logicalId, resource);
    const prop = (name: string) => resolver.property(logicalId, name);
    const resourceId = String(prop('ResourceId'));
    const resourcePath = paths.get(resourceId);
    if (resourcePath === undefined) {
      throw new UnsupportedTemplateError(`${logicalId}: its resource is not in the API's tree`);
    }
    const authorizationType = String(prop('AuthorizationType') ?? 'NONE');
    if (authorizationType !== 'NONE' && authorizationType !== 'CUSTOM') {
      throw new UnsupportedTemplateError(
        `${logicalId}: authorization type ${authorizationType} is not modelled (NONE and CUSTOM only)`,
      );
    }
    if (prop('ApiKeyRequired') === true) {
      throw new UnsupportedTemplateError(`${logicalId}: API keys (usage plans) are not modelled`);
    }
    const authorizerId = prop('AuthorizerId');
    const authorizer =
      authorizerId === undefined ? undefined : authorizers.get(String(authorizerId));
    if (authorizationType === 'CUSTOM' && authorizer === undefined) {
      throw new UnsupportedTemplateError(
        `${logicalId}: CUSTOM authorization without an authorizer of this template`,
      );
    }
    const validatorId = prop('RequestValidatorId');
    const requestModels = Object.fromEntries(
      Object.entries((prop('RequestModels') as Record<string, string> | undefined) ?? {}).map(
        ([contentType, modelName]) => {
          const schema = models.get(modelName);
          if (schema === undefined) {
            throw new UnsupportedTemplateError(
              `${logicalId}: request model ${modelName} is not in the template`,
            );
          }
          return [contentType, schema];
        },
      ),
    );
    const integration = prop('Integration') as Record<string, unknown> | undefined;
    if (integration === undefined)
      throw new UnsupportedTemplateError(`${logicalId}: no integration`);
    methods.push({
      logicalId,
      httpMethod: String(prop('HttpMethod')),
      resourcePath,
      resourceId,
      authorizationType,
      ...(authorizationType === 'CUSTOM' && authorizer !== undefined ? { authorizer } : {}),
      ...(validatorId === undefined ? {} : { validator: validators.get(String(validatorId)) }),
      requestModels,
      requestParameters: (prop('RequestParameters') as Record<string, boolean> | undefined) ?? {},
      integration: integrationModel(logicalId, integration, resource),
      methodResponses: Object.fromEntries(
        ((prop('MethodResponses') as Record<string, unknown>[] | undefined) ?? []).map(
          (response) => [
            String(response.StatusCode),
            (response.ResponseParameters as Record<string, boolean> | undefined) ?? {},
          ],
        ),
      ),
    });
  }

  const gatewayResponses = new Map<string, GatewayResponseModel>();
  for (const [logicalId] of resolver.resourcesOfType('AWS::ApiGateway::GatewayResponse')) {
    const type = String(resolver.property(logicalId, 'ResponseType'));
    const statusCode = resolver.property(logicalId, 'StatusCode');
    gatewayResponses.set(type, {
      type,
      ...(statusCode === undefined ? {} : { statusCode: String(statusCode) }),
      responseParameters:
        (resolver.property(logicalId, 'ResponseParameters') as
          | Record<string, string>
          | undefined) ?? {},
      responseTemplates:
        (resolver.property(logicalId, 'ResponseTemplates') as Record<string, string> | undefined) ??
        {},
    });
  }

  for (const type of [
    'AWS::ApiGateway::DomainNameV2',
    'AWS::ApiGateway::DomainNameAccessAssociation',
  ]) {
    const found = resolver.resourcesOfType(type);
    if (found.length > 0) {
      throw new UnsupportedTemplateError(
        `${found[0]?.[0]} (${type}): private custom domains are not modelled by the local emulator`,
      );
    }
  }
  for (const [logicalId] of resolver.resourcesOfType('AWS::ApiGateway::DomainName')) {
    if (resolver.property(logicalId, 'MutualTlsAuthentication') !== undefined) {
      throw new UnsupportedTemplateError(
        `${logicalId} sets MutualTlsAuthentication: mutual TLS is not modelled by the local emulator`,
      );
    }
  }
  const domains: DomainModel[] = [];
  for (const [logicalId] of resolver.resourcesOfType('AWS::ApiGateway::BasePathMapping')) {
    const domainName = String(resolver.property(logicalId, 'DomainName'));
    const basePath = String(resolver.property(logicalId, 'BasePath') ?? '');
    const stageName = resolver.property(logicalId, 'Stage');
    if (stageName !== undefined && stageName !== stage.name) {
      throw new UnsupportedTemplateError(`${logicalId}: maps a stage other than ${stage.name}`);
    }
    domains.push({
      domainName: domainName.toLowerCase(),
      basePath: basePath === '(none)' ? '' : basePath,
    });
  }
  if (resolver.resourcesOfType('AWS::ApiGatewayV2::ApiMapping').length > 0) {
    throw new UnsupportedTemplateError(
      'API mappings (AWS::ApiGatewayV2::ApiMapping) are not modelled',
    );
  }

  const permissions: InvokePermission[] = [];
  for (const [logicalId, resource] of resolver.resourcesOfType('AWS::Lambda::Permission')) {
    if (resolver.property(logicalId, 'Principal') !== API_GATEWAY) continue;
    // Lambda takes a function's name, its ARN or a partial ARN (`AddPermission`, FunctionName):
    // whichever the template wrote, resolved, names one of its functions.
    const target = resource.Properties?.FunctionName;
    const named = resolver.resolveString(target, `${logicalId}.FunctionName`);
    const functionLogicalId = resolver
      .resourcesOfType('AWS::Lambda::Function')
      .map(([id]) => id)
      .find((id) => {
        const name = resolver.ref(id);
        return (
          named === name ||
          named === resolver.getAtt(id, 'Arn') ||
          named.endsWith(`:function:${name}`)
        );
      });
    if (functionLogicalId === undefined) continue;
    permissions.push({
      functionLogicalId,
      sourceArn: String(resolver.property(logicalId, 'SourceArn') ?? '*'),
    });
  }

  const stageArn = `arn:${resolver.account.partition}:apigateway:${resolver.account.region}::/restapis/${apiId}/stages/${stage.name}`;
  const association = resolver
    .resourcesOfType('AWS::WAFv2::WebACLAssociation')
    .find(([logicalId]) => resolver.property(logicalId, 'ResourceArn') === stageArn);
  let webAclLogicalId: string | undefined;
  if (association !== undefined) {
    const arn = association[1].Properties?.WebACLArn as Record<string, unknown> | undefined;
    const getAtt = arn?.['Fn::GetAtt'];
    webAclLogicalId = Array.isArray(getAtt) ? String(getAtt[0]) : undefined;
  }

  return {
    logicalId: apiLogicalId,
    apiId,
    name: String(resolver.property(apiLogicalId, 'Name') ?? apiLogicalId),
    executeApiEndpoint: resolver.property(apiLogicalId, 'DisableExecuteApiEndpoint') !== true,
    binaryMediaTypes:
      (resolver.property(apiLogicalId, 'BinaryMediaTypes') as string[] | undefined) ?? [],
    stage,
    methods,
    gatewayResponses,
    domains,
    permissions,
    ...(webAclLogicalId === undefined ? {} : { webAclLogicalId }),
  };

  function integrationModel(
    logicalId: string,
    integration: Record<string, unknown>,
    resource: CfnResource,
  ): IntegrationModel {
    const type = String(integration.Type);
    for (const key of Object.keys(integration)) {
      const known = [
        'Type',
        'Uri',
        'IntegrationHttpMethod',
        'ResponseTransferMode',
        'TimeoutInMillis',
        'RequestTemplates',
        'PassthroughBehavior',
        'IntegrationResponses',
      ];
      if (!known.includes(key)) {
        throw new UnsupportedTemplateError(
          `${logicalId}: Integration.${key} is not modelled by the local emulator`,
        );
      }
    }
    if (type === 'AWS_PROXY') {
      // The URI unresolved: the function is found by its `Fn::GetAtt` inside it.
      const uri = (resource.Properties?.Integration as Record<string, unknown> | undefined)?.Uri;
      const { functionLogicalId, action } = functionOfUri(uri, `${logicalId}.Integration.Uri`);
      const transferMode = String(integration.ResponseTransferMode ?? 'BUFFERED');
      if (transferMode !== 'BUFFERED' && transferMode !== 'STREAM') {
        throw new UnsupportedTemplateError(`${logicalId}: response transfer mode ${transferMode}`);
      }
      // The streaming mode needs the streaming action in the URI, and the other way round.
      if ((transferMode === 'STREAM') !== (action === 'response-streaming-invocations')) {
        throw new UnsupportedTemplateError(
          `${logicalId}: ResponseTransferMode ${transferMode} with an integration URI ending in /${action}`,
        );
      }
      return {
        type,
        functionLogicalId,
        transferMode,
        // "Integration timeout for Regional APIs | 50 milliseconds - 29 seconds" (quotas for
        // REST APIs; 29 s when unset); a STREAM integration may set up to 15 minutes.
        // https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-execution-service-limits-table.html
        timeoutMs: Number(integration.TimeoutInMillis ?? 29_000),
      };
    }
    if (type === 'MOCK') {
      return {
        type,
        requestTemplates:
          (integration.RequestTemplates as Record<string, string> | undefined) ?? {},
        passthroughBehavior: String(integration.PassthroughBehavior ?? 'WHEN_NO_MATCH') as
          | 'WHEN_NO_MATCH'
          | 'WHEN_NO_TEMPLATES'
          | 'NEVER',
        integrationResponses: (
          (integration.IntegrationResponses as Record<string, unknown>[] | undefined) ?? []
        ).map((response) => ({
          statusCode: String(response.StatusCode),
          ...(response.SelectionPattern === undefined
            ? {}
            : { selectionPattern: String(response.SelectionPattern) }),
          responseParameters:
            (response.ResponseParameters as Record<string, string> | undefined) ?? {},
          responseTemplates:
            (response.ResponseTemplates as Record<string, string> | undefined) ?? {},
        })),
      };
    }
    throw new UnsupportedTemplateError(
      `${logicalId}: integration type ${type} is not modelled (AWS_PROXY and MOCK only)`,
    );
  }
}
