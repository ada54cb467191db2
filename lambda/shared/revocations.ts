/**
 * The not-before list: one item per principal whose credentials issued before a moment must be
 * refused. The operator's CLI writes it, the authorizer reads it, the CDK construct declares its
 * key and TTL attribute: all three take the names and the lifetime rule from here.
 */

/** The table's attribute names. */
export const REVOCATION_ATTRIBUTES = {
  /** Partition key: `user#<Cognito sub>` or `key#<API key id>`. */
  principal: 'pk',
  /** Epoch seconds: an access token whose `iat` is before this is refused. */
  notBefore: 'notBefore',
  /**
   * Epoch seconds: an access token whose `auth_time` is before this is refused, however
   * recently it was refreshed (set by sign-out and disable: the sessions themselves end).
   */
  sessionNotBefore: 'sessionNotBefore',
  /** Epoch seconds: DynamoDB's TTL attribute; the authorizer ignores an item past it too. */
  expiresAt: 'expiresAt',
  /** What was done (`disable`, `sign-out`, `groups`, `revoke-key`), who did it, when: audit. */
  action: 'action',
  actor: 'actor',
  updatedAt: 'updatedAt',
} as const;

/**
 * The longest an access token lives (the app client's `accessTokenValidity`). A not-before entry
 * must outlive every token issued before it.
 */
export const ACCESS_TOKEN_LIFETIME_SECONDS = 3600;

/**
 * How long an entry is kept past its not-before: the access-token lifetime plus a margin for
 * clock skew between Cognito and the operator's machine. After that no token it refuses can
 * still be valid, and an API key it refuses is refused by the key secret itself (whose cached
 * copies live at most API_KEYS_CACHE_TTL_SECONDS, well under this).
 */
export const REVOCATION_RETENTION_SECONDS = ACCESS_TOKEN_LIFETIME_SECONDS + 300;

const USER_PREFIX = 'user#';
const KEY_PREFIX = 'key#';

/** The partition key of a person (their Cognito `sub`). */
export function userPrincipal(sub: string): string {
  return `${USER_PREFIX}${sub}`;
}

/** The partition key of an API key. */
export function apiKeyPrincipal(keyId: string): string {
  return `${KEY_PREFIX}${keyId}`;
}

/** One entry as the authorizer uses it: epoch seconds, `undefined` where not set. */
export interface RevocationEntry {
  readonly notBefore?: number | undefined;
  readonly sessionNotBefore?: number | undefined;
  readonly expiresAt: number;
}

/** The times a credential carries, epoch seconds; `undefined` when it does not say. */
export interface IssuedTimes {
  /** When this token was issued (a refresh issues a new one). */
  readonly issuedAt?: number | undefined;
  /** When the person signed in, unchanged by refreshes. */
  readonly authTime?: number | undefined;
}

/**
 * Is a credential with these times refused by the entry? A time the credential does not carry
 * counts as "before anything": refused whenever the entry sets the matching bound (fail closed).
 * An API key carries no times, so any entry for its id refuses it.
 */
export function refusedBy(entry: RevocationEntry, times: IssuedTimes): boolean {
  const issuedAt = times.issuedAt ?? Number.NEGATIVE_INFINITY;
  const authTime = times.authTime ?? Number.NEGATIVE_INFINITY;
  if (entry.notBefore !== undefined && issuedAt < entry.notBefore) return true;
  if (entry.sessionNotBefore !== undefined && authTime < entry.sessionNotBefore) return true;
  return false;
}
