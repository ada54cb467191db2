/**
 * The typed wrappers for Secrets Manager, KMS and Cognito on the wire: the request each sends
 * (checked against SDK v3's signer), how it decodes the answer, and the error codes it keeps.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CognitoIdentityProviderClient } from '../../../../lambda/shared/aws/cognito-identity-provider';
import type { AwsClientOptions } from '../../../../lambda/shared/aws/json-client';
import { KmsClient } from '../../../../lambda/shared/aws/kms';
import { SecretsManagerClient } from '../../../../lambda/shared/aws/secrets-manager';
import { type LoopbackAws, startLoopbackAws } from '../../../support/loopback-aws';
import { hasValidSignature } from '../../../support/sigv4-verifier';

const CREDENTIALS = { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret-key', sessionToken: 'tok' };

const servers: LoopbackAws[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.stop();
});

async function loopback(respond: LoopbackAws['respond']) {
  const server = await startLoopbackAws(respond);
  servers.push(server);
  const options: AwsClientOptions = {
    endpoint: server.endpoint,
    region: 'eu-central-1',
    credentials: CREDENTIALS,
    retryDelayMs: () => 0,
  };
  return { server, options };
}

const bodyOf = (server: LoopbackAws, index = 0): unknown =>
  JSON.parse(server.requests[index]?.body ?? 'null');

describe('SecretsManagerClient', () => {
  it('asks for the stage and returns the secret text and metadata', async () => {
    // Prepare
    const { server, options } = await loopback(() => ({
      status: 200,
      body: {
        ARN: 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:k-AbCdEf',
        Name: 'k',
        VersionId: 'v1',
        VersionStages: ['AWSPREVIOUS'],
        SecretString: '{"keys":{}}',
        CreatedDate: 1_767_225_600.5,
      },
    }));

    // Act
    const value = await new SecretsManagerClient(options).getSecretValue({
      SecretId: 'k',
      VersionStage: 'AWSPREVIOUS',
    });

    // Assess
    expect(server.requests[0]?.headers['x-amz-target']).toBe('secretsmanager.GetSecretValue');
    expect(bodyOf(server)).toEqual({ SecretId: 'k', VersionStage: 'AWSPREVIOUS' });
    expect(value).toMatchObject({
      Name: 'k',
      VersionId: 'v1',
      VersionStages: ['AWSPREVIOUS'],
      SecretString: '{"keys":{}}',
      CreatedDate: new Date(1_767_225_600_500),
    });
  });

  it('decodes a binary secret', async () => {
    // Prepare
    const { options } = await loopback(() => ({ status: 200, body: { SecretBinary: 'AAEC' } }));

    // Act
    const value = await new SecretsManagerClient(options).getSecretValue({ SecretId: 'k' });

    // Assess
    expect(value.SecretBinary).toEqual(new Uint8Array([0, 1, 2]));
  });

  it('refuses an answer with neither SecretString nor SecretBinary', async () => {
    // Prepare
    const { options } = await loopback(() => ({ status: 200, body: { Name: 'k' } }));

    // Act
    const reading = new SecretsManagerClient(options).getSecretValue({ SecretId: 'k' });

    // Assess
    await expect(reading).rejects.toMatchObject({ code: 'InvalidResponseError' });
  });

  it('keeps ResourceNotFoundException as the error code of a missing version', async () => {
    // Prepare
    const { options } = await loopback(() => ({
      status: 400,
      body: { __type: 'ResourceNotFoundException', Message: 'no such version' },
    }));

    // Act
    const reading = new SecretsManagerClient(options).getSecretValue({ SecretId: 'k' });

    // Assess
    await expect(reading).rejects.toMatchObject({
      code: 'ResourceNotFoundException',
      serviceMessage: 'no such version',
    });
  });
});

describe('KmsClient', () => {
  it('encrypts with the encryption context, sending the plaintext as base64', async () => {
    // Prepare
    const { server, options } = await loopback(() => ({
      status: 200,
      body: {
        CiphertextBlob: Buffer.from('sealed').toString('base64'),
        KeyId: 'arn:aws:kms:eu-central-1:123456789012:key/k',
      },
    }));

    // Act
    const sealed = await new KmsClient(options).encrypt({
      KeyId: 'alias/oauth-state',
      Plaintext: new TextEncoder().encode('state'),
      EncryptionContext: { purpose: 'oauth-state', client: 'c1' },
    });

    // Assess
    expect(server.requests[0]?.headers['x-amz-target']).toBe('TrentService.Encrypt');
    expect(bodyOf(server)).toEqual({
      KeyId: 'alias/oauth-state',
      Plaintext: Buffer.from('state').toString('base64'),
      EncryptionContext: { purpose: 'oauth-state', client: 'c1' },
    });
    expect(Buffer.from(sealed.CiphertextBlob).toString()).toBe('sealed');
    expect(
      await hasValidSignature(server.requests[0] as NonNullable<(typeof server.requests)[0]>, {
        ...CREDENTIALS,
        region: 'eu-central-1',
        service: 'kms',
      }),
    ).toBe(true);
  });

  it('decrypts with the context and a pinned key, returning the plaintext bytes', async () => {
    // Prepare
    const { server, options } = await loopback(() => ({
      status: 200,
      body: { Plaintext: Buffer.from('state').toString('base64'), KeyId: 'arn:k' },
    }));

    // Act
    const opened = await new KmsClient(options).decrypt({
      CiphertextBlob: new Uint8Array([9, 8, 7]),
      EncryptionContext: { purpose: 'oauth-state' },
      KeyId: 'arn:k',
    });

    // Assess
    expect(bodyOf(server)).toEqual({
      CiphertextBlob: 'CQgH',
      EncryptionContext: { purpose: 'oauth-state' },
      KeyId: 'arn:k',
    });
    expect(new TextDecoder().decode(opened.Plaintext)).toBe('state');
  });

  it('keeps InvalidCiphertextException, not retried, when the context does not match', async () => {
    // Prepare
    const { server, options } = await loopback(() => ({
      status: 400,
      body: { __type: 'InvalidCiphertextException' },
    }));

    // Act
    const opening = new KmsClient(options).decrypt({ CiphertextBlob: new Uint8Array([1]) });

    // Assess
    await expect(opening).rejects.toMatchObject({
      code: 'InvalidCiphertextException',
      retryable: false,
    });
    expect(server.requests).toHaveLength(1);
  });
});

describe('CognitoIdentityProviderClient', () => {
  it('sends each admin call to its target with the pool, user and group', async () => {
    // Prepare
    const { server, options } = await loopback(() => ({ status: 200, body: {} }));
    const cognito = new CognitoIdentityProviderClient(options);
    const user = { UserPoolId: 'eu-central-1_Pool', Username: 'alice' };

    // Act
    await cognito.adminDisableUser(user);
    await cognito.adminUserGlobalSignOut(user);
    await cognito.adminAddUserToGroup({ ...user, GroupName: 'analyst' });
    await cognito.adminRemoveUserFromGroup({ ...user, GroupName: 'admin' });

    // Assess
    expect(
      server.requests.map((r) => [r.headers['x-amz-target'], JSON.parse(r.body).GroupName]),
    ).toEqual([
      ['AWSCognitoIdentityProviderService.AdminDisableUser', undefined],
      ['AWSCognitoIdentityProviderService.AdminUserGlobalSignOut', undefined],
      ['AWSCognitoIdentityProviderService.AdminAddUserToGroup', 'analyst'],
      ['AWSCognitoIdentityProviderService.AdminRemoveUserFromGroup', 'admin'],
    ]);
    expect(server.requests[0]?.headers.authorization).toContain('/eu-central-1/cognito-idp/');
  });

  it("lists a user's groups with the page token", async () => {
    // Prepare
    const { options } = await loopback(() => ({
      status: 200,
      body: {
        Groups: [{ GroupName: 'analyst', Precedence: 2, UserPoolId: 'p' }],
        NextToken: 'more',
      },
    }));

    // Act
    const page = await new CognitoIdentityProviderClient(options).adminListGroupsForUser({
      UserPoolId: 'p',
      Username: 'alice',
    });

    // Assess
    expect(page).toEqual({ Groups: [{ GroupName: 'analyst', Precedence: 2 }], NextToken: 'more' });
  });

  it('refuses a group list with a nameless entry rather than return part of it', async () => {
    // Prepare
    const { options } = await loopback(() => ({
      status: 200,
      body: { Groups: [{ GroupName: 'analyst' }, { Precedence: 1 }] },
    }));

    // Act
    const listing = new CognitoIdentityProviderClient(options).adminListGroupsForUser({
      UserPoolId: 'p',
      Username: 'alice',
    });

    // Assess
    await expect(listing).rejects.toMatchObject({ code: 'InvalidResponseError' });
  });

  it('keeps UserNotFoundException as the code for an unknown user', async () => {
    // Prepare
    const { options } = await loopback(() => ({
      status: 400,
      body: { __type: 'UserNotFoundException', message: 'User does not exist.' },
    }));

    // Act
    const disabling = new CognitoIdentityProviderClient(options).adminDisableUser({
      UserPoolId: 'p',
      Username: 'nobody',
    });

    // Assess
    await expect(disabling).rejects.toMatchObject({ code: 'UserNotFoundException', status: 400 });
  });
});
