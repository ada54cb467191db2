/**
 * The MCP Lambda handler: stateless Streamable HTTP over an API Gateway REST proxy event.
 * A new server and transport per invocation (a stateless transport cannot be reused); the
 * registry, store and logger live at module scope.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { TOOL_CALL_STATUS } from '../shared/audit';
import { ExpiredPrincipalError, InvalidPrincipalError, parsePrincipal } from '../shared/principal';
import {
  checkBody,
  checkRequestLine,
  checkToolCallParams,
  corsHeaders,
  type EdgeConfig,
  JSONRPC,
  jsonRpcError,
  redactInternalErrors,
  toProxyResult,
  toWebRequest,
} from './http';
import { auditCall, createMcpServer } from './server';
import type { RecordStore } from './store/customer-record';
import type { ToolRegistry } from './tools/registry';

export interface McpHandlerDeps {
  readonly config: EdgeConfig;
  readonly registry: ToolRegistry;
  readonly store: RecordStore;
  readonly logger: Logger;
  readonly now?: () => Date;
}

export type McpHandler = (
  event: APIGatewayProxyEvent,
  context?: Context,
) => Promise<APIGatewayProxyResult>;

export function createMcpHandler(deps: McpHandlerDeps): McpHandler {
  const handle = createHandler(deps);
  return async (event, context) => {
    const result = await handle(event, context);
    const cors = corsHeaders(event, deps.config);
    return Object.keys(cors).length === 0
      ? result
      : { ...result, headers: { ...result.headers, ...cors } };
  };
}

function createHandler(deps: McpHandlerDeps): McpHandler {
  const { logger } = deps;
  return async (event, context) => {
    if (context !== undefined) logger.addContext(context);
    const early = checkRequestLine(event, deps.config);
    if (early !== undefined) return early;

    let principal: ReturnType<typeof parsePrincipal>;
    try {
      principal = parsePrincipal(event.requestContext?.authorizer);
    } catch (error) {
      if (error instanceof ExpiredPrincipalError) {
        // A cached Allow outlived the credential: the client must get a fresh one.
        return jsonRpcError(401, JSONRPC.refused, 'Unauthorized: the credential has expired', {
          'WWW-Authenticate':
            'Bearer error="invalid_token", error_description="The credential has expired"',
        });
      }
      // Only a route deployed without the authorizer gets here: refuse, never default a role.
      logger.error('Refusing a request without a valid authorizer context', {
        error_type: error instanceof InvalidPrincipalError ? error.name : 'Unknown',
      });
      return jsonRpcError(401, JSONRPC.refused, 'Unauthorized');
    }

    const body = checkBody(event, deps.config);
    if (!body.ok) return body.response;
    const meta = {
      requestId: event.requestContext?.requestId ?? context?.awsRequestId ?? 'unknown',
      sourceIp: event.requestContext?.identity?.sourceIp ?? 'unknown',
    };
    const malformed = checkToolCallParams(body.parsedBody);
    if (malformed !== undefined) {
      auditCall(logger, principal, meta, {
        name: malformed.name,
        args: malformed.args,
        started: performance.now(),
        status: TOOL_CALL_STATUS.invalid,
        errorType: 'InvalidParams',
      });
      return malformed.response;
    }

    try {
      const server = createMcpServer(principal, meta, deps);
      const transport = new WebStandardStreamableHTTPServerTransport({
        sessionIdGenerator: undefined,
        enableJsonResponse: true,
      });
      await server.connect(transport);
      try {
        const response = await transport.handleRequest(toWebRequest(event, body.body), {
          parsedBody: body.parsedBody,
        });
        const result = await toProxyResult(response);
        return { ...result, body: redactInternalErrors(result.body) };
      } finally {
        await server.close();
      }
    } catch (error) {
      logger.error('Unhandled error in the MCP handler', {
        error_type: error instanceof Error ? error.name : typeof error,
      });
      return jsonRpcError(500, JSONRPC.internalError, 'Internal error');
    }
  };
}
