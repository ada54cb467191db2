/**
 * The MCP server for one request, on the SDK v2 `McpServer`: it registers exactly the tools,
 * resources, templates and prompts the caller's permissions allow, so every list shows exactly
 * what the caller may use. Forbidden requests never get here: the gate (`gate.ts`) refuses
 * them over the parsed body before the SDK runs. What reaches an item's code has been allowed,
 * and the item's outcome is written into the request's call record for the one audit record.
 */
import {
  type CallToolResult,
  CLIENT_CAPABILITIES_META_KEY,
  CLIENT_INFO_META_KEY,
  type ClientCapabilities,
  completable,
  inputRequired,
  type JSONValue,
  McpServer,
  type McpServerFactory,
  type ProtocolEra,
  ProtocolError,
  ProtocolErrorCode,
  ResourceTemplate,
  type ServerContext,
} from '@modelcontextprotocol/server';
import * as z from 'zod';
import { clientText } from '../shared/approvals';
import { TOOL_CALL_STATUS } from '../shared/audit';
import { failureName } from '../shared/aws/error';
import type { Principal } from '../shared/principal';
import type { Approvals } from './approvals';
import type { CallRecord } from './call-record';
import type {
  Exchange,
  InputNeeded,
  ItemContext,
  PromptDefinition,
  ResourceContent,
  ToolDefinition,
} from './module-kit';
import { TOOL_CONTENT, ToolInputError } from './module-kit';
import type { LoadedModule } from './module-loader';
import { isContentTool } from './module-loader';
import {
  createRequestStateSeal,
  type RequestStateKeyRing,
  type RequestStateLedger,
  requestStateBinding,
} from './request-state';

export const SERVER_INFO = { name: 'secure-mcp-lambda', version: '0.2.0' } as const;

/** What the edge knows about one request, handed to the factory through `authInfo.extra`. */
export interface RequestScope {
  readonly principal: Principal;
  readonly granted: ReadonlySet<string>;
  readonly requestId: string;
  /** Where the request came from, for the approval records. */
  readonly sourceIp?: string;
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
  /**
   * The HMAC key (at least 32 bytes), or the ring of keys, that seals the state an item carries
   * from one round of a 2026-07-28 multi-round request to the next. Every instance that may
   * serve a later round needs the same. Default: a random key of this instance, so a later
   * round served by another instance is refused (-32602) and the client must start over.
   */
  readonly requestStateKey?: Uint8Array | string | RequestStateKeyRing;
  /**
   * Where states spent by their first use are remembered (see `request-state.ts`). Required
   * with a `requestStateKey`, and shared as widely as it; default, with the instance's own
   * key: this instance's memory, which no other instance's could add to.
   */
  readonly requestStateLedger?: RequestStateLedger;
  /** Told when request state could not be checked: its keys or ledger failed. */
  readonly onRequestStateUnavailable?: (error: unknown) => void;
  /**
   * Which tool calls need a person's approval, and the gate that asks for it and spends it
   * (`approvals.ts`; the handler builds it once per instance).
   */
  readonly approvals: Approvals;
  /**
   * Local mode only (`local-error-detail.ts`): why an item failed, told to its caller beside the
   * request id. Absent, as in AWS always: the caller gets the request id alone.
   */
  readonly describeFailure?: DescribeFailure;
}

/**
 * Why an item's code failed, for its author (local mode): `what` names the item ("The tool
 * get_order"); the answer is shown to the caller, so it must hold nothing secret.
 */
export type DescribeFailure = (what: string, error: unknown) => string;

/** The words a failed item's caller gets: what failed, why (local mode only), the request id. */
function failureText(
  what: string,
  error: unknown,
  requestId: string,
  describeFailure: DescribeFailure | undefined,
): string {
  const why = describeFailure?.(what, error);
  return why === undefined
    ? `${what} failed. Request id: ${requestId}`
    : `${what} failed: ${why}. Request id: ${requestId} (local mode shows why; in AWS the caller gets the request id only)`;
}

