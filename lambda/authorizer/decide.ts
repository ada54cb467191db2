/**
 * The authorizer's decision, as a pure-ish function of the request and its injected ports.
 * Every path ends in exactly one of: allow (with a principal), unauthorized (401: the
 * credential is missing or bad) or deny (403: we could not check, so we fail closed).
 */
import * as z from 'zod/mini';
import type { AuthReason } from '../shared/audit';
import { type Principal, parseScopes, safeGroupNames } from '../shared/principal';
import type { IssuedTimes } from '../shared/revocations';
import { type ApiKeyStore, ApiKeysUnavailableError } from './api-key-store';
import { type AccessTokenVerifier, reasonForJwtError } from './cognito';
import { readCredential } from './credential';
import { checkRevocation, type RevocationCheck } from './revocation-check';

export type Decision =
  | {
      readonly effect: 'allow';
      readonly principal: Principal;
      /** When the credential was issued, for the not-before list (tokens only). */
      readonly issued?: IssuedTimes;
    }
  | {
      readonly effect: 'unauthorized' | 'deny';
      readonly reason: AuthReason;
      readonly authMethod?: Principal['authMethod'];
      readonly caller?: string;
      readonly keyId?: string;
      /** For a deny: what could not be checked, for the operator's log (never the credential). */
      readonly cause?: unknown;
    };

export interface DecideDeps {
  readonly verifier: AccessTokenVerifier;
  readonly apiKeys: Pick<ApiKeyStore, 'verify'>;
  /**
   * The deployment's roles (`API_KEY_ROLES`): a key naming any other is refused
   * (`key_unknown_role`), never served with the roles that remain, and the other keys are
   * untouched. The key document itself accepts any role name, so removing a role from a
   * deployment never makes the document unreadable.
   */
  readonly apiKeyRoles: ReadonlySet<string>;
  /**
   * The operator's not-before list (`users` and `keys revoke`), checked after a credential
   * verified. Every deployed and local authorizer sets it; without it nothing is refused by it.
   */
  readonly revocations?: RevocationCheck;
}

export interface CredentialCarrier {
  readonly headers?: Record<string, string | undefined> | null;
  readonly multiValueHeaders?: Record<string, string[] | undefined> | null;
}

/** The claims the authorizer relies on, beyond what aws-jwt-verify has already checked. */
const accessClaimsSchema = z.object({
  sub: z.string().check(z.minLength(1), z.maxLength(256)),
  exp: z.number(),
  iat: z.optional(z.number()),
  auth_time: z.optional(z.number()),
  scope: z.optional(z.string().check(z.maxLength(8192))),
  'cognito:groups': z.optional(z.array(z.string().check(z.maxLength(256))).check(z.maxLength(100))),
});

async function decideJwt(token: string, verifier: AccessTokenVerifier): Promise<Decision> {
  let payload: Record<string, unknown>;
  try {
    payload = await verifier.verify(token);
  } catch (error) {
    const reason = reasonForJwtError(error);
    if (reason === 'jwks_unavailable' || reason === 'internal_error') {
      return { effect: 'deny', reason, authMethod: 'cognito', cause: error };
    }
    return { effect: 'unauthorized', reason, authMethod: 'cognito' };
  }
  const claims = accessClaimsSchema.safeParse(payload);
  if (!claims.success)
    return { effect: 'unauthorized', reason: 'invalid_token', authMethod: 'cognito' };
  const { sub, scope, exp, iat, auth_time } = claims.data;
  // A malformed scope refuses the token: dropping it would leave the token less narrowed.
  const scopes = parseScopes(scope);
  if (scopes === undefined) {
    return {
      effect: 'unauthorized',
      reason: 'malformed_scope',
      authMethod: 'cognito',
      caller: sub,
    };
  }
  return {
    effect: 'allow',
    issued: { issuedAt: iat, authTime: auth_time },
    principal: {
      principalId: sub,
      authMethod: 'cognito',
      groups: safeGroupNames(claims.data['cognito:groups'] ?? []),
      scopes,
      keyId: '',
      expiresAt: exp,
    },
  };
}

async function decideApiKey(
  apiKey: Parameters<ApiKeyStore['verify']>[0],
  apiKeys: DecideDeps['apiKeys'],
  knownRoles: DecideDeps['apiKeyRoles'],
): Promise<Decision> {
  try {
    const verdict = await apiKeys.verify(apiKey);
    if (!verdict.ok) {
      return {
        effect: 'unauthorized',
        reason: verdict.reason,
        authMethod: 'api_key',
        keyId: verdict.keyId,
        ...(verdict.name === undefined ? {} : { caller: verdict.name }),
      };
    }
    if (verdict.roles.some((role) => !knownRoles.has(role))) {
      return {
        effect: 'unauthorized',
        reason: 'key_unknown_role',
        authMethod: 'api_key',
        keyId: verdict.keyId,
        caller: verdict.name,
      };
    }
    return {
      effect: 'allow',
      principal: {
        principalId: verdict.name,
        authMethod: 'api_key',
        groups: verdict.roles,
        scopes: [],
        keyId: verdict.keyId,
        expiresAt: verdict.expires === null ? undefined : Date.parse(verdict.expires) / 1000,
      },
    };
  } catch (error) {
    const reason =
      error instanceof ApiKeysUnavailableError ? 'secret_unavailable' : 'internal_error';
    return { effect: 'deny', reason, authMethod: 'api_key', keyId: apiKey.keyId, cause: error };
  }
}

/** Decide on a request. Never throws: unexpected failures become a Deny. */
export async function decide(request: CredentialCarrier, deps: DecideDeps): Promise<Decision> {
  try {
    const credential = readCredential(request.headers, request.multiValueHeaders);
    switch (credential.kind) {
      case 'invalid':
        return { effect: 'unauthorized', reason: credential.reason };
      case 'jwt':
        return await checkRevocation(
          await decideJwt(credential.token, deps.verifier),
          deps.revocations,
        );
      case 'api_key':
        return await checkRevocation(
          await decideApiKey(credential.apiKey, deps.apiKeys, deps.apiKeyRoles),
          deps.revocations,
        );
    }
  } catch (error) {
    return { effect: 'deny', reason: 'internal_error', cause: error };
  }
}
