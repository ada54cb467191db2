/**
 * Audit log vocabulary. The CloudWatch metric filters and Contributor Insights rules are built
 * from these constants, so renaming a field here renames it everywhere.
 *
 * Records never contain tokens, API keys, secret values or raw tool arguments.
 */
import { createHash } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';

/** The `event` field of each audit record. */
export const AUDIT_EVENTS = {
  /** One per `tools/call`, whatever its outcome and whatever refused it. */
  toolCall: 'mcp.tool_call',
  /** One per `resources/read`, whatever its outcome. */
  resourceRead: 'mcp.resource_read',
  /** One per `prompts/get`, whatever its outcome. */
  promptGet: 'mcp.prompt_get',
  /** One per `completion/complete` that is refused (completions fire per keystroke). */
  completion: 'mcp.completion',
  /** One per authorizer decision. */
  authDecision: 'mcp.auth_decision',
  /** One per request to the OAuth client registration endpoint (RFC 7591). */
  clientRegistration: 'oauth.client_registration',
  /**
   * One per operator action of the `users` and `keys` CLIs (disable, sign-out, group change,
   * key revocation), written by the CLI where it runs.
   */
  operatorAction: 'ops.operator_action',
  /**
   * One per step of an authorization through the OAuth proxy (authorize, consent, callback,
   * token, refresh). The register step keeps its `clientRegistration` record, which carries
   * the same `step` and `client_kind` fields.
   */
  oauthAuthorization: 'oauth.authorization',
  /**
   * One per step of a person's approval of a call (`lambda/mcp/approvals.ts` asks and spends it,
   * the approval page beside the consent page gives or refuses it): the `step` field says which.
   */
  approval: 'mcp.approval',
} as const;
export type AuditEvent = (typeof AUDIT_EVENTS)[keyof typeof AUDIT_EVENTS];

/** Top-level JSON field names of audit records. */
export const AUDIT_FIELDS = {
  event: 'event',
  status: 'status',
  decision: 'decision',
  reason: 'reason',
  tool: 'tool',
  resource: 'resource',
  prompt: 'prompt',
  /** What a completion completes: a prompt's or a resource template's name. */
  target: 'target',
  permission: 'permission',
  caller: 'caller',
  authMethod: 'auth_method',
  keyId: 'key_id',
  groups: 'groups',
  durationMs: 'duration_ms',
  requestId: 'request_id',
  sourceIp: 'source_ip',
  argsDigest: 'args_digest',
  argsBytes: 'args_bytes',
  errorType: 'error_type',
  requestedTool: 'requested_tool',
  requested: 'requested',
  protocolEra: 'protocol_era',
  traceId: 'trace_id',
  /** What the argument rules (Cedar) said of a call, read or get some rule names: {@link RULE_VERDICTS}. */
  ruleVerdict: 'rule_verdict',
  /** The `@id`s of the rules that denied it (or would have, in log-only mode), never its arguments. */
  ruleIds: 'rule_ids',
  /** Why the rules could not be evaluated (then the call is denied): {@link RULE_ERRORS}. */
  ruleError: 'rule_error',
  outcome: 'outcome',
  httpStatus: 'http_status',
  oauthError: 'oauth_error',
  field: 'field',
  redirectUriCount: 'redirect_uri_count',
  clientNameLength: 'client_name_length',
  metadataDigest: 'metadata_digest',
  bodyBytes: 'body_bytes',
  step: 'step',
  clientKind: 'client_kind',
  /** The host of a CIMD client id (public by nature: it is a URL the client publishes). */
  clientHost: 'client_host',
  /** A short digest of the client id: correlates the steps of one client, never reversible. */
  clientDigest: 'client_digest',
  /** The host of the (validated) redirect URI. */
  redirectHost: 'redirect_host',
  /** The scopes asked for, as far as this server knows them. */
  scopes: 'scopes',
  /** A short digest of a refresh-token family: correlates one sign-in's refreshes. */
  familyDigest: 'family_digest',
  /** `true` when this request ended a refresh-token family (reuse, another client, sign-out). */
  familyEnded: 'family_ended',
  /** A short digest of an approval's id: correlates its steps, never the id itself. */
  approvalDigest: 'approval_digest',
  /**
   * The name a 2026-07-28 client gives itself (`_meta` clientInfo): its own claim, cut short,
   * never a metric dimension.
   */
  clientName: 'client_name',
  /** The id of the quota rule that refused a call, read or get (`modules/quotas.ts`). */
  quota: 'quota',
} as const;

