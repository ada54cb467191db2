/**
 * The API-key rotation function through whole rotation cycles against the in-memory Secrets
 * Manager, then the authorizer's key check (the production source, over a real SDK client)
 * against what the rotations left behind.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiKeyStore } from '../../../lambda/authorizer/api-key-store';
import {
  SecretsManagerApiKeySource,
  SecretsManagerProvider,
} from '../../../lambda/authorizer/secrets-manager-source';
import {
  createRotationHandler,
  issueFreshKeyMaterial,
  ROTATION_STEPS,
  RotationError,
  verifyPendingDocument,
} from '../../../lambda/rotation/handler';
import {
  AwsSecretsManager,
  type SecretsManagerPort,
} from '../../../lambda/rotation/secrets-manager-port';
import {
  type ApiKeyDocument,
  emptyApiKeyDocument,
  formatApiKey,
  parseApiKey,
  parseApiKeyDocument,
} from '../../../lambda/shared/api-key';
import { SecretsManagerClient } from '../../../lambda/shared/aws/secrets-manager';
import { createLogger } from '../../../lambda/shared/logger';
import { addKey, revokeKey } from '../../../tools/cli/api-key-admin';
import { type CapturedLogs, captureLogs } from '../../support/capture-logs';
import {
  FakeSecretsManager,
  InjectedFailureError,
  type ServedSecretsManager,
  sdkClientFor,
  serveOverHttp,
} from '../../support/fake-secrets-manager';

const NOW = new Date('2026-03-01T12:00:00.000Z');
const DAY_MS = 86_400_000;
const daysAgo = (days: number) => new Date(NOW.getTime() - days * DAY_MS);

type KeyName = 'bot' | 'reporter' | 'revoked' | 'expired';

/** Four keys: two active (one with an expiry date), one revoked, one expired. */
function seedDocument(): {
  document: ApiKeyDocument;
  keys: Record<KeyName, { keyId: string; key: string }>;
} {
  const bot = addKey(emptyApiKeyDocument(), {
    name: 'ci-bot',
    roles: ['analyst'],
    knownRoles: ['analyst'],
    now: NOW,
  });
  const reporter = addKey(bot.document, {
    name: 'reporter',
    roles: ['readonly', 'analyst'],
    knownRoles: ['readonly', 'analyst'],
    expiresInDays: 30,
    now: NOW,
  });
  const revoked = addKey(reporter.document, {
    name: 'old-bot',
    roles: ['admin'],
    knownRoles: ['admin'],
    now: daysAgo(10),
  });
  const expired = addKey(revokeKey(revoked.document, revoked.keyId, daysAgo(1)), {
    name: 'temp',
    roles: ['readonly'],
    knownRoles: ['readonly'],
    expiresInDays: 1,
    now: daysAgo(2),
  });
  return { document: expired.document, keys: { bot, reporter, revoked, expired } };
}

let logs: CapturedLogs;

beforeEach(() => {
  logs = captureLogs();
});

afterEach(() => {
  logs.restore();
});

function setup(options: { secrets?: (fake: FakeSecretsManager) => SecretsManagerPort } = {}) {
  const seed = seedDocument();
  const fake = new FakeSecretsManager({ secretString: JSON.stringify(seed.document) });
  const handler = createRotationHandler({
    secrets: options.secrets?.(fake) ?? fake,
    logger: createLogger('mcp-key-rotation'),
    now: () => NOW,
  });
  const original = fake.versionWith('AWSCURRENT') as string;
  return { fake, handler, keys: seed.keys, original };
}

const documentAt = (fake: FakeSecretsManager, stage: string) =>
  parseApiKeyDocument(fake.valueAt(stage));

/** The key a client is handed for `keyId` from a document's plain secret. */
function handedOut(document: ApiKeyDocument, keyId: string): string {
  const secret = document.keys[keyId]?.secret;
  if (secret === undefined) throw new Error(`Key ${keyId} has no plain secret`);
  return formatApiKey(keyId, secret);
}

/** Every labelled version with its labels and value. */
function snapshot(fake: FakeSecretsManager) {
  return Object.entries(fake.stages()).map(([id, stages]) => ({
    id,
    stages,
    value: fake.valueOf(id),
  }));
}

