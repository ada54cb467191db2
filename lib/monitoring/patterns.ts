/**
 * The CloudWatch Logs filter patterns the monitoring counts with, over the audit records.
 *
 * Every field and event name comes from `lambda/shared/audit.ts`, the vocabulary the runtime
 * logs with, so a renamed field cannot silently stop a metric. Values the pattern syntax would
 * read differently (`*`, `"`, `\`) are refused, not escaped: the docs give no escape.
 */
import * as logs from 'aws-cdk-lib/aws-logs';
import {
  AUDIT_EVENTS,
  AUDIT_FIELDS,
  AUTH_DECISION,
  AUTHORIZATION_OUTCOME,
  type AuditEvent,
  type AuthorizationReason,
  type AuthReason,
  REFUSED_APPROVAL_STEPS,
  RULE_DENIAL_REASONS,
  RULE_VERDICTS,
  type RuleVerdict,
  TOOL_CALL_STATUS,
} from '../../lambda/shared/audit';
import type { AccessLogField } from '../mcp-api';

/**
 * The prefix of every CIMD refusal reason in an `oauth.authorization` record (the resolver's
 * own reasons, `cimd_blocked_address`, `cimd_redirect`, …): one pattern counts them all,
 * including any the resolver learns later.
 */
export const CIMD_REASON_PREFIX = 'cimd_';

/**
 * The key Powertools Logger adds to every record once `addContext` has run. It is Powertools'
 * name, not ours, so it is not in `AUDIT_FIELDS`; the monitoring test checks it against real records.
 */
const POWERTOOLS_COLD_START_FIELD = 'cold_start';

/** A JSON filter-pattern selector for a top-level field. */
export function selector(field: string): string {
  return `$.${field}`;
}

/**
 * `field = "value"`. Refuses values the pattern syntax would read differently: `*` is a wildcard
 * there and no escape for quotes or backslashes is documented.
 */