/**
 * What a failed resource read or prompt get throws: the error itself, which the edge answers as
 * a bare internal error (-32603), or in local mode a -32603 that says why.
 */
function failureError(
  what: string,
  error: unknown,
  requestId: string,
  describeFailure: DescribeFailure | undefined,
): unknown {
  if (describeFailure === undefined || error instanceof ProtocolError) return error;
  return new ProtocolError(
    ProtocolErrorCode.InternalError,
    failureText(what, error, requestId, describeFailure),
  );
}

/** An item needs input from a 2025-11-25 client, which cannot be asked (see `inputUnavailable`). */
const INPUT_UNAVAILABLE = 'InputUnavailable';

function inputUnavailable(what: string): string {
  return `${what} needs to ask you for input (a form, an LLM completion or your roots), which this server can do only with a 2026-07-28 client: a stateless server cannot send a 2025-11-25 client requests in the middle of a call.`;
}

function errorResult(text: string): CallToolResult {
  return { isError: true, content: [{ type: 'text', text }] };
}

const NEVER_ABORTED = new AbortController().signal;

export function createServerFactory(deps: ServerFactoryDeps): McpServerFactory {
  const now = deps.now ?? (() => new Date());
  const { approvals } = deps;
  const instructions = deps.modules
    .map(({ module }) => module.instructions)
    .filter((text): text is string => text !== undefined)
    .join('\n\n');

  // The state a multi-round item hands the client is signed, expires, is sealed for the caller,
  // the item and its arguments, and is spent by its first use: verified before any item code
  // sees it (else -32602).
  const requestStateSeal = createRequestStateSeal({
    ...(deps.requestStateKey === undefined ? {} : { key: deps.requestStateKey }),
    ...(deps.requestStateLedger === undefined ? {} : { ledger: deps.requestStateLedger }),
    onUnavailable: deps.onRequestStateUnavailable,
    bind: (ctx) => {
      const scope = scopeOf(ctx.http?.authInfo);
      return requestStateBinding(scope.principal, scope.call?.request);
    },
  });
  const exchangeFor = (ctx: ServerContext): Exchange => ({
    log: (level, data) => ctx.mcpReq.log(level, data),
    // The SDK has checked the envelope's shape (its type here is too loose to index).
    clientCapabilities: (ctx.mcpReq.envelope as Record<string, unknown> | undefined)?.[
      CLIENT_CAPABILITIES_META_KEY
    ] as ClientCapabilities | undefined,
    inputResponses: ctx.mcpReq.inputResponses,
    requestState: <T extends JSONValue>() => ctx.mcpReq.requestState<T>(),
    sealState: (state) => requestStateSeal.mint(state, ctx),
  });

  // Which resources accept subscriptions is fixed for the instance; who may is per request.
  const subscribableResources = deps.modules.flatMap(({ module }) =>
    (module.resources ?? []).filter((resource) => resource.subscribable === true),
  );

  return (requestContext) => {
    const scope = scopeOf(requestContext.authInfo);
    const { era } = requestContext;
    const subscribable = new Set(
      subscribableResources
        .filter((resource) => scope.granted.has(resource.permission))
        .map((resource) => resource.uri),
    );
    // Subscriptions are a 2025-11-25 method (2026-07-28 has none to answer).
    const subscriptions = era === 'legacy' && subscribable.size > 0;
    const server = new McpServer(SERVER_INFO, {
      // The lists are fixed for a deployment and a caller: they never change under a client.
      capabilities: {
        tools: { listChanged: false },
        resources: { listChanged: false, ...(subscriptions ? { subscribe: true } : {}) },
        prompts: { listChanged: false },
        completions: {},
        // Deprecated in 2026-07-28, still served: items may log (`Exchange.log`).
        logging: {},
      },
      ...(instructions === '' ? {} : { instructions }),
      // Stateless serving cannot take a client's answer to a server→client request (sampling,
      // elicitation): refuse those at once instead of waiting out the Lambda's timeout.
      enforceStrictCapabilities: true,
      requestState: { verify: requestStateSeal.verify },
    });
    if (subscriptions) registerSubscriptions(server, subscribable);
    for (const { module, deps: moduleDeps } of deps.modules) {
      const itemContext = (signal: AbortSignal): ItemContext<unknown> => ({
        deps: moduleDeps,
        principal: scope.principal,
        requestId: scope.requestId,
        now,
        signal,
      });
      const items: Items = {
        scope,
        era,
        itemContext,
        exchangeFor,
        approvals,
        describeFailure: deps.describeFailure,
      };
      for (const tool of module.tools ?? []) {
        if (!scope.granted.has(tool.permission)) continue;
        registerTool(server, tool, items);
      }
      for (const resource of module.resources ?? []) {
        if (!scope.granted.has(resource.permission)) continue;
        server.registerResource(resource.name, resource.uri, describe(resource), async (uri, ctx) =>
          readInto(items, `The resource ${resource.name}`, uri.href, () =>
            resource.read(itemContext(ctx.mcpReq.signal)),
          ),
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
            readInto(items, `The resource template ${template.name}`, uri.href, () =>
              template.read(uri, variables, itemContext(ctx.mcpReq.signal)),
            ),
        );
      }
      for (const prompt of module.prompts ?? []) {
        if (!scope.granted.has(prompt.permission)) continue;
        registerPrompt(server, prompt, items);
      }
    }
    return server;
  };
}

