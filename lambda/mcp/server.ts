/**
 * The MCP server for one request, on the SDK v2 `McpServer`: it registers exactly the tools,
 * resources, templates and prompts the caller's permissions allow, so every list shows exactly
 * what the caller may use. Forbidden requests never get here: the gate (`gate.ts`) refuses
 * them over the parsed body before the SDK runs. What reaches an item's code has been allowed,
 * and the item's outcome is written into the request's call record for the one audit record.
 */
import {
  type CallToolResult,
  completable,
  McpServer,
  type McpServerFactory,
  ResourceTemplate,
  type ServerContext,
} from '@modelcontextprotocol/server';
import * as z from 'zod';
import { TOOL_CALL_STATUS } from '../shared/audit';
import type { Principal } from '../shared/principal';
import type { CallRecord } from './call-record';
import type {
  ItemContext,
  LoadedModule,
  PromptDefinition,
  ResourceContent,
  ToolDefinition,
} from './module';
import { ToolInputError } from './module';

export const SERVER_INFO = { name: 'secure-mcp-lambda', version: '0.2.0' } as const;

/** What the edge knows about one request, handed to the factory through `authInfo.extra`. */
export interface RequestScope {
  readonly principal: Principal;
  readonly granted: ReadonlySet<string>;
  readonly requestId: string;
  /** The call, read or get this request is, when it is one. */
  readonly call: CallRecord | undefined;
}

const SCOPE_KEY = 'secureMcpScope';

/** The `authInfo` that carries a request's scope to the factory (no token: it stops at the authorizer). */
export function authInfoFor(scope: RequestScope) {
  return {
    token: '',
    clientId: scope.principal.principalId,
    scopes: [...scope.principal.scopes],
    extra: { [SCOPE_KEY]: scope },
  };
}

export class MissingScopeError extends Error {
  override readonly name = 'MissingScopeError';
}

function scopeOf(authInfo: { extra?: Record<string, unknown> } | undefined): RequestScope {
  const scope = authInfo?.extra?.[SCOPE_KEY];
  // Fail closed: a server without a principal serves nothing.
  if (scope === undefined)
    throw new MissingScopeError('No request scope: refusing to build a server');
  return scope as RequestScope;
}

export interface ServerFactoryDeps {
  readonly modules: readonly LoadedModule[];
  readonly now?: () => Date;
}

