/**
 * The ApiKeysSecret construct and every IAM grant around it: a secret encrypted with a rotated
 * customer-managed key and holding no key material in the template, rotated on the configured
 * schedule by its own function; read by the authorizer only, written by the rotation function
 * only; and no wildcard resource anywhere in the stack's IAM but X-Ray's.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CfnElement, Stack } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import { Capture, Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ApiKeysSecret } from '../../../lib/api-keys-secret';
import { synthStack } from '../../support/stack-fixture';
import { onlyId, type Resource, resourcesOf } from '../../support/template-helpers';

interface Statement {
  readonly Effect?: string;
  readonly Action?: string | string[];
  readonly NotAction?: unknown;
  readonly Resource?: unknown;
  readonly NotResource?: unknown;
  readonly Principal?: unknown;
  readonly Condition?: Record<string, Record<string, unknown>>;
}
/** A policy statement, the roles it is attached to and where it was found. */
interface RoleStatement {
  readonly roles: readonly string[];
  readonly statement: Statement;
  readonly source: string;
}

/** The only actions AWS offers no resource-level permission for, among those the stack uses. */
const XRAY_ACTIONS = ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'];

function roleOf(template: Template, functionId: string): string {
  const fn = resourcesOf(template, 'AWS::Lambda::Function')[functionId] as Resource;
  return (fn.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
}

/** The role of the Lambda function whose environment sets `variable`. */
function roleOfFunctionWith(template: Template, variable: string): string {
  return roleOf(
    template,
    onlyId(template, 'AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ [variable]: Match.anyValue() }) },
    }),
  );
}

const logicalId = (stack: Stack, element: unknown) => stack.getLogicalId(element as CfnElement);

