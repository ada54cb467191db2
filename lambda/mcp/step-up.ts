/**
 * A request the caller's roles permit but its token's scopes exclude (a token narrowed to
 * fewer permissions than its roles grant): what scopes would let it through.
 *
 * The MCP function cannot answer it with the OAuth step-up challenge (`403`,
 * `WWW-Authenticate: Bearer error="insufficient_scope"`): API Gateway renames that header of an
 * integration response to `x-amzn-Remapped-WWW-Authenticate` ("Amazon API Gateway important
 * notes for REST APIs"), so no client would read it. It answers with the gate's JSON-RPC -32003
 * naming the scopes (`requiredScopes`) instead; a deployment with `-c gatewayStepUp=true` has
 * the authorizer answer the 2026-07-28 calls that name their item in headers with the real
 * challenge, from API Gateway's own ACCESS_DENIED response.
 *
 * Only scope narrowing gets this answer. A permission no role of the caller grants cannot be
 * fixed by any token: that stays the plain -32003 of the gate. API keys carry no scopes, so
 * they never get it either. Pure.
 */
import { effectivePermissions, type PolicyTable, permissionsFor } from '../shared/policy';
import type { Principal } from '../shared/principal';
import { PERMISSION_DENIED_CODE, type Refusal } from './gate';

/** What the server needs to name the scopes a request lacks. */
export interface StepUpOptions {
  /** The scope every token for this server carries (`secure-mcp/tools`, locally too). */
  readonly audienceScope: string;
  /** The optional scopes, one per permission, that narrow a token (`secure-mcp/read_data`, …). */
  readonly permissionScopes: readonly string[];
  /**
   * The protected-resource metadata URL (RFC 9728) the challenge names: the one the gateway's
   * 401 challenge names, for the name the request came in by.
   */
  readonly resourceMetadataUrl: (host: string | undefined) => string;
}

/** The compiled options: permission → its scope, once per Lambda instance. */
export interface StepUp {
  readonly audienceScope: string;
  readonly scopeOf: ReadonlyMap<string, string>;
  readonly resourceMetadataUrl: (host: string | undefined) => string;
}

export class StepUpConfigError extends Error {
  override readonly name = 'StepUpConfigError';
}

/**
 * Map each permission of the policy to its scope (the scope's last path segment is the
 * permission, as `scopePermissions` reads it). A permission with no scope could never be
 * stepped up to, and a scope naming no permission means the identity and the policy have
 * drifted apart: both stop the function from starting.
 */
export function compileStepUp(policy: PolicyTable, options: StepUpOptions): StepUp {
  if (options.audienceScope === '') throw new StepUpConfigError('Step-up needs the audience scope');
  const scopeOf = new Map<string, string>();
  for (const scope of options.permissionScopes) {
    const permission = scope.slice(scope.lastIndexOf('/') + 1);
    if (!Object.hasOwn(policy.permissions, permission)) {
      throw new StepUpConfigError(`Scope ${scope} names no permission of the policy`);
    }
    scopeOf.set(permission, scope);
  }
  const missing = Object.keys(policy.permissions).filter((permission) => !scopeOf.has(permission));
  if (missing.length > 0) {
    throw new StepUpConfigError(`No scope names permission(s) ${missing.join(', ')}`);
  }
  return {
    audienceScope: options.audienceScope,
    scopeOf,
    resourceMetadataUrl: options.resourceMetadataUrl,
  };
}

/**
 * The scopes to challenge with when `permission` was refused, or `undefined` when the refusal
 * is not about scope (an API key, or a permission none of the caller's roles grant).
 *
 * The challenge names the audience scope, the permission's scope and the permission scopes the
 * token already holds that its roles grant: the spec's recommended set, so that a client that
 * replaces its scope with the challenge's (the v1 SDK client does) rather than adding to it
 * keeps what it had, and never ping-pongs between two tools' scopes.
 */
export function challengeScopes(
  policy: PolicyTable,
  stepUp: StepUp,
  principal: Pick<Principal, 'authMethod' | 'groups' | 'scopes'>,
  permission: string,
): readonly string[] | undefined {
  if (principal.authMethod !== 'cognito') return undefined;
  if (!permissionsFor(policy, principal.groups).has(permission)) return undefined;
  const granted = effectivePermissions(policy, principal.groups, principal.scopes);
  // Already granted: the refusal was not about scope (cannot happen for a gate refusal).
  if (granted.has(permission)) return undefined;
  const wanted = Object.keys(policy.permissions).filter(
    (name) => name === permission || granted.has(name),
  );
  const scopes = wanted.map((name) => stepUp.scopeOf.get(name));
  if (scopes.some((scope) => scope === undefined)) return undefined;
  return [stepUp.audienceScope, ...(scopes as string[])];
}

/**
 * The gate's refusal of a call its token's scopes exclude, as the JSON-RPC -32003 every client
 * reads: the item, the permission and the scopes to authorize again with.
 */
export function insufficientScopeRefusal(
  refusal: Refusal & { readonly permission: string },
  scopes: readonly string[],
  resourceMetadataUrl: string,
): { code: number; message: string; data: Record<string, unknown> } {
  const what = refusal.item?.name ?? 'the item';
  return {
    code: PERMISSION_DENIED_CODE,
    message: `Insufficient scope: '${what}' requires permission '${refusal.permission}', which your roles grant but your token's scopes exclude; authorize again with scope '${scopes.join(' ')}'`,
    data: {
      ...refusal.data,
      requiredScopes: [...scopes],
      resourceMetadata: resourceMetadataUrl,
    },
  };
}
