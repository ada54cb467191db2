/**
 * Early deny (opt-in, `-c earlyDeny=true`): the authorizer refuses a 2026-07-28 `tools/call`,
 * `resources/read` or `prompts/get` whose `Mcp-Method`/`Mcp-Name` headers name an item none of
 * the caller's roles may use, before the MCP Lambda runs. Defence in depth and fewer MCP
 * invocations; the MCP Lambda still judges every request by its body.
 *
 * What keeps it correct:
 * - It only runs with API Gateway's authorizer cache off: a cached Deny would block the
 *   principal's permitted calls and a cached Allow would skip it. Nor can `Mcp-Name` be an
 *   identity source: with caching on, API Gateway answers 401 to every request lacking one
 *   (2025-era requests, lists, discovery) without calling the authorizer. The config and the
 *   construct refuse any other combination.
 * - It denies only what it is sure of: a 2026-07-28 request (the SDK answers a header that
 *   disagrees with the body with 400 -32020, so a lying header can only get its own request
 *   refused), one value of each header, an item the policy knows, a permission no role of the
 *   caller grants. Anything else is allowed through to the MCP Lambda, which answers unknown
 *   names, resource templates and malformed requests as it always does.
 * - Scopes are not consulted: a permission the roles grant but the token's scopes exclude is
 *   the MCP Lambda's step-up challenge (`403 insufficient_scope`), which a Deny cannot carry.
 *
 * The policy comes from the stack as a compact document (`EARLY_DENY_POLICY`), built from the
 * same table as everything else, so the authorizer bundles no module code. Pure.
 */
import * as z from 'zod/mini';
import type { CallKind } from '../shared/audit';
import { type HeaderMaps, headerValues } from '../shared/headers';
import { type PolicyTable, scopePermissions } from '../shared/policy';
import type { Principal } from '../shared/principal';

/** The first revision whose requests route by `Mcp-Method`/`Mcp-Name` headers. */
export const FIRST_HEADER_ROUTED_REVISION = '2026-07-28';

/** What the authorizer knows of the policy: roles, and the permission of each named item. */
export interface EarlyDenyPolicy {
  readonly roles: Readonly<Record<string, readonly string[]>>;
  readonly tools: Readonly<Record<string, string>>;
  readonly prompts: Readonly<Record<string, string>>;
  /** Resources with a fixed URI, by URI. Templates are left to the MCP Lambda. */
  readonly resources: Readonly<Record<string, string>>;
}

const nameToPermission = z.record(z.string(), z.string());
const earlyDenyPolicySchema = z.strictObject({
  roles: z.record(z.string(), z.array(z.string())),
  tools: nameToPermission,
  prompts: nameToPermission,
  resources: nameToPermission,
});

export class EarlyDenyPolicyError extends Error {
  override readonly name = 'EarlyDenyPolicyError';
}

/** The document the stack writes into the authorizer's environment. */
export function earlyDenyPolicyOf(policy: PolicyTable): EarlyDenyPolicy {
  const byName = (items: PolicyTable['items'][keyof PolicyTable['items']], key: 'name' | 'uri') =>
    Object.fromEntries(items.map((item) => [item[key] as string, item.permission]));
  return {
    roles: Object.fromEntries(Object.entries(policy.roles).map(([role, p]) => [role, [...p]])),
    tools: byName(policy.items.tool, 'name'),
    prompts: byName(policy.items.prompt, 'name'),
    resources: byName(policy.items.resource, 'uri'),
  };
}

/** Parse the document at cold start; anything malformed stops the function (fail loudly). */
export function parseEarlyDenyPolicy(text: string): EarlyDenyPolicy {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new EarlyDenyPolicyError('EARLY_DENY_POLICY is not JSON', { cause: error });
  }
  const parsed = earlyDenyPolicySchema.safeParse(json);
  if (!parsed.success) {
    throw new EarlyDenyPolicyError('EARLY_DENY_POLICY does not have the expected shape', {
      cause: parsed.error,
    });
  }
  return parsed.data;
}

const METHOD_KINDS: Readonly<Record<string, Exclude<CallKind, 'completion'>>> = {
  'tools/call': 'tool',
  'prompts/get': 'prompt',
  'resources/read': 'resource',
};

