/**
 * API keys for machine callers: format, generation, hashing, and the schema of the document
 * that holds them (one Secrets Manager secret in AWS, `.local/api-keys.json` locally).
 *
 * A key reads `mcpk_<key id>_<secret>`: the prefix lets secret scanners and people recognise
 * it, the 16-hex-digit key id is not secret and names the key in logs, and the secret is 32
 * random bytes (256 bits) in base64url.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as z from 'zod/mini';
import { ROLE_NAME } from './policy';

export const API_KEY_PREFIX = 'mcpk_';

/** The most roles one key may name. */
export const MAX_KEY_ROLES = 32;
const API_KEY_PATTERN = /^mcpk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;
const KEY_ID_PATTERN = /^[0-9a-f]{16}$/;
const SECRET_PATTERN = /^[A-Za-z0-9_-]{43}$/;
const HASH_PATTERN = /^sha256:[0-9a-f]{64}$/;

/** A presented key split into its parts. */
export interface ParsedApiKey {
  readonly keyId: string;
  /** The whole key as presented; only ever hashed. */
  readonly key: string;
}

/** Whether a credential has the shape of an API key (the prefix), whatever its validity. */
export function looksLikeApiKey(credential: string): boolean {
  return credential.startsWith(API_KEY_PREFIX);
}

/** Split a presented key, or `undefined` if it is not a well-formed key. */
export function parseApiKey(credential: string): ParsedApiKey | undefined {
  const match = API_KEY_PATTERN.exec(credential);
  const keyId = match?.[1];
  return keyId === undefined ? undefined : { keyId, key: credential };
}

export function formatApiKey(keyId: string, secret: string): string {
  return `${API_KEY_PREFIX}${keyId}_${secret}`;
}

/** Fresh key material: a new key id and 256 bits of secret. */
export function generateKeyId(): string {
  return randomBytes(8).toString('hex');
}

export function generateSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** The stored form of a key: SHA-256 over the whole key (256 random bits need no slow hash). */
export function hashApiKey(key: string): string {
  return `sha256:${createHash('sha256').update(key, 'utf8').digest('hex')}`;
}

const isoDate = z.iso.datetime({ offset: true });

/** One key in the document. Exactly one of `hash` or `secret` holds the key material. */
export const apiKeyRecordSchema = z
  .strictObject({
    /** The principal the key acts as (shown in logs and the MCP caller id). */
    name: z
      .string()
      .check(z.regex(/^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/, 'letters, digits and . _ @ - (max 64)')),
    /**
     * The roles the key acts with. Any name is stored: the deployment's roles are not the
     * document's business (a role a deployment removed must not make the whole document
     * unreadable). The authorizer refuses a key naming a role its deployment does not define
     * (`key_unknown_role`), and `keys list` says which.
     */
    roles: z
      .array(z.string().check(z.regex(ROLE_NAME, 'role names are letters, digits and _ . -')))
      .check(z.maxLength(MAX_KEY_ROLES)),
    /** `sha256:<hex>` of the whole key. */
    hash: z.optional(z.string().check(z.regex(HASH_PATTERN))),
    /** The secret part in plain text, for keys handed out by rotation. */
    secret: z.optional(z.string().check(z.regex(SECRET_PATTERN))),
    created: isoDate,
    expires: z._default(z.nullable(isoDate), null),
    revoked: z._default(z.nullable(isoDate), null),
  })
  .check(
    z.refine((record) => (record.hash === undefined) !== (record.secret === undefined), {
      message: 'exactly one of hash or secret must be set',
    }),
  );
export type ApiKeyRecord = z.infer<typeof apiKeyRecordSchema>;

/** The whole document: key id -> record. */
export const apiKeyDocumentSchema = z.strictObject({
  version: z.literal(1),
  keys: z.record(
    z.string().check(z.regex(KEY_ID_PATTERN, 'key ids are 16 hex digits')),
    apiKeyRecordSchema,
  ),
});
export type ApiKeyDocument = z.infer<typeof apiKeyDocumentSchema>;

export function emptyApiKeyDocument(): ApiKeyDocument {
  return { version: 1, keys: {} };
}

/** Whether a key may be used at `nowMs`: the one definition the authorizer, rotation and CLI share. */
export type KeyStatus = 'active' | 'revoked' | 'expired';

export function keyStatus(record: ApiKeyRecord, nowMs: number): KeyStatus {
  if (record.revoked !== null) return 'revoked';
  if (record.expires !== null && Date.parse(record.expires) <= nowMs) return 'expired';
  return 'active';
}

/** The hash a record's key material must match. */
export function storedHash(keyId: string, record: ApiKeyRecord): string {
  if (record.hash !== undefined) return record.hash;
  // The schema guarantees `secret` is set when `hash` is not.
  return hashApiKey(formatApiKey(keyId, record.secret ?? ''));
}

export class ApiKeyDocumentError extends Error {
  override readonly name = 'ApiKeyDocumentError';
}

/** Parse a document from its JSON text, throwing {@link ApiKeyDocumentError} with no key text. */
export function parseApiKeyDocument(text: string): ApiKeyDocument {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ApiKeyDocumentError('The API-key document is not valid JSON');
  }
  const result = apiKeyDocumentSchema.safeParse(json);
  if (!result.success) {
    // Issue paths name key ids and fields only; messages never echo values.
    const where = result.error.issues.map((issue) => issue.path.join('.')).join(', ');
    throw new ApiKeyDocumentError(`The API-key document does not match its schema at: ${where}`);
  }
  return result.data;
}
