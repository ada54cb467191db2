import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  DEFAULT_CALLBACK_URLS,
  gatewayStepUpProblem,
  loadConfig,
  unknownConfigKeys,
} from '../../../lib/config';

const from = (values: Record<string, unknown>) => loadConfig((key) => values[key]);

describe('loadConfig', () => {
  it('fills every setting with its default when the context is empty', () => {
    const config = from({});
    expect(config).toMatchObject({
      stageName: 'prod',
      abuseThreshold: 100,
      abuseWindowMinutes: 5,
      authorizerCacheTtlSeconds: 0,
      gatewayStepUp: true,
      earlyDeny: false,
      allowedOrigins: [],
      callbackUrls: DEFAULT_CALLBACK_URLS,
      enableWaf: true,
      mfa: 'required',
      registrationRateLimit: 1,
      registrationBurstLimit: 5,
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

  it('keeps logs a year by default and refuses less: they are audit evidence', () => {
    expect(from({}).logRetentionDays).toBe(365);
    expect(from({ logRetentionDays: '400' }).logRetentionDays).toBe(400);
    expect(() => from({ logRetentionDays: '90' })).toThrow(
      /-c logRetentionDays="90": must be at least 365/,
    );
  });

  it('refuses a callback URL that is not a URL, naming the key', () => {
    expect(() => from({ callbackUrls: 'not a url' })).toThrow(ConfigError);
    expect(() => from({ callbackUrls: 'not a url' })).toThrow(/-c callbackUrls/);
  });

  it.each([
    ['user info', 'https://user:pw@app.example.com/callback'],
    ['a fragment', 'https://app.example.com/callback#x'],
    ['plain http off loopback', 'http://app.example.com/callback'],
    ['a form no registration could match', 'http://localhost:9999'],
  ])('refuses a callback URL with %s, as registration would', (_, callbackUrls) => {
    expect(() => from({ callbackUrls })).toThrow(/-c callbackUrls/);
  });

  it('accepts loopback redirect URIs on 127.0.0.1 and [::1]: Cognito never sees them, the proxy matches them', () => {
    // Prepare
    const callbackUrls = 'http://127.0.0.1:9999/callback,http://[::1]:8080/cb';

    // Assess
    expect(from({ callbackUrls }).callbackUrls).toEqual([
      'http://127.0.0.1:9999/callback',
      'http://[::1]:8080/cb',
    ]);
  });

  it('defaults the OAuth proxy settings: throttles, any CIMD host, a week of consent, alarm thresholds', () => {
    expect(from({})).toMatchObject({
      oauthRateLimit: 10,
      oauthBurstLimit: 20,
      cimdAllowedHosts: [],
      consentRememberDays: 7,
      refusedAuthorizationThreshold: 20,
      cimdRefusalThreshold: 5,
    });
  });

  it('reads CIMD hosts as a list and refuses one that is not a lower-case host name', () => {
    expect(from({ cimdAllowedHosts: 'claude.ai, vscode.dev' }).cimdAllowedHosts).toEqual([
      'claude.ai',
      'vscode.dev',
    ]);
    expect(() => from({ cimdAllowedHosts: 'https://claude.ai' })).toThrow(/-c cimdAllowedHosts/);
    expect(() => from({ cimdAllowedHosts: 'Claude.AI' })).toThrow(/-c cimdAllowedHosts/);
  });

  it('refuses remembering consent for longer than the proxy allows (30 days)', () => {
    expect(from({ consentRememberDays: '30' }).consentRememberDays).toBe(30);
    expect(() => from({ consentRememberDays: '31' })).toThrow(/-c consentRememberDays/);
  });

  it.each([
    ['a trailing slash, which no Origin header has', 'https://app.example.com/'],
    ['a path', 'https://app.example.com/app'],
    ['upper case, which browsers never send', 'https://App.example.com'],
    ['plain http off loopback', 'http://app.example.com'],
    ['a scheme that is not http', 'ftp://app.example.com'],
  ])('refuses an allowed origin with %s, naming the key', (_, allowedOrigins) => {
    expect(() => from({ allowedOrigins })).toThrow(/-c allowedOrigins/);
  });

  it('accepts an https origin and a loopback http origin with a port', () => {
    expect(
      from({ allowedOrigins: 'https://app.example.com:8443,http://localhost:6274' }).allowedOrigins,
    ).toEqual(['https://app.example.com:8443', 'http://localhost:6274']);
  });

  it('accepts the default callback URLs as registration does', () => {
    expect(from({ callbackUrls: DEFAULT_CALLBACK_URLS.join(',') }).callbackUrls).toEqual(
      DEFAULT_CALLBACK_URLS,
    );
  });

  it('refuses an unknown MFA mode', () => {
    expect(() => from({ mfa: 'sometimes' })).toThrow(/-c mfa/);
  });

  it('refuses an alarm e-mail that is not an address', () => {
    expect(() => from({ alarmEmail: 'ops' })).toThrow(/-c alarmEmail/);
  });

  describe('custom domain', () => {
    const certificateArn =
      'arn:aws:acm:eu-west-1:123456789012:certificate/0b6f1e2a-3c4d-4e5f-8a9b-0c1d2e3f4a5b';

    it('is off by default and accepts a domain with its certificate', () => {
      expect(from({})).toMatchObject({ customDomainName: '', customDomainCertificateArn: '' });
      expect(
        from({ customDomainName: 'mcp.example.com', customDomainCertificateArn: certificateArn }),
      ).toMatchObject({ customDomainName: 'mcp.example.com' });
    });

    it('refuses a domain without a certificate and a certificate without a domain', () => {
      expect(() => from({ customDomainName: 'mcp.example.com' })).toThrow(
        /-c customDomainCertificateArn=null: .*set together/,
      );
      expect(() => from({ customDomainCertificateArn: certificateArn })).toThrow(
        /-c customDomainName=null: .*set together/,
      );
    });

    it.each(['https://mcp.example.com', 'MCP.example.com', 'localhost', 'mcp.example.com/mcp'])(
      'refuses %s as a domain name',
      (customDomainName) => {
        expect(() =>
          from({ customDomainName, customDomainCertificateArn: certificateArn }),
        ).toThrow(/-c customDomainName=.*DNS name/);
      },
    );

    it('refuses a certificate ARN that is not an ACM certificate', () => {
      expect(() =>
        from({
          customDomainName: 'mcp.example.com',
          customDomainCertificateArn: 'arn:aws:iam::123456789012:server-certificate/x',
        }),
      ).toThrow(/-c customDomainCertificateArn=.*ACM certificate ARN/);
    });
  });
});

describe('gateway step-up', () => {
  it('is on by default, with the authorizer cache off it needs', () => {
    expect(from({})).toMatchObject({ gatewayStepUp: true, authorizerCacheTtlSeconds: 0 });
  });

  it('is refused with the authorizer cache on, naming the TTL and both ways out', () => {
    // Act
    const load = () => from({ authorizerCacheTtlSeconds: '60' });

    // Assess
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(
      /-c gatewayStepUp=.*needs the authorizer cache off \(authorizerCacheTtlSeconds=0, got 60\).*gatewayStepUp=false/s,
    );
  });

  it('is refused with early deny, saying to turn it off for early deny', () => {
    // Act
    const load = () => from({ earlyDeny: 'true' });

    // Assess
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(/-c gatewayStepUp=.*cannot run with earlyDeny.*gatewayStepUp=false/s);
  });

  it('turned off, lets the authorizer cache results again', () => {
    expect(from({ gatewayStepUp: 'false', authorizerCacheTtlSeconds: '60' })).toMatchObject({
      gatewayStepUp: false,
      authorizerCacheTtlSeconds: 60,
    });
  });
});

describe('gatewayStepUpProblem', () => {
  it('has none with the cache off and early deny off', () => {
    expect(gatewayStepUpProblem(0, false)).toBeUndefined();
  });

  it('says a cached Deny would be reused, for any non-zero TTL', () => {
    expect(gatewayStepUpProblem(1, false)).toMatch(
      /^needs the authorizer cache off \(authorizerCacheTtlSeconds=0, got 1\): API Gateway would reuse one call's Deny/,
    );
  });

  it('says role denials would get the step-up challenge with early deny', () => {
    expect(gatewayStepUpProblem(0, true)).toMatch(
      /^cannot run with earlyDeny: both answer through API Gateway's one ACCESS_DENIED response/,
    );
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
