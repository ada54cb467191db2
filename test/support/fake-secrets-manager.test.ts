/**
 * The stand-in's staging-label rules, checked one by one: the rotation tests are only as good
 * as its faithfulness to Secrets Manager.
 */
import { describe, expect, it } from 'vitest';
import {
  AwsSecretsManager,
  InvalidRequestError,
  ResourceExistsError,
  ResourceNotFoundError,
} from '../../lambda/rotation/secrets-manager-port';
import { FakeSecretsManager, sdkClientFor } from './fake-secrets-manager';

const FIRST = 'first value';

function fakeWithOneVersion() {
  const fake = new FakeSecretsManager({ secretString: FIRST });
  const first = fake.versionWith('AWSCURRENT') as string;
  return { fake, first };
}

describe('FakeSecretsManager.putSecretValue', () => {
  it('moves AWSCURRENT to a new version when no stages are given', async () => {
    // Prepare
    const { fake, first } = fakeWithOneVersion();

    // Act
    await fake.putSecretValue({ SecretId: fake.name, ClientRequestToken: 'v2', SecretString: 'b' });

    // Assess
    expect(fake.stages()).toEqual({ [first]: ['AWSPREVIOUS'], v2: ['AWSCURRENT'] });
  });

  it('takes AWSPREVIOUS off the version that had it when AWSCURRENT moves again', async () => {
    // Prepare
    const { fake } = fakeWithOneVersion();
    await fake.putSecretValue({ SecretId: fake.name, ClientRequestToken: 'v2', SecretString: 'b' });

    // Act
    await fake.putSecretValue({ SecretId: fake.name, ClientRequestToken: 'v3', SecretString: 'c' });

    // Assess
    expect(fake.stages()).toEqual({ v2: ['AWSPREVIOUS'], v3: ['AWSCURRENT'] });
  });

  it('attaches only the given stages, leaving AWSCURRENT where it was', async () => {
    // Prepare
    const { fake, first } = fakeWithOneVersion();

    // Act
    await fake.putSecretValue({
      SecretId: fake.name,
      ClientRequestToken: 'v2',
      SecretString: 'b',
      VersionStages: ['AWSPENDING'],
    });

    // Assess
    expect(fake.stages()).toEqual({ [first]: ['AWSCURRENT'], v2: ['AWSPENDING'] });
  });

  it('ignores a repeated token with the same value', async () => {
    // Prepare
    const { fake, first } = fakeWithOneVersion();
    const input = { SecretId: fake.name, ClientRequestToken: 'v2', SecretString: 'b' };
    await fake.putSecretValue(input);

    // Act
    const output = await fake.putSecretValue({ ...input, VersionStages: ['AWSPENDING'] });

    // Assess
    expect({ output, stages: fake.stages() }).toEqual({
      output: { VersionId: 'v2', VersionStages: ['AWSCURRENT'] },
      stages: { [first]: ['AWSPREVIOUS'], v2: ['AWSCURRENT'] },
    });
  });

  it('refuses a repeated token with a different value', async () => {
    // Prepare
    const { fake } = fakeWithOneVersion();
    await fake.putSecretValue({ SecretId: fake.name, ClientRequestToken: 'v2', SecretString: 'b' });

    // Act
    const attempt = fake.putSecretValue({
      SecretId: fake.name,
      ClientRequestToken: 'v2',
      SecretString: 'other',
    });

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(ResourceExistsError);
  });
});