/** A request the authorizer refuses: what it names and the permission it lacks. */
export interface ForbiddenItem {
  readonly kind: Exclude<CallKind, 'completion'>;
  readonly item: string;
  readonly permission: string;
}

/** The one value of a header, or `undefined` when it is absent or sent more than once. */
function only(request: HeaderMaps, name: string): string | undefined {
  const values = headerValues(request, name);
  return values.length === 1 ? values[0] : undefined;
}

/** The item a 2026-07-28 request names by its headers, when the policy knows it. */
function namedItem(policy: EarlyDenyPolicy, request: HeaderMaps): ForbiddenItem | undefined {
  const version = only(request, 'mcp-protocol-version')?.trim() ?? '';
  if (!/^\d{4}-\d{2}-\d{2}$/.test(version) || version < FIRST_HEADER_ROUTED_REVISION) {
    return undefined;
  }
  const method = only(request, 'mcp-method')?.trim();
  const kind = method === undefined ? undefined : METHOD_KINDS[method];
  const name = only(request, 'mcp-name')?.trim();
  if (kind === undefined || name === undefined || name === '') return undefined;
  const items = { tool: policy.tools, prompt: policy.prompts, resource: policy.resources }[kind];
  if (!Object.hasOwn(items, name)) return undefined;
  return { kind, item: name, permission: items[name] as string };
}

function rolesGrant(
  policy: EarlyDenyPolicy,
  groups: readonly string[],
  permission: string,
): boolean {
  return groups.some(
    (group) =>
      Object.hasOwn(policy.roles, group) && policy.roles[group]?.includes(permission) === true,
  );
}

/**
 * The item a request names that none of the caller's roles may use, or `undefined` to let it
 * through to the MCP Lambda.
 */
export function forbiddenItem(
  policy: EarlyDenyPolicy,
  principal: Pick<Principal, 'groups'>,
  request: HeaderMaps,
): ForbiddenItem | undefined {
  const named = namedItem(policy, request);
  if (named === undefined || rolesGrant(policy, principal.groups, named.permission))
    return undefined;
  return named;
}

/** An item the caller's roles grant but its token's scopes exclude: a step-up. */
export interface NarrowedItem extends ForbiddenItem {
  /**
   * What a new token must carry: the audience scope, the permission's scope and the permission
   * scopes the token holds that its roles grant (the MCP Lambda's `challengeScopes`).
   */
  readonly requiredScopes: readonly string[];
}

/**
 * Gateway step-up (`-c gatewayStepUp=true`): the item a 2026-07-28 request names whose
 * permission the caller's roles grant but its token's scopes exclude, or `undefined`. API keys
 * carry no scopes and never get it; neither does a permission no role grants (no token could
 * fix that: it stays the MCP Lambda's -32003).
 * @param audienceScope the scope every token carries (`secure-mcp/tools`): its resource
 *   server names the permission scopes (`secure-mcp/<permission>`)
 */
export function narrowedItem(
  policy: EarlyDenyPolicy,
  principal: Pick<Principal, 'groups' | 'scopes' | 'authMethod'>,
  request: HeaderMaps,
  audienceScope: string,
): NarrowedItem | undefined {
  if (principal.authMethod !== 'cognito') return undefined;
  const named = namedItem(policy, request);
  if (named === undefined || !rolesGrant(policy, principal.groups, named.permission))
    return undefined;
  // The same narrowing the MCP Lambda applies (`scopePermissions`), over the permissions this
  // document knows.
  const permissions = new Set([
    ...Object.values(policy.roles).flat(),
    ...[policy.tools, policy.prompts, policy.resources].flatMap((items) => Object.values(items)),
  ]);
  const table = { permissions: Object.fromEntries([...permissions].map((p) => [p, p])) };
  const narrowed = scopePermissions(table as unknown as PolicyTable, principal.scopes);
  if (narrowed === undefined || narrowed.has(named.permission)) return undefined;
  const server = audienceScope.slice(0, audienceScope.lastIndexOf('/'));
  const kept = [...narrowed].filter((permission) =>
    rolesGrant(policy, principal.groups, permission),
  );
  return {
    ...named,
    requiredScopes: [audienceScope, ...[named.permission, ...kept].map((p) => `${server}/${p}`)],
  };
}
