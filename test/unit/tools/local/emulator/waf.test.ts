/**
 * The stage's web ACL: rules in priority order, rate-based rules per IP with a scope-down and
 * text transformations, a size constraint on one header with a custom 413, and a managed rule
 * group the emulator cannot know, reported and matching nothing.
 */
import { describe, expect, it } from 'vitest';
import type { WafRequest } from '../../../../../tools/local/emulator/waf';
import { WebAcl } from '../../../../../tools/local/emulator/waf';

const request = (overrides: Partial<WafRequest> = {}): WafRequest => ({
  sourceIp: '198.51.100.1',
  method: 'POST',
  uriPath: '/prod/mcp',
  headers: [],
  ...overrides,
});

const TRANSFORMS = [
  { Priority: 0, Type: 'URL_DECODE' },
  { Priority: 1, Type: 'NORMALIZE_PATH' },
  { Priority: 2, Type: 'LOWERCASE' },
];

/** The stack's own shape: a per-IP limit scoped down to /register. */
function registerLimit(limit: number, now: () => number) {
  return new WebAcl(
    {
      DefaultAction: { Allow: {} },
      Rules: [
        {
          Name: 'RegisterRateLimitPerIp',
          Priority: 1,
          Action: { Block: {} },
          Statement: {
            RateBasedStatement: {
              AggregateKeyType: 'IP',
              Limit: limit,
              ScopeDownStatement: {
                RegexMatchStatement: {
                  FieldToMatch: { UriPath: {} },
                  RegexString: '/(?:register)/?$',
                  TextTransformations: TRANSFORMS,
                },
              },
            },
          },
        },
      ],
    },
    now,
  );
}

describe('a rate-based rule, per IP', () => {
  it('blocks an address past its limit within the window, not another address', () => {
    const waf = registerLimit(10, () => 0);
    const verdicts = Array.from(
      { length: 11 },
      () => waf.evaluate(request({ uriPath: '/prod/register' })).action,
    );

    const other = waf.evaluate(request({ uriPath: '/prod/register', sourceIp: '198.51.100.2' }));

    expect(verdicts.slice(0, 10).every((action) => action === 'allow')).toBe(true);
    expect(verdicts[10]).toBe('block');
    expect(other.action).toBe('allow');
  });

  it('lets the address through again once its requests have left the window (5 minutes by default)', () => {
    let now = 0;
    const waf = registerLimit(10, () => now);
    for (let i = 0; i < 11; i += 1) waf.evaluate(request({ uriPath: '/prod/register' }));

    now += 300_001;

    expect(waf.evaluate(request({ uriPath: '/prod/register' })).action).toBe('allow');
  });

  it('counts only what its scope-down matches, after URL_DECODE, NORMALIZE_PATH and LOWERCASE', () => {
    const waf = registerLimit(3, () => 0);
    const disguised = ['/prod/REGISTER', '/prod//register/', '/prod/%72egister'];
    for (const uriPath of disguised) waf.evaluate(request({ uriPath }));
    const unscoped = waf.evaluate(request({ uriPath: '/prod/mcp' }));

    const fourth = waf.evaluate(request({ uriPath: '/prod/./register' }));

    expect(unscoped.action).toBe('allow');
    expect(fourth).toMatchObject({
      action: 'block',
      rule: 'RegisterRateLimitPerIp',
      statusCode: 403,
    });
  });
});

