/**
 * API Gateway (REST) in front of the emulator's Lambda service, serving exactly the API of the
 * template (`api-model.ts`). A request goes through what API Gateway does, in its order:
 *
 * 1. the endpoint: the `execute-api` name (everything under `/<stage>`) or a custom domain
 *    (its base path mapping), else 403 `Forbidden`;
 * 2. WAF, when a web ACL is associated with the stage (`waf.ts`);
 * 3. the 10 MB payload limit (413);
 * 4. the resource and method (else 403 `Missing Authentication Token`);
 * 5. throttling (429);
 * 6. the Lambda authorizer, with its result cache (`authorizer.ts`);
 * 7. request validation (400);
 * 8. the integration: a mock, or a Lambda proxy (buffered or streamed), with Lambda's own
 *    limits (`lambda-service.ts`) and the integration timeout;
 * 9. the integration's response headers remapped (`header-rules.ts`); API Gateway's own
 *    errors as the template's gateway responses (`gateway-responses.ts`);
 * 10. one access-log line in the stage's format.
 *
 * Each step cites the AWS page it follows where it is implemented.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApiModel, AuthorizerModel, MethodModel } from './api-model';
import {
  AuthorizerCache,
  type AuthorizerResult,
  evaluatePolicy,
  identityKey,
  parseAuthorizerResult,
} from './authorizer';
import {
  checkGatewayResponses,
  GATEWAY_RESPONSE_TYPES,
  type GatewayResponseType,
  renderGatewayResponse,
} from './gateway-responses';
import {
  eventHeaderMaps,
  type HeaderList,
  headerPairs,
  integrationRequestHeaders,
  mergeProxyHeaders,
  remapIntegrationResponseHeaders,
} from './header-rules';
import type { LambdaService } from './lambda-service';
import type { LogSink } from './logs';
import { parseProxyResult } from './proxy-result';
import { bodyProblem, checkSchema, modelFor } from './request-model';
import { readPrelude } from './stream-prelude';
import type { LocalAccount } from './template';
import { UnsupportedTemplateError } from './template';
import { Throttle } from './throttle';
import { checkTemplate, renderTemplate } from './vtl';
import type { Waf } from './waf';

/**
 * API Gateway REST's payload limit ("Payload size | 10 MB | No", quotas for REST APIs).
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-execution-service-limits-table.html
 */
export const MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;
/**
 * "Your streams are subject to idle timeouts. For Regional or private endpoints, the timeout is
 * 5 minutes." https://docs.aws.amazon.com/apigateway/latest/developerguide/response-transfer-mode.html
 */
export const STREAM_IDLE_TIMEOUT_MS = 5 * 60_000;

/** One name the API answers by. */
export interface Endpoint {
  readonly kind: 'execute-api' | 'custom-domain';
  /** `host:port` as a client names it locally, lower case. */
  readonly host: string;
  /** The name it stands for in AWS (`requestContext.domainName`). */
  readonly awsHost: string;
  /** execute-api: the stage name; custom domain: the base path ('' is the root). */
  readonly basePath: string;
}

export interface RestApiOptions {
  readonly api: ApiModel;
  readonly account: Pick<LocalAccount, 'region' | 'accountId' | 'partition'>;
  readonly lambda: LambdaService;
  readonly logs: LogSink;
  /** Where access-log lines go (the stage's destination log group's name). */
  readonly accessLogGroup?: string;
  readonly waf?: Waf;
  /** The gateway's clock (authorizer cache, throttling): tests move it. @default Date.now */
  readonly now?: () => number;
  /**
   * Hold a streamed response's payload until at least this many bytes are pending (or the
   * stream ends), a model of what users report of AWS's streaming front end: small writes
   * arrive late, together (aws-lambda-nodejs-runtime-interface-client #94 and #102,
   * serverless-adapter #166: roughly 15-16 KB). Not documented by AWS. @default 0 (off)
   */
  readonly holdStreamedWritesBelowBytes?: number;
}

/** What the access log and the gateway responses read (`$context.*`). */
type ContextVars = Record<string, string | undefined>;

interface Exchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly started: number;
  readonly requestId: string;
  readonly extendedRequestId: string;
  readonly traceId: string;
  readonly headers: HeaderList;
  readonly headerMap: Record<string, string>;
  readonly query: Record<string, string>;
  readonly multiQuery: Record<string, string[]>;
  readonly context: ContextVars;
  endpoint?: Endpoint;
}

function clfTime(date: Date): string {
  const months = [
    'Jan',
    'Feb',
    'Mar',
    'Apr',
    'May',
    'Jun',
    'Jul',
    'Aug',
    'Sep',
    'Oct',
    'Nov',
    'Dec',
  ];
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(date.getUTCDate())}/${months[date.getUTCMonth()]}/${date.getUTCFullYear()}:${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}

