/**
 * Argument-level rules at the gate: after the roles allow a call, read, get or completion and
 * before any item code runs, the modules' Cedar rules judge it on its arguments (parsed with
 * the item's own schema, defaults applied), the caller and the time.
 *
 * - An item no rule names is judged by its roles alone, and never loads Cedar: a deployment
 *   with no rules loads none at all, one with rules loads it on the first request for an item
 *   a rule names (once per instance, the policy set parsed then, once).
 * - For an item some rule names, Cedar decides: a matching `forbid` denies (forbid wins); if
 *   any `permit` names the item, one must match (default deny, as AgentCore Policy); if none
 *   does, the roles' grant stands in for it.
 * - `log-only` mode: a request the rules deny runs, and its record says `would_deny` with the
 *   rules' ids (counted, with an alarm), to try rules on live traffic before enforcing them.
 * - Fail closed, in both modes: Cedar not loading or a rule raising an error refuses the
 *   request (-32603, HTTP 503, `rule_error` in its record); an argument Cedar cannot hold
 *   exactly (a decimal with five places) is refused as invalid (-32602), never rounded.
 *
 * A denial answers -32003 with the rules' ids in `data.deniedBy`, and the audit record names
 * them (`rule_ids`), never the arguments.
 */
import { setFlagsFromString } from 'node:v8';
import type { Logger } from '@aws-lambda-powertools/logger';
import type * as CedarWasm from '@cedar-policy/cedar-wasm/nodejs';
import {
  RULE_DENIAL_REASONS,
  RULE_VERDICTS,
  type RuleAudit,
  type RuleError,
  TOOL_CALL_STATUS,
} from '../shared/audit';
import type { RuleMode } from '../shared/env';
import type { Principal } from '../shared/principal';
import type { CallRecord } from './call-record';
import { INVALID_PARAMS_CODE, PERMISSION_DENIED_CODE, WHAT } from './gate';
import { JSONRPC } from './http';
import type { McpModule } from './module-kit';
import {
  actionOf,
  principalEntity,
  type RuleTarget,
  ruleContext,
  ruleTargets,
  SERVER_ID,
  SERVER_TYPE,
  UnrepresentableInputError,
  USER_TYPE,
} from './rules-schema';
import { ACTION_TYPE, ALL_ACTIONS, type RuleText, splitRules } from './rules-text';

/** What the runtime uses of `@cedar-policy/cedar-wasm`. */
export type CedarEngine = Pick<typeof CedarWasm, 'preparsePolicySet' | 'statefulIsAuthorized'>;
export type CedarLoader = () => Promise<CedarEngine>;

/**
 * Cedar's Node build, loaded on first use: its 4 MB of WebAssembly is read and compiled then.
 * The function's bundle keeps it out (`lib/bundle-options.ts`); the stack ships it beside the
 * bundle only when some module has rules (`lib/lambda-function.ts`).
 */
export const loadCedar: CedarLoader = async () => {
  avoidWasmInliningCrash();
  const loaded = (await import('@cedar-policy/cedar-wasm/nodejs')) as CedarEngine & {
    default?: CedarEngine;
  };
  return typeof loaded.statefulIsAuthorized === 'function'
    ? loaded
    : (loaded.default as CedarEngine);
};

/**
 * Node 20's V8 (11.3) can abort the process ("Fatal error … unreachable code" in
 * `Deoptimizer::DoComputeBuiltinContinuation`) when optimized code that inlined a JS-to-Wasm
 * call into Cedar is deoptimized lazily on its way back: seen here when the same instance
 * alternates calls with and without rules. Node 22 (the Lambda runtime) does not. On Node 20
 * only, those calls are not inlined (they stay calls; nothing else changes), before Cedar loads.
 */
function avoidWasmInliningCrash(): void {
  if (process.versions.node.split('.')[0] !== '20') return;
  setFlagsFromString('--no-turbo-inline-js-wasm-calls');
}

