/**
 * Gateway responses: what API Gateway answers when it refuses or fails a request itself,
 * each type with its default status, falling back to DEFAULT_4XX or DEFAULT_5XX when the
 * template does not customize it ("Gateway response types for API Gateway",
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html).
 *
 * A response's headers come from its parameter mappings, whose values AWS documents as "any
 * incoming request parameter value or a static custom value" (x-amazon-apigateway-gateway-
 * responses.gatewayResponse): `'static'`, `method.request.header.<name>`,
 * `method.request.querystring.<name>`, `method.request.path.<name>`. Anything else (a
 * `context.*` value, for one) is refused when the emulator starts: AWS documents no such
 * source, so the emulator cannot say what AWS would do with it. Its body is the template,
 * "not processed by the VTL engine": only `$context.*` and `$stageVariables.*` substitution.
 *
 * Pure.
 */
import type { ApiModel, GatewayResponseModel } from './api-model';
import { UnsupportedTemplateError } from './template';

interface TypeInfo {
  readonly status: number;
  /** The fallback type, or none. */
  readonly fallback: 'DEFAULT_4XX' | 'DEFAULT_5XX';
  /** `$context.error.message` of API Gateway's own answer. */
  readonly message: string | null;
  /** The `x-amzn-ErrorType` header API Gateway adds. */
  readonly errorType: string;
}

/** The types the emulator produces, with AWS's defaults. */
export const GATEWAY_RESPONSE_TYPES = {
  ACCESS_DENIED: {
    status: 403,
    fallback: 'DEFAULT_4XX',
    message: 'User is not authorized to access this resource with an explicit deny',
    errorType: 'AccessDeniedException',
  },
  AUTHORIZER_CONFIGURATION_ERROR: {
    status: 500,
    fallback: 'DEFAULT_5XX',
    message: null,
    errorType: 'AuthorizerConfigurationException',
  },
  AUTHORIZER_FAILURE: {
    status: 500,
    fallback: 'DEFAULT_5XX',
    message: null,
    errorType: 'AuthorizerFailureException',
  },
  BAD_REQUEST_BODY: {
    status: 400,
    fallback: 'DEFAULT_4XX',
    message: 'Invalid request body',
    errorType: 'BadRequestException',
  },
  BAD_REQUEST_PARAMETERS: {
    status: 400,
    fallback: 'DEFAULT_4XX',
    message: 'Missing required request parameters',
    errorType: 'BadRequestException',
  },
  INTEGRATION_FAILURE: {
    status: 504,
    fallback: 'DEFAULT_5XX',
    message: 'Internal server error',
    errorType: 'InternalServerErrorException',
  },
  INTEGRATION_TIMEOUT: {
    status: 504,
    fallback: 'DEFAULT_5XX',
    message: 'Endpoint request timed out',
    errorType: 'InternalServerErrorException',
  },
  MISSING_AUTHENTICATION_TOKEN: {
    status: 403,
    fallback: 'DEFAULT_4XX',
    message: 'Missing Authentication Token',
    errorType: 'MissingAuthenticationTokenException',
  },
  REQUEST_TOO_LARGE: {
    status: 413,
    fallback: 'DEFAULT_4XX',
    message: 'Request Too Long',
    errorType: 'BadRequestException',
  },
  THROTTLED: {
    status: 429,
    fallback: 'DEFAULT_4XX',
    message: 'Too Many Requests',
    errorType: 'TooManyRequestsException',
  },
  UNAUTHORIZED: {
    status: 401,
    fallback: 'DEFAULT_4XX',
    message: 'Unauthorized',
    errorType: 'UnauthorizedException',
  },
  UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    fallback: 'DEFAULT_4XX',
    message: 'Unsupported Media Type',
    errorType: 'UnsupportedMediaTypeException',
  },
  WAF_FILTERED: {
    status: 403,
    fallback: 'DEFAULT_4XX',
    message: 'Forbidden',
    errorType: 'ForbiddenException',
  },
  API_CONFIGURATION_ERROR: {
    status: 500,
    fallback: 'DEFAULT_5XX',
    message: 'Internal server error',
    errorType: 'InternalServerErrorException',
  },
} as const satisfies Record<string, TypeInfo>;

export type GatewayResponseType = keyof typeof GATEWAY_RESPONSE_TYPES;

/** What a gateway response is rendered from: the request and the `$context` variables. */
export interface GatewayResponseContext {
  /** The request's headers, any case. */
  readonly requestHeaders: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string>>;
  /** `$context.*` values, dotted (`authorizer.principalId`, `requestId`, …). */
  readonly context: Readonly<Record<string, string | undefined>>;
  readonly stageVariables: Readonly<Record<string, string>>;
  /** The message to use instead of the type's own (a validation detail, the 413's text). */
  readonly message?: string | null;
}

export interface RenderedResponse {
  readonly statusCode: number;
  readonly headers: [string, string][];
  readonly body: string;
}

