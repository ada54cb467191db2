/**
 * The AWS {@link Sealer}: KMS Encrypt and Decrypt under one symmetric key, the purpose in the
 * encryption context (authenticated by KMS, and visible in CloudTrail), the key pinned on
 * Decrypt so a ciphertext made under another key is refused. Expiry is the caller's, inside
 * the plaintext (at most 4 KB, KMS's limit).
 */
import { SealError, type Sealer, type SealPurpose } from './ports';

/** The KMS calls the sealer makes (the small AWS client's `KmsClient` has this shape). */
export interface KmsPort {
  encrypt(input: {
    readonly KeyId: string;
    readonly Plaintext: Uint8Array;
    readonly EncryptionContext?: Readonly<Record<string, string>>;
  }): Promise<{ readonly CiphertextBlob: Uint8Array }>;
  decrypt(input: {
    readonly CiphertextBlob: Uint8Array;
    readonly EncryptionContext?: Readonly<Record<string, string>>;
    readonly KeyId?: string;
  }): Promise<{ readonly Plaintext: Uint8Array }>;
}

/** The encryption-context key naming a sealed value's purpose (IAM conditions name it too). */
export const PURPOSE_CONTEXT_KEY = 'purpose';

/** KMS's answers to a ciphertext that is not ours, as opposed to an outage. */
const NOT_OURS = new Set(['InvalidCiphertextException', 'IncorrectKeyException']);

function isNotOurs(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && NOT_OURS.has(code);
}

export class KmsSealer implements Sealer {
  constructor(
    private readonly kms: KmsPort,
    private readonly keyId: string,
  ) {}

  async seal(purpose: SealPurpose, plaintext: string): Promise<string> {
    const { CiphertextBlob } = await this.kms.encrypt({
      KeyId: this.keyId,
      Plaintext: new TextEncoder().encode(plaintext),
      EncryptionContext: { [PURPOSE_CONTEXT_KEY]: purpose },
    });
    return Buffer.from(CiphertextBlob).toString('base64url');
  }

  async open(purpose: SealPurpose, sealed: string): Promise<string> {
    const blob = Buffer.from(sealed, 'base64url');
    // Only the one base64url spelling of a blob: no second encoding of one value.
    if (blob.byteLength === 0 || blob.toString('base64url') !== sealed) {
      throw new SealError('Not a sealed value');
    }
    try {
      const { Plaintext } = await this.kms.decrypt({
        CiphertextBlob: blob,
        EncryptionContext: { [PURPOSE_CONTEXT_KEY]: purpose },
        KeyId: this.keyId,
      });
      return new TextDecoder('utf-8', { fatal: true }).decode(Plaintext);
    } catch (error) {
      if (isNotOurs(error)) throw new SealError('The sealed value does not open', { cause: error });
      throw error;
    }
  }
}