const putCalls = (fake: FakeSecretsManager) =>
  fake.calls.filter((call) => call.operation === 'putSecretValue').length;

describe('a full rotation', () => {
  it('completes on the secret as deployed, holding no keys yet', async () => {
    // Prepare: the stack creates the secret with an empty key document
    const fake = new FakeSecretsManager({ secretString: JSON.stringify(emptyApiKeyDocument()) });
    const handler = createRotationHandler({
      secrets: fake,
      logger: createLogger('mcp-key-rotation'),
      now: () => NOW,
    });

    // Act
    const token = await fake.rotate(handler);

    // Assess
    expect(fake.stages()[token]).toContain('AWSCURRENT');
    expect(documentAt(fake, 'AWSCURRENT')).toEqual(emptyApiKeyDocument());
  });

  it('leaves AWSCURRENT on the new version, AWSPREVIOUS on the old one and no AWSPENDING', async () => {
    // Prepare
    const { fake, handler, original } = setup();

    // Act
    const token = await fake.rotate(handler);

    // Assess
    expect(fake.stages()).toEqual({ [original]: ['AWSPREVIOUS'], [token]: ['AWSCURRENT'] });
  });

  it('keeps every key id, name, role and date', async () => {
    // Prepare
    const { fake, handler } = setup();
    const metadata = (document: ApiKeyDocument) =>
      Object.entries(document.keys).map(([keyId, { name, roles, created, expires, revoked }]) => ({
        keyId,
        name,
        roles,
        created,
        expires,
        revoked,
      }));
    const before = metadata(documentAt(fake, 'AWSCURRENT'));

    // Act
    await fake.rotate(handler);

    // Assess
    expect(metadata(documentAt(fake, 'AWSCURRENT'))).toEqual(before);
  });

  it('issues fresh key material for every active key', async () => {
    // Prepare
    const { fake, handler, keys } = setup();

    // Act
    await fake.rotate(handler);

    // Assess
    const current = documentAt(fake, 'AWSCURRENT');
    const changed = [keys.bot, keys.reporter].map(
      ({ keyId, key }) => handedOut(current, keyId) !== key,
    );
    expect(changed).toEqual([true, true]);
  });

  it('carries revoked and expired keys over unchanged', async () => {
    // Prepare
    const { fake, handler, keys } = setup();
    const before = documentAt(fake, 'AWSCURRENT');

    // Act
    await fake.rotate(handler);

    // Assess
    const after = documentAt(fake, 'AWSCURRENT');
    expect([after.keys[keys.revoked.keyId], after.keys[keys.expired.keyId]]).toEqual([
      before.keys[keys.revoked.keyId],
      before.keys[keys.expired.keyId],
    ]);
  });

  it('runs unchanged through the AWS SDK adapter', async () => {
    // Prepare
    const { fake, handler, original } = setup({
      secrets: (stand) => new AwsSecretsManager(sdkClientFor(stand)),
    });

    // Act
    const token = await fake.rotate(handler);

    // Assess
    expect(fake.stages()).toEqual({ [original]: ['AWSPREVIOUS'], [token]: ['AWSCURRENT'] });
  });

  it('logs the step, secret id, token and key count', async () => {
    // Prepare
    const { fake, handler } = setup();

    // Act
    const token = await fake.rotate(handler);

    // Assess
    const logged = logs.records().map(({ step, secretId, token: loggedToken, keyCount }) => ({
      step,
      secretId,
      token: loggedToken,
      keyCount,
    }));
    expect(logged).toEqual(
      expect.arrayContaining(
        ['createSecret', 'testSecret', 'finishSecret'].map((step) => ({
          step,
          secretId: fake.arn,
          token,
          keyCount: 4,
        })),
      ),
    );
  });

  it('writes no key material to the logs', async () => {
    // Prepare
    const { fake, handler, keys } = setup();

    // Act
    await fake.rotate(handler);

    // Assess
    const current = documentAt(fake, 'AWSCURRENT');
    const material = [
      ...Object.values(current.keys).flatMap((record) => record.secret ?? []),
      ...Object.values(documentAt(fake, 'AWSPREVIOUS').keys).flatMap((record) => record.hash ?? []),
      keys.bot.key,
    ];
    expect(material.length).toBeGreaterThan(4);
    expect(logs.lines.filter((line) => material.some((text) => line.includes(text)))).toEqual([]);
  });
});

