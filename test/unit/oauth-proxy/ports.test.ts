/**
 * The OAuth proxy's ports and their implementations: the sealers (AES-GCM locally, KMS in AWS,
 * here over the real signed client against a loopback stand-in for KMS), the code stores
 * (memory locally, DynamoDB in AWS, here against dynalite), and redirect URI matching.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AesSealer } from '../../../lambda/oauth-proxy/aes-sealer';
import {
  CODE_TABLE_KEYS,
  DynamoDbCodeStore,
} from '../../../lambda/oauth-proxy/dynamodb-code-store';
import { KmsSealer } from '../../../lambda/oauth-proxy/kms-sealer';
import {
  type CodeStore,
  CodeStoreConflictError,
  SealError,
} from '../../../lambda/oauth-proxy/ports';
import { matchRedirectUri } from '../../../lambda/oauth-proxy/redirect-uri';
import { KmsClient } from '../../../lambda/shared/aws/kms';
import { useDynaliteTables } from '../../support/dynalite-tables';
import { MemoryCodeStore } from '../../support/in-process-oauth';
import { type LoopbackAws, startLoopbackAws } from '../../support/loopback-aws';
import { hasValidSignature } from '../../support/sigv4-verifier';

const CREDENTIALS = { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret-key', sessionToken: 'tok' };
const KEY = 'arn:aws:kms:eu-west-1:123456789012:key/oauth';

/**
 * A stand-in for KMS: Encrypt wraps the plaintext with its context, Decrypt refuses another
 * context or key (InvalidCiphertextException / IncorrectKeyException), as KMS does.
 */
function fakeKms(): LoopbackAws['respond'] {
  return (request) => {
    const body = JSON.parse(request.body) as Record<string, unknown>;
    const target = request.headers['x-amz-target'];
    if (target === 'TrentService.Encrypt') {
      const blob = Buffer.from(
        JSON.stringify({ k: body.KeyId, c: body.EncryptionContext, p: body.Plaintext }),
      ).toString('base64');
      return { status: 200, body: { CiphertextBlob: blob, KeyId: KEY } };
    }
    let sealed: { k?: unknown; c?: unknown; p?: unknown };
    try {
      sealed = JSON.parse(Buffer.from(String(body.CiphertextBlob), 'base64').toString());
    } catch {
      return { status: 400, body: { __type: 'InvalidCiphertextException' } };
    }
    if (sealed.k !== body.KeyId) return { status: 400, body: { __type: 'IncorrectKeyException' } };
    if (JSON.stringify(sealed.c) !== JSON.stringify(body.EncryptionContext)) {
      return { status: 400, body: { __type: 'InvalidCiphertextException' } };
    }
    return { status: 200, body: { Plaintext: sealed.p, KeyId: KEY } };
  };
}

describe.each([
  [
    'AesSealer',
    async () => ({ sealer: new AesSealer(), other: new AesSealer(), stop: async () => {} }),
  ],
  [
    'KmsSealer',
    async () => {
      const server = await startLoopbackAws(fakeKms());
      const kms = new KmsClient({
        endpoint: server.endpoint,
        region: 'eu-west-1',
        credentials: CREDENTIALS,
        maxAttempts: 1,
      });
      return {
        sealer: new KmsSealer(kms, KEY),
        other: new KmsSealer(kms, `${KEY}-other`),
        server,
        stop: () => server.stop(),
      };
    },
  ],
])('%s', (_, make) => {
  let made: Awaited<ReturnType<typeof make>>;
  beforeAll(async () => {
    made = await make();
  });
  afterAll(() => made?.stop());

  it('opens what it sealed, for the same purpose', async () => {
    const sealed = await made.sealer.seal('code', 'the record');
    expect(sealed).toMatch(/^[\w-]+$/);
    expect(await made.sealer.open('code', sealed)).toBe('the record');
  });

  it('refuses a value sealed for another purpose', async () => {
    const sealed = await made.sealer.seal('consent', 'a ticket');
    await expect(made.sealer.open('transaction', sealed)).rejects.toBeInstanceOf(SealError);
  });

  it('refuses a value sealed under another key', async () => {
    const sealed = await made.other.seal('code', 'x');
    await expect(made.sealer.open('code', sealed)).rejects.toBeInstanceOf(SealError);
  });

  it('refuses a changed or made-up value', async () => {
    const sealed = await made.sealer.seal('code', 'x');
    await expect(made.sealer.open('code', `${sealed.slice(0, -2)}AA`)).rejects.toBeInstanceOf(
      SealError,
    );
    await expect(made.sealer.open('code', 'not base64url!')).rejects.toBeInstanceOf(SealError);
    await expect(made.sealer.open('code', '')).rejects.toBeInstanceOf(SealError);
  });
});

