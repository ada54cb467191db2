/**
 * The modules' argument rules rewritten in Amazon Bedrock AgentCore Policy's names
 * (`npm run policy -- export --agentcore <target>`), so the same rules can run on an AgentCore
 * Gateway that serves these tools as the target `<target>` (see `agentcore-schema.ts` for the
 * documented schema they are validated against):
 *
 * - `Mcp::User` → `AgentCore::OAuthUser` (id = the JWT `sub`); `principal.groups.contains(g)`
 *   → the `cognito:groups` tag (a JSON array's text there) matched with `like "*\"g\"*"`;
 *   `principal.scopes.contains(s)` → the `scope` tag's space-separated tokens; tags as they are.
 * - `Mcp::Action::"tool:<name>"` → `AgentCore::Action::"<target>___<name>"`; the resource the
 *   gateway (`resource == AgentCore::Gateway::"<arn>"`, or `is` for an open action).
 * - `context.input.<arg>` of an argument with a default → `(if context.input has <arg> then
 *   context.input.<arg> else <default>)`: AgentCore sees the arguments as sent, this server
 *   as the tool gets them, and the rule must mean the same on both.
 * - The roles: AgentCore denies by default, so the export carries the role table too, as a
 *   `forbid … unless` per permission (the caller's groups must grant it) and one `permit` for
 *   the tools no permit rule names, which is how this server treats them.
 *
 * What cannot be carried is listed, never dropped silently: rules on resources, prompts and
 * completions (AgentCore Policy governs tools only), and rules reading the time
 * (`context.system`), the key id or the way the caller signed in (AgentCore knows OAuth users
 * and `context.input` only). Pure, given Cedar.
 */
import * as z from 'zod';
import type { McpModule } from '../lambda/mcp/module-kit';
import { cedarString, type ModuleRule, moduleRules, ROLES_POLICY_ID } from '../lambda/mcp/rules';
import { outputJsonSchema, SERVER_TYPE, USER_TYPE } from '../lambda/mcp/rules-schema';
import { ACTION_TYPE, ALL_ACTIONS } from '../lambda/mcp/rules-text';
import type { PolicyTable } from '../lambda/shared/policy';
import {
  AGENTCORE_ACTION_TYPE,
  agentCoreTools,
  GATEWAY_TYPE,
  OAUTH_USER_TYPE,
  publishedInputSchema,
  TARGET_NAME,
} from './agentcore-schema';
import { type CedarTools, cedarTools } from './rules-validation';

/** The gateway ARN written when none is given: replace it before creating the policies. */
export const PLACEHOLDER_GATEWAY_ARN =
  'arn:aws:bedrock-agentcore:REGION:ACCOUNT_ID:gateway/GATEWAY_ID';

export interface AgentCoreExportOptions {
  /** The gateway target serving these tools: its name prefixes each action. */
  readonly target: string;
  /** @default {@link PLACEHOLDER_GATEWAY_ARN} */
  readonly gatewayArn?: string;
  /** The claim carrying the caller's groups. @default 'cognito:groups' */
  readonly groupsClaim?: string;
  /** The claim carrying the token's scopes. @default 'scope' */
  readonly scopeClaim?: string;
  /**
   * The role table, carried as one `forbid … unless` per permission. Without it only the rules
   * are written (and the permit for the tools no permit rule names): every signed-in caller
   * then reaches every tool there. @default not carried
   */
  readonly roles?: PolicyTable;
  readonly cedar?: () => CedarTools;
}

/** One policy of the export, as AgentCore's CreatePolicy takes it. */
export interface ExportedPolicy {
  /** Its `@id`: the rule's own, `roles:<permission>`, or `mcp:roles`. */
  readonly id: string;
  /** Where it comes from: a module's rule, or the role table. */
  readonly from: string;
  readonly text: string;
}

/** Something of the rules that does not exist in AgentCore Policy. */
export interface NotCarried {
  readonly module: string;
  readonly rule: string;
  /** Dropped whole, or only for some of the actions it names. */
  readonly dropped: 'rule' | 'actions';
  readonly reason: string;
}

export interface AgentCoreExport {
  readonly policies: readonly ExportedPolicy[];
  readonly notCarried: readonly NotCarried[];
}