describe('retried steps', () => {
  it.each(ROTATION_STEPS)('give the same labels and values when %s runs twice', async (step) => {
    // Prepare
    const { fake, handler } = setup();
    const token = fake.startRotation();
    for (const earlier of ROTATION_STEPS.slice(0, ROTATION_STEPS.indexOf(step))) {
      await handler(fake.event(earlier, token));
    }
    await handler(fake.event(step, token));
    const once = snapshot(fake);

    // Act
    await handler(fake.event(step, token));

    // Assess
    expect(snapshot(fake)).toEqual(once);
  });

  it('change nothing when they arrive after the rotation completed', async () => {
    // Prepare
    const { fake, handler } = setup();
    const token = await fake.rotate(handler);
    const after = snapshot(fake);

    // Act
    for (const step of ROTATION_STEPS) await handler(fake.event(step, token));

    // Assess
    expect(snapshot(fake)).toEqual(after);
  });

  it('reuse the stored pending material when createSecret is retried after a crash', async () => {
    // Prepare
    const { fake, handler } = setup();
    const token = fake.startRotation();
    fake.failNext('putSecretValue', { when: 'after' });
    await expect(handler(fake.event('createSecret', token))).rejects.toBeInstanceOf(
      InjectedFailureError,
    );
    const stored = fake.valueOf(token);

    // Act
    await handler(fake.event('createSecret', token));

    // Assess
    expect({ puts: putCalls(fake), value: fake.valueOf(token) }).toEqual({
      puts: 1,
      value: stored,
    });
  });

  it('finish the rotation when finishSecret is retried after a crash', async () => {
    // Prepare
    const { fake, handler, original } = setup();
    const token = fake.startRotation();
    for (const step of ROTATION_STEPS.slice(0, 3)) await handler(fake.event(step, token));
    fake.failNext('updateSecretVersionStage', { when: 'after' });
    await expect(handler(fake.event('finishSecret', token))).rejects.toBeInstanceOf(
      InjectedFailureError,
    );

    // Act
    await handler(fake.event('finishSecret', token));
    fake.completeRotation(token);

    // Assess
    expect(fake.stages()).toEqual({ [original]: ['AWSPREVIOUS'], [token]: ['AWSCURRENT'] });
  });
});

describe('steps out of order', () => {
  it('refuse finishSecret before createSecret and leave the labels as they were', async () => {
    // Prepare
    const { fake, handler } = setup();
    const token = fake.startRotation();
    const before = fake.stages();

    // Act
    const attempt = handler(fake.event('finishSecret', token));

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(RotationError);
    expect(fake.stages()).toEqual(before);
  });

  it('refuse testSecret before createSecret stored a value and leave the labels', async () => {
    // Prepare
    const { fake, handler } = setup();
    const token = fake.startRotation();
    const before = fake.stages();

    // Act
    const attempt = handler(fake.event('testSecret', token));

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(RotationError);
    expect(fake.stages()).toEqual(before);
  });

  it('refuse testSecret for a token with no pending version and leave the labels', async () => {
    // Prepare
    const { fake, handler } = setup();
    const before = fake.stages();

    // Act
    const attempt = handler(fake.event('testSecret', 'a-token-secrets-manager-never-staged'));

    // Assess
    await expect(attempt).rejects.toThrow(/has no stage for rotation/);
    expect(fake.stages()).toEqual(before);
  });

  it('refuse testSecret when a key was added after createSecret', async () => {
    // Prepare
    const { fake, handler } = setup();
    const token = fake.startRotation();
    await handler(fake.event('createSecret', token));
    const added = addKey(documentAt(fake, 'AWSCURRENT'), {
      name: 'late',
      roles: ['readonly'],
      knownRoles: ['readonly'],
      now: NOW,
    });
    await fake.putSecretValue({
      SecretId: fake.arn,
      ClientRequestToken: 'written-mid-rotation',
      SecretString: JSON.stringify(added.document),
    });

    // Act
    const attempt = handler(fake.event('testSecret', token));

    // Assess
    await expect(attempt).rejects.toThrow(`missing: ${added.keyId}`);
  });

  it('refuse finishSecret when a key was added after testSecret, leaving AWSCURRENT alone', async () => {
    // Prepare
    const { fake, handler } = setup();
    const token = fake.startRotation();
    for (const step of ROTATION_STEPS.slice(0, 3)) await handler(fake.event(step, token));
    const added = addKey(documentAt(fake, 'AWSCURRENT'), {
      name: 'late',
      roles: ['readonly'],
      knownRoles: ['readonly'],
      now: NOW,
    });
    await fake.putSecretValue({
      SecretId: fake.arn,
      ClientRequestToken: 'written-mid-rotation',
      SecretString: JSON.stringify(added.document),
    });

    // Act
    const attempt = handler(fake.event('finishSecret', token));

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(RotationError);
    expect(fake.versionWith('AWSCURRENT')).toBe('written-mid-rotation');
  });
});

