/**
 * The template resolved in the local account as CloudFormation resolves it: the intrinsic
 * functions (Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select, Fn::Split, Fn::If and the
 * condition functions), the physical ids each resource type gets in AWS, and a refusal naming
 * the place for what cannot be resolved.
 */
import { describe, expect, it } from 'vitest';
import {
  type CfnTemplate,
  DEFAULT_ACCOUNT,
  TemplateResolver,
  UnsupportedTemplateError,
} from '../../../../../tools/local/emulator/template';

const account = { ...DEFAULT_ACCOUNT, stackName: 'Stack' };

function resolverOf(template: Partial<CfnTemplate>, fixedIds?: Record<string, string>) {
  return new TemplateResolver(
    { Resources: {}, ...template },
    fixedIds === undefined ? account : { ...account, fixedIds },
  );
}

const TYPES: CfnTemplate = {
  Resources: {
    Api: { Type: 'AWS::ApiGateway::RestApi', Properties: { Name: 'a' } },
    Fn: { Type: 'AWS::Lambda::Function', Properties: {} },
    NamedFn: { Type: 'AWS::Lambda::Function', Properties: { FunctionName: 'my-function' } },
    Table: { Type: 'AWS::DynamoDB::Table', Properties: {} },
    Secret: { Type: 'AWS::SecretsManager::Secret', Properties: { Name: 'api-keys' } },
    Key: { Type: 'AWS::KMS::Key', Properties: {} },
    Pool: { Type: 'AWS::Cognito::UserPool', Properties: {} },
    Client: { Type: 'AWS::Cognito::UserPoolClient', Properties: {} },
    Logs: { Type: 'AWS::Logs::LogGroup', Properties: {} },
    Role: { Type: 'AWS::IAM::Role', Properties: {} },
    Stage: { Type: 'AWS::ApiGateway::Stage', Properties: { StageName: 'prod' } },
    Acl: { Type: 'AWS::WAFv2::WebACL', Properties: { Name: 'acl' } },
  },
};