/** Outcomes of a `tools/call`. */
export const TOOL_CALL_STATUS = {
  success: 'success',
  denied: 'denied',
  error: 'error',
  invalid: 'invalid',
  /**
   * Not run: answered with a request for a person's approval (a URL to open), which the call
   * needs before it may run (`lambda/mcp/approvals.ts`).
   */
  approvalRequired: 'approval_required',
  /** Over a per-caller quota (HTTP 429), or not counted because its counter failed (503). */
  rateLimited: 'rate_limited',
} as const;
export type ToolCallStatus = (typeof TOOL_CALL_STATUS)[keyof typeof TOOL_CALL_STATUS];

/**
 * The `error_type` of a `denied` call, read or get: which refusal answered it. Bounded values.
 */
export const DENIAL_REASONS = {
  /** No role of the caller grants the permission: JSON-RPC -32003. */
  permission: 'PermissionDenied',
  /**
   * A role grants the permission but the token's scopes exclude it: JSON-RPC -32003 naming the
   * scopes to authorize again with (`requiredScopes`).
   */
  scope: 'InsufficientScope',
} as const;
export type DenialReason = (typeof DENIAL_REASONS)[keyof typeof DENIAL_REASONS];

/**
 * The `error_type` of a call the argument rules (Cedar) denied: JSON-RPC -32003 naming the
 * rules (`deniedBy`). Kept beside {@link DENIAL_REASONS}, which the role gate's denials use.
 */
export const RULE_DENIAL_REASONS = {
  /** A `forbid` rule matched, or the item's `permit` rules all did not. */
  denied: 'RuleDenied',
  /** The rules could not be evaluated: denied, fail closed. */
  error: 'RuleError',
} as const;

/** The `rule_verdict` field: what the argument rules said of a call some rule names. */
export const RULE_VERDICTS = {
  allow: 'allow',
  deny: 'deny',
  /** Log-only mode: the rules deny it, the call runs, the record says so. */
  wouldDeny: 'would_deny',
} as const;
export type RuleVerdict = (typeof RULE_VERDICTS)[keyof typeof RULE_VERDICTS];

/** The `rule_error` field: why the rules could not be evaluated. Bounded values. */
export const RULE_ERRORS = [
  /** Cedar (its WebAssembly) could not be loaded. */
  'CedarUnavailable',
  /** The rules do not parse as the function holds them (`cdk synth` refuses such rules). */
  'RulesInvalid',
  /** An argument Cedar cannot hold exactly (a decimal with five places): never rounded. */
  'UnrepresentableInput',
  /** Cedar refused the request itself. */
  'EvaluationFailed',
  /** A rule raised an error evaluating this request (an overflow, a missing tag). */
  'RuleFailed',
] as const;
export type RuleError = (typeof RULE_ERRORS)[number];

/** What the argument rules said of one call, for its audit record. */
export interface RuleAudit {
  readonly verdict: RuleVerdict;
  /** The rules that denied it (or would have); empty when allowed. */
  readonly ruleIds: readonly string[];
  readonly error?: RuleError;
}

/**
 * The `error_type` of a tool call answered or refused for want of a person's approval
 * (`lambda/mcp/approvals.ts`). Bounded values.
 */
export const APPROVAL_ERROR_TYPES = {
  /** Answered with the approval URL (status `approval_required`): nothing ran. */
  required: 'ApprovalRequired',
  /** The person denied it on the approval page (or declined to open the URL in the client). */
  denied: 'ApprovalDenied',
  /**
   * No approval can be given: an API-key caller (no person signs in), arguments too large to
   * show, or the approvals table or key unreachable (fail closed).
   */
  unavailable: 'ApprovalUnavailable',
} as const;

