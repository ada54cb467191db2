/**
 * The modules' argument rules checked before anything is deployed: `cdk synth` (the stack),
 * `npm test` and `npm run policy` refuse rules that do not parse, lack an `@id`, name an
 * unknown action or attribute, compare values of different types, or that Cedar's validator
 * can tell are impossible; strict validation against the schema generated from the modules
 * (`lambda/mcp/rules-schema.ts`), every validator warning counted as a problem. It also holds
 * the function's own reading of each rule's scope (which items load Cedar) to Cedar's.
 *
 * Runs where the CDK runs, never in a Lambda: Cedar is loaded here only when some module has
 * rules.
 */
import { createRequire } from 'node:module';
import type * as CedarWasm from '@cedar-policy/cedar-wasm/nodejs';
import type { McpModule } from '../lambda/mcp/module-kit';
import { type ModuleRule, moduleRules, RulesInvalidError } from '../lambda/mcp/rules';
import { type RuleTarget, rulesSchema, ruleTargets } from '../lambda/mcp/rules-schema';
import { ACTION_TYPE, type ActionScope, ALL_ACTIONS } from '../lambda/mcp/rules-text';
import { literalProblems } from './rules-checks';

/** What validation uses of Cedar. */
export type CedarTools = Pick<
  typeof CedarWasm,
  'validate' | 'policyToJson' | 'policyToText' | 'policySetTextToParts' | 'schemaToText'
>;

const require = createRequire(import.meta.url);

/** Cedar's Node build, loaded synchronously on first use. */
export function cedarTools(): CedarTools {
  return require('@cedar-policy/cedar-wasm/nodejs') as CedarTools;
}

/** One thing wrong with the rules, located as precisely as Cedar says. */
export interface RuleProblem {
  readonly module: string;
  /** The rule's `@id`. */
  readonly rule?: string;
  /** The line in the module's rules text. */
  readonly line?: number;
  readonly message: string;
}

export class RulesValidationError extends Error {
  override readonly name = 'RulesValidationError';
  constructor(readonly problems: readonly RuleProblem[]) {
    super(
      `The modules' argument rules (Cedar) do not validate:\n${problems.map((p) => `  - ${formatProblem(p)}`).join('\n')}\nSee docs/rules.md for what rules can name; \`npm run policy -- schema\` prints the schema.`,
    );
  }
}

export function formatProblem(problem: RuleProblem): string {
  const where = [
    `module ${problem.module}`,
    ...(problem.rule === undefined ? [] : [`rule "${problem.rule}"`]),
    ...(problem.line === undefined ? [] : [`line ${problem.line} of its rules`]),
  ].join(', ');
  return `${where}: ${problem.message}`;
}

/** Cedar's JSON schema of the modules' actions. */
export function schemaOf(targets: readonly RuleTarget[]): CedarWasm.SchemaJson<string> {
  return rulesSchema(targets) as unknown as CedarWasm.SchemaJson<string>;
}

function uidOf(entity: CedarWasm.EntityUidJson): { type: string; id: string } {
  return '__entity' in entity ? entity.__entity : entity;
}

/** The actions Cedar reads an action constraint as naming (no action groups exist here). */
function cedarActions(constraint: CedarWasm.ActionConstraint): ActionScope {
  if (constraint.op === 'All') return ALL_ACTIONS;
  const entities =
    'entities' in constraint
      ? constraint.entities
      : 'entity' in constraint
        ? [constraint.entity]
        : undefined;
  if (entities === undefined) return ALL_ACTIONS;
  return entities
    .map(uidOf)
    .map((uid) => (uid.type === ACTION_TYPE ? uid.id : `${uid.type}::${uid.id}`));
}

const sameScope = (a: ActionScope, b: ActionScope) =>
  a === ALL_ACTIONS || b === ALL_ACTIONS
    ? a === b
    : JSON.stringify([...a].sort()) === JSON.stringify([...b].sort());

/** Where a Cedar error points, as a line of the module's rules and the text there. */
function locate(rule: ModuleRule, error: CedarWasm.DetailedError): { line: number; at: string } {
  const location = error.sourceLocations?.[0];
  if (location === undefined || location.end > rule.text.length) return { line: rule.line, at: '' };
  const before = rule.text.slice(0, location.start);
  return {
    line: rule.line + (before.match(/\n/g)?.length ?? 0),
    at: rule.text.slice(location.start, location.end).replace(/\s+/g, ' ').slice(0, 120),
  };
}

function describe(error: CedarWasm.DetailedError, at: string): string {
  return [
    error.message,
    ...(error.help === null ? [] : [`(${error.help})`]),
    ...(at === '' ? [] : [`at "${at}"`]),
  ].join(' ');
}

/** What the rules are validated against besides the modules' own items. */
export interface RulesValidationOptions {
  /**
   * The deployment's roles: a rule looking for another group in `principal.groups` is refused
   * (a case variant never matches). @default not checked
   */
  readonly roles?: readonly string[];
  /**
   * The claims the authorizer hands on as tags (`-c ruleClaims`): a rule reading another tag
   * is refused. @default not checked
   */
  readonly claims?: readonly string[];
  /** Where Cedar comes from. @default {@link cedarTools} */
  readonly cedar?: () => CedarTools;
}

