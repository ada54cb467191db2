/**
 * The RBAC policy: roles grant permissions, and every tool, resource and prompt names the one
 * permission it needs. One table, built once from the deployment's roles (`modules/roles.ts`)
 * and the items its modules declare (`modules/index.ts`); list filtering, request enforcement,
 * the Cognito groups and scopes of the stack, the metric dimensions and the role table in
 * `docs/authorization.md` are all derived from it, so none of them can drift from another.
 *
 * Pure and domain-free: nothing here knows what any module does.
 */

export const ITEM_KINDS = ['tool', 'resource', 'resourceTemplate', 'prompt'] as const;
export type ItemKind = (typeof ITEM_KINDS)[number];

/** One item of the policy table. */
export interface PolicyItem {
  readonly kind: ItemKind;
  /** Unique within its kind: the tool or prompt name, the resource or template name. */
  readonly name: string;
  readonly permission: string;
  /** The module that declares it. */
  readonly module: string;
  /** Resources: the URI; templates: the RFC 6570 URI template. */
  readonly uri?: string;
}

/** What a module tells the policy about itself: its permissions and its items' needs. */
export interface PolicyModule {
  readonly name: string;
  readonly permissions: Readonly<Record<string, string>>;
  readonly tools?: readonly { readonly name: string; readonly permission: string }[];
  readonly resources?: readonly {
    readonly name: string;
    readonly uri: string;
    readonly permission: string;
  }[];
  readonly resourceTemplates?: readonly {
    readonly name: string;
    readonly uriTemplate: string;
    readonly permission: string;
  }[];
  readonly prompts?: readonly { readonly name: string; readonly permission: string }[];
}

export interface PolicyTable {
  /** Role (Cognito group, API-key role) → the permissions it grants. */
  readonly roles: Readonly<Record<string, readonly string[]>>;
  /** Every permission the modules declare, in declaration order, with what it allows. */
  readonly permissions: Readonly<Record<string, string>>;
  /** Every item, by kind, in declaration order. */
  readonly items: Readonly<Record<ItemKind, readonly PolicyItem[]>>;
}

export class PolicyError extends Error {
  override readonly name = 'PolicyError';
}

/** A permission name: also an OAuth scope suffix and a Cognito scope, so kept plain. */
const PERMISSION_NAME = /^[a-z][a-z0-9_]{0,62}$/;
/**
 * A role's name: a Cognito group name, an API key's role and an entry of the authorizer's
 * comma-separated `API_KEY_ROLES`, so letters, digits and `_ . -` only (no comma, no space).
 */
export const ROLE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/**
 * Build and check the table. Any inconsistency (an item needing a permission its module does
 * not declare, a role granting an unknown permission, two items of one kind with one name)
 * stops the function from starting, and `cdk synth` from finishing.
 */
export function buildPolicyTable(input: {
  readonly roles: Readonly<Record<string, readonly string[]>>;
  readonly modules: readonly PolicyModule[];
}): PolicyTable {
  const permissions: Record<string, string> = {};
  const items: Record<ItemKind, PolicyItem[]> = {
    tool: [],
    resource: [],
    resourceTemplate: [],
    prompt: [],
  };
  const moduleNames = new Set<string>();
  for (const module of input.modules) {
    if (moduleNames.has(module.name))
      throw new PolicyError(`Module ${module.name} is listed twice`);
    moduleNames.add(module.name);
    for (const [permission, description] of Object.entries(module.permissions)) {
      if (!PERMISSION_NAME.test(permission)) {
        throw new PolicyError(
          `Module ${module.name}: permission "${permission}" must be lower case letters, digits and _`,
        );
      }
      if (permission === BASE_SCOPE_NAME) {
        throw new PolicyError(
          `Module ${module.name}: permission "${permission}" is the name of the base scope every token carries`,
        );
      }
      // Two modules may share a permission (e.g. read_data); the first description stands.
      permissions[permission] ??= description;
    }
    const add = (kind: ItemKind, item: { name: string; permission: string; uri?: string }) => {
      if (!Object.hasOwn(module.permissions, item.permission)) {
        throw new PolicyError(
          `Module ${module.name}: ${kind} ${item.name} needs permission ${item.permission}, which the module does not declare`,
        );
      }
      if (items[kind].some((existing) => existing.name === item.name)) {
        throw new PolicyError(`Two ${kind}s are named ${item.name}`);
      }
      items[kind].push({ kind, module: module.name, ...item });
    };
    for (const tool of module.tools ?? []) add('tool', tool);
    for (const resource of module.resources ?? []) add('resource', resource);
    for (const template of module.resourceTemplates ?? []) {
      add('resourceTemplate', { ...template, uri: template.uriTemplate });
    }
    for (const prompt of module.prompts ?? []) add('prompt', prompt);
  }
  const uris = new Set<string>();
  for (const resource of items.resource) {
    if (uris.has(resource.uri as string))
      throw new PolicyError(`Two resources have URI ${resource.uri}`);
    uris.add(resource.uri as string);
  }
  for (const [role, granted] of Object.entries(input.roles)) {
    if (!ROLE_NAME.test(role)) {
      throw new PolicyError(
        `Role "${role}" must be letters, digits and _ . - (at most 64, starting with a letter or digit)`,
      );
    }
    for (const permission of granted) {
      if (!Object.hasOwn(permissions, permission)) {
        throw new PolicyError(
          `Role ${role} grants ${permission}, which no listed module declares (known: ${Object.keys(permissions).join(', ') || 'none'})`,
        );
      }
    }
  }
  return { roles: input.roles, permissions, items };
}