/** What registering one module's items for one request needs. */
interface Items {
  readonly scope: RequestScope;
  readonly era: ProtocolEra;
  readonly itemContext: (signal: AbortSignal) => ItemContext<unknown>;
  readonly exchangeFor: (ctx: ServerContext) => Exchange;
  readonly approvals: Approvals;
  readonly describeFailure: DescribeFailure | undefined;
}

/**
 * 2025-11-25 `resources/subscribe` and `resources/unsubscribe` for the caller's subscribable
 * resources (the gate has refused any other URI the caller may not read): acknowledged, never
 * followed by an update (see `ResourceDefinition.subscribable`).
 */
function registerSubscriptions(server: McpServer, uris: ReadonlySet<string>): void {
  for (const method of ['resources/subscribe', 'resources/unsubscribe'] as const) {
    server.server.setRequestHandler(method, async (request) => {
      const { uri } = request.params;
      if (!uris.has(uri)) {
        throw new ProtocolError(
          ProtocolErrorCode.InvalidParams,
          'This resource does not accept subscriptions',
          { uri },
        );
      }
      return {};
    });
  }
}

function describe(item: { title?: string; description?: string; mimeType?: string }) {
  return {
    ...(item.title === undefined ? {} : { title: item.title }),
    ...(item.description === undefined ? {} : { description: item.description }),
    ...(item.mimeType === undefined ? {} : { mimeType: item.mimeType }),
  };
}

async function readInto(
  { scope, describeFailure }: Items,
  what: string,
  uri: string,
  read: () => Promise<ResourceContent>,
) {
  const { call } = scope;
  call?.ran();
  try {
    const content = await read();
    call?.settle(TOOL_CALL_STATUS.success);
    return { contents: [{ uri, ...content }] };
  } catch (error) {
    call?.settle(TOOL_CALL_STATUS.error, failureName(error));
    throw failureError(what, error, scope.requestId, describeFailure);
  }
}

/**
 * The arguments an item runs on: the ones its argument rules judged when some rule names it
 * (parsed by the item's own schema from the same request), else the SDK's parse. What a rule
 * allowed is then exactly what runs, whatever a schema's defaults or transforms do per parse.
 */
function ruledOr(call: CallRecord | undefined, parsed: Record<string, unknown>) {
  return call?.ruledInput === undefined ? parsed : (call.ruledInput as Record<string, unknown>);
}