function fieldEquals(field: string, value: string): logs.JsonPattern {
  if (/["\\*]/.test(value)) {
    throw new Error(
      `Cannot match ${field} = ${value} exactly in a filter pattern: '*', '"' and '\\' have no documented escape`,
    );
  }
  return logs.FilterPattern.stringValue(selector(field), '=', value);
}

const isToolCall = () => fieldEquals(AUDIT_FIELDS.event, AUDIT_EVENTS.toolCall);
const isAuthDecision = () => fieldEquals(AUDIT_FIELDS.event, AUDIT_EVENTS.authDecision);

/**
 * Every `tools/call` audit record. The tool field is named in the pattern because a metric
 * filter may only publish dimensions from fields its pattern matched.
 */
export function toolCallPattern(): logs.JsonPattern {
  return logs.FilterPattern.all(
    isToolCall(),
    logs.FilterPattern.exists(selector(AUDIT_FIELDS.tool)),
  );
}

/** The audit events of requests for an item: calls, reads, gets and refused completions. */
const ITEM_EVENTS = [
  AUDIT_EVENTS.toolCall,
  AUDIT_EVENTS.resourceRead,
  AUDIT_EVENTS.promptGet,
  AUDIT_EVENTS.completion,
] as const;

/**
 * Requests refused for a missing permission, whatever the item: probing a resource or a
 * prompt one may not use is as telling as probing a tool.
 */
export function deniedCallPattern(): logs.JsonPattern {
  return logs.FilterPattern.all(
    logs.FilterPattern.any(...ITEM_EVENTS.map((event) => fieldEquals(AUDIT_FIELDS.event, event))),
    fieldEquals(AUDIT_FIELDS.status, TOOL_CALL_STATUS.denied),
  );
}

/** Item requests whose argument rules said `verdict` ({@link RULE_VERDICTS}). */
function ruleVerdictPattern(verdict: RuleVerdict, errorType?: string): logs.JsonPattern {
  return logs.FilterPattern.all(
    logs.FilterPattern.any(...ITEM_EVENTS.map((event) => fieldEquals(AUDIT_FIELDS.event, event))),
    fieldEquals(AUDIT_FIELDS.ruleVerdict, verdict),
    ...(errorType === undefined ? [] : [fieldEquals(AUDIT_FIELDS.errorType, errorType)]),
  );
}

/** Requests a rule refused (enforce mode): not those the rules could not evaluate. */
export function ruleDeniedPattern(): logs.JsonPattern {
  return ruleVerdictPattern(RULE_VERDICTS.deny, RULE_DENIAL_REASONS.denied);
}

/** Requests the rules would have refused, let through in log-only mode. */
export function ruleWouldDenyPattern(): logs.JsonPattern {
  return ruleVerdictPattern(RULE_VERDICTS.wouldDeny);
}

/**
 * Requests refused because the rules could not be evaluated (Cedar did not load, a rule raised
 * an error): an operational failure, not the caller's. A number the rules cannot hold exactly
 * is the caller's (`status: invalid`) and is not counted.
 */
export function ruleErrorPattern(): logs.JsonPattern {
  return logs.FilterPattern.all(
    ruleVerdictPattern(RULE_VERDICTS.deny, RULE_DENIAL_REASONS.error),
    fieldEquals(AUDIT_FIELDS.status, TOOL_CALL_STATUS.error),
  );
}

/** Calls, reads and gets a per-caller quota refused, whatever the item. */
export function rateLimitedCallPattern(): logs.JsonPattern {
  return logs.FilterPattern.all(
    logs.FilterPattern.any(...ITEM_EVENTS.map((event) => fieldEquals(AUDIT_FIELDS.event, event))),
    fieldEquals(AUDIT_FIELDS.status, TOOL_CALL_STATUS.rateLimited),
  );
}

/** `tools/call` records whose tool failed. */
export function toolErrorPattern(): logs.JsonPattern {
  return logs.FilterPattern.all(
    isToolCall(),
    fieldEquals(AUDIT_FIELDS.status, TOOL_CALL_STATUS.error),
  );
}

/** Approval steps that did not get, or keep, an approval: denied, expired, refused. */
export function refusedApprovalPattern(): logs.JsonPattern {
  return logs.FilterPattern.all(
    fieldEquals(AUDIT_FIELDS.event, AUDIT_EVENTS.approval),
    logs.FilterPattern.any(
      ...REFUSED_APPROVAL_STEPS.map((step) => fieldEquals(AUDIT_FIELDS.step, step)),
    ),
  );
}

/** OAuth proxy steps that were refused, whatever the step and the reason. */
export function refusedAuthorizationPattern(): logs.JsonPattern {
  return logs.FilterPattern.all(
    fieldEquals(AUDIT_FIELDS.event, AUDIT_EVENTS.oauthAuthorization),
    fieldEquals(AUDIT_FIELDS.outcome, AUTHORIZATION_OUTCOME.refused),
  );
}

/**
 * OAuth proxy steps refused for their CIMD client id: the reason starts with
 * {@link CIMD_REASON_PREFIX} (a trailing `*` is the documented prefix match).
 */
export function cimdRefusalPattern(): logs.JsonPattern {
  return logs.FilterPattern.all(
    fieldEquals(AUDIT_FIELDS.event, AUDIT_EVENTS.oauthAuthorization),
    fieldEquals(AUDIT_FIELDS.outcome, AUTHORIZATION_OUTCOME.refused),
    logs.FilterPattern.stringValue(
      selector(AUDIT_FIELDS.reason),
      '=',
      `${literalPrefix(CIMD_REASON_PREFIX)}*`,
    ),
  );
}

/**
 * The refusals that prove a refresh token was copied: a token of its family presented after
 * it was rotated (or losing a race with its own copy), or by another client than its own.
 * Each ended its family.
 */
const LEAKED_REFRESH_TOKEN_REASONS = [
  'refresh_token_reused',
  'refresh_client_mismatch',
] as const satisfies readonly AuthorizationReason[];

/** OAuth proxy refreshes refused for one of {@link LEAKED_REFRESH_TOKEN_REASONS}. */
export function refreshTokenReusePattern(): logs.JsonPattern {
  return logs.FilterPattern.all(
    fieldEquals(AUDIT_FIELDS.event, AUDIT_EVENTS.oauthAuthorization),
    logs.FilterPattern.any(
      ...LEAKED_REFRESH_TOKEN_REASONS.map((reason) => fieldEquals(AUDIT_FIELDS.reason, reason)),
    ),
  );
}

/** A prefix for a `"prefix*"` match: the same characters are refused as in {@link fieldEquals}. */
function literalPrefix(prefix: string): string {
  if (prefix === '' || /["\\*]/.test(prefix)) {
    throw new Error(`Cannot match the prefix ${prefix} in a filter pattern`);
  }
  return prefix;
}

/**
 * Authorizer decisions that refused the request (missing, malformed, invalid or revoked
 * credentials); a good credential's call refused for its permission or scope is not one.
 */
export function authFailurePattern(): logs.JsonPattern {
  return logs.FilterPattern.all(
    isAuthDecision(),
    fieldEquals(AUDIT_FIELDS.decision, AUTH_DECISION.deny),
    ...CALL_DENIAL_REASONS.map((reason) =>
      logs.FilterPattern.stringValue(selector(AUDIT_FIELDS.reason), '!=', reason),
    ),
  );
}

/**
 * The authorizer's refusals of a good credential's call: early deny (`item_forbidden`) and
 * gateway step-up (`insufficient_scope`).
 */
const CALL_DENIAL_REASONS: readonly AuthReason[] = ['item_forbidden', 'insufficient_scope'];

/**
 * Calls, reads and gets the authorizer refused by their 2026-07-28 headers: for a missing
 * permission (`-c earlyDeny=true`) or a scope the token lacks (gateway step-up). Counted as
 * denied calls, like the MCP function's own refusals.
 */
export function earlyDeniedCallPattern(): logs.JsonPattern {
  return logs.FilterPattern.all(
    isAuthDecision(),
    logs.FilterPattern.any(
      ...CALL_DENIAL_REASONS.map((reason) => fieldEquals(AUDIT_FIELDS.reason, reason)),
    ),
  );
}

/**
 * Access-log lines of requests API Gateway answered 401 without calling the authorizer (no
 * credential at all: "If a specified identity source is missing, null, or empty, API Gateway
 * returns a 401 Unauthorized response without calling the authorizer Lambda function"). The
 * authorizer writes no record of them, so its log alone would never count them; the access log
 * does, with no authorizer status (API Gateway writes `-` for a variable it has no value for).
 */
export function missingCredentialPattern(): logs.JsonPattern {
  const errorType: AccessLogField = 'errorType';
  const authorizerStatus: AccessLogField = 'authorizerStatus';
  return logs.FilterPattern.all(
    fieldEquals(errorType, 'UNAUTHORIZED'),
    fieldEquals(authorizerStatus, '-'),
  );
}

/**
 * Audit records of `event` written during a cold-start invocation. Restricting to one audit
 * event makes each match one invocation: the authorizer writes exactly one decision per
 * invocation, the MCP handler one record per tool call.
 */
export function coldStartPattern(event: AuditEvent): logs.JsonPattern {
  return logs.FilterPattern.all(
    fieldEquals(AUDIT_FIELDS.event, event),
    logs.FilterPattern.booleanValue(selector(POWERTOOLS_COLD_START_FIELD), true),
  );
}
