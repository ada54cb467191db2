/**
 * The example module: customer records in DynamoDB, with tools to read, query, write, delete
 * and report on them, the record schema and per-segment summaries as resources, and two prompts.
 * Its AWS access (the table and the IAM grant) is in `infra.ts`; local mode runs it against the
 * embedded DynamoDB (`local`). Remove it from `modules/index.ts` and the server is empty.
 */
import { DynamoDbClient } from '../../lambda/shared/aws/dynamodb';
import { customerSummaryPrompt, segmentReviewPrompt } from './prompts';
import { recordSchemaResource, segmentSummaryTemplate } from './resources';
import { customerRecordsRules } from './rules';
import { DynamoRecordStore } from './store/dynamodb-record-store';
import { sampleRecords } from './store/sample-records';
import { define, deleteRecord, getRecord, putRecord, queryCustomerData, runReport } from './tools';

/** The variable `infra.ts` sets to the table's name. */
export const TABLE_NAME_VARIABLE = 'RECORDS_TABLE_NAME';
/** The table local mode creates in the embedded DynamoDB. */
export const LOCAL_TABLE_NAME = 'mcp-records-local';
/** When local mode's seeded records were "created". */
export const LOCAL_SEEDED_AT = new Date('2026-01-01T00:00:00.000Z');

export const customerRecords = define.module({
  name: 'customer-records',
  permissions: {
    read_data: 'Read customer records and their schema',
    write_data: 'Create and replace customer records',
    delete_data: 'Delete customer records',
    run_reports: 'Aggregate customer records into reports and segment summaries',
  },
  instructions:
    'Customer-record tools, resources and prompts. What is listed is exactly what your roles permit; every call is audited.',
  tools: [getRecord, queryCustomerData, putRecord, deleteRecord, runReport],
  resources: [recordSchemaResource],
  resourceTemplates: [segmentSummaryTemplate],
  prompts: [customerSummaryPrompt, segmentReviewPrompt],
  rules: customerRecordsRules,
  dependencies(env) {
    const table = env[TABLE_NAME_VARIABLE];
    if (table === undefined || table.length < 3) {
      throw new Error(`customer-records: ${TABLE_NAME_VARIABLE} must name the records table`);
    }
    return { store: new DynamoRecordStore(table) };
  },
  async seed(env, { dynamodb }) {
    const table = env[TABLE_NAME_VARIABLE];
    if (table === undefined) return;
    const db = new DynamoDbClient(dynamodb);
    const store = new DynamoRecordStore(table, db);
    for (const { id, fields } of sampleRecords()) await store.put(id, fields, LOCAL_SEEDED_AT);
  },
  async local({ dynamodb }) {
    const db = new DynamoDbClient(dynamodb);
    await db.client.call('CreateTable', {
      TableName: LOCAL_TABLE_NAME,
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    });
    await db.waitForTable(LOCAL_TABLE_NAME);
    const store = new DynamoRecordStore(LOCAL_TABLE_NAME, db);
    for (const { id, fields } of sampleRecords()) await store.put(id, fields, LOCAL_SEEDED_AT);
    return { store };
  },
});