/** The steps of an approval: the `step` field of an `mcp.approval` record. */
export const APPROVAL_STEPS = [
  /** A call needed approval: a pending approval was stored and its URL answered. */
  'requested',
  /** The approval page showed the call to the person who made it. */
  'shown',
  /** The page sent the person to sign in (again), or took them back from it. */
  'sign_in',
  'approved',
  'denied',
  /** A request or an approval was found past its time (noticed when next used). */
  'expired',
  /** An approved call ran: the approval is spent. */
  'consumed',
  /** The page or the retried call refused what it was given (the reason says why). */
  'refused',
] as const;
export type ApprovalStep = (typeof APPROVAL_STEPS)[number];

/** Why an approval step ended as it did: bounded values, safe as metric dimensions. */
export const APPROVAL_REASONS = [
  'ok',
  'sign_in_required',
  'sign_in_stale',
  'signed_in',
  'denied_by_person',
  /** The person declined, in the MCP client, to open the approval URL. */
  'declined_in_client',
  /** A denial still in force refused the same call again. */
  'still_denied',
  'request_expired',
  'approval_expired',
  'ticket_expired',
  /** An approval already spent (a replay, or the losers of concurrent retries). */
  'replayed',
  'invalid_ticket',
  /** Signed in as someone other than the person who made the call. */
  'wrong_person',
  /** The person's groups no longer grant the call's permission. */
  'role_not_allowed',
  'foreign_origin',
  'missing_browser_cookie',
  'form_browser_mismatch',
  'form_replayed',
  'invalid_form',
  /** The approval was decided, superseded or expired before this answer. */
  'not_pending',
  'invalid_sign_in',
  'sign_in_browser_mismatch',
  'sign_in_replayed',
  'upstream_denied',
  'upstream_error',
  'arguments_too_large',
  /** Arguments a schema parsed into something JSON cannot show as it is (a Map, a BigInt). */
  'arguments_not_json',
  /** A 2026-07-28 client that did not declare it can open a URL (`elicitation.url`). */
  'url_elicitation_unsupported',
  /** An API-key caller: no person can sign in to approve. */
  'no_person',
  'method_not_allowed',
  /** Store, key service or upstream unreachable: answered, fail closed. */
  'unavailable',
  'internal_error',
] as const;
export type ApprovalReason = (typeof APPROVAL_REASONS)[number];

/** One approval step. Never the arguments, the ticket, a cookie or a token. */
export interface ApprovalAudit {
  readonly step: ApprovalStep;
  readonly reason: ApprovalReason;
  /** The tool's name from the policy table, when the step knows it. */
  readonly tool?: string;
  readonly caller?: string;
  readonly authMethod?: string;
  readonly approvalDigest?: string;
  readonly argsDigest?: string;
  readonly argsBytes?: number;
  readonly clientName?: string;
  readonly protocolEra?: ProtocolEra;
  /** The approval page's HTTP status. */
  readonly httpStatus?: number;
  readonly requestId: string;
  readonly sourceIp: string;
}

/** Steps that say a call did not get (or keep) its approval: the monitoring counts them. */
export const REFUSED_APPROVAL_STEPS = [
  'denied',
  'expired',
  'refused',
] as const satisfies readonly ApprovalStep[];

/** Write one approval-step audit record. */
export function auditApproval(logger: Logger, record: ApprovalAudit): void {
  const F = AUDIT_FIELDS;
  const fields = {
    [F.event]: AUDIT_EVENTS.approval,
    [F.step]: record.step,
    [F.reason]: record.reason,
    [F.tool]: record.tool,
    [F.caller]: record.caller,
    [F.authMethod]: record.authMethod,
    [F.approvalDigest]: record.approvalDigest,
    [F.argsDigest]: record.argsDigest,
    [F.argsBytes]: record.argsBytes,
    [F.clientName]: record.clientName,
    [F.protocolEra]: record.protocolEra,
    [F.httpStatus]: record.httpStatus,
    [F.requestId]: record.requestId,
    [F.sourceIp]: record.sourceIp,
  };
  if (record.reason === 'unavailable' || record.reason === 'internal_error') {
    logger.error(AUDIT_EVENTS.approval, fields);
  } else if ((REFUSED_APPROVAL_STEPS as readonly string[]).includes(record.step)) {
    logger.warn(AUDIT_EVENTS.approval, fields);
  } else {
    logger.info(AUDIT_EVENTS.approval, fields);
  }
}

