/**
 * SecretsManagerApiKeySource through the Powertools provider on the small AWS client, against
 * a loopback stand-in that speaks the Secrets Manager GetSecretValue JSON protocol.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  GetParameterError,
  ParameterNotFoundError,
} from '@aws-lambda-powertools/parameters/errors';
import { afterEach, describe, expect, it } from 'vitest';
import {
  SecretsManagerApiKeySource,
  SecretsManagerProvider,
} from '../../../lambda/authorizer/secrets-manager-source';
import { SecretsManagerClient } from '../../../lambda/shared/aws/secrets-manager';
import { hasValidSignature, type ReceivedRequest } from '../../support/sigv4-verifier';

const SECRET_NAME = 'mcp/api-keys';
const SECRET_ARN = `arn:aws:secretsmanager:us-east-1:123456789012:secret:${SECRET_NAME}-AbCdEf`;
const CURRENT_TEXT = '{"version":1,"keys":{"current":true}}';
const PREVIOUS_TEXT = '{"version":1,"keys":{"previous":true}}';

type Stage = 'AWSCURRENT' | 'AWSPREVIOUS';

interface SeenRequest {
  readonly target: string | undefined;
  readonly secretId: unknown;
  readonly versionStage: unknown;
}

const CREDENTIALS = { accessKeyId: 'fake-access-key-id', secretAccessKey: 'test-secret-key' };

type Reply =
  | { readonly kind: 'secret'; readonly text: string }
  | { readonly kind: 'error'; readonly status: number; readonly type: string };

/** What the stand-in holds: a reply per stage, changeable between requests. */
type Behaviour = Partial<Record<Stage, Reply>>;

interface FakeSecretsManager {
  readonly endpoint: string;
  readonly seen: SeenRequest[];
  /** Every request as it arrived, for the signature check. */
  readonly raw: ReceivedRequest[];
  behaviour: Behaviour;
  close(): Promise<void>;
}

const secret = (text: string): Reply => ({ kind: 'secret', text });
const failure = (status: number, type: string): Reply => ({ kind: 'error', status, type });
const NOT_FOUND = failure(400, 'ResourceNotFoundException');

function reply(res: ServerResponse, status: number, body: unknown, errorType?: string): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/x-amz-json-1.1',
    'Content-Length': Buffer.byteLength(text),
    'x-amzn-RequestId': '00000000-0000-4000-8000-000000000000',
    ...(errorType === undefined ? {} : { 'x-amzn-ErrorType': errorType }),
  });
  res.end(text);
}

