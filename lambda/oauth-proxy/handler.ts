/**
 * The OAuth proxy behind API Gateway (REST, Lambda proxy integration): `GET|POST /authorize`,
 * `GET /callback`, `POST /token` (and its preflight). Thin: the event becomes a
 * {@link ProxyRequest}, {@link OAuthProxy} decides, the answer becomes a proxy result (cookies
 * in `multiValueHeaders`), and one `oauth.authorization` record is written per request.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { AUDIT_FIELDS, auditApproval, auditAuthorization } from '../shared/audit';
import { getHeader } from '../shared/headers';
import { APPROVAL_PATHS, OAUTH_PATHS } from '../shared/routes';
import type { ApprovalPage } from './approval-page';
import { errorPage, MAX_FORM_BYTES, type ProxyRequest, type ProxyResponse } from './http';
import type { OAuthProxy } from './proxy';

export interface OAuthProxyHandlerDeps {
  readonly proxy: OAuthProxy;
  readonly logger: Logger;
  /**
   * The approval page (`/approve`, `/approval-callback`). @default none: those routes answer
   * 404, and nothing can be approved
   */
  readonly approvalPage?: ApprovalPage;
}

export type OAuthProxyHandler = (
  event: APIGatewayProxyEvent,
  context?: Context,
) => Promise<APIGatewayProxyResult>;

/** The event fields the proxy reads. */
export type OAuthProxyEvent = Pick<
  APIGatewayProxyEvent,
  | 'httpMethod'
  | 'resource'
  | 'path'
  | 'headers'
  | 'multiValueHeaders'
  | 'multiValueQueryStringParameters'
  | 'queryStringParameters'
  | 'body'
  | 'isBase64Encoded'
> & { readonly requestContext?: Partial<APIGatewayProxyEvent['requestContext']> };

const APPROVAL_ROUTES = new Set<string>(Object.values(APPROVAL_PATHS));
const ROUTES = new Set<string>([...Object.values(OAUTH_PATHS), ...APPROVAL_ROUTES]);

/** The query string as sent, every repeated value kept (a repeat is refused later). */
function queryOf(event: OAuthProxyEvent): URLSearchParams {
  const query = new URLSearchParams();
  const multi = event.multiValueQueryStringParameters;
  if (multi !== null && multi !== undefined) {
    for (const [name, values] of Object.entries(multi)) {
      for (const value of values ?? []) query.append(name, value);
    }
    return query;
  }
  for (const [name, value] of Object.entries(event.queryStringParameters ?? {})) {
    if (value !== undefined) query.append(name, value);
  }
  return query;
}

/** The request as the proxy reads it, or undefined for a route it does not serve. */
export function toProxyRequest(
  event: OAuthProxyEvent,
  fallbackRequestId: string,
): ProxyRequest | undefined {
  // `resource` is the route as API Gateway matched it (no stage prefix, no custom base path).
  const path = ROUTES.has(event.resource) ? event.resource : event.path;
  if (!ROUTES.has(path)) return undefined;
  const raw = event.body ?? '';
  // Read no more than a form may hold: the rest is enough to refuse it.
  const bytes = event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
  const body = bytes.subarray(0, MAX_FORM_BYTES + 1).toString('utf8');
  return {
    method: event.httpMethod,
    path,
    query: queryOf(event),
    header: (name) => getHeader(event, name),
    body,
    requestId: event.requestContext?.requestId ?? fallbackRequestId,
    sourceIp: event.requestContext?.identity?.sourceIp ?? 'unknown',
  };
}

/** The proxy result: cookies, one `Set-Cookie` each, in `multiValueHeaders`. */
export function toProxyResult(response: ProxyResponse): APIGatewayProxyResult {
  return {
    statusCode: response.status,
    headers: { ...response.headers },
    ...(response.cookies.length === 0
      ? {}
      : { multiValueHeaders: { 'Set-Cookie': [...response.cookies] } }),
    body: response.body,
  };
}

export function createOAuthProxyHandler(deps: OAuthProxyHandlerDeps): OAuthProxyHandler {
  const { logger, proxy } = deps;
  return async (event, context) => {
    if (context !== undefined) logger.addContext(context);
    const request = toProxyRequest(event, context?.awsRequestId ?? 'unknown');
    if (request === undefined) {
      // API Gateway routes only the proxy's paths here; anything else is a wiring mistake.
      logger.error('The OAuth proxy was invoked for a route it does not serve', {
        [AUDIT_FIELDS.httpStatus]: 404,
      });
      return toProxyResult(errorPage(404, 'invalid_request', 'Not found'));
    }
    if (APPROVAL_ROUTES.has(request.path)) {
      const page = deps.approvalPage;
      const outcome =
        page === undefined
          ? {
              response: errorPage(404, 'invalid_request', 'Approvals are not taken here'),
              audit: { step: 'refused', reason: 'unavailable', httpStatus: 404 } as const,
            }
          : await page.handle(request);
      auditApproval(logger, {
        ...outcome.audit,
        requestId: request.requestId,
        sourceIp: request.sourceIp,
      });
      return toProxyResult(outcome.response);
    }
    const { response, audit } = await proxy.handle(request);
    auditAuthorization(logger, {
      ...audit,
      requestId: request.requestId,
      sourceIp: request.sourceIp,
    });
    return toProxyResult(response);
  };
}