function registerTool(
  server: McpServer,
  tool: ToolDefinition<unknown, z.ZodObject, z.ZodObject>,
  { scope, era, itemContext, exchangeFor, approvals, describeFailure }: Items,
): void {
  const content = isContentTool(tool);
  server.registerTool(
    tool.name,
    {
      title: tool.title,
      description: tool.description,
      inputSchema: cachedJsonSchema(tool.input),
      // A content tool's answer is its content: no structured result to declare.
      ...(content ? {} : { outputSchema: cachedJsonSchema(tool.output) }),
      annotations: { title: tool.title, ...tool.annotations },
    },
    async (parsed: Record<string, unknown>, ctx: ServerContext) => {
      const call = scope.call;
      // The arguments the rules judged, which are the ones that run and the ones approved.
      const args = ruledOr(call, parsed);
      // A person's approval first, for the arguments as the schema parsed them: nothing of the
      // tool runs until one is spent (a 2025-11-25 call gets -32042, thrown through).
      const approval = { tool: tool.name, permission: tool.permission, arguments: args, era };
      if (approvals.required({ ...approval, principal: scope.principal })) {
        const exchange = exchangeFor(ctx);
        const envelope = ctx.mcpReq.envelope as Record<string, unknown> | undefined;
        const clientInfo = envelope?.[CLIENT_INFO_META_KEY] as
          | { name?: unknown; version?: unknown }
          | undefined;
        const name = clientText(clientInfo?.name);
        const version = clientText(clientInfo?.version);
        const outcome = await approvals.check({
          tool,
          arguments: args,
          principal: scope.principal,
          era,
          client: {
            ...(name === undefined ? {} : { name }),
            ...(version === undefined ? {} : { version }),
          },
          clientCapabilities: exchange.clientCapabilities,
          requestState: ctx.mcpReq.requestState(),
          inputResponses: ctx.mcpReq.inputResponses,
          sealState: exchange.sealState,
          settle: (status, errorType) => call?.settle(status, errorType),
          requestId: scope.requestId,
          sourceIp: scope.sourceIp ?? 'unknown',
          signal: ctx.mcpReq.signal,
        });
        if (!outcome.run) return outcome.answer;
      }
      call?.ran();
      const progressToken = ctx.mcpReq._meta?.progressToken;
      const context = {
        ...itemContext(ctx.mcpReq.signal),
        progress: async (update: { progress: number; total?: number; message?: string }) => {
          if (progressToken === undefined) return;
          await ctx.mcpReq.notify({
            method: 'notifications/progress',
            params: { progressToken, ...update },
          });
        },
        ...exchangeFor(ctx),
      };
      try {
        const needed = await tool.ask?.(args, context);
        if (needed !== undefined) {
          if (era === 'legacy') {
            call?.settle(TOOL_CALL_STATUS.invalid, INPUT_UNAVAILABLE);
            return errorResult(inputUnavailable(`The tool ${tool.name}`));
          }
          // The SDK refuses input the client did not declare it can give (-32021); the edge
          // records the round from the answer.
          return askFor(needed);
        }
        const raw = await tool.run(args, context);
        if (content) {
          const result = TOOL_CONTENT.parse(raw);
          if (result.isError === true) call?.settle(TOOL_CALL_STATUS.error, 'ToolReportedError');
          else call?.settle(TOOL_CALL_STATUS.success);
          return result;
        }
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
        // The audit record names what failed (an AWS error's code), never its message.
        call?.settle(TOOL_CALL_STATUS.error, failureName(error));
        // Internals stay out of the answer: the caller gets the request id to quote (and, in
        // local mode only, why).
        return errorResult(
          failureText(`The tool ${tool.name}`, error, scope.requestId, describeFailure),
        );
      }
    },
  );
}

/** Each zod schema's stand-in whose JSON Schema is computed once per Lambda instance. */
const CACHED = new WeakMap<z.ZodType, z.ZodType>();

/**
 * `schema`, but converted to JSON Schema once per Lambda instance instead of on every request:
 * the server (and so its registered tools) is new per request, and `tools/list` and every
 * `tools/call` would otherwise convert each schema again. Validation is the schema's own (the
 * stand-in inherits everything else from it); only the JSON Schema converter is remembered.
 */