/** Read the body, stopping past `max` bytes (the rest is not read). */
async function readBody(req: IncomingMessage, max: number): Promise<Buffer | 'too-large'> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req) {
    total += (chunk as Buffer).length;
    if (total > max) return 'too-large';
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export class RestApi {
  readonly api: ApiModel;
  readonly #options: RestApiOptions;
  readonly #now: () => number;
  readonly #cache: AuthorizerCache;
  readonly #throttle: Throttle;
  #endpoints: readonly Endpoint[] = [];

  constructor(options: RestApiOptions) {
    this.api = options.api;
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#cache = new AuthorizerCache(this.#now);
    this.#throttle = new Throttle(options.api.stage.throttles, this.#now);
    checkGatewayResponses(options.api);
    for (const method of options.api.methods) {
      for (const [type, schema] of Object.entries(method.requestModels)) {
        checkSchema(schema, `${method.logicalId} model ${type}`);
      }
      if (method.integration.type === 'MOCK') {
        for (const response of method.integration.integrationResponses) {
          for (const [type, template] of Object.entries(response.responseTemplates)) {
            checkTemplate(template, `${method.logicalId} integration response ${type}`);
          }
          for (const source of Object.values(response.responseParameters)) {
            if (!/^'.*'$/s.test(source) && !/^method\.request\.header\./.test(source)) {
              throw new UnsupportedTemplateError(
                `${method.logicalId}: mock response parameter from ${source} is not modelled`,
              );
            }
          }
        }
      }
    }
  }

  /** The names the API answers by (set once the server's port is known). */
  setEndpoints(endpoints: readonly Endpoint[]): void {
    this.#endpoints = endpoints;
  }

  /** Forget every cached authorizer result (as a new deployment would). */
  flushAuthorizerCache(): void {
    this.#cache.clear();
  }

  /** The Node request handler. */
  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    this.#handle(req, res).catch((error: unknown) => {
      this.#options.logs.write(
        'local-emulator',
        'api-gateway',
        `Emulator failure: ${String(error)}`,
      );
      if (!res.headersSent) {
        res
          .writeHead(500, { 'Content-Type': 'application/json' })
          .end('{"message":"Internal server error"}');
      } else res.destroy();
    });
  };

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = this.#now();
    const url = new URL(req.url ?? '/', 'http://emulator.invalid');
    const query: Record<string, string> = {};
    const multiQuery: Record<string, string[]> = {};
    for (const [name, value] of url.searchParams) {
      // "with repeated query keys, queryStringParameters keeps the LAST value".
      query[name] = value;
      multiQuery[name] = [...(multiQuery[name] ?? []), value];
    }
    const headers = headerPairs(req.rawHeaders);
    const headerMap: Record<string, string> = {};
    for (const [name, value] of headers) headerMap[name] = value;
    const requestId = randomUUID();
    const extendedRequestId = randomBytes(12).toString('base64').replace(/[+/=]/g, '').slice(0, 16);
    const traceId = `Root=1-${Math.floor(started / 1000).toString(16)}-${randomBytes(12).toString('hex')}`;
    const sourceIp = (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
    const exchange: Exchange = {
      req,
      res,
      started,
      requestId,
      extendedRequestId,
      traceId,
      headers,
      headerMap,
      query,
      multiQuery,
      context: {
        requestId,
        extendedRequestId,
        requestTime: clfTime(new Date(started)),
        requestTimeEpoch: String(started),
        'identity.sourceIp': sourceIp,
        'identity.userAgent': req.headers['user-agent'],
        httpMethod: req.method,
        protocol: `HTTP/${req.httpVersion}`,
        apiId: this.api.apiId,
        stage: this.api.stage.name,
      },
    };

    // 1. The endpoint. On the execute-api name the stage is the first path segment
    // ("https://{restapi_id}.execute-api.{region}.amazonaws.com/{stage_name}/", how-to-call-api);
    // a custom domain "strips the incoming base path" (rest-api-mappings), an empty one being
    // its root; a disabled default endpoint answers "403 Forbidden" (rest-api-disable-default-
    // endpoint). A name, stage or base path of no API is 403 {"message":"Forbidden"} (no AWS page
    // gives the body; seen from AWS, non-AWS evidence).
    // https://docs.aws.amazon.com/apigateway/latest/developerguide/how-to-call-api.html
    // https://docs.aws.amazon.com/apigateway/latest/developerguide/rest-api-mappings.html
    // https://docs.aws.amazon.com/apigateway/latest/developerguide/rest-api-disable-default-endpoint.html
    const host = (req.headers.host ?? '').toLowerCase();
    const endpoint = this.#endpoints.find((e) => e.host === host);
    if (endpoint === undefined) {
      this.#plain(exchange, 403, '{"message":"Forbidden"}', 'ForbiddenException');
      return;
    }
    exchange.endpoint = endpoint;
    exchange.context.domainName = endpoint.awsHost;
    exchange.context.domainPrefix = endpoint.awsHost.split('.')[0];
    const prefix = endpoint.basePath === '' ? '' : `/${endpoint.basePath}`;
    const rawPath = url.pathname;
    if (prefix !== '' && rawPath !== prefix && !rawPath.startsWith(`${prefix}/`)) {
      // No stage (execute-api) or base path (custom domain) of this API: nothing to route to.
      this.#plain(exchange, 403, '{"message":"Forbidden"}', 'ForbiddenException');
      return;
    }
    const path = rawPath.slice(prefix.length) || '/';
    // "$context.path: The request path. For example, /{stage}/root/child" (on a custom domain,
    // the base path in place of the stage).
    exchange.context.path = rawPath;

    // 2. WAF: "AWS WAF rules are evaluated before other access control features" (WAF runs
    // before resource policies, authorizers and the integration).
    // https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-control-access-aws-waf.html
    const waf = this.#options.waf?.evaluate({
      sourceIp,
      method: req.method ?? 'GET',
      uriPath: rawPath,
      headers,
    });
    if (waf !== undefined) {
      exchange.context['waf.status'] = String(waf.statusCode);
      exchange.context.wafResponseCode = waf.action === 'block' ? 'WAF_BLOCK' : 'WAF_ALLOW';
      if (waf.action === 'block') {
        if (waf.response !== undefined) {
          // "Custom responses that you specify for the AWS WAF Block action take precedence
          // over any response specifications that you define in your protected resource."
          this.#send(exchange, waf.response.statusCode, waf.response.headers, waf.response.body);
        } else {
          this.#gatewayResponse(exchange, 'WAF_FILTERED');
        }
        return;
      }
    }

    // 3. The payload limit, before the body is read where the client declared its length.
    const declared = Number(req.headers['content-length'] ?? 0);
    const body =
      declared > MAX_PAYLOAD_BYTES ? 'too-large' : await readBody(req, MAX_PAYLOAD_BYTES);
    if (body === 'too-large') {
      // Seen from AWS: "HTTP content length exceeded 10485760 bytes." (text, 413).
      this.#send(
        exchange,
        413,
        [['Content-Type', 'text; charset=utf-8']],
        `HTTP content length exceeded ${MAX_PAYLOAD_BYTES} bytes.`,
      );
      req.resume();
      return;
    }

    // 4. The resource and method: "including the cases when the client attempts to invoke an
    // unsupported API method or resource" (MISSING_AUTHENTICATION_TOKEN).
    const method = this.#route(path, req.method ?? 'GET');
    if (method === undefined) {
      this.#gatewayResponse(exchange, 'MISSING_AUTHENTICATION_TOKEN');
      return;
    }
    exchange.context.resourcePath = method.resourcePath;
    exchange.context.resourceId = method.resourceId;
    const methodArn = `arn:${this.#options.account.partition}:execute-api:${this.#options.account.region}:${this.#options.account.accountId}:${this.api.apiId}/${this.api.stage.name}/${req.method}${path === '/' ? '/' : path}`;

    // 5. Throttling: the method's bucket, then the account's (throttle.ts), 429 THROTTLED.
    // https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-request-throttling.html
    if (!this.#throttle.admit(method.resourcePath, method.httpMethod)) {
      this.#gatewayResponse(exchange, 'THROTTLED');
      return;
    }

    // 6. The authorizer.
    const integrationHeaders = integrationRequestHeaders(headers, {
      sourceIp,
      port: '443',
      proto: 'https',
      traceId: traceId,
    });
    let authorizer: AuthorizerResult | undefined;
    if (method.authorizer !== undefined) {
      const outcome = await this.#authorize(
        exchange,
        method,
        method.authorizer,
        methodArn,
        path,
        integrationHeaders,
      );
      if (outcome === undefined) return;
      authorizer = outcome;
    }

    // 7. Request validation: "API Gateway immediately fails the request, returns a 400 error
    // response" (request-model.ts for the body; required parameters "included and not blank").
    // https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-method-request-validation.html
    if (method.validator !== undefined) {
      if (method.validator.parameters) {
        const missing = Object.entries(method.requestParameters)
          .filter(([, required]) => required)
          .map(([name]) => name)
          .filter((name) => {
            const header = /^method\.request\.header\.(.+)$/.exec(name)?.[1];
            const qs = /^method\.request\.querystring\.(.+)$/.exec(name)?.[1];
            const value =
              header !== undefined
                ? Object.entries(headerMap).find(
                    ([key]) => key.toLowerCase() === header.toLowerCase(),
                  )?.[1]
                : qs !== undefined
                  ? query[qs]
                  : undefined;
            return value === undefined || value.trim() === '';
          });
        if (missing.length > 0) {
          const names = missing.map((name) => name.split('.').pop());
          this.#gatewayResponse(exchange, 'BAD_REQUEST_PARAMETERS', {
            message: `Missing required request parameters: [${names.join(', ')}]`,
          });
          return;
        }
      }
      if (method.validator.body) {
        const schema = modelFor(method.requestModels, req.headers['content-type']);
        if (schema !== undefined) {
          const problem = bodyProblem(schema, body.toString('utf8'));
          if (problem !== undefined) {
            // As the validation page's log example shows it: the messages in brackets,
            // unquoted ("[instance value (-1) not found in enum …]"); a template quotes it itself.
            exchange.context['error.validationErrorString'] = `[${problem}]`;
            this.#gatewayResponse(exchange, 'BAD_REQUEST_BODY');
            return;
          }
        }
      }
    }

    // 8. The integration.
    if (method.integration.type === 'MOCK') {
      this.#mock(exchange, method, body);
      return;
    }
    await this.#lambdaProxy(
      exchange,
      method,
      path,
      methodArn,
      body,
      integrationHeaders,
      authorizer,
    );
  }

  /** The method a request reaches: the resource's own method, else its ANY method. */
  #route(path: string, httpMethod: string): MethodModel | undefined {
    const candidates = this.api.methods.filter((m) => m.resourcePath === path);
    return (
      candidates.find((m) => m.httpMethod === httpMethod) ??
      candidates.find((m) => m.httpMethod === 'ANY')
    );
  }

  /**
   * Whether API Gateway may invoke the function for this source ARN: an
   * `AWS::Lambda::Permission` for `apigateway.amazonaws.com` whose SourceArn pattern matches.
   * Without one: "Execution failed due to configuration error: Invalid permissions on Lambda
   * function / Method completed with status: 500" (for an authorizer, "Authorizer error").
   * https://repost.aws/knowledge-center/api-gateway-rest-api-lambda-integrations
   */
  #mayInvoke(functionLogicalId: string, sourceArn: string): boolean {
    return this.api.permissions.some((permission) => {
      if (permission.functionLogicalId !== functionLogicalId) return false;
      const pattern = new RegExp(
        `^${permission.sourceArn
          .split('*')
          .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
          .join('.*')}$`,
      );
      return pattern.test(sourceArn);
    });
  }

  #baseEvent(exchange: Exchange, method: MethodModel, path: string, headers: HeaderList) {
    const { headers: single, multiValueHeaders } = eventHeaderMaps(headers);
    const hasQuery = Object.keys(exchange.query).length > 0;
    const { context } = exchange;
    return {
      resource: method.resourcePath,
      path,
      httpMethod: exchange.req.method ?? 'GET',
      headers: single,
      multiValueHeaders,
      queryStringParameters: hasQuery ? exchange.query : null,
      multiValueQueryStringParameters: hasQuery ? exchange.multiQuery : null,
      pathParameters: null,
      stageVariables:
        Object.keys(this.api.stage.variables).length > 0 ? this.api.stage.variables : null,
      requestContext: {
        resourceId: context.resourceId,
        resourcePath: method.resourcePath,
        httpMethod: exchange.req.method ?? 'GET',
        extendedRequestId: exchange.extendedRequestId,
        requestTime: context.requestTime,
        path:
          exchange.endpoint?.kind === 'execute-api'
            ? `/${this.api.stage.name}${path === '/' ? '/' : path}`
            : context.path,
        accountId: this.#options.account.accountId,
        protocol: context.protocol,
        stage: this.api.stage.name,
        domainPrefix: context.domainPrefix,
        requestTimeEpoch: exchange.started,
        requestId: exchange.requestId,
        identity: {
          cognitoIdentityPoolId: null,
          accountId: null,
          cognitoIdentityId: null,
          caller: null,
          sourceIp: context['identity.sourceIp'],
          principalOrgId: null,
          accessKey: null,
          cognitoAuthenticationType: null,
          cognitoAuthenticationProvider: null,
          userArn: null,
          userAgent: context['identity.userAgent'] ?? null,
          user: null,
        },
        domainName: context.domainName,
        deploymentId: 'local',
        apiId: this.api.apiId,
      },
    };
  }

  /** Run (or reuse) the authorizer; `undefined` when the request has been answered. */
  async #authorize(
    exchange: Exchange,
    method: MethodModel,
    authorizer: AuthorizerModel,
    methodArn: string,
    path: string,
    headers: HeaderList,
  ): Promise<AuthorizerResult | undefined> {
    const { headers: single } = eventHeaderMaps(headers);
    const key = identityKey(authorizer.identitySources, {
      headers: single,
      query: exchange.query,
      context: exchange.context,
      stageVariables: this.api.stage.variables,
    });
    if (authorizer.identitySources.length > 0 && key === undefined) {
      // "If a specified identify source is missing, null, or empty, API Gateway returns a 401
      // Unauthorized response without calling the authorizer Lambda function."
      this.#gatewayResponse(exchange, 'UNAUTHORIZED');
      return undefined;
    }
    const cacheKey = key ?? '';
    let result =
      authorizer.resultTtlSeconds > 0 ? this.#cache.get(authorizer.id, cacheKey) : undefined;
    if (result === undefined) {
      const sourceArn = `arn:${this.#options.account.partition}:execute-api:${this.#options.account.region}:${this.#options.account.accountId}:${this.api.apiId}/authorizers/${authorizer.id}`;
      if (!this.#mayInvoke(authorizer.functionLogicalId, sourceArn)) {
        // "Execution failed due to configuration error: Invalid permissions on Lambda function"
        exchange.context['authorizer.error'] = 'Invalid permissions on Lambda function';
        this.#gatewayResponse(exchange, 'AUTHORIZER_CONFIGURATION_ERROR');
        return undefined;
      }
      const base = this.#baseEvent(exchange, method, path, headers);
      const event = {
        type: 'REQUEST',
        methodArn,
        ...base,
        // The REQUEST authorizer's event has empty maps where the proxy event has null.
        queryStringParameters: base.queryStringParameters ?? {},
        multiValueQueryStringParameters: base.multiValueQueryStringParameters ?? {},
        pathParameters: {},
        stageVariables: base.stageVariables ?? {},
      };
      const invoked = await this.#options.lambda.invoke(authorizer.functionLogicalId, event);
      if (invoked.kind === 'error' && invoked.error.errorMessage === 'Unauthorized') {
        exchange.context['authorizer.status'] = '401';
        this.#gatewayResponse(exchange, 'UNAUTHORIZED');
        return undefined;
      }
      result = invoked.kind === 'result' ? parseAuthorizerResult(invoked.payload) : undefined;
      if (result === undefined) {
        exchange.context['authorizer.status'] = '500';
        exchange.context['authorizer.error'] =
          invoked.kind === 'error'
            ? invoked.error.errorMessage.slice(0, 200)
            : 'Malformed authorizer response';
        this.#gatewayResponse(exchange, 'AUTHORIZER_CONFIGURATION_ERROR', { message: null });
        return undefined;
      }
      this.#cache.set(authorizer.id, cacheKey, result, authorizer.resultTtlSeconds);
    }
    exchange.context['authorizer.principalId'] = result.principalId;
    for (const [name, value] of Object.entries(result.context)) {
      // "The returned values are all stringified" (Lambda authorizer output).
      if (value !== null) exchange.context[`authorizer.${name}`] = String(value);
    }
    const verdict = evaluatePolicy(result, methodArn);
    if (verdict !== 'allow') {
      exchange.context['authorizer.status'] = '403';
      this.#gatewayResponse(exchange, 'ACCESS_DENIED', {
        message:
          verdict === 'explicit-deny'
            ? 'User is not authorized to access this resource with an explicit deny'
            : 'User is not authorized to access this resource',
      });
      return undefined;
    }
    exchange.context['authorizer.status'] = '200';
    return result;
  }

  #mock(exchange: Exchange, method: MethodModel, body: Buffer): void {
    if (method.integration.type !== 'MOCK') return;
    const integration = method.integration;
    // The request template of the request's content type ("When the Content-Type header is
    // absent in the request, API Gateway assumes that its default value is application/json"),
    // and what the passthrough behavior does when there is none: NEVER "rejects unmapped
    // content types with an HTTP 415 Unsupported Media Type response"; WHEN_NO_TEMPLATES does
    // so once any template is defined; WHEN_NO_MATCH passes the body through.
    // https://docs.aws.amazon.com/apigateway/latest/developerguide/integration-passthrough-behaviors.html
    const contentType =
      (exchange.req.headers['content-type'] ?? 'application/json')
        .split(';')[0]
        ?.trim()
        .toLowerCase() ?? '';
    const requestTemplate = Object.entries(integration.requestTemplates).find(
      ([type]) => type.toLowerCase() === contentType,
    )?.[1];
    if (requestTemplate === undefined) {
      const templates = Object.keys(integration.requestTemplates).length;
      if (
        integration.passthroughBehavior === 'NEVER' ||
        (integration.passthroughBehavior === 'WHEN_NO_TEMPLATES' && templates > 0)
      ) {
        this.#gatewayResponse(exchange, 'UNSUPPORTED_MEDIA_TYPE');
        return;
      }
    }
    // A mock's status is what its request template (or the body passed through) names:
    // `{"statusCode": 200}`.
    const source = requestTemplate ?? body.toString('utf8');
    const status = /statusCode"?\s*:\s*(\d{3})/.exec(source)?.[1] ?? '200';
    const response =
      integration.integrationResponses.find(
        (r) =>
          r.selectionPattern !== undefined && new RegExp(`^${r.selectionPattern}$`).test(status),
      ) ??
      integration.integrationResponses.find(
        (r) => r.selectionPattern === undefined || r.selectionPattern === '',
      );
    if (response === undefined) {
      this.#gatewayResponse(exchange, 'API_CONFIGURATION_ERROR');
      return;
    }
    const headers: HeaderList = [];
    for (const [key, source] of Object.entries(response.responseParameters)) {
      const name = key.replace(/^method\.response\.header\./, '');
      const value =
        /^'(.*)'$/s.exec(source)?.[1] ??
        Object.entries(exchange.headerMap).find(
          ([k]) =>
            k.toLowerCase() === source.replace(/^method\.request\.header\./, '').toLowerCase(),
        )?.[1];
      if (value !== undefined) headers.push([name, value]);
    }
    const template =
      response.responseTemplates['application/json'] ??
      Object.values(response.responseTemplates)[0];
    let text = '';
    let statusCode = Number(response.statusCode);
    if (template !== undefined) {
      const rendered = renderTemplate(template, {
        headers: exchange.headerMap,
        query: exchange.query,
        context: exchange.context,
      });
      text = rendered.text;
      for (const [name, value] of Object.entries(rendered.headerOverrides)) {
        const index = headers.findIndex(([n]) => n.toLowerCase() === name.toLowerCase());
        if (index >= 0) headers.splice(index, 1);
        headers.push([name, value]);
      }
      if (rendered.statusOverride !== undefined) statusCode = rendered.statusOverride;
    }
    if (!headers.some(([name]) => name.toLowerCase() === 'content-type')) {
      // "API Gateway includes a Content-Type header for all integration responses. By default,
      // the content type is application/json."
      headers.push(['Content-Type', 'application/json']);
    }
    this.#send(exchange, statusCode, this.#withApiHeaders(exchange, headers), text);
  }

  async #lambdaProxy(
    exchange: Exchange,
    method: MethodModel,
    path: string,
    methodArn: string,
    body: Buffer,
    headers: HeaderList,
    authorizer: AuthorizerResult | undefined,
  ): Promise<void> {
    if (method.integration.type !== 'AWS_PROXY') return;
    const integration = method.integration;
    if (!this.#mayInvoke(integration.functionLogicalId, methodArn)) {
      this.#gatewayResponse(exchange, 'API_CONFIGURATION_ERROR');
      return;
    }
    // Bodies are passed as text unless the request's type is a binary media type of the API
    // (then base64, `isBase64Encoded: true`; ministack #767, checked against AWS, non-AWS).
    const binary = this.#isBinary(String(exchange.req.headers['content-type'] ?? ''));
    const event = {
      ...this.#baseEvent(exchange, method, path, headers),
      body: body.length === 0 ? null : binary ? body.toString('base64') : body.toString('utf8'),
      isBase64Encoded: binary && body.length > 0,
    };
    event.requestContext = {
      ...event.requestContext,
      ...(authorizer === undefined
        ? {}
        : {
            authorizer: {
              ...Object.fromEntries(
                Object.entries(authorizer.context).map(([k, v]) => [
                  k,
                  v === null ? null : String(v),
                ]),
              ),
              principalId: authorizer.principalId,
              integrationLatency: 0,
            },
          }),
    } as typeof event.requestContext;
    const integrationStarted = this.#now();
    const deadline = new Promise<'timeout'>((resolve) => {
      const timer = setTimeout(() => resolve('timeout'), integration.timeoutMs);
      exchange.res.once('close', () => clearTimeout(timer));
      timer.unref?.();
    });

    if (integration.transferMode === 'BUFFERED') {
      const outcome = await Promise.race([
        this.#options.lambda.invoke(integration.functionLogicalId, event),
        deadline,
      ]);
      exchange.context.integrationLatency = String(this.#now() - integrationStarted);
      if (outcome === 'timeout') {
        this.#gatewayResponse(exchange, 'INTEGRATION_TIMEOUT');
        return;
      }
      if (outcome.kind === 'request-too-large') {
        this.#requestTooLong(exchange);
        return;
      }
      if (outcome.kind === 'error') {
        this.#integrationError(exchange, `Lambda ${outcome.reason}: ${outcome.error.errorType}`);
        return;
      }
      this.#bufferedProxyResult(exchange, outcome.payload);
      return;
    }

    // The integration timeout runs from the call, a cold start included, as in buffered mode.
    const outcome = await Promise.race([
      this.#options.lambda.invokeStreaming(integration.functionLogicalId, event),
      deadline,
    ]);
    if (outcome === 'timeout') {
      exchange.context.integrationLatency = String(this.#now() - integrationStarted);
      this.#gatewayResponse(exchange, 'INTEGRATION_TIMEOUT');
      return;
    }
    if (outcome.kind === 'request-too-large') {
      this.#requestTooLong(exchange);
      return;
    }
    if (outcome.kind !== 'stream') {
      this.#integrationError(
        exchange,
        `Lambda ${outcome.kind === 'error' ? outcome.reason : 'error'}`,
      );
      return;
    }
    await this.#stream(exchange, outcome, deadline, integrationStarted);
  }

  /** Whether a media type is one of the API's binary media types (exact, a type/star, or any). */
  #isBinary(mediaType: string): boolean {
    const type = mediaType.split(';')[0]?.trim().toLowerCase() ?? '';
    if (type === '') return false;
    return this.api.binaryMediaTypes.some(
      (binary) =>
        binary === '*/*' ||
        binary.toLowerCase() === type ||
        (binary.endsWith('/*') && type.startsWith(binary.slice(0, -1).toLowerCase())),
    );
  }

  /** Lambda refused the event: over its 6 MB request limit. */
  #requestTooLong(exchange: Exchange): void {
    // Seen from AWS for a Lambda request over 6 MB: 413, `{"message": "Request Too Long"}`,
    // `x-amzn-ErrorType: BadRequestException`; a REQUEST_TOO_LARGE customization has no effect.
    this.#gatewayResponse(exchange, 'REQUEST_TOO_LARGE');
  }

  /** A failed invocation: 502 `Internal server error` (INTEGRATION_FAILURE's body). */
  #integrationError(exchange: Exchange, why: string): void {
    exchange.context['integration.error'] = why;
    // "If the function runs but returns an error, or returns a response in the wrong format,
    // API Gateway returns a 502 error code" (INTEGRATION_FAILURE's body, status 502).
    this.#gatewayResponse(exchange, 'INTEGRATION_FAILURE', {}, 502);
  }

  #bufferedProxyResult(exchange: Exchange, payload: string): void {
    const result = parseProxyResult(payload);
    if (result.kind === 'malformed') {
      // re:Post KC malformed-502-api-gateway: "Malformed Lambda proxy response".
      this.#integrationError(exchange, `Malformed Lambda proxy response: ${result.why}`);
      return;
    }
    const headers = remapIntegrationResponseHeaders(result.headers);
    if (!headers.some(([name]) => name.toLowerCase() === 'content-type')) {
      headers.push(['Content-Type', 'application/json']);
    }
    // "To return binary media from an AWS Lambda proxy integration, base64 encode the response
    // from your Lambda function. You must also configure your API's binary media types";
    // "API Gateway uses the first Accept header from clients to determine if a response should
    // return binary media". Otherwise the base64 text goes out as it is.
    // https://docs.aws.amazon.com/apigateway/latest/developerguide/lambda-proxy-binary-media.html
    const accept =
      String(exchange.req.headers.accept ?? '')
        .split(',')[0]
        ?.split(';')[0]
        ?.trim() ?? '';
    const body =
      result.isBase64Encoded && this.#isBinary(accept)
        ? Buffer.from(result.body, 'base64')
        : result.body;
    this.#send(exchange, result.statusCode, this.#withApiHeaders(exchange, headers), body);
  }

  async #stream(
    exchange: Exchange,
    invocation: Extract<Awaited<ReturnType<LambdaService['invokeStreaming']>>, { kind: 'stream' }>,
    deadline: Promise<'timeout'>,
    integrationStarted: number,
  ): Promise<void> {
    const { res } = exchange;
    const iterator = invocation.body[Symbol.asyncIterator]();
    let received = Buffer.alloc(0);
    let headersSent = false;
    let timedOut = false;
    /** Payload bytes written to the client, for `$context.responseLength`. */
    let sent = 0;
    /** Payload bytes held back by the front-end model below, not yet written. */
    let held: Buffer[] = [];
    let heldBytes = 0;
    const holdBelow = this.#options.holdStreamedWritesBelowBytes ?? 0;
    const release = () => {
      for (const chunk of held) res.write(chunk);
      sent += heldBytes;
      held = [];
      heldBytes = 0;
    };
    /**
     * Pass payload bytes on. With `holdStreamedWritesBelowBytes`, they wait until that many are
     * pending (or the stream ends), as users report of AWS's streaming front end.
     */
    const forward = (chunk: Buffer) => {
      if (chunk.length === 0) return;
      held.push(chunk);
      heldBytes += chunk.length;
      if (heldBytes >= holdBelow) release();
    };
    void deadline.then(() => {
      timedOut = true;
      if (!headersSent) {
        exchange.context.integrationLatency = String(this.#now() - integrationStarted);
        this.#gatewayResponse(exchange, 'INTEGRATION_TIMEOUT');
      } else {
        // Past the integration timeout the stream is cut; the client sees it end early
        // (response-streaming-troubleshoot: "curl: (18) transfer closed with outstanding read
        // data remaining" … "make sure the timeout of your integration is long enough").
        res.destroy();
        this.#accessLog(exchange, Number(exchange.context.status ?? 200), sent);
      }
    });
    let idle: NodeJS.Timeout | undefined;
    const resetIdle = () => {
      if (idle !== undefined) clearTimeout(idle);
      // "Your streams are subject to idle timeouts. For Regional or private endpoints, the
      // timeout is 5 minutes."
      idle = setTimeout(() => res.destroy(), STREAM_IDLE_TIMEOUT_MS);
      idle.unref?.();
    };
    resetIdle();
    try {
      for (;;) {
        const next = await iterator.next();
        if (timedOut) return;
        if (next.done) break;
        resetIdle();
        const chunk = Buffer.from(next.value);
        if (headersSent) {
          forward(chunk);
          continue;
        }
        received = Buffer.concat([received, chunk]);
        // "API Gateway begins the payload stream after it receives the valid metadata and
        // delimiter from Lambda" (response-transfer-mode-lambda).
        const prelude = readPrelude(received);
        if (prelude.kind === 'more') continue;
        if (prelude.kind === 'invalid') {
          // Non-conforming output: "API Gateway invokes your Lambda function and return a 500
          // error response."
          exchange.context['integration.error'] = prelude.why;
          this.#gatewayResponse(exchange, 'API_CONFIGURATION_ERROR');
          return;
        }
        headersSent = true;
        exchange.context.integrationLatency = String(this.#now() - integrationStarted);
        // No AWS page says whether STREAM responses are remapped: assumed they are, as
        // buffered ones (docs/emulator.md).
        const headers = remapIntegrationResponseHeaders(
          mergeProxyHeaders(prelude.metadata.headers, prelude.metadata.multiValueHeaders),
        );
        for (const cookie of prelude.metadata.cookies) headers.push(['Set-Cookie', cookie]);
        const framed = headers.some(([name]) =>
          ['content-length', 'transfer-encoding'].includes(name.toLowerCase()),
        );
        // "If your function doesn't return either of these headers, API Gateway appends
        // Transfer-Encoding: chunked to the response header."
        if (!framed) headers.push(['Transfer-Encoding', 'chunked']);
        const status = prelude.metadata.statusCode;
        exchange.context.status = String(status);
        exchange.context['integration.responseTransferMode'] = 'STREAMED';
        res.writeHead(status, this.#withApiHeaders(exchange, headers).flat());
        res.flushHeaders();
        forward(prelude.rest);
      }
      if (!headersSent) {
        // Ended before its metadata and delimiter: output in the wrong format (a 500), or no
        // output at all when the function failed first (a 502).
        const ended = await invocation.ended;
        if (!ended.ok) {
          this.#integrationError(exchange, `Lambda ${ended.reason}: ${ended.error.errorType}`);
        } else {
          exchange.context['integration.error'] = 'the stream ended before its metadata prelude';
          this.#gatewayResponse(exchange, 'API_CONFIGURATION_ERROR');
        }
        return;
      }
      const ended = await invocation.ended;
      release();
      if (!ended.ok) {
        // A function that fails mid-stream: its status is gone already; the connection is
        // closed without the last chunk, as curl reports it ("transfer closed with outstanding
        // read data remaining"). AWS documents no other signal to the client.
        exchange.context['integration.error'] = `${ended.reason}: ${ended.error.errorType}`;
        res.destroy();
      } else {
        res.end();
      }
      this.#accessLog(exchange, Number(exchange.context.status ?? 200), sent);
    } finally {
      if (idle !== undefined) clearTimeout(idle);
    }
  }

  /** Headers API Gateway puts on every answer it passes on. */
  #withApiHeaders(exchange: Exchange, headers: HeaderList): HeaderList {
    return [
      ...headers,
      ['x-amzn-RequestId', exchange.requestId],
      ['x-amz-apigw-id', exchange.extendedRequestId],
      ['X-Amzn-Trace-Id', exchange.traceId],
    ];
  }

  #responseContext(exchange: Exchange, extra: { message?: string | null }) {
    return {
      requestHeaders: exchange.headerMap,
      query: exchange.query,
      context: exchange.context,
      stageVariables: this.api.stage.variables,
      ...(extra.message === undefined ? {} : { message: extra.message }),
    };
  }

  #gatewayResponse(
    exchange: Exchange,
    type: GatewayResponseType,
    extra: { message?: string | null } = {},
    status?: number,
  ): void {
    const rendered = renderGatewayResponse(this.api, type, this.#responseContext(exchange, extra));
    // `$context.error.message` is readable in the access log too (context-variables page).
    const message =
      extra.message === undefined ? GATEWAY_RESPONSE_TYPES[type].message : extra.message;
    exchange.context['error.message'] = message ?? undefined;
    exchange.context['error.messageString'] = message === null ? 'null' : JSON.stringify(message);
    this.#send(
      exchange,
      status ?? rendered.statusCode,
      [
        ...rendered.headers,
        ['x-amzn-RequestId', exchange.requestId],
        ['x-amz-apigw-id', exchange.extendedRequestId],
      ],
      rendered.body,
      type,
    );
  }

  /** An answer that is not the API's (no endpoint, no stage): a bare JSON body. */
  #plain(exchange: Exchange, status: number, body: string, errorType: string): void {
    const bytes = Buffer.from(body, 'utf8');
    // Not the stage's: no access-log line (the stage's log records the stage's requests).
    exchange.res
      .writeHead(
        status,
        [
          ['Content-Type', 'application/json'],
          ['Content-Length', String(bytes.length)],
          ['x-amzn-ErrorType', errorType],
          ['x-amzn-RequestId', exchange.requestId],
        ].flat(),
      )
      .end(bytes);
  }

  #send(
    exchange: Exchange,
    status: number,
    headers: HeaderList,
    body: string | Buffer,
    errorType?: string,
  ): void {
    const { res } = exchange;
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    const list = headers.filter(([name]) => name.toLowerCase() !== 'content-length');
    list.push(['Content-Length', String(bytes.length)]);
    if (errorType !== undefined) exchange.context['error.responseType'] = errorType;
    res.writeHead(status, list.flat());
    res.end(bytes);
    this.#accessLog(exchange, status, bytes.length);
  }

  #accessLog(exchange: Exchange, status: number, length: number): void {
    const log = this.api.stage.accessLog;
    const group = this.#options.accessLogGroup;
    if (log === undefined || group === undefined) return;
    const context: ContextVars = {
      ...exchange.context,
      status: String(status),
      responseLength: String(length),
      responseLatency: String(this.#now() - exchange.started),
    };
    // A variable with no value is written as `-`, as API Gateway does.
    const line = log.format.replace(
      /\$context\.([A-Za-z0-9_.]+)/g,
      (_all, name: string) => context[name] ?? '-',
    );
    this.#options.logs.write(group, `${this.api.apiId}-${this.api.stage.name}`, line);
  }
}
