/**
 * The customer-records module's infrastructure (modules/customer-records/infra.ts), in a stack
 * serving it alone (whatever else a deployment lists): a table that survives mistakes
 * (point-in-time recovery, deletion protection, retained), encrypted, on demand; and the MCP
 * handler gets exactly the DynamoDB actions its record store sends, on this table only, while
 * no other role gets any.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Template } from 'aws-cdk-lib/assertions';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { customerRecordsInfra } from '../../../../modules/customer-records/infra';
import { customerRecords } from '../../../../modules/customer-records/module';
import { synthStack } from '../../../support/stack-fixture';
import { onlyId, type Resource, resourcesOf } from '../../../support/template-helpers';

interface Statement {
  readonly Effect?: string;
  readonly Action?: string | string[];
  readonly NotAction?: unknown;
  readonly Resource?: unknown;
  readonly NotResource?: unknown;
}
/** A policy statement and the roles it is attached to. */
interface RoleStatement {
  readonly roles: readonly string[];
  readonly statement: Statement;
}

const TABLE_TYPE = 'AWS::DynamoDB::GlobalTable';

/** The module alone, under a role granting all it declares and the role its rules name. */
const ALONE = {
  list: [customerRecords],
  infra: { [customerRecords.name]: customerRecordsInfra },
  roles: { admin: Object.keys(customerRecords.permissions), analyst: ['read_data'] },
};
const RECORDS_KEY = [{ AttributeName: 'id', KeyType: 'HASH' }];

