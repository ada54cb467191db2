/**
 * The REST API in front of the MCP handler: `/mcp` behind the REQUEST authorizer, gateway
 * responses that tell MCP clients how to authenticate, JSON access logs, tracing, throttling,
 * a request validator and an optional WAF web ACL.
 */
import { Aws, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { CfnPermission, type IFunction } from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { REQUIRED_SCOPES_CONTEXT_KEY } from '../lambda/authorizer/policy-document';
import {
  CORS_MAX_AGE_SECONDS,
  MCP_CORS_ALLOW_HEADERS,
  MCP_CORS_EXPOSE_HEADERS,
} from '../lambda/shared/cors';
import { DEFAULT_MAX_MCP_BODY_BYTES } from '../lambda/shared/env';
import { PROTECTED_RESOURCE_METADATA_PATH } from '../lambda/shared/oauth-metadata';
import { APPROVAL_PATHS, MCP_PATH, OAUTH_PATHS } from '../lambda/shared/routes';
import { acknowledgeApiGatewayPermission } from './compliance';
import { earlyDenyProblem, gatewayStepUpProblem } from './config';
import { LogEncryptionKey } from './log-encryption-key';

/**
 * The authorizer's identity source: the `Authorization` header, and only it. API Gateway
 * caches one result per identity-source value and, with caching on, answers 401 without calling
 * the authorizer to any request lacking one: `Mcp-Method`/`Mcp-Name` (absent from 2025-era
 * requests, lists and discovery) must never be one.
 */
export const AUTHORIZER_IDENTITY_HEADERS = ['Authorization'] as const;

export interface McpApiProps {
  readonly mcpFunction: IFunction;
  readonly authorizerFunction: IFunction;
  readonly stageName: string;
  /** Authorizer cache TTL; zero turns caching off. */
  readonly authorizerCacheTtl: Duration;
  /**
   * The authorizer denies forbidden 2026-07-28 calls by their headers (its function must be
   * given the policy). Needs `authorizerCacheTtl` zero. @default false
   */
  readonly earlyDeny?: boolean;
  /**
   * Gateway step-up: the scopes the ACCESS_DENIED response's `WWW-Authenticate` challenge
   * names (every scope: the header is static; AWS documents only request parameters and static
   * values as gateway-response header sources). The authorizer's function must be told too
   * (`GATEWAY_STEP_UP`). Needs `authorizerCacheTtl` zero and no `earlyDeny`.
   * @default none: ACCESS_DENIED carries no challenge
   */
  readonly stepUpScopes?: readonly string[];
  /**
   * The `/mcp` integration's timeout: set it to the MCP function's. Answers stream
   * (`responseTransferMode: STREAM`), so up to 15 minutes is allowed; the idle limit between
   * two chunks is 5 minutes on a regional endpoint (the MCP SDK sends a keep-alive every 15 s).
   */
  readonly mcpTimeout: Duration;
  readonly throttleRateLimit: number;
  readonly throttleBurstLimit: number;
  /** Browser origins allowed (CORS); none means no CORS headers at all. */
  readonly allowedOrigins: readonly string[];
  /** The scope a token needs, announced in the 401 challenge. */
  readonly requiredScope: string;
  /** How long the access logs (every request: the gateway's audit trail) are kept. */
  readonly logRetention: logs.RetentionDays;
  /** Encrypts the access and execution logs. @default the stack's {@link LogEncryptionKey} */
  readonly logEncryptionKey?: kms.IKey;
  /** Requests per 5 minutes per IP before WAF blocks; undefined means no WAF. */
  readonly wafRateLimit?: number;
  /** Serve the API at the root of this domain instead of the `execute-api` URL. */
  readonly customDomain?: CustomDomainProps;
}

export interface CustomDomainProps {
  /** e.g. `mcp.example.com`. */
  readonly domainName: string;
  /** An ACM certificate for the domain, in the stack's region. */
  readonly certificateArn: string;
  /**
   * Keep the `execute-api` URL answering too (e.g. until DNS points at the domain). By default
   * it is turned off: it would be a second door with API Gateway's older TLS policy, outside
   * anything attached to the domain, where OAuth clients refuse the metadata (it names the
   * domain) and only API keys work.
   * @default false
   */
  readonly keepExecuteApiEndpoint?: boolean;
}

/**
 * API Gateway's $context variables in the access log, as JSON: the one list of its field names
 * (the access-log metric filters of `monitoring/patterns.ts` read them).
 */
export const ACCESS_LOG_FORMAT = {
  requestId: '$context.requestId',
  extendedRequestId: '$context.extendedRequestId',
  requestTime: '$context.requestTime',
  ip: '$context.identity.sourceIp',
  userAgent: '$context.identity.userAgent',
  httpMethod: '$context.httpMethod',
  resourcePath: '$context.resourcePath',
  status: '$context.status',
  responseLength: '$context.responseLength',
  responseLatency: '$context.responseLatency',
  integrationLatency: '$context.integrationLatency',
  principalId: '$context.authorizer.principalId',
  authMethod: '$context.authorizer.authMethod',
  keyId: '$context.authorizer.keyId',
  authorizerStatus: '$context.authorizer.status',
  authorizerError: '$context.authorizer.error',
  errorType: '$context.error.responseType',
  wafResponse: '$context.waf.status',
} as const;

/** A field of the access log, by its name in {@link ACCESS_LOG_FORMAT}. */
export type AccessLogField = keyof typeof ACCESS_LOG_FORMAT;

/**
 * Registrations per 5 minutes from one IP before WAF blocks it: well under what would drain the
 * route's shared throttle (1 per second by default), plenty for a person onboarding clients.
 */
export const REGISTER_RATE_LIMIT_PER_IP = 100;

/**
 * Requests per 5 minutes from one IP to the sign-in routes (authorize, consent, callback,
 * token) before WAF blocks it: a sign-in takes about five, so sixty sign-ins, with room for an
 * office behind one address; far below what would make the proxy fetch client metadata
 * documents or mint codes in bulk.
 */
export const OAUTH_RATE_LIMIT_PER_IP = 300;

/**
 * What WAF does to the URI path before matching it, so that `/Register`, `/regist%65r`,
 * `//register` or `/./register` count as `/register` (API Gateway may route them there, and
 * an attacker would try them to get around a byte match).
 */
export const WAF_PATH_TRANSFORMATIONS = ['URL_DECODE', 'NORMALIZE_PATH', 'LOWERCASE'] as const;

/**
 * A regular expression matching a URI path that ends in one of `paths` (with or without a
 * trailing slash), after {@link WAF_PATH_TRANSFORMATIONS}: behind any stage prefix, or at the
 * root of a custom domain.
 */
export function pathSuffixRegex(paths: readonly string[]): string {
  const names = paths.map((path) => path.replace(/^\//, '').toLowerCase());
  for (const name of names) {
    if (!/^[a-z0-9_-]+$/.test(name)) {
      throw new Error(`pathSuffixRegex: ${name} must be one plain path segment`);
    }
  }
  return `/(?:${names.join('|')})/?$`;
}

/**
 * A regular expression matching exactly the decimal integers above `limit` (leading zeros
 * allowed, as HTTP's `1*DIGIT` allows them): what WAF can test a `Content-Length` by, having
 * no numeric comparison of header values.
 */
export function integerAboveRegex(limit: number): string {
  if (!Number.isSafeInteger(limit) || limit < 0) throw new Error(`integerAboveRegex: ${limit}`);
  const digits = String(limit);
  const longer = `[1-9]\\d{${digits.length},}`;
  const same: string[] = [];
  for (let i = 0; i < digits.length; i += 1) {
    const d = Number(digits[i]);
    if (d === 9) continue;
    const rest = digits.length - i - 1;
    same.push(`${digits.slice(0, i)}[${d + 1}-9]${rest > 0 ? `\\d{${rest}}` : ''}`);
  }
  return `^0*(?:${[longer, ...same].join('|')})$`;
}

/** The key of the WAF custom response body answering an oversized request. */
const BODY_TOO_LARGE_KEY = 'BodyTooLarge';

/** Requests whose normalised URI path ends in one of `paths`. */
function pathStatement(paths: readonly string[]): wafv2.CfnWebACL.StatementProperty {
  return {
    regexMatchStatement: {
      fieldToMatch: { uriPath: {} },
      regexString: pathSuffixRegex(paths),
      textTransformations: WAF_PATH_TRANSFORMATIONS.map((type, priority) => ({ priority, type })),
    },
  };
}

export class McpApi extends Construct {
  readonly api: apigateway.RestApi;
  readonly accessLogGroup: logs.LogGroup;
  /**
   * The MCP endpoint: `https://<api>.execute-api.<region>.amazonaws.com/<stage>/mcp`, or
   * `https://<custom domain>/mcp`.
   */
  readonly endpointUrl: string;
  /**
   * The host names clients reach the API by: its execute-api name (unless turned off) and its
   * custom domain. The MCP function answers only requests naming one of them.
   */
  readonly hostNames: string[];
  readonly metadataUrl: string;
  /**
   * The URL every public path hangs off: the stage's `execute-api` URL, or the custom domain's
   * root (where the RFC 9728 and RFC 8414 well-known URIs are where the specs put them).
   */
  readonly baseUrl: string;
  /** The custom domain, when configured: point a DNS alias or CNAME at its target. */
  readonly domain?: apigateway.DomainName;
  readonly webAcl?: wafv2.CfnWebACL;

  constructor(scope: Construct, id: string, props: McpApiProps) {
    super(scope, id);
    const ttl = props.authorizerCacheTtl.toSeconds();
    if (ttl > 3600) throw new Error('McpApi: authorizerCacheTtl can be at most one hour');
    const earlyDenyTrap = props.earlyDeny === true ? earlyDenyProblem(ttl) : undefined;
    if (earlyDenyTrap !== undefined) throw new Error(`McpApi: earlyDeny ${earlyDenyTrap}`);
    const stepUpTrap =
      props.stepUpScopes === undefined
        ? undefined
        : gatewayStepUpProblem(ttl, props.earlyDeny === true);
    if (stepUpTrap !== undefined) throw new Error(`McpApi: stepUpScopes ${stepUpTrap}`);

    const logEncryptionKey = props.logEncryptionKey ?? LogEncryptionKey.of(this);
    this.accessLogGroup = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.logRetention,
      encryptionKey: logEncryptionKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.api = new apigateway.RestApi(this, 'Api', {
      // Unique per stack: API Gateway metrics (the 5xx alarm) are keyed by API name and stage.
      restApiName: `${Stack.of(this).stackName}-mcp`,
      description: 'Remote MCP server (Streamable HTTP), authenticated and role-aware',
      endpointTypes: [apigateway.EndpointType.REGIONAL],
      disableExecuteApiEndpoint:
        props.customDomain !== undefined && props.customDomain.keepExecuteApiEndpoint !== true,
      // Execution logging (at ERROR) needs the account-level CloudWatch role.
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN,
      deployOptions: {
        stageName: props.stageName,
        accessLogDestination: new apigateway.LogGroupLogDestination(this.accessLogGroup),
        accessLogFormat: apigateway.AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FORMAT)),
        loggingLevel: apigateway.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        tracingEnabled: true,
        metricsEnabled: true,
        throttlingRateLimit: props.throttleRateLimit,
        throttlingBurstLimit: props.throttleBurstLimit,
      },
    });

    // Built from the API id and stage name rather than api.urlForPath(): the 401 gateway
    // response needs this URL, and the deployment depends on the gateway responses, so a
    // reference to the deployment stage would be a cycle.
    const base =
      props.customDomain === undefined
        ? `https://${this.api.restApiId}.execute-api.${Aws.REGION}.${Aws.URL_SUFFIX}/${props.stageName}`
        : `https://${props.customDomain.domainName}`;
    this.endpointUrl = `${base}${MCP_PATH}`;
    // API Gateway writes execution logs to a group it would create itself, with no expiry;
    // create it first, with the configured retention.
    const executionLogs = new logs.LogGroup(this, 'ExecutionLogs', {
      logGroupName: `API-Gateway-Execution-Logs_${this.api.restApiId}/${props.stageName}`,
      retention: props.logRetention,
      encryptionKey: logEncryptionKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.api.deploymentStage.node.addDependency(executionLogs);
    const cloudWatchRole = this.api.node.tryFindChild('CloudWatchRole');
    if (cloudWatchRole !== undefined) {
      Validations.of(cloudWatchRole).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        reason:
          "API Gateway's account-wide logging role: this AWS managed policy is the documented way to let API Gateway write execution and access logs",
      });
    }
    this.metadataUrl = `${base}${PROTECTED_RESOURCE_METADATA_PATH}`;
    this.baseUrl = base;
    const executeApiHost = `${this.api.restApiId}.execute-api.${Aws.REGION}.${Aws.URL_SUFFIX}`;
    this.hostNames =
      props.customDomain === undefined
        ? [executeApiHost]
        : [
            props.customDomain.domainName.toLowerCase(),
            ...(props.customDomain.keepExecuteApiEndpoint === true ? [executeApiHost] : []),
          ];
    if (props.customDomain !== undefined) {
      this.domain = this.addCustomDomain(props.customDomain);
    }

    // Identity source is the Authorization header alone: safe because the authorizer's Allow
    // policy covers every method on every route a principal may call, not just this request.
    const authorizer = new apigateway.RequestAuthorizer(this, 'Authorizer', {
      handler: props.authorizerFunction,
      identitySources: AUTHORIZER_IDENTITY_HEADERS.map((name) =>
        apigateway.IdentitySource.header(name),
      ),
      resultsCacheTtl: props.authorizerCacheTtl,
    });

    const cors = props.allowedOrigins.length > 0;
    const mcp = this.api.root.addResource(MCP_PATH.slice(1), {
      defaultCorsPreflightOptions: cors
        ? {
            allowOrigins: [...props.allowedOrigins],
            allowMethods: ['POST'],
            allowHeaders: [...MCP_CORS_ALLOW_HEADERS],
            maxAge: Duration.seconds(CORS_MAX_AGE_SECONDS),
          }
        : undefined,
    });
    const timeout = props.mcpTimeout.toSeconds();
    if (timeout < 1 || timeout > 900) {
      throw new Error(`McpApi: mcpTimeout must be 1 second to 15 minutes, got ${timeout} s`);
    }
    // Streamed: progress notifications reach the client while a tool runs.
    const integration = new apigateway.LambdaIntegration(props.mcpFunction, {
      proxy: true,
      // No second permission for the console's test-invoke stage, which skips the authorizer.
      allowTestInvoke: false,
      responseTransferMode: apigateway.ResponseTransferMode.STREAM,
      timeout: props.mcpTimeout,
    });
    const validator = new apigateway.RequestValidator(this, 'BodyValidator', {
      restApi: this.api,
      validateRequestBody: true,
      validateRequestParameters: true,
    });
    // A JSON-RPC message is an object with jsonrpc "2.0"; batches (arrays) left MCP in 2025-06-18.
    const jsonRpcModel = this.api.addModel('JsonRpcMessage', {
      contentType: 'application/json',
      schema: {
        schema: apigateway.JsonSchemaVersion.DRAFT4,
        type: apigateway.JsonSchemaType.OBJECT,
        required: ['jsonrpc'],
        properties: { jsonrpc: { type: apigateway.JsonSchemaType.STRING, enum: ['2.0'] } },
      },
    });
    const protectedMethod = {
      authorizer,
      authorizationType: apigateway.AuthorizationType.CUSTOM,
    };
    const methods = [
      mcp.addMethod('POST', integration, {
        ...protectedMethod,
        requestValidator: validator,
        requestModels: { 'application/json': jsonRpcModel },
      }),
      // Every other method reaches the handler (authenticated), which answers 405.
      mcp.addMethod('ANY', integration, protectedMethod),
    ];
    for (const method of methods) {
      Validations.of(method).acknowledge({
        id: 'AwsSolutions-COG4',
        reason:
          'Protected by a Lambda REQUEST authorizer that verifies Cognito access tokens (aws-jwt-verify) and API keys; a Cognito authorizer cannot accept API keys',
      });
      acknowledgeApiGatewayPermission(method);
    }
    // The authorizer's invoke permission sits on its function once the authorizer is bound.
    for (const child of props.authorizerFunction.node.children) {
      if (child instanceof CfnPermission && child.principal === 'apigateway.amazonaws.com') {
        acknowledgeApiGatewayPermission(child);
      }
    }

    this.addGatewayResponses(props, cors);

    if (props.wafRateLimit !== undefined) {
      this.webAcl = this.addWebAcl(props.wafRateLimit);
    } else {
      Validations.of(this.api.deploymentStage).acknowledge({
        id: 'AwsSolutions-APIG3',
        reason:
          'WAF turned off by configuration (-c enableWaf=false): stage throttling and the authorizer still apply; turn it back on for internet-facing deployments',
      });
    }
  }

  /**
   * A regional custom domain with TLS 1.2, its empty base path mapped to the stage: the MCP
   * URL becomes `https://<domain>/mcp` and `/.well-known/...` sits at the host's root.
   */
  private addCustomDomain(custom: CustomDomainProps): apigateway.DomainName {
    const domain = new apigateway.DomainName(this, 'CustomDomain', {
      domainName: custom.domainName,
      certificate: acm.Certificate.fromCertificateArn(this, 'Certificate', custom.certificateArn),
      endpointType: apigateway.EndpointType.REGIONAL,
      securityPolicy: apigateway.SecurityPolicy.TLS_1_2,
    });
    domain.addBasePathMapping(this.api, { stage: this.api.deploymentStage });
    return domain;
  }

  private addGatewayResponses(props: McpApiProps, cors: boolean): void {
    // Gateway responses carry no CORS headers unless the template adds them. One origin: that
    // origin. Several: the request's own Origin, since a header can only be a request
    // parameter or a static value; a page of an unlisted origin may then read API Gateway's
    // own refusals (a 401 challenge, a 403, a 429: nothing it could not learn otherwise), but
    // never reach /mcp, whose preflight names the allowed origins only.
    const corsHeaders: Record<string, string> = cors
      ? {
          'Access-Control-Allow-Origin':
            props.allowedOrigins.length === 1
              ? `'${props.allowedOrigins[0]}'`
              : 'method.request.header.Origin',
          // Lets a browser client read the 401 challenge and find the metadata URL.
          'Access-Control-Expose-Headers': `'${MCP_CORS_EXPOSE_HEADERS.join(', ')}'`,
          Vary: "'Origin'",
        }
      : {};
    const json = (message: string) => ({
      'application/json': JSON.stringify({ message }),
    });
    // MCP clients discover how to sign in from this challenge (RFC 9728, RFC 6750).
    this.api.addGatewayResponse('Unauthorized', {
      type: apigateway.ResponseType.UNAUTHORIZED,
      statusCode: '401',
      responseHeaders: {
        ...corsHeaders,
        'WWW-Authenticate': `'Bearer resource_metadata="${this.metadataUrl}", scope="${props.requiredScope}"'`,
      },
      templates: json('Unauthorized'),
    });
    const stepUp = props.stepUpScopes;
    this.api.addGatewayResponse('AccessDenied', {
      type: apigateway.ResponseType.ACCESS_DENIED,
      statusCode: '403',
      responseHeaders:
        stepUp === undefined
          ? corsHeaders
          : {
              ...corsHeaders,
              // Only the authorizer's step-up denies (gateway step-up runs without early deny
              // and with dependency failures thrown, not denied): this challenge is for it.
              'WWW-Authenticate': `'Bearer error="insufficient_scope", scope="${stepUp.join(' ')}", resource_metadata="${this.metadataUrl}", error_description="This call needs a scope the token lacks"'`,
            },
      templates:
        stepUp === undefined
          ? json('Forbidden')
          : {
              // The scopes this call needs, from the Deny's context (a JSON array the
              // authorizer writes; templates may read a Deny's context), as the MCP function's
              // own -32003 gives them.
              'application/json': `{"jsonrpc":"2.0","id":null,"error":{"code":-32003,"message":"Insufficient scope: authorize again with the scopes in requiredScopes","data":{"requiredScopes":$context.authorizer.${REQUIRED_SCOPES_CONTEXT_KEY}}}}`,
            },
    });
    // The authorizer could not check the credential (a dependency is down) and said so by
    // failing, which API Gateway does not cache: try again shortly.
    for (const [id, type] of [
      ['AuthorizerUnavailable', apigateway.ResponseType.AUTHORIZER_CONFIGURATION_ERROR],
      ['AuthorizerFailure', apigateway.ResponseType.AUTHORIZER_FAILURE],
    ] as const) {
      this.api.addGatewayResponse(id, {
        type,
        statusCode: '503',
        responseHeaders: { ...corsHeaders, 'Retry-After': "'5'" },
        templates: json('The credential could not be checked just now; try again'),
      });
    }
    this.api.addGatewayResponse('BadRequestBody', {
      type: apigateway.ResponseType.BAD_REQUEST_BODY,
      statusCode: '400',
      responseHeaders: corsHeaders,
      templates: {
        'application/json': JSON.stringify({
          jsonrpc: '2.0',
          error: { code: -32600, message: 'Invalid Request: expected one JSON-RPC message object' },
          id: null,
        }),
      },
    });
    this.api.addGatewayResponse('Default4xx', {
      type: apigateway.ResponseType.DEFAULT_4XX,
      responseHeaders: corsHeaders,
      // messageString is already a quoted JSON string.
      templates: { 'application/json': '{"message":$context.error.messageString}' },
    });
    this.api.addGatewayResponse('Default5xx', {
      type: apigateway.ResponseType.DEFAULT_5XX,
      responseHeaders: corsHeaders,
      templates: json('Internal server error'),
    });
  }

  private addWebAcl(rateLimit: number): wafv2.CfnWebACL {
    const visibility = (metricName: string) => ({
      cloudWatchMetricsEnabled: true,
      metricName,
      sampledRequestsEnabled: true,
    });
    const webAcl = new wafv2.CfnWebACL(this, 'WebAcl', {
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      visibilityConfig: visibility('McpWebAcl'),
      customResponseBodies: {
        [BODY_TOO_LARGE_KEY]: {
          contentType: 'APPLICATION_JSON',
          content: JSON.stringify({
            jsonrpc: '2.0',
            id: null,
            error: {
              code: -32600,
              message: `Request body too large: at most ${DEFAULT_MAX_MCP_BODY_BYTES} bytes`,
            },
          }),
        },
      },
      rules: [
        {
          // Bodies the MCP function would refuse anyway: past Lambda's 6 MB invoke limit API
          // Gateway would only say "Request Too Long", and up to it the function would be
          // invoked for nothing. WAF cannot compare a header's value as a number, so the
          // Content-Length is matched as text; a request without one (chunked) is left to the
          // function's own check.
          name: 'BodyTooLarge',
          priority: 0,
          action: {
            block: {
              customResponse: { responseCode: 413, customResponseBodyKey: BODY_TOO_LARGE_KEY },
            },
          },
          statement: {
            regexMatchStatement: {
              fieldToMatch: { singleHeader: { Name: 'content-length' } },
              regexString: integerAboveRegex(DEFAULT_MAX_MCP_BODY_BYTES),
              textTransformations: [{ priority: 0, type: 'NONE' }],
            },
          },
          visibilityConfig: visibility('McpBodyTooLarge'),
        },
        {
          name: 'RateLimitPerIp',
          priority: 10,
          action: { block: {} },
          statement: { rateBasedStatement: { limit: rateLimit, aggregateKeyType: 'IP' } },
          visibilityConfig: visibility('McpRateLimitPerIp'),
        },
        {
          // POST /register shares one small throttle among all callers (it creates nothing,
          // so it needs little); without a tighter per-IP limit, one client staying under the
          // general limit could keep it at 429 for everyone else.
          name: 'RegisterRateLimitPerIp',
          priority: 11,
          action: { block: {} },
          statement: {
            rateBasedStatement: {
              limit: REGISTER_RATE_LIMIT_PER_IP,
              aggregateKeyType: 'IP',
              scopeDownStatement: pathStatement([OAUTH_PATHS.register]),
            },
          },
          visibilityConfig: visibility('McpRegisterRateLimitPerIp'),
        },
        {
          // The unauthenticated sign-in routes of the authorization proxy (the approval page's
          // among them): each may fetch a client's metadata document, store a transaction or
          // redeem a code.
          name: 'OAuthRateLimitPerIp',
          priority: 12,
          action: { block: {} },
          statement: {
            rateBasedStatement: {
              limit: OAUTH_RATE_LIMIT_PER_IP,
              aggregateKeyType: 'IP',
              scopeDownStatement: pathStatement([
                OAUTH_PATHS.authorize,
                OAUTH_PATHS.callback,
                OAUTH_PATHS.token,
                APPROVAL_PATHS.page,
                APPROVAL_PATHS.callback,
              ]),
            },
          },
          visibilityConfig: visibility('McpOAuthRateLimitPerIp'),
        },
        {
          name: 'AWSManagedRulesKnownBadInputs',
          priority: 13,
          overrideAction: { none: {} },
          statement: {
            managedRuleGroupStatement: {
              vendorName: 'AWS',
              name: 'AWSManagedRulesKnownBadInputsRuleSet',
            },
          },
          visibilityConfig: visibility('McpKnownBadInputs'),
        },
      ],
    });
    new wafv2.CfnWebACLAssociation(this, 'WebAclAssociation', {
      resourceArn: this.api.deploymentStage.stageArn,
      webAclArn: webAcl.attrArn,
    });
    return webAcl;
  }
}
