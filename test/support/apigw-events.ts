/**
 * The events API Gateway (REST API) sends our functions, built as AWS documents them, for the
 * tests that hand a handler an event instead of going through the local emulator:
 *
 * - {@link proxyEvent}: a Lambda proxy integration's event ("Input format of a Lambda function
 *   for proxy integration",
 *   https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html#api-gateway-simple-proxy-for-lambda-input-format),
 *   with the Lambda authorizer's context where the method has one: "the authorized user
 *   information includes `$context.authorizer.principalId` and other applicable
 *   `$context.authorizer.*` properties", every value a string ("Output from an API Gateway
 *   Lambda authorizer" shows a context of `"numberKey": "1"`,
 *   https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-output.html),
 *   but API Gateway's own `integrationLatency`, a number.
 * - {@link authorizerEvent}: a REQUEST-type Lambda authorizer's event ("Input to an API Gateway
 *   Lambda authorizer", `REQUEST` input format,
 *   https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-input.html).
 *
 * Headers are given once, as the client sent them, and become both maps API Gateway fills:
 * "The `headers` key can only contain single-value headers. The `multiValueHeaders` key can
 * contain multi-value headers as well as single-value headers" (a repeated header's last value
 * in the first, all of them in the second). A test that needs an event AWS would never send
 * (maps that disagree, a context that is not strings) spreads its override over a built one,
 * so the malformation stays in sight: `{ ...proxyEvent({ headers }), multiValueHeaders: {} }`.
 */
import type {
  APIGatewayEventDefaultAuthorizerContext,
  APIGatewayEventIdentity,
  APIGatewayEventRequestContextWithAuthorizer,
  APIGatewayProxyEvent,
  APIGatewayRequestAuthorizerEvent,
} from 'aws-lambda';
import { type Principal, toAuthorizerContext } from '../../lambda/shared/principal';

/** Where a REST API is deployed: the parts of its method ARNs and of its default host. */
export interface ApiCoordinates {
  readonly region: string;
  readonly accountId: string;
  readonly apiId: string;
  readonly stage: string;
}

/** The API the events come through unless a test names another. */
export const TEST_API: ApiCoordinates = {
  region: 'us-east-1',
  accountId: '123456789012',
  apiId: 'abcdef1234',
  stage: 'prod',
};

/** When every event was received (`requestTimeEpoch`): 2026-01-01T00:00:00Z. */
export const REQUEST_TIME_EPOCH = 1767225600000;
/** What API Gateway measured the authorizer's run at (`$context.authorizer.integrationLatency`). */
export const AUTHORIZER_LATENCY_MS = 3;

/** Header or query values as a client sends them: a list where a name is repeated. */
export type Values = Readonly<Record<string, string | readonly string[]>>;

/** A request, as the client sent it and API Gateway matched it. */
export interface RequestOptions {
  /** @default 'POST' */
  readonly method?: string;
  /** The path under the stage (`/mcp`, not `/prod/mcp`). @default '/mcp' */
  readonly path?: string;
  /** The API resource the path matched. @default the path */
  readonly resource?: string;
  /** @default none */
  readonly headers?: Values;
  /** The query string's parameters. @default none */
  readonly query?: Values;
  /** @default a fixed id */
  readonly requestId?: string;
  /** `identity.sourceIp`. @default 203.0.113.9 */
  readonly sourceIp?: string;
  /** @default {@link TEST_API} */
  readonly api?: Partial<ApiCoordinates>;
}

/** A request that reached a Lambda proxy integration. */
export interface ProxyEventOptions extends RequestOptions {
  /** @default null */
  readonly body?: string | null;
  /** @default false */
  readonly isBase64Encoded?: boolean;
  /**
   * The caller our authorizer allowed: `requestContext.authorizer` is the context it returns
   * for them, as API Gateway hands it on. Without one (and without `authorizer`), the method
   * has no authorizer and the event no `authorizer` key.
   */
  readonly caller?: Principal;
  /**
   * `requestContext.authorizer` exactly as given (`null`, `{}`, values API Gateway would never
   * pass): for the tests of what a handler does with a context it must refuse.
   */
  readonly authorizer?: APIGatewayEventDefaultAuthorizerContext;
}

const DEFAULT_REQUEST_ID = 'c0ffee00-0000-4000-8000-000000000000';
const DEFAULT_SOURCE_IP = '203.0.113.9';

/** `arn:aws:execute-api:{region}:{accountId}:{apiId}/{stage}/{httpVerb}/{resource path}`. */
export function methodArnOf(
  options: {
    readonly method?: string;
    readonly path?: string;
    readonly api?: Partial<ApiCoordinates>;
  } = {},
): string {
  const api = { ...TEST_API, ...options.api };
  return `arn:aws:execute-api:${api.region}:${api.accountId}:${api.apiId}/${api.stage}/${options.method ?? 'POST'}${options.path ?? '/mcp'}`;
}