/** The `error_type` of a `rate_limited` call, read or get. Bounded values. */
export const QUOTA_REFUSALS = {
  /** The caller used the quota's whole window: HTTP 429, JSON-RPC -32023. */
  exceeded: 'QuotaExceeded',
  /** The quota's counter could not be read or written: HTTP 503, nothing ran. */
  unavailable: 'QuotaUnavailable',
} as const;

/** Outcomes of an authorizer decision. */
export const AUTH_DECISION = { allow: 'allow', deny: 'deny' } as const;
export type AuthDecision = (typeof AUTH_DECISION)[keyof typeof AUTH_DECISION];

/** Outcomes of a client registration request. */
export const REGISTRATION_OUTCOME = {
  registered: 'registered',
  refused: 'refused',
  error: 'error',
} as const;
export type RegistrationOutcome = (typeof REGISTRATION_OUTCOME)[keyof typeof REGISTRATION_OUTCOME];

/** The steps of an authorization through the OAuth proxy: the `step` field. */
export const AUTHORIZATION_STEPS = [
  'register',
  'authorize',
  'consent',
  'callback',
  'token',
  'refresh',
] as const;
export type AuthorizationStep = (typeof AUTHORIZATION_STEPS)[number];

/** How a client is identified: the `client_kind` field. */
export const CLIENT_KINDS = ['cimd', 'dcr', 'preregistered', 'unknown'] as const;
export type ClientKind = (typeof CLIENT_KINDS)[number];

/** The outcome of one authorization step. */
export const AUTHORIZATION_OUTCOME = {
  /** The step did what was asked (a consent page shown, a code or tokens issued). */
  ok: 'ok',
  /** The request was refused: bad input, a failed check, a denial by the person. */
  refused: 'refused',
  /** The server failed (upstream unreachable, a store or KMS error): answered, fail closed. */
  error: 'error',
} as const;
export type AuthorizationOutcome =
  (typeof AUTHORIZATION_OUTCOME)[keyof typeof AUTHORIZATION_OUTCOME];

/**
 * Why an authorization step ended as it did: bounded values, safe as metric dimensions. CIMD
 * refusals carry the resolver's own reason (`cimd_…`, SSRF refusals among them) instead.
 */
export const AUTHORIZATION_REASONS = [
  'ok',
  'consent_shown',
  'consent_remembered',
  'approved',
  'denied_by_user',
  'method_not_allowed',
  'duplicate_parameter',
  'invalid_client_id',
  'unknown_client',
  'invalid_redirect_uri',
  'redirect_uri_mismatch',
  'unsupported_response_type',
  'pkce_missing',
  'pkce_method_not_s256',
  'invalid_code_challenge',
  'resource_missing',
  'resource_mismatch',
  'invalid_scope',
  'invalid_state',
  'invalid_request',
  'foreign_origin',
  'missing_browser_cookie',
  'invalid_ticket',
  'ticket_expired',
  'ticket_browser_mismatch',
  'ticket_replayed',
  'invalid_transaction',
  'transaction_expired',
  'transaction_browser_mismatch',
  /** A transaction's callback opened again: one code per transaction. */
  'transaction_replayed',
  'upstream_error',
  'upstream_denied',
  'unsupported_grant_type',
  'invalid_code',
  'code_client_mismatch',
  'code_redirect_mismatch',
  'code_issuer_mismatch',
  'pkce_verifier_mismatch',
  'invalid_refresh_token',
  /** A refresh token of its family but not the current one: the family is ended. */
  'refresh_token_reused',
  /** A refresh token presented by another client than its own: the family is ended. */
  'refresh_client_mismatch',
  /** A refresh token of a family that has ended. */
  'refresh_family_ended',
  /** A refresh token another issuer (or resource) of a shared store issued. */
  'refresh_issuer_mismatch',
  /** The person was signed out or disabled since the family's sign-in: the family is ended. */
  'session_ended',
  'upstream_unavailable',
  'internal_error',
] as const;
export type AuthorizationReason = (typeof AUTHORIZATION_REASONS)[number] | `cimd_${string}`;

