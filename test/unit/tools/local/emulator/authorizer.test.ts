/**
 * The Lambda authorizer's pure parts: what API Gateway accepts as an answer, how the policy is
 * evaluated for a method ARN, the cache key from the identity sources, the cache's TTL.
 */
import { describe, expect, it } from 'vitest';
import { parseIdentitySource } from '../../../../../tools/local/emulator/api-model';
import {
  AuthorizerCache,
  type AuthorizerResult,
  evaluatePolicy,
  identityKey,
  parseAuthorizerResult,
} from '../../../../../tools/local/emulator/authorizer';

const ARN = 'arn:aws:execute-api:us-east-1:123456789012:abc1234567/prod';

function policy(...statements: Record<string, unknown>[]) {
  return {
    principalId: 'user-1',
    policyDocument: { Version: '2012-10-17', Statement: statements },
  };
}

const allow = (resource: unknown, action: unknown = 'execute-api:Invoke') => ({
  Effect: 'Allow',
  Action: action,
  Resource: resource,
});
const deny = (resource: unknown) => ({
  Effect: 'Deny',
  Action: 'execute-api:Invoke',
  Resource: resource,
});

describe('what API Gateway accepts from an authorizer', () => {
  it('a policy with scalar context values, kept as given', () => {
    const parsed = parseAuthorizerResult(
      JSON.stringify({ ...policy(allow(`${ARN}/*`)), context: { role: 'admin', n: 1, ok: true } }),
    );

    expect(parsed?.context).toEqual({ role: 'admin', n: 1, ok: true });
  });

  it('a null context value, as AWS-delivered events show it (non-AWS evidence)', () => {
    const parsed = parseAuthorizerResult(
      JSON.stringify({ ...policy(allow('*')), context: { none: null } }),
    );

    expect(parsed?.context).toEqual({ none: null });
  });

  it.each([
    ['an object as a context value', { ...policy(allow('*')), context: { nested: { a: 1 } } }],
    ['a list as a context value', { ...policy(allow('*')), context: { list: [1] } }],
    ['no policy document', { principalId: 'user-1' }],
    ['a policy with no statement', policy()],
    [
      'an effect that is neither Allow nor Deny',
      policy({ Effect: 'Maybe', Action: '*', Resource: '*' }),
    ],
    ['no principal id', { policyDocument: policy(allow('*')).policyDocument }],
    ['something that is not JSON', 'not json'],
  ])('not %s (a 500, AUTHORIZER_CONFIGURATION_ERROR)', (_name, answer) => {
    const payload = typeof answer === 'string' ? answer : JSON.stringify(answer);

    expect(parseAuthorizerResult(payload)).toBeUndefined();
  });
});

