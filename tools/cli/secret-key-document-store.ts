/**
 * The keys CLI's store for the deployed API-key secret. Every write is a new version (a fresh
 * ClientRequestToken) that becomes AWSCURRENT: a version is never edited in place, so the
 * authorizer and rotation only ever see complete documents.
 */
import { randomUUID } from 'node:crypto';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  AwsSecretsManager,
  type SecretsManagerPort,
  STAGE,
} from '../../lambda/rotation/secrets-manager-port';
import { type ApiKeyDocument, parseApiKeyDocument } from '../../lambda/shared/api-key';
import type { KeyDocumentStore } from './api-key-admin';

/** Secrets Manager's limit on a SecretString. */
export const MAX_SECRET_BYTES = 65_536;

/** The write would race a rotation or another writer, or cannot fit: nothing was written. */
export class KeyDocumentConflictError extends Error {
  override readonly name = 'KeyDocumentConflictError';
}

export interface SecretKeyDocumentStoreOptions {
  /** The secret's name or ARN. */
  readonly secretId: string;
  readonly secrets: SecretsManagerPort;
  /** The ClientRequestToken of each new version. */
  readonly newToken?: () => string;
  /** Told about problems that did not stop the write. */
  readonly warn?: (message: string) => void;
}

export class SecretKeyDocumentStore implements KeyDocumentStore {
  readonly description: string;
  readonly #secretId: string;
  readonly #secrets: SecretsManagerPort;
  readonly #newToken: () => string;
  readonly #warn: (message: string) => void;
  /** The AWSCURRENT version the last read saw, to refuse overwriting someone else's write. */
  #readVersionId: string | undefined;

  constructor(options: SecretKeyDocumentStoreOptions) {
    this.#secretId = options.secretId;
    this.#secrets = options.secrets;
    this.#newToken = options.newToken ?? randomUUID;
    this.#warn = options.warn ?? ((message) => process.stderr.write(`warning: ${message}\n`));
    this.description = `secret ${options.secretId}`;
  }

  async read(): Promise<ApiKeyDocument> {
    const value = await this.#secrets.getSecretValue({
      SecretId: this.#secretId,
      VersionStage: STAGE.current,
    });
    this.#readVersionId = value.VersionId;
    return parseApiKeyDocument(value.SecretString);
  }

  async write(document: ApiKeyDocument): Promise<void> {
    // Validate with the authorizer's schema: a document it cannot parse would lock out every
    // API-key caller.
    const text = JSON.stringify(parseApiKeyDocument(JSON.stringify(document)));
    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes > MAX_SECRET_BYTES) {
      throw new KeyDocumentConflictError(
        `The key document would be ${bytes} bytes; a secret holds at most ${MAX_SECRET_BYTES}. Remove revoked or expired keys first.`,
      );
    }

    const stages = (await this.#secrets.describeSecret(this.#secretId)).VersionIdsToStages;
    const holder = (stage: string) =>
      Object.entries(stages).find(([, labels]) => labels.includes(stage))?.[0];
    const current = holder(STAGE.current);
    const pending = holder(STAGE.pending);
    const previous = holder(STAGE.previous);

    // AWSPENDING on the AWSCURRENT version is a finished rotation; on any other version it is
    // one in flight, whose pending document would silently drop this change when it finishes.
    if (pending !== undefined && pending !== current) {
      throw new KeyDocumentConflictError(
        `A rotation of ${this.#secretId} is in progress (version ${pending} is AWSPENDING); nothing was written. Try again once it has finished. If the rotation failed, fix it or remove the label: aws secretsmanager update-secret-version-stage --secret-id ${this.#secretId} --version-stage AWSPENDING --remove-from-version-id ${pending}`,
      );
    }
    if (this.#readVersionId !== undefined && current !== this.#readVersionId) {
      throw new KeyDocumentConflictError(
        `${this.#secretId} changed since it was read (AWSCURRENT is now version ${current}); nothing was written. Run the command again.`,
      );
    }

    const token = this.#newToken();
    await this.#secrets.putSecretValue({
      SecretId: this.#secretId,
      ClientRequestToken: token,
      SecretString: text,
      VersionStages: [STAGE.current],
    });
    this.#readVersionId = token;

    // Moving AWSCURRENT moved AWSPREVIOUS onto the version just replaced, whose key material is
    // the new version's. Put it back on the version from before the last rotation, so clients
    // still holding that material keep their grace period until the next rotation.
    if (previous !== undefined && current !== undefined && previous !== current) {
      try {
        await this.#secrets.updateSecretVersionStage({
          SecretId: this.#secretId,
          VersionStage: STAGE.previous,
          MoveToVersionId: previous,
          RemoveFromVersionId: current,
        });
      } catch (error) {
        // The change is written; only the grace period of keys rotated last time is cut short.
        this.#warn(
          `AWSPREVIOUS could not be moved back to version ${previous} (${error instanceof Error ? error.name : 'unknown error'}): keys from before the last rotation no longer work.`,
        );
      }
    }
  }
}

/** The store over the deployed secret, with the region and credentials of the standard AWS env. */
export function createSecretKeyDocumentStore(secretId: string): SecretKeyDocumentStore {
  return new SecretKeyDocumentStore({
    secretId,
    secrets: new AwsSecretsManager(new SecretsManagerClient({})),
  });
}
