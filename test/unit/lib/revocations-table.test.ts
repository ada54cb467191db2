/**
 * The RevocationsTable construct in the stack: the not-before table (key and TTL attribute from
 * the shared vocabulary, on demand, recoverable, encrypted, kept), read by the authorizer with
 * Scan only, written only through the operator policy, which also carries the Cognito admin
 * actions `npm run users` calls.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { authorizerEnvSchema } from '../../../lambda/shared/env';
import {
  ACCESS_TOKEN_LIFETIME_SECONDS,
  REVOCATION_ATTRIBUTES,
  REVOCATION_RETENTION_SECONDS,
} from '../../../lambda/shared/revocations';
import { USER_ADMIN_ACTIONS } from '../../../lib/revocations-table';
import { synthStack } from '../../support/stack-fixture';
import { onlyId, type Resource, resourcesOf } from '../../support/template-helpers';

const { template } = synthStack();

const tableId = onlyId(template, 'AWS::DynamoDB::GlobalTable', {
  KeySchema: [{ AttributeName: REVOCATION_ATTRIBUTES.principal, KeyType: 'HASH' }],
});

interface Statement {
  readonly Action: string | string[];
  readonly Resource: unknown;
}

/** Every inline and managed policy statement naming the table, with who holds it. */
function statementsOnTable() {
  const found: { holder: string; roles: unknown; actions: string[] }[] = [];
  for (const type of ['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy']) {
    for (const [id, resource] of Object.entries(resourcesOf(template, type))) {
      const document = (resource as Resource).Properties.PolicyDocument as {
        Statement: Statement[];
      };
      for (const statement of document.Statement) {
        if (JSON.stringify(statement.Resource).includes(`"${tableId}"`)) {
          found.push({
            holder: id,
            roles: (resource as Resource).Properties.Roles,
            actions: [statement.Action].flat(),
          });
        }
      }
    }
  }
  return found;
}

/** The function of a Powertools service, and its role. */
function functionOf(service: string) {
  const id = onlyId(template, 'AWS::Lambda::Function', {
    Environment: { Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: service }) },
  });
  const fn = resourcesOf(template, 'AWS::Lambda::Function')[id] as Resource;
  return {
    fn,
    role: (fn.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0],
  };
}
const { fn: authorizer, role: authorizerRole } = functionOf('mcp-authorizer');
const { role: proxyRole } = functionOf('mcp-oauth-proxy');

describe('the not-before table', () => {
  it('expires entries by TTL on the attribute the CLI writes, on demand, with PITR and encryption', () => {
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      KeySchema: [{ AttributeName: REVOCATION_ATTRIBUTES.principal, KeyType: 'HASH' }],
      TimeToLiveSpecification: {
        AttributeName: REVOCATION_ATTRIBUTES.expiresAt,
        Enabled: true,
      },
      BillingMode: 'PAY_PER_REQUEST',
      SSESpecification: { SSEEnabled: true },
      Replicas: [
        Match.objectLike({
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          DeletionProtectionEnabled: true,
        }),
      ],
    });
  });

  it('keeps entries longer than the app client’s access tokens live, so none outlives its entry', () => {
    const client = Object.values(resourcesOf(template, 'AWS::Cognito::UserPoolClient'))[0];
    const { AccessTokenValidity, TokenValidityUnits } = (client as Resource).Properties as {
      AccessTokenValidity: number;
      TokenValidityUnits: { AccessToken: string };
    };
    const seconds = { seconds: 1, minutes: 60, hours: 3600, days: 86_400 }[
      TokenValidityUnits.AccessToken as 'minutes'
    ];
    expect(AccessTokenValidity * seconds).toBeLessThanOrEqual(ACCESS_TOKEN_LIFETIME_SECONDS);
    expect(REVOCATION_RETENTION_SECONDS).toBeGreaterThan(ACCESS_TOKEN_LIFETIME_SECONDS);
  });

  it('is kept when the stack goes: losing it would deny every caller', () => {
    expect(template.toJSON().Resources[tableId]).toMatchObject({
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  it('names the table in the authorizer’s environment, the variable its schema parses', () => {
    expect(Object.keys(authorizerEnvSchema.shape)).toContain('REVOCATIONS_TABLE_NAME');
    expect(authorizer.Properties.Environment).toEqual({
      Variables: expect.objectContaining({ REVOCATIONS_TABLE_NAME: { Ref: tableId } }),
    });
  });
});

describe('who may use the table', () => {
  it('lets the authorizer and the OAuth proxy Scan it and nothing else; the operator policy UpdateItem; no one more', () => {
    const grants = statementsOnTable();
    const by = (role: string) => grants.filter((g) => JSON.stringify(g.roles ?? []).includes(role));
    const operator = grants.filter((g) => g.holder.includes('OperatorPolicy'));
    expect(by(authorizerRole).flatMap((g) => g.actions)).toEqual(['dynamodb:Scan']);
    expect(by(proxyRole).flatMap((g) => g.actions)).toEqual(['dynamodb:Scan']);
    expect(operator.flatMap((g) => g.actions)).toEqual(['dynamodb:UpdateItem']);
    expect(grants).toHaveLength(by(authorizerRole).length + by(proxyRole).length + operator.length);
  });

  it('gives the operator policy exactly the Cognito admin calls of npm run users, on the pool only', () => {
    const poolId = onlyId(template, 'AWS::Cognito::UserPool');
    template.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: [...USER_ADMIN_ACTIONS],
            Resource: { 'Fn::GetAtt': [poolId, 'Arn'] },
          }),
        ]),
      },
    });
  });

  it('outputs the table name and the operator policy for the CLIs', () => {
    template.hasOutput('RevocationsTableName', { Value: { Ref: tableId } });
    template.hasOutput('RevocationOperatorPolicyArn', { Value: Match.anyValue() });
  });
});
