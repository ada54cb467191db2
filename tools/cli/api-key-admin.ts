/**
 * Creating, listing and revoking API keys in a key document. The document operations are pure;
 * a {@link KeyDocumentStore} reads and writes the document (the local file now, the deployed
 * secret later).
 */
import { existsSync, readFileSync } from 'node:fs';
import {
  type ApiKeyDocument,
  apiKeyRecordSchema,
  emptyApiKeyDocument,
  formatApiKey,
  generateKeyId,
  generateSecret,
  hashApiKey,
  type KeyStatus,
  keyStatus,
  parseApiKeyDocument,
} from '../../lambda/shared/api-key';
import { writePrivateFile } from '../local/identity';

export interface KeyDocumentStore {
  /** Where the document lives, for messages. */
  readonly description: string;
  read(): Promise<ApiKeyDocument>;
  write(document: ApiKeyDocument): Promise<void>;
}

export class FileKeyDocumentStore implements KeyDocumentStore {
  readonly description: string;
  readonly #path: string;

  constructor(path: string) {
    this.#path = path;
    this.description = path;
  }

  async read(): Promise<ApiKeyDocument> {
    return existsSync(this.#path)
      ? parseApiKeyDocument(readFileSync(this.#path, 'utf8'))
      : emptyApiKeyDocument();
  }

  async write(document: ApiKeyDocument): Promise<void> {
    writePrivateFile(this.#path, `${JSON.stringify(document, null, 2)}\n`);
  }
}

export class KeyAdminError extends Error {
  override readonly name = 'KeyAdminError';
}

export interface NewKeyOptions {
  readonly name: string;
  readonly roles: readonly string[];
  /** The deployment's roles (`modules/roles.ts`, passed in by the CLI): the only ones a key may name. */
  readonly knownRoles: readonly string[];
  /** Days until the key expires; none if undefined. */
  readonly expiresInDays?: number | undefined;
  readonly now: Date;
}

/** Add a key; returns the new document and the key, which is shown once and stored hashed. */
export function addKey(
  document: ApiKeyDocument,
  options: NewKeyOptions,
): { document: ApiKeyDocument; keyId: string; key: string } {
  const name = apiKeyRecordSchema.shape.name.safeParse(options.name);
  if (!name.success) {
    throw new KeyAdminError(
      `Invalid name ${JSON.stringify(options.name)}: ${name.error.issues[0]?.message}`,
    );
  }
  const unknown = unknownRoles(options.roles, options.knownRoles);
  if (unknown.length > 0) {
    throw new KeyAdminError(
      `Unknown role(s): ${unknown.join(', ')} (this deployment's: ${options.knownRoles.join(', ') || 'none'})`,
    );
  }
  let keyId = generateKeyId();
  while (Object.hasOwn(document.keys, keyId)) keyId = generateKeyId();
  const key = formatApiKey(keyId, generateSecret());
  const expires =
    options.expiresInDays === undefined
      ? null
      : new Date(options.now.getTime() + options.expiresInDays * 86_400_000).toISOString();
  const next: ApiKeyDocument = {
    version: 1,
    keys: {
      ...document.keys,
      [keyId]: {
        name: options.name,
        roles: [...new Set(options.roles)],
        hash: hashApiKey(key),
        created: options.now.toISOString(),
        expires,
        revoked: null,
      },
    },
  };
  // Validate the result with the same schema the authorizer uses.
  return { document: parseApiKeyDocument(JSON.stringify(next)), keyId, key };
}

/** The roles in `roles` that `knownRoles` does not define. */
export function unknownRoles(
  roles: readonly string[],
  knownRoles: readonly string[],
): readonly string[] {
  return roles.filter((role) => !knownRoles.includes(role));
}

/**
 * Remove a key from the document altogether (its record, its name, its roles). For a key that
 * should simply stop working, `revokeKey` keeps the record, so `list` still shows who had it;
 * delete is for a key that should no longer be there, e.g. one naming a role the deployment
 * removed.
 */
export function deleteKey(document: ApiKeyDocument, keyId: string): ApiKeyDocument {
  if (!Object.hasOwn(document.keys, keyId)) throw new KeyAdminError(`No key with id ${keyId}`);
  const { [keyId]: _deleted, ...keys } = document.keys;
  return { version: 1, keys };
}

/** Mark a key revoked (kept, so `list` still shows who had it). */
export function revokeKey(document: ApiKeyDocument, keyId: string, now: Date): ApiKeyDocument {
  const record = Object.hasOwn(document.keys, keyId) ? document.keys[keyId] : undefined;
  if (record === undefined) throw new KeyAdminError(`No key with id ${keyId}`);
  if (record.revoked !== null) return document;
  return {
    version: 1,
    keys: { ...document.keys, [keyId]: { ...record, revoked: now.toISOString() } },
  };
}

export interface KeySummary {
  readonly keyId: string;
  readonly name: string;
  readonly roles: readonly string[];
  readonly created: string;
  readonly expires: string | null;
  readonly status: KeyStatus;
  /**
   * Roles the key names that the deployment does not define: the authorizer refuses such a key
   * (`key_unknown_role`) until it is deleted and created again with the roles there are.
   */
  readonly unknownRoles: readonly string[];
}

/** What `keys list` shows: never key material, not even hashes. */
export function listKeys(
  document: ApiKeyDocument,
  now: Date,
  knownRoles: readonly string[],
): KeySummary[] {
  return Object.entries(document.keys)
    .map(([keyId, record]) => ({
      keyId,
      name: record.name,
      roles: record.roles,
      created: record.created,
      expires: record.expires,
      status: keyStatus(record, now.getTime()),
      unknownRoles: unknownRoles(record.roles, knownRoles),
    }))
    .sort((a, b) => a.created.localeCompare(b.created) || a.keyId.localeCompare(b.keyId));
}