/**
 * One authorization step. What a caller sent is described, never copied: no token, code,
 * verifier, state, cookie, ticket or fetched document reaches the log.
 */
export interface AuthorizationAudit {
  readonly step: AuthorizationStep;
  readonly clientKind: ClientKind;
  readonly outcome: AuthorizationOutcome;
  readonly reason: AuthorizationReason;
  readonly httpStatus: number;
  /** The OAuth error code answered, for refusals. */
  readonly oauthError?: string;
  readonly clientHost?: string;
  readonly clientDigest?: string;
  readonly redirectHost?: string;
  readonly scopes?: readonly string[];
  readonly familyDigest?: string;
  readonly familyEnded?: boolean;
  readonly requestId: string;
  readonly sourceIp: string;
}

/** Write one authorization-step audit record. */
export function auditAuthorization(logger: Logger, record: AuthorizationAudit): void {
  const F = AUDIT_FIELDS;
  const fields = {
    [F.event]: AUDIT_EVENTS.oauthAuthorization,
    [F.step]: record.step,
    [F.clientKind]: record.clientKind,
    [F.outcome]: record.outcome,
    [F.reason]: record.reason,
    [F.httpStatus]: record.httpStatus,
    [F.oauthError]: record.oauthError,
    [F.clientHost]: record.clientHost,
    [F.clientDigest]: record.clientDigest,
    [F.redirectHost]: record.redirectHost,
    [F.scopes]: record.scopes,
    [F.familyDigest]: record.familyDigest,
    [F.familyEnded]: record.familyEnded,
    [F.requestId]: record.requestId,
    [F.sourceIp]: record.sourceIp,
  };
  if (record.outcome === AUTHORIZATION_OUTCOME.ok) {
    logger.info(AUDIT_EVENTS.oauthAuthorization, fields);
  } else if (record.outcome === AUTHORIZATION_OUTCOME.refused) {
    logger.warn(AUDIT_EVENTS.oauthAuthorization, fields);
  } else {
    logger.error(AUDIT_EVENTS.oauthAuthorization, fields);
  }
}

/** Why the authorizer decided as it did: bounded values, safe to use as metric dimensions. */
export const AUTH_REASONS = [
  'ok',
  'missing_credential',
  'wrong_scheme',
  'malformed_credential',
  'token_expired',
  'token_not_yet_valid',
  'invalid_signature',
  'invalid_algorithm',
  'wrong_issuer',
  'wrong_client',
  'wrong_token_use',
  'missing_scope',
  /** A scope in the token that cannot be carried intact: refused rather than dropped. */
  'malformed_scope',
  /** A claim the argument rules read (`-c ruleClaims`) too long to carry: refused, not dropped. */
  'malformed_claim',
  'unknown_kid',
  'invalid_token',
  'unknown_key',
  'wrong_secret',
  'key_revoked',
  'key_expired',
  /** An API key naming a role the deployment does not define (e.g. one since removed). */
  'key_unknown_role',
  /** A person's token issued before their not-before (disabled, signed out, groups changed). */
  'token_revoked',
  'jwks_unavailable',
  /** The not-before list could not be read recently enough: denied, fail closed. */
  'revocations_unavailable',
  'secret_unavailable',
  'internal_error',
  /**
   * Early deny: a valid credential asking (by its 2026-07-28 headers) for an item none of its
   * roles may use. Not an authentication failure; counted with the denied calls.
   */
  'item_forbidden',
  /**
   * Gateway step-up: a valid token asking (by its 2026-07-28 headers) for an item its roles
   * grant but its scopes exclude; answered 403 `insufficient_scope`. Not an authentication
   * failure; counted with the denied calls, as the MCP function's own scope refusal is.
   */
  'insufficient_scope',
  /**
   * A valid credential that expires before API Gateway's cached Allow would: refused (401) so
   * that no cached Allow outlives the credential it was made for; the client gets a new one.
   */
  'expires_within_cache',
] as const;
export type AuthReason = (typeof AUTH_REASONS)[number];

