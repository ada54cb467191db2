/**
 * What the Cedar rules see, derived from the modules: one action per tool, resource (fixed or
 * template), prompt and completion target, each with its `context.input` typed from the item's
 * own input schema (zod → JSON Schema → Cedar), the caller as an `Mcp::User` entity, and the
 * time as `context.system.now`. The same description types the schema `cdk synth` validates
 * the rules against and builds the values the MCP function hands Cedar, so the two cannot
 * drift. Pure: no Cedar here.
 *
 * Types follow AgentCore Policy's mapping from JSON Schema: string → String, integer → Long,
 * boolean → Bool, number → decimal; arrays become Sets and objects Records. What JSON Schema
 * cannot say (unions, nullable values, maps, transforms) is left out of `context.input`, so a
 * rule naming it does not validate.
 */
import { UriTemplate } from '@modelcontextprotocol/server';
import * as z from 'zod';
import type { CallKind } from '../shared/audit';
import type { PolicyItem } from '../shared/policy';
import type { Principal } from '../shared/principal';
import type { McpModule } from './module-kit';
import { ACTION_TYPE, RULES_NAMESPACE } from './rules-text';

/** `Mcp::User`: the caller. Its id is the principal id (Cognito `sub`, or the key's name). */
export const USER_TYPE = `${RULES_NAMESPACE}::User`;
/** `Mcp::Server`: the one resource every action applies to. */
export const SERVER_TYPE = `${RULES_NAMESPACE}::Server`;
/** The id of the one `Mcp::Server` entity. */
export const SERVER_ID = 'mcp';

/** A Cedar type, in Cedar's JSON schema format. */
export type CedarType =
  | { readonly type: 'String' }
  | { readonly type: 'Long' }
  | { readonly type: 'Boolean' }
  | { readonly type: 'Extension'; readonly name: 'decimal' | 'datetime' }
  | { readonly type: 'Set'; readonly element: CedarType }
  | { readonly type: 'Record'; readonly attributes: Readonly<Record<string, CedarAttribute>> };
export type CedarAttribute = CedarType & { readonly required?: boolean };
export type CedarRecord = Extract<CedarType, { type: 'Record' }>;

/** A value in Cedar's JSON format (extension values spelled out with `__extn`). */
export type CedarValue =
  | string
  | number
  | boolean
  | { readonly __extn: { readonly fn: string; readonly arg: string } }
  | readonly CedarValue[]
  | { readonly [key: string]: CedarValue };

const STRING = { type: 'String' } as const;
const LONG = { type: 'Long' } as const;
const BOOLEAN = { type: 'Boolean' } as const;
const DECIMAL = { type: 'Extension', name: 'decimal' } as const;
const DATETIME = { type: 'Extension', name: 'datetime' } as const;
const STRINGS = { type: 'Set', element: STRING } as const;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** JSON Schema keywords that make a schema a union or a reference: not a Cedar type. */
const UNTYPED = ['anyOf', 'oneOf', 'allOf', 'not', '$ref', 'if', 'prefixItems'];

/**
 * The Cedar type of a JSON Schema, or `undefined` when Cedar has none for it (a union, a
 * nullable value, a map, a tuple, anything unrepresentable).
 */
export function cedarTypeOf(schema: unknown): CedarType | undefined {
  if (!isObject(schema) || UNTYPED.some((keyword) => keyword in schema)) return undefined;
  switch (schema.type) {
    case 'string':
      return STRING;
    case 'integer':
      return LONG;
    case 'number':
      return DECIMAL;
    case 'boolean':
      return BOOLEAN;
    case 'array': {
      const element = cedarTypeOf(schema.items);
      return element === undefined ? undefined : { type: 'Set', element };
    }
    case 'object': {
      if (!isObject(schema.properties)) {
        // A map (`z.record`): Cedar records have fixed attributes.
        return schema.additionalProperties === false
          ? { type: 'Record', attributes: {} }
          : undefined;
      }
      const required = new Set(Array.isArray(schema.required) ? schema.required : []);
      const attributes: Record<string, CedarAttribute> = {};
      for (const [name, property] of Object.entries(schema.properties)) {
        const type = cedarTypeOf(property);
        if (type !== undefined) attributes[name] = { ...type, required: required.has(name) };
      }
      return { type: 'Record', attributes };
    }
    default:
      return undefined;
  }
}

