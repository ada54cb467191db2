/**
 * What a tool is: a name from the policy table, zod schemas for input and output, and a run
 * function. Tools never check permissions themselves: the server does, from the policy table,
 * before `run` is called.
 */
import type { ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import type { z } from 'zod';
import type { ToolName } from '../../shared/policy';
import type { Principal } from '../../shared/principal';
import type { RecordStore } from '../store/customer-record';

export interface ToolContext {
  readonly store: RecordStore;
  readonly principal: Principal;
  readonly now: () => Date;
}

export interface ToolDefinition<
  In extends z.ZodObject = z.ZodObject,
  Out extends z.ZodObject = z.ZodObject,
> {
  readonly name: ToolName;
  readonly title: string;
  readonly description: string;
  readonly annotations: ToolAnnotations;
  readonly input: In;
  readonly output: Out;
  run(input: z.output<In>, context: ToolContext): Promise<z.input<Out>>;
  /** The text content that accompanies the structured result. */
  summarize(output: z.output<Out>): string;
}

/** A bad argument the schema could not catch (e.g. a forged cursor): reported as invalid. */
export class ToolInputError extends Error {
  override readonly name = 'ToolInputError';
}

/** Define a tool, keeping its input and output types linked. */
export function defineTool<In extends z.ZodObject, Out extends z.ZodObject>(
  definition: ToolDefinition<In, Out>,
): ToolDefinition {
  // Erase the type parameters for the registry; the server re-validates both ends at run time.
  return definition as unknown as ToolDefinition;
}
