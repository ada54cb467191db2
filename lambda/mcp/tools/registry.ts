/**
 * The tool registry, checked against the policy table at load time: a tool without a policy
 * entry, or a policy entry without a tool, stops the function from starting.
 */
import * as z from 'zod';
import { TOOL_NAMES, type ToolName } from '../../shared/policy';
import { deleteRecord, getRecord, putRecord, queryCustomerData, runReport } from './customer-tools';
import type { ToolDefinition } from './tool';

/** A tool with its JSON Schemas computed once, at cold start. */
export interface RegisteredTool {
  readonly definition: ToolDefinition;
  readonly inputJsonSchema: Record<string, unknown>;
  readonly outputJsonSchema: Record<string, unknown>;
}

export type ToolRegistry = ReadonlyMap<ToolName, RegisteredTool>;

export class RegistryError extends Error {
  override readonly name = 'RegistryError';
}

/** Draft-07, as the MCP SDK's own converter and its client-side validator expect. */
function jsonSchema(schema: z.ZodObject, io: 'input' | 'output'): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { target: 'draft-7', io });
  return rest;
}

export function createRegistry(tools: readonly ToolDefinition[]): ToolRegistry {
  const registry = new Map<ToolName, RegisteredTool>();
  for (const definition of tools) {
    if (registry.has(definition.name))
      throw new RegistryError(`Tool ${definition.name} is registered twice`);
    registry.set(definition.name, {
      definition,
      inputJsonSchema: jsonSchema(definition.input, 'input'),
      outputJsonSchema: jsonSchema(definition.output, 'output'),
    });
  }
  const missing = TOOL_NAMES.filter((name) => !registry.has(name));
  if (missing.length > 0) {
    throw new RegistryError(
      `The policy table names tools with no implementation: ${missing.join(', ')}`,
    );
  }
  return registry;
}

export const CUSTOMER_TOOLS: readonly ToolDefinition[] = [
  getRecord,
  queryCustomerData,
  putRecord,
  deleteRecord,
  runReport,
];
