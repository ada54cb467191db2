/**
 * The module kit: everything a module's author imports (as `#module-kit`) to add tools,
 * resources and prompts to the server, and nothing the server needs only to run them (that is
 * `module-loader.ts`). A module names the permission each of its items needs, brings its own
 * code and builds what that code needs (clients, tables) once per Lambda instance. The core
 * serves whatever modules a deployment lists (`modules/index.ts`) and knows none of them by
 * name: it filters lists and refuses forbidden requests from the permissions declared here,
 * before any module code runs. Any export added here is API that module authors rely on.
 */
import {
  acceptedContent,
  type ClientCapabilities,
  type ContentBlock,
  type GetPromptResult,
  type InputRequests,
  inputRequired,
  isSpecType,
  type JSONValue,
  type LoggingLevel,
  type ReadResourceResult,
  type ToolAnnotations,
  type Variables,
} from '@modelcontextprotocol/server';
import * as z from 'zod';
import type { Principal } from '../shared/principal';

/** What every item's code receives, besides its own input. */
export interface ItemContext<Deps> {
  /** What the module's `dependencies` built for this Lambda instance. */
  readonly deps: Deps;
  /** Who is calling (already allowed to use this item). */
  readonly principal: Principal;
  /** API Gateway's id of this request: quote it in error messages, never internals. */
  readonly requestId: string;
  readonly now: () => Date;
  /** Aborted when the client goes away. */
  readonly signal: AbortSignal;
}

/** A tool's context: it may report progress, which streams to a client that asked for it. */
export interface ToolContext<Deps> extends ItemContext<Deps> {
  /** Send `notifications/progress` if the caller sent a progress token; a no-op otherwise. */
  progress(update: { progress: number; total?: number; message?: string }): Promise<void>;
}

/**
 * The exchange with the client during one request, beyond the item's input and progress:
 * logging, what the client says it can do, and input asked of it over several rounds
 * (2026-07-28 multi-round-trip requests). The server fills it in for every request; a context
 * built by hand (a unit test) gets inert stand-ins from `moduleKit`'s items.
 */
export interface Exchange {
  /**
   * Send a log message (`notifications/message`; deprecated in 2026-07-28, still served).
   * 2025-11-25: every level unless the client filtered; 2026-07-28: only when the request's
   * `_meta` asked for a log level, at or above it. Never put secrets or record data in it.
   */
  log(level: LoggingLevel, data: unknown): Promise<void>;
  /** What the client declared it can do (2026-07-28, on every request); 2025-11-25: unknown. */
  readonly clientCapabilities: ClientCapabilities | undefined;
  /**
   * The client's answers to the input the item asked for in the previous round (see `ask`),
   * by the keys it gave them; `undefined` in a first round. Untrusted: read them with
   * `acceptedContent(inputResponses, key, schema)`.
   */
  readonly inputResponses: Readonly<Record<string, unknown>> | undefined;
  /**
   * The state the item sealed in the previous round, verified: signed by this server, not
   * expired, sealed for this caller, this item and these arguments, and never used before
   * (a state is spent by the round that reads it: seal a new one for the next). `undefined` in
   * a first round. A state failing any of that never gets here: the request is refused first
   * (-32602).
   */
  requestState<T extends JSONValue = JSONValue>(): T | undefined;
  /** Seal state for the next round (`InputNeeded.requestState`): signed, not encrypted. */
  sealState(state: JSONValue): Promise<string>;
}

/**
 * What an item's `ask` answers when it needs something from the client before it can run
 * (2026-07-28): the requests (build each with `inputRequired.elicit`, `.createMessage`,
 * `.listRoots`), and the state to get back with the answers (`sealState`).
 */
export interface InputNeeded {
  readonly inputRequests?: InputRequests;
  readonly requestState?: string;
}

/** What a tool's code receives through `moduleKit`: its context and the exchange. */
export type ToolRunContext<Deps> = ToolContext<Deps> & Exchange;
/** What a prompt's code receives through `moduleKit`: its context and the exchange. */
export type PromptGetContext<Deps> = ItemContext<Deps> & Exchange;

