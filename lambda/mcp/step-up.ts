/**
 * Step-up authorization (RFC 6750 §3.1; MCP 2025-11-25 and 2026-07-28 "Scope Challenge
 * Handling"): a request the caller's roles permit but its token's scopes exclude is answered
 * `403` with `WWW-Authenticate: Bearer error="insufficient_scope", scope="…"`, so the client can
 * ask the authorization server for a token with more scope and retry.
 *
 * Only scope narrowing gets this answer. A permission no role of the caller grants cannot be
 * fixed by any token, and a client told `insufficient_scope` for it would re-authorize in a
 * loop: that stays the JSON-RPC -32003 of the gate. API keys carry no scopes, so they never get
 * it either. Pure.
 */
import type { ProtocolEra } from '../shared/audit';
import { effectivePermissions, type PolicyTable, permissionsFor } from '../shared/policy';
import type { Principal } from '../shared/principal';
import { PERMISSION_DENIED_CODE, type Refusal } from './gate';

/** The first protocol revision that defines the step-up flow. */
export const FIRST_STEP_UP_REVISION = '2025-11-25';

/** What the server needs to name the scopes a request lacks. */
export interface StepUpOptions {
  /** The scope every token for this server carries (`secure-mcp/tools`; locally `mcp-server/tools`). */
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
 * Whether the client speaks a protocol revision that defines step-up: every 2026-07-28
 * request, and 2025-era requests that say `MCP-Protocol-Version: 2025-11-25` (or later). Older
 * revisions (2025-06-18 and before, or no header, which the spec reads as 2025-03-26) define no
 * step-up flow: they get the JSON-RPC denial, which names the scope to ask for.
 */
export function speaksStepUp(era: ProtocolEra, protocolVersionHeader: string | undefined): boolean {
  if (era === 'modern') return true;
  const version = protocolVersionHeader?.trim() ?? '';
  return /^\d{4}-\d{2}-\d{2}$/.test(version) && version >= FIRST_STEP_UP_REVISION;
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

/** The `WWW-Authenticate` value of an `insufficient_scope` answer (RFC 6750 §3). */
export function insufficientScopeChallenge(
  scopes: readonly string[],
  resourceMetadataUrl: string,
  permission: string,
): string {
  // Scope tokens, the URL and a permission name (`[a-z0-9_]`) hold no `"` or `\`.
  return [
    'Bearer error="insufficient_scope"',
    `scope="${scopes.join(' ')}"`,
    `resource_metadata="${resourceMetadataUrl}"`,
    `error_description="The token's scopes do not include permission ${permission}"`,
  ].join(', ');
}

/**
 * The whole `403` answer: the challenge, and a JSON-RPC error body for the request (code
 * -32003, naming the item, the permission and the scopes) for clients that read bodies.
 */
export function insufficientScopeAnswer(
  id: unknown,
  refusal: Refusal & { readonly permission: string },
  scopes: readonly string[],
  resourceMetadataUrl: string,
): { statusCode: number; headers: Record<string, string>; body: string } {
  const what = refusal.item?.name ?? 'the item';
  return {
    statusCode: 403,
    headers: {
      'Content-Type': 'application/json',
      'WWW-Authenticate': insufficientScopeChallenge(
        scopes,
        resourceMetadataUrl,
        refusal.permission,
      ),
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: typeof id === 'string' || (typeof id === 'number' && Number.isInteger(id)) ? id : null,
      error: {
        code: PERMISSION_DENIED_CODE,
        message: `Insufficient scope: '${what}' requires permission '${refusal.permission}', which your roles grant but your token's scopes exclude; authorize again with scope '${scopes.join(' ')}'`,
        data: { ...refusal.data, requiredScopes: [...scopes] },
      },
    }),
  };
}