/** Zod issues as one line each, naming the argument and the rule, never echoing the value. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map(
      (issue) =>
        `${issue.path.length > 0 ? issue.path.join('.') : '(arguments)'}: ${issue.message}`,
    )
    .join('; ');
}

function errorResult(text: string): CallToolResult {
  return { isError: true, content: [{ type: 'text', text }] };
}

const NEVER_ABORTED = new AbortController().signal;

export function createServerFactory(deps: ServerFactoryDeps): McpServerFactory {
  const now = deps.now ?? (() => new Date());
  const instructions = deps.modules
    .map(({ module }) => module.instructions)
    .filter((text): text is string => text !== undefined)
    .join('\n\n');

  return (requestContext) => {
    const scope = scopeOf(requestContext.authInfo);
    const server = new McpServer(SERVER_INFO, {
      capabilities: { tools: {}, resources: {}, prompts: {}, completions: {} },
      ...(instructions === '' ? {} : { instructions }),
      // Stateless serving cannot take a client's answer to a server→client request (sampling,
      // elicitation): refuse those at once instead of waiting out the Lambda's timeout.
      enforceStrictCapabilities: true,
    });
    for (const { module, deps: moduleDeps } of deps.modules) {
      const itemContext = (signal: AbortSignal): ItemContext<unknown> => ({
        deps: moduleDeps,
        principal: scope.principal,
        requestId: scope.requestId,
        now,
        signal,
      });
      for (const tool of module.tools ?? []) {
        if (!scope.granted.has(tool.permission)) continue;
        registerTool(server, tool, scope, itemContext);
      }
      for (const resource of module.resources ?? []) {
        if (!scope.granted.has(resource.permission)) continue;
        server.registerResource(resource.name, resource.uri, describe(resource), async (uri, ctx) =>
          readInto(scope.call, uri.href, () => resource.read(itemContext(ctx.mcpReq.signal))),
        );
      }
      for (const template of module.resourceTemplates ?? []) {
        if (!scope.granted.has(template.permission)) continue;
        const { list, complete } = template;
        server.registerResource(
          template.name,
          new ResourceTemplate(template.uriTemplate, {
            list:
              list === undefined
                ? undefined
                : async (ctx) => ({
                    resources: (await list(itemContext(ctx.mcpReq.signal))).map((entry) => ({
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
          describe(template),
          async (uri, variables, ctx) =>
            readInto(scope.call, uri.href, () =>
              template.read(uri, variables, itemContext(ctx.mcpReq.signal)),
            ),
        );
      }
      for (const prompt of module.prompts ?? []) {
        if (!scope.granted.has(prompt.permission)) continue;
        registerPrompt(server, prompt, scope, itemContext);
      }
    }
    return server;
  };
}

function describe(item: { title?: string; description?: string; mimeType?: string }) {
  return {
    ...(item.title === undefined ? {} : { title: item.title }),
    ...(item.description === undefined ? {} : { description: item.description }),
    ...(item.mimeType === undefined ? {} : { mimeType: item.mimeType }),
  };
}

async function readInto(
  call: CallRecord | undefined,
  uri: string,
  read: () => Promise<ResourceContent>,
) {
  call?.ran();
  try {
    const content = await read();
    call?.settle(TOOL_CALL_STATUS.success);
    return { contents: [{ uri, ...content }] };
  } catch (error) {
    call?.settle(TOOL_CALL_STATUS.error, error instanceof Error ? error.name : typeof error);
    throw error;
  }
}

function registerTool(
  server: McpServer,
  tool: ToolDefinition<unknown, z.ZodObject, z.ZodObject>,
  scope: RequestScope,
  itemContext: (signal: AbortSignal) => ItemContext<unknown>,
): void {
  server.registerTool(
    tool.name,
    {
      title: tool.title,
      description: tool.description,
      inputSchema: tool.input,
      outputSchema: tool.output,
      annotations: { title: tool.title, ...tool.annotations },
    },
    async (args: Record<string, unknown>, ctx: ServerContext) => {
      const call = scope.call;
      call?.ran();
      const progressToken = ctx.mcpReq._meta?.progressToken;
      try {
        const raw = await tool.run(args, {
          ...itemContext(ctx.mcpReq.signal),
          progress: async (update) => {
            if (progressToken === undefined) return;
            await ctx.mcpReq.notify({
              method: 'notifications/progress',
              params: { progressToken, ...update },
            });
          },
        });
        const output = tool.output.parse(raw);
        call?.settle(TOOL_CALL_STATUS.success);
        return {
          content: [{ type: 'text', text: tool.summarize(output) }],
          structuredContent: output,
        };
      } catch (error) {
        if (error instanceof ToolInputError) {
          call?.settle(TOOL_CALL_STATUS.invalid, error.name);
          return errorResult(`Invalid arguments for ${tool.name}: ${error.message}`);
        }
        call?.settle(TOOL_CALL_STATUS.error, error instanceof Error ? error.name : typeof error);
        // Internals stay in the log (by type); the caller gets the request id to quote.
        return errorResult(`The tool ${tool.name} failed. Request id: ${scope.requestId}`);
      }
    },
  );
}

function registerPrompt(
  server: McpServer,
  prompt: PromptDefinition<unknown, z.ZodObject>,
  scope: RequestScope,
  itemContext: (signal: AbortSignal) => ItemContext<unknown>,
): void {
  // Completions are attached per request: they run with this caller's context.
  const shape = { ...prompt.args.shape } as Record<string, z.ZodType>;
  for (const [name, fn] of Object.entries(prompt.complete ?? {})) {
    const field = shape[name];
    if (field === undefined) continue;
    // completable() marks the schema it is given, so each request marks its own copy.
    shape[name] = completable(field.clone(), async (value: unknown) => [
      ...(await fn(String(value ?? ''), itemContext(NEVER_ABORTED))),
    ]) as unknown as z.ZodType;
  }
  server.registerPrompt(
    prompt.name,
    {
      ...(prompt.title === undefined ? {} : { title: prompt.title }),
      ...(prompt.description === undefined ? {} : { description: prompt.description }),
      argsSchema: z.object(shape),
    },
    async (args: Record<string, unknown>, ctx: ServerContext) => {
      const call = scope.call;
      call?.ran();
      try {
        const result = await prompt.get(args, itemContext(ctx.mcpReq.signal));
        call?.settle(TOOL_CALL_STATUS.success);
        return result;
      } catch (error) {
        call?.settle(TOOL_CALL_STATUS.error, error instanceof Error ? error.name : typeof error);
        throw error;
      }
    },
  );
}
