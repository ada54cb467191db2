/**
 * The keys CLI's store over the deployed secret, against the in-memory Secrets Manager: new
 * versions only, never during a rotation, and the rotation grace period kept.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createRotationHandler } from '../../../../lambda/rotation/handler';
import { AwsSecretsManager } from '../../../../lambda/rotation/secrets-manager-port';
import {
  type ApiKeyDocument,
  ApiKeyDocumentError,
  type ApiKeyRecord,
  emptyApiKeyDocument,
  parseApiKeyDocument,
} from '../../../../lambda/shared/api-key';
import { createLogger } from '../../../../lambda/shared/logger';
import { addKey } from '../../../../tools/cli/api-key-admin';
import {
  KeyDocumentConflictError,
  SecretKeyDocumentStore,
} from '../../../../tools/cli/secret-key-document-store';
import { type CapturedLogs, captureLogs } from '../../../support/capture-logs';
import { FakeSecretsManager, sdkClientFor } from '../../../support/fake-secrets-manager';

const NOW = new Date('2026-03-01T12:00:00.000Z');

let logs: CapturedLogs;

beforeEach(() => {
  // The rotation function some tests run logs through Powertools.
  logs = captureLogs();
});

afterEach(() => {
  logs.restore();
});

function setup(options: { clearsPendingOnCompletion?: boolean } = {}) {
  const seed = addKey(emptyApiKeyDocument(), {
    name: 'ci-bot',
    roles: ['analyst'],
    knownRoles: ['analyst'],
    now: NOW,
  });
  const fake = new FakeSecretsManager({
    secretString: JSON.stringify(seed.document),
    clearsPendingOnCompletion: options.clearsPendingOnCompletion,
  });
  const warn = vi.fn<(message: string) => void>();
  let tokens = 0;
  const store = new SecretKeyDocumentStore({
    secretId: fake.arn,
    secrets: fake,
    newToken: () => `cli-version-${++tokens}`,
    warn,
  });
  const rotation = createRotationHandler({
    secrets: fake,
    logger: createLogger('mcp-key-rotation'),
    now: () => NOW,
  });
  const original = fake.versionWith('AWSCURRENT') as string;
  return { fake, store, warn, rotation, original, seed };
}

const withKey = (document: ApiKeyDocument, name: string) =>
  addKey(document, { name, roles: ['readonly'], knownRoles: ['readonly'], now: NOW }).document;

const putCalls = (fake: FakeSecretsManager) =>
  fake.calls.filter((call) => call.operation === 'putSecretValue').length;

describe('SecretKeyDocumentStore.read', () => {
  it('returns the AWSCURRENT document', async () => {
    // Prepare
    const { store, seed } = setup();

    // Act
    const document = await store.read();

    // Assess
    expect(document).toEqual(seed.document);
  });
});

describe('SecretKeyDocumentStore.write', () => {
  it('stores the document as a new version that becomes AWSCURRENT', async () => {
    // Prepare
    const { fake, store } = setup();
    const next = withKey(await store.read(), 'new-bot');

    // Act
    await store.write(next);

    // Assess
    expect({
      current: fake.versionWith('AWSCURRENT'),
      document: parseApiKeyDocument(fake.valueAt('AWSCURRENT')),
    }).toEqual({ current: 'cli-version-1', document: next });
  });

  it('leaves the value of the version it replaces untouched', async () => {
    // Prepare
    const { fake, store, original } = setup();
    const before = fake.valueOf(original);

    // Act
    await store.write(withKey(await store.read(), 'new-bot'));

    // Assess
    expect(fake.valueOf(original)).toBe(before);
  });

  it('lets AWSPREVIOUS follow AWSCURRENT when the secret was never rotated', async () => {
    // Prepare
    const { fake, store, original } = setup();

    // Act
    await store.write(withKey(await store.read(), 'new-bot'));

    // Assess
    expect(fake.stages()).toEqual({
      [original]: ['AWSPREVIOUS'],
      'cli-version-1': ['AWSCURRENT'],
    });
  });

  it('keeps AWSPREVIOUS on the version from before the last rotation', async () => {
    // Prepare
    const { fake, store, rotation, original } = setup();
    const rotated = await fake.rotate(rotation);

    // Act
    await store.write(withKey(await store.read(), 'new-bot'));

    // Assess
    expect({
      previous: fake.versionWith('AWSPREVIOUS'),
      current: fake.versionWith('AWSCURRENT'),
      rotatedStages: fake.stages()[rotated],
    }).toEqual({ previous: original, current: 'cli-version-1', rotatedStages: undefined });
  });

  it('still writes, with a warning, when AWSPREVIOUS cannot be put back', async () => {
    // Prepare
    const { fake, store, rotation, warn } = setup();
    await fake.rotate(rotation);
    const next = withKey(await store.read(), 'new-bot');
    fake.failNext('updateSecretVersionStage');

    // Act
    await store.write(next);

    // Assess
    expect({
      current: fake.versionWith('AWSCURRENT'),
      warned: warn.mock.calls.map(([message]) => message.includes('AWSPREVIOUS')),
    }).toEqual({ current: 'cli-version-1', warned: [true] });
  });

  it('refuses to write while a rotation is in flight, naming AWSPENDING', async () => {
    // Prepare
    const { fake, store, rotation } = setup();
    const next = withKey(await store.read(), 'new-bot');
    const token = fake.startRotation();
    await rotation(fake.event('createSecret', token));
    const before = fake.stages();

    // Act
    const attempt = store.write(next);

    // Assess
    await expect(attempt).rejects.toThrow(
      expect.objectContaining({
        name: 'KeyDocumentConflictError',
        message: expect.stringContaining(`version ${token} is AWSPENDING`),
      }),
    );
    expect(fake.stages()).toEqual(before);
  });

  it('writes when AWSPENDING stayed on the AWSCURRENT version of a finished rotation', async () => {
    // Prepare
    const { fake, store, rotation } = setup({ clearsPendingOnCompletion: false });
    const rotated = await fake.rotate(rotation);
    const next = withKey(await store.read(), 'new-bot');

    // Act
    await store.write(next);

    // Assess
    expect({
      current: fake.versionWith('AWSCURRENT'),
      pending: fake.versionWith('AWSPENDING'),
    }).toEqual({ current: 'cli-version-1', pending: rotated });
  });

  it('refuses to overwrite a version written since it read the document', async () => {
    // Prepare
    const { fake, store } = setup();
    const next = withKey(await store.read(), 'new-bot');
    await fake.putSecretValue({
      SecretId: fake.arn,
      ClientRequestToken: 'someone-else',
      SecretString: JSON.stringify(withKey(next, 'their-bot')),
    });

    // Act
    const attempt = store.write(next);

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(KeyDocumentConflictError);
    expect(fake.versionWith('AWSCURRENT')).toBe('someone-else');
  });

  it('refuses a document the authorizer could not parse, writing nothing', async () => {
    // Prepare
    const { fake, store } = setup();
    const broken = { version: 2, keys: {} } as unknown as ApiKeyDocument;

    // Act
    const attempt = store.write(broken);

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(ApiKeyDocumentError);
    expect(putCalls(fake)).toBe(0);
  });

  it('refuses a document larger than a secret can hold, writing nothing', async () => {
    // Prepare
    const { fake, store } = setup();
    const document = await store.read();
    const [record] = Object.values(document.keys);
    // 600 keys of ~150 bytes each: over 64 KiB.
    for (let i = 0; i < 600; i++) {
      document.keys[i.toString(16).padStart(16, '0')] = { ...(record as ApiKeyRecord) };
    }

    // Act
    const attempt = store.write(document);

    // Assess
    await expect(attempt).rejects.toThrow(/at most 65536/);
    expect(putCalls(fake)).toBe(0);
  });

  it('writes through the AWS SDK adapter', async () => {
    // Prepare
    const { fake } = setup();
    const store = new SecretKeyDocumentStore({
      secretId: fake.arn,
      secrets: new AwsSecretsManager(sdkClientFor(fake)),
    });
    const next = withKey(await store.read(), 'new-bot');

    // Act
    await store.write(next);

    // Assess
    expect(parseApiKeyDocument(fake.valueAt('AWSCURRENT'))).toEqual(next);
  });
});