describe('Secrets Manager’s configuration test (RotateImmediately false)', () => {
  it('passes testSecret on the staged copy of the current document and changes nothing', async () => {
    // Prepare
    const { fake, handler, original } = setup();
    const before = fake.valueOf(original);

    // Act
    await fake.testRotationConfiguration(handler);

    // Assess
    expect({ stages: fake.stages(), value: fake.valueOf(original) }).toEqual({
      stages: { [original]: ['AWSCURRENT'] },
      value: before,
    });
  });

  it('is never promoted: finishSecret refuses a pending copy of the current document', async () => {
    // Prepare
    const { fake, handler, original } = setup();
    const token = fake.startRotation();
    await fake.putSecretValue({
      SecretId: fake.arn,
      ClientRequestToken: token,
      SecretString: fake.valueAt('AWSCURRENT'),
      VersionStages: ['AWSPENDING'],
    });

    // Act
    const attempt = handler(fake.event('finishSecret', token));

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(RotationError);
    expect(fake.versionWith('AWSCURRENT')).toBe(original);
  });
});

describe('the rotation function refuses', () => {
  it('a secret whose rotation is disabled, writing nothing', async () => {
    // Prepare
    const { fake, handler } = setup();
    const token = fake.startRotation();
    fake.rotationEnabled = false;

    // Act
    const attempt = handler(fake.event('createSecret', token));

    // Assess
    await expect(attempt).rejects.toThrow(/not enabled for rotation/);
    expect(putCalls(fake)).toBe(0);
  });

  it('a token staged neither AWSPENDING nor AWSCURRENT', async () => {
    // Prepare
    const { fake, handler, original } = setup();
    await fake.rotate(handler);

    // Act
    const attempt = handler(fake.event('createSecret', original));

    // Assess
    await expect(attempt).rejects.toThrow(/is not AWSPENDING/);
  });

  it('a malformed event before calling Secrets Manager', async () => {
    // Prepare
    const { fake, handler } = setup();

    // Act
    const attempt = handler({ SecretId: fake.arn, ClientRequestToken: 't', Step: 'dropSecret' });

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(RotationError);
    expect(fake.calls).toEqual([]);
  });
});

describe('verifyPendingDocument', () => {
  const current = () => seedDocument().document;

  it('accepts the document createSecret issues', async () => {
    // Prepare
    const document = current();
    const pending = issueFreshKeyMaterial(document, NOW);

    // Act
    const check = await verifyPendingDocument(
      JSON.stringify(document),
      JSON.stringify(pending),
      NOW,
    );

    // Assess
    expect(check).toEqual({ keyCount: 4, unchanged: false });
  });

  it('refuses a pending document that changes a key’s roles', async () => {
    // Prepare
    const document = current();
    const pending = issueFreshKeyMaterial(document, NOW);
    const [keyId, record] = Object.entries(pending.keys)[0] as [
      string,
      ApiKeyDocument['keys'][string],
    ];
    pending.keys[keyId] = { ...record, roles: ['admin'] };

    // Act
    const attempt = verifyPendingDocument(JSON.stringify(document), JSON.stringify(pending), NOW);

    // Assess
    await expect(attempt).rejects.toThrow(`Key ${keyId} changed name, roles or dates`);
  });

  it('refuses a pending document in which an active key keeps its old material', async () => {
    // Prepare
    const document = issueFreshKeyMaterial(current(), NOW);

    // Act
    const attempt = verifyPendingDocument(JSON.stringify(document), JSON.stringify(document), NOW);

    // Assess
    await expect(attempt).rejects.toThrow(/kept its old key material/);
  });
});

