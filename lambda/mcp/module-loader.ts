/**
 * The runtime side of modules: what the server, the stack and the tools read of the modules a
 * deployment lists, and how their dependencies are built once per Lambda instance. Module
 * authors never import this file: what they write against is the module kit
 * (`module-kit.ts`, imported as `#module-kit`).
 */
import type { ToolAnnotations } from '@modelcontextprotocol/server';
import type * as z from 'zod';
import { type LocalStandIns, type McpModule, TOOL_CONTENT } from './module-kit';

/**
 * May the tool destroy? MCP's annotation defaults say so (`readOnlyHint` false, `destructiveHint`
 * true: https://modelcontextprotocol.io/specification/2025-11-25/schema#toolannotations), so
 * only `readOnlyHint: true` or `destructiveHint: false` makes a tool harmless: a tool written
 * without annotations is destructive. Approvals and quotas both read this one answer.
 */
export function isDestructive(tool: { readonly annotations?: ToolAnnotations }): boolean {
  return tool.annotations?.readOnlyHint !== true && tool.annotations?.destructiveHint !== false;
}

/**
 * Does the module declare that each call of `tool` needs a person's approval? Its `approval`, or
 * else whether it may destroy ({@link isDestructive}).
 */
export function declaresApproval(tool: {
  readonly approval?: boolean;
  readonly annotations?: ToolAnnotations;
}): boolean {
  return tool.approval ?? isDestructive(tool);
}

/** The tools the modules do not declare harmless ({@link isDestructive}). */
export function destructiveToolNames(
  modules: readonly {
    readonly tools?: readonly { name: string; annotations?: ToolAnnotations }[];
  }[],
): Set<string> {
  const names = new Set<string>();
  for (const module of modules) {
    for (const tool of module.tools ?? []) {
      if (isDestructive(tool)) names.add(tool.name);
    }
  }
  return names;
}

/** Does the tool answer with content (`moduleKit().contentTool`) rather than structured data? */
export function isContentTool(tool: { readonly output: z.ZodObject }): boolean {
  return tool.output === TOOL_CONTENT;
}

/** A module with what its `dependencies` (or `local`) built: what the server serves. */
export interface LoadedModule<Deps = unknown> {
  readonly module: McpModule<Deps>;
  readonly deps: Deps;
}

/**
 * The stand-ins of local mode, for a module's `seed` and `local` hooks: an embedded DynamoDB
 * at `dynamodbEndpoint`, which takes any credentials and any region.
 */
export function localStandIns(dynamodbEndpoint: string): LocalStandIns {
  return {
    dynamodbEndpoint,
    dynamodb: {
      endpoint: dynamodbEndpoint,
      region: 'us-east-1',
      // Fixed dummies: the embedded DynamoDB ignores them, and a client given none would look.
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    },
  };
}

/**
 * In-process harnesses that run without a synthesized template (the benchmark): each module
 * against the embedded stand-ins (its `local` hook creates and seeds its tables), or from the
 * environment when it has no such hook.
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