export interface ToolDefinition<Deps, In extends z.ZodObject, Out extends z.ZodObject> {
  readonly name: string;
  readonly title: string;
  readonly description: string;
  /** The permission a caller needs to see and call it. */
  readonly permission: string;
  readonly annotations?: ToolAnnotations;
  /**
   * Whether each call needs the approval of the person who made it, given in a browser on the
   * approval page (`lambda/mcp/approvals.ts`): the call is answered with the page's URL, and
   * runs once the person has approved exactly it. Default: whether the tool may destroy, by
   * MCP's annotation defaults: true unless `readOnlyHint: true` or `destructiveHint: false`
   * (a tool written without annotations may destroy). A deployment may switch it off per tool
   * (`-c approvalOff=<tool>,...`).
   */
  readonly approval?: boolean;
  readonly input: In;
  /** The structured result, or {@link TOOL_CONTENT} for a tool that answers with content. */
  readonly output: Out;
  /**
   * Before `run`, each round: the input the tool still needs from the client, or `undefined`
   * when it has what it needs (then `run` runs, the answers in its context). 2026-07-28 only:
   * a 2025-11-25 client cannot be asked (this server keeps no stream open to it), so it is
   * told at once that the tool needs a 2026-07-28 client.
   */
  ask?(input: z.output<In>, context: ToolContext<Deps>): Promise<InputNeeded | undefined>;
  run(input: z.output<In>, context: ToolContext<Deps>): Promise<z.input<Out>>;
  /** The text content that accompanies the structured result. */
  summarize(output: z.output<Out>): string;
}

/** A tool as its module writes it (`moduleKit().tool`): its code gets the exchange too. */
export interface ToolSpec<Deps, In extends z.ZodObject, Out extends z.ZodObject>
  extends Omit<ToolDefinition<Deps, In, Out>, 'ask' | 'run'> {
  ask?(input: z.output<In>, context: ToolRunContext<Deps>): Promise<InputNeeded | undefined>;
  run(input: z.output<In>, context: ToolRunContext<Deps>): Promise<z.input<Out>>;
}

/** One MCP content block (text, image, audio, resource link, embedded resource), checked. */
const contentBlock = z.custom<ContentBlock>(
  (value) => isSpecType.ContentBlock(value),
  'not an MCP content block',
);

/**
 * The `output` of a tool that answers with MCP content (text, images, audio, embedded
 * resources, in any mix) rather than structured data, `isError` set when the result reports a
 * failure the model should see. Such a tool declares no output schema; the server returns its
 * content as it is.
 */
export const TOOL_CONTENT = z.object({
  content: z.array(contentBlock).min(1),
  isError: z.boolean().optional(),
});
export type ToolContent = z.input<typeof TOOL_CONTENT>;

/** A content tool's text, for where a summary is wanted: its text blocks, others by type. */
function contentSummary(output: z.output<typeof TOOL_CONTENT>): string {
  return output.content
    .map((block) => (block.type === 'text' ? block.text : `[${block.type}]`))
    .join('\n');
}

/** A tool that answers with content (`moduleKit().contentTool`), as its module writes it. */
export interface ContentToolSpec<Deps, In extends z.ZodObject>
  extends Omit<ToolSpec<Deps, In, typeof TOOL_CONTENT>, 'output' | 'summarize' | 'run'> {
  run(input: z.output<In>, context: ToolRunContext<Deps>): Promise<ToolContent>;
}

/** What reading a resource gives: text or base64 bytes, with a MIME type. */
export type ResourceContent =
  | { readonly text: string; readonly mimeType?: string }
  | { readonly blob: string; readonly mimeType?: string };

export interface ResourceDefinition<Deps> {
  /** A short unique name: the item's name in the policy table and the audit log. */
  readonly name: string;
  readonly uri: string;
  readonly title?: string;
  readonly description?: string;
  readonly mimeType?: string;
  readonly permission: string;
  /**
   * Clients may subscribe to it (2025-11-25 `resources/subscribe`). The subscription is
   * acknowledged, but a stateless server holds no stream open between requests, so it never
   * sends `notifications/resources/updated`: declare it only for a resource that does not
   * change under a subscriber, or whose clients re-read it anyway.
   */
  readonly subscribable?: boolean;
  read(context: ItemContext<Deps>): Promise<ResourceContent>;
}

