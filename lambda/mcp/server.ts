/**
 * The MCP server for one request: lists exactly the caller's permitted tools and refuses a
 * forbidden call before the tool runs. Both decisions come from `checkToolAccess` over the one
 * policy table, so listing and enforcement cannot drift.
 *
 * We use the SDK's low-level `Server` rather than `McpServer`: `McpServer` validates arguments
 * before any hook of ours could run, and keeps its own tool list, so RBAC would have to be
 * bolted on in two places. Here the permission check is the first thing a call meets.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  type CallToolResult,
  ErrorCode,
  ListToolsRequestSchema,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv-provider.js';
import type { jsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/types.js';
import type { z } from 'zod';
import {
  auditToolCall,
  digestArguments,
  TOOL_CALL_STATUS,
  type ToolCallStatus,
  UNKNOWN_TOOL,
} from '../shared/audit';
import {
  checkToolAccess,
  effectivePermissions,
  isToolName,
  permittedTools,
} from '../shared/policy';
import type { Principal } from '../shared/principal';
import type { RecordStore } from './store/customer-record';
import type { ToolRegistry } from './tools/registry';
import { ToolInputError } from './tools/tool';

/** JSON-RPC error code for a call the caller's roles do not permit (implementation-defined range). */
export const PERMISSION_DENIED_CODE = -32003;

/**
 * An error the SDK turns into a JSON-RPC error with this code, message and data. (The SDK's
 * `McpError` would prefix "MCP error <code>: " to the message the client sees.)
 */
export class JsonRpcError extends Error {
  override readonly name = 'JsonRpcError';
  readonly code: number;
  readonly data: unknown;

  constructor(code: number, message: string, data?: unknown) {
    super(message);
    this.code = code;
    this.data = data;
  }
}

export const SERVER_INFO = { name: 'secure-mcp-lambda', version: '0.1.0' } as const;

export interface RequestMeta {
  readonly requestId: string;
  readonly sourceIp: string;
}

export interface McpServerDeps {
  readonly registry: ToolRegistry;
  readonly store: RecordStore;
  readonly logger: Logger;
  readonly now?: () => Date;
}

function errorResult(text: string): CallToolResult {
  return { isError: true, content: [{ type: 'text', text }] };
}

/** Zod issues as one line each, naming the argument and the rule, never echoing the value. */
function describeIssues(error: z.ZodError): string {
  return error.issues
    .map(
      (issue) =>
        `${issue.path.length > 0 ? issue.path.join('.') : '(arguments)'}: ${issue.message}`,
    )
    .join('; ');
}

/** The audit record of one tools/call, from what is known about it. */
export function auditCall(
  logger: Logger,
  principal: Principal,
  meta: RequestMeta,
  call: {
    readonly name: string;
    readonly args: unknown;
    readonly started: number;
    readonly status: ToolCallStatus;
    readonly permission?: string | undefined;
    readonly errorType?: string | undefined;
  },
): void {
  const { digest, bytes } = digestArguments(call.args);
  auditToolCall(logger, {
    status: call.status,
    ...(isToolName(call.name)
      ? { tool: call.name }
      : { tool: UNKNOWN_TOOL, requestedTool: call.name.slice(0, 64) }),
    permission: call.permission,
    caller: principal.principalId,
    authMethod: principal.authMethod,
    keyId: principal.keyId,
    groups: principal.groups,
    durationMs: Math.round((performance.now() - call.started) * 100) / 100,
    requestId: meta.requestId,
    sourceIp: meta.sourceIp,
    argsDigest: digest,
    argsBytes: bytes,
    errorType: call.errorType,
  });
}

/**
 * Without a validator the SDK builds a new Ajv instance for every Server, that is for every
 * request here, and uses it only to check elicitation results, which this server never asks
 * for. One validator for the life of the Lambda, built on first use (never, in practice).
 */