describe("IAM's evaluation of the returned policy for a method ARN", () => {
  const result = (document: ReturnType<typeof policy>) =>
    parseAuthorizerResult(JSON.stringify(document)) as AuthorizerResult;

  it('allows a method an Allow names', () => {
    expect(evaluatePolicy(result(policy(allow(`${ARN}/POST/mcp`))), `${ARN}/POST/mcp`)).toBe(
      'allow',
    );
  });

  it('denies implicitly a method no Allow covers (a policy for one method, reused for another)', () => {
    expect(evaluatePolicy(result(policy(allow(`${ARN}/POST/mcp`))), `${ARN}/GET/mcp`)).toBe(
      'implicit-deny',
    );
  });

  it('lets an explicit Deny win over an Allow', () => {
    const both = result(policy(allow(`${ARN}/*`), deny(`${ARN}/DELETE/*`)));

    expect(evaluatePolicy(both, `${ARN}/DELETE/mcp`)).toBe('explicit-deny');
    expect(evaluatePolicy(both, `${ARN}/POST/mcp`)).toBe('allow');
  });

  it('matches * across segments and ? as one character', () => {
    expect(
      evaluatePolicy(
        result(policy(allow('arn:aws:execute-api:*:*:abc1234567/*'))),
        `${ARN}/POST/a/b`,
      ),
    ).toBe('allow');
    expect(evaluatePolicy(result(policy(allow(`${ARN}/P?ST/mcp`))), `${ARN}/POST/mcp`)).toBe(
      'allow',
    );
    expect(evaluatePolicy(result(policy(allow(`${ARN}/P?ST/mcp`))), `${ARN}/PAAST/mcp`)).toBe(
      'implicit-deny',
    );
  });

  it('reads the action without regard to case and with wildcards, and ignores other actions', () => {
    expect(
      evaluatePolicy(result(policy(allow(`${ARN}/*`, 'execute-api:invoke'))), `${ARN}/GET/`),
    ).toBe('allow');
    expect(
      evaluatePolicy(result(policy(allow(`${ARN}/*`, ['s3:*', 'execute-api:*']))), `${ARN}/GET/`),
    ).toBe('allow');
    expect(evaluatePolicy(result(policy(allow(`${ARN}/*`, 's3:GetObject'))), `${ARN}/GET/`)).toBe(
      'implicit-deny',
    );
  });

  it('reads a list of resources', () => {
    expect(
      evaluatePolicy(result(policy(allow([`${ARN}/GET/a`, `${ARN}/GET/b`]))), `${ARN}/GET/b`),
    ).toBe('allow');
  });
});

describe('the cache key from the identity sources', () => {
  const sources = parseIdentitySource(
    'method.request.header.Authorization, method.request.querystring.tenant, context.stage, stageVariables.env',
    'test',
  );
  const input = {
    headers: { authorization: 'Bearer a' },
    query: { tenant: 't1' },
    context: { stage: 'prod' },
    stageVariables: { env: 'local' },
  };

  it("is every source's value in order, a header found whatever its case", () => {
    expect(identityKey(sources, input)).toBe(JSON.stringify(['Bearer a', 't1', 'prod', 'local']));
  });

  it('changes when any one source changes', () => {
    expect(identityKey(sources, { ...input, query: { tenant: 't2' } })).not.toBe(
      identityKey(sources, input),
    );
  });

  it.each([
    ['a missing header', { ...input, headers: {} }],
    ['an empty header', { ...input, headers: { Authorization: '' } }],
    ['a missing query parameter', { ...input, query: {} }],
  ])(
    'is undefined for %s (API Gateway answers 401 without calling the authorizer)',
    (_name, request) => {
      expect(identityKey(sources, request)).toBeUndefined();
    },
  );
});

describe('the authorizer result cache', () => {
  const result = parseAuthorizerResult(JSON.stringify(policy(allow('*')))) as AuthorizerResult;

  it('holds a result for the TTL, by the gateway clock, and not a moment longer', () => {
    let now = 1_000_000;
    const cache = new AuthorizerCache(() => now);
    cache.set('auth', 'key', result, 300);

    now += 299_999;
    const within = cache.get('auth', 'key');
    now += 1;
    const after = cache.get('auth', 'key');

    expect(within).toBe(result);
    expect(after).toBeUndefined();
  });

  it('holds nothing with a TTL of 0 (caching off)', () => {
    const cache = new AuthorizerCache(() => 0);
    cache.set('auth', 'key', result, 0);

    expect(cache.get('auth', 'key')).toBeUndefined();
  });

  it('keeps the results of two authorizers apart', () => {
    const cache = new AuthorizerCache(() => 0);
    cache.set('auth-a', 'key', result, 300);

    expect(cache.get('auth-b', 'key')).toBeUndefined();
  });

  it('is bounded: past its size the oldest entry goes', () => {
    const cache = new AuthorizerCache(() => 0, 2);
    cache.set('auth', 'a', result, 300);
    cache.set('auth', 'b', result, 300);
    cache.set('auth', 'c', result, 300);

    expect([cache.get('auth', 'a'), cache.get('auth', 'b'), cache.get('auth', 'c')]).toEqual([
      undefined,
      result,
      result,
    ]);
  });
});