const asList = (value: unknown): unknown[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

const actionsOf = (statement: Statement) => asList(statement.Action) as string[];

/** Every statement of every IAM policy and role inline policy, with the roles it applies to. */
function roleStatements(template: Template): RoleStatement[] {
  const found: RoleStatement[] = [];
  for (const type of ['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy']) {
    for (const [id, policy] of Object.entries(resourcesOf(template, type))) {
      const roles = asList(policy.Properties.Roles).map(
        (role) => (role as { Ref?: string }).Ref ?? JSON.stringify(role),
      );
      const document = policy.Properties.PolicyDocument as { Statement: Statement[] };
      for (const statement of document.Statement) found.push({ roles, statement, source: id });
    }
  }
  for (const [roleId, role] of Object.entries(resourcesOf(template, 'AWS::IAM::Role'))) {
    for (const policy of asList(role.Properties.Policies)) {
      const { PolicyDocument, PolicyName } = policy as {
        PolicyDocument: { Statement: Statement[] };
        PolicyName: string;
      };
      for (const statement of PolicyDocument.Statement) {
        found.push({ roles: [roleId], statement, source: `${roleId}/${PolicyName}` });
      }
    }
  }
  return found;
}

/** Whether a statement can grant some action of `service` (wildcards and NotAction count). */
function touches(statement: Statement, service: string): boolean {
  if (statement.NotAction !== undefined) return true;
  return actionsOf(statement).some((action) => {
    const prefix = action.split(':')[0] ?? action;
    return new RegExp(`^${prefix.split('*').join('.*')}$`, 'i').test(service);
  });
}

/** The Secrets Manager actions the rotation function's SDK commands need, read from its source. */
function actionsTheRotationSends(): string[] {
  const root = fileURLToPath(new URL('../../../lambda/rotation', import.meta.url));
  const actions = new Set<string>();
  for (const file of readdirSync(root, { recursive: true, encoding: 'utf8' })) {
    if (!file.endsWith('.ts')) continue;
    const source = readFileSync(join(root, file), 'utf8');
    if (!source.includes('@aws-sdk/client-secrets-manager')) continue;
    for (const [, command] of source.matchAll(/new (\w+)Command\(/g)) {
      actions.add(`secretsmanager:${command}`);
    }
  }
  return [...actions].sort();
}

describe('ApiKeysSecret', () => {
  const { stack, template } = synthStack();
  const apiKeys = stack.node.findAll().find((c): c is ApiKeysSecret => c instanceof ApiKeysSecret);
  if (apiKeys === undefined) throw new Error('The stack has no ApiKeysSecret');
  const secretId = logicalId(stack, apiKeys.secret.node.defaultChild);
  const keyId = logicalId(stack, apiKeys.key.node.defaultChild);
  const rotationFunctionId = logicalId(stack, apiKeys.rotation.function.node.defaultChild);
  const rotationRole = roleOf(template, rotationFunctionId);
  const authorizerRole = roleOfFunctionWith(template, 'API_KEYS_SECRET_ID');
  const mcpRole = roleOfFunctionWith(template, 'STREAM_FLUSH_BYTES');
  const statements = roleStatements(template);
  const secretArn = { Ref: secretId };
  const grantedTo = (role: string, service: string) =>
    statements.filter((s) => s.roles.includes(role) && touches(s.statement, service));

  describe('the secret', () => {
    it('is encrypted with a customer-managed KMS key that rotates', () => {
      // Prepare
      const encryptionKey = new Capture();

      // Act
      template.hasResourceProperties('AWS::SecretsManager::Secret', { KmsKeyId: encryptionKey });

      // Assess
      expect(encryptionKey.asObject()).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
      template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
      expect(resourcesOf(template, 'AWS::KMS::Key', { EnableKeyRotation: true })).toHaveProperty(
        keyId,
      );
    });

    it('holds no key material in the template: only the empty key document', () => {
      // Act
      const secret = resourcesOf(template, 'AWS::SecretsManager::Secret')[secretId] as Resource;

      // Assess
      expect(secret.Properties.SecretString).toBe('{"version":1,"keys":{}}');
      expect(secret.Properties.GenerateSecretString).toBeUndefined();
    });

    it('keeps the secret and its key when the stack is deleted', () => {
      // Act
      const resources = template.toJSON().Resources;

      // Assess
      const retained = { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' };
      expect(resources[secretId]).toMatchObject(retained);
      expect(resources[keyId]).toMatchObject(retained);
    });
  });

  describe('rotation', () => {
    it('rotates the secret with the rotation function every 30 days by default', () => {
      // Assess
      template.hasResourceProperties('AWS::SecretsManager::RotationSchedule', {
        SecretId: secretArn,
        RotationLambdaARN: { 'Fn::GetAtt': [rotationFunctionId, 'Arn'] },
        RotationRules: Match.objectLike({ ScheduleExpression: 'rate(30 days)' }),
        HostedRotationLambda: Match.absent(),
      });
    });

    it('rotates every 7 days with -c keyRotationDays=7', () => {
      // Act
      const { template: weekly } = synthStack({ keyRotationDays: '7' });

      // Assess
      weekly.hasResourceProperties('AWS::SecretsManager::RotationSchedule', {
        RotationRules: Match.objectLike({ ScheduleExpression: 'rate(7 days)' }),
      });
    });

    it('lets Secrets Manager of this account invoke the rotation function for this secret only', () => {
      // Act
      const permissions = Object.values(
        resourcesOf(template, 'AWS::Lambda::Permission', {
          FunctionName: Match.objectLike({ 'Fn::GetAtt': [rotationFunctionId, 'Arn'] }),
        }),
      ).map((permission) => permission.Properties);

      // Assess
      expect(permissions).toEqual([
        expect.objectContaining({
          Action: 'lambda:InvokeFunction',
          Principal: 'secretsmanager.amazonaws.com',
          SourceAccount: stack.account,
          SourceArn: { Ref: secretId },
        }),
      ]);
    });
  });

  describe('who may use the secret', () => {
    it('lets the authorizer only read the secret: GetSecretValue and DescribeSecret on its ARN', () => {
      // Act
      const granted = grantedTo(authorizerRole, 'secretsmanager');

      // Assess
      expect(granted.length).toBeGreaterThan(0);
      expect(granted.flatMap(({ statement }) => actionsOf(statement)).sort()).toEqual([
        'secretsmanager:DescribeSecret',
        'secretsmanager:GetSecretValue',
      ]);
      for (const { statement } of granted) expect(statement.Resource).toEqual(secretArn);
    });

    it('lets the authorizer decrypt with the key only through Secrets Manager', () => {
      // Act
      const key = resourcesOf(template, 'AWS::KMS::Key')[keyId] as Resource;
      const forAuthorizer = (
        key.Properties.KeyPolicy as { Statement: Statement[] }
      ).Statement.filter((statement) =>
        JSON.stringify(statement.Principal).includes(`"${authorizerRole}"`),
      );

      // Assess
      expect(forAuthorizer).toEqual([
        expect.objectContaining({
          Effect: 'Allow',
          Action: 'kms:Decrypt',
          Condition: {
            StringEquals: { 'kms:ViaService': `secretsmanager.${stack.region}.amazonaws.com` },
          },
        }),
      ]);
      expect(grantedTo(authorizerRole, 'kms')).toEqual([]);
    });

    it('lets the rotation function describe, read, write and relabel exactly this secret', () => {
      // Act
      const granted = grantedTo(rotationRole, 'secretsmanager');

      // Assess
      expect(granted.flatMap(({ statement }) => actionsOf(statement)).sort()).toEqual([
        'secretsmanager:DescribeSecret',
        'secretsmanager:GetSecretValue',
        'secretsmanager:PutSecretValue',
        'secretsmanager:UpdateSecretVersionStage',
      ]);
      for (const { statement } of granted) expect(statement.Resource).toEqual(secretArn);
    });

    it('grants the rotation function exactly the Secrets Manager calls its code makes', () => {
      // Act
      const granted = grantedTo(rotationRole, 'secretsmanager')
        .flatMap(({ statement }) => actionsOf(statement))
        .sort();

      // Assess
      expect(actionsTheRotationSends()).toEqual(granted);
    });

    it('lets the rotation function use the key only through Secrets Manager, to decrypt and encrypt', () => {
      // Act
      const granted = grantedTo(rotationRole, 'kms');

      // Assess
      expect(granted.map(({ statement }) => statement)).toEqual([
        expect.objectContaining({
          Effect: 'Allow',
          Action: expect.arrayContaining(['kms:Decrypt', 'kms:GenerateDataKey']),
          Resource: { 'Fn::GetAtt': [keyId, 'Arn'] },
          Condition: {
            StringEquals: { 'kms:ViaService': `secretsmanager.${stack.region}.amazonaws.com` },
          },
        }),
      ]);
      expect(actionsOf(granted[0]?.statement ?? {}).sort()).toEqual([
        'kms:Decrypt',
        'kms:GenerateDataKey',
      ]);
    });

    it('gives the MCP function no Secrets Manager action, nothing on the key, and no place in its key policy', () => {
      // Act
      const secrets = grantedTo(mcpRole, 'secretsmanager');
      const kms = grantedTo(mcpRole, 'kms');
      const keyStatements = Object.entries(resourcesOf(template, 'AWS::KMS::Key')).flatMap(
        ([id, key]) =>
          (
            key.Properties.KeyPolicy as { Statement: { Principal?: unknown; Action: unknown }[] }
          ).Statement.filter((statement) =>
            JSON.stringify(statement.Principal ?? {}).includes(`"${mcpRole}"`),
          ).map((statement) => ({ key: id, action: statement.Action })),
      );

      // Assess: its one KMS action is GenerateMac on the request-state key (an HMAC key); its
      // one place in a key policy is Encrypt on the OAuth proxy's key, for approval tickets
      // (test/unit/lib/oauth-proxy.test.ts), never on this secret's key
      expect(grantedTo(mcpRole, 'xray').length).toBeGreaterThan(0);
      expect(secrets).toEqual([]);
      expect(kms.map(({ statement }) => statement.Action)).toEqual(['kms:GenerateMac']);
      expect(JSON.stringify(kms)).not.toContain(`"${keyId}"`);
      expect(keyStatements).toEqual([
        { key: expect.not.stringMatching(keyId), action: 'kms:Encrypt' },
      ]);
    });

    it('lets no role but the authorizer and the rotation function touch Secrets Manager', () => {
      // Act
      const roles = new Set(
        statements
          .filter(({ statement }) => touches(statement, 'secretsmanager'))
          .flatMap(({ roles }) => roles),
      );

      // Assess
      expect([...roles].sort()).toEqual([authorizerRole, rotationRole].sort());
    });
  });

  describe("the secret's resource policy", () => {
    const OPERATOR = 'arn:aws:iam::123456789012:role/mcp-key-operators';

    /** The statements of the secret's one resource policy in a template. */
    function resourcePolicy(from: Template): Statement[] {
      const policies = Object.values(
        resourcesOf(from, 'AWS::SecretsManager::ResourcePolicy', { SecretId: secretArn }),
      );
      expect(policies).toHaveLength(1);
      const [policy] = policies;
      expect(policy?.Properties.BlockPublicPolicy).toBe(true);
      const document = policy?.Properties.ResourcePolicy as { Statement?: Statement[] } | undefined;
      return document?.Statement ?? [];
    }

    /** The role ARN a statement's principal names, as `<RoleId.Arn>` for a role of the stack. */
    const principalOf = (statement: Statement) => {
      const aws = (statement.Principal as { AWS?: unknown } | undefined)?.AWS;
      const getAtt = (aws as { 'Fn::GetAtt'?: string[] } | undefined)?.['Fn::GetAtt'];
      return getAtt === undefined ? aws : `<${getAtt.join('.')}>`;
    };
    const readersAllowed = (policy: Statement[]) =>
      policy
        .filter(
          (s) => s.Effect === 'Allow' && actionsOf(s).includes('secretsmanager:GetSecretValue'),
        )
        .map(principalOf)
        .sort();

    it('allows GetSecretValue to the authorizer and the rotation function by name', () => {
      // Act
      const policy = resourcePolicy(template);

      // Assess
      expect(readersAllowed(policy)).toEqual(
        [`<${authorizerRole}.Arn>`, `<${rotationRole}.Arn>`].sort(),
      );
      for (const statement of policy)
        expect(actionsOf(statement)).toEqual(['secretsmanager:GetSecretValue']);
    });

    /** The principals the one Deny statement exempts, roles of the stack as `<RoleId.Arn>`. */
    function exemptFromDeny(policy: Statement[]): unknown[] {
      const denies = policy.filter((s) => s.Effect === 'Deny');
      expect(denies).toHaveLength(1);
      expect(denies[0]).toMatchObject({ Principal: { AWS: '*' }, Resource: '*' });
      expect(Object.keys(denies[0]?.Condition ?? {})).toEqual(['ArnNotEquals']);
      const exempt = denies[0]?.Condition?.ArnNotEquals?.['aws:PrincipalArn'] as unknown[];
      return exempt
        .map((arn) =>
          typeof arn === 'string'
            ? arn
            : `<${(arn as { 'Fn::GetAtt': string[] })['Fn::GetAtt'].join('.')}>`,
        )
        .sort();
    }

    it('denies GetSecretValue by default to every principal but the authorizer and the rotation function', () => {
      // Act
      const policy = resourcePolicy(template);

      // Assess: administrators, the root user and the deploy role included
      expect(exemptFromDeny(policy)).toEqual(
        [`<${authorizerRole}.Arn>`, `<${rotationRole}.Arn>`].sort(),
      );
      for (const statement of policy.filter((s) => s.Effect === 'Deny')) {
        expect(actionsOf(statement)).toEqual(['secretsmanager:GetSecretValue']);
      }
    });

    describe('with -c operatorRoleArn', () => {
      const { template: guarded } = synthStack({ operatorRoleArn: OPERATOR });
      const policy = resourcePolicy(guarded);
      const authorizer = roleOfFunctionWith(guarded, 'API_KEYS_SECRET_ID');
      const rotation = roleOf(
        guarded,
        onlyId(guarded, 'AWS::Lambda::Function', {
          Environment: {
            Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: 'mcp-key-rotation' }),
          },
        }),
      );
      const expected = [`<${authorizer}.Arn>`, `<${rotation}.Arn>`, OPERATOR].sort();

      it('allows the operator role to read the keys too', () => {
        // Assess
        expect(readersAllowed(policy)).toEqual(expected);
      });

      it('denies GetSecretValue to every principal but those three: root, admins and the deploy role too', () => {
        // Assess
        expect(exemptFromDeny(policy)).toEqual(expected);
      });

      it('denies nothing but GetSecretValue, so an administrator can still change or remove the policy', () => {
        // Assess
        for (const statement of policy.filter((s) => s.Effect === 'Deny')) {
          expect(actionsOf(statement)).toEqual(['secretsmanager:GetSecretValue']);
        }
      });
    });

    it('refuses an operator ARN that is not a role', () => {
      // Act & Assess
      expect(() => synthStack({ operatorRoleArn: 'arn:aws:iam::123456789012:user/bob' })).toThrow(
        /-c operatorRoleArn=.*must be an IAM role ARN/,
      );
    });
  });

  describe.each([
    { variant: 'the default stack', overrides: {} },
    {
      variant: 'a stack with CORS, an alarm e-mail and no WAF',
      overrides: {
        allowedOrigins: 'https://app.example.com',
        alarmEmail: 'ops@example.com',
        enableWaf: 'false',
      },
    },
  ])('IAM of $variant', ({ overrides }) => {
    const { template: variant } = synthStack(overrides);
    const all = roleStatements(variant);

    it('has no statement on Resource "*" except the X-Ray actions', () => {
      // Act
      const wildcard = all.filter(
        ({ statement }) =>
          statement.NotResource !== undefined ||
          asList(statement.Resource).some((resource) => resource === '*'),
      );
      const beyondXray = wildcard.filter(
        ({ statement }) =>
          statement.NotAction !== undefined ||
          actionsOf(statement).some((action) => !XRAY_ACTIONS.includes(action)),
      );

      // Assess
      expect(all.length).toBeGreaterThan(wildcard.length);
      expect(wildcard.length).toBeGreaterThan(0);
      expect(beyondXray.map(({ source, statement }) => ({ source, statement }))).toEqual([]);
    });

    it('has no wildcard in any literal resource ARN', () => {
      // Act
      const partial = all.filter(({ statement }) =>
        asList(statement.Resource).some(
          (resource) => typeof resource === 'string' && resource !== '*' && resource.includes('*'),
        ),
      );

      // Assess
      expect(partial.map(({ source, statement }) => ({ source, statement }))).toEqual([]);
    });
  });
});
