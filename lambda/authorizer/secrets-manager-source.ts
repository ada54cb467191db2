import { ParameterNotFoundError } from '@aws-lambda-powertools/parameters/errors';
import type { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import type { ApiKeySource, ApiKeyVersions } from './api-key-store';

/**
 * The Secrets Manager client (the AWS SDK, through Powertools) is loaded on first use, not at
 * cold start: loading it costs about as much as the rest of the authorizer's init, and a cold
 * authorizer answering a JWT never needs it.
 */
async function defaultProvider(): Promise<SecretsProvider> {
  const { SecretsProvider } = await import('@aws-lambda-powertools/parameters/secrets');
  return new SecretsProvider();
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
  readonly #provider: () => Promise<SecretsProvider>;
  #loaded: Promise<SecretsProvider> | undefined;

  /** @param provider a provider (tests), or none for the default one, loaded on first use */
  constructor(secretId: string, provider?: SecretsProvider) {
    this.#secretId = secretId;
    this.#provider = provider === undefined ? defaultProvider : async () => provider;
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
    // One provider for the life of the Lambda; a failed load is retried on the next read.
    this.#loaded ??= this.#provider().catch((error: unknown) => {
      this.#loaded = undefined;
      throw error;
    });
    const provider = await this.#loaded;
    const value = await provider.get(this.#secretId, {
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