/** JSON Schemas converted once per schema object (a Lambda instance converts each once). */
const CONVERTED = new WeakMap<z.ZodType, CedarRecord>();

/** The JSON Schema of what a zod schema outputs: what the item's code receives. */
export function outputJsonSchema(schema: z.ZodType): unknown {
  return z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' });
}

/**
 * The Cedar record type of what a zod object schema *outputs*: what the item's code receives,
 * defaults applied. A rule sees the arguments the item will run with, so an argument left out
 * for its default is the default, never "absent".
 */
export function inputTypeOf(schema: z.ZodType): CedarRecord {
  const known = CONVERTED.get(schema);
  if (known !== undefined) return known;
  const type = cedarTypeOf(outputJsonSchema(schema));
  const record: CedarRecord = type?.type === 'Record' ? type : { type: 'Record', attributes: {} };
  CONVERTED.set(schema, record);
  return record;
}

/** A value Cedar cannot hold as its type says (a decimal with five places, a huge number). */
export class UnrepresentableInputError extends Error {
  override readonly name = 'UnrepresentableInputError';
}

/** Cedar decimals: four places, within a signed 64-bit integer of ten-thousandths. */
const DECIMAL_LIMIT = 922_337_203_685_477;

function decimalOf(value: number, path: string): CedarValue {
  if (!Number.isFinite(value) || Math.abs(value) >= DECIMAL_LIMIT) {
    throw new UnrepresentableInputError(`${path} is outside Cedar's decimal range`);
  }
  const text = value.toFixed(4);
  // Never rounded: 1000.00001 must not reach a `> 1000` rule as 1000.0000.
  if (Number(text) !== value) {
    throw new UnrepresentableInputError(`${path} has more than four decimal places`);
  }
  return { __extn: { fn: 'decimal', arg: text === '-0.0000' ? '0.0000' : text } };
}

/**
 * `value` as Cedar's JSON for `type`, keeping only the attributes the type has. Throws
 * {@link UnrepresentableInputError} for a value of another shape or one Cedar cannot hold
 * exactly: the caller denies rather than evaluate the rules on something else.
 */
export function toCedarValue(type: CedarType, value: unknown, path = 'input'): CedarValue {
  const wrong = (): never => {
    throw new UnrepresentableInputError(`${path} is not a ${type.type}`);
  };
  switch (type.type) {
    case 'String':
      return typeof value === 'string' ? value : wrong();
    case 'Long':
      return Number.isSafeInteger(value) ? (value as number) : wrong();
    case 'Boolean':
      return typeof value === 'boolean' ? value : wrong();
    case 'Extension':
      if (type.name === 'decimal' && typeof value === 'number') return decimalOf(value, path);
      if (type.name === 'datetime' && value instanceof Date) {
        return { __extn: { fn: 'datetime', arg: value.toISOString() } };
      }
      return wrong();
    case 'Set':
      return Array.isArray(value)
        ? value.map((element, i) => toCedarValue(type.element, element, `${path}[${i}]`))
        : wrong();
    case 'Record': {
      if (!isObject(value)) return wrong();
      const out: Record<string, CedarValue> = {};
      for (const [name, attribute] of Object.entries(type.attributes)) {
        const field = Object.hasOwn(value, name) ? value[name] : undefined;
        if (field === undefined) {
          if (attribute.required === true) {
            throw new UnrepresentableInputError(`${path}.${name} is missing`);
          }
          continue;
        }
        out[name] = toCedarValue(attribute, field, `${path}.${name}`);
      }
      return out;
    }
  }
}

