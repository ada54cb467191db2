/**
 * The REQUEST authorizer's handler: read the credential, decide, audit, answer. Thin: the
 * decision lives in `decide.ts`, the policies in `policy-document.ts`.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type {
  APIGatewayAuthorizerResult,
  APIGatewayRequestAuthorizerEvent,
  Context,
} from 'aws-lambda';
import {
  AUTH_DECISION,
  type AuthDecisionAudit,
  type AuthReason,
  auditAuthDecision,
} from '../shared/audit';
import { toAuthorizerContext } from '../shared/principal';
import { type DecideDeps, decide } from './decide';
import { type EarlyDenyPolicy, forbiddenItem, narrowedItem } from './early-deny';
import { allowPolicy, denyPolicy } from './policy-document';

export interface AuthorizerDeps extends DecideDeps {
  readonly logger: Logger;
  /**
   * Early deny: refuse a 2026-07-28 request whose headers name an item none of the caller's
   * roles may use. Only with API Gateway's authorizer cache off (see `early-deny.ts`).
   * Absent: every valid credential gets the Allow, and the MCP Lambda judges the item.
   */
  readonly earlyDeny?: EarlyDenyPolicy;
  /**
   * Gateway step-up (`-c gatewayStepUp=true`): deny a 2026-07-28 request whose headers name an
   * item its roles grant but its token's scopes exclude, with the scopes it needs in the
   * Deny's context; the stack's ACCESS_DENIED gateway response carries the challenge. Only
   * with API Gateway's authorizer cache off.
   */
  readonly stepUp?: { readonly policy: EarlyDenyPolicy; readonly audienceScope: string };
  /**
   * API Gateway's authorizer result TTL in seconds (0: no caching). A credential expiring
   * within it is refused, so that no cached Allow outlives its credential. @default 0
   */
  readonly cacheTtlSeconds?: number;
  /** @default Date.now */
  readonly now?: () => number;
}

/**
 * A credential could not be checked (JWKS, the key secret, the not-before list unavailable):
 * thrown, so API Gateway answers 5xx (AUTHORIZER_CONFIGURATION_ERROR) and caches nothing. A
 * Deny would be cached for the TTL and keep refusing the caller after the dependency is back.
 */
export class AuthorizerUnavailableError extends Error {
  override readonly name = 'AuthorizerUnavailableError';
}

export type AuthorizerHandler = (
  event: APIGatewayRequestAuthorizerEvent,
  context?: Context,
) => Promise<APIGatewayAuthorizerResult>;

/** The message API Gateway turns into a 401; any other error becomes a 500. */
export const UNAUTHORIZED = 'Unauthorized';

export function createAuthorizerHandler(deps: AuthorizerDeps): AuthorizerHandler {
  const { logger } = deps;
  return async (event, context) => {
    if (context !== undefined) logger.addContext(context);
    const requestId = event.requestContext?.requestId;
    const sourceIp = event.requestContext?.identity?.sourceIp;
    const decision = await decide(event, deps);

    if (decision.effect === 'allow') {
      const { principal } = decision;
      /** The audit record of refusing this good credential's request, for `reason`. */
      const auditDeny = (
        reason: AuthReason,
        extra: Pick<AuthDecisionAudit, 'forbidden' | 'groups'> = {},
      ) =>
        auditAuthDecision(logger, {
          decision: AUTH_DECISION.deny,
          reason,
          authMethod: principal.authMethod,
          caller: principal.principalId,
          keyId: principal.keyId,
          requestId,
          sourceIp,
          ...extra,
        });
      // API Gateway caches this answer for the TTL: a credential that expires sooner is refused
      // now, and the client's 401 (with the challenge) makes it get a new one.
      const ttl = deps.cacheTtlSeconds ?? 0;
      const nowSeconds = (deps.now ?? Date.now)() / 1000;
      if (ttl > 0 && principal.expiresAt !== undefined && principal.expiresAt <= nowSeconds + ttl) {
        auditDeny('expires_within_cache');
        throw new Error(UNAUTHORIZED);
      }
      // Gateway step-up, then early deny: steps of their own after the credential is known good.
      const narrowed =
        deps.stepUp === undefined
          ? undefined
          : narrowedItem(deps.stepUp.policy, principal, event, deps.stepUp.audienceScope);
      if (narrowed !== undefined) {
        auditDeny('insufficient_scope', { forbidden: narrowed, groups: principal.groups });
        // Never cached: gateway step-up runs only with the authorizer cache off.
        return denyPolicy(event.methodArn, principal.principalId, narrowed.requiredScopes);
      }
      const forbidden =
        deps.earlyDeny === undefined ? undefined : forbiddenItem(deps.earlyDeny, principal, event);
      if (forbidden !== undefined) {
        auditDeny('item_forbidden', { forbidden, groups: principal.groups });
        // Never cached: early deny runs only with the authorizer cache off.
        return denyPolicy(event.methodArn, principal.principalId);
      }
      let result: APIGatewayAuthorizerResult;
      try {
        result = allowPolicy(event.methodArn, toAuthorizerContext(principal));
      } catch (error) {
        logger.error('Could not build the Allow policy', { error_type: errorName(error) });
        auditDeny('internal_error');
        return denyPolicy(event.methodArn, principal.principalId);
      }
      auditAuthDecision(logger, {
        decision: AUTH_DECISION.allow,
        reason: 'ok',
        authMethod: principal.authMethod,
        caller: principal.principalId,
        keyId: principal.keyId,
        groups: principal.groups,
        requestId,
        sourceIp,
      });
      return result;
    }

    auditAuthDecision(logger, {
      decision: AUTH_DECISION.deny,
      reason: decision.reason,
      authMethod: decision.authMethod,
      caller: decision.caller,
      keyId: decision.keyId,
      requestId,
      sourceIp,
    });
    if (decision.effect === 'deny') {
      logger.error('Failing closed: the credential could not be checked', {
        reason: decision.reason,
        cause: describeCause(decision.cause),
      });
      throw new AuthorizerUnavailableError(
        `The credential could not be checked (${decision.reason})`,
      );
    }
    throw new Error(UNAUTHORIZED);
  };
}

/**
 * The chain of errors behind a deny, as `Name: message` lines cut to a safe length: enough to
 * tell AccessDenied from a KMS failure or a schema error. These messages come from the SDK,
 * aws-jwt-verify (raw JWTs are left out of its errors) and our own errors, which name key ids
 * and paths but never key material.
 */
export function describeCause(cause: unknown): string[] {
  const chain: string[] = [];
  let current: unknown = cause;
  while (current instanceof Error && chain.length < 5) {
    chain.push(`${current.name}: ${current.message}`.slice(0, 300));
    current = current.cause;
  }
  return chain;
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}
