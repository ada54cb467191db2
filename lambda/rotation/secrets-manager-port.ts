/**
 * The part of Secrets Manager that rotation and the keys CLI use, as a port: the rotation
 * handler and the CLI's secret store depend on this interface, production wires the AWS SDK
 * adapter below, and tests wire an in-memory stand-in with the same staging-label semantics.
 *
 * Field names follow the Secrets Manager API (`VersionStage`, `MoveToVersionId`, ...) so each
 * call reads like the API reference that documents it.
 */
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';

/** The staging labels Secrets Manager's rotation moves. */
export const STAGE = {
  current: 'AWSCURRENT',
  pending: 'AWSPENDING',
  previous: 'AWSPREVIOUS',
} as const;

export interface SecretDescription {
  readonly ARN: string;
  readonly Name: string;
  readonly RotationEnabled: boolean;
  /** Only versions that carry at least one label; unlabelled versions are deprecated. */
  readonly VersionIdsToStages: Readonly<Record<string, readonly string[]>>;
}

/** Which version to read: by label, by id, or both (then the label must be on that id). */
export interface SecretVersionSelector {
  readonly SecretId: string;
  readonly VersionId?: string | undefined;
  readonly VersionStage?: string | undefined;
}

export interface SecretValue {
  readonly VersionId: string;
  readonly VersionStages: readonly string[];
  readonly SecretString: string;
}

export interface PutSecretValueInput {
  readonly SecretId: string;
  /** Becomes the new version's id; a retry with the same token and value is a no-op. */
  readonly ClientRequestToken: string;
  readonly SecretString: string;
  /** Labels for the new version; when omitted, Secrets Manager moves AWSCURRENT to it. */
  readonly VersionStages?: readonly string[] | undefined;
}

export interface PutSecretValueOutput {
  readonly VersionId: string;
  readonly VersionStages: readonly string[];
}

export interface UpdateSecretVersionStageInput {
  readonly SecretId: string;
  readonly VersionStage: string;
  readonly MoveToVersionId?: string | undefined;
  /** Required when the label is on another version: the version it is taken from. */
  readonly RemoveFromVersionId?: string | undefined;
}

export interface SecretsManagerPort {
  describeSecret(secretId: string): Promise<SecretDescription>;
  getSecretValue(selector: SecretVersionSelector): Promise<SecretValue>;
  putSecretValue(input: PutSecretValueInput): Promise<PutSecretValueOutput>;
  updateSecretVersionStage(input: UpdateSecretVersionStageInput): Promise<void>;
}

/** A Secrets Manager call failed; subclasses name the service errors callers act on. */
export class SecretsManagerPortError extends Error {
  override readonly name: string = 'SecretsManagerPortError';
}

/** `ResourceNotFoundException`: no such secret, version, or value for that version/label. */
export class ResourceNotFoundError extends SecretsManagerPortError {
  override readonly name = 'ResourceNotFoundError';
}

/** `ResourceExistsException`: the token names a version that holds a different value. */
export class ResourceExistsError extends SecretsManagerPortError {
  override readonly name = 'ResourceExistsError';
}

/** `InvalidParameterException` / `InvalidRequestException`: the call breaks a service rule. */
export class InvalidRequestError extends SecretsManagerPortError {
  override readonly name = 'InvalidRequestError';
}

/**
 * Map the SDK's service exceptions to the port's errors, keeping the original as `cause`.
 * Service error messages name secrets and versions, never values, so they are kept.
 */
function translate(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  switch (error.name) {
    case 'ResourceNotFoundException':
      return new ResourceNotFoundError(error.message, { cause: error });
    case 'ResourceExistsException':
      return new ResourceExistsError(error.message, { cause: error });
    case 'InvalidParameterException':
    case 'InvalidRequestException':
      return new InvalidRequestError(error.message, { cause: error });
    default:
      return error;
  }
}

/** The production adapter over the AWS SDK v3 client. */
export class AwsSecretsManager implements SecretsManagerPort {
  readonly #client: SecretsManagerClient;

  constructor(client: SecretsManagerClient = new SecretsManagerClient({})) {
    this.#client = client;
  }

  async describeSecret(secretId: string): Promise<SecretDescription> {
    const output = await this.#client
      .send(new DescribeSecretCommand({ SecretId: secretId }))
      .catch((error: unknown) => Promise.reject(translate(error)));
    return {
      ARN: output.ARN ?? secretId,
      Name: output.Name ?? secretId,
      RotationEnabled: output.RotationEnabled === true,
      VersionIdsToStages: output.VersionIdsToStages ?? {},
    };
  }

  async getSecretValue(selector: SecretVersionSelector): Promise<SecretValue> {
    const output = await this.#client
      .send(
        new GetSecretValueCommand({
          SecretId: selector.SecretId,
          VersionId: selector.VersionId,
          VersionStage: selector.VersionStage,
        }),
      )
      .catch((error: unknown) => Promise.reject(translate(error)));
    if (output.SecretString === undefined || output.VersionId === undefined) {
      // This secret only ever holds JSON text; a binary secret is not ours.
      throw new InvalidRequestError(`Secret ${selector.SecretId} has no SecretString`);
    }
    return {
      VersionId: output.VersionId,
      VersionStages: output.VersionStages ?? [],
      SecretString: output.SecretString,
    };
  }

  async putSecretValue(input: PutSecretValueInput): Promise<PutSecretValueOutput> {
    const output = await this.#client
      .send(
        new PutSecretValueCommand({
          SecretId: input.SecretId,
          ClientRequestToken: input.ClientRequestToken,
          SecretString: input.SecretString,
          VersionStages: input.VersionStages === undefined ? undefined : [...input.VersionStages],
        }),
      )
      .catch((error: unknown) => Promise.reject(translate(error)));
    return {
      VersionId: output.VersionId ?? input.ClientRequestToken,
      VersionStages: output.VersionStages ?? [],
    };
  }

  async updateSecretVersionStage(input: UpdateSecretVersionStageInput): Promise<void> {
    await this.#client
      .send(
        new UpdateSecretVersionStageCommand({
          SecretId: input.SecretId,
          VersionStage: input.VersionStage,
          MoveToVersionId: input.MoveToVersionId,
          RemoveFromVersionId: input.RemoveFromVersionId,
        }),
      )
      .catch((error: unknown) => Promise.reject(translate(error)));
  }
}
