/**
 * A local stand-in for API Gateway (REST) in front of the real Lambda handlers:
 * `POST /mcp` runs the REQUEST authorizer, evaluates its policy against the method ARN as API
 * Gateway does, then runs the MCP handler with `requestContext.authorizer` filled in.
 *
 * Like a deployed server it answers only requests addressed to it: the `Host` must be one of its
 * own loopback names (DNS rebinding), and browser origins other than its own must be listed to
 * call `/mcp` (`allowedOrigins`, as the stack's `-c allowedOrigins`).
 *
 * Importable (`startLocalGateway({ port: 0 })`) so tests drive exactly what `npm run dev` runs.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type {
  APIGatewayAuthorizerResult,
  APIGatewayProxyEvent,
  APIGatewayRequestAuthorizerEvent,
  Context,
} from 'aws-lambda';
import { ApiKeyStore } from '../lambda/authorizer/api-key-store';
import { createCognitoVerifier } from '../lambda/authorizer/cognito';
import { earlyDenyPolicyOf } from '../lambda/authorizer/early-deny';
import { createAuthorizerHandler, UNAUTHORIZED } from '../lambda/authorizer/handler';
import { createMcpHandler, type McpHandler } from '../lambda/mcp/handler';
import { type LoadedModule, loadLocalModules, type McpModule } from '../lambda/mcp/module';
import { CimdResolver } from '../lambda/oauth-proxy/cimd';
import { mcpPreflightHeaders, mcpResponseCorsHeaders } from '../lambda/shared/cors';
import { createLogger } from '../lambda/shared/logger';
import { PROTECTED_RESOURCE_METADATA_PATH } from '../lambda/shared/oauth-metadata';
import { buildPolicyTable } from '../lambda/shared/policy';
import { MCP_PATH, OAUTH_PATHS } from '../lambda/shared/routes';
import { MODULES } from '../modules/index';
import { ROLE_PERMISSIONS } from '../modules/roles';
import { AUTHORIZE_PATH, readCapped } from './local-auth-server';
import { type LocalDynamo, startLocalDynamo } from './local-dynamo';
import {
  apiKeyFilePath,
  FileApiKeySource,
  LOCAL_CLIENT_ID,
  LOCAL_SCOPE,
  LOCAL_USER_POOL_ID,
  loadSigningKey,
  localDir,
  localJwksCache,
  localPermissionScopes,
} from './local-identity';
import { LocalOAuth } from './local-oauth';
import { isOwnHost, type LocalNames, localNames, urlHost } from './local-origins';

const REGION = 'us-east-1';
const ACCOUNT = '123456789012';
const API_ID = 'local';
const STAGE = 'local';
/** Paths a person's browser shows: refusals there are words, not JSON. */
const PAGE_PATHS = new Set<string>([AUTHORIZE_PATH, OAUTH_PATHS.authorize, OAUTH_PATHS.callback]);
/** API Gateway REST's payload limit. */
const GATEWAY_MAX_BODY = 10 * 1024 * 1024;

export interface LocalGatewayOptions {
  /** 0 picks a free port. Default 3000. */
  readonly port?: number;
  /** Default 127.0.0.1: loopback only. */
  readonly host?: string;
  /** Where the signing key and API-key file live. Default `.local/` (or `MCP_LOCAL_DIR`). */
  readonly dir?: string;
  /** API-key cache TTL; short locally so `keys create/revoke` show at once. Default 1000 ms. */
  readonly apiKeyCacheTtlMs?: number;
  /**
   * Browser origins allowed to call `/mcp` besides this server's own (e.g. a web client's page),
   * each exactly as a browser sends it: `http://localhost:6274`. Default none.
   */
  readonly allowedOrigins?: readonly string[];
  readonly maxBodyBytes?: number;
  /** The modules to serve. Default: the deployment's list, `modules/index.ts`. */
  readonly modules?: readonly McpModule[];
  /** The roles and what they grant. Default: the deployment's, `modules/roles.ts`. */
  readonly roles?: Readonly<Record<string, readonly string[]>>;
  /**
   * Trust anchors for CIMD documents served over https from this machine (a test's
   * self-signed certificate). Default: Node's CA store.
   */
  readonly cimdCa?: string | Buffer;
  /** How long the consent page may remember an approval. Default 7 days. */
  readonly consentRememberSeconds?: number;
  /**
   * Early deny, as the stack's `-c earlyDeny=true`: the authorizer refuses a forbidden
   * 2026-07-28 call by its headers. This gateway caches no authorizer result (it asks the
   * authorizer on every request), which is the one setting early deny is correct with.
   * Default false.
   */
  readonly earlyDeny?: boolean;
}

