/** The orders module's AWS access: its table, and read access to it for the MCP function. */
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type { ModuleInfra } from '#module-infra';

export const ordersInfra: ModuleInfra = ({ scope, mcpFunction }) => {
  const table = new dynamodb.TableV2(scope, 'OrdersTable', {
    partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
  });
  // Exactly what the tool calls, nothing more.
  table.grant(mcpFunction, 'dynamodb:GetItem');
  return { ORDERS_TABLE_NAME: table.tableName };
};
