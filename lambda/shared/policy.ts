/**
 * The RBAC policy table: the single source of truth for who may call which tool.
 *
 * `tools/list` filtering, `tools/call` enforcement, the Cognito groups created by the
 * CDK stack and the README's role table are all derived from {@link POLICY}.
 */

/** Every permission a tool can require. */
export const PERMISSIONS = ['read_data', 'write_data', 'delete_data', 'run_reports'] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** Roles (Cognito groups, API-key roles) and the permissions each grants. */
export const ROLE_PERMISSIONS = {
  admin: ['read_data', 'write_data', 'delete_data', 'run_reports'],
  analyst: ['read_data', 'run_reports'],
  readonly: ['read_data'],
} as const satisfies Record<string, readonly Permission[]>;
export type Role = keyof typeof ROLE_PERMISSIONS;
export const ROLES = Object.keys(ROLE_PERMISSIONS) as Role[];

/** Tools and the one permission each requires. A tool missing here can never be called. */
export const TOOL_PERMISSIONS = {
  get_record: 'read_data',
  query_customer_data: 'read_data',
  put_record: 'write_data',
  delete_record: 'delete_data',
  run_report: 'run_reports',
} as const satisfies Record<string, Permission>;
export type ToolName = keyof typeof TOOL_PERMISSIONS;
export const TOOL_NAMES = Object.keys(TOOL_PERMISSIONS) as ToolName[];

export const POLICY = { roles: ROLE_PERMISSIONS, tools: TOOL_PERMISSIONS } as const;

export function isRole(value: string): value is Role {
  return Object.hasOwn(ROLE_PERMISSIONS, value);
}

export function isToolName(value: string): value is ToolName {
  return Object.hasOwn(TOOL_PERMISSIONS, value);
}

/**
 * The union of the permissions granted by `groups`. Unknown groups grant nothing, so a
 * caller with no recognised role gets the empty set (and therefore no tools at all).
 */
export function permissionsFor(groups: readonly string[]): ReadonlySet<Permission> {
  const granted = new Set<Permission>();
  for (const group of groups) {
    if (!isRole(group)) continue;
    for (const permission of ROLE_PERMISSIONS[group]) granted.add(permission);
  }
  return granted;
}

/**
 * The permissions a token's scopes name, or `undefined` when it names none. A permission scope
 * is `<resource server>/<permission>`, e.g. `secure-mcp/read_data`: a client may ask for less
 * than the user's roles allow. Tokens for this server are issued only by its own user pool for
 * its own app clients, so the resource-server prefix is not checked again here.
 */
export function scopePermissions(scopes: readonly string[]): ReadonlySet<Permission> | undefined {
  const named = new Set<Permission>();
  for (const scope of scopes) {
    const permission = scope.slice(scope.lastIndexOf('/') + 1);
    if ((PERMISSIONS as readonly string[]).includes(permission))
      named.add(permission as Permission);
  }
  return named.size === 0 ? undefined : named;
}

/**
 * What a caller may do: the permissions its roles grant, narrowed to those its token's scopes
 * name when it names any (role permissions ∩ scope permissions). Scopes never add permissions.
 */
export function effectivePermissions(
  groups: readonly string[],
  scopes: readonly string[],
): ReadonlySet<Permission> {
  const granted = permissionsFor(groups);
  const narrowed = scopePermissions(scopes);
  if (narrowed === undefined) return granted;
  return new Set([...granted].filter((permission) => narrowed.has(permission)));
}

/** The outcome of asking whether a caller may call a tool. */
export type ToolAccess =
  | { readonly allowed: true; readonly tool: ToolName; readonly permission: Permission }
  | { readonly allowed: false; readonly reason: 'unknown_tool'; readonly tool: string }
  | {
      readonly allowed: false;
      readonly reason: 'missing_permission';
      readonly tool: ToolName;
      readonly permission: Permission;
    };

/** Decide whether a caller holding `granted` may call `tool`. Pure; the only enforcement point. */
export function checkToolAccess(tool: string, granted: ReadonlySet<Permission>): ToolAccess {
  if (!isToolName(tool)) return { allowed: false, reason: 'unknown_tool', tool };
  const permission = TOOL_PERMISSIONS[tool];
  return granted.has(permission)
    ? { allowed: true, tool, permission }
    : { allowed: false, reason: 'missing_permission', tool, permission };
}

/** The tools a caller holding `granted` may see and call, in table order. */
export function permittedTools(granted: ReadonlySet<Permission>): ToolName[] {
  return TOOL_NAMES.filter((tool) => checkToolAccess(tool, granted).allowed);
}
