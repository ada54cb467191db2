/**
 * The AWS SDK (through Powertools' SecretsProvider) is loaded on the first read of the API-key
 * secret, not when the authorizer starts: a cold authorizer answering a JWT never pays for it.
 */
import { describe, expect, it, vi } from 'vitest';

const loaded = vi.hoisted(() => ({ count: 0, gets: [] as string[] }));

vi.mock('@aws-lambda-powertools/parameters/secrets', () => {
  loaded.count += 1;
  return {
    SecretsProvider: class {
      async get(name: string, options: { sdkOptions: { VersionStage: string } }) {
        loaded.gets.push(`${name}:${options.sdkOptions.VersionStage}`);
        return '{"version":1,"keys":{}}';
      }
    },
  };
});

describe('SecretsManagerApiKeySource without an injected provider', () => {
  it('loads the SDK on the first read, once, and not before', async () => {
    // Prepare
    const { SecretsManagerApiKeySource } = await import(
      '../../lambda/authorizer/secrets-manager-source'
    );
    const source = new SecretsManagerApiKeySource('api-keys');
    expect(loaded.count).toBe(0);

    // Act
    await source.load();
    await source.load();

    // Assess
    expect(loaded.count).toBe(1);
    expect(loaded.gets).toEqual([
      'api-keys:AWSCURRENT',
      'api-keys:AWSPREVIOUS',
      'api-keys:AWSCURRENT',
      'api-keys:AWSPREVIOUS',
    ]);
  });
});