/**
 * Everything wrong with the modules' rules; empty when they are fit to deploy (or there are
 * none: then Cedar is not even loaded).
 */
export function rulesProblems(
  modules: readonly McpModule[],
  options: RulesValidationOptions = {},
): RuleProblem[] {
  const cedar = options.cedar ?? cedarTools;
  if (!modules.some((module) => module.rules !== undefined)) return [];
  let rules: ModuleRule[];
  let targets: RuleTarget[];
  try {
    rules = moduleRules(modules);
    targets = ruleTargets(modules);
  } catch (error) {
    if (!(error instanceof RulesInvalidError || error instanceof Error)) throw error;
    const module = /^Module ([^,:]+)/.exec(error.message)?.[1] ?? '(modules)';
    return [{ module, message: error.message.replace(/^Module [^,:]+[,:]\s*/, '') }];
  }
  const tools = cedar();
  const problems: RuleProblem[] = [];

  // Each module's text is exactly the policies the function reads in it: static ones only.
  for (const module of modules) {
    if (module.rules === undefined) continue;
    const parts = tools.policySetTextToParts(module.rules);
    if (parts.type === 'failure') {
      problems.push({
        module: module.name,
        message: parts.errors.map((e) => e.message).join('; '),
      });
      continue;
    }
    if (parts.policy_templates.length > 0) {
      problems.push({
        module: module.name,
        message: 'templates (?principal, ?resource) are not supported: write each rule out',
      });
    }
    const read = rules.filter((rule) => rule.module === module.name).length;
    if (parts.policies.length !== read) {
      problems.push({
        module: module.name,
        message: `Cedar reads ${parts.policies.length} policies where the function reads ${read}`,
      });
    }
  }

  // Each rule on its own: it parses, and its scope names what the function thinks it names.
  for (const rule of rules) {
    const json = tools.policyToJson(rule.text);
    const at = { module: rule.module, rule: rule.policyId, line: rule.line };
    if (json.type === 'failure') {
      for (const error of json.errors) {
        const { line, at: text } = locate(rule, error);
        problems.push({ ...at, line, message: describe(error, text) });
      }
      continue;
    }
    const actions = cedarActions(json.json.action);
    if (json.json.effect !== rule.effect || !sameScope(actions, rule.actions)) {
      problems.push({
        ...at,
        message: `its scope reads as ${JSON.stringify(actions)} to Cedar but ${JSON.stringify(rule.actions)} to the function: write the action as action == ${ACTION_TYPE}::"…" or action in [${ACTION_TYPE}::"…", …]`,
      });
    }
  }
  if (problems.length > 0) return problems;

  // All together, strictly, against the schema of the modules' actions.
  const byId = new Map(rules.map((rule) => [rule.policyId, rule]));
  const answer = tools.validate({
    schema: schemaOf(targets),
    policies: { staticPolicies: Object.fromEntries(rules.map((r) => [r.policyId, r.text])) },
    validationSettings: { mode: 'strict' },
  });
  if (answer.type === 'failure') {
    return answer.errors.map((error) => ({ module: '(modules)', message: error.message }));
  }
  for (const { policyId, error } of [...answer.validationErrors, ...answer.validationWarnings]) {
    const rule = byId.get(policyId);
    if (rule === undefined) {
      problems.push({ module: '(modules)', message: error.message });
      continue;
    }
    const { line, at } = locate(rule, error);
    problems.push({ module: rule.module, rule: policyId, line, message: describe(error, at) });
  }
  for (const warning of answer.otherWarnings) {
    problems.push({ module: '(modules)', message: warning.message });
  }
  if (problems.length > 0) return problems;

  // What Cedar's types cannot hold: enum values, bounds, role names, the claims handed on.
  for (const rule of rules) {
    const json = tools.policyToJson(rule.text);
    if (json.type === 'failure') continue;
    const applies =
      rule.actions === ALL_ACTIONS
        ? targets
        : targets.filter((target) => rule.actions.includes(target.action));
    const facts = {
      inputs: applies.flatMap((target) =>
        target.jsonSchema === undefined ? [] : [target.jsonSchema()],
      ),
      ...(options.roles === undefined ? {} : { roles: options.roles }),
      ...(options.claims === undefined ? {} : { claims: options.claims }),
    };
    for (const message of literalProblems(json.json, facts)) {
      problems.push({ module: rule.module, rule: rule.policyId, line: rule.line, message });
    }
  }
  return problems;
}

/** Throw {@link RulesValidationError} unless the modules' rules are fit to deploy. */
export function assertValidRules(
  modules: readonly McpModule[],
  options: RulesValidationOptions = {},
): void {
  const problems = rulesProblems(modules, options);
  if (problems.length > 0) throw new RulesValidationError(problems);
}