async function readText(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function jsonObject(text: string): Record<string, unknown> {
  const value: unknown = JSON.parse(text || '{}');
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
}

async function startFakeSecretsManager(behaviour: Behaviour): Promise<FakeSecretsManager> {
  const seen: SeenRequest[] = [];
  const raw: ReceivedRequest[] = [];
  const fake = { behaviour };
  const server: Server = createServer((req, res) => {
    void (async () => {
      const target = req.headers['x-amz-target'];
      const text = await readText(req);
      raw.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: text });
      const body = jsonObject(text);
      seen.push({
        target: Array.isArray(target) ? target.join(',') : target,
        secretId: body.SecretId,
        versionStage: body.VersionStage,
      });
      if (req.method !== 'POST' || target !== 'secretsmanager.GetSecretValue') {
        reply(res, 400, { __type: 'UnknownOperationException' }, 'UnknownOperationException');
        return;
      }
      const stage = (body.VersionStage ?? 'AWSCURRENT') as Stage;
      const answer =
        body.SecretId === SECRET_NAME ? (fake.behaviour[stage] ?? NOT_FOUND) : NOT_FOUND;
      if (answer.kind === 'error') {
        reply(
          res,
          answer.status,
          { __type: answer.type, message: `${answer.type} for ${stage}` },
          answer.type,
        );
        return;
      }
      reply(res, 200, {
        ARN: SECRET_ARN,
        Name: SECRET_NAME,
        SecretString: answer.text,
        VersionId: `${stage.toLowerCase()}-0000-4000-8000-000000000000`,
        VersionStages: [stage],
        CreatedDate: 1_767_225_600,
      });
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    seen,
    raw,
    get behaviour() {
      return fake.behaviour;
    },
    set behaviour(next: Behaviour) {
      fake.behaviour = next;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A provider wired to a fresh stand-in through the small AWS client. */
async function providerAgainst(behaviour: Behaviour) {
  const fake = await startFakeSecretsManager(behaviour);
  cleanups.push(() => fake.close());
  const client = new SecretsManagerClient({
    endpoint: fake.endpoint,
    region: 'us-east-1',
    credentials: CREDENTIALS,
    // One attempt: a 500 should reach the source at once, not after the client's back-off.
    maxAttempts: 1,
  });
  return { fake, provider: new SecretsManagerProvider(client) };
}

/** A source wired to a fresh stand-in through the Powertools provider. */
async function sourceAgainst(behaviour: Behaviour) {
  const { fake, provider } = await providerAgainst(behaviour);
  return { fake, source: new SecretsManagerApiKeySource(SECRET_NAME, provider) };
}

describe('SecretsManagerApiKeySource', () => {
  it('returns the AWSCURRENT and AWSPREVIOUS versions of the secret', async () => {
    // Prepare
    const { source } = await sourceAgainst({
      AWSCURRENT: secret(CURRENT_TEXT),
      AWSPREVIOUS: secret(PREVIOUS_TEXT),
    });

    // Act
    const versions = await source.load();

    // Assess
    expect(versions).toEqual({ current: CURRENT_TEXT, previous: PREVIOUS_TEXT });
  });

  it('asks Secrets Manager for each stage of the named secret', async () => {
    // Prepare
    const { fake, source } = await sourceAgainst({
      AWSCURRENT: secret(CURRENT_TEXT),
      AWSPREVIOUS: secret(PREVIOUS_TEXT),
    });

    // Act
    await source.load();

    // Assess
    expect(
      [...fake.seen].sort((a, b) => String(a.versionStage).localeCompare(String(b.versionStage))),
    ).toEqual([
      {
        target: 'secretsmanager.GetSecretValue',
        secretId: SECRET_NAME,
        versionStage: 'AWSCURRENT',
      },
      {
        target: 'secretsmanager.GetSecretValue',
        secretId: SECRET_NAME,
        versionStage: 'AWSPREVIOUS',
      },
    ]);
  });

  it('reads both stages afresh on every load instead of from the Powertools cache', async () => {
    // Prepare
    const { fake, source } = await sourceAgainst({
      AWSCURRENT: secret(CURRENT_TEXT),
      AWSPREVIOUS: secret(PREVIOUS_TEXT),
    });
    await source.load();
    const rotatedText = '{"version":1,"keys":{"rotated":true}}';
    fake.behaviour = { AWSCURRENT: secret(rotatedText), AWSPREVIOUS: secret(CURRENT_TEXT) };

    // Act
    const versions = await source.load();

    // Assess
    expect({ versions, requests: fake.seen.length }).toEqual({
      versions: { current: rotatedText, previous: CURRENT_TEXT },
      requests: 4,
    });
  });

  it('reports no previous version for a secret that has never been rotated', async () => {
    // Prepare
    const { source } = await sourceAgainst({ AWSCURRENT: secret(CURRENT_TEXT) });

    // Act
    const versions = await source.load();

    // Assess
    expect(versions).toEqual({
      current: CURRENT_TEXT,
      previous: undefined,
      previousUnavailable: undefined,
    });
  });

  it('returns the current version and says why when AWSPREVIOUS fails with a 500', async () => {
    // Prepare
    const { source } = await sourceAgainst({
      AWSCURRENT: secret(CURRENT_TEXT),
      AWSPREVIOUS: failure(500, 'InternalServiceError'),
    });

    // Act
    const versions = await source.load();

    // Assess
    expect(versions.current).toBe(CURRENT_TEXT);
    expect(versions.previous).toBeUndefined();
    expect(versions.previousUnavailable).toMatch(/AWSPREVIOUS could not be read/);
  });

  it('rejects when Secrets Manager fails with a 500 for AWSCURRENT', async () => {
    // Prepare
    const { source } = await sourceAgainst({
      AWSCURRENT: failure(500, 'InternalServiceError'),
      AWSPREVIOUS: secret(PREVIOUS_TEXT),
    });

    // Act
    const loading = source.load();

    // Assess
    await expect(loading).rejects.toBeInstanceOf(GetParameterError);
  });

  it('rejects when access to AWSCURRENT is denied', async () => {
    // Prepare
    const { source } = await sourceAgainst({
      AWSCURRENT: failure(400, 'AccessDeniedException'),
      AWSPREVIOUS: secret(PREVIOUS_TEXT),
    });

    // Act
    const loading = source.load();

    // Assess
    await expect(loading).rejects.toBeInstanceOf(GetParameterError);
  });

  it('signs every read as SDK v3 would sign it', async () => {
    // Prepare
    const { fake, source } = await sourceAgainst({
      AWSCURRENT: secret(CURRENT_TEXT),
      AWSPREVIOUS: secret(PREVIOUS_TEXT),
    });

    // Act
    await source.load();

    // Assess
    const expectation = { ...CREDENTIALS, region: 'us-east-1', service: 'secretsmanager' };
    const verdicts = await Promise.all(fake.raw.map((r) => hasValidSignature(r, expectation)));
    expect(verdicts).toEqual([true, true]);
  });

  it('names the AWS error code when AWSPREVIOUS is unreadable', async () => {
    // Prepare
    const { source } = await sourceAgainst({
      AWSCURRENT: secret(CURRENT_TEXT),
      AWSPREVIOUS: failure(400, 'AccessDeniedException'),
    });

    // Act
    const versions = await source.load();

    // Assess
    expect(versions.previousUnavailable).toBe(
      'AWSPREVIOUS could not be read (AccessDeniedException)',
    );
  });

  it('rejects when the secret does not exist at all', async () => {
    // Prepare
    const { source } = await sourceAgainst({});

    // Act
    const loading = source.load();

    // Assess
    await expect(loading).rejects.toBeInstanceOf(ParameterNotFoundError);
  });
});

describe('SecretsManagerProvider', () => {
  it('serves a second get from the Powertools cache within maxAge', async () => {
    // Prepare
    const { fake, provider } = await providerAgainst({ AWSCURRENT: secret(CURRENT_TEXT) });

    // Act
    const first = await provider.get(SECRET_NAME, { maxAge: 60 });
    const second = await provider.get(SECRET_NAME, { maxAge: 60 });

    // Assess
    expect({ first, second, requests: fake.seen.length }).toEqual({
      first: CURRENT_TEXT,
      second: CURRENT_TEXT,
      requests: 1,
    });
  });

  it('reads again when asked to force the fetch', async () => {
    // Prepare
    const { fake, provider } = await providerAgainst({ AWSCURRENT: secret(CURRENT_TEXT) });
    await provider.get(SECRET_NAME, { maxAge: 60 });
    const rotatedText = '{"version":1,"keys":{"rotated":true}}';
    fake.behaviour = { AWSCURRENT: secret(rotatedText) };

    // Act
    const cached = await provider.get(SECRET_NAME, { maxAge: 60 });
    const forced = await provider.get(SECRET_NAME, { maxAge: 60, forceFetch: true });

    // Assess
    expect({ cached, forced, requests: fake.seen.length }).toEqual({
      cached: CURRENT_TEXT,
      forced: rotatedText,
      requests: 2,
    });
  });

  it('reads again once maxAge has passed', async () => {
    // Prepare
    const { fake, provider } = await providerAgainst({ AWSCURRENT: secret(CURRENT_TEXT) });
    await provider.get(SECRET_NAME, { maxAge: 0.05 });

    // Act
    await new Promise((resolve) => setTimeout(resolve, 80));
    await provider.get(SECRET_NAME, { maxAge: 0.05 });

    // Assess
    expect(fake.seen).toHaveLength(2);
  });

  it('applies a JSON transform', async () => {
    // Prepare
    const { provider } = await providerAgainst({ AWSCURRENT: secret(CURRENT_TEXT) });

    // Act
    const value = await provider.get(SECRET_NAME, { transform: 'json' });

    // Assess
    expect(value).toEqual({ version: 1, keys: { current: true } });
  });

  it('keeps the AWS error code as the cause when a missing secret was not asked to throw', async () => {
    // Prepare
    const { provider } = await providerAgainst({});

    // Act
    const getting = provider.get(SECRET_NAME);

    // Assess: as Powertools' own provider, not found is a GetParameterError here.
    await expect(getting).rejects.toBeInstanceOf(GetParameterError);
    await expect(getting).rejects.toMatchObject({
      cause: { code: 'ResourceNotFoundException' },
    });
  });
});
