import { ParameterNotFoundError } from '@aws-lambda-powertools/parameters/errors';
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import type { ApiKeySource, ApiKeyVersions } from './api-key-store';

/**
 * Reads the AWSCURRENT and AWSPREVIOUS versions of the API-key secret with Powertools.
 *
 * Powertools caches by secret name and transform only, not by `VersionStage`, so its cache
 * would hand AWSCURRENT back for AWSPREVIOUS. Both reads therefore bypass it (`forceFetch`)
 * and {@link ApiKeyStore} keeps the TTL cache for the pair.
 */
export class SecretsManagerApiKeySource implements ApiKeySource {
  readonly #secretId: string;
  readonly #provider: SecretsProvider;

  constructor(secretId: string, provider: SecretsProvider = new SecretsProvider()) {
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
              : `AWSPREVIOUS could not be read (${error instanceof Error ? error.name : 'unknown error'})`,
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