export interface ResourceTemplateDefinition<Deps> {
  readonly name: string;
  /** RFC 6570, e.g. `customers://segments/{segment}/summary`. */
  readonly uriTemplate: string;
  readonly title?: string;
  readonly description?: string;
  readonly mimeType?: string;
  readonly permission: string;
  /** The concrete resources of the template worth listing, if any. */
  list?(
    context: ItemContext<Deps>,
  ): Promise<readonly { uri: string; name: string; title?: string }[]>;
  /** Completions for a template variable, by variable name. */
  readonly complete?: Readonly<
    Record<string, (value: string, context: ItemContext<Deps>) => Promise<readonly string[]>>
  >;
  read(uri: URL, variables: Variables, context: ItemContext<Deps>): Promise<ResourceContent>;
}

export interface PromptDefinition<Deps, Args extends z.ZodObject> {
  readonly name: string;
  readonly title?: string;
  readonly description?: string;
  readonly permission: string;
  /** String arguments: prompts take strings. */
  readonly args: Args;
  /** Completions for an argument, by argument name. */
  readonly complete?: Readonly<
    Record<string, (value: string, context: ItemContext<Deps>) => Promise<readonly string[]>>
  >;
  /** Before `get`, each round: the input the prompt still needs (as a tool's `ask`). */
  ask?(args: z.output<Args>, context: ItemContext<Deps>): Promise<InputNeeded | undefined>;
  get(args: z.output<Args>, context: ItemContext<Deps>): Promise<GetPromptResult>;
}

/** A prompt as its module writes it (`moduleKit().prompt`): its code gets the exchange too. */
export interface PromptSpec<Deps, Args extends z.ZodObject>
  extends Omit<PromptDefinition<Deps, Args>, 'ask' | 'get'> {
  ask?(args: z.output<Args>, context: PromptGetContext<Deps>): Promise<InputNeeded | undefined>;
  get(args: z.output<Args>, context: PromptGetContext<Deps>): Promise<GetPromptResult>;
}

export interface McpModule<Deps = unknown> {
  /** Unique, kebab-case: also the key of the module's AWS access in `modules/infra.ts`. */
  readonly name: string;
  /** The permissions its items use, each with a line saying what it lets a caller do. */
  readonly permissions: Readonly<Record<string, string>>;
  /**
   * Built once per Lambda instance (cold start) from the environment its infrastructure set,
   * e.g. a DynamoDB client and a table name. Throw to stop a misconfigured function starting.
   */
  dependencies(env: Readonly<Record<string, string | undefined>>): Deps;
  readonly tools?: readonly ToolDefinition<Deps, z.ZodObject, z.ZodObject>[];
  readonly resources?: readonly ResourceDefinition<Deps>[];
  readonly resourceTemplates?: readonly ResourceTemplateDefinition<Deps>[];
  readonly prompts?: readonly PromptDefinition<Deps, z.ZodObject>[];
  /** Server instructions this module adds (one paragraph). */
  readonly instructions?: string;
  /**
   * Argument-level rules, in Cedar (`docs/rules.md`): `forbid` and `permit` policies, each with
   * an `@id`, over the module's actions (`Mcp::Action::"tool:<name>"`, `"resource:<name>"`,
   * `"prompt:<name>"`, `"completion:prompt:<name>"`…) with the item's arguments as
   * `context.input`. Validated against the items' own schemas by `cdk synth` and the tests; in
   * the function, judged after the roles allow a request and before any item code runs, for the
   * items a rule names (the others never load Cedar).
   */
  readonly rules?: string;
  /**
   * Local mode (`npm run dev`, the tests): put sample data into what the module's
   * infrastructure created. The local emulator creates the tables from the synthesized
   * template and calls this with the environment the template gives the MCP function (so the
   * table names are the ones `dependencies` reads) before the first request.
   */
  seed?(env: Readonly<Record<string, string | undefined>>, standIns: LocalStandIns): Promise<void>;
  /**
   * In-process uses outside the emulator (the benchmark, unit tests): build `Deps` against the
   * embedded stand-ins, creating and seeding what the module's infrastructure would have.
   */
  local?(standIns: LocalStandIns): Promise<Deps>;
}

/** What local mode runs in place of AWS services. */
export interface LocalStandIns {
  /** An embedded DynamoDB (dynalite) on loopback; any credentials do. */
  readonly dynamodbEndpoint: string;
  /**
   * A DynamoDB client configuration for it, endpoint, region and dummy credentials included:
   * `new DynamoDBClient(standIns.dynamodb)`. (Local mode's own process has no AWS settings,
   * and a client without them would look for some.)
   */
  readonly dynamodb: LocalClientConfig;
}

