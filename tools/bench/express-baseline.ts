/**
 * The baseline our MCP handler is compared with, built inside the bench only and never
 * shipped: the design most samples copy. An Express app (`express.json()`), and for every
 * POST /mcp a new high-level `McpServer` with the tools registered through `registerTool`, plus
 * a new Node `StreamableHTTPServerTransport` (stateless, JSON responses, as our handler),
 * behind a serverless-http-style adapter.
 *
 * The work is kept equal so the comparison is of designs, not features: the same tool
 * definitions and record store, the caller read from the authorizer context, only the tools
 * the caller's roles permit registered, and the same audit record per call.
 *
 * Only runtime code here: `express-entry.ts` bundles it for the cold-init runs.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import express, { type Express } from 'express';
import { auditCall, type RequestMeta, SERVER_INFO } from '../../lambda/mcp/server';
import type { RecordStore } from '../../lambda/mcp/store/customer-record';
import type { ToolRegistry } from '../../lambda/mcp/tools/registry';
import { TOOL_CALL_STATUS } from '../../lambda/shared/audit';
import { checkToolAccess, effectivePermissions, permittedTools } from '../../lambda/shared/policy';
import { type Principal, parsePrincipal } from '../../lambda/shared/principal';
import { MCP_PATH } from '../../lambda/shared/routes';
import { type ProxyHandler, proxyHandler, proxySourceOf } from './proxy-adapter';

export interface ExpressMcpDeps {
  readonly registry: ToolRegistry;
  readonly store: RecordStore;
  readonly logger: Logger;
  readonly now?: () => Date;
}

const jsonRpcError = (code: number, message: string) => ({
  jsonrpc: '2.0',
  error: { code, message },
  id: null,
});

function errorResult(text: string): CallToolResult {
  return { isError: true, content: [{ type: 'text', text }] };
}

/** A new McpServer for one request, with the tools this caller may use. */
function serverFor(principal: Principal, meta: RequestMeta, deps: ExpressMcpDeps): McpServer {
  const { registry, store, logger } = deps;
  const now = deps.now ?? (() => new Date());
  const granted = effectivePermissions(principal.groups, principal.scopes);
  const server = new McpServer(SERVER_INFO, {
    capabilities: { tools: { listChanged: false } },
    instructions:
      'Customer-record tools. The tools listed are exactly those your roles permit; every call is audited.',
  });
  for (const name of permittedTools(granted)) {
    const definition = registry.get(name)?.definition;
    if (definition === undefined) continue;
    server.registerTool(
      name,
      {
        title: definition.title,
        description: definition.description,
        inputSchema: definition.input,
        outputSchema: definition.output,
        annotations: { title: definition.title, ...definition.annotations },
      },
      async (args): Promise<CallToolResult> => {
        const started = performance.now();
        const access = checkToolAccess(name, granted);
        const permission = access.allowed ? access.permission : undefined;
        const audit = (status: (typeof TOOL_CALL_STATUS)[keyof typeof TOOL_CALL_STATUS]) =>
          auditCall(logger, principal, meta, { name, args, started, status, permission });
        try {
          const output = definition.output.parse(
            await definition.run(args as never, { store, principal, now }),
          );
          audit(TOOL_CALL_STATUS.success);
          return {
            content: [{ type: 'text', text: definition.summarize(output) }],
            structuredContent: output,
          };
        } catch (error) {
          audit(TOOL_CALL_STATUS.error);
          return errorResult(
            `The tool ${name} failed. Request id: ${meta.requestId} (${error instanceof Error ? error.name : 'error'})`,
          );
        }
      },
    );
  }
  return server;
}

/** The Express app of the sample design: JSON body parser, one POST route, 405 otherwise. */
export function createExpressApp(deps: ExpressMcpDeps): Express {
  const app = express();
  app.use(express.json({ limit: '1mb' }));
  app.post(MCP_PATH, async (req, res) => {
    const event = proxySourceOf(req)?.event;
    let principal: Principal;
    try {
      principal = parsePrincipal(event?.requestContext?.authorizer);
    } catch {
      res.status(401).json(jsonRpcError(-32000, 'Unauthorized'));
      return;
    }
    const meta: RequestMeta = {
      requestId: event?.requestContext?.requestId ?? 'unknown',
      sourceIp: event?.requestContext?.identity?.sourceIp ?? 'unknown',
    };
    const server = serverFor(principal, meta, deps);
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    try {
      await server.connect(transport);
      await transport.handleRequest(req, res, req.body);
    } catch (error) {
      deps.logger.error('Unhandled error in the MCP route', {
        error_type: error instanceof Error ? error.name : typeof error,
      });
      if (!res.headersSent) res.status(500).json(jsonRpcError(-32603, 'Internal error'));
    }
  });
  app.all(MCP_PATH, (_req, res) => {
    res.status(405).set('Allow', 'POST').json(jsonRpcError(-32000, 'Method not allowed'));
  });
  return app;
}

/** The Express design as a Lambda proxy handler, the way serverless-http deploys it. */
export function createExpressMcpHandler(deps: ExpressMcpDeps): ProxyHandler {
  return proxyHandler(createExpressApp(deps));
}
