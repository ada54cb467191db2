/**
 * How a module says what AWS access it needs: a hook the stack calls once, with the stack as
 * scope and the MCP function to grant to, returning the environment variables the module's
 * `dependencies` reads (a table's name, a bucket's). The core constructs know no module.
 */
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';

export interface ModuleInfraContext {
  /** Where the module's resources go (the stack): construct ids are the module's to keep stable. */
  readonly scope: Construct;
  /** The MCP server function: grant it exactly what the module's code calls. */
  readonly mcpFunction: lambda.IFunction;
}

/** A module's AWS access; `null` for a module that needs none. */
export type ModuleInfra =
  | ((context: ModuleInfraContext) => Readonly<Record<string, string>>)
  | null;

/** One entry per listed module, by name: the compiler refuses a module left out, or one too many. */
export type ModuleInfraMap<Modules extends readonly { readonly name: string }[]> = {
  readonly [Name in Modules[number]['name']]: ModuleInfra;
};
