/**
 * How `conformance/authorization.ts` judges a run of the suite's authorization-server
 * scenarios (the suite itself runs in `npm run conformance`, not here).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { judge, readChecks } from '../../../conformance/authorization';

describe('judging an authorization run', () => {
  it('passes a run whose checks all succeeded, warnings reported', () => {
    const result = judge('dcr', [
      { id: 'authorization-server-metadata', status: 'SUCCESS' },
      { id: 'authorization-server-metadata-cimd', status: 'WARNING' },
    ]);
    expect(result).toMatchObject({ passed: 1, failed: 0, warnings: 1 });
  });

  it('fails a skipped grant: the code grant must run, not be left out', () => {
    const result = judge('dcr', [
      { id: 'authorization-server-metadata', status: 'SUCCESS' },
      { id: 'authorization-code-grant', status: 'SKIPPED', errorMessage: 'requires --client-id' },
    ]);
    expect(result.failed).toBe(1);
  });

  it('fails a run that left no checks at all', () => {
    expect(judge('cimd', []).failed).toBe(1);
  });

  it('reads every scenario folder’s checks.json', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcp-authz-checks-'));
    try {
      for (const [name, status] of [
        ['a', 'SUCCESS'],
        ['b', 'FAILURE'],
      ] as const) {
        mkdirSync(join(dir, name));
        writeFileSync(join(dir, name, 'checks.json'), JSON.stringify([{ id: name, status }]));
      }
      expect(
        readChecks(dir)
          .map((c) => c.status)
          .sort(),
      ).toEqual(['FAILURE', 'SUCCESS']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
