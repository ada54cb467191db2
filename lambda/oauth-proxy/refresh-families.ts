/**
 * Refresh tokens the proxy issues itself (OAuth 2.1 section 4.3.1: a public client's refresh
 * tokens are bound to the client and rotated). The client never sees the upstream's refresh
 * token; it gets a token of this server's own, one of a **family**: everything issued from one
 * sign-in, refresh after refresh.
 *
 * - The client's token is 32 random bytes, base64url: a 128-bit family id and a 128-bit secret.
 *   The store keeps the family under the SHA-256 of its id and the SHA-256 of its current
 *   secret, compared in constant time: the table never holds a usable token.
 * - Each refresh replaces the secret (a conditional write: of two refreshes with the same token,
 *   one wins); the old token stops working. A token of the family presented with any other
 *   secret than the current one (an old one: it was copied and used by someone else first, or
 *   it lost a race) ends the family: every token of it is refused from then on, as OAuth 2.1
 *   describes for rotation. So does a token presented by another client than the one it was
 *   issued to, a sign-out or disable of the person, and the upstream refusing the session.
 * - What redeeming the family needs is sealed (purpose `refresh-family`): the upstream refresh
 *   token, the client it is bound to, the scopes, the person's `sub` and sign-in time. An ended
 *   family keeps no upstream token.
 * - A family lives as long as the upstream's refresh token (from the sign-in, not sliding);
 *   the store's TTL then deletes it.
 */
import { createHash, randomBytes } from 'node:crypto';

/** Why a family ended: the audit record's reason names it. */
export type RefreshFamilyEnd =
  | 'refresh_token_reused'
  | 'refresh_client_mismatch'
  | 'session_ended'
  | 'upstream_refused';

/** One family as stored. */
export interface RefreshFamily {
  /** SHA-256 (base64url) of the current token's secret. */
  readonly secretHash: string;
  /** Rotations so far: with the secret, what a rotation's conditional write expects. */
  readonly generation: number;
  /** The sealed state; absent once the family ended. */
  readonly sealed?: string;
  /** Epoch seconds: the family's end (and the store's TTL). */
  readonly expiresAt: number;
  /** Set when the family ended early. */
  readonly ended?: RefreshFamilyEnd;
}

/** Thrown by {@link RefreshFamilyStore.create} when the family id is taken (never, in practice). */
export class RefreshFamilyConflictError extends Error {
  override readonly name = 'RefreshFamilyConflictError';
}

/**
 * Where families live (DynamoDB in AWS, memory in local mode). Keys are digests of family ids;
 * every read is strongly consistent, every change conditional.
 */
export interface RefreshFamilyStore {
  /** Store a new family; rejects with {@link RefreshFamilyConflictError} if the key is held. */
  create(
    key: string,
    family: { readonly secretHash: string; readonly sealed: string; readonly expiresAt: number },
  ): Promise<void>;
  /** The family, or `undefined` when there is none or it has expired. */
  get(key: string): Promise<RefreshFamily | undefined>;
  /**
   * Replace the secret (and the sealed state) if the family still has `expected`'s secret and
   * generation and has not ended: true if this call did it, false if something else changed
   * it first (another rotation, an end).
   */
  rotate(
    key: string,
    expected: Pick<RefreshFamily, 'secretHash' | 'generation'>,
    next: { readonly secretHash: string; readonly sealed: string },
  ): Promise<boolean>;
  /** End the family for `reason` and drop its sealed state; nothing if it ended already. */
  end(key: string, reason: RefreshFamilyEnd): Promise<void>;
}

const ID_BYTES = 16;
const SECRET_BYTES = 16;
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes);

/** A family's store key: the SHA-256 of its id. */
function familyKeyOf(id: Uint8Array): string {
  return `family#${sha256(id).digest('hex')}`;
}

function secretHashOf(secret: Uint8Array): string {
  return sha256(secret).digest('base64url');
}

/** What a client's refresh token names: its family's key and its secret's hash. */
export interface RefreshTokenParts {
  readonly familyKey: string;
  readonly secretHash: string;
}

/** A client refresh token and what the store keeps of it. */
export interface IssuedRefreshToken extends RefreshTokenParts {
  readonly token: string;
}

function issued(bytes: Buffer): IssuedRefreshToken {
  return { ...refreshTokenParts(bytes), token: bytes.toString('base64url') };
}

function refreshTokenParts(bytes: Buffer): RefreshTokenParts {
  return {
    familyKey: familyKeyOf(bytes.subarray(0, ID_BYTES)),
    secretHash: secretHashOf(bytes.subarray(ID_BYTES)),
  };
}

/** The first token of a new family: a new id, a new secret. */
export function newRefreshToken(): IssuedRefreshToken {
  return issued(randomBytes(ID_BYTES + SECRET_BYTES));
}

/** The next token of `token`'s family (a valid token): the same id, a new secret. */
export function rotatedRefreshToken(token: string): IssuedRefreshToken {
  const id = Buffer.from(token, 'base64url').subarray(0, ID_BYTES);
  return issued(Buffer.concat([id, randomBytes(SECRET_BYTES)]));
}

/** The parts of a client's refresh token, or `undefined` for anything that is not one. */
export function parseRefreshToken(token: string): RefreshTokenParts | undefined {
  if (!TOKEN.test(token)) return undefined;
  const bytes = Buffer.from(token, 'base64url');
  // Only the one spelling of 32 bytes: no second encoding of a token.
  if (bytes.byteLength !== ID_BYTES + SECRET_BYTES || bytes.toString('base64url') !== token) {
    return undefined;
  }
  return refreshTokenParts(bytes);
}

/** A short label of a family for the audit log: correlates its refreshes, reveals nothing. */
export function familyDigest(familyKey: string): string {
  return createHash('sha256').update(familyKey, 'utf8').digest('hex').slice(0, 16);
}
