/**
 * The customer-records module's `seed` hook: the local emulator creates the records table from
 * the synthesized template and calls it with the environment the template gives the MCP
 * function, so the sample records land in the table `dependencies` will read.
 */
import { describe, expect, it } from 'vitest';
import { localStandIns } from '../../../../lambda/mcp/module-loader';
import {
  customerRecords,
  LOCAL_SEEDED_AT,
  TABLE_NAME_VARIABLE,
} from '../../../../modules/customer-records/module';
import { DynamoRecordStore } from '../../../../modules/customer-records/store/dynamodb-record-store';
import { sampleRecords } from '../../../../modules/customer-records/store/sample-records';
import { useDynaliteTables } from '../../../support/dynalite-tables';

/** The name the emulator gives the table: whatever the template says, here a made-up one. */
const TABLE = 'stack-recordstable-seed-test';

const local = useDynaliteTables({ [TABLE]: 'id' });

function seed(env: Record<string, string | undefined>): Promise<void> {
  if (customerRecords.seed === undefined) throw new Error('customer-records has no seed hook');
  return customerRecords.seed(env, localStandIns(local.endpoint));
}

describe('customer-records seed', () => {
  it('does nothing when the environment names no table (a function its infrastructure did not set up)', async () => {
    // Act & Assess: a write anywhere would fail, there being no other table
    await expect(seed({})).resolves.toBeUndefined();
  });

  it('puts every sample record into the table the environment names, dated as local mode dates them', async () => {
    // Act
    await seed({ [TABLE_NAME_VARIABLE]: TABLE });

    // Assess: read back the way the module's dependencies read
    const store = new DynamoRecordStore(TABLE, local.db);
    const samples = sampleRecords();
    const found = await Promise.all(samples.map(({ id }) => store.get(id)));
    expect(found.map((record) => record?.id)).toEqual(samples.map(({ id }) => id));
    expect(new Set(found.map((record) => record?.createdAt))).toEqual(
      new Set([LOCAL_SEEDED_AT.toISOString()]),
    );
  });
});
