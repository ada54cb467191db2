/**
 * What the `users` CLI does, over two ports: the directory of people (Cognito's admin API, or
 * local mode's user file) and the not-before list (the DynamoDB table). Each change is made in
 * the directory first and then recorded as a not-before, so the person's tokens issued before
 * the change are refused within the authorizer's bound, and a new sign-in (or, after a group
 * change, a refresh) carries the new state. Every action writes one audit record.
 */
import { hostname, userInfo } from 'node:os';
import { AUDIT_EVENTS, AUDIT_FIELDS } from '../../lambda/shared/audit';
import { userPrincipal } from '../../lambda/shared/revocations';
import { UserAdminError, type UserDirectory, type UserRecord } from '../local/user-file';
import { notBeforeFor, type RevocationAction, type RevocationWriter } from './revocation-writer';

/** The directory changed but the not-before could not be written: run the command again. */
export class PartialChangeError extends Error {
  override readonly name = 'PartialChangeError';
}

export type UserAction = 'disable' | 'enable' | 'sign-out' | 'add-group' | 'remove-group';

export interface UserChange {
  readonly action: UserAction;
  readonly username: string;
  /** For add-group and remove-group: one of the deployment's roles (`UserAdminDeps.roles`). */
  readonly group?: string;
}

/** One operator action, as the CLI writes it (stderr, JSON): who, what, to whom, when. */
export interface OperatorAuditRecord {
  readonly [AUDIT_FIELDS.event]: typeof AUDIT_EVENTS.operatorAction;
  readonly action: UserAction | 'revoke-key' | 'delete-key';
  readonly [AUDIT_FIELDS.outcome]: 'done' | 'failed' | 'partial';
  readonly actor: string;
  readonly target: string;
  readonly user?: string;
  readonly sub?: string;
  readonly group?: string;
  readonly [AUDIT_FIELDS.keyId]?: string;
  readonly not_before?: number;
  readonly [AUDIT_FIELDS.errorType]?: string;
  readonly timestamp: string;
}

export interface UserAdminDeps {
  readonly directory: UserDirectory;
  readonly revocations: RevocationWriter;
  /** Who runs the command, recorded in the entry and the audit record. */
  readonly actor: string;
  readonly audit: (record: OperatorAuditRecord) => void;
  /**
   * The deployment's roles (`modules/roles.ts`, passed in by the CLI): the groups add-group
   * and remove-group may name.
   */
  readonly roles: readonly string[];
  readonly now?: () => Date;
}

export interface UserChangeResult {
  readonly user: UserRecord;
  /** Epoch seconds; undefined for `enable`, which refuses nothing. */
  readonly notBefore?: number;
}

/** The actions that end sessions: a refreshed token of an old session is refused too. */
const ENDS_SESSIONS: ReadonlySet<UserAction> = new Set(['disable', 'sign-out']);

/** The default actor: the operating-system user on this machine. */
export function defaultActor(): string {
  let name = 'unknown';
  try {
    name = userInfo().username;
  } catch {
    // No passwd entry (some containers): the host alone.
  }
  return `${name}@${hostname()}`;
}

/**
 * Make the change in the directory, then write the not-before. Nothing is written when the
 * directory refuses; when the directory changed but the list could not be written, the error
 * says so and the command can be run again (both steps are idempotent).
 */
export async function applyUserChange(
  deps: UserAdminDeps,
  change: UserChange,
): Promise<UserChangeResult> {
  const now = deps.now ?? (() => new Date());
  const base = {
    [AUDIT_FIELDS.event]: AUDIT_EVENTS.operatorAction,
    action: change.action,
    actor: deps.actor,
    target: deps.directory.description,
    user: change.username,
    ...(change.group === undefined ? {} : { group: change.group }),
  } as const;
  const audit = (record: Partial<OperatorAuditRecord>) =>
    deps.audit({
      ...base,
      [AUDIT_FIELDS.outcome]: 'done',
      ...record,
      timestamp: now().toISOString(),
    });

  if (change.action === 'add-group' || change.action === 'remove-group') {
    if (change.group === undefined || !deps.roles.includes(change.group)) {
      throw new UserAdminError(
        `${change.action} needs a group, one of ${deps.roles.join(', ')} (not ${change.group ?? 'none'})`,
      );
    }
  }

  let user: UserRecord;
  try {
    user = await deps.directory.get(change.username);
    await directoryChange(deps.directory, change);
  } catch (error) {
    audit({ [AUDIT_FIELDS.outcome]: 'failed', [AUDIT_FIELDS.errorType]: errorName(error) });
    throw error;
  }
  if (change.action === 'enable') {
    // Old sessions stay ended: their tokens are refused until they expire.
    audit({ sub: user.sub });
    return { user };
  }

  // Taken after the directory answered: every token issued before the change is older.
  const notBefore = notBeforeFor(now());
  try {
    await deps.revocations.record({
      principal: userPrincipal(user.sub),
      notBefore,
      sessions: ENDS_SESSIONS.has(change.action),
      action: change.action as RevocationAction,
      actor: deps.actor,
    });
  } catch (error) {
    audit({
      sub: user.sub,
      [AUDIT_FIELDS.outcome]: 'partial',
      [AUDIT_FIELDS.errorType]: errorName(error),
    });
    throw new PartialChangeError(
      `${change.action} ${change.username} was done in ${deps.directory.description}, but the not-before could not be written to ${deps.revocations.description} (${errorName(error)}): tokens issued before it keep working until they expire (up to an hour). Run the same command again.`,
      { cause: error },
    );
  }
  audit({ sub: user.sub, not_before: notBefore });
  return { user, notBefore };
}

async function directoryChange(directory: UserDirectory, change: UserChange): Promise<void> {
  switch (change.action) {
    case 'disable':
      // Sign out first: Cognito may refuse to sign out a user who is already disabled, and the
      // refresh tokens must die either way.
      await directory.signOut(change.username);
      await directory.disable(change.username);
      return;
    case 'enable':
      await directory.enable(change.username);
      return;
    case 'sign-out':
      await directory.signOut(change.username);
      return;
    case 'add-group':
      await directory.addToGroup(change.username, change.group as string);
      return;
    case 'remove-group':
      await directory.removeFromGroup(change.username, change.group as string);
      return;
  }
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}

/** The audit record as one JSON line (stderr: stdout carries the command's own output). */
export function writeAuditLine(record: OperatorAuditRecord): void {
  process.stderr.write(`${JSON.stringify(record)}\n`);
}
