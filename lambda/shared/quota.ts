/**
 * Per-caller quotas: at most `limit` uses of a tool (or of every item needing one permission)
 * by one caller in each window of `windowSeconds`, enforced before the item runs. The rules are
 * the deployment's (`modules/quotas.ts`), checked against its policy table once, like the roles.
 *
 * Windows are fixed and aligned to the epoch (a 300-second window starts at every multiple of
 * 300 s): each window admits at most `limit` uses, exactly, under any concurrency; a caller can
 * use a whole window's limit at its end and the next window's at the start, so any sliding
 * interval of one window's length may hold up to twice the limit. Counted per caller: how they
 * authenticated and who they are (a person's `sub`, an API key's id), never shared between a
 * person and a key of the same name.
 *
 * Pure and domain-free.
 */
import * as z from 'zod/mini';
import type { PolicyItem, PolicyTable } from './policy';
import type { Principal } from './principal';

export interface QuotaRule {
  /** Names the rule in audit records, metrics and the counter's key: lower case, digits, `-`. */
  readonly id: string;
  /** The tool the rule counts. Exactly one of `tool` and `permission`. */
  readonly tool?: string;
  /** Every tool call, resource read and prompt get that needs this permission. */
  readonly permission?: string;
  /** Uses admitted per caller in each window: a whole number from 1. */
  readonly limit: number;
  /** The window: whole seconds, 1 to 86,400. */
  readonly windowSeconds: number;
  /**
   * When the counter cannot be read or written: `deny` (the default) refuses the use with a
   * 503, `allow` lets it run uncounted. Refused for a tool annotated destructive: its quota
   * never fails open.
   */
  readonly whenUnavailable?: 'deny' | 'allow';
}

export interface QuotaTable {
  readonly rules: readonly QuotaRule[];
}

export class QuotaError extends Error {
  override readonly name = 'QuotaError';
}

const RULE_ID = /^[a-z0-9][a-z0-9-]{0,47}$/;
const MAX_WINDOW_SECONDS = 86_400;

/**
 * Check the rules against the policy: each names a tool or permission that exists, a whole
 * positive limit, a window of whole seconds up to a day, an id of its own. A destructive tool
 * (`destructiveTools`) may not fail open. Any problem stops the function from starting and
 * `cdk synth` from finishing.
 */
export function buildQuotaTable(
  rules: readonly QuotaRule[],
  policy: PolicyTable,
  destructiveTools: ReadonlySet<string> = new Set(),
): QuotaTable {
  const ids = new Set<string>();
  for (const rule of rules) {
    const where = `Quota ${JSON.stringify(rule.id)}`;
    if (!RULE_ID.test(rule.id)) {
      throw new QuotaError(`${where}: the id must be 1 to 48 lower case letters, digits and -`);
    }
    if (ids.has(rule.id)) throw new QuotaError(`${where} is defined twice`);
    ids.add(rule.id);
    if ((rule.tool === undefined) === (rule.permission === undefined)) {
      throw new QuotaError(`${where}: name exactly one of tool and permission`);
    }
    if (rule.tool !== undefined && !policy.items.tool.some((tool) => tool.name === rule.tool)) {
      throw new QuotaError(`${where}: no listed module has a tool ${rule.tool}`);
    }
    if (rule.permission !== undefined && !Object.hasOwn(policy.permissions, rule.permission)) {
      throw new QuotaError(`${where}: no listed module declares the permission ${rule.permission}`);
    }
    if (!Number.isSafeInteger(rule.limit) || rule.limit < 1) {
      throw new QuotaError(`${where}: limit must be a whole number from 1 (got ${rule.limit})`);
    }
    if (
      !Number.isSafeInteger(rule.windowSeconds) ||
      rule.windowSeconds < 1 ||
      rule.windowSeconds > MAX_WINDOW_SECONDS
    ) {
      throw new QuotaError(
        `${where}: windowSeconds must be whole seconds from 1 to ${MAX_WINDOW_SECONDS} (got ${rule.windowSeconds})`,
      );
    }
    if (rule.whenUnavailable === 'allow') {
      const destructive = policy.items.tool.filter(
        (tool) =>
          destructiveTools.has(tool.name) &&
          (tool.name === rule.tool || tool.permission === rule.permission),
      );
      if (destructive.length > 0) {
        throw new QuotaError(
          `${where}: counts ${destructive.map((tool) => tool.name).join(', ')}, annotated destructive, and may not let it run uncounted (whenUnavailable: 'allow')`,
        );
      }
    }
  }
  return { rules };
}

/** The rules that count a use of `item` (tool calls, resource reads, prompt gets). */
export function quotasFor(table: QuotaTable, item: PolicyItem): readonly QuotaRule[] {
  return table.rules.filter(
    (rule) =>
      (rule.tool !== undefined && item.kind === 'tool' && item.name === rule.tool) ||
      (rule.permission !== undefined && item.permission === rule.permission),
  );
}

/** The window `nowMs` falls in: its start and end, epoch seconds. */
export function windowOf(rule: QuotaRule, nowMs: number): { start: number; end: number } {
  const start = Math.floor(nowMs / 1000 / rule.windowSeconds) * rule.windowSeconds;
  return { start, end: start + rule.windowSeconds };
}

/**
 * The counter of one caller under one rule in one window. The caller is named by how they
 * authenticated and who they are, as JSON so no value can run into the next.
 */
export function counterKey(rule: QuotaRule, principal: Principal, windowStart: number): string {
  return JSON.stringify([
    rule.id,
    principal.authMethod,
    principal.principalId,
    principal.keyId,
    windowStart,
  ]);
}

/** The rules as the stack hands them to the function (`QUOTA_RULES`): their JSON. */
const quotaRulesSchema = z.array(
  z.strictObject({
    id: z.string(),
    tool: z.optional(z.string()),
    permission: z.optional(z.string()),
    limit: z.number(),
    windowSeconds: z.number(),
    whenUnavailable: z.optional(z.enum(['deny', 'allow'])),
  }),
);

/** The rules in `QUOTA_RULES`; anything else is a {@link QuotaError}. */
export function parseQuotaRules(json: string): QuotaRule[] {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new QuotaError('QUOTA_RULES is not JSON');
  }
  const parsed = quotaRulesSchema.safeParse(value);
  if (!parsed.success) throw new QuotaError('QUOTA_RULES does not match the quota rule shape');
  return parsed.data;
}