describe('intrinsic functions', () => {
  it('resolves the pseudo parameters to the local account', () => {
    const resolver = resolverOf({});

    const resolved = resolver.resolve({
      region: { Ref: 'AWS::Region' },
      account: { Ref: 'AWS::AccountId' },
      partition: { Ref: 'AWS::Partition' },
      suffix: { Ref: 'AWS::URLSuffix' },
      stack: { Ref: 'AWS::StackName' },
      stackId: { Ref: 'AWS::StackId' },
    });

    expect(resolved).toEqual({
      region: 'us-east-1',
      account: '123456789012',
      partition: 'aws',
      suffix: 'amazonaws.com',
      stack: 'Stack',
      stackId: expect.stringMatching(
        /^arn:aws:cloudformation:us-east-1:123456789012:stack\/Stack\/[0-9a-f-]{36}$/,
      ),
    });
  });

  it('drops a property or list item that is Ref AWS::NoValue', () => {
    const resolver = resolverOf({});

    const resolved = resolver.resolve({
      a: { Ref: 'AWS::NoValue' },
      b: ['x', { Ref: 'AWS::NoValue' }],
    });

    expect(resolved).toEqual({ b: ['x'] });
  });

  it('resolves Ref of a parameter to its default', () => {
    const resolver = resolverOf({ Parameters: { Env: { Type: 'String', Default: 'dev' } } });

    expect(resolver.resolve({ Ref: 'Env' })).toBe('dev');
  });

  it('resolves Fn::GetAtt in its list and its dotted form', () => {
    const resolver = resolverOf(TYPES);

    expect(resolver.resolve({ 'Fn::GetAtt': ['NamedFn', 'Arn'] })).toBe(
      'arn:aws:lambda:us-east-1:123456789012:function:my-function',
    );
    expect(resolver.resolve({ 'Fn::GetAtt': 'NamedFn.Arn' })).toBe(
      'arn:aws:lambda:us-east-1:123456789012:function:my-function',
    );
  });

  it('joins a list with its separator', () => {
    const resolver = resolverOf(TYPES);

    const joined = resolver.resolve({
      'Fn::Join': [
        '',
        [
          'https://',
          { Ref: 'Api' },
          '.execute-api.',
          { Ref: 'AWS::Region' },
          '.',
          { Ref: 'AWS::URLSuffix' },
        ],
      ],
    });

    expect(joined).toBe(`https://${resolver.ref('Api')}.execute-api.us-east-1.amazonaws.com`);
  });

  it('substitutes Fn::Sub variables: its own map, Ref, GetAtt, pseudo parameters, and a literal', () => {
    const resolver = resolverOf(TYPES);

    const text = resolver.resolve({
      'Fn::Sub': [
        // biome-ignore lint/suspicious/noTemplateCurlyInString: Fn::Sub's own syntax
        '${Greeting} ${NamedFn} ${NamedFn.Arn} ${AWS::Region} ${!Literal}',
        { Greeting: { 'Fn::Join': ['-', ['hello', 'world']] } },
      ],
    });

    expect(text).toBe(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: what Fn::Sub leaves of ${!Literal}
      'hello-world my-function arn:aws:lambda:us-east-1:123456789012:function:my-function us-east-1 ${Literal}',
    );
  });

  it('selects from a split, as CDK takes the partition and region out of a function ARN', () => {
    const resolver = resolverOf(TYPES);

    const partition = resolver.resolve({
      'Fn::Select': [1, { 'Fn::Split': [':', { 'Fn::GetAtt': ['NamedFn', 'Arn'] }] }],
    });
    const region = resolver.resolve({
      'Fn::Select': ['3', { 'Fn::Split': [':', { 'Fn::GetAtt': ['NamedFn', 'Arn'] }] }],
    });

    expect([partition, region]).toEqual(['aws', 'us-east-1']);
  });

  it('chooses the Fn::If branch its condition names, through Equals, And, Or, Not and Condition', () => {
    const resolver = resolverOf({
      Parameters: { Env: { Type: 'String', Default: 'prod' } },
      Conditions: {
        IsProd: { 'Fn::Equals': [{ Ref: 'Env' }, 'prod'] },
        IsDev: { 'Fn::Not': [{ Condition: 'IsProd' }] },
        Both: { 'Fn::And': [{ Condition: 'IsProd' }, { 'Fn::Equals': ['a', 'a'] }] },
        Either: { 'Fn::Or': [{ Condition: 'IsDev' }, { 'Fn::Equals': ['a', 'b'] }] },
      },
    });

    const resolved = resolver.resolve({
      prod: { 'Fn::If': ['IsProd', 'yes', 'no'] },
      dev: { 'Fn::If': ['IsDev', 'yes', 'no'] },
      both: { 'Fn::If': ['Both', 'yes', 'no'] },
      either: { 'Fn::If': ['Either', 'yes', { Ref: 'AWS::NoValue' }] },
    });

    expect(resolved).toEqual({ prod: 'yes', dev: 'no', both: 'yes' });
  });

  it('encodes Fn::Base64', () => {
    expect(resolverOf({}).resolve({ 'Fn::Base64': 'hi' })).toBe('aGk=');
  });

  it('leaves out a resource whose condition is false, as CloudFormation does not create it', () => {
    const resolver = resolverOf({
      Conditions: { Never: { 'Fn::Equals': ['a', 'b'] } },
      Resources: {
        Kept: { Type: 'AWS::SNS::Topic' },
        Skipped: { Type: 'AWS::SNS::Topic', Condition: 'Never' },
      },
    });

    expect(resolver.resourcesOfType('AWS::SNS::Topic').map(([id]) => id)).toEqual(['Kept']);
    expect(() => resolver.resolve({ Ref: 'Skipped' })).toThrow(/Skipped is not created/);
  });
});

