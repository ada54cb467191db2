/**
 * KMS as the emulator's functions reach it: symmetric Encrypt and Decrypt (and
 * GenerateDataKey) under the template's encryption keys, the encryption context bound into the
 * ciphertext as KMS binds it (a Decrypt with another context, or pinned to another key, is
 * refused with KMS's own error codes), and GenerateMac under its HMAC keys (the raw RFC 2104
 * HMAC, with the one algorithm the key spec supports). A key used for what its `KeyUsage` does
 * not allow is refused (`InvalidKeyUsageException`), as KMS refuses it. Each key's material is
 * kept in the local folder, so what was sealed before a restart still opens after it, as with
 * a real key. Key policies and grants are not evaluated (IAM is not modelled).
 *
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_GenerateMac.html
 * https://docs.aws.amazon.com/kms/latest/developerguide/hmac.html
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Faults } from './faults';
import { type JsonProtocolServer, ServiceError, serveJsonProtocol } from './json-protocol';

export interface LocalKey {
  readonly keyId: string;
  readonly arn: string;
  /** The template's `KeySpec`: `SYMMETRIC_DEFAULT` (the default) or an `HMAC_*` spec. */
  readonly keySpec?: string;
}

/** The HMAC key specs: the bytes of material and the one MAC algorithm each supports. */
export const HMAC_KEY_SPECS: Readonly<Record<string, { bytes: number; algorithm: string }>> = {
  HMAC_224: { bytes: 28, algorithm: 'HMAC_SHA_224' },
  HMAC_256: { bytes: 32, algorithm: 'HMAC_SHA_256' },
  HMAC_384: { bytes: 48, algorithm: 'HMAC_SHA_384' },
  HMAC_512: { bytes: 64, algorithm: 'HMAC_SHA_512' },
};

/** The key specs the stand-in serves; any other is refused when the emulator starts. */
export function isModelledKeySpec(keySpec: string | undefined): boolean {
  return keySpec === undefined || keySpec === 'SYMMETRIC_DEFAULT' || keySpec in HMAC_KEY_SPECS;
}

/** `ciphertext blob = version(1) | keyIdLength(1) | keyId | iv(12) | tag(16) | ciphertext`. */
const VERSION = 1;

function contextBytes(context: unknown): Buffer {
  const record = (context ?? {}) as Record<string, string>;
  const sorted = Object.keys(record)
    .sort()
    .map((key) => [key, String(record[key])]);
  return Buffer.from(JSON.stringify(sorted), 'utf8');
}