describe('FakeSecretsManager.updateSecretVersionStage', () => {
  it('refuses to move a label held by another version without RemoveFromVersionId', async () => {
    // Prepare
    const { fake } = fakeWithOneVersion();
    await fake.putSecretValue({
      SecretId: fake.name,
      ClientRequestToken: 'v2',
      SecretString: 'b',
      VersionStages: ['AWSPENDING'],
    });

    // Act
    const attempt = fake.updateSecretVersionStage({
      SecretId: fake.name,
      VersionStage: 'AWSCURRENT',
      MoveToVersionId: 'v2',
    });

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(InvalidRequestError);
  });

  it('refuses a RemoveFromVersionId that does not hold the label', async () => {
    // Prepare
    const { fake, first } = fakeWithOneVersion();
    await fake.putSecretValue({
      SecretId: fake.name,
      ClientRequestToken: 'v2',
      SecretString: 'b',
      VersionStages: ['AWSPENDING'],
    });

    // Act
    const attempt = fake.updateSecretVersionStage({
      SecretId: fake.name,
      VersionStage: 'AWSPENDING',
      RemoveFromVersionId: first,
    });

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(InvalidRequestError);
  });

  it('moves AWSCURRENT and puts AWSPREVIOUS on the version it left', async () => {
    // Prepare
    const { fake, first } = fakeWithOneVersion();
    await fake.putSecretValue({
      SecretId: fake.name,
      ClientRequestToken: 'v2',
      SecretString: 'b',
      VersionStages: ['AWSPENDING'],
    });

    // Act
    await fake.updateSecretVersionStage({
      SecretId: fake.name,
      VersionStage: 'AWSCURRENT',
      MoveToVersionId: 'v2',
      RemoveFromVersionId: first,
    });

    // Assess
    expect(fake.stages()).toEqual({ [first]: ['AWSPREVIOUS'], v2: ['AWSCURRENT', 'AWSPENDING'] });
  });

  it('refuses to remove AWSCURRENT without moving it', async () => {
    // Prepare
    const { fake, first } = fakeWithOneVersion();

    // Act
    const attempt = fake.updateSecretVersionStage({
      SecretId: fake.name,
      VersionStage: 'AWSCURRENT',
      RemoveFromVersionId: first,
    });

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(InvalidRequestError);
  });

  it('deprecates a version whose last label is removed: unlisted and not found by label', async () => {
    // Prepare
    const { fake } = fakeWithOneVersion();
    await fake.putSecretValue({
      SecretId: fake.name,
      ClientRequestToken: 'v2',
      SecretString: 'b',
      VersionStages: ['AWSPENDING'],
    });

    // Act
    await fake.updateSecretVersionStage({
      SecretId: fake.name,
      VersionStage: 'AWSPENDING',
      RemoveFromVersionId: 'v2',
    });

    // Assess
    expect(Object.keys((await fake.describeSecret(fake.name)).VersionIdsToStages)).not.toContain(
      'v2',
    );
    await expect(
      fake.getSecretValue({ SecretId: fake.name, VersionStage: 'AWSPENDING' }),
    ).rejects.toBeInstanceOf(ResourceNotFoundError);
  });
});

describe('FakeSecretsManager rotation', () => {
  it('starts a rotation with an empty AWSPENDING version named by the token', async () => {
    // Prepare
    const { fake } = fakeWithOneVersion();

    // Act
    const token = fake.startRotation();

    // Assess
    expect(fake.stages()[token]).toEqual(['AWSPENDING']);
    await expect(
      fake.getSecretValue({ SecretId: fake.arn, VersionId: token, VersionStage: 'AWSPENDING' }),
    ).rejects.toBeInstanceOf(ResourceNotFoundError);
  });

  it('refuses to start a rotation while AWSPENDING is on another version than AWSCURRENT', () => {
    // Prepare
    const { fake } = fakeWithOneVersion();
    fake.startRotation();

    // Act
    const attempt = () => fake.startRotation();

    // Assess
    expect(attempt).toThrow(InvalidRequestError);
  });

  it('clears AWSPENDING off the new AWSCURRENT version when the rotation completes', async () => {
    // Prepare
    const { fake, first } = fakeWithOneVersion();
    const token = fake.startRotation();
    await fake.putSecretValue({
      SecretId: fake.arn,
      ClientRequestToken: token,
      SecretString: 'b',
      VersionStages: ['AWSPENDING'],
    });
    await fake.updateSecretVersionStage({
      SecretId: fake.arn,
      VersionStage: 'AWSCURRENT',
      MoveToVersionId: token,
      RemoveFromVersionId: first,
    });

    // Act
    fake.completeRotation(token);

    // Assess
    expect(fake.stages()).toEqual({ [first]: ['AWSPREVIOUS'], [token]: ['AWSCURRENT'] });
  });
});

describe('sdkClientFor', () => {
  it('carries the service errors through the AWS SDK to the port errors', async () => {
    // Prepare
    const { fake } = fakeWithOneVersion();
    const port = new AwsSecretsManager(sdkClientFor(fake));

    // Act
    const attempt = port.getSecretValue({ SecretId: fake.arn, VersionStage: 'AWSPREVIOUS' });

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(ResourceNotFoundError);
  });

  it('serves the values the stand-in holds through the AWS SDK', async () => {
    // Prepare
    const { fake, first } = fakeWithOneVersion();
    const port = new AwsSecretsManager(sdkClientFor(fake));

    // Act
    const value = await port.getSecretValue({ SecretId: fake.arn, VersionStage: 'AWSCURRENT' });

    // Assess
    expect(value).toEqual({ VersionId: first, VersionStages: ['AWSCURRENT'], SecretString: FIRST });
  });
});
