/**
 * The small AWS client on the wire: what it signs (checked against SDK v3's own signer), where
 * it sends, how it retries, times out and reports errors.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AwsService } from '../../../../lambda/shared/aws/config';
import { AwsError } from '../../../../lambda/shared/aws/error';
import { AwsJsonClient, fullJitterDelayMs } from '../../../../lambda/shared/aws/json-client';
import { DYNAMODB, SECRETS_MANAGER } from '../../../../lambda/shared/aws/services';
import { type LoopbackAws, startLoopbackAws } from '../../../support/loopback-aws';
import { expectedAuthorization, hasValidSignature } from '../../../support/sigv4-verifier';

const CREDENTIALS = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  sessionToken: 'session-token-from-the-lambda-runtime',
};
const FIXED_NOW = new Date('2026-12-01T14:30:00.000Z');

const servers: LoopbackAws[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.stop();
});

async function loopback(respond?: LoopbackAws['respond']): Promise<LoopbackAws> {
  const server = await startLoopbackAws(respond);
  servers.push(server);
  return server;
}

/** A client for `service` on the loopback endpoint, Lambda-style environment, no back-off. */
function clientFor(
  server: LoopbackAws,
  service: AwsService = SECRETS_MANAGER,
  extra: ConstructorParameters<typeof AwsJsonClient>[1] = {},
) {
  return new AwsJsonClient(service, {
    env: {
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
      AWS_SESSION_TOKEN: CREDENTIALS.sessionToken,
      [`AWS_ENDPOINT_URL_${service.endpointVariable}`]: server.endpoint,
    },
    now: () => FIXED_NOW,
    retryDelayMs: () => 0,
    ...extra,
  });
}

describe('AwsJsonClient signing', () => {
  it('signs a Secrets Manager call exactly as SDK v3 signs the same request', async () => {
    // Prepare
    const server = await loopback(() => ({ status: 200, body: { SecretString: 'x' } }));

    // Act
    await clientFor(server).call('GetSecretValue', { SecretId: 'mcp/api-keys' });

    // Assess
    const [received] = server.requests;
    if (received === undefined) throw new Error('no request arrived');
    expect(received.headers.authorization).toBe(
      await expectedAuthorization(received, {
        ...CREDENTIALS,
        region: 'eu-west-1',
        service: 'secretsmanager',
      }),
    );
  });

  it('signs the session token, the target, the content type and the host', async () => {
    // Prepare
    const server = await loopback();

    // Act
    await clientFor(server, DYNAMODB).call('GetItem', { TableName: 't', Key: {} });

    // Assess
    const received = server.requests[0];
    expect({
      token: received?.headers['x-amz-security-token'],
      target: received?.headers['x-amz-target'],
      type: received?.headers['content-type'],
      date: received?.headers['x-amz-date'],
      signed: /SignedHeaders=([^,]+)/.exec(String(received?.headers.authorization))?.[1],
      scope: /Credential=([^,]+)/.exec(String(received?.headers.authorization))?.[1],
    }).toEqual({
      token: CREDENTIALS.sessionToken,
      target: 'DynamoDB_20120810.GetItem',
      type: 'application/x-amz-json-1.0',
      date: '20261201T143000Z',
      signed: 'content-length;content-type;host;x-amz-date;x-amz-security-token;x-amz-target',
      scope: 'AKIDEXAMPLE/20261201/eu-west-1/dynamodb/aws4_request',
    });
  });

  it('produces a signature that SDK v3 rejects once the body is altered', async () => {
    // Prepare: proves the signature check above can fail.
    const server = await loopback();
    await clientFor(server, DYNAMODB).call('GetItem', { TableName: 't', Key: { id: { S: 'a' } } });
    const received = server.requests[0];
    if (received === undefined) throw new Error('no request arrived');
    const expectation = { ...CREDENTIALS, region: 'eu-west-1', service: 'dynamodb' };

    // Act
    const genuine = await hasValidSignature(received, expectation);
    const tampered = await hasValidSignature(
      { ...received, body: received.body.replace('"a"', '"b"') },
      expectation,
    );

    // Assess
    expect({ genuine, tampered }).toEqual({ genuine: true, tampered: false });
  });

  it('signs without a session token when the credentials have none', async () => {
    // Prepare
    const server = await loopback();
    const client = clientFor(server, DYNAMODB, {
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });

    // Act
    await client.call('ListTables', {});

    // Assess
    const received = server.requests[0];
    if (received === undefined) throw new Error('no request arrived');
    expect(received.headers['x-amz-security-token']).toBeUndefined();
    expect(
      await hasValidSignature(received, {
        accessKeyId: 'local',
        secretAccessKey: 'local',
        region: 'eu-west-1',
        service: 'dynamodb',
      }),
    ).toBe(true);
  });
});

