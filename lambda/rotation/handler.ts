/**
 * The Secrets Manager rotation function for the API-key secret, following AWS's documented
 * contract (the rotation template's create/set/test/finish steps): Secrets Manager creates an
 * empty version labelled AWSPENDING whose id is the `ClientRequestToken`, then invokes this
 * function once per step, retrying a step that throws. Every step is therefore idempotent on
 * the token, and every refusal is a throw.
 *
 * Rotation keeps each key's id, name, roles and dates and issues fresh key material for the
 * active ones. The authorizer accepts AWSCURRENT's and AWSPREVIOUS's material, so a client
 * holding the old key keeps working until the next rotation.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import * as z from 'zod/mini';
import { ApiKeyStore } from '../authorizer/api-key-store';
import {
  type ApiKeyDocument,
  type ApiKeyRecord,
  formatApiKey,
  generateSecret,
  keyStatus,
  parseApiKeyDocument,
  storedHash,
} from '../shared/api-key';
import {
  ResourceExistsError,
  ResourceNotFoundError,
  type SecretsManagerPort,
  STAGE,
} from './secrets-manager-port';

export const ROTATION_STEPS = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const;
export type RotationStep = (typeof ROTATION_STEPS)[number];

/** The event Secrets Manager sends (it may add fields such as `RotationToken`; unused here). */
const rotationEventSchema = z.object({
  SecretId: z.string().check(z.minLength(1)),
  ClientRequestToken: z.string().check(z.minLength(1)),
  Step: z.enum(ROTATION_STEPS),
});
export type RotationEvent = z.infer<typeof rotationEventSchema>;

/** Rotation refused to go on. Messages name secrets, versions and key ids, never key material. */
export class RotationError extends Error {
  override readonly name = 'RotationError';
}

export interface RotationDeps {
  readonly secrets: SecretsManagerPort;
  readonly logger: Logger;
  /** The clock deciding which keys are still active. */
  readonly now?: () => Date;
}

export type RotationHandler = (event: unknown, context?: Context) => Promise<void>;

/** Whether a key may still be used: rotation issues fresh material only for these. */
export function isActiveKey(record: ApiKeyRecord, now: Date): boolean {
  return keyStatus(record, now.getTime()) === 'active';
}

/**
 * The next version of the document: every active key gets a fresh secret, stored in plain text
 * so an operator can hand it over (the secret is encrypted with KMS at rest); revoked and
 * expired keys carry over unchanged. Validated with the authorizer's schema.
 */
export function issueFreshKeyMaterial(document: ApiKeyDocument, now: Date): ApiKeyDocument {
  const keys: Record<string, ApiKeyRecord> = {};
  for (const [keyId, record] of Object.entries(document.keys)) {
    keys[keyId] = isActiveKey(record, now)
      ? {
          name: record.name,
          roles: [...record.roles],
          secret: generateSecret(),
          created: record.created,
          expires: record.expires,
          revoked: record.revoked,
        }
      : record;
  }
  return parseApiKeyDocument(JSON.stringify({ version: 1, keys }));
}

const sameMetadata = (a: ApiKeyRecord, b: ApiKeyRecord): boolean =>
  a.name === b.name &&
  a.created === b.created &&
  a.expires === b.expires &&
  a.revoked === b.revoked &&
  a.roles.length === b.roles.length &&
  a.roles.every((role, i) => b.roles[i] === role);

export interface VerifyPendingOptions {
  /**
   * Accept a pending document identical to the current one. With `RotateImmediately: false`
   * (CDK `rotateImmediatelyOnUpdate: false`) Secrets Manager tests the configuration by
   * staging an AWSPENDING version and running testSecret alone; promoting an unchanged
   * document would change nothing either. finishSecret never accepts one.
   */
  readonly acceptUnchanged?: boolean;
}

export interface PendingCheck {
  readonly keyCount: number;
  /** The pending document is the current one (the service's configuration test). */
  readonly unchanged: boolean;
}

/**
 * Check a pending document against the current one as the authorizer will see the pair once
 * the pending version is AWSCURRENT: the same key ids with the same metadata, fresh material
 * for every active key, and each key's material verified by the authorizer's own
 * {@link ApiKeyStore}. Throws {@link RotationError}.
 */
