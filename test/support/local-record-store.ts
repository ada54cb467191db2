/**
 * The customer-records store on an embedded DynamoDB, created and seeded by the module's own
 * `local` hook, for one test file: started before its tests, stopped after them.
 */
import { afterAll, beforeAll } from 'vitest';
import { localStandIns } from '../../lambda/mcp/module-loader';
import { customerRecords } from '../../modules/customer-records/module';
import type { RecordStore } from '../../modules/customer-records/store/customer-record';
import type { CustomerRecordsDeps } from '../../modules/customer-records/tools';
import { type LocalDynamo, startLocalDynamo } from '../../tools/local/dynamo';

export function useLocalRecordStore(): { readonly store: RecordStore } {
  const fixture = {} as { store: RecordStore; dynamo: LocalDynamo };
  beforeAll(async () => {
    fixture.dynamo = await startLocalDynamo();
    const local = customerRecords.local;
    if (local === undefined) throw new Error('customer-records has no local hook');
    ({ store: fixture.store } = (await local(
      localStandIns(fixture.dynamo.endpoint),
    )) as CustomerRecordsDeps);
  });
  afterAll(async () => {
    await fixture.dynamo?.stop();
  });
  return fixture;
}