describe('a size constraint on one header with a custom response', () => {
  const waf = new WebAcl({
    DefaultAction: { Allow: {} },
    CustomResponseBodies: {
      TooLarge: { ContentType: 'APPLICATION_JSON', Content: '{"message":"Header too large"}' },
    },
    Rules: [
      {
        Name: 'AuthorizationTooLong',
        Priority: 0,
        Action: {
          Block: {
            CustomResponse: {
              ResponseCode: 413,
              CustomResponseBodyKey: 'TooLarge',
              ResponseHeaders: [{ Name: 'Retry-After', Value: '0' }],
            },
          },
        },
        Statement: {
          SizeConstraintStatement: {
            FieldToMatch: { SingleHeader: { Name: 'authorization' } },
            ComparisonOperator: 'GT',
            Size: 8,
            TextTransformations: [{ Priority: 0, Type: 'URL_DECODE' }],
          },
        },
      },
    ],
  });

  it('answers a header over the size with the custom status, body, headers and content type', () => {
    const verdict = waf.evaluate(request({ headers: [['Authorization', 'Bearer 123456789']] }));

    expect(verdict).toEqual({
      action: 'block',
      rule: 'AuthorizationTooLong',
      statusCode: 413,
      response: {
        statusCode: 413,
        headers: [
          ['Retry-After', '0'],
          ['Content-Type', 'application/json'],
        ],
        body: '{"message":"Header too large"}',
      },
    });
  });

  it('measures the value after its transformations', () => {
    expect(waf.evaluate(request({ headers: [['authorization', '%41%41%41%41']] })).action).toBe(
      'allow',
    );
  });

  it('never matches a missing header', () => {
    expect(waf.evaluate(request()).action).toBe('allow');
  });
});

describe('the rules together', () => {
  const rule = (name: string, priority: number, action: unknown, path: string) => ({
    Name: name,
    Priority: priority,
    Action: action,
    Statement: {
      ByteMatchStatement: {
        FieldToMatch: { UriPath: {} },
        SearchString: path,
        PositionalConstraint: 'ENDS_WITH',
        TextTransformations: [{ Priority: 0, Type: 'NONE' }],
      },
    },
  });

  it('evaluates in priority order: the first terminating action wins, a Count goes on', () => {
    const waf = new WebAcl({
      DefaultAction: { Allow: {} },
      Rules: [
        rule('Block', 2, { Block: {} }, '/x'),
        rule('Count', 0, { Count: {} }, '/x'),
        rule('Allow', 1, { Allow: {} }, '/x'),
      ],
    });

    expect(waf.evaluate(request({ uriPath: '/prod/x' }))).toEqual({
      action: 'allow',
      rule: 'Allow',
      statusCode: 200,
    });
  });

  it("answers the default action's custom response when nothing matches", () => {
    const waf = new WebAcl({
      DefaultAction: { Block: { CustomResponse: { ResponseCode: 429 } } },
      Rules: [rule('Allow', 0, { Allow: {} }, '/open')],
    });

    expect(waf.evaluate(request({ uriPath: '/prod/closed' })).statusCode).toBe(429);
    expect(waf.evaluate(request({ uriPath: '/prod/open' })).action).toBe('allow');
  });

  it('combines statements with AND, OR and NOT', () => {
    const waf = new WebAcl({
      DefaultAction: { Allow: {} },
      Rules: [
        {
          Name: 'PostButNotMcp',
          Priority: 0,
          Action: { Block: {} },
          Statement: {
            AndStatement: {
              Statements: [
                {
                  ByteMatchStatement: {
                    FieldToMatch: { Method: {} },
                    SearchString: 'POST',
                    PositionalConstraint: 'EXACTLY',
                    TextTransformations: [],
                  },
                },
                { NotStatement: { Statement: rule('', 0, {}, '/mcp').Statement } },
              ],
            },
          },
        },
      ],
    });

    expect(waf.evaluate(request({ uriPath: '/prod/mcp' })).action).toBe('allow');
    expect(waf.evaluate(request({ uriPath: '/prod/other' })).action).toBe('block');
    expect(waf.evaluate(request({ uriPath: '/prod/other', method: 'GET' })).action).toBe('allow');
  });
});

describe("AWS's managed rule groups", () => {
  it('are reported as not modelled and match nothing', () => {
    const waf = new WebAcl({
      DefaultAction: { Allow: {} },
      Rules: [
        {
          Name: 'AWSManagedRulesKnownBadInputs',
          Priority: 0,
          OverrideAction: { None: {} },
          Statement: {
            ManagedRuleGroupStatement: {
              VendorName: 'AWS',
              Name: 'AWSManagedRulesKnownBadInputsRuleSet',
            },
          },
        },
      ],
    });

    const verdict = waf.evaluate(request({ uriPath: `/prod/${'$'}{jndi:ldap://x}` }));

    expect(waf.unmodelled).toEqual([
      'AWSManagedRulesKnownBadInputs (AWS AWSManagedRulesKnownBadInputsRuleSet)',
    ]);
    expect(verdict.action).toBe('allow');
  });
});