export async function verifyPendingDocument(
  currentText: string,
  pendingText: string,
  now: Date,
  options: VerifyPendingOptions = {},
): Promise<PendingCheck> {
  const current = parseApiKeyDocument(currentText);
  const pending = parseApiKeyDocument(pendingText);
  const keyCount = Object.keys(current.keys).length;
  if (options.acceptUnchanged === true && JSON.stringify(pending) === JSON.stringify(current)) {
    return { keyCount, unchanged: true };
  }

  const currentIds = Object.keys(current.keys);
  const missing = currentIds.filter((id) => !Object.hasOwn(pending.keys, id));
  const extra = Object.keys(pending.keys).filter((id) => !Object.hasOwn(current.keys, id));
  if (missing.length > 0 || extra.length > 0) {
    // Most likely a key was added or removed after createSecret ran: finishing would lose it.
    throw new RotationError(
      `The pending key ids differ from the current ones (missing: ${missing.join(', ') || 'none'}; extra: ${extra.join(', ') || 'none'})`,
    );
  }

  const store = new ApiKeyStore({
    source: { load: async () => ({ current: pendingText, previous: currentText }) },
    // One load for the whole check: never refresh.
    ttlMs: Number.POSITIVE_INFINITY,
    minRefreshMs: Number.POSITIVE_INFINITY,
    now: () => now.getTime(),
  });
  for (const keyId of currentIds) {
    const before = current.keys[keyId] as ApiKeyRecord;
    const after = pending.keys[keyId] as ApiKeyRecord;
    if (!sameMetadata(before, after)) {
      throw new RotationError(`Key ${keyId} changed name, roles or dates in the pending version`);
    }
    const active = isActiveKey(after, now);
    if (after.secret === undefined) {
      if (active) throw new RotationError(`Active key ${keyId} has no fresh key material`);
      if (storedHash(keyId, after) !== storedHash(keyId, before)) {
        throw new RotationError(`Inactive key ${keyId} changed its key material`);
      }
      continue;
    }
    if (active && storedHash(keyId, after) === storedHash(keyId, before)) {
      throw new RotationError(`Active key ${keyId} kept its old key material`);
    }
    const verdict = await store.verify({ keyId, key: formatApiKey(keyId, after.secret) });
    const status = keyStatus(after, now.getTime());
    const expected =
      status === 'active' ? 'ok' : status === 'revoked' ? 'key_revoked' : 'key_expired';
    const got = verdict.ok ? 'ok' : verdict.reason;
    if (got !== expected) {
      throw new RotationError(`Key ${keyId} verified as ${got} instead of ${expected}`);
    }
  }
  return { keyCount, unchanged: false };
}