/** Where an AWS SDK client reaches a local stand-in: spread it into the client's config. */
export interface LocalClientConfig {
  readonly endpoint: string;
  readonly region: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

/** What a context built outside the server (a unit test) has for the exchange: nothing. */
const NO_EXCHANGE: Exchange = {
  log: async () => undefined,
  clientCapabilities: undefined,
  inputResponses: undefined,
  requestState: () => undefined,
  sealState: async () => {
    throw new Error('No request state outside a request the server serves');
  },
};

/** The context with the exchange: the server's, or the inert one for a hand-built context. */
function withExchange<C extends object>(context: C): C & Exchange {
  return 'sealState' in context ? (context as C & Exchange) : { ...NO_EXCHANGE, ...context };
}

/**
 * Typed helpers for one module's items, all sharing its `Deps`:
 *
 *     const define = moduleKit<MyDeps>();
 *     export const hello = define.tool({ name: 'hello', permission: 'say_hello', ... });
 *     export const myModule = define.module({ name: 'my-module', tools: [hello], ... });
 */
export function moduleKit<Deps>() {
  /** A tool's code, its context given the exchange whoever calls it. */
  const tool = <In extends z.ZodObject, Out extends z.ZodObject>(
    spec: ToolSpec<Deps, In, Out>,
  ): ToolDefinition<Deps, In, Out> => {
    const { ask } = spec;
    return {
      ...spec,
      ...(ask === undefined
        ? {}
        : { ask: (input, context) => ask.call(spec, input, withExchange(context)) }),
      run: (input, context) => spec.run(input, withExchange(context)),
    };
  };
  return {
    /** A tool with a structured result, its input and output types linked to its code. */
    tool<In extends z.ZodObject, Out extends z.ZodObject>(
      definition: ToolSpec<Deps, In, Out>,
    ): ToolDefinition<Deps, z.ZodObject, z.ZodObject> {
      // Erased for the module's list; the server validates input and output at run time.
      return tool(definition) as unknown as ToolDefinition<Deps, z.ZodObject, z.ZodObject>;
    },
    /**
     * A tool that answers with MCP content (text, images, audio, embedded resources; `isError`
     * for a failure the model should see) instead of a structured result and its summary.
     */
    contentTool<In extends z.ZodObject>(
      definition: ContentToolSpec<Deps, In>,
    ): ToolDefinition<Deps, z.ZodObject, z.ZodObject> {
      return tool<In, typeof TOOL_CONTENT>({
        ...definition,
        output: TOOL_CONTENT,
        summarize: contentSummary,
      }) as unknown as ToolDefinition<Deps, z.ZodObject, z.ZodObject>;
    },
    resource(definition: ResourceDefinition<Deps>): ResourceDefinition<Deps> {
      return definition;
    },
    resourceTemplate(
      definition: ResourceTemplateDefinition<Deps>,
    ): ResourceTemplateDefinition<Deps> {
      return definition;
    },
    /** A prompt, its argument types linked to its code. */
    prompt<Args extends z.ZodObject>(
      definition: PromptSpec<Deps, Args>,
    ): PromptDefinition<Deps, z.ZodObject> {
      const { ask } = definition;
      const prompt: PromptDefinition<Deps, Args> = {
        ...definition,
        ...(ask === undefined
          ? {}
          : { ask: (args, context) => ask.call(definition, args, withExchange(context)) }),
        get: (args, context) => definition.get(args, withExchange(context)),
      };
      return prompt as unknown as PromptDefinition<Deps, z.ZodObject>;
    },
    /** The module, its `Deps` erased for the list of modules (its items were typed above). */
    module<const Name extends string>(
      module: McpModule<Deps> & { readonly name: Name },
    ): McpModule & { readonly name: Name } {
      return module as unknown as McpModule & { readonly name: Name };
    },
  };
}

/** A bad argument its schema could not catch (e.g. a forged cursor): reported as invalid. */
export class ToolInputError extends Error {
  override readonly name = 'ToolInputError';
}

export type { ReadResourceResult };
/** The SDK's builders of input requests and its reader of accepted answers, for `ask`. */
export { acceptedContent, inputRequired };