let ajv: AjvJsonSchemaValidator | undefined;
const SHARED_JSON_SCHEMA_VALIDATOR: jsonSchemaValidator = {
  getValidator(schema) {
    ajv ??= new AjvJsonSchemaValidator();
    return ajv.getValidator(schema);
  },
};

export function createMcpServer(
  principal: Principal,
  meta: RequestMeta,
  deps: McpServerDeps,
): Server {
  const { registry, store, logger } = deps;
  const now = deps.now ?? (() => new Date());
  const granted = effectivePermissions(principal.groups, principal.scopes);

  const server = new Server(SERVER_INFO, {
    capabilities: { tools: { listChanged: false } },
    jsonSchemaValidator: SHARED_JSON_SCHEMA_VALIDATOR,
    instructions:
      'Customer-record tools. The tools listed are exactly those your roles permit; every call is audited.',
  });

  server.setRequestHandler(ListToolsRequestSchema, async () => ({
    tools: permittedTools(granted).flatMap((name): Tool[] => {
      const tool = registry.get(name);
      if (tool === undefined) return [];
      const { definition } = tool;
      return [
        {
          name,
          title: definition.title,
          description: definition.description,
          inputSchema: tool.inputJsonSchema as Tool['inputSchema'],
          outputSchema: tool.outputJsonSchema as Tool['outputSchema'],
          annotations: { title: definition.title, ...definition.annotations },
        },
      ];
    }),
  }));

  server.setRequestHandler(CallToolRequestSchema, async (request) => {
    const started = performance.now();
    const { name, arguments: args } = request.params;
    const audit = (status: ToolCallStatus, permission?: string, errorType?: string) =>
      auditCall(logger, principal, meta, { name, args, started, status, permission, errorType });

    const access = checkToolAccess(name, granted);
    const tool = access.allowed ? registry.get(access.tool) : undefined;
    if (!access.allowed) {
      if (access.reason === 'unknown_tool') {
        audit(TOOL_CALL_STATUS.invalid, undefined, 'UnknownTool');
        throw new JsonRpcError(ErrorCode.InvalidParams, `Unknown tool: ${name}`);
      }
      audit(TOOL_CALL_STATUS.denied, access.permission);
      throw new JsonRpcError(
        PERMISSION_DENIED_CODE,
        `Permission denied: tool '${access.tool}' requires permission '${access.permission}', which your roles (narrowed by your token's scopes, if it names any) do not grant`,
        { tool: access.tool, requiredPermission: access.permission },
      );
    }
    if (tool === undefined) {
      // The registry is checked against the policy table at load, so this cannot happen.
      audit(TOOL_CALL_STATUS.error, access.permission, 'ToolNotRegistered');
      throw new JsonRpcError(ErrorCode.InternalError, 'Internal error');
    }

    const input = tool.definition.input.safeParse(args ?? {});
    if (!input.success) {
      audit(TOOL_CALL_STATUS.invalid, access.permission, 'InvalidArguments');
      return errorResult(`Invalid arguments for ${name}: ${describeIssues(input.error)}`);
    }
    try {
      const raw = await tool.definition.run(input.data, { store, principal, now });
      const output = tool.definition.output.parse(raw);
      audit(TOOL_CALL_STATUS.success, access.permission);
      return {
        content: [{ type: 'text', text: tool.definition.summarize(output) }],
        structuredContent: output,
      };
    } catch (error) {
      if (error instanceof ToolInputError) {
        audit(TOOL_CALL_STATUS.invalid, access.permission, error.name);
        return errorResult(`Invalid arguments for ${name}: ${error.message}`);
      }
      const errorType = error instanceof Error ? error.name : typeof error;
      audit(TOOL_CALL_STATUS.error, access.permission, errorType);
      // Internals stay in the log (by type); the caller gets the request id to quote.
      return errorResult(`The tool ${name} failed. Request id: ${meta.requestId}`);
    }
  });

  return server;
}