describe('AwsJsonClient endpoints and configuration', () => {
  it('prefers AWS_ENDPOINT_URL_<SERVICE> over AWS_ENDPOINT_URL', async () => {
    // Prepare
    const right = await loopback();
    const wrong = await loopback();
    const client = new AwsJsonClient(SECRETS_MANAGER, {
      env: {
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'a',
        AWS_SECRET_ACCESS_KEY: 'b',
        AWS_ENDPOINT_URL: wrong.endpoint,
        AWS_ENDPOINT_URL_SECRETS_MANAGER: right.endpoint,
      },
    });

    // Act
    await client.call('GetSecretValue', { SecretId: 's' });

    // Assess
    expect({ right: right.requests.length, wrong: wrong.requests.length }).toEqual({
      right: 1,
      wrong: 0,
    });
  });

  it('falls back to AWS_ENDPOINT_URL when the service has no override of its own', async () => {
    // Prepare
    const server = await loopback();
    const client = new AwsJsonClient(DYNAMODB, {
      env: {
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'a',
        AWS_SECRET_ACCESS_KEY: 'b',
        AWS_ENDPOINT_URL: server.endpoint,
        AWS_ENDPOINT_URL_SECRETS_MANAGER: 'http://127.0.0.1:9',
      },
    });

    // Act
    await client.call('ListTables', {});

    // Assess
    expect(server.requests).toHaveLength(1);
  });

  it('fails with ConfigurationError, naming AWS_REGION, when no region is set', async () => {
    // Prepare
    const client = new AwsJsonClient(DYNAMODB, {
      env: { AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b' },
    });

    // Act
    const calling = client.call('ListTables', {});

    // Assess
    await expect(calling).rejects.toMatchObject({
      name: 'AwsError',
      code: 'ConfigurationError',
      retryable: false,
      message: expect.stringContaining('AWS_REGION'),
    });
  });

  it('fails with ConfigurationError and sends nothing when there are no credentials', async () => {
    // Prepare
    const server = await loopback();
    const client = new AwsJsonClient(DYNAMODB, {
      env: { AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL: server.endpoint },
    });

    // Act
    const calling = client.call('ListTables', {});

    // Assess
    await expect(calling).rejects.toMatchObject({ code: 'ConfigurationError' });
    expect(server.requests).toHaveLength(0);
  });

  it('asks a credential function before every attempt', async () => {
    // Prepare
    const server = await loopback((_, index) =>
      index === 0
        ? { status: 500, body: { __type: 'InternalServerError' } }
        : { status: 200, body: {} },
    );
    const keys = ['first-key', 'second-key'];
    const client = clientFor(server, DYNAMODB, {
      credentials: () => ({ accessKeyId: keys.shift() ?? 'none', secretAccessKey: 's' }),
    });

    // Act
    await client.call('ListTables', {});

    // Assess
    expect(
      server.requests.map((r) => /Credential=([^/]+)/.exec(String(r.headers.authorization))?.[1]),
    ).toEqual(['first-key', 'second-key']);
  });
});

describe('AwsJsonClient errors and retries', () => {
  it('reports the service error code, status and request id, and does not retry a 400', async () => {
    // Prepare
    const server = await loopback(() => ({
      status: 400,
      body: {
        __type: 'com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException',
        message: 'The conditional request failed',
      },
    }));

    // Act
    const calling = clientFor(server, DYNAMODB).call('PutItem', { TableName: 't', Item: {} });

    // Assess
    await expect(calling).rejects.toMatchObject({
      name: 'AwsError',
      service: 'DynamoDB',
      operation: 'PutItem',
      code: 'ConditionalCheckFailedException',
      status: 400,
      retryable: false,
      requestId: 'loopback-request-id',
      attempts: 1,
    });
    expect(server.requests).toHaveLength(1);
  });

  it('reads the error code from x-amzn-ErrorType when the body has none', async () => {
    // Prepare
    const server = await loopback(() => ({
      status: 400,
      body: { message: 'Secrets Manager can’t find the specified secret.' },
      headers: { 'x-amzn-ErrorType': 'ResourceNotFoundException:http://internal.amazon.com/' },
    }));

    // Act
    const calling = clientFor(server).call('GetSecretValue', { SecretId: 's' });

    // Assess
    await expect(calling).rejects.toMatchObject({ code: 'ResourceNotFoundException' });
  });

  it('retries a 500 and returns the answer that follows', async () => {
    // Prepare
    const server = await loopback((_, index) =>
      index === 0
        ? { status: 500, body: { __type: 'InternalServiceError' } }
        : { status: 200, body: { SecretString: 'ok' } },
    );

    // Act
    const answer = await clientFor(server).call('GetSecretValue', { SecretId: 's' });

    // Assess
    expect({ answer, requests: server.requests.length }).toEqual({
      answer: { SecretString: 'ok' },
      requests: 2,
    });
  });

  it('retries throttling sent as a 400', async () => {
    // Prepare
    const server = await loopback((_, index) =>
      index < 2
        ? { status: 400, body: { __type: 'ProvisionedThroughputExceededException' } }
        : { status: 200, body: {} },
    );

    // Act
    await clientFor(server, DYNAMODB).call('GetItem', {});

    // Assess
    expect(server.requests).toHaveLength(3);
  });

  it('gives up after maxAttempts with a retryable error counting every attempt', async () => {
    // Prepare
    const server = await loopback(() => ({ status: 503, body: { __type: 'ServiceUnavailable' } }));

    // Act
    const calling = clientFor(server, DYNAMODB, { maxAttempts: 3 }).call('GetItem', {});

    // Assess
    await expect(calling).rejects.toMatchObject({
      code: 'ServiceUnavailable',
      status: 503,
      retryable: true,
      attempts: 3,
    });
    expect(server.requests).toHaveLength(3);
  });

  it('waits the back-off before each retry', async () => {
    // Prepare
    const server = await loopback(() => ({ status: 500, body: { __type: 'InternalFailure' } }));
    const asked: number[] = [];
    const client = clientFor(server, DYNAMODB, {
      retryDelayMs: (retry) => {
        asked.push(retry);
        return 1;
      },
    });

    // Act
    await client.call('GetItem', {}).catch(() => undefined);

    // Assess
    expect(asked).toEqual([1, 2]);
  });

  it('draws the default back-off with full jitter under an exponential cap', () => {
    // Act
    const draws = Array.from({ length: 200 }, () => fullJitterDelayMs(3));

    // Assess: between 0 and 100 ms × 2^3, and not a constant.
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...draws)).toBeLessThanOrEqual(800);
    expect(new Set(draws).size).toBeGreaterThan(100);
  });

  it('bounds every attempt by the timeout and retries it', async () => {
    // Prepare
    const server = await loopback(() => 'hang');
    const client = clientFor(server, DYNAMODB, { attemptTimeoutMs: 50, maxAttempts: 2 });
    const started = performance.now();

    // Act
    const calling = client.call('GetItem', {});

    // Assess
    await expect(calling).rejects.toMatchObject({
      code: 'TimeoutError',
      retryable: true,
      attempts: 2,
      status: undefined,
    });
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(server.requests).toHaveLength(2);
  });

  it('retries a connection dropped before the answer', async () => {
    // Prepare
    const server = await loopback((_, index) =>
      index === 0 ? 'reset' : { status: 200, body: { Table: 'ok' } },
    );

    // Act
    const answer = await clientFor(server, DYNAMODB).call('DescribeTable', {});

    // Assess
    expect(answer).toEqual({ Table: 'ok' });
  });

  it('reports a refused connection as a retryable NetworkError', async () => {
    // Prepare: port 9 (discard) has no listener here.
    const client = new AwsJsonClient(DYNAMODB, {
      env: { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b' },
      endpoint: 'http://127.0.0.1:9',
      retryDelayMs: () => 0,
    });

    // Act
    const calling = client.call('ListTables', {});

    // Assess
    await expect(calling).rejects.toMatchObject({
      code: 'NetworkError',
      retryable: true,
      attempts: 3,
    });
  });

  it('refuses a 200 whose body is not JSON', async () => {
    // Prepare
    const server = await loopback(() => ({ raw: '<html>captive portal</html>' }));

    // Act
    const calling = clientFor(server, DYNAMODB).call('GetItem', {});

    // Assess
    await expect(calling).rejects.toMatchObject({
      code: 'InvalidResponseError',
      status: 200,
      retryable: false,
    });
  });

  it('stops at once when the caller aborts', async () => {
    // Prepare
    const server = await loopback(() => 'hang');
    const controller = new AbortController();
    const calling = clientFor(server, DYNAMODB, { attemptTimeoutMs: 10_000 }).call(
      'GetItem',
      {},
      { signal: controller.signal },
    );

    // Act: abort once the request is in flight (a fixed delay loses the race on a busy machine)
    await vi.waitFor(() => expect(server.requests).toHaveLength(1));
    controller.abort();

    // Assess
    await expect(calling).rejects.toMatchObject({ code: 'AbortError', retryable: false });
    expect(server.requests).toHaveLength(1);
  });

  it('never puts the request body or the credentials in an error', async () => {
    // Prepare
    const server = await loopback(() => ({
      status: 400,
      body: { __type: 'ValidationException', message: 'One or more parameter values were invalid' },
    }));

    // Act
    const error: unknown = await clientFor(server, SECRETS_MANAGER)
      .call('PutSecretValue', { SecretId: 's', SecretString: 'hunter2-the-secret' })
      .catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(AwsError);
    const everything = `${String(error)} ${(error as Error).stack} ${JSON.stringify(error)}`;
    for (const secret of [
      'hunter2-the-secret',
      CREDENTIALS.secretAccessKey,
      CREDENTIALS.sessionToken,
    ]) {
      expect(everything).not.toContain(secret);
    }
  });
});
