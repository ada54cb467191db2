/**
 * The deployment's request-state keys (derived from a KMS HMAC key, one per day) and ledger
 * (DynamoDB, conditional put), each against the real protocol: the emulator's KMS stand-in,
 * which computes RFC 2104 HMACs under key material it keeps, and an embedded DynamoDB.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REQUEST_STATE_TTL_SECONDS } from '../../../lambda/mcp/request-state';
import {
  DynamoRequestStateLedger,
  KmsRequestStateKeyRing,
  type MacPort,
  REQUEST_STATE_KEY_PERIOD_SECONDS,
  REQUEST_STATE_LEDGER_ATTRIBUTES,
  requestStateKeyLabel,
} from '../../../lambda/mcp/request-state-aws';
import { AwsError } from '../../../lambda/shared/aws/error';
import { KmsClient } from '../../../lambda/shared/aws/kms';
import type { JsonProtocolServer } from '../../../tools/local/emulator/services/json-protocol';
import { startKms } from '../../../tools/local/emulator/services/kms';
import { useDynaliteTables } from '../../support/dynalite-tables';

const DAY = REQUEST_STATE_KEY_PERIOD_SECONDS;
/** Noon of day 20,000 (in 2024), in milliseconds. */
const NOON = (20_000 * DAY + DAY / 2) * 1000;

/** KMS as the ring sees it: GenerateMac under one key, every call counted, failures on demand. */
function fakeKms(material = randomBytes(32)) {
  const calls: string[] = [];
  let failing = false;
  const kms: MacPort = {
    async generateMac(input) {
      calls.push(new TextDecoder().decode(input.Message));
      if (failing) {
        throw new AwsError({
          service: 'KMS',
          operation: 'GenerateMac',
          code: 'ThrottlingException',
          status: 400,
          retryable: true,
          attempts: 3,
        });
      }
      return {
        Mac: createHmac('sha256', material).update(input.Message).digest(),
        KeyId: input.KeyId,
      };
    },
  };
  return {
    kms,
    calls,
    fail: (on: boolean) => {
      failing = on;
    },
  };
}

const hex = (key: Uint8Array) => Buffer.from(key).toString('hex');

describe('KmsRequestStateKeyRing', () => {
  it('gives every instance of one KMS key the same sealing key, and another KMS key another', async () => {
    // Prepare
    const shared = fakeKms();
    const one = new KmsRequestStateKeyRing(shared.kms, 'key', () => NOON);
    const two = new KmsRequestStateKeyRing(shared.kms, 'key', () => NOON);
    const elsewhere = new KmsRequestStateKeyRing(fakeKms().kms, 'key', () => NOON);

    // Act
    const [a, b, c] = await Promise.all([one.sealing(), two.sealing(), elsewhere.sealing()]);

    // Assess
    expect(a.byteLength).toBe(32);
    expect(hex(a)).toBe(hex(b));
    expect(hex(a)).not.toBe(hex(c));
  });

  it('derives one key per UTC day, asking KMS once per day however often it seals', async () => {
    // Prepare
    let now = NOON;
    const { kms, calls } = fakeKms();
    const ring = new KmsRequestStateKeyRing(kms, 'key', () => now);

    // Act
    const today = await ring.sealing();
    await ring.sealing();
    now += DAY * 1000;
    const tomorrow = await ring.sealing();

    // Assess
    expect(hex(today)).not.toBe(hex(tomorrow));
    expect(calls).toEqual([
      new TextDecoder().decode(requestStateKeyLabel(20_000)),
      new TextDecoder().decode(requestStateKeyLabel(20_001)),
    ]);
  });

  it('opens with yesterday’s key too while a state sealed before midnight can still be valid', async () => {
    // Prepare
    const midnight = 20_001 * DAY * 1000;
    const { kms } = fakeKms();
    const at = (ms: number) => new KmsRequestStateKeyRing(kms, 'key', () => ms);
    const yesterday = hex(await at(midnight - 1000).sealing());
    const today = hex(await at(midnight).sealing());

    // Act
    const justAfter = (await at(midnight + 1000).opening()).map(hex);
    const lastMoment = (await at(midnight + (REQUEST_STATE_TTL_SECONDS + 59) * 1000).opening()).map(
      hex,
    );
    const later = (await at(midnight + (REQUEST_STATE_TTL_SECONDS + 60) * 1000).opening()).map(hex);

    // Assess: the sealing key first
    expect(justAfter).toEqual([today, yesterday]);
    expect(lastMoment).toEqual([today, yesterday]);
    expect(later).toEqual([today]);
  });

  it('opens with tomorrow’s key in the last minute of the day (another instance’s clock ahead)', async () => {
    // Prepare
    const midnight = 20_001 * DAY * 1000;
    const { kms } = fakeKms();
    const tomorrow = hex(await new KmsRequestStateKeyRing(kms, 'key', () => midnight).sealing());

    // Act
    const keys = (
      await new KmsRequestStateKeyRing(kms, 'key', () => midnight - 30_000).opening()
    ).map(hex);
    const earlier = await new KmsRequestStateKeyRing(kms, 'key', () => midnight - 61_000).opening();

    // Assess
    expect(keys).toContain(tomorrow);
    expect(earlier.map(hex)).not.toContain(tomorrow);
  });

  it('rejects while KMS fails, and asks again on the next request rather than keep the failure', async () => {
    // Prepare
    const { kms, calls, fail } = fakeKms();
    const ring = new KmsRequestStateKeyRing(kms, 'key', () => NOON);
    fail(true);

    // Act
    const failed = ring.sealing();
    await expect(failed).rejects.toMatchObject({ code: 'ThrottlingException' });
    fail(false);
    const recovered = await ring.sealing();

    // Assess
    expect(recovered.byteLength).toBe(32);
    expect(calls).toHaveLength(2);
  });
});