export class AgentCoreExportError extends Error {
  override readonly name = 'AgentCoreExportError';
}

/** A rule uses something AgentCore Policy does not have. */
class Untranslatable extends Error {
  override readonly name = 'Untranslatable';
}

type Json = unknown;
type Expr = Record<string, unknown>;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const value = (v: unknown): Expr => ({ Value: v });
const and = (left: Expr, right: Expr): Expr => ({ '&&': { left, right } });
const or = (left: Expr, right: Expr): Expr => ({ '||': { left, right } });
const principal: Expr = { Var: 'principal' };
const hasTag = (tag: string): Expr => ({ hasTag: { left: principal, right: value(tag) } });
const getTag = (tag: string): Expr => ({ getTag: { left: principal, right: value(tag) } });

/** Cedar's JSON form of `if … then … else …` (its keys are Cedar's, `then` among them). */
function ifThenElse(condition: Expr, whenTrue: Json, whenFalse: Json): Expr {
  return {
    'if-then-else': Object.fromEntries([
      ['if', condition],
      ['then', whenTrue],
      ['else', whenFalse],
    ]),
  };
}

/** A `like` pattern: `*` wildcards around literal text (a literal `*` stays literal). */
function like(left: Expr, ...parts: (string | 'Wildcard')[]): Expr {
  const pattern = parts.map((part) => (part === 'Wildcard' ? part : { Literal: part }));
  return { like: { left, pattern } };
}

/** Printable ASCII without quotes or backslashes: written the same in any JSON encoder. */
const PLAIN = /^[\x20-\x21\x23-\x5b\x5d-\x7e]+$/;

/** What one default-applying argument looks like in each tool a rule names. */
interface ArgumentFacts {
  /** Required in the tool's output (its rules see it) but optional as published: a default. */
  readonly defaulted: boolean;
  /** Optional in the published input schema, with this default. */
  readonly default?: unknown;
  readonly type?: string;
}

const EXPORTABLE_KINDS = new Set(['tool']);