/** The `tool` value of calls naming no known tool: keeps the field a bounded metric dimension. */
export const UNKNOWN_TOOL = '(unknown)';
/** The name value of any request naming no known item, whatever its kind. */
export const UNKNOWN_ITEM = UNKNOWN_TOOL;

/** Which protocol a request spoke: the 2026-07-28 per-request envelope, or a 2025-era one. */
export const PROTOCOL_ERAS = ['modern', 'legacy'] as const;
export type ProtocolEra = (typeof PROTOCOL_ERAS)[number];

/** The kinds of audited request, each with its event and the field naming its item. */
export const CALL_KINDS = {
  tool: { event: AUDIT_EVENTS.toolCall, field: AUDIT_FIELDS.tool },
  resource: { event: AUDIT_EVENTS.resourceRead, field: AUDIT_FIELDS.resource },
  prompt: { event: AUDIT_EVENTS.promptGet, field: AUDIT_FIELDS.prompt },
  completion: { event: AUDIT_EVENTS.completion, field: AUDIT_FIELDS.target },
} as const;
export type CallKind = keyof typeof CALL_KINDS;

/** One audited request: a tool call, a resource read, a prompt get, a refused completion. */
export interface CallAudit {
  readonly kind: CallKind;
  readonly status: ToolCallStatus;
  /** The item's name from the policy table, or {@link UNKNOWN_ITEM}. */
  readonly item: string;
  /** For unknown items: what the caller asked for, cut to 64 characters. */
  readonly requested?: string;
  readonly permission?: string;
  readonly caller: string;
  readonly authMethod: string;
  readonly keyId: string;
  readonly groups: readonly string[];
  readonly durationMs: number;
  readonly requestId: string;
  readonly sourceIp: string;
  /** Digest of the arguments (tools, prompts) or of the URI (resources). */
  readonly argsDigest: string;
  readonly argsBytes: number;
  readonly errorType?: string;
  readonly protocolEra: ProtocolEra;
  /** The W3C trace id of the request's `_meta.traceparent`, when it carries a valid one. */
  readonly traceId?: string;
  /** What the argument rules said, when some rule names the item. */
  readonly rules?: RuleAudit;
  /** The quota rule that refused it. */
  readonly quota?: string;
}

export interface AuthDecisionAudit {
  readonly decision: AuthDecision;
  readonly reason: AuthReason;
  /** An early deny: the item the request named (in the field of its kind) and its permission. */
  readonly forbidden?: {
    readonly kind: CallKind;
    readonly item: string;
    readonly permission: string;
  };
  readonly authMethod?: string;
  readonly caller?: string;
  readonly keyId?: string;
  readonly groups?: readonly string[];
  readonly requestId?: string;
  readonly sourceIp?: string;
}

/**
 * One request to the registration endpoint. Counts and a digest only: the metadata is written
 * by whoever calls an unauthenticated endpoint, so none of it is logged as sent.
 */
export interface ClientRegistrationAudit {
  readonly outcome: RegistrationOutcome;
  readonly httpStatus: number;
  /** The OAuth error code answered, for refusals. */
  readonly oauthError?: string;
  /** The metadata field at fault, from a fixed list. */
  readonly field?: string;
  readonly redirectUriCount?: number;
  readonly clientNameLength?: number;
  /** SHA-256 of the body as sent: spots one client registering over and over. */
  readonly metadataDigest?: string;
  readonly bodyBytes: number;
  readonly requestId: string;
  readonly sourceIp: string;
}

/** JSON with object keys sorted, so equal arguments always give equal digests. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * A digest of tool arguments: lets an investigator tell "the same call, 500 times" from
 * "500 different calls" without the log holding the arguments themselves.
 */