export interface LocalGateway {
  /** `http://host:port` */
  readonly url: string;
  /** The MCP endpoint, `url` + `/mcp`. */
  readonly mcpUrl: string;
  /** Every origin allowed to call `/mcp`: this server's own, then the configured ones. */
  readonly allowedOrigins: readonly string[];
  readonly dynamo: LocalDynamo;
  /** The modules served, with what their `local` hook (or `dependencies`) built. */
  readonly modules: readonly LoadedModule[];
  stop(): Promise<void>;
}

function lambdaContext(functionName: string): Context {
  const awsRequestId = randomUUID();
  return {
    awsRequestId,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${functionName}`,
    memoryLimitInMB: '512',
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `local/${awsRequestId}`,
    callbackWaitsForEmptyEventLoop: false,
    getRemainingTimeInMillis: () => 30_000,
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

/** Does an IAM-style resource pattern (`*` wildcards) match the ARN? */
function resourceMatches(pattern: string, arn: string): boolean {
  const regex = new RegExp(
    `^${pattern
      .split('*')
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
  return regex.test(arn);
}

/** API Gateway's evaluation: an explicit Deny wins, otherwise an Allow must match. */
export function policyAllows(result: APIGatewayAuthorizerResult, methodArn: string): boolean {
  let allowed = false;
  for (const statement of result.policyDocument.Statement) {
    if (!('Resource' in statement)) continue;
    const action = 'Action' in statement ? statement.Action : undefined;
    const actions = Array.isArray(action) ? action : [action];
    if (!actions.some((a) => a === 'execute-api:Invoke' || a === 'execute-api:*' || a === '*'))
      continue;
    const resources = Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
    if (!resources.some((resource) => resourceMatches(String(resource), methodArn))) continue;
    if (statement.Effect === 'Deny') return false;
    if (statement.Effect === 'Allow') allowed = true;
  }
  return allowed;
}

function send(
  res: ServerResponse,
  status: number,
  headers: Record<string, string>,
  body: string,
): void {
  res.writeHead(status, { 'Content-Length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

function gatewayError(
  res: ServerResponse,
  status: number,
  message: string,
  headers: Record<string, string> = {},
): void {
  send(
    res,
    status,
    { 'Content-Type': 'application/json', ...headers },
    JSON.stringify({ message }),
  );
}

function headerMaps(req: IncomingMessage) {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i] as string;
    const value = req.rawHeaders[i + 1] as string;
    headers[name] = value; // API Gateway keeps the last value in `headers`
    multiValueHeaders[name] = [...(multiValueHeaders[name] ?? []), value];
  }
  return { headers, multiValueHeaders };
}

/** `http://host:port`, an IPv6 address in brackets. */
function baseUrl(host: string, port: number): string {
  return `http://${urlHost(host)}:${port}`;
}

/** The parts of the gateway that need the port it ended up on. */
interface Bound {
  readonly names: LocalNames;
  readonly allowedOrigins: readonly string[];
  readonly mcp: McpHandler;
  readonly oauth: LocalOAuth;
  /** RFC 9728 / MCP authorization: the 401 tells the client where to start. */
  readonly challenge: (host: string | undefined) => string;
}

export async function startLocalGateway(options: LocalGatewayOptions = {}): Promise<LocalGateway> {
  const dir = options.dir ?? localDir();
  const signingKey = loadSigningKey(dir);
  const dynamo = await startLocalDynamo();
  const served = options.modules ?? MODULES;
  // The policy of exactly what is served: the deployment's, or a test's own modules and roles.
  const policy = buildPolicyTable({ roles: options.roles ?? ROLE_PERMISSIONS, modules: served });
  let modules: LoadedModule[];
  try {
    // Each module against the embedded stand-ins: its tables created and seeded.
    modules = await loadLocalModules(served, { dynamodbEndpoint: dynamo.endpoint }, process.env);
  } catch (error) {
    await dynamo.stop();
    throw error;
  }

  const authorizerLogger = createLogger('mcp-authorizer');
  const gatewayLogger = createLogger('local-gateway');
  const authorize = createAuthorizerHandler({
    logger: authorizerLogger,
    verifier: createCognitoVerifier(
      {
        userPoolId: LOCAL_USER_POOL_ID,
        clientIds: [LOCAL_CLIENT_ID],
        requiredScopes: [LOCAL_SCOPE],
      },
      localJwksCache(signingKey),
    ),
    apiKeys: new ApiKeyStore({
      source: new FileApiKeySource(apiKeyFilePath(dir)),
      ttlMs: options.apiKeyCacheTtlMs ?? 1000,
      minRefreshMs: 0,
      onPreviousIgnored: (why) =>
        authorizerLogger.warn('Ignoring the previous API-key version', { why }),
    }),
    ...(options.earlyDeny === true ? { earlyDeny: earlyDenyPolicyOf(policy) } : {}),
  });
  const bind = (host: string, port: number): Bound => {
    const names = localNames(host, port);
    const url = baseUrl(host, port);
    const allowedOrigins = [...new Set([...names.origins, ...(options.allowedOrigins ?? [])])];
    const oauth = new LocalOAuth({
      // The bound address first: the issuer a client given the printed URL sees.
      origins: [...new Set([url, ...names.origins])],
      mcpPath: MCP_PATH,
      signingKey,
      // Loopback documents (http or https) allowed: local mode only, never in AWS.
      cimd: new CimdResolver({
        allowLoopbackHttp: true,
        ...(options.cimdCa === undefined ? {} : { ca: options.cimdCa }),
      }),
      ...(options.consentRememberSeconds === undefined
        ? {}
        : { consentRememberSeconds: options.consentRememberSeconds }),
    });
    // The metadata URL follows the name the request came in by, in the 401 and in step-up.
    const metadataUrl = (host: string | undefined) =>
      `${oauth.baseFor(host)}${PROTECTED_RESOURCE_METADATA_PATH}${MCP_PATH}`;
    return {
      names,
      allowedOrigins,
      mcp: createMcpHandler({
        config: {
          allowedOrigins,
          allowedHosts: [...names.hosts],
          maxBodyBytes: options.maxBodyBytes ?? 1024 * 1024,
        },
        policy,
        modules,
        logger: createLogger('mcp-server'),
        stepUp: {
          audienceScope: LOCAL_SCOPE,
          permissionScopes: localPermissionScopes(Object.keys(policy.permissions)),
          resourceMetadataUrl: metadataUrl,
        },
      }),
      oauth,
      challenge: (host) =>
        `Bearer resource_metadata="${metadataUrl(host)}", scope="${LOCAL_SCOPE}"`,
    };
  };

  /** A refusal at the gateway, before any handler: said on the terminal, never silent. */
  const refuse = (
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    reason: 'host' | 'origin',
    message: string,
  ) => {
    gatewayLogger.warn('local.request_refused', {
      reason,
      http_method: req.method,
      path: url.pathname.slice(0, 200),
    });
    if (PAGE_PATHS.has(url.pathname)) {
      // The consent and sign-in pages: a person reads this.
      send(res, 403, { 'Content-Type': 'text/plain; charset=utf-8' }, `${message}\n`);
    } else {
      gatewayError(res, 403, message);
    }
  };

  const handle = async (bound: Bound, req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const requestId = randomUUID();
    // DNS rebinding: a page on evil.example, its name re-pointed at 127.0.0.1, reaches this
    // port with its own name in Host. Every path, the sign-in page and discovery included.
    if (!isOwnHost(req.headers.host, bound.names)) {
      refuse(
        req,
        res,
        url,
        'host',
        `Forbidden: this server answers only to ${[...bound.names.hosts].join(', ')}`,
      );
      return;
    }
    const origin = req.headers.origin;
    const originAllowed = origin !== undefined && bound.allowedOrigins.includes(origin);
    // Discovery, registration, sign-in and tokens: public, like the metadata routes in AWS.
    if (await bound.oauth.handle(req, res, url, requestId)) return;
    if (url.pathname !== MCP_PATH) {
      gatewayError(res, 404, 'Not Found');
      return;
    }
    // CORS preflight for /mcp: answered by API Gateway itself in AWS, for the allowed origins.
    if (
      req.method === 'OPTIONS' &&
      origin !== undefined &&
      req.headers['access-control-request-method'] !== undefined
    ) {
      if (originAllowed) {
        send(res, 204, mcpPreflightHeaders(origin), '');
      } else {
        refuse(req, res, url, 'origin', 'Forbidden: origin not allowed');
      }
      return;
    }
    // The gateway's own answers (401, 403, 413) carry CORS headers for an allowed origin, so a
    // browser client can read them (the 401 challenge above all), as the stack's do.
    const cors = originAllowed ? mcpResponseCorsHeaders(origin) : {};
    const body = await readCapped(req, GATEWAY_MAX_BODY);
    if (body.byteLength > GATEWAY_MAX_BODY) {
      gatewayError(res, 413, 'Request Too Long', cors);
      return;
    }
    const method = req.method ?? 'GET';
    const { headers, multiValueHeaders } = headerMaps(req);
    const sourceIp = req.socket.remoteAddress ?? '127.0.0.1';
    const methodArn = `arn:aws:execute-api:${REGION}:${ACCOUNT}:${API_ID}/${STAGE}/${method}${MCP_PATH}`;
    const queryStringParameters = Object.fromEntries(url.searchParams);
    const multiValueQueryStringParameters: Record<string, string[]> = {};
    for (const [name, value] of url.searchParams) {
      multiValueQueryStringParameters[name] = [
        ...(multiValueQueryStringParameters[name] ?? []),
        value,
      ];
    }
    const identity = {
      sourceIp,
      userAgent: headers['User-Agent'] ?? headers['user-agent'] ?? null,
    };

    const authorizerEvent = {
      type: 'REQUEST',
      methodArn,
      resource: MCP_PATH,
      path: MCP_PATH,
      httpMethod: method,
      headers,
      multiValueHeaders,
      pathParameters: {},
      queryStringParameters,
      multiValueQueryStringParameters,
      stageVariables: {},
      requestContext: {
        requestId,
        stage: STAGE,
        httpMethod: method,
        resourcePath: MCP_PATH,
        path: `/${STAGE}${MCP_PATH}`,
        identity,
      },
    } as unknown as APIGatewayRequestAuthorizerEvent;

    let policy: APIGatewayAuthorizerResult;
    try {
      policy = await authorize(authorizerEvent, lambdaContext('mcp-authorizer'));
    } catch (error) {
      if (error instanceof Error && error.message === UNAUTHORIZED) {
        gatewayError(res, 401, 'Unauthorized', {
          ...cors,
          'WWW-Authenticate': bound.challenge(req.headers.host),
        });
      } else {
        gatewayError(res, 500, 'Internal server error', cors);
      }
      return;
    }
    if (!policyAllows(policy, methodArn)) {
      // The stack's ACCESS_DENIED gateway response (lib/mcp-api.ts) answers this body.
      gatewayError(res, 403, 'Forbidden', cors);
      return;
    }

    const proxyEvent = {
      resource: MCP_PATH,
      path: MCP_PATH,
      httpMethod: method,
      headers,
      multiValueHeaders,
      queryStringParameters: url.searchParams.size > 0 ? queryStringParameters : null,
      multiValueQueryStringParameters:
        url.searchParams.size > 0 ? multiValueQueryStringParameters : null,
      pathParameters: null,
      stageVariables: null,
      body: body.byteLength > 0 ? body.toString('base64') : null,
      isBase64Encoded: body.byteLength > 0,
      requestContext: {
        accountId: ACCOUNT,
        apiId: API_ID,
        stage: STAGE,
        requestId,
        httpMethod: method,
        resourcePath: MCP_PATH,
        path: `/${STAGE}${MCP_PATH}`,
        requestTimeEpoch: Date.now(),
        identity,
        authorizer: { ...policy.context, principalId: policy.principalId },
      },
    } as unknown as APIGatewayProxyEvent;
    const result = await bound.mcp(proxyEvent, lambdaContext('mcp-server'));
    const responseHeaders: Record<string, string> = { 'x-amzn-RequestId': requestId };
    for (const [name, value] of Object.entries(result.headers ?? {}))
      responseHeaders[name] = String(value);
    if (typeof result.body === 'string') {
      send(res, result.statusCode, responseHeaders, result.body);
      return;
    }
    // A streamed answer (SSE): each frame goes out as it comes, chunked, as API Gateway
    // streams a Lambda's response.
    res.writeHead(result.statusCode, responseHeaders);
    res.flushHeaders();
    const reader = result.body.getReader();
    res.once('close', () => {
      if (!res.writableFinished) void reader.cancel(new Error('client closed'));
    });
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      res.write(value);
    }
    res.end();
  };

  let bound: Bound | undefined;
  const server = createServer((req, res) => {
    if (bound === undefined) {
      gatewayError(res, 503, 'Starting');
      return;
    }
    handle(bound, req, res).catch(() => {
      if (!res.headersSent) gatewayError(res, 500, 'Internal server error');
      else res.destroy();
    });
  });
  const host = options.host ?? '127.0.0.1';
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 3000, host, () => resolve());
    });
  } catch (error) {
    await dynamo.stop();
    throw error;
  }
  const { port } = server.address() as AddressInfo;
  bound = bind(host, port);
  const url = baseUrl(host, port);
  return {
    url,
    mcpUrl: `${url}${MCP_PATH}`,
    allowedOrigins: bound.allowedOrigins,
    dynamo,
    modules,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await dynamo.stop();
    },
  };
}