/** The id of the policy set each instance preparses once. */
const POLICY_SET_ID = 'mcp-rules';
/**
 * The id of the policy that lets the roles' grant stand for the items no `permit` rule names.
 * A rule's own id cannot take it (`lib/rules-validation.ts` holds ids to `RULE_ID`).
 */
export const ROLES_POLICY_ID = 'mcp:roles';
/** What a rule's `@id` may be: it is logged, returned to callers and compared. */
export const RULE_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** One policy of a module's rules, with the id Cedar knows it by. */
export interface ModuleRule extends RuleText {
  readonly module: string;
  /** Its `@id`. */
  readonly policyId: string;
}

export class RulesInvalidError extends Error {
  override readonly name = 'RulesInvalidError';
}

/** Every module's rules, split; throws {@link RulesInvalidError} on text or ids unfit to run. */
export function moduleRules(modules: readonly McpModule[]): ModuleRule[] {
  const rules: ModuleRule[] = [];
  const ids = new Set<string>();
  for (const module of modules) {
    if (module.rules === undefined) continue;
    let split: RuleText[];
    try {
      split = splitRules(module.rules);
    } catch (error) {
      throw new RulesInvalidError(
        `Module ${module.name}: its rules do not parse: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
    for (const rule of split) {
      const where = `Module ${module.name}, rule at line ${rule.line}`;
      if (rule.id === undefined) throw new RulesInvalidError(`${where}: it needs an @id("…")`);
      if (!RULE_ID.test(rule.id)) {
        throw new RulesInvalidError(
          `${where}: @id("${rule.id.slice(0, 80)}") must be 1-64 letters, digits, _ . - (starting with a letter or digit)`,
        );
      }
      if (ids.has(rule.id))
        throw new RulesInvalidError(`${where}: a second rule is @id("${rule.id}")`);
      ids.add(rule.id);
      rules.push({ ...rule, module: module.name, policyId: rule.id });
    }
  }
  return rules;
}

/** `text` as a Cedar string literal: quotes and backslashes escaped, control characters as `\u{…}`. */
export function cedarString(text: string): string {
  let out = '"';
  for (const c of text) {
    const code = c.codePointAt(0) ?? 0;
    if (c === '"' || c === '\\') out += `\\${c}`;
    else if (code < 0x20 || code === 0x7f) out += `\\u{${code.toString(16)}}`;
    else out += c;
  }
  return `${out}"`;
}

/** The actions a set of rules names: every action, or these. */
function union(rules: readonly ModuleRule[]): Set<string> | typeof ALL_ACTIONS {
  const actions = new Set<string>();
  for (const rule of rules) {
    if (rule.actions === ALL_ACTIONS) return ALL_ACTIONS;
    for (const action of rule.actions) actions.add(action);
  }
  return actions;
}

/** The policies Cedar is given: the rules, and the roles' stand-in permit where one is due. */
export function policySet(
  rules: readonly ModuleRule[],
  targets: readonly RuleTarget[],
): Record<string, string> {
  const policies = Object.fromEntries(rules.map((rule) => [rule.policyId, rule.text]));
  const permitted = union(rules.filter((rule) => rule.effect === 'permit'));
  if (permitted === ALL_ACTIONS) return policies;
  const unpermitted = targets
    .map((target) => target.action)
    .filter((action) => !permitted.has(action));
  if (unpermitted.length > 0) {
    const list = unpermitted.map((action) => `${ACTION_TYPE}::${cedarString(action)}`).join(', ');
    policies[ROLES_POLICY_ID] = `permit (principal, action in [${list}], resource);`;
  }
  return policies;
}

export interface RulesOptions {
  /** @default 'enforce' */
  readonly mode?: RuleMode;
  readonly logger: Logger;
  /** The clock `context.system.now` reads. @default the system clock */
  readonly now?: () => Date;
  /** Where Cedar comes from. @default {@link loadCedar} */
  readonly loadCedar?: CedarLoader;
}

/** How the rules refuse a request: a denial (-32003), or a failure to decide (-32603, 503). */
export interface RuleRefusal {
  readonly status: 'denied' | 'invalid' | 'error';
  readonly code: number;
  readonly message: string;
  readonly data?: Record<string, unknown>;
  /** The HTTP status of the answer: 503 when the rules could not be evaluated. @default 200 */
  readonly httpStatus?: number;
  readonly errorType: string;
}

/** The argument rules of a deployment's modules. */
export interface Rules {
  /** Does some rule name this action (only then can Cedar be loaded for it)? */
  governs(action: string): boolean;
  /**
   * Judge a request the roles allowed (its record names the item): the refusal to answer with,
   * or `undefined` to let it through. Writes what the rules said into the record, and the
   * arguments they judged (the item runs on exactly those).
   */
  judge(call: CallRecord, principal: Principal): Promise<RuleRefusal | undefined>;
}

/** Rules of a deployment without any: nothing is judged, nothing loaded. */
const NO_RULES: Rules = {
  governs: () => false,
  judge: async () => undefined,
};

/** The rules of these modules. Without any, {@link NO_RULES}: Cedar is never loaded. */
export function createRules(modules: readonly McpModule[], options: RulesOptions): Rules {
  if (!modules.some((module) => module.rules !== undefined)) return NO_RULES;
  const { logger } = options;
  const mode = options.mode ?? 'enforce';
  const now = options.now ?? (() => new Date());
  const load = options.loadCedar ?? loadCedar;

  // Rules the function cannot read govern everything, and deny it (cdk synth refuses them).
  let rules: ModuleRule[] | RulesInvalidError;
  let targets: readonly RuleTarget[] = [];
  try {
    rules = moduleRules(modules);
    targets = ruleTargets(modules);
  } catch (error) {
    rules =
      error instanceof RulesInvalidError
        ? error
        : new RulesInvalidError(error instanceof Error ? error.message : String(error));
    logger.error('The argument rules cannot be read: every item is denied', {
      detail: rules.message,
    });
  }
  const governed = rules instanceof RulesInvalidError ? ALL_ACTIONS : union(rules);
  const byAction = new Map(targets.map((target) => [target.action, target]));

  let engine: Promise<CedarEngine> | undefined;
  const ready = () => {
    engine ??= (async () => {
      if (rules instanceof RulesInvalidError) throw rules;
      const cedar = await load();
      const parsed = cedar.preparsePolicySet(POLICY_SET_ID, {
        staticPolicies: policySet(rules, targets),
      });
      if (parsed.type !== 'success') {
        throw new RulesInvalidError(parsed.errors.map((e) => e.message).join('; '));
      }
      return cedar;
    })();
    return engine;
  };
  const permitsOf = (action: string) =>
    rules instanceof RulesInvalidError
      ? []
      : rules
          .filter(
            (rule) =>
              rule.effect === 'permit' &&
              (rule.actions === ALL_ACTIONS || rule.actions.includes(action)),
          )
          .map((rule) => rule.policyId);

  const governs = (action: string) => governed === ALL_ACTIONS || governed.has(action);

  return {
    governs,
    async judge(call, principal) {
      const { item, request } = call;
      if (item === undefined) return undefined;
      const action = actionOf(request.kind, item);
      if (!governs(action)) return undefined;

      const target = byAction.get(action);
      const parsed = target?.parse(request.args);
      if (parsed !== undefined && !parsed.ok) {
        if (request.kind === 'completion') {
          return {
            status: 'invalid',
            code: INVALID_PARAMS_CODE,
            message: 'Invalid params: argument must have a string name and value',
            errorType: 'InvalidParams',
          };
        }
        // The SDK refuses arguments the item's schema refuses (-32602) before any item code
        // runs; the record holds the item should it not.
        call.holdForRules();
        return undefined;
      }

      let ruleIds: readonly string[] = [];
      let error: RuleError | undefined;
      let failure: unknown;
      let unpermitted = false;
      try {
        if (target === undefined || parsed === undefined) {
          throw new RulesInvalidError(`No item is the action ${action}`);
        }
        const context = ruleContext(target.input(), parsed.input, now());
        const cedar = await ready();
        const answer = cedar.statefulIsAuthorized({
          principal: { type: USER_TYPE, id: principal.principalId },
          action: { type: ACTION_TYPE, id: action },
          resource: { type: SERVER_TYPE, id: SERVER_ID },
          context: context as CedarWasm.Context,
          entities: [principalEntity(principal)],
          preparsedPolicySetId: POLICY_SET_ID,
        });
        if (answer.type === 'failure') {
          error = 'EvaluationFailed';
        } else {
          const { decision, diagnostics } = answer.response;
          if (diagnostics.errors.length > 0) {
            // Cedar skips a policy that raises an error: a `forbid` that overflows would
            // otherwise allow. Any error decides nothing here: the request is refused.
            error = 'RuleFailed';
            ruleIds = [...new Set(diagnostics.errors.map((e) => e.policyId))];
          } else if (decision === 'allow') {
            call.rules = { verdict: RULE_VERDICTS.allow, ruleIds: [] };
            call.ruledInput = parsed.input;
            return undefined;
          } else if (diagnostics.reason.length > 0) {
            ruleIds = diagnostics.reason;
          } else {
            unpermitted = true;
            ruleIds = permitsOf(action);
          }
        }
      } catch (thrown) {
        failure = thrown;
        error =
          thrown instanceof UnrepresentableInputError
            ? 'UnrepresentableInput'
            : thrown instanceof RulesInvalidError
              ? 'RulesInvalid'
              : 'CedarUnavailable';
      }

      const what = `${WHAT[request.kind]} '${item.name}'`;
      const named = { [request.kind === 'completion' ? 'target' : request.kind]: item.name };
      if (error !== undefined) {
        // Fail closed, in both modes: log-only changes no answer the rules reach, but a request
        // they cannot judge is never let through. The caller's own unrepresentable argument is
        // in its audit record; the rest is the operator's to fix.
        if (error !== 'UnrepresentableInput') {
          logger.error('The argument rules could not be evaluated: the request is refused', {
            rule_error: error,
            rule_ids: ruleIds,
            error_type: failure instanceof Error ? failure.name : undefined,
            // A file path or a parser's complaint about the rules text: never request data.
            detail: failure instanceof Error ? failure.message.slice(0, 500) : undefined,
          });
        }
        call.rules = { verdict: RULE_VERDICTS.deny, ruleIds, error };
        if (error === 'UnrepresentableInput') {
          return {
            status: TOOL_CALL_STATUS.invalid,
            code: INVALID_PARAMS_CODE,
            message: `Invalid params: an argument of ${what} cannot be checked exactly by its rules (numbers are held to four decimal places)`,
            data: { ...named, ruleError: error },
            errorType: RULE_DENIAL_REASONS.error,
          };
        }
        return {
          status: TOOL_CALL_STATUS.error,
          code: JSONRPC.internalError,
          message: `Internal error: the rules for ${what} could not be evaluated, so the request is refused; try again later`,
          data: { ...named, ruleError: error },
          httpStatus: 503,
          errorType: RULE_DENIAL_REASONS.error,
        };
      }

      const audit: RuleAudit = {
        verdict: mode === 'log-only' ? RULE_VERDICTS.wouldDeny : RULE_VERDICTS.deny,
        ruleIds,
      };
      call.rules = audit;
      if (mode === 'log-only') {
        call.ruledInput = (parsed as { input: unknown }).input;
        return undefined;
      }
      const message = unpermitted
        ? `Permission denied: no rule permits ${what} with these arguments${ruleIds.length > 0 ? ` (rules: ${ruleIds.join(', ')})` : ''}`
        : `Permission denied by rule ${ruleIds.join(', ')}: ${what} may not be used with these arguments`;
      return {
        status: TOOL_CALL_STATUS.denied,
        code: PERMISSION_DENIED_CODE,
        message,
        data: { ...named, deniedBy: ruleIds },
        errorType: RULE_DENIAL_REASONS.denied,
      };
    },
  };
}
