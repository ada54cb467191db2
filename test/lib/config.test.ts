import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  DEFAULT_CALLBACK_URLS,
  loadConfig,
  unknownConfigKeys,
} from '../../lib/config';

const from = (values: Record<string, unknown>) => loadConfig((key) => values[key]);

describe('loadConfig', () => {
  it('fills every setting with its default when the context is empty', () => {
    const config = from({});
    expect(config).toMatchObject({
      stageName: 'prod',
      abuseThreshold: 100,
      abuseWindowMinutes: 5,
      authorizerCacheTtlSeconds: 60,
      allowedOrigins: [],
      callbackUrls: DEFAULT_CALLBACK_URLS,
      enableWaf: true,
      mfa: 'required',
    });
  });

  it('reads -c strings: numbers, booleans and comma-separated lists', () => {
    const config = from({
      abuseThreshold: '250',
      enableWaf: 'false',
      allowedOrigins: 'https://a.example.com, https://b.example.com',
    });
    expect(config).toMatchObject({
      abuseThreshold: 250,
      enableWaf: false,
      allowedOrigins: ['https://a.example.com', 'https://b.example.com'],
    });
  });

  it('names the -c key and the bad value when a setting is invalid', () => {
    expect(() => from({ logRetentionDays: '42' })).toThrow(
      /-c logRetentionDays="42": must be one of/,
    );
  });

  it('refuses a callback URL that is not a URL, naming the key', () => {
    expect(() => from({ callbackUrls: 'not a url' })).toThrow(ConfigError);
    expect(() => from({ callbackUrls: 'not a url' })).toThrow(/-c callbackUrls/);
  });

  it('refuses an unknown MFA mode', () => {
    expect(() => from({ mfa: 'sometimes' })).toThrow(/-c mfa/);
  });

  it('refuses an alarm e-mail that is not an address', () => {
    expect(() => from({ alarmEmail: 'ops' })).toThrow(/-c alarmEmail/);
  });
});

describe('unknownConfigKeys', () => {
  it('names a misspelled key', () => {
    expect(unknownConfigKeys(['abuseTreshold', 'abuseThreshold'])).toEqual(['abuseTreshold']);
  });

  it('leaves CDK feature flags and aws:cdk keys alone', () => {
    expect(
      unknownConfigKeys(['@aws-cdk/core:checkSecretUsage', 'aws:cdk:bundling-stacks', 'stageName']),
    ).toEqual([]);
  });
});
