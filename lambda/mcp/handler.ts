/**
 * The MCP Lambda handler: both protocol eras (2026-07-28 and stateless 2025-11-25) from one
 * SDK v2 handler, over an API Gateway REST proxy event.
 *
 * In order, before any SDK code runs: method and Origin, the principal the authorizer vouched
 * for, the body (size, JSON, JSON-RPC shape), then the policy gate, which refuses a forbidden
 * (or unknown) tool, resource, prompt or completion. Whatever answers a call, read or get
 * (the gate, the SDK, the item), it leaves exactly one audit record, written when the answer
 * is complete. A new server per request (the factory); the SDK handler, the gate and the
 * modules' clients live for the Lambda instance.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import {
  classifyInboundRequest,
  createMcpHandler as createSdkHandler,
  PROTOCOL_VERSION_META_KEY,
} from '@modelcontextprotocol/server';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import {
  DENIAL_REASONS,
  type ProtocolEra,
  QUOTA_REFUSALS,
  RULE_VERDICTS,
  TOOL_CALL_STATUS,
} from '../shared/audit';
import { failureName } from '../shared/aws/error';
import type { RuleMode } from '../shared/env';
import { getHeader } from '../shared/headers';
import { effectivePermissions, type PolicyTable } from '../shared/policy';
import {
  ExpiredPrincipalError,
  InvalidPrincipalError,
  type Principal,
  parsePrincipal,
} from '../shared/principal';
import { type Approvals, createApprovals } from './approvals';
import { CallRecord, type RequestMeta, traceIdOf } from './call-record';
import { createGate, gatedRequest, INVALID_PARAMS_CODE, isMalformed, judge } from './gate';
import {
  checkBody,
  checkRequestLine,
  corsHeaders,
  type EdgeConfig,
  HYGIENE_HEADERS,
  JSONRPC,
  jsonRpcError,
  jsonRpcErrorFor,
  toWebRequest,
} from './http';
import { describeError } from './local-error-detail';
import type { LoadedModule } from './module-loader';
import { type QuotaGate, quotaRefusal } from './quotas';
import type { RequestStateKeyRing, RequestStateLedger } from './request-state';
import {
  headersOf,
  type McpResponse,
  outcomeOf,
  parseMessage,
  passSse,
  redactInternalErrors,
  type StreamWatcher,
  sseText,
} from './response';
import { type CedarLoader, createRules } from './rules';
import { authInfoFor, createServerFactory, type DescribeFailure } from './server';
import {
  challengeScopes,
  compileStepUp,
  insufficientScopeRefusal,
  type StepUpOptions,
} from './step-up';

/**
 * How long before the Lambda's own timeout a call is cancelled, so its answer can still end
 * with a JSON-RPC error instead of being cut off mid-stream.
 */
export const DEADLINE_MARGIN_MS = 2000;

export interface McpHandlerDeps {
  readonly config: EdgeConfig;
  readonly policy: PolicyTable;
  readonly modules: readonly LoadedModule[];
  readonly logger: Logger;
  readonly now?: () => Date;
  /** Per-caller quotas, taken before any item code runs (absent: none). */
  readonly quotas?: QuotaGate;
  /** Seals multi-round request state (see `ServerFactoryDeps.requestStateKey`). */
  readonly requestStateKey?: Uint8Array | string | RequestStateKeyRing;
  /** Spent request states (see `ServerFactoryDeps.requestStateLedger`). */
  readonly requestStateLedger?: RequestStateLedger;
  /**
   * Narrowed scopes: a request its roles permit but its token's scopes exclude gets the gate's
   * -32003 naming the scopes to authorize again with (`requiredScopes`). Absent: it gets the
   * -32003 of a role denial.
   */
  readonly stepUp?: StepUpOptions;
  /**
   * In a streamed answer, each notification before the answer is followed by an SSE comment
   * bringing the bytes since the last one up to this many, so it leaves the Lambda at once
   * (`stream-flush.ts`). 0 or absent: off.
   */
  readonly streamFlushBytes?: number;
  /**
   * The modules' argument rules (Cedar): `enforce` (default) or `log-only`, and where Cedar is
   * loaded from (a test's stand-in). A deployment whose modules have no rules loads no Cedar.
   */
  readonly rules?: { readonly mode?: RuleMode; readonly loadCedar?: CedarLoader };
  /**
   * Which tool calls need a person's approval, and the gate that takes it
   * (`createApprovals`). Default: none can be given, so every call needing one is refused.
   */
  readonly approvals?: Approvals;
  /**
   * Local mode only (the local gateway sets `MCP_LOCAL_ERROR_DETAIL`): a failing item's error,
   * its class and message with secrets redacted, goes to the caller and into the log, and an
   * internal error (-32603) keeps its message, redacted. Off, as in AWS always: the caller gets
   * the request id, the log the error's name.
   */
  readonly localErrorDetail?: boolean;
}

