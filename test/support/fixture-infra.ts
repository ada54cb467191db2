/**
 * The fixture deployment's AWS access (`fixture-deployment.ts`): one table the MCP function may
 * read, named to it in `FIXTURE_TABLE_NAME`, and the whole deployment as the stack takes it.
 */
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type { ModuleInfra } from '../../lib/module-infra';
import type { SecureMcpStackProps } from '../../lib/secure-mcp-stack';
import {
  FIXTURE_QUOTAS,
  FIXTURE_ROLES,
  FIXTURE_TABLE_VARIABLE,
  fixtureModule,
} from './fixture-deployment';

export const fixtureInfra: ModuleInfra = ({ scope, mcpFunction }) => {
  const table = new dynamodb.TableV2(scope, 'FixtureRecords', {
    partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
  });
  table.grant(mcpFunction, 'dynamodb:GetItem');
  return { [FIXTURE_TABLE_VARIABLE]: table.tableName };
};

/** The fixture deployment as `SecureMcpStack` takes it: what `synthStack` builds by default. */
export const FIXTURE_STACK_MODULES: NonNullable<SecureMcpStackProps['modules']> = {
  list: [fixtureModule],
  infra: { [fixtureModule.name]: fixtureInfra },
  roles: FIXTURE_ROLES,
  quotas: FIXTURE_QUOTAS,
};