export function createRotationHandler(deps: RotationDeps): RotationHandler {
  const { secrets, logger } = deps;
  const now = deps.now ?? (() => new Date());

  async function readCurrent(secretId: string): Promise<string> {
    return (await secrets.getSecretValue({ SecretId: secretId, VersionStage: STAGE.current }))
      .SecretString;
  }

  /** The pending version's value, or `undefined` while it is still the service's empty one. */
  async function readPending(secretId: string, token: string): Promise<string | undefined> {
    try {
      const value = await secrets.getSecretValue({
        SecretId: secretId,
        VersionId: token,
        VersionStage: STAGE.pending,
      });
      return value.SecretString;
    } catch (error) {
      if (error instanceof ResourceNotFoundError) return undefined;
      throw error;
    }
  }

  async function createSecret({ SecretId, ClientRequestToken }: RotationEvent): Promise<void> {
    const currentText = await readCurrent(SecretId);
    if ((await readPending(SecretId, ClientRequestToken)) !== undefined) {
      // A retry after the value was stored: keep the first material, never mint a second.
      logger.info('createSecret: the pending version already holds a value', {
        step: 'createSecret',
        secretId: SecretId,
        token: ClientRequestToken,
      });
      return;
    }
    const at = now();
    const next = issueFreshKeyMaterial(parseApiKeyDocument(currentText), at);
    try {
      await secrets.putSecretValue({
        SecretId,
        ClientRequestToken,
        SecretString: JSON.stringify(next),
        VersionStages: [STAGE.pending],
      });
    } catch (error) {
      // A concurrent invocation for the same token stored its value first; testSecret checks it.
      if (!(error instanceof ResourceExistsError)) throw error;
      logger.warn('createSecret: another invocation stored the pending value first', {
        step: 'createSecret',
        secretId: SecretId,
        token: ClientRequestToken,
      });
      return;
    }
    const keys = Object.values(next.keys);
    logger.info('createSecret: stored fresh key material as AWSPENDING', {
      step: 'createSecret',
      secretId: SecretId,
      token: ClientRequestToken,
      keyCount: keys.length,
      rotatedKeyCount: keys.filter((record) => isActiveKey(record, at)).length,
    });
  }

  /** Reads both versions and verifies the pair; throws if there is no pending value yet. */
  async function verify(
    { SecretId, ClientRequestToken, Step }: RotationEvent,
    options: VerifyPendingOptions,
  ): Promise<PendingCheck> {
    const pendingText = await readPending(SecretId, ClientRequestToken);
    if (pendingText === undefined) {
      throw new RotationError(
        `${Step}: version ${ClientRequestToken} of secret ${SecretId} has no value yet (createSecret has not run)`,
      );
    }
    return verifyPendingDocument(await readCurrent(SecretId), pendingText, now(), options);
  }

  async function testSecret(event: RotationEvent): Promise<void> {
    const { keyCount, unchanged } = await verify(event, { acceptUnchanged: true });
    logger.info(
      unchanged
        ? 'testSecret: the pending version is a copy of the current one (configuration test)'
        : 'testSecret: the pending key document verifies',
      {
        step: 'testSecret',
        secretId: event.SecretId,
        token: event.ClientRequestToken,
        keyCount,
      },
    );
  }

  async function finishSecret(
    event: RotationEvent,
    versionIdsToStages: Readonly<Record<string, readonly string[]>>,
  ): Promise<void> {
    // Verify again: a finish out of order, or after a key was added since testSecret, must not
    // promote a document that would lose keys.
    const { keyCount } = await verify(event, { acceptUnchanged: false });
    const currentVersion = Object.entries(versionIdsToStages).find(([, stages]) =>
      stages.includes(STAGE.current),
    )?.[0];
    await secrets.updateSecretVersionStage({
      SecretId: event.SecretId,
      VersionStage: STAGE.current,
      MoveToVersionId: event.ClientRequestToken,
      RemoveFromVersionId: currentVersion,
    });
    // AWSPENDING is left on the new version as in AWS's template: the service clears it when
    // the rotation completes, and AWSPENDING on the AWSCURRENT version is a finished state.
    logger.info('finishSecret: moved AWSCURRENT to the new version', {
      step: 'finishSecret',
      secretId: event.SecretId,
      token: event.ClientRequestToken,
      previousVersion: currentVersion,
      keyCount,
    });
  }

  return async (rawEvent, context) => {
    if (context !== undefined) logger.addContext(context);
    const parsed = rotationEventSchema.safeParse(rawEvent);
    if (!parsed.success) {
      const where = parsed.error.issues.map((issue) => issue.path.join('.')).join(', ');
      throw new RotationError(`The rotation event is malformed at: ${where}`);
    }
    const event = parsed.data;
    const { SecretId, ClientRequestToken, Step } = event;

    const description = await secrets.describeSecret(SecretId);
    if (!description.RotationEnabled) {
      throw new RotationError(`Secret ${SecretId} is not enabled for rotation`);
    }
    const stages = description.VersionIdsToStages[ClientRequestToken];
    if (stages === undefined) {
      throw new RotationError(
        `Version ${ClientRequestToken} has no stage for rotation of secret ${SecretId}`,
      );
    }
    if (stages.includes(STAGE.current)) {
      // This rotation already finished: a late retry of any step has nothing to do.
      logger.info(`${Step}: the version is already AWSCURRENT`, {
        step: Step,
        secretId: SecretId,
        token: ClientRequestToken,
      });
      return;
    }
    if (!stages.includes(STAGE.pending)) {
      throw new RotationError(
        `Version ${ClientRequestToken} is not AWSPENDING for rotation of secret ${SecretId}`,
      );
    }

    switch (Step) {
      case 'createSecret':
        return createSecret(event);
      case 'setSecret':
        // The authorizer reads the secret itself: there is no downstream system to update.
        logger.info('setSecret: nothing to set, the authorizer reads the secret', {
          step: Step,
          secretId: SecretId,
          token: ClientRequestToken,
        });
        return;
      case 'testSecret':
        return testSecret(event);
      case 'finishSecret':
        return finishSecret(event, description.VersionIdsToStages);
    }
  };
}