describe('KmsRequestStateKeyRing on the KMS protocol (the emulator’s stand-in)', () => {
  let dir: string;
  let server: JsonProtocolServer;
  const HMAC_KEY = {
    keyId: 'mac-key',
    arn: 'arn:aws:kms:us-east-1:123456789012:key/mac-key',
    keySpec: 'HMAC_256',
  };
  const ENCRYPTION_KEY = {
    keyId: 'enc-key',
    arn: 'arn:aws:kms:us-east-1:123456789012:key/enc-key',
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mcp-kms-mac-'));
    server = await startKms([HMAC_KEY, ENCRYPTION_KEY], dir);
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const client = () =>
    new KmsClient({
      endpoint: server.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });

  it('derives the same key on two clients of the same HMAC key', async () => {
    // Act
    const [a, b] = await Promise.all([
      new KmsRequestStateKeyRing(client(), HMAC_KEY.arn, () => NOON).sealing(),
      new KmsRequestStateKeyRing(client(), HMAC_KEY.keyId, () => NOON).sealing(),
    ]);

    // Assess
    expect(a.byteLength).toBe(32);
    expect(hex(a)).toBe(hex(b));
  });

  it('is refused an encryption key (InvalidKeyUsageException), as KMS refuses it', async () => {
    // Act
    const sealing = new KmsRequestStateKeyRing(client(), ENCRYPTION_KEY.arn, () => NOON).sealing();

    // Assess
    await expect(sealing).rejects.toMatchObject({ code: 'InvalidKeyUsageException' });
  });

  it('refuses to encrypt with the HMAC key, another MAC algorithm, or an empty message', async () => {
    // Act
    const kms = client();
    const encrypt = kms.encrypt({ KeyId: HMAC_KEY.arn, Plaintext: new Uint8Array([1]) });
    const sha512 = kms.generateMac({
      KeyId: HMAC_KEY.arn,
      Message: new Uint8Array([1]),
      MacAlgorithm: 'HMAC_SHA_512',
    });
    const empty = kms.generateMac({
      KeyId: HMAC_KEY.arn,
      Message: new Uint8Array(),
      MacAlgorithm: 'HMAC_SHA_256',
    });

    // Assess
    await expect(encrypt).rejects.toMatchObject({ code: 'InvalidKeyUsageException' });
    await expect(sha512).rejects.toMatchObject({ code: 'InvalidKeyUsageException' });
    await expect(empty).rejects.toMatchObject({ code: 'ValidationException' });
  });
});

describe('DynamoRequestStateLedger', () => {
  const TABLE = 'request-states';
  const dynalite = useDynaliteTables({ [TABLE]: REQUEST_STATE_LEDGER_ATTRIBUTES.partitionKey });

  it('spends a nonce once for every ledger on the table, and stores when it may be forgotten', async () => {
    // Prepare
    const one = new DynamoRequestStateLedger(dynalite.db, TABLE);
    const two = new DynamoRequestStateLedger(dynalite.db, TABLE);

    // Act
    const results = await Promise.all([
      one.spend('n1', 1_700_000_600),
      two.spend('n1', 1_700_000_600),
    ]);
    const other = await two.spend('n2', 1_700_000_600);

    // Assess
    expect([...results].sort()).toEqual([false, true]);
    expect(other).toBe(true);
    const { Item } = await dynalite.db.getItem({
      TableName: TABLE,
      Key: { [REQUEST_STATE_LEDGER_ATTRIBUTES.partitionKey]: 'n1' },
    });
    expect(Item).toEqual({
      [REQUEST_STATE_LEDGER_ATTRIBUTES.partitionKey]: 'n1',
      [REQUEST_STATE_LEDGER_ATTRIBUTES.ttl]: 1_700_000_600,
    });
  });

  it('rejects when the table cannot be written (never reports a state unspent)', async () => {
    // Act
    const spending = new DynamoRequestStateLedger(dynalite.db, 'no-such-table').spend('n3', 1);

    // Assess
    await expect(spending).rejects.toMatchObject({ code: 'ResourceNotFoundException' });
  });
});