export type McpHandler = (event: APIGatewayProxyEvent, context?: Context) => Promise<McpResponse>;

export function createMcpHandler(deps: McpHandlerDeps): McpHandler {
  const handle = createHandler(deps);
  return async (event, context) => {
    const result = await handle(event, context);
    const streamed = typeof result.body !== 'string';
    return {
      ...result,
      headers: overriding(result.headers, {
        ...HYGIENE_HEADERS,
        // An event stream must also reach the client untouched (no proxy compression or buffering).
        ...(streamed ? { 'Cache-Control': 'no-store, no-transform' } : {}),
        ...corsHeaders(event, deps.config),
      }),
    };
  };
}

const SUBSCRIPTION_ID_KEY = 'io.modelcontextprotocol/subscriptionId';

/**
 * The answer to a 2026-07-28 `subscriptions/listen`: acknowledged with nothing subscribed (a
 * deployment's lists never change, and a stateless instance has no one to tell if they did),
 * then ended gracefully with its result. Held open instead, each listener would keep a Lambda
 * running to its timeout for nothing.
 */
function endedSubscription(id: unknown): McpResponse {
  const meta = { [SUBSCRIPTION_ID_KEY]: id };
  const frames = [
    {
      jsonrpc: '2.0',
      method: 'notifications/subscriptions/acknowledged',
      params: { _meta: meta, notifications: {} },
    },
    { jsonrpc: '2.0', id, result: { resultType: 'complete', _meta: meta } },
  ];
  return {
    statusCode: 200,
    headers: { 'Content-Type': 'text/event-stream' },
    body: frames.map(sseText).join(''),
  };
}

/** `headers` with `extra` set over them, whatever the case of the names on either side. */
function overriding(
  headers: Record<string, string>,
  extra: Record<string, string>,
): Record<string, string> {
  const replaced = new Set(Object.keys(extra).map((name) => name.toLowerCase()));
  return {
    ...Object.fromEntries(
      Object.entries(headers).filter(([name]) => !replaced.has(name.toLowerCase())),
    ),
    ...extra,
  };
}

/** The first revision of the modern era (the per-request envelope). */
const FIRST_MODERN_REVISION = '2026-07-28';

/** The era a request speaks, as the SDK will classify it. */
function eraOf(event: APIGatewayProxyEvent, parsedBody: unknown): ProtocolEra {
  const protocolVersionHeader = getHeader(event, 'mcp-protocol-version');
  const outcome = classifyInboundRequest({
    httpMethod: event.httpMethod,
    protocolVersionHeader,
    mcpMethodHeader: getHeader(event, 'mcp-method'),
    mcpNameHeader: getHeader(event, 'mcp-name'),
    body: parsedBody,
  });
  if (outcome.kind === 'legacy') return 'legacy';
  // A ladder rejection is the modern path's own answer to a malformed modern request...
  if (outcome.kind === 'modern' || outcome.rung !== 'jsonrpc-shape') return 'modern';
  // ...but a body that is no JSON-RPC message at all (a bad `_meta`, progress token or id) may
  // come from either era: its envelope claim or its version header says which.
  const meta = (parsedBody as { params?: { _meta?: unknown } }).params?._meta;
  const claimsModern =
    typeof meta === 'object' && meta !== null && PROTOCOL_VERSION_META_KEY in meta;
  const headerModern = (protocolVersionHeader?.trim() ?? '') >= FIRST_MODERN_REVISION;
  return claimsModern || headerModern ? 'modern' : 'legacy';
}

