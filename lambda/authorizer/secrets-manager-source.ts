import { BaseProvider } from '@aws-lambda-powertools/parameters/base';
import type { GetOptionsInterface } from '@aws-lambda-powertools/parameters/base/types';
import { ParameterNotFoundError } from '@aws-lambda-powertools/parameters/errors';
import { isAwsError } from '../shared/aws/error';
import { type GetSecretValueInput, SecretsManagerClient } from '../shared/aws/secrets-manager';
import type { ApiKeySource, ApiKeyVersions } from './api-key-store';

/** `get` options: Powertools' own (`maxAge`, `forceFetch`, `transform`, `throwOnMissing`). */
export interface SecretsManagerGetOptions extends GetOptionsInterface {
  /** Which version to read; the secret's id comes from `get`'s name. */
  readonly sdkOptions?: Omit<GetSecretValueInput, 'SecretId'>;
}

/**
 * Powertools' parameters provider for Secrets Manager, on the small AWS client instead of SDK
 * v3 (whose client is most of the authorizer's cold start). Powertools' `BaseProvider` keeps
 * what callers rely on: the cache (`maxAge`, default 5 s or `POWERTOOLS_PARAMETERS_MAX_AGE`),
 * `forceFetch`, `transform`, and `throwOnMissing` turning a missing secret into a
 * `ParameterNotFoundError` while any other failure becomes a `GetParameterError`.
 */
export class SecretsManagerProvider extends BaseProvider {
  readonly #client: SecretsManagerClient;

  constructor(client: SecretsManagerClient = new SecretsManagerClient()) {
    // No SDK v3 client: BaseProvider builds none when given no prototype.
    super({});
    this.#client = client;
  }

  override get(name: string, options?: SecretsManagerGetOptions): Promise<unknown> {
    return super.get(name, options);
  }

  protected async _get(
    name: string,
    options?: SecretsManagerGetOptions,
  ): Promise<string | Uint8Array | undefined> {
    try {
      const value = await this.#client.getSecretValue({ ...options?.sdkOptions, SecretId: name });
      return value.SecretString ?? value.SecretBinary;
    } catch (error) {
      // As Powertools' own SecretsProvider: not found becomes `undefined`, which BaseProvider
      // turns into ParameterNotFoundError when the caller asked for that.
      if (options?.throwOnMissing === true && isAwsError(error, 'ResourceNotFoundException')) {
        return undefined;
      }
      throw error;
    }
  }

  protected async _getMultiple(): Promise<Record<string, unknown> | undefined> {
    throw new Error('Secrets Manager has no hierarchy: getMultiple is not supported');
  }
}

/**
 * Reads the AWSCURRENT and AWSPREVIOUS versions of the API-key secret with Powertools.
 *
 * Powertools caches by secret name and transform only, not by `VersionStage`, so its cache
 * would hand AWSCURRENT back for AWSPREVIOUS. Both reads therefore bypass it (`forceFetch`)
 * and {@link ApiKeyStore} keeps the TTL cache for the pair.
 */
export class SecretsManagerApiKeySource implements ApiKeySource {
  readonly #secretId: string;
  readonly #provider: SecretsManagerProvider;

  constructor(secretId: string, provider: SecretsManagerProvider = new SecretsManagerProvider()) {
    this.#secretId = secretId;
    this.#provider = provider;
  }

  async load(): Promise<ApiKeyVersions> {
    const [current, previous] = await Promise.all([
      this.#read('AWSCURRENT'),
      this.#read('AWSPREVIOUS').then(
        (text) => ({ text, problem: undefined }),
        (error: unknown) => ({
          text: undefined,
          // A secret that has never been rotated has no AWSPREVIOUS version: no problem.
          problem:
            error instanceof ParameterNotFoundError
              ? undefined
              : `AWSPREVIOUS could not be read (${describe(error)})`,
        }),
      ),
    ]);
    // AWSCURRENT must be read (its failure rejects); without AWSPREVIOUS we refuse only
    // older key material, which is safe.
    return { current, previous: previous.text, previousUnavailable: previous.problem };
  }

  async #read(stage: 'AWSCURRENT' | 'AWSPREVIOUS'): Promise<string> {
    const value = await this.#provider.get(this.#secretId, {
      forceFetch: true,
      throwOnMissing: true,
      sdkOptions: { VersionStage: stage },
    });
    if (typeof value !== 'string') {
      throw new TypeError(`The API-key secret's ${stage} version is not a SecretString`);
    }
    return value;
  }
}

/** The AWS error code behind a Powertools error (never its message, which may name the secret). */
function describe(error: unknown): string {
  const cause = error instanceof Error ? error.cause : undefined;
  if (isAwsError(cause)) return cause.code;
  return error instanceof Error ? error.name : 'unknown error';
}