/** The single-value and multi-value maps of `values`: the last value in the first. */
export function valueMaps(values: Values): {
  single: Record<string, string>;
  multi: Record<string, string[]>;
} {
  const single: Record<string, string> = {};
  const multi: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(values)) {
    const all = typeof value === 'string' ? [value] : [...value];
    const last = all.at(-1);
    if (last !== undefined) single[name] = last;
    multi[name] = all;
  }
  return { single, multi };
}

/** The `requestContext` both events share (the `$context` variables of the request). */
function requestContextOf(
  options: RequestOptions,
  headers: Readonly<Record<string, string>>,
): Omit<APIGatewayEventRequestContextWithAuthorizer<undefined>, 'authorizer'> {
  const api = { ...TEST_API, ...options.api };
  const method = options.method ?? 'POST';
  const path = options.path ?? '/mcp';
  const userAgent = Object.entries(headers).find(([name]) => name.toLowerCase() === 'user-agent');
  const identity: APIGatewayEventIdentity = {
    accessKey: null,
    accountId: null,
    apiKey: null,
    apiKeyId: null,
    caller: null,
    clientCert: null,
    cognitoAuthenticationProvider: null,
    cognitoAuthenticationType: null,
    cognitoIdentityId: null,
    cognitoIdentityPoolId: null,
    principalOrgId: null,
    sourceIp: options.sourceIp ?? DEFAULT_SOURCE_IP,
    user: null,
    // `$context.identity.userAgent`: "The User-Agent header of the API caller".
    userAgent: userAgent?.[1] ?? null,
    userArn: null,
  };
  return {
    accountId: api.accountId,
    apiId: api.apiId,
    domainName: `${api.apiId}.execute-api.${api.region}.amazonaws.com`,
    domainPrefix: api.apiId,
    extendedRequestId: 'AbCdEfGhIjKlMnO=',
    httpMethod: method,
    identity,
    // `$context.path`: "The request path", stage included, on the default endpoint.
    path: `/${api.stage}${path}`,
    protocol: 'HTTP/1.1',
    requestId: options.requestId ?? DEFAULT_REQUEST_ID,
    requestTime: '01/Jan/2026:00:00:00 +0000',
    requestTimeEpoch: REQUEST_TIME_EPOCH,
    resourceId: 'res123',
    resourcePath: options.resource ?? path,
    stage: api.stage,
  };
}

/** The authorizer context API Gateway hands the integration for a caller our authorizer allowed. */
export function authorizerContextOf(caller: Principal): APIGatewayEventDefaultAuthorizerContext {
  return {
    ...toAuthorizerContext(caller),
    // API Gateway's own keys: the policy's principalId (ours repeats the context's) and the
    // authorizer's latency, a number.
    principalId: caller.principalId,
    integrationLatency: AUTHORIZER_LATENCY_MS,
  };
}

/** The event a Lambda proxy integration receives for this request. */
export function proxyEvent(options: ProxyEventOptions = {}): APIGatewayProxyEvent {
  const headers = valueMaps(options.headers ?? {});
  const query = options.query === undefined ? undefined : valueMaps(options.query);
  const context = requestContextOf(options, headers.single);
  const authorizer: { authorizer?: APIGatewayEventDefaultAuthorizerContext } =
    'authorizer' in options
      ? { authorizer: options.authorizer }
      : options.caller === undefined
        ? {}
        : { authorizer: authorizerContextOf(options.caller) };
  return {
    resource: options.resource ?? options.path ?? '/mcp',
    path: options.path ?? '/mcp',
    httpMethod: options.method ?? 'POST',
    headers: headers.single,
    multiValueHeaders: headers.multi,
    // A proxy event has null where the request has none.
    queryStringParameters: query?.single ?? null,
    multiValueQueryStringParameters: query?.multi ?? null,
    pathParameters: null,
    stageVariables: null,
    // A method without an authorizer gets no `authorizer` key (the type's `undefined`).
    requestContext: { ...context, ...authorizer } as APIGatewayProxyEvent['requestContext'],
    body: options.body ?? null,
    isBase64Encoded: options.isBase64Encoded ?? false,
  };
}

/** The event a REQUEST-type Lambda authorizer receives for this request. */
export function authorizerEvent(options: RequestOptions = {}): APIGatewayRequestAuthorizerEvent {
  const headers = valueMaps(options.headers ?? {});
  const query = valueMaps(options.query ?? {});
  return {
    type: 'REQUEST',
    methodArn: methodArnOf(options),
    resource: options.resource ?? options.path ?? '/mcp',
    path: options.path ?? '/mcp',
    httpMethod: options.method ?? 'POST',
    headers: headers.single,
    multiValueHeaders: headers.multi,
    // Empty maps where the proxy event has null, as in the documented example
    // (`"pathParameters": {}`); and no `authorizer` in its request context.
    queryStringParameters: query.single,
    multiValueQueryStringParameters: query.multi,
    pathParameters: {},
    stageVariables: {},
    requestContext: requestContextOf(
      options,
      headers.single,
    ) as APIGatewayRequestAuthorizerEvent['requestContext'],
  };
}
