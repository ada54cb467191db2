/**
 * What a module is: the unit a team writes to add tools, resources and prompts to the server.
 * A module names the permission each of its items needs, brings its own code and builds what
 * that code needs (clients, tables) once per Lambda instance. The core serves whatever modules
 * a deployment lists (`modules/index.ts`) and knows none of them by name: it filters lists and
 * refuses forbidden requests from the permissions declared here, before any module code runs.
 */
import type {
  GetPromptResult,
  ReadResourceResult,
  ToolAnnotations,
  Variables,
} from '@modelcontextprotocol/server';
import type { z } from 'zod';
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

export interface ToolDefinition<Deps, In extends z.ZodObject, Out extends z.ZodObject> {
  readonly name: string;
  readonly title: string;
  readonly description: string;
  /** The permission a caller needs to see and call it. */
  readonly permission: string;
  readonly annotations?: ToolAnnotations;
  readonly input: In;
  readonly output: Out;
  run(input: z.output<In>, context: ToolContext<Deps>): Promise<z.input<Out>>;
  /** The text content that accompanies the structured result. */
  summarize(output: z.output<Out>): string;
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
  list?(context: ItemContext<Deps>): Promise<readonly { uri: string; name: string }[]>;
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
  get(args: z.output<Args>, context: ItemContext<Deps>): Promise<GetPromptResult>;
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
   * Local mode (`npm run dev`, the tests): build `Deps` against the embedded stand-ins instead,
   * creating and seeding whatever the module's infrastructure would have created.
   */
  local?(standIns: LocalStandIns): Promise<Deps>;
}

/** What local mode runs in place of AWS services. */
export interface LocalStandIns {
  /** An embedded DynamoDB (dynalite) on loopback; any credentials do. */
  readonly dynamodbEndpoint: string;
}

/** A module with what its `dependencies` (or `local`) built: what the server serves. */
export interface LoadedModule<Deps = unknown> {
  readonly module: McpModule<Deps>;
  readonly deps: Deps;
}

/**
 * Local mode: each module against the embedded stand-ins (its `local` hook creates and seeds
 * its tables), or from the environment when it has no such hook.
 */
export async function loadLocalModules(
  modules: readonly McpModule[],
  standIns: LocalStandIns,
  env: Readonly<Record<string, string | undefined>>,
): Promise<LoadedModule[]> {
  const loaded: LoadedModule[] = [];
  for (const module of modules) {
    const deps =
      module.local === undefined ? module.dependencies(env) : await module.local(standIns);
    loaded.push({ module, deps });
  }
  return loaded;
}

/** Build every module's dependencies from the environment: once, at cold start. */
export function loadModules(
  modules: readonly McpModule[],
  env: Readonly<Record<string, string | undefined>>,
): LoadedModule[] {
  return modules.map((module) => ({ module, deps: module.dependencies(env) }));
}

/**
 * Typed helpers for one module's items, all sharing its `Deps`:
 *
 *     const define = moduleKit<MyDeps>();
 *     export const hello = define.tool({ name: 'hello', permission: 'say_hello', ... });
 *     export const myModule = define.module({ name: 'my-module', tools: [hello], ... });
 */
export function moduleKit<Deps>() {
  return {
    /** A tool, its input and output types linked to its code. */
    tool<In extends z.ZodObject, Out extends z.ZodObject>(
      definition: ToolDefinition<Deps, In, Out>,
    ): ToolDefinition<Deps, z.ZodObject, z.ZodObject> {
      // Erased for the module's list; the server validates input and output at run time.
      return definition as unknown as ToolDefinition<Deps, z.ZodObject, z.ZodObject>;
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
      definition: PromptDefinition<Deps, Args>,
    ): PromptDefinition<Deps, z.ZodObject> {
      return definition as unknown as PromptDefinition<Deps, z.ZodObject>;
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