describe('what cannot be resolved is refused, naming where', () => {
  it.each([
    [
      'Fn::ImportValue',
      { 'Fn::ImportValue': 'Other-Export' },
      /where: the emulator cannot resolve Fn::ImportValue/,
    ],
    ['a Ref to nothing', { Ref: 'Missing' }, /where: Ref Missing names nothing in the template/],
    ['an attribute it does not know', { 'Fn::GetAtt': ['Key', 'Nope'] }, /Fn::GetAtt Key\.Nope/],
    [
      'Fn::Select out of range',
      { 'Fn::Select': [5, ['a']] },
      /where: Fn::Select index 5 out of range/,
    ],
    ['a parameter without a default', { Ref: 'NoDefault' }, /where: Ref NoDefault is a parameter/],
    ['an SSM parameter', { Ref: 'Ssm' }, /where: Ref Ssm is a parameter .*SSM/],
    ['Fn::Join of a non-list', { 'Fn::Join': ['', 'x'] }, /where: Fn::Join of a non-list/],
    ['an unknown condition', { 'Fn::If': ['Nope', 'a', 'b'] }, /Unknown condition Nope/],
  ])('%s', (_name, value, message) => {
    const resolver = resolverOf({
      ...TYPES,
      Parameters: {
        NoDefault: { Type: 'String' },
        Ssm: { Type: 'AWS::SSM::Parameter::Value<String>', Default: '/x' },
      },
    });

    expect(() => resolver.resolve(value, 'where')).toThrow(UnsupportedTemplateError);
    expect(() => resolver.resolve(value, 'where')).toThrow(message);
  });

  it('a circular reference', () => {
    const resolver = resolverOf({
      Resources: {
        A: { Type: 'AWS::Lambda::Function', Properties: { FunctionName: { Ref: 'B' } } },
        B: { Type: 'AWS::Lambda::Function', Properties: { FunctionName: { Ref: 'A' } } },
      },
    });

    expect(() => resolver.ref('A')).toThrow(/circular reference/);
  });
});

describe('physical ids have the shapes AWS gives them', () => {
  const resolver = resolverOf(TYPES);

  it.each([
    [
      'a REST API id: ten lower-case letters and digits',
      () => resolver.ref('Api'),
      /^[a-z0-9]{10}$/,
    ],
    [
      'a generated function name: <stack>-<logical id>-<suffix>, at most 64',
      () => resolver.ref('Fn'),
      /^Stack-Fn-[A-Z0-9]{12}$/,
    ],
    [
      'a table ARN',
      () => resolver.getAtt('Table', 'Arn'),
      /^arn:aws:dynamodb:us-east-1:123456789012:table\/Stack-Table-[A-Z0-9]{12}$/,
    ],
    [
      'a secret ARN with its six-character suffix',
      () => resolver.ref('Secret'),
      /^arn:aws:secretsmanager:us-east-1:123456789012:secret:api-keys-[A-Za-z0-9]{6}$/,
    ],
    [
      'a KMS key id: a version-4 UUID',
      () => resolver.ref('Key'),
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    ],
    [
      'a user pool id: <region>_<nine characters>',
      () => resolver.ref('Pool'),
      /^us-east-1_[A-Za-z0-9]{9}$/,
    ],
    [
      'an app client id: 26 lower-case letters and digits',
      () => resolver.ref('Client'),
      /^[a-z0-9]{26}$/,
    ],
    [
      'a log group ARN ending in :*',
      () => resolver.getAtt('Logs', 'Arn'),
      /^arn:aws:logs:us-east-1:123456789012:log-group:Stack-Logs-[A-Z0-9]{12}:\*$/,
    ],
    [
      'a role ARN',
      () => resolver.getAtt('Role', 'Arn'),
      /^arn:aws:iam::123456789012:role\/Stack-Role-[A-Z0-9]{12}$/,
    ],
    ['a stage: its name', () => resolver.ref('Stage'), /^prod$/],
    ['a web ACL: name|id|scope', () => resolver.ref('Acl'), /^acl\|[0-9a-f-]{36}\|REGIONAL$/],
  ])('%s', (_name, value, shape) => {
    expect(value()).toMatch(shape);
  });

  it('the same on every start, different for another logical id', () => {
    const again = resolverOf(TYPES);

    expect(again.ref('Api')).toBe(resolver.ref('Api'));
    expect(again.ref('Key')).toBe(resolver.ref('Key'));
    expect(resolver.ref('Fn')).not.toBe(resolver.ref('NamedFn'));
  });

  it('a generated function name is cut to the 64 characters Lambda allows, its suffix kept', () => {
    const long = resolverOf({
      Resources: { [`F${'x'.repeat(80)}`]: { Type: 'AWS::Lambda::Function', Properties: {} } },
    });

    const name = long.ref(`F${'x'.repeat(80)}`);

    expect(name).toHaveLength(64);
    expect(name).toMatch(/-[A-Z0-9]{12}$/);
  });

  it('an id fixed in advance wins', () => {
    const fixed = resolverOf(TYPES, { Pool: 'us-east-1_LocalPool' });

    expect(fixed.ref('Pool')).toBe('us-east-1_LocalPool');
    expect(fixed.getAtt('Pool', 'ProviderURL')).toBe(
      'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_LocalPool',
    );
  });
});