export function cachedJsonSchema<S extends z.ZodType>(schema: S): S {
  const known = CACHED.get(schema);
  if (known !== undefined) return known as S;
  const standard = schema['~standard'] as z.ZodType['~standard'] & {
    jsonSchema?: {
      input(options: { target: string }): Record<string, unknown>;
      output(options: { target: string }): Record<string, unknown>;
    };
  };
  const converter = standard.jsonSchema;
  if (converter === undefined) return schema;
  const memo = new Map<string, Record<string, unknown>>();
  const remembered = (io: 'input' | 'output') => (options: { target: string }) => {
    const key = `${io}:${options.target}`;
    let json = memo.get(key);
    if (json === undefined) {
      json = converter[io](options);
      memo.set(key, json);
    }
    // A copy: a caller mutating what it was given must not change what the next one gets.
    return structuredClone(json);
  };
  const stand = Object.create(schema, {
    '~standard': {
      value: {
        ...standard,
        jsonSchema: { input: remembered('input'), output: remembered('output') },
      },
    },
  }) as S;
  CACHED.set(schema, stand);
  return stand;
}

/** The answer of a round that needs input (the builder refuses an empty one). */
function askFor(needed: InputNeeded) {
  return inputRequired({
    ...(needed.inputRequests === undefined ? {} : { inputRequests: needed.inputRequests }),
    ...(needed.requestState === undefined ? {} : { requestState: needed.requestState }),
  });
}

/**
 * A prompt's argument schema with its completions attached. They run with this caller's
 * context, so they are attached per request; a prompt without completions keeps its schema.
 */
function withCompletions(
  prompt: PromptDefinition<unknown, z.ZodObject>,
  itemContext: (signal: AbortSignal) => ItemContext<unknown>,
): z.ZodObject {
  const completions = Object.entries(prompt.complete ?? {});
  if (completions.length === 0) return prompt.args;
  const shape = { ...prompt.args.shape } as Record<string, z.ZodType>;
  for (const [name, fn] of completions) {
    const field = shape[name];
    if (field === undefined) continue;
    // completable() marks the schema it is given, so each request marks its own copy.
    shape[name] = completable(field.clone(), async (value: unknown) => [
      ...(await fn(String(value ?? ''), itemContext(NEVER_ABORTED))),
    ]) as unknown as z.ZodType;
  }
  return z.object(shape);
}

function registerPrompt(
  server: McpServer,
  prompt: PromptDefinition<unknown, z.ZodObject>,
  { scope, era, itemContext, exchangeFor, describeFailure }: Items,
): void {
  server.registerPrompt(
    prompt.name,
    {
      ...(prompt.title === undefined ? {} : { title: prompt.title }),
      ...(prompt.description === undefined ? {} : { description: prompt.description }),
      argsSchema: withCompletions(prompt, itemContext),
    },
    async (parsed: Record<string, unknown>, ctx: ServerContext) => {
      const call = scope.call;
      call?.ran();
      const args = ruledOr(call, parsed);
      const context = { ...itemContext(ctx.mcpReq.signal), ...exchangeFor(ctx) };
      try {
        const needed = await prompt.ask?.(args, context);
        if (needed !== undefined) {
          if (era === 'legacy') {
            call?.settle(TOOL_CALL_STATUS.invalid, INPUT_UNAVAILABLE);
            throw new ProtocolError(
              ProtocolErrorCode.InvalidRequest,
              inputUnavailable(`The prompt ${prompt.name}`),
            );
          }
          return askFor(needed);
        }
        const result = await prompt.get(args, context);
        call?.settle(TOOL_CALL_STATUS.success);
        return result;
      } catch (error) {
        call?.settle(TOOL_CALL_STATUS.error, failureName(error));
        throw failureError(`The prompt ${prompt.name}`, error, scope.requestId, describeFailure);
      }
    },
  );
}
