/**
 * The Cedar schema Amazon Bedrock AgentCore Policy validates a gateway's policies against,
 * written from its documentation for the tools of our modules, so that what
 * `npm run policy -- export --agentcore` writes can be validated here, offline:
 *
 * - "Schema constraints" (docs.aws.amazon.com/bedrock-agentcore/latest/devguide/
 *   policy-schema-constraints.html): principal `AgentCore::OAuthUser` with an `id` attribute
 *   (the JWT `sub`) and tags for the OAuth claims, no custom attributes; resource
 *   `AgentCore::Gateway`; each tool an action `AgentCore::Action::"<Target>___<tool>"` under
 *   `CallTool` → `Mcp`; `context.input` the only context, typed from the tool's input schema
 *   (string → String, integer → Long, boolean → Bool, number → Decimal, object → Record,
 *   array → Set); nothing outside the `AgentCore` namespace.
 * - "Principal-scoped policies" (…/example-policies-principal.html): every JWT claim becomes a
 *   *string* tag, an array or object claim its JSON text, a null claim no tag.
 * - "Action and resource scoped policies" (…/example-policies-action-resource.html): a policy
 *   naming actions must name the gateway (`resource == AgentCore::Gateway::"<arn>"`), one
 *   leaving the action open must test the type (`resource is AgentCore::Gateway`); an open
 *   resource is refused. Cedar's validator cannot say that; {@link resourceScopeProblem} does.
 *
 * AgentCore builds `context.input` from the tool's *input* schema as `tools/list` publishes
 * it: an argument with a default is optional there, and absent when the caller leaves it out.
 */
import * as z from 'zod';
import type { McpModule } from '../lambda/mcp/module-kit';
import { type CedarRecord, cedarTypeOf } from '../lambda/mcp/rules-schema';

export const AGENTCORE_NAMESPACE = 'AgentCore';
export const OAUTH_USER_TYPE = `${AGENTCORE_NAMESPACE}::OAuthUser`;
export const GATEWAY_TYPE = `${AGENTCORE_NAMESPACE}::Gateway`;
export const AGENTCORE_ACTION_TYPE = `${AGENTCORE_NAMESPACE}::Action`;
/** The action groups every tool action belongs to. */
export const CALL_TOOL_ACTION = 'CallTool';
export const MCP_ACTION = 'Mcp';

/** AgentCore Policy's limit on one policy ("Limitations": 10 KB per individual policy). */
export const AGENTCORE_MAX_POLICY_BYTES = 10 * 1024;

/** What AgentCore names a gateway target: letters, digits and single hyphens. */
export const TARGET_NAME = /^([0-9a-zA-Z][-]?){1,100}$/;

/** `<Target>___<tool>`: three underscores, as the gateway names a target's tools. */
export function agentCoreActionId(target: string, tool: string): string {
  return `${target}___${tool}`;
}

/** The JSON Schema `tools/list` publishes for a zod input schema: what the caller may send. */
export function publishedInputSchema(schema: z.ZodType): unknown {
  return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
}

/** `context.input` of a tool as AgentCore types it, from its published input schema. */
export function agentCoreInputType(schema: z.ZodType): CedarRecord {
  const type = cedarTypeOf(publishedInputSchema(schema));
  return type?.type === 'Record' ? type : { type: 'Record', attributes: {} };
}

/** The tools of the modules, each with the AgentCore action it becomes on `target`. */
export function agentCoreTools(modules: readonly McpModule[], target: string) {
  return modules.flatMap((module) =>
    (module.tools ?? []).map((tool) => ({
      module: module.name,
      tool: tool.name,
      action: agentCoreActionId(target, tool.name),
      input: tool.input as z.ZodType,
    })),
  );
}

/** AgentCore Policy's Cedar schema (JSON format) for the modules' tools behind `target`. */
export function agentCoreSchema(modules: readonly McpModule[], target: string) {
  const actions: Record<string, unknown> = {
    [MCP_ACTION]: {},
    [CALL_TOOL_ACTION]: { memberOf: [{ id: MCP_ACTION }] },
  };
  for (const { action, input } of agentCoreTools(modules, target)) {
    actions[action] = {
      memberOf: [{ id: CALL_TOOL_ACTION }],
      appliesTo: {
        principalTypes: ['OAuthUser'],
        resourceTypes: ['Gateway'],
        context: {
          type: 'Record',
          attributes: { input: { ...agentCoreInputType(input), required: true } },
        },
      },
    };
  }
  return {
    [AGENTCORE_NAMESPACE]: {
      entityTypes: {
        OAuthUser: {
          shape: {
            type: 'Record',
            attributes: { id: { type: 'String', required: true } },
          },
          tags: { type: 'String' },
        },
        Gateway: {},
      },
      actions,
    },
  };
}

/** Cedar's JSON form of a scope constraint, as far as the resource check needs it. */
interface ScopeJson {
  readonly op: string;
  readonly entity?: { readonly type?: string };
  readonly entity_type?: string;
}

/**
 * Why AgentCore would refuse a policy's resource scope for its action scope, or undefined:
 * named actions need the gateway itself, an open action its type; never an open resource.
 */
export function resourceScopeProblem(policy: {
  readonly action: ScopeJson;
  readonly resource: ScopeJson;
}): string | undefined {
  const { action, resource } = policy;
  if (resource.op === 'All')
    return 'the resource is left open (AgentCore refuses a wildcard resource)';
  if (action.op === 'All') {
    return resource.op === 'is' && resource.entity_type === GATEWAY_TYPE
      ? undefined
      : `a policy leaving the action open must say "resource is ${GATEWAY_TYPE}"`;
  }
  return resource.op === '==' && resource.entity?.type === GATEWAY_TYPE
    ? undefined
    : `a policy naming actions must name the gateway: "resource == ${GATEWAY_TYPE}::\\"<arn>\\""`;
}
