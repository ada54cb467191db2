/**
 * Local mode's stand-in for the user pool's admin side: `.local/users.json` records which users
 * are disabled, which groups the `users` CLI gave them and when their sessions were last ended
 * (sign-out, disable). The local sign-in server reads it on every sign-in and refresh, so a
 * disabled user is refused, a managed user gets the groups recorded here (as Cognito issues a
 * user's groups, whatever the client asks for), and a refresh token of a session begun before
 * the last sign-out is refused for good, as Cognito refuses it after AdminUserGlobalSignOut; a
 * user the CLI never touched gets the groups picked on the page, as before.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { isRole } from '../../modules/roles';
import { localDir, writePrivateFile } from './identity';

/** The names the local sign-in takes (its `SUB_PATTERN`): the local `sub` is the user name. */
const LOCAL_USER = /^[A-Za-z0-9._@-]{1,64}$/;

const fileSchema = z.object({
  version: z.literal(1),
  users: z.record(
    z.string().regex(LOCAL_USER),
    z
      .object({
        disabled: z.boolean(),
        /** Absent: the sign-in page's choice. */
        groups: z.array(z.string()).optional(),
        /** Epoch milliseconds of the last sign-out (or disable): older sessions are over. */
        sessionsEndedAt: z.number().optional(),
      })
      .strict(),
  ),
});
type UsersFile = z.infer<typeof fileSchema>;

export function usersFilePath(dir = localDir()): string {
  return join(dir, 'users.json');
}

/** A user as the `users` CLI sees them, from the pool or the local file. */
export interface UserRecord {
  /** The name the operator typed (Cognito: the username; locally: the `sub`). */
  readonly username: string;
  /** The token's `sub`: the not-before list's key. */
  readonly sub: string;
  readonly enabled: boolean;
  /** The user's groups; undefined locally for a user whose groups are picked at sign-in. */
  readonly groups: readonly string[] | undefined;
}

export class UserAdminError extends Error {
  override readonly name = 'UserAdminError';
}

/** What `users` does to a directory of people: Cognito's admin API, or the local file. */
export interface UserDirectory {
  readonly description: string;
  get(username: string): Promise<UserRecord>;
  disable(username: string): Promise<void>;
  enable(username: string): Promise<void>;
  /**
   * End every session: refresh tokens issued before it stop working, for good (Cognito's
   * global sign-out; locally, the time recorded in the file, which the sign-in server checks).
   */
  signOut(username: string): Promise<void>;
  addToGroup(username: string, group: string): Promise<void>;
  removeFromGroup(username: string, group: string): Promise<void>;
}

function readUsers(path: string): UsersFile {
  if (!existsSync(path)) return { version: 1, users: {} };
  return fileSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
}

export class LocalUserDirectory implements UserDirectory {
  readonly description: string;
  readonly #path: string;
  readonly #now: () => number;

  constructor(path = usersFilePath(), now: () => number = Date.now) {
    this.#path = path;
    this.#now = now;
    this.description = path;
  }

  async get(username: string): Promise<UserRecord> {
    const name = checkName(username);
    const record = readUsers(this.#path).users[name];
    return {
      username: name,
      sub: name,
      enabled: record?.disabled !== true,
      groups: record?.groups,
    };
  }

  async disable(username: string): Promise<void> {
    this.#update(username, (record) => ({ ...record, disabled: true }));
  }

  async enable(username: string): Promise<void> {
    this.#update(username, (record) => ({ ...record, disabled: false }));
  }

  async signOut(username: string): Promise<void> {
    // Kept for good, unlike the not-before entry written after this (65 minutes): the
    // sign-in server refuses the refresh tokens of older sessions however late they come.
    this.#update(username, (record) => ({ ...record, sessionsEndedAt: this.#now() }));
  }

  async addToGroup(username: string, group: string): Promise<void> {
    this.#update(username, (record) => ({
      ...record,
      groups: [...new Set([...(record.groups ?? []), group])],
    }));
  }

  async removeFromGroup(username: string, group: string): Promise<void> {
    this.#update(username, (record) => ({
      ...record,
      groups: (record.groups ?? []).filter((g) => g !== group),
    }));
  }

  #update(
    username: string,
    change: (record: UsersFile['users'][string]) => UsersFile['users'][string],
  ): void {
    const name = checkName(username);
    const file = readUsers(this.#path);
    const next = change(file.users[name] ?? { disabled: false });
    writePrivateFile(
      this.#path,
      `${JSON.stringify({ version: 1, users: { ...file.users, [name]: next } }, null, 2)}\n`,
    );
  }
}

function checkName(username: string): string {
  if (!LOCAL_USER.test(username)) {
    throw new UserAdminError(
      `Invalid local user name ${JSON.stringify(username)}: letters, digits and . _ @ -, at most 64`,
    );
  }
  return username;
}

/** What the local sign-in asks of the local user file. */
export interface LocalSignInPolicy {
  /** Why this user may not sign in, or undefined. */
  refusal(sub: string): string | undefined;
  /** The groups to issue: the recorded ones for a managed user, else the page's (known roles). */
  groupsFor(sub: string, picked: readonly string[]): string[];
  /**
   * Was a session of this user begun at `signedInAt` (epoch milliseconds) ended since, by a
   * sign-out or a disable? A session begun in the same millisecond counts as ended.
   */
  sessionEnded(sub: string, signedInAt: number): boolean;
}

/** The sign-in policy over the user file, read afresh on every sign-in. */
export function localSignInPolicy(path = usersFilePath()): LocalSignInPolicy {
  return {
    refusal(sub) {
      return readUsers(path).users[sub]?.disabled === true
        ? `User ${sub} is disabled (npm run users -- enable ${sub})`
        : undefined;
    },
    groupsFor(sub, picked) {
      const recorded = readUsers(path).users[sub]?.groups;
      return (recorded ?? picked).filter(isRole);
    },
    sessionEnded(sub, signedInAt) {
      const ended = readUsers(path).users[sub]?.sessionsEndedAt;
      return ended !== undefined && signedInAt <= ended;
    },
  };
}