const HEADER_SOURCE = /^method\.request\.(header|querystring|path)\.(.+)$/;

/** Refuse, at start, every mapping AWS does not document for gateway responses. */
export function checkGatewayResponses(api: ApiModel): void {
  for (const response of api.gatewayResponses.values()) {
    if (!(response.type in GATEWAY_RESPONSE_TYPES) && !response.type.startsWith('DEFAULT_')) {
      // A type the emulator never produces: harmless, but say nothing of it.
      continue;
    }
    for (const [key, source] of Object.entries(response.responseParameters)) {
      if (!key.startsWith('gatewayresponse.header.')) {
        throw new UnsupportedTemplateError(
          `Gateway response ${response.type}: ${key} (only header parameters are modelled)`,
        );
      }
      if (!/^'.*'$/s.test(source) && !HEADER_SOURCE.test(source)) {
        throw new UnsupportedTemplateError(
          `Gateway response ${response.type} maps ${key} from ${source}: AWS documents only request parameters (method.request.*) and static values as gateway-response header sources`,
        );
      }
    }
    for (const [contentType, template] of Object.entries(response.responseTemplates)) {
      const stripped = template.replace(/\$(context|stageVariables)\.[A-Za-z0-9_.]+/g, '');
      if (/[$#]/.test(stripped)) {
        throw new UnsupportedTemplateError(
          `Gateway response ${response.type} (${contentType}): its template uses more than $context/$stageVariables substitution, which gateway responses do not evaluate`,
        );
      }
    }
  }
}

function lookup(record: Readonly<Record<string, string>>, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [key, value] of Object.entries(record)) if (key.toLowerCase() === lower) return value;
  return undefined;
}

/**
 * The gateway response of `type`: the type's own customization if the template has one, else
 * its fallback's, else API Gateway's default (`{"message":$context.error.messageString}`).
 */
export function renderGatewayResponse(
  api: ApiModel,
  type: GatewayResponseType,
  ctx: GatewayResponseContext,
): RenderedResponse {
  const info: TypeInfo = GATEWAY_RESPONSE_TYPES[type];
  // AWS: "Customizing the default gateway response for 413 REQUEST_TOO_LARGE isn't currently
  // supported" (important notes for REST APIs): neither its own nor DEFAULT_4XX's applies.
  const customizable = type !== 'REQUEST_TOO_LARGE';
  const own = customizable ? api.gatewayResponses.get(type) : undefined;
  const fallback = customizable ? api.gatewayResponses.get(info.fallback) : undefined;
  const customization: GatewayResponseModel | undefined = own ?? fallback;
  // A type's own status code; a fallback's status code changes every type it covers.
  const statusCode = Number(own?.statusCode ?? fallback?.statusCode ?? info.status);
  const message = ctx.message === undefined ? info.message : ctx.message;
  const context: Record<string, string | undefined> = {
    ...ctx.context,
    'error.message': message ?? undefined,
    'error.messageString': message === null ? 'null' : JSON.stringify(message),
    'error.responseType': type,
    'error.validationErrorString': ctx.context['error.validationErrorString'],
  };
  const headers: [string, string][] = [['x-amzn-ErrorType', info.errorType]];
  for (const [key, source] of Object.entries(customization?.responseParameters ?? {})) {
    const name = key.slice('gatewayresponse.header.'.length);
    const value = /^'(.*)'$/s.exec(source)?.[1] ?? mapped(source, ctx);
    // A mapping whose request parameter is absent sends no header.
    if (value !== undefined) headers.push([name, value]);
  }
  const templates = customization?.responseTemplates ?? {};
  const template =
    templates['application/json'] ??
    Object.values(templates)[0] ??
    '{"message":$context.error.messageString}';
  const body = substituteVariables(template, context, ctx.stageVariables);
  headers.push(['Content-Type', 'application/json']);
  return { statusCode, headers, body };
}

/**
 * A gateway response's template as API Gateway fills it: each `$context.*` and
 * `$stageVariables.*` replaced by its value (empty when it has none), nothing else evaluated.
 */
export function substituteVariables(
  template: string,
  context: Readonly<Record<string, string | undefined>>,
  stageVariables: Readonly<Record<string, string>> = {},
): string {
  return template.replace(
    /\$(context|stageVariables)\.([A-Za-z0-9_.]+)/g,
    (_all, kind: string, name: string) =>
      kind === 'context' ? (context[name] ?? '') : (stageVariables[name] ?? ''),
  );
}

function mapped(source: string, ctx: GatewayResponseContext): string | undefined {
  const match = HEADER_SOURCE.exec(source);
  if (match === null) return undefined;
  const [, position, name] = match as unknown as [string, string, string];
  if (position === 'header') return lookup(ctx.requestHeaders, name);
  if (position === 'querystring') return ctx.query[name];
  return undefined;
}
