/**
 * The customer-records module's AWS access: its DynamoDB table, and exactly the four actions
 * its store calls, granted to the MCP function.
 */
import type { ModuleInfra } from '#module-infra';
import { TABLE_NAME_VARIABLE } from './module';
import { RecordsTable } from './records-table';

export const customerRecordsInfra: ModuleInfra = ({ scope, mcpFunction }) => {
  // Id 'Records' in the stack, as before modules existed: the table's logical id is a
  // contract (a new id would mean a new, empty table on the next deploy).
  const records = new RecordsTable(scope, 'Records');
  records.grantRecordStore(mcpFunction);
  return { [TABLE_NAME_VARIABLE]: records.table.tableName };
};