export function digestArguments(args: unknown): { digest: string; bytes: number } {
  const canonical = canonicalJson(args ?? {});
  return {
    digest: `sha256:${createHash('sha256').update(canonical).digest('hex')}`,
    bytes: Buffer.byteLength(canonical),
  };
}

/**
 * Write the one audit record of a call, read, get or refused completion. Tool calls use the field
 * names `tool` and `requested_tool`, which the metric filters and dashboards read.
 */
export function auditCall(logger: Logger, record: CallAudit): void {
  const F = AUDIT_FIELDS;
  const { event, field } = CALL_KINDS[record.kind];
  const fields = {
    [F.event]: event,
    [F.status]: record.status,
    [field]: record.item,
    [record.kind === 'tool' ? F.requestedTool : F.requested]: record.requested,
    [F.permission]: record.permission,
    [F.caller]: record.caller,
    [F.authMethod]: record.authMethod,
    [F.keyId]: record.keyId || undefined,
    [F.groups]: record.groups,
    [F.durationMs]: record.durationMs,
    [F.requestId]: record.requestId,
    [F.sourceIp]: record.sourceIp,
    [F.argsDigest]: record.argsDigest,
    [F.argsBytes]: record.argsBytes,
    [F.errorType]: record.errorType,
    [F.ruleVerdict]: record.rules?.verdict,
    [F.ruleIds]: record.rules?.ruleIds,
    [F.ruleError]: record.rules?.error,
    [F.protocolEra]: record.protocolEra,
    [F.traceId]: record.traceId,
    [F.quota]: record.quota,
  };
  if (record.status === TOOL_CALL_STATUS.error) logger.error(event, fields);
  else if (record.status === TOOL_CALL_STATUS.success) logger.info(event, fields);
  else logger.warn(event, fields);
}

/** Write one authorizer decision audit record. */
export function auditAuthDecision(logger: Logger, record: AuthDecisionAudit): void {
  const F = AUDIT_FIELDS;
  const fields = {
    [F.event]: AUDIT_EVENTS.authDecision,
    [F.decision]: record.decision,
    [F.reason]: record.reason,
    ...(record.forbidden === undefined
      ? {}
      : {
          [CALL_KINDS[record.forbidden.kind].field]: record.forbidden.item,
          [F.permission]: record.forbidden.permission,
        }),
    [F.authMethod]: record.authMethod,
    [F.caller]: record.caller,
    [F.keyId]: record.keyId || undefined,
    [F.groups]: record.groups,
    [F.requestId]: record.requestId,
    [F.sourceIp]: record.sourceIp,
  };
  if (record.decision === AUTH_DECISION.allow) logger.info(AUDIT_EVENTS.authDecision, fields);
  else logger.warn(AUDIT_EVENTS.authDecision, fields);
}

/** Write one client registration audit record. */
export function auditClientRegistration(logger: Logger, record: ClientRegistrationAudit): void {
  const F = AUDIT_FIELDS;
  const fields = {
    [F.event]: AUDIT_EVENTS.clientRegistration,
    [F.step]: 'register' satisfies AuthorizationStep,
    [F.clientKind]: 'dcr' satisfies ClientKind,
    [F.outcome]: record.outcome,
    [F.httpStatus]: record.httpStatus,
    [F.oauthError]: record.oauthError,
    [F.field]: record.field,
    [F.redirectUriCount]: record.redirectUriCount,
    [F.clientNameLength]: record.clientNameLength,
    [F.metadataDigest]: record.metadataDigest,
    [F.bodyBytes]: record.bodyBytes,
    [F.requestId]: record.requestId,
    [F.sourceIp]: record.sourceIp,
  };
  if (record.outcome === REGISTRATION_OUTCOME.registered) {
    logger.info(AUDIT_EVENTS.clientRegistration, fields);
  } else if (record.outcome === REGISTRATION_OUTCOME.refused) {
    logger.warn(AUDIT_EVENTS.clientRegistration, fields);
  } else {
    logger.error(AUDIT_EVENTS.clientRegistration, fields);
  }
}