function createHandler(deps: McpHandlerDeps): McpHandler {
  const { logger, policy } = deps;
  const gate = createGate(policy);
  const rules = createRules(
    deps.modules.map(({ module }) => module),
    { ...deps.rules, logger, ...(deps.now === undefined ? {} : { now: deps.now }) },
  );
  const stepUp = deps.stepUp === undefined ? undefined : compileStepUp(policy, deps.stepUp);
  const localDetail = deps.localErrorDetail === true;
  // Local mode: the author sees why in the dev terminal too (the audit record never has it).
  const describeFailure: DescribeFailure | undefined = localDetail
    ? (what, error) => {
        const why = describeError(error);
        logger.error(`${what} failed (local mode: its error, secrets redacted)`, {
          error_type: failureName(error),
          error: why,
        });
        return why;
      }
    : undefined;
  const factory = createServerFactory({
    modules: deps.modules,
    now: deps.now,
    requestStateKey: deps.requestStateKey,
    requestStateLedger: deps.requestStateLedger,
    approvals: deps.approvals ?? createApprovals(deps.modules, { logger }),
    ...(describeFailure === undefined ? {} : { describeFailure }),
    // The state is refused (-32602) all the same; the operator must hear of it.
    onRequestStateUnavailable: (error) =>
      logger.error('Could not check multi-round request state: its keys or ledger failed', {
        error_type: failureName(error),
      }),
  });
  const sdk = createSdkHandler(factory, {
    legacy: 'stateless',
    responseMode: 'auto',
    onerror: (error) =>
      logger.debug('MCP SDK refused or failed a request', { error_type: error.name }),
  });

  return async (event, context) => {
    if (context !== undefined) logger.addContext(context);
    const early = checkRequestLine(event, deps.config);
    if (early !== undefined) return early;

    let principal: Principal;
    try {
      principal = parsePrincipal(event.requestContext?.authorizer);
    } catch (error) {
      if (error instanceof ExpiredPrincipalError) {
        // A cached Allow outlived the credential: the client must get a fresh one.
        return jsonRpcError(401, JSONRPC.refused, 'Unauthorized: the credential has expired', {
          'WWW-Authenticate':
            'Bearer error="invalid_token", error_description="The credential has expired"',
        });
      }
      // Only a route deployed without the authorizer gets here: refuse, never default a role.
      logger.error('Refusing a request without a valid authorizer context', {
        error_type: error instanceof InvalidPrincipalError ? error.name : 'Unknown',
      });
      return jsonRpcError(401, JSONRPC.refused, 'Unauthorized');
    }

    const body = checkBody(event, deps.config);
    if (!body.ok) return body.response;
    const { parsedBody } = body;
    const id = (parsedBody as { id?: unknown }).id;
    const meta: RequestMeta = {
      requestId: event.requestContext?.requestId ?? context?.awsRequestId ?? 'unknown',
      sourceIp: event.requestContext?.identity?.sourceIp ?? 'unknown',
    };
    const era = eraOf(event, parsedBody);
    if (
      era === 'modern' &&
      (parsedBody as { method?: unknown }).method === 'subscriptions/listen'
    ) {
      return endedSubscription(id);
    }
    const granted = effectivePermissions(policy, principal.groups, principal.scopes);

    // The gate: policy before anything else.
    const gated = gatedRequest(parsedBody, era);
    let call: CallRecord | undefined;
    if (gated !== undefined) {
      call = new CallRecord(gated, era, traceIdOf(parsedBody));
      const refuse = (
        code: number,
        message: string,
        data?: Record<string, unknown>,
        statusCode?: number,
      ) => {
        (call as CallRecord).write(logger, principal, meta);
        const answer = jsonRpcErrorFor(id, code, message, data);
        return statusCode === undefined ? answer : { ...answer, statusCode };
      };
      const verdict = judge(gate, gated, granted, era);
      // Permission first: a forbidden item is denied whatever shape its params are in.
      const denied = 'refusal' in verdict && verdict.refusal.status === 'denied';
      if (isMalformed(gated) && !denied) {
        if ('item' in verdict) call.item = verdict.item;
        call.settle(TOOL_CALL_STATUS.invalid, 'InvalidParams');
        return refuse(INVALID_PARAMS_CODE, `Invalid params: ${gated.problem}`);
      }
      if ('refusal' in verdict) {
        const { refusal } = verdict;
        call.item = refusal.item;
        // Narrowed scope: only for what the roles grant and the token's scopes exclude.
        const { permission } = refusal;
        const scopes =
          stepUp !== undefined && permission !== undefined
            ? challengeScopes(policy, stepUp, principal, permission)
            : undefined;
        if (stepUp !== undefined && permission !== undefined && scopes !== undefined) {
          call.settle(refusal.status, DENIAL_REASONS.scope);
          const answer = insufficientScopeRefusal(
            { ...refusal, permission },
            scopes,
            stepUp.resourceMetadataUrl(getHeader(event, 'host')),
          );
          return refuse(answer.code, answer.message, answer.data);
        }
        call.settle(refusal.status, refusal.errorType);
        return refuse(refusal.code, refusal.message, refusal.data);
      }
      call.item = verdict.item;
      // Then the item's argument rules (Cedar), if any names it: still before any item code,
      // and before the quotas, so that a request the rules refuse spends none of its quota.
      const ruled = await rules.judge(call, principal);
      if (ruled !== undefined) {
        call.settle(ruled.status, ruled.errorType);
        return refuse(ruled.code, ruled.message, ruled.data, ruled.httpStatus);
      }
      // Quotas: each counting this call, read or get takes one use before any item code runs.
      if (deps.quotas !== undefined && gated.kind !== 'completion' && !('subscription' in gated)) {
        const admission = await deps.quotas.admit(principal, verdict.item);
        if (admission.kind !== 'admitted') {
          call.quota = admission.rule.id;
          if (admission.kind === 'unavailable') {
            logger.error('Refusing a use its quota could not count: the counter failed', {
              quota: admission.rule.id,
              error_type: failureName(admission.error),
            });
          }
          call.settle(
            TOOL_CALL_STATUS.rateLimited,
            admission.kind === 'limited' ? QUOTA_REFUSALS.exceeded : QUOTA_REFUSALS.unavailable,
          );
          call.write(logger, principal, meta);
          return quotaRefusal(admission, id);
        }
      }
      // Completions and subscriptions are audited when refused (or, in log-only mode, when the
      // rules would have refused them); an allowed one is not a call.
      if (
        (gated.kind === 'completion' || 'subscription' in gated) &&
        call.rules?.verdict !== RULE_VERDICTS.wouldDeny
      ) {
        call = undefined;
      }
    }

    const write = () => call?.write(logger, principal, meta);
    // Cancel the call ahead of the Lambda's timeout (the SDK passes the signal to the item).
    const remaining = context?.getRemainingTimeInMillis?.();
    const deadline =
      remaining === undefined
        ? undefined
        : AbortSignal.timeout(Math.max(remaining - DEADLINE_MARGIN_MS, 1));
    try {
      const response = await sdk.fetch(toWebRequest(event, body.body, deadline), {
        authInfo: authInfoFor({
          principal,
          granted,
          requestId: meta.requestId,
          sourceIp: meta.sourceIp,
          call,
        }),
        parsedBody,
      });
      const headers = headersOf(response);
      if (deadline?.aborted === true && response.status === 499) {
        // The SDK gave up on the exchange at our deadline: answer that, not an empty 499.
        call?.settle(TOOL_CALL_STATUS.error, 'Deadline');
        write();
        return jsonRpcErrorFor(
          id,
          JSONRPC.internalError,
          'Internal error: the request did not finish in time',
        );
      }
      if (response.body === null) {
        write();
        return { statusCode: response.status, headers, body: '' };
      }
      if (!(headers['content-type'] ?? '').startsWith('text/event-stream')) {
        const text = await response.text();
        if (call !== undefined && !call.settled) {
          const { status, errorType } = outcomeOf(response.status, parseMessage(text));
          call.settle(status, errorType);
        }
        write();
        return {
          statusCode: response.status,
          headers,
          body: redactInternalErrors(text, localDetail),
        };
      }
      // The record is written when the answer passes, before it goes out: whoever has the
      // answer can find its record (a Lambda frozen or killed after answering loses nothing).
      let written = false;
      const writeOnce = () => {
        if (written) return;
        written = true;
        write();
      };
      const watcher: StreamWatcher = {
        onMessage: (message) => {
          if (!('id' in message) || !('result' in message || 'error' in message)) return;
          if (call !== undefined && !call.settled) {
            const { status, errorType } = outcomeOf(response.status, message);
            call.settle(status, errorType);
          }
          writeOnce();
        },
        onEnd: (error) => {
          if (call !== undefined && !call.settled) {
            call.settle(TOOL_CALL_STATUS.error, error === undefined ? 'NoAnswer' : 'StreamFailed');
          }
          writeOnce();
        },
      };
      const stream = passSse(response.body, id, watcher, deps.streamFlushBytes, localDetail);
      return { statusCode: response.status, headers, body: stream };
    } catch (error) {
      logger.error('Unhandled error in the MCP handler', {
        error_type: error instanceof Error ? error.name : typeof error,
      });
      call?.settle(TOOL_CALL_STATUS.error, error instanceof Error ? error.name : typeof error);
      write();
      return jsonRpcError(500, JSONRPC.internalError, 'Internal error');
    }
  };
}
