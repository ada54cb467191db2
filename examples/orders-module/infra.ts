import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type { ModuleInfra } from '#module-infra';

export const ordersInfra: ModuleInfra = ({ scope, mcpFunction }) => {
  const table = new dynamodb.TableV2(scope, 'OrdersTable', {
    partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
  });
  table.grant(mcpFunction, 'dynamodb:GetItem'); // exactly what the tool calls
  return { ORDERS_TABLE_NAME: table.tableName }; // the variables its code reads
};