describe('KmsSealer over the signed AWS client', () => {
  it('sends the purpose as encryption context, pins the key on Decrypt, and signs each call', async () => {
    // Prepare
    const server = await startLoopbackAws(fakeKms());
    try {
      const sealer = new KmsSealer(
        new KmsClient({ endpoint: server.endpoint, region: 'eu-west-1', credentials: CREDENTIALS }),
        KEY,
      );

      // Act
      await sealer.open('transaction', await sealer.seal('transaction', 'tx'));

      // Assess
      const [encrypt, decrypt] = server.requests.map((r) => JSON.parse(r.body));
      expect(encrypt).toMatchObject({ KeyId: KEY, EncryptionContext: { purpose: 'transaction' } });
      expect(decrypt).toMatchObject({ KeyId: KEY, EncryptionContext: { purpose: 'transaction' } });
      for (const request of server.requests) {
        expect(
          await hasValidSignature(request, { ...CREDENTIALS, region: 'eu-west-1', service: 'kms' }),
        ).toBe(true);
      }
    } finally {
      await server.stop();
    }
  });

  it('lets an outage through as an error of its own, never as "not ours" (fail closed, audited as error)', async () => {
    // Prepare
    const server = await startLoopbackAws(() => ({
      status: 500,
      body: { __type: 'KMSInternalException' },
    }));
    try {
      const sealer = new KmsSealer(
        new KmsClient({
          endpoint: server.endpoint,
          region: 'eu-west-1',
          credentials: CREDENTIALS,
          maxAttempts: 1,
        }),
        KEY,
      );

      // Act
      const opening = sealer.open('code', 'AAAA');

      // Assess
      await expect(opening).rejects.toMatchObject({ code: 'KMSInternalException' });
      await expect(sealer.open('code', 'AAAA')).rejects.not.toBeInstanceOf(SealError);
    } finally {
      await server.stop();
    }
  });
});

const TABLE = 'oauth-codes';
const dynalite = useDynaliteTables({ [TABLE]: CODE_TABLE_KEYS.partitionKey });

describe.each([
  [
    'DynamoDbCodeStore (dynalite)',
    (now: () => number): CodeStore => new DynamoDbCodeStore(dynalite.db, TABLE, now),
  ],
  ['MemoryCodeStore', (now: () => number): CodeStore => new MemoryCodeStore({ now })],
])('%s', (_, make) => {
  let now = Date.UTC(2026, 11, 1, 12);
  const store = () => make(() => now);
  const seconds = () => Math.floor(now / 1000);
  let n = 0;
  const key = () => {
    n += 1;
    return `code#${_.length}-${n}`;
  };

  it('gives a value back once: a second take finds nothing (single use)', async () => {
    const codes = store();
    const k = key();
    await codes.put(k, 'sealed', seconds() + 60);
    expect(await codes.take(k)).toBe('sealed');
    expect(await codes.take(k)).toBeUndefined();
  });

  it('gives it to exactly one of two concurrent takes', async () => {
    const codes = store();
    const k = key();
    await codes.put(k, 'sealed', seconds() + 60);
    const results = await Promise.all([codes.take(k), codes.take(k), codes.take(k)]);
    expect(results.filter((r) => r === 'sealed')).toHaveLength(1);
  });

  it('refuses to store under a key already held', async () => {
    const codes = store();
    const k = key();
    await codes.put(k, 'first', seconds() + 60);
    await expect(codes.put(k, 'second', seconds() + 60)).rejects.toBeInstanceOf(
      CodeStoreConflictError,
    );
    expect(await codes.take(k)).toBe('first');
  });

  it('gives nothing back after the deadline, whether or not the item was swept yet', async () => {
    const codes = store();
    const k = key();
    await codes.put(k, 'sealed', seconds() + 60);
    now += 61_000;
    expect(await codes.take(k)).toBeUndefined();
  });
});

describe('DynamoDbCodeStore items', () => {
  it('hold the key, the sealed value and the TTL attribute, nothing else', async () => {
    await new DynamoDbCodeStore(dynalite.db, TABLE).put('code#item', 'sealed-value', 1_900_000_000);
    const { Item } = await dynalite.db.getItem({ TableName: TABLE, Key: { pk: 'code#item' } });
    expect(Item).toEqual({ pk: 'code#item', v: 'sealed-value', expiresAt: 1_900_000_000 });
  });
});

describe('matchRedirectUri', () => {
  const registered = [
    'http://127.0.0.1/callback',
    'http://localhost:8765/cb?app=1',
    'https://app.example.com/oauth/callback',
  ];
  it.each([
    ['the registered https URI', 'https://app.example.com/oauth/callback', true],
    ['a loopback URI on any port', 'http://127.0.0.1:49152/callback', true],
    ['a loopback URI on another port, query kept', 'http://localhost:1/cb?app=1', true],
    ['https on another port', 'https://app.example.com:8443/oauth/callback', false],
    ['https on another path', 'https://app.example.com/oauth/callback2', false],
    ['https with a query added', 'https://app.example.com/oauth/callback?x=1', false],
    ['another host', 'https://evil.example.com/oauth/callback', false],
    ['user info', 'https://app.example.com@evil.example.com/oauth/callback', false],
    ['loopback, other path', 'http://127.0.0.1:49152/other', false],
    ['loopback, query dropped', 'http://localhost:1/cb', false],
    ['loopback under the other name', 'http://localhost:49152/callback', false],
    ['loopback over https (not a loopback redirect)', 'https://127.0.0.1:49152/callback', false],
    ['a non-canonical spelling', 'HTTP://127.0.0.1:49152/callback', false],
    ['a fragment', 'http://127.0.0.1:49152/callback#x', false],
    ['a loopback lookalike', 'http://127.0.0.1.evil.example:49152/callback', false],
  ])('%s -> %s', (_, uri, expected) => {
    expect(matchRedirectUri(registered, uri)).toBe(expected);
  });
});