/** The role of the Lambda function whose environment sets `variable`. */
function roleOfFunctionWith(template: Template, variable: string): string {
  const id = onlyId(template, 'AWS::Lambda::Function', {
    Environment: { Variables: Match.objectLike({ [variable]: Match.anyValue() }) },
  });
  const fn = resourcesOf(template, 'AWS::Lambda::Function')[id] as Resource;
  return (fn.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
}

const asList = (value: unknown): unknown[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/** Every statement of every IAM policy and role inline policy, with the roles it applies to. */
function roleStatements(template: Template): RoleStatement[] {
  const found: RoleStatement[] = [];
  for (const type of ['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy']) {
    for (const policy of Object.values(resourcesOf(template, type))) {
      const roles = asList(policy.Properties.Roles).map(
        (role) => (role as { Ref?: string }).Ref ?? JSON.stringify(role),
      );
      const document = policy.Properties.PolicyDocument as { Statement: Statement[] };
      for (const statement of document.Statement) found.push({ roles, statement });
    }
  }
  for (const [roleId, role] of Object.entries(resourcesOf(template, 'AWS::IAM::Role'))) {
    for (const policy of asList(role.Properties.Policies)) {
      const document = (policy as { PolicyDocument: { Statement: Statement[] } }).PolicyDocument;
      for (const statement of document.Statement) found.push({ roles: [roleId], statement });
    }
  }
  return found;
}

/** Whether a statement can grant some action of `service` (wildcards and NotAction count). */
function touches(statement: Statement, service: string): boolean {
  if (statement.NotAction !== undefined) return true;
  return (asList(statement.Action) as string[]).some((action) => {
    const prefix = action.split(':')[0] ?? action;
    const pattern = new RegExp(`^${prefix.split('*').join('.*')}$`, 'i');
    return pattern.test(service);
  });
}

/** The DynamoDB actions the record store's calls need, read from its source. */
function actionsTheRecordStoreSends(): string[] {
  const documentClientActions: Record<string, string> = {
    Get: 'GetItem',
    Put: 'PutItem',
    Delete: 'DeleteItem',
    Update: 'UpdateItem',
    Query: 'Query',
    Scan: 'Scan',
    BatchGet: 'BatchGetItem',
    BatchWrite: 'BatchWriteItem',
    TransactGet: 'TransactGetItems',
    TransactWrite: 'TransactWriteItems',
  };
  // The small AWS client's DynamoDbClient: one method per operation, `client.call` for others.
  const smallClientActions: Record<string, string> = {
    getItem: 'GetItem',
    putItem: 'PutItem',
    deleteItem: 'DeleteItem',
    updateItem: 'UpdateItem',
    query: 'Query',
    scan: 'Scan',
  };
  // The code that runs in the Lambda: the store (the module's local hook, which creates its
  // table in the embedded DynamoDB, never runs there).
  const root = fileURLToPath(
    new URL('../../../../modules/customer-records/store', import.meta.url),
  );
  const files = readdirSync(root, { recursive: true, encoding: 'utf8' }).filter((file) =>
    file.endsWith('.ts'),
  );
  const actions = new Set<string>();
  for (const file of files) {
    const source = readFileSync(join(root, file), 'utf8');
    if (source.includes('lambda/shared/aws/dynamodb')) {
      for (const [, method] of source.matchAll(/\.(\w+)\(\{\s*TableName/g)) {
        const action = smallClientActions[method as string];
        if (action === undefined) throw new Error(`${file}: unknown DynamoDbClient call ${method}`);
        actions.add(`dynamodb:${action}`);
      }
      for (const [, operation] of source.matchAll(/\.call\(\s*'(\w+)'/g)) {
        actions.add(`dynamodb:${operation}`);
      }
      continue;
    }
    const fromDocumentClient = source.includes('@aws-sdk/lib-dynamodb');
    if (!fromDocumentClient && !source.includes('@aws-sdk/client-dynamodb')) continue;
    for (const [, command] of source.matchAll(/new (\w+)Command\(/g)) {
      const name = command as string;
      actions.add(`dynamodb:${fromDocumentClient ? (documentClientActions[name] ?? name) : name}`);
    }
  }
  return [...actions].sort();
}

describe('RecordsTable', () => {
  const { template } = synthStack({}, { modules: ALONE });
  // The stack's other table is the authorizer's not-before list.
  const tableId = onlyId(template, TABLE_TYPE, { KeySchema: RECORDS_KEY });
  const mcpRole = roleOfFunctionWith(template, 'RECORDS_TABLE_NAME');
  const statements = roleStatements(template);

  it('bills on demand', () => {
    // Assess
    template.hasResourceProperties(TABLE_TYPE, {
      KeySchema: RECORDS_KEY,
      BillingMode: 'PAY_PER_REQUEST',
    });
  });

  it('keys records on the string attribute id', () => {
    // Assess
    template.hasResourceProperties(TABLE_TYPE, {
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
    });
  });

  it('turns on point-in-time recovery and deletion protection', () => {
    // Assess
    template.hasResourceProperties(TABLE_TYPE, {
      KeySchema: RECORDS_KEY,
      Replicas: [
        Match.objectLike({
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          DeletionProtectionEnabled: true,
        }),
      ],
    });
  });

  it('encrypts the table with a KMS key', () => {
    // Assess
    template.hasResourceProperties(TABLE_TYPE, {
      KeySchema: RECORDS_KEY,
      SSESpecification: Match.objectLike({ SSEEnabled: true, SSEType: 'KMS' }),
    });
  });

  it('keeps the table and its data when the stack is deleted', () => {
    // Assess
    template.hasResource(TABLE_TYPE, {
      Properties: Match.objectLike({ KeySchema: RECORDS_KEY }),
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  /**
   * The MCP function's DynamoDB statements on this table or on any table (`*`): the core's own
   * tables (spent request states, quota counters) are theirs.
   */
  const mcpDynamoStatements = () =>
    statements.filter(({ roles, statement }) => {
      const resource = JSON.stringify((statement as { Resource?: unknown }).Resource ?? '*');
      return (
        roles.includes(mcpRole) &&
        touches(statement, 'dynamodb') &&
        (resource.includes(`"${tableId}"`) || resource.includes('*'))
      );
    });

  it('gives the MCP function exactly GetItem, PutItem, DeleteItem and Scan, on the table alone', () => {
    // Act
    const dynamo = mcpDynamoStatements();

    // Assess
    expect(dynamo).toHaveLength(1);
    const [{ statement }] = dynamo as [RoleStatement];
    expect(statement.Effect).toBe('Allow');
    expect((asList(statement.Action) as string[]).sort()).toEqual([
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Scan',
    ]);
    expect(statement.Resource).toEqual({ 'Fn::GetAtt': [tableId, 'Arn'] });
  });

  it('grants exactly the actions the record store sends, no more and no fewer', () => {
    // Act
    const granted = mcpDynamoStatements()
      .flatMap(({ statement }) => asList(statement.Action) as string[])
      .sort();

    // Assess
    expect(actionsTheRecordStoreSends()).toEqual(granted);
  });

  it('gives no other role any DynamoDB action on the table, or on tables at large', () => {
    // Act: another table of the stack (the OAuth proxy's codes) is its own role's business
    const onThisTable = (statement: Statement) => {
      const resource = JSON.stringify((statement as { Resource?: unknown }).Resource ?? '*');
      return resource.includes(`"${tableId}"`) || resource.includes('*');
    };
    const others = statements.filter(
      ({ roles, statement }) =>
        touches(statement, 'dynamodb') &&
        onThisTable(statement) &&
        roles.some((role) => role !== mcpRole),
    );

    const managed = Object.values(resourcesOf(template, 'AWS::IAM::Role')).map(
      (role) => role.Properties.ManagedPolicyArns ?? [],
    );

    // Assess
    expect(statements.length).toBeGreaterThan(0);
    expect(others).toEqual([]);
    expect(JSON.stringify(managed)).not.toMatch(/dynamodb/i);
  });
});

describe('the module’s place in the stack', () => {
  it('keeps the table’s construct path, so its logical id survives the move to modules', () => {
    // A new logical id would mean a new, empty table on the next deploy.
    const { template } = synthStack({}, { modules: ALONE });
    const ids = Object.keys(resourcesOf(template, TABLE_TYPE, { KeySchema: RECORDS_KEY }));
    expect(ids).toHaveLength(1);
    expect(ids[0]).toMatch(/^RecordsTable[0-9A-F]{8}$/);
  });
});
