/**
 * Secrets Manager over the small AWS client: the one read the request path makes.
 */
import { fromBase64 } from './base64';
import { invalidResponseError } from './error';
import { type AwsClientOptions, AwsJsonClient, type CallOptions } from './json-client';
import { SECRETS_MANAGER } from './services';

export interface GetSecretValueInput {
  /** The secret's name or ARN. */
  readonly SecretId: string;
  /** A staging label, e.g. `AWSCURRENT` (the service's default) or `AWSPREVIOUS`. */
  readonly VersionStage?: string;
  readonly VersionId?: string;
}

export interface GetSecretValueOutput {
  readonly ARN?: string;
  readonly Name?: string;
  readonly VersionId?: string;
  readonly VersionStages?: readonly string[];
  /** Set for a text secret. */
  readonly SecretString?: string;
  /** Set for a binary secret, decoded from the wire's base64. */
  readonly SecretBinary?: Uint8Array;
  readonly CreatedDate?: Date;
}

interface WireSecretValue {
  ARN?: unknown;
  Name?: unknown;
  VersionId?: unknown;
  VersionStages?: unknown;
  SecretString?: unknown;
  SecretBinary?: unknown;
  CreatedDate?: unknown;
}

const text = (value: unknown) => (typeof value === 'string' ? value : undefined);

/**
 * A Secrets Manager client. A missing secret or version rejects with an `AwsError` whose
 * `code` is `ResourceNotFoundException`.
 */
export class SecretsManagerClient {
  readonly client: AwsJsonClient;

  constructor(options: AwsClientOptions = {}) {
    this.client = new AwsJsonClient(SECRETS_MANAGER, options);
  }

  async getSecretValue(
    input: GetSecretValueInput,
    options?: CallOptions,
  ): Promise<GetSecretValueOutput> {
    const wire = await this.client.call<WireSecretValue>('GetSecretValue', input, options);
    const secretString = text(wire.SecretString);
    const secretBinary = text(wire.SecretBinary);
    if (secretString === undefined && secretBinary === undefined) {
      throw invalidResponseError(
        SECRETS_MANAGER.name,
        'GetSecretValue',
        'No SecretString or SecretBinary',
      );
    }
    return {
      ARN: text(wire.ARN),
      Name: text(wire.Name),
      VersionId: text(wire.VersionId),
      VersionStages: Array.isArray(wire.VersionStages)
        ? wire.VersionStages.filter((stage): stage is string => typeof stage === 'string')
        : undefined,
      SecretString: secretString,
      SecretBinary: secretBinary === undefined ? undefined : fromBase64(secretBinary),
      // The JSON protocol sends timestamps as epoch seconds.
      CreatedDate:
        typeof wire.CreatedDate === 'number' ? new Date(wire.CreatedDate * 1000) : undefined,
    };
  }
}