/** What `context.system` holds: the time of the request, as AgentCore Policy gives it. */
export const SYSTEM_TYPE: CedarRecord = {
  type: 'Record',
  attributes: { now: { ...DATETIME, required: true } },
};

/** The caller's attributes. Claims its token carried for the rules are its tags. */
export const USER_SHAPE: CedarRecord = {
  type: 'Record',
  attributes: {
    id: { ...STRING, required: true },
    authMethod: { ...STRING, required: true },
    groups: { ...STRINGS, required: true },
    scopes: { ...STRINGS, required: true },
    keyId: { ...STRING, required: true },
  },
};

/** A completion's input: the argument (or template variable) being completed and its value. */
const COMPLETION_INPUT: CedarRecord = {
  type: 'Record',
  attributes: { argument: { ...STRING, required: true }, value: { ...STRING, required: true } },
};
const completionArgument = z.object({ name: z.string(), value: z.string() });

/** The action of a tool, resource (or template), prompt, or completion of a prompt or template. */
export function actionId(
  kind: CallKind | 'resourceTemplate',
  name: string,
  of?: 'prompt' | 'resource',
): string {
  switch (kind) {
    case 'tool':
    case 'prompt':
    case 'resource':
      return `${kind}:${name}`;
    case 'resourceTemplate':
      return `resource:${name}`;
    case 'completion':
      return `completion:${of ?? 'prompt'}:${name}`;
  }
}

/** The action a request for an item (found by the gate) is judged as. */
export function actionOf(kind: CallKind, item: PolicyItem): string {
  if (kind !== 'completion') return actionId(kind, item.name);
  return actionId('completion', item.name, item.kind === 'prompt' ? 'prompt' : 'resource');
}

/** Parsed input: what the item's code gets (`ok`), or `undefined` when its schema refuses it. */
export type InputParse = { readonly ok: true; readonly input: unknown } | { readonly ok: false };

/** One action: an item of a module, what its input looks like, and how to read it. */
export interface RuleTarget {
  readonly action: string;
  readonly kind: CallKind;
  /** The item's name (a completion's: its prompt's or template's). */
  readonly item: string;
  readonly module: string;
  /** The type of `context.input`. */
  readonly input: () => CedarRecord;
  /**
   * The JSON Schema of what the item's code gets (tools, prompts), for the checks Cedar's
   * types cannot make (an enum's values, a number's bounds). Absent: strings with no such facts.
   */
  readonly jsonSchema?: () => unknown;
  /**
   * The request's arguments as the item's code will get them: parsed with the item's own
   * schema (tools, prompts), the URI template's variables (templates), the completed argument.
   */
  parse(args: unknown): InputParse;
}

