/**
 * A {@link Sealer} for local mode and tests: AES-256-GCM under a key that lives and dies with
 * the process, the purpose as additional authenticated data (so a value sealed for one purpose
 * never opens as another), a fresh 96-bit IV per value.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { SealError, type Sealer, type SealPurpose } from './ports';

const IV_BYTES = 12;
const TAG_BYTES = 16;

export class AesSealer implements Sealer {
  readonly #key: Buffer;

  /** @param key 32 bytes; default: random, for this process only */
  constructor(key: Buffer = randomBytes(32)) {
    if (key.byteLength !== 32) throw new Error('AesSealer: the key must be 32 bytes');
    this.#key = key;
  }

  async seal(purpose: SealPurpose, plaintext: string): Promise<string> {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(Buffer.from(purpose, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url');
  }

  async open(purpose: SealPurpose, sealed: string): Promise<string> {
    const bytes = Buffer.from(sealed, 'base64url');
    if (bytes.byteLength < IV_BYTES + TAG_BYTES || bytes.toString('base64url') !== sealed) {
      throw new SealError('Not a sealed value');
    }
    const decipher = createDecipheriv('aes-256-gcm', this.#key, bytes.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(purpose, 'utf8'));
    decipher.setAuthTag(bytes.subarray(bytes.byteLength - TAG_BYTES));
    try {
      return Buffer.concat([
        decipher.update(bytes.subarray(IV_BYTES, bytes.byteLength - TAG_BYTES)),
        decipher.final(),
      ]).toString('utf8');
    } catch (error) {
      throw new SealError('The sealed value does not open', { cause: error });
    }
  }
}