describe('the authorizer after rotations', () => {
  const served: ServedSecretsManager[] = [];
  afterEach(async () => {
    for (const endpoint of served.splice(0)) await endpoint.stop();
  });

  /**
   * The authorizer's key check reading AWSCURRENT and AWSPREVIOUS from the stand-in, over
   * loopback HTTP through its own small AWS client.
   */
  async function authorizer(fake: FakeSecretsManager): Promise<ApiKeyStore> {
    const endpoint = await serveOverHttp(fake);
    served.push(endpoint);
    const client = new SecretsManagerClient({
      endpoint: endpoint.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'fake-access-key-id', secretAccessKey: 'test-secret-key' },
      maxAttempts: 1,
    });
    return new ApiKeyStore({
      source: new SecretsManagerApiKeySource(fake.arn, new SecretsManagerProvider(client)),
      ttlMs: 60_000,
      minRefreshMs: 10_000,
      now: () => NOW.getTime(),
    });
  }

  async function verdictsFor(fake: FakeSecretsManager, keys: readonly string[]) {
    const store = await authorizer(fake);
    const verdicts = [];
    for (const key of keys) {
      const parsed = parseApiKey(key);
      if (parsed === undefined) throw new Error('Not a well-formed API key');
      const verdict = await store.verify(parsed);
      verdicts.push(
        verdict.ok ? { ok: true, name: verdict.name } : { ok: false, reason: verdict.reason },
      );
    }
    return verdicts;
  }

  it('accepts the new keys after a rotation', async () => {
    // Prepare
    const { fake, handler, keys } = setup();
    await fake.rotate(handler);
    const current = documentAt(fake, 'AWSCURRENT');

    // Act
    const verdicts = await verdictsFor(fake, [
      handedOut(current, keys.bot.keyId),
      handedOut(current, keys.reporter.keyId),
    ]);

    // Assess
    expect(verdicts).toEqual([
      { ok: true, name: 'ci-bot' },
      { ok: true, name: 'reporter' },
    ]);
  });

  it('still accepts the keys from before the rotation', async () => {
    // Prepare
    const { fake, handler, keys } = setup();
    await fake.rotate(handler);

    // Act
    const verdicts = await verdictsFor(fake, [keys.bot.key, keys.reporter.key]);

    // Assess
    expect(verdicts).toEqual([
      { ok: true, name: 'ci-bot' },
      { ok: true, name: 'reporter' },
    ]);
  });

  it('refuses the keys from two rotations ago as wrong_secret', async () => {
    // Prepare
    const { fake, handler, keys } = setup();
    await fake.rotate(handler);
    await fake.rotate(handler);

    // Act
    const verdicts = await verdictsFor(fake, [keys.bot.key, keys.reporter.key]);

    // Assess
    expect(verdicts).toEqual([
      { ok: false, reason: 'wrong_secret' },
      { ok: false, reason: 'wrong_secret' },
    ]);
  });

  it('accepts the keys from the first rotation after the second', async () => {
    // Prepare
    const { fake, handler, keys } = setup();
    await fake.rotate(handler);
    const first = documentAt(fake, 'AWSCURRENT');
    await fake.rotate(handler);

    // Act
    const verdicts = await verdictsFor(fake, [handedOut(first, keys.bot.keyId)]);

    // Assess
    expect(verdicts).toEqual([{ ok: true, name: 'ci-bot' }]);
  });

  it('keeps refusing revoked and expired keys after a rotation', async () => {
    // Prepare
    const { fake, handler, keys } = setup();
    await fake.rotate(handler);

    // Act
    const verdicts = await verdictsFor(fake, [keys.revoked.key, keys.expired.key]);

    // Assess
    expect(verdicts).toEqual([
      { ok: false, reason: 'key_revoked' },
      { ok: false, reason: 'key_expired' },
    ]);
  });
});

describe('the Lambda entry point', () => {
  it('builds its handler with no configuration', async () => {
    // Act
    const entry = await import('../../../lambda/rotation/index');

    // Assess
    expect(entry.handler).toBeTypeOf('function');
  });
});