export function isRole(table: PolicyTable, value: string): boolean {
  return Object.hasOwn(table.roles, value);
}

/**
 * The union of the permissions granted by `groups`. Unknown groups grant nothing, so a caller
 * with no recognised role gets the empty set (and therefore sees and may use nothing).
 */
export function permissionsFor(table: PolicyTable, groups: readonly string[]): Set<string> {
  const granted = new Set<string>();
  for (const group of groups) {
    if (!isRole(table, group)) continue;
    for (const permission of table.roles[group] ?? []) granted.add(permission);
  }
  return granted;
}

/**
 * The name of the resource-server scope every token for this server carries
 * (`<resource server>/tools`): it narrows nothing, so no permission may take its name.
 */
export const BASE_SCOPE_NAME = 'tools';

/**
 * The permissions a token's scopes name, or `undefined` when it names none. A permission scope
 * is `<resource server>/<permission>`, e.g. `secure-mcp/read_data`: a client may ask for less
 * than the user's roles allow. Tokens for this server are issued only by its own user pool for
 * its own app clients, so the resource-server prefix is not checked again here.
 *
 * A resource-server scope naming no permission of the table (one removed since the token was
 * issued, say) still narrows, to nothing: ignored, it would leave the token un-narrowed, with
 * every permission of its roles. Only scopes without a resource server (`openid`, `email`)
 * and the base scope narrow nothing.
 */
export function scopePermissions(
  table: PolicyTable,
  scopes: readonly string[],
): ReadonlySet<string> | undefined {
  const named = new Set<string>();
  let narrows = false;
  for (const scope of scopes) {
    const slash = scope.lastIndexOf('/');
    if (slash === -1) continue;
    const name = scope.slice(slash + 1);
    if (name === BASE_SCOPE_NAME) continue;
    narrows = true;
    if (Object.hasOwn(table.permissions, name)) named.add(name);
  }
  return narrows ? named : undefined;
}

/**
 * What a caller may do: the permissions its roles grant, narrowed to those its token's scopes
 * name when it names any (role permissions ∩ scope permissions). Scopes never add permissions.
 */
export function effectivePermissions(
  table: PolicyTable,
  groups: readonly string[],
  scopes: readonly string[],
): ReadonlySet<string> {
  const granted = permissionsFor(table, groups);
  const narrowed = scopePermissions(table, scopes);
  if (narrowed === undefined) return granted;
  return new Set([...granted].filter((permission) => narrowed.has(permission)));
}

/** The outcome of asking whether a caller may use an item. */
export type Access =
  | { readonly allowed: true; readonly item: PolicyItem }
  | { readonly allowed: false; readonly reason: 'unknown' }
  | { readonly allowed: false; readonly reason: 'missing_permission'; readonly item: PolicyItem };

/** Decide on an item already looked up (or not found). Pure; the only enforcement point. */
export function decide(item: PolicyItem | undefined, granted: ReadonlySet<string>): Access {
  if (item === undefined) return { allowed: false, reason: 'unknown' };
  return granted.has(item.permission)
    ? { allowed: true, item }
    : { allowed: false, reason: 'missing_permission', item };
}

/** The item of `kind` named `name`, if any. */
export function findItem(table: PolicyTable, kind: ItemKind, name: string): PolicyItem | undefined {
  return table.items[kind].find((item) => item.name === name);
}

/** The items of `kind` a caller holding `granted` may see and use, in table order. */
export function permittedItems(
  table: PolicyTable,
  kind: ItemKind,
  granted: ReadonlySet<string>,
): PolicyItem[] {
  return table.items[kind].filter((item) => granted.has(item.permission));
}