/** The export of the modules' rules (and, when given, the role table) for `target`. */
export function exportToAgentCore(
  modules: readonly McpModule[],
  options: AgentCoreExportOptions,
): AgentCoreExport {
  if (!TARGET_NAME.test(options.target)) {
    throw new AgentCoreExportError(
      `The target name ${JSON.stringify(options.target)} is not one AgentCore accepts: letters, digits and single hyphens, up to 100`,
    );
  }
  const gatewayArn = options.gatewayArn ?? PLACEHOLDER_GATEWAY_ARN;
  const groupsClaim = options.groupsClaim ?? 'cognito:groups';
  const scopeClaim = options.scopeClaim ?? 'scope';
  const gateway = { type: GATEWAY_TYPE, id: gatewayArn };
  const tools = agentCoreTools(modules, options.target);
  const toolByAction = new Map(tools.map((tool) => [`tool:${tool.tool}`, tool]));
  const rules = moduleRules(modules);
  const cedar = (options.cedar ?? cedarTools)();
  const policies: ExportedPolicy[] = [];
  const notCarried: NotCarried[] = [];

  /** The argument facts of `name` in each of these tools. */
  const factsOf = (actions: readonly string[], name: string): ArgumentFacts[] =>
    actions.map((action) => {
      const tool = toolByAction.get(action);
      if (tool === undefined) return { defaulted: false };
      const output = outputJsonSchema(tool.input) as Record<string, unknown>;
      const input = publishedInputSchema(tool.input) as Record<string, unknown>;
      const required = (schema: Record<string, unknown>) =>
        Array.isArray(schema.required) && schema.required.includes(name);
      const property = isObject(input.properties)
        ? (input.properties[name] as Record<string, unknown> | undefined)
        : undefined;
      return {
        defaulted: required(output) && !required(input),
        ...(property !== undefined && 'default' in property ? { default: property.default } : {}),
        ...(typeof property?.type === 'string' ? { type: property.type } : {}),
      };
    });

  /** A default as a Cedar expression of the argument's type. */
  const defaultExpr = (facts: ArgumentFacts, name: string): Expr => {
    const { default: fallback, type } = facts;
    if (type === 'integer' && Number.isSafeInteger(fallback)) return value(fallback);
    if (type === 'number' && typeof fallback === 'number' && Number.isFinite(fallback)) {
      const text = fallback.toFixed(4);
      if (Number(text) !== fallback) {
        throw new Untranslatable(`the default of ${name} has more than four decimal places`);
      }
      return { decimal: [value(text)] };
    }
    if ((type === 'string' && typeof fallback === 'string') || typeof fallback === 'boolean') {
      return value(fallback);
    }
    throw new Untranslatable(`the default of context.input.${name} has no Cedar literal`);
  };

  /** The tool actions of a rule, the ids AgentCore knows them by, and what is left behind. */
  const rewriteExpr = (expr: Json, actions: readonly string[]): Expr => {
    if (!isObject(expr)) throw new Untranslatable('an expression Cedar did not write');
    const [op, payload] = Object.entries(expr)[0] ?? [];
    const child = (e: Json) => rewriteExpr(e, actions);
    const binary = () => {
      const { left, right } = payload as { left: Json; right: Json };
      return { [op as string]: { left: child(left), right: child(right) } };
    };
    switch (op) {
      case 'Value':
        return { Value: rewriteValue(payload, actions) };
      case 'Var':
        return { Var: payload };
      case '.': {
        const { left, attr } = payload as { left: Json; attr: string };
        if (isObject(left) && left.Var === 'context') {
          if (attr === 'input') return expr;
          throw new Untranslatable(
            `it reads context.${attr}: AgentCore Policy gives rules context.input only (no time)`,
          );
        }
        if (isObject(left) && left.Var === 'principal') {
          if (attr === 'id') return expr;
          throw new Untranslatable(
            `it reads principal.${attr}, which AgentCore's OAuthUser does not have (groups and scopes translate only inside contains, containsAny and containsAll)`,
          );
        }
        const input = inputArgument(expr);
        if (input !== undefined) {
          const facts = factsOf(actions, input);
          if (!facts.some((f) => f.defaulted)) return { '.': { left: child(left), attr } };
          const [first] = facts;
          const same = facts.every(
            (f) => f.defaulted && f.default === first?.default && f.type === first?.type,
          );
          if (first === undefined || !same) {
            throw new Untranslatable(
              `context.input.${input} has a default in some of its tools but not the same in all`,
            );
          }
          return ifThenElse(
            { has: { left: { '.': { left: { Var: 'context' }, attr: 'input' } }, attr: input } },
            expr,
            defaultExpr(first, input),
          );
        }
        return { '.': { left: child(left), attr } };
      }
      case 'has': {
        const { left, attr } = payload as { left: Json; attr: string | string[] };
        const path = [attr].flat();
        if (isObject(left) && left.Var === 'principal') {
          throw new Untranslatable(
            'it asks principal for an attribute: AgentCore has tags instead',
          );
        }
        // `context has input.x`, or `context.input has x`: always true for an argument with
        // a default (the tool gets it), whatever the caller sent.
        const argument =
          isObject(left) && left.Var === 'context'
            ? path[0] === 'input'
              ? path[1]
              : (() => {
                  throw new Untranslatable(
                    `it asks context for ${path[0]}: AgentCore has context.input only`,
                  );
                })()
            : inputArgumentOf(left) === 'input'
              ? path[0]
              : undefined;
        const depth = isObject(left) && left.Var === 'context' ? 2 : 1;
        if (argument !== undefined && path.length === depth) {
          const facts = factsOf(actions, argument);
          if (facts.length > 0 && facts.every((f) => f.defaulted)) return value(true);
        }
        return { has: { left: child(left), attr } };
      }
      case 'contains':
      case 'containsAny':
      case 'containsAll': {
        const { left, right } = payload as { left: Json; right: Json };
        const claim = principalList(left);
        if (claim !== undefined) return tagMembership(claim, op, right);
        return binary();
      }
      case 'is': {
        const {
          left,
          entity_type,
          in: within,
        } = payload as {
          left: Json;
          entity_type: string;
          in?: Json;
        };
        if (within !== undefined)
          throw new Untranslatable('it uses "is … in", an entity hierarchy');
        return { is: { left: child(left), entity_type: rewriteType(entity_type) } };
      }
      case 'like': {
        const { left, pattern } = payload as { left: Json; pattern: Json };
        return { like: { left: child(left), pattern } };
      }
      case 'if-then-else': {
        const p = payload as { if: Json; then: Json; else: Json };
        return ifThenElse(child(p.if), child(p.then), child(p.else));
      }
      case 'Set':
        return { Set: (payload as Json[]).map(child) };
      case 'Record':
        return {
          Record: Object.fromEntries(
            Object.entries(payload as Record<string, Json>).map(([k, v]) => [k, child(v)]),
          ),
        };
      case '!':
      case 'neg':
      case 'isEmpty':
        return { [op]: { arg: child((payload as { arg: Json }).arg) } };
      case 'hasTag':
      case 'getTag':
      case '==':
      case '!=':
      case 'in':
      case '<':
      case '<=':
      case '>':
      case '>=':
      case '&&':
      case '||':
      case '+':
      case '-':
      case '*':
        return binary();
      default:
        // Extension functions and methods (decimal, greaterThan, toTime, ip…): arguments only.
        if (typeof op === 'string' && Array.isArray(payload)) return { [op]: payload.map(child) };
        throw new Untranslatable(`it uses ${String(op)}, which this exporter does not know`);
    }
  };

  /** `context.input.<name>` → name. */
  function inputArgument(expr: Json): string | undefined {
    if (!isObject(expr) || !isObject(expr['.'])) return undefined;
    const { left, attr } = expr['.'] as { left: Json; attr: string };
    return inputArgumentOf(left) === 'input' ? attr : undefined;
  }
  /** 'input' when `expr` is `context.input`. */
  function inputArgumentOf(expr: Json): string | undefined {
    if (!isObject(expr) || !isObject(expr['.'])) return undefined;
    const { left, attr } = expr['.'] as { left: Json; attr: string };
    return isObject(left) && left.Var === 'context' && attr === 'input' ? 'input' : undefined;
  }
  /** `principal.groups` or `principal.scopes`. */
  function principalList(expr: Json): 'groups' | 'scopes' | undefined {
    if (!isObject(expr) || !isObject(expr['.'])) return undefined;
    const { left, attr } = expr['.'] as { left: Json; attr: string };
    return isObject(left) && left.Var === 'principal' && (attr === 'groups' || attr === 'scopes')
      ? attr
      : undefined;
  }

  /** The caller's groups or scopes holding `right`, over the claim's text. */
  function tagMembership(list: 'groups' | 'scopes', op: string, right: Json): Expr {
    const names =
      op === 'contains'
        ? [isObject(right) ? right.Value : undefined]
        : isObject(right) && Array.isArray(right.Set)
          ? right.Set.map((element: unknown) => (isObject(element) ? element.Value : undefined))
          : [undefined];
    if (!names.every((name): name is string => typeof name === 'string' && PLAIN.test(name))) {
      throw new Untranslatable(
        `principal.${list}.${op} needs literal names of printable ASCII without quotes or backslashes to match the claim's text`,
      );
    }
    const claim = list === 'groups' ? groupsClaim : scopeClaim;
    const one = (name: string): Expr => {
      if (list === 'groups')
        return like(getTag(claim), 'Wildcard', JSON.stringify(name), 'Wildcard');
      if (name.includes(' '))
        throw new Untranslatable(`the scope ${JSON.stringify(name)} has a space`);
      return or(
        or(
          { '==': { left: getTag(claim), right: value(name) } },
          like(getTag(claim), `${name} `, 'Wildcard'),
        ),
        or(
          like(getTag(claim), 'Wildcard', ` ${name}`),
          like(getTag(claim), 'Wildcard', ` ${name} `, 'Wildcard'),
        ),
      );
    };
    const joined = names
      .map(one)
      .reduce((acc, next) => (op === 'containsAll' ? and(acc, next) : or(acc, next)));
    return and(hasTag(claim), joined);
  }

  function rewriteType(type: string): string {
    if (type === USER_TYPE) return OAUTH_USER_TYPE;
    if (type === SERVER_TYPE) return GATEWAY_TYPE;
    throw new Untranslatable(`it names the entity type ${type}`);
  }

  /** A literal, entities in it renamed. */
  function rewriteValue(v: Json, actions: readonly string[]): Json {
    if (Array.isArray(v)) return v.map((e) => rewriteValue(e, actions));
    if (!isObject(v)) return v;
    if (isObject(v.__entity)) {
      const { type, id } = v.__entity as { type: string; id: string };
      if (type === ACTION_TYPE)
        return { __entity: { type: AGENTCORE_ACTION_TYPE, id: actionId(id) } };
      if (type === SERVER_TYPE) return { __entity: gateway };
      return { __entity: { type: rewriteType(type), id } };
    }
    return Object.fromEntries(Object.entries(v).map(([k, e]) => [k, rewriteValue(e, actions)]));
  }

  function actionId(id: string): string {
    const tool = toolByAction.get(id);
    if (tool === undefined) {
      throw new Untranslatable(`it names ${ACTION_TYPE}::${cedarString(id)}, which is not a tool`);
    }
    return tool.action;
  }

  const rewriteScope = (scope: Record<string, unknown>, role: 'principal' | 'resource') => {
    switch (scope.op) {
      case 'All':
        return scope;
      case 'is':
        if (scope.in !== undefined) throw new Untranslatable(`its ${role} scope uses "is … in"`);
        return { op: 'is', entity_type: rewriteType(scope.entity_type as string) };
      case '==': {
        const entity = scope.entity as { type: string; id: string };
        return { op: '==', entity: rewriteValue({ __entity: entity }, []) };
      }
      default:
        throw new Untranslatable(
          `its ${role} scope uses "${String(scope.op)}", an entity hierarchy`,
        );
    }
  };

  /** One rule, rewritten for the tool actions it names, or why it cannot be. */
  const exportRule = (rule: ModuleRule) => {
    const named = rule.actions === ALL_ACTIONS ? undefined : rule.actions;
    const toolActions = (named ?? [...toolByAction.keys()]).filter((action) => {
      const kind = action.split(':')[0] ?? '';
      return EXPORTABLE_KINDS.has(kind) && toolByAction.has(action);
    });
    const others = named?.filter((action) => !toolActions.includes(action)) ?? [];
    const note = (dropped: NotCarried['dropped'], reason: string) =>
      notCarried.push({ module: rule.module, rule: rule.policyId, dropped, reason });
    if (named !== undefined && toolActions.length === 0) {
      note(
        'rule',
        `it names only ${others.join(', ')}: AgentCore Policy governs tools only (resources, prompts and completions are always allowed there)`,
      );
      return;
    }
    const json = cedar.policyToJson(rule.text);
    if (json.type === 'failure') {
      throw new AgentCoreExportError(
        `Rule ${rule.policyId} of ${rule.module} does not parse; run npm run policy -- check`,
      );
    }
    const est = json.json as unknown as Record<string, unknown>;
    try {
      const actions = named === undefined ? [...toolByAction.keys()] : toolActions;
      const rewritten = {
        ...est,
        principal: rewriteScope(est.principal as Record<string, unknown>, 'principal'),
        action:
          named === undefined
            ? { op: 'All' }
            : toolActions.length === 1
              ? {
                  op: '==',
                  entity: { type: AGENTCORE_ACTION_TYPE, id: actionId(toolActions[0] as string) },
                }
              : {
                  op: 'in',
                  entities: toolActions.map((action) => ({
                    type: AGENTCORE_ACTION_TYPE,
                    id: actionId(action),
                  })),
                },
        resource:
          named === undefined
            ? { op: 'is', entity_type: GATEWAY_TYPE }
            : { op: '==', entity: gateway },
        conditions: (est.conditions as { kind: string; body: Json }[]).map((condition) => ({
          kind: condition.kind,
          body: rewriteExpr(condition.body, actions),
        })),
      };
      const text = cedar.policyToText(rewritten as never);
      if (text.type === 'failure') {
        throw new Untranslatable(text.errors.map((e) => e.message).join('; '));
      }
      policies.push({ id: rule.policyId, from: `${rule.module} rules`, text: text.text });
      if (named === undefined) {
        note(
          'actions',
          'its action is open: here it governs resources, prompts and completions too, which AgentCore Policy leaves open',
        );
      } else if (others.length > 0) {
        note(
          'actions',
          `it also names ${others.join(', ')}, which AgentCore Policy does not govern`,
        );
      }
    } catch (error) {
      if (!(error instanceof Untranslatable)) throw error;
      note('rule', error.message);
    }
  };

  for (const rule of rules) exportRule(rule);

  // What this server does for a tool no permit rule names: the roles' grant stands in.
  const permitted = new Set<string>();
  let permitsAll = false;
  for (const rule of rules) {
    if (rule.effect !== 'permit') continue;
    if (rule.actions === ALL_ACTIONS) permitsAll = true;
    else for (const action of rule.actions) permitted.add(action);
  }
  const unpermitted = tools.filter((tool) => !permitted.has(`tool:${tool.tool}`));
  const actionList = (list: readonly { action: string }[]) =>
    list.map(({ action }) => `${AGENTCORE_ACTION_TYPE}::${cedarString(action)}`).join(', ');
  const gatewayText = `${GATEWAY_TYPE}::${cedarString(gatewayArn)}`;
  if (!permitsAll && unpermitted.length > 0) {
    policies.push({
      id: ROLES_POLICY_ID,
      from: 'the role table (tools no permit rule names)',
      text: `@id(${cedarString(ROLES_POLICY_ID)})\npermit (principal is ${OAUTH_USER_TYPE}, action in [${actionList(unpermitted)}], resource == ${gatewayText});`,
    });
  }
  if (options.roles !== undefined) {
    const table = options.roles;
    for (const permission of Object.keys(table.permissions)) {
      const governed = tools.filter((tool) =>
        table.items.tool.some((item) => item.name === tool.tool && item.permission === permission),
      );
      if (governed.length === 0) continue;
      const roles = Object.entries(table.roles)
        .filter(([, granted]) => granted.includes(permission))
        .map(([role]) => role);
      // A group name JSON would escape cannot be matched in the claim's text: never granted.
      const matchable = roles.filter((role) => PLAIN.test(role));
      const grants = matchable.map((role) =>
        like(getTag(groupsClaim), 'Wildcard', JSON.stringify(role), 'Wildcard'),
      );
      const est = {
        effect: 'forbid',
        principal: { op: 'All' },
        action: {
          op: 'in',
          entities: governed.map(({ action }) => ({ type: AGENTCORE_ACTION_TYPE, id: action })),
        },
        resource: { op: '==', entity: gateway },
        conditions:
          grants.length === 0
            ? []
            : [
                {
                  kind: 'unless',
                  body: and(
                    hasTag(groupsClaim),
                    grants.reduce((acc, next) => or(acc, next)),
                  ),
                },
              ],
        annotations: { id: `roles:${permission}` },
      };
      const text = cedar.policyToText(est as never);
      if (text.type === 'failure') {
        throw new AgentCoreExportError(text.errors.map((e) => e.message).join('; '));
      }
      policies.push({
        id: `roles:${permission}`,
        from: `the role table: ${permission} (${roles.length === 0 ? 'no role' : roles.join(', ')})`,
        text: text.text,
      });
    }
  }
  return { policies, notCarried };
}

/** The export as one Cedar text, each policy under a comment saying where it comes from. */
export function exportText(
  exported: AgentCoreExport,
  options: Pick<AgentCoreExportOptions, 'target' | 'gatewayArn'>,
): string {
  const header = [
    `// The argument rules of this server in AgentCore Policy's names, for gateway target ${options.target}.`,
    '// Written by `npm run policy -- export --agentcore`; one policy per CreatePolicy call.',
    ...(options.gatewayArn === undefined
      ? [`// Replace ${PLACEHOLDER_GATEWAY_ARN} with the gateway's ARN (or pass --gateway-arn).`]
      : []),
    ...exported.notCarried.map(
      (item) =>
        `// NOT CARRIED: ${item.module} rule ${item.rule} (${item.dropped === 'rule' ? 'left out' : 'in part'}): ${item.reason}`,
    ),
  ];
  const body = exported.policies.map((policy) => `// From ${policy.from}\n${policy.text}`);
  return `${[header.join('\n'), ...body].join('\n\n')}\n`;
}

/** Zod for the CLI's JSON output, so a consumer can read it back. */
export const exportedPolicySchema = z.object({
  id: z.string(),
  from: z.string(),
  text: z.string(),
});
