/**
 * KMS Encrypt and Decrypt over the small AWS client, with an encryption context (bound into
 * the ciphertext: a decrypt with another context fails with `InvalidCiphertextException`), and
 * GenerateMac under an HMAC key.
 */
import { fromBase64, toBase64 } from './base64';
import { invalidResponseError } from './error';
import { type AwsClientOptions, AwsJsonClient, type CallOptions } from './json-client';
import { KMS } from './services';

export type EncryptionContext = Readonly<Record<string, string>>;

export interface EncryptInput {
  /** Key id, ARN or alias (`alias/...`). */
  readonly KeyId: string;
  /** At most 4,096 bytes. */
  readonly Plaintext: Uint8Array;
  readonly EncryptionContext?: EncryptionContext;
  /** @default SYMMETRIC_DEFAULT (the service's default) */
  readonly EncryptionAlgorithm?: string;
}

export interface EncryptOutput {
  readonly CiphertextBlob: Uint8Array;
  /** The key's ARN. */
  readonly KeyId: string;
}

export interface DecryptInput {
  readonly CiphertextBlob: Uint8Array;
  /** The context given to Encrypt; required to match exactly. */
  readonly EncryptionContext?: EncryptionContext;
  /** Pin the key: a ciphertext made under another key is refused (`IncorrectKeyException`). */
  readonly KeyId?: string;
  readonly EncryptionAlgorithm?: string;
}

export interface DecryptOutput {
  readonly Plaintext: Uint8Array;
  readonly KeyId: string;
}

/** HMAC algorithms; each HMAC key spec supports one (`HMAC_256`: `HMAC_SHA_256`). */
export type MacAlgorithm = 'HMAC_SHA_224' | 'HMAC_SHA_256' | 'HMAC_SHA_384' | 'HMAC_SHA_512';

export interface GenerateMacInput {
  /** An HMAC key (`KeyUsage` `GENERATE_VERIFY_MAC`): id, ARN or alias. */
  readonly KeyId: string;
  /** 1 to 4,096 bytes. */
  readonly Message: Uint8Array;
  readonly MacAlgorithm: MacAlgorithm;
}

export interface GenerateMacOutput {
  /** The raw RFC 2104 HMAC of the message under the key. */
  readonly Mac: Uint8Array;
  readonly KeyId: string;
}

interface WireBlobAnswer {
  CiphertextBlob?: unknown;
  Plaintext?: unknown;
  Mac?: unknown;
  KeyId?: unknown;
}

/** A KMS client for symmetric Encrypt and Decrypt, and HMAC GenerateMac. */
export class KmsClient {
  readonly client: AwsJsonClient;

  constructor(options: AwsClientOptions = {}) {
    this.client = new AwsJsonClient(KMS, options);
  }

  async encrypt(input: EncryptInput, options?: CallOptions): Promise<EncryptOutput> {
    const wire = await this.client.call<WireBlobAnswer>(
      'Encrypt',
      { ...input, Plaintext: toBase64(input.Plaintext) },
      options,
    );
    if (typeof wire.CiphertextBlob !== 'string' || typeof wire.KeyId !== 'string') {
      throw invalidResponseError(KMS.name, 'Encrypt', 'No CiphertextBlob or KeyId');
    }
    return { CiphertextBlob: fromBase64(wire.CiphertextBlob), KeyId: wire.KeyId };
  }

  async decrypt(input: DecryptInput, options?: CallOptions): Promise<DecryptOutput> {
    const wire = await this.client.call<WireBlobAnswer>(
      'Decrypt',
      { ...input, CiphertextBlob: toBase64(input.CiphertextBlob) },
      options,
    );
    if (typeof wire.Plaintext !== 'string' || typeof wire.KeyId !== 'string') {
      throw invalidResponseError(KMS.name, 'Decrypt', 'No Plaintext or KeyId');
    }
    return { Plaintext: fromBase64(wire.Plaintext), KeyId: wire.KeyId };
  }

  async generateMac(input: GenerateMacInput, options?: CallOptions): Promise<GenerateMacOutput> {
    const wire = await this.client.call<WireBlobAnswer>(
      'GenerateMac',
      { ...input, Message: toBase64(input.Message) },
      options,
    );
    if (typeof wire.Mac !== 'string' || typeof wire.KeyId !== 'string') {
      throw invalidResponseError(KMS.name, 'GenerateMac', 'No Mac or KeyId');
    }
    return { Mac: fromBase64(wire.Mac), KeyId: wire.KeyId };
  }
}