export async function startKms(
  keys: readonly LocalKey[],
  dir: string,
  faults?: Faults,
): Promise<JsonProtocolServer> {
  mkdirSync(join(dir, 'kms'), { recursive: true, mode: 0o700 });
  const material = new Map<string, Buffer>();
  for (const key of keys) {
    const hmac = HMAC_KEY_SPECS[key.keySpec ?? ''];
    const path = join(dir, 'kms', `${key.keyId}.key`);
    if (!existsSync(path)) writeFileSync(path, randomBytes(hmac?.bytes ?? 32), { mode: 0o600 });
    material.set(key.keyId, readFileSync(path));
  }
  const find = (id: unknown): LocalKey => {
    const text = String(id ?? '');
    const key = keys.find((k) => k.keyId === text || k.arn === text);
    if (key === undefined)
      throw new ServiceError('NotFoundException', `Key '${text}' does not exist`);
    return key;
  };
  const wrongUsage = (key: LocalKey, operation: string) =>
    new ServiceError(
      'InvalidKeyUsageException',
      `${key.arn} key usage is ${key.keySpec !== undefined && key.keySpec in HMAC_KEY_SPECS ? 'GENERATE_VERIFY_MAC' : 'ENCRYPT_DECRYPT'} which is not valid for ${operation}.`,
    );
  /** An encryption key, for an encryption operation: an HMAC key is refused. */
  const encryptionKey = (id: unknown, operation: string): LocalKey => {
    const key = find(id);
    if (key.keySpec !== undefined && key.keySpec in HMAC_KEY_SPECS)
      throw wrongUsage(key, operation);
    return key;
  };
  const encrypt = (key: LocalKey, plaintext: Buffer, context: unknown): Buffer => {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', material.get(key.keyId) as Buffer, iv);
    cipher.setAAD(contextBytes(context));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    const id = Buffer.from(key.keyId, 'utf8');
    return Buffer.concat([Buffer.from([VERSION, id.length]), id, iv, cipher.getAuthTag(), body]);
  };
  return serveJsonProtocol(
    'TrentService',
    {
      Encrypt: (input) => {
        const key = encryptionKey(input.KeyId, 'Encrypt');
        const plaintext = Buffer.from(String(input.Plaintext ?? ''), 'base64');
        if (plaintext.length === 0 || plaintext.length > 4096) {
          throw new ServiceError('ValidationException', 'Plaintext must be 1 to 4096 bytes');
        }
        return {
          CiphertextBlob: encrypt(key, plaintext, input.EncryptionContext).toString('base64'),
          KeyId: key.arn,
        };
      },
      GenerateDataKey: (input) => {
        const key = encryptionKey(input.KeyId, 'GenerateDataKey');
        const plaintext = randomBytes(
          Number(input.NumberOfBytes ?? (input.KeySpec === 'AES_128' ? 16 : 32)),
        );
        return {
          CiphertextBlob: encrypt(key, plaintext, input.EncryptionContext).toString('base64'),
          Plaintext: plaintext.toString('base64'),
          KeyId: key.arn,
        };
      },
      Decrypt: (input) => {
        const blob = Buffer.from(String(input.CiphertextBlob ?? ''), 'base64');
        const invalid = () => new ServiceError('InvalidCiphertextException', '');
        if (blob.length < 2 || blob[0] !== VERSION) throw invalid();
        const idLength = blob[1] as number;
        const keyId = blob.subarray(2, 2 + idLength).toString('utf8');
        const key = keys.find((k) => k.keyId === keyId);
        if (key === undefined) throw invalid();
        if (input.KeyId !== undefined && encryptionKey(input.KeyId, 'Decrypt').keyId !== keyId) {
          throw new ServiceError(
            'IncorrectKeyException',
            'The key ID in the request does not identify a CMK that can perform this operation.',
          );
        }
        const offset = 2 + idLength;
        const iv = blob.subarray(offset, offset + 12);
        const tag = blob.subarray(offset + 12, offset + 28);
        try {
          const decipher = createDecipheriv('aes-256-gcm', material.get(keyId) as Buffer, iv);
          decipher.setAAD(contextBytes(input.EncryptionContext));
          decipher.setAuthTag(tag);
          const plaintext = Buffer.concat([
            decipher.update(blob.subarray(offset + 28)),
            decipher.final(),
          ]);
          return { Plaintext: plaintext.toString('base64'), KeyId: key.arn };
        } catch {
          throw invalid();
        }
      },
      GenerateMac: (input) => {
        const key = find(input.KeyId);
        const hmac = HMAC_KEY_SPECS[key.keySpec ?? ''];
        if (hmac === undefined) throw wrongUsage(key, 'GenerateMac');
        if (input.MacAlgorithm !== hmac.algorithm) {
          throw new ServiceError(
            'InvalidKeyUsageException',
            `${key.arn} does not support the MAC algorithm ${String(input.MacAlgorithm)}.`,
          );
        }
        const message = Buffer.from(String(input.Message ?? ''), 'base64');
        if (message.length === 0 || message.length > 4096) {
          throw new ServiceError('ValidationException', 'Message must be 1 to 4096 bytes');
        }
        const mac = createHmac(
          `sha${hmac.algorithm.slice('HMAC_SHA_'.length)}`,
          material.get(key.keyId) as Buffer,
        )
          .update(message)
          .digest();
        return { Mac: mac.toString('base64'), MacAlgorithm: hmac.algorithm, KeyId: key.arn };
      },
    },
    faults === undefined ? undefined : { faults, service: 'KMS' },
  );
}
