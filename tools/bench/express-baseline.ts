/**
 * The baseline our MCP handler is compared with, built inside the bench only and never
 * shipped: the design most samples copy, on the SDK most of them copy (`@modelcontextprotocol/sdk`
 * 1.x). An Express app (`express.json()`), and for every POST /mcp a new high-level `McpServer`
 * with the caller's items registered through `registerTool`, `registerResource` and
 * `registerPrompt`, plus a new Node `StreamableHTTPServerTransport` (stateless, answering in
 * SSE as our handler answers a 2025-era request), behind a serverless-http-style adapter.
 *
 * The work is kept equal so the comparison is of designs, not features: the same modules
 * (their tools, resources, templates and prompts, the same dependencies), the same policy
 * table, the caller read from the authorizer context, only the items the caller's permissions
 * allow registered, and the same audit record per call, read or get.
 *
 * Only runtime code here: `express-entry.ts` bundles it for the cold-init runs.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { completable } from '@modelcontextprotocol/sdk/server/completable.js';
import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import express, { type Express } from 'express';
import type * as z from 'zod';
import type { RequestMeta } from '../../lambda/mcp/call-record';
import type { ItemContext, ResourceContent } from '../../lambda/mcp/module-kit';
import { ToolInputError } from '../../lambda/mcp/module-kit';
import type { LoadedModule } from '../../lambda/mcp/module-loader';
import { SERVER_INFO } from '../../lambda/mcp/server';
import {
  auditCall,
  type CallKind,
  digestArguments,
  TOOL_CALL_STATUS,
  type ToolCallStatus,
} from '../../lambda/shared/audit';
import {
  decide,
  effectivePermissions,
  findItem,
  type ItemKind,
  type PolicyTable,
} from '../../lambda/shared/policy';
import { type Principal, parsePrincipal } from '../../lambda/shared/principal';
import { MCP_PATH } from '../../lambda/shared/routes';
import { type ProxyHandler, proxyHandler, proxySourceOf } from './proxy-adapter';

export interface ExpressMcpDeps {
  readonly policy: PolicyTable;
  readonly modules: readonly LoadedModule[];
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

const NEVER_ABORTED = new AbortController().signal;

/** A new McpServer for one request, with the items this caller may use. */
function serverFor(principal: Principal, meta: RequestMeta, deps: ExpressMcpDeps): McpServer {
  const { policy, logger } = deps;
  const now = deps.now ?? (() => new Date());
  const granted = effectivePermissions(policy, principal.groups, principal.scopes);
  const instructions = deps.modules
    .map(({ module }) => module.instructions)
    .filter((text): text is string => text !== undefined)
    .join('\n\n');
  const server = new McpServer(SERVER_INFO, {
    capabilities: { tools: {}, resources: {}, prompts: {}, completions: {} },
    ...(instructions === '' ? {} : { instructions }),
    enforceStrictCapabilities: true,
  });

  /** The same audit record our handler writes for one call, read or get. */
  const audited = async <T>(
    kind: CallKind,
    policyKind: ItemKind,
    name: string,
    args: unknown,
    work: () => Promise<T>,
    failed: (result: T) => boolean = () => false,
  ): Promise<T> => {
    const started = performance.now();
    const access = decide(findItem(policy, policyKind, name), granted);
    const write = (status: ToolCallStatus, errorType?: string) => {
      const { digest, bytes } = digestArguments(args);
      auditCall(logger, {
        kind,
        status,
        item: name,
        permission: access.allowed ? access.item.permission : undefined,
        caller: principal.principalId,
        authMethod: principal.authMethod,
        keyId: principal.keyId,
        groups: principal.groups,
        durationMs: Math.round((performance.now() - started) * 100) / 100,
        requestId: meta.requestId,
        sourceIp: meta.sourceIp,
        argsDigest: digest,
        argsBytes: bytes,
        errorType,
        protocolEra: 'legacy',
      });
    };
    try {
      const result = await work();
      write(failed(result) ? TOOL_CALL_STATUS.invalid : TOOL_CALL_STATUS.success);
      return result;
    } catch (error) {
      write(TOOL_CALL_STATUS.error, error instanceof Error ? error.name : typeof error);
      throw error;
    }
  };

  for (const { module, deps: moduleDeps } of deps.modules) {
    const itemContext = (signal: AbortSignal): ItemContext<unknown> => ({
      deps: moduleDeps,
      principal,
      requestId: meta.requestId,
      now,
      signal,
    });
    for (const tool of module.tools ?? []) {
      if (!granted.has(tool.permission)) continue;
      server.registerTool(
        tool.name,
        {
          title: tool.title,
          description: tool.description,
          inputSchema: tool.input,
          outputSchema: tool.output,
          annotations: { title: tool.title, ...tool.annotations },
        },
        async (args, extra): Promise<CallToolResult> => {
          const progressToken = extra._meta?.progressToken;
          try {
            return await audited(
              'tool',
              'tool',
              tool.name,
              args,
              async () => {
                try {
                  const output = tool.output.parse(
                    await tool.run(args as Record<string, unknown>, {
                      ...itemContext(extra.signal),
                      progress: async (update) => {
                        if (progressToken === undefined) return;
                        await extra.sendNotification({
                          method: 'notifications/progress',
                          params: { progressToken, ...update },
                        });
                      },
                    }),
                  );
                  return {
                    content: [{ type: 'text', text: tool.summarize(output) }],
                    structuredContent: output,
                  } satisfies CallToolResult;
                } catch (error) {
                  if (!(error instanceof ToolInputError)) throw error;
                  return errorResult(`Invalid arguments for ${tool.name}: ${error.message}`);
                }
              },
              (result) => result.isError === true,
            );
          } catch {
            return errorResult(`The tool ${tool.name} failed. Request id: ${meta.requestId}`);
          }
        },
      );
    }
    const read = (uri: string, content: () => Promise<ResourceContent>) => async () => ({
      contents: [{ uri, ...(await content()) }],
    });
    for (const resource of module.resources ?? []) {
      if (!granted.has(resource.permission)) continue;
      server.registerResource(
        resource.name,
        resource.uri,
        { title: resource.title, description: resource.description, mimeType: resource.mimeType },
        (uri, extra) =>
          audited(
            'resource',
            'resource',
            resource.name,
            { uri: uri.href },
            read(uri.href, () => resource.read(itemContext(extra.signal))),
          ),
      );
    }
    for (const template of module.resourceTemplates ?? []) {
      if (!granted.has(template.permission)) continue;
      const { list, complete } = template;
      server.registerResource(
        template.name,
        new ResourceTemplate(template.uriTemplate, {
          list:
            list === undefined
              ? undefined
              : async (extra) => ({
                  resources: (await list(itemContext(extra.signal))).map((entry) => ({
                    ...entry,
                    ...(template.mimeType === undefined ? {} : { mimeType: template.mimeType }),
                  })),
                }),
          complete: Object.fromEntries(
            Object.entries(complete ?? {}).map(([variable, fn]) => [
              variable,
              async (value: string) => [...(await fn(value, itemContext(NEVER_ABORTED)))],
            ]),
          ),
        }),
        { title: template.title, description: template.description, mimeType: template.mimeType },
        (uri, variables, extra) =>
          audited(
            'resource',
            'resourceTemplate',
            template.name,
            { uri: uri.href },
            read(uri.href, () => template.read(uri, variables, itemContext(extra.signal))),
          ),
      );
    }
    for (const prompt of module.prompts ?? []) {
      if (!granted.has(prompt.permission)) continue;
      const shape = { ...prompt.args.shape } as Record<string, z.ZodType>;
      for (const [name, fn] of Object.entries(prompt.complete ?? {})) {
        const field = shape[name];
        if (field === undefined) continue;
        shape[name] = completable(field.clone(), async (value: unknown) => [
          ...(await fn(String(value ?? ''), itemContext(NEVER_ABORTED))),
        ]) as unknown as z.ZodType;
      }
      server.registerPrompt(
        prompt.name,
        { title: prompt.title, description: prompt.description, argsSchema: shape },
        async (args, extra) =>
          await audited('prompt', 'prompt', prompt.name, args, () =>
            prompt.get(args, itemContext(extra.signal)),
          ),
      );
    }
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
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
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