/** RFC 6570 expressions: `{name}`, `{+name}`, `{/a,b*}`…; a `*` explodes a list. */
const EXPRESSION = /\{[+#./;?&]?([^}]*)\}/g;

/** The variables of a URI template, each a String (or a Set of them when exploded). */
function templateType(uriTemplate: string): CedarRecord {
  const attributes: Record<string, CedarAttribute> = {};
  for (const [, names] of uriTemplate.matchAll(EXPRESSION)) {
    for (const spec of (names ?? '').split(',')) {
      const name = spec.replace(/:\d+$/, '');
      if (name.endsWith('*')) attributes[name.slice(0, -1)] = { ...STRINGS, required: true };
      else if (name !== '') attributes[name] = { ...STRING, required: true };
    }
  }
  return { type: 'Record', attributes };
}

const zodParse =
  (schema: z.ZodType) =>
  (args: unknown): InputParse => {
    const parsed = schema.safeParse(args ?? {});
    return parsed.success ? { ok: true, input: parsed.data } : { ok: false };
  };

const EMPTY: CedarRecord = { type: 'Record', attributes: {} };

/** Every action the modules' items make, in module order; throws on two with one id. */
export function ruleTargets(modules: readonly McpModule[]): RuleTarget[] {
  const targets: RuleTarget[] = [];
  for (const module of modules) {
    const add = (target: Omit<RuleTarget, 'module'>) =>
      targets.push({ ...target, module: module.name });
    for (const tool of module.tools ?? []) {
      add({
        action: actionId('tool', tool.name),
        kind: 'tool',
        item: tool.name,
        input: () => inputTypeOf(tool.input),
        jsonSchema: () => outputJsonSchema(tool.input),
        parse: zodParse(tool.input),
      });
    }
    for (const resource of module.resources ?? []) {
      add({
        action: actionId('resource', resource.name),
        kind: 'resource',
        item: resource.name,
        input: () => EMPTY,
        parse: () => ({ ok: true, input: {} }),
      });
    }
    for (const template of module.resourceTemplates ?? []) {
      let compiled: UriTemplate | undefined;
      add({
        action: actionId('resourceTemplate', template.name),
        kind: 'resource',
        item: template.name,
        input: () => templateType(template.uriTemplate),
        parse: (args) => {
          const uri = isObject(args) && typeof args.uri === 'string' ? args.uri : undefined;
          compiled ??= new UriTemplate(template.uriTemplate);
          const variables = uri === undefined ? null : compiled.match(uri);
          return variables === null ? { ok: false } : { ok: true, input: variables };
        },
      });
      add({
        action: actionId('completion', template.name, 'resource'),
        kind: 'completion',
        item: template.name,
        input: () => COMPLETION_INPUT,
        parse: completionParse,
      });
    }
    for (const prompt of module.prompts ?? []) {
      add({
        action: actionId('prompt', prompt.name),
        kind: 'prompt',
        item: prompt.name,
        input: () => inputTypeOf(prompt.args),
        jsonSchema: () => outputJsonSchema(prompt.args),
        parse: zodParse(prompt.args),
      });
      add({
        action: actionId('completion', prompt.name, 'prompt'),
        kind: 'completion',
        item: prompt.name,
        input: () => COMPLETION_INPUT,
        parse: completionParse,
      });
    }
  }
  const seen = new Set<string>();
  for (const { action, module } of targets) {
    if (seen.has(action)) {
      throw new Error(
        `Module ${module}: two items are the rules' action ${ACTION_TYPE}::"${action}"`,
      );
    }
    seen.add(action);
  }
  return targets;
}

function completionParse(args: unknown): InputParse {
  const parsed = completionArgument.safeParse(args);
  return parsed.success
    ? { ok: true, input: { argument: parsed.data.name, value: parsed.data.value } }
    : { ok: false };
}

/** The caller as a Cedar entity (JSON format): attributes, and its rule claims as tags. */
export function principalEntity(principal: Principal) {
  return {
    uid: { type: USER_TYPE, id: principal.principalId },
    attrs: {
      id: principal.principalId,
      authMethod: principal.authMethod,
      groups: [...principal.groups],
      scopes: [...principal.scopes],
      keyId: principal.keyId,
    },
    parents: [],
    tags: { ...(principal.claims ?? {}) },
  };
}

/** The request's context: its typed input and the time. */
export function ruleContext(
  input: CedarRecord,
  value: unknown,
  now: Date,
): Record<string, CedarValue> {
  return {
    input: toCedarValue(input, value),
    system: toCedarValue(SYSTEM_TYPE, { now }),
  };
}

/**
 * The Cedar schema (JSON format) of the modules' actions: what `cdk synth` and the tests
 * validate every rule against.
 */
export function rulesSchema(targets: readonly RuleTarget[]) {
  const actions: Record<string, unknown> = {};
  for (const target of targets) {
    actions[target.action] = {
      appliesTo: {
        principalTypes: ['User'],
        resourceTypes: ['Server'],
        context: {
          type: 'Record',
          attributes: {
            input: { ...target.input(), required: true },
            system: { ...SYSTEM_TYPE, required: true },
          },
        },
      },
    };
  }
  return {
    [RULES_NAMESPACE]: {
      entityTypes: {
        User: { shape: USER_SHAPE, tags: STRING },
        Server: {},
      },
      actions,
    },
  };
}
