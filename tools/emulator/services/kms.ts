/**
 * KMS as the emulator's functions reach it: symmetric Encrypt and Decrypt (and
 * GenerateDataKey) under the template's keys, the encryption context bound into the
 * ciphertext as KMS binds it (a Decrypt with another context, or pinned to another key, is
 * refused with KMS's own error codes). Each key's material is kept in the local folder, so
 * what was sealed before a restart still opens after it, as with a real key. Key policies and
 * grants are not evaluated (IAM is not modelled).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Faults } from './faults';
import { type JsonProtocolServer, ServiceError, serveJsonProtocol } from './json-protocol';

export interface LocalKey {
  readonly keyId: string;
  readonly arn: string;
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
    const path = join(dir, 'kms', `${key.keyId}.key`);
    if (!existsSync(path)) writeFileSync(path, randomBytes(32), { mode: 0o600 });
    material.set(key.keyId, readFileSync(path));
  }
  const find = (id: unknown): LocalKey => {
    const text = String(id ?? '');
    const key = keys.find((k) => k.keyId === text || k.arn === text);
    if (key === undefined)
      throw new ServiceError('NotFoundException', `Key '${text}' does not exist`);
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
        const key = find(input.KeyId);
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
        const key = find(input.KeyId);
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
        if (input.KeyId !== undefined && find(input.KeyId).keyId !== keyId) {
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
    },
    faults === undefined ? undefined : { faults, service: 'KMS' },
  );
}
