/**
 * What `conformance/client-auth.ts` relies on, offline (the suite itself runs in `npm run
 * conformance`): the launcher hands the agent what the suite hands a client, and a run's
 * results are counted as the suite counts them.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  agentInvocation,
  readResults,
  SUITE_CIMD_URL,
  SUITE_TOOL,
  scenarioName,
  summarize,
} from '../../../conformance/client-auth';

describe('agentInvocation', () => {
  it('runs the agent headless with the suite’s CIMD URL, calling its tool, URL last', () => {
    // Act
    const { argv, env } = agentInvocation('http://127.0.0.1:3000/mcp', {});

    // Assess
    expect(argv).toEqual([
      '--headless',
      '--callback-port',
      '0',
      '--client-metadata-url',
      SUITE_CIMD_URL,
      '--call',
      SUITE_TOOL,
      'http://127.0.0.1:3000/mcp',
    ]);
    expect(env).toEqual({});
  });

  it('passes pre-registered credentials from the context in the environment, not argv', () => {
    // Act
    const { argv, env } = agentInvocation('http://127.0.0.1:3000/mcp', {
      MCP_CONFORMANCE_CONTEXT: JSON.stringify({
        name: 'auth/pre-registration',
        client_id: 'pre-registered-client',
        client_secret: 'pre-registered-secret',
      }),
    });

    // Assess
    expect(env).toEqual({
      MCP_CLIENT_ID: 'pre-registered-client',
      MCP_CLIENT_SECRET: 'pre-registered-secret',
    });
    expect(argv.join(' ')).not.toMatch(/pre-registered-secret/);
  });

  it('refuses a context that is not what the suite sends', () => {
    // Act & Assess
    expect(() =>
      agentInvocation('http://x/mcp', {
        MCP_CONFORMANCE_CONTEXT: JSON.stringify({ client_id: 1 }),
      }),
    ).toThrow();
  });
});

describe('reading a run', () => {
  it('names a scenario from its results folder', () => {
    // Act & Assess
    expect(scenarioName('/r/auth/scope-step-up-2026-12-01T14-22-36-676Z', '/r')).toBe(
      'auth/scope-step-up',
    );
  });

  it('fails a scenario on a warning as well as on a failure, as the suite does', () => {
    // Act
    const result = summarize('auth/basic-cimd', [
      { id: 'authorization-request', status: 'SUCCESS' },
      { id: 'cimd-client-id-used', status: 'WARNING' },
      { id: 'note', status: 'INFO' },
    ]);

    // Assess
    expect(result).toMatchObject({ passed: 1, failed: 0, warnings: 1 });
    expect(result.problems.map((p) => p.id)).toEqual(['cimd-client-id-used']);
  });

  it('reads every scenario’s checks.json under the output folder', () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'client-auth-test-'));
    try {
      for (const [folder, status] of [
        ['auth/basic-cimd-2026-12-01T14-22-36-676Z', 'SUCCESS'],
        ['auth/scope-retry-limit-2026-12-01T14-22-37-001Z', 'FAILURE'],
      ] as const) {
        mkdirSync(join(dir, folder), { recursive: true });
        writeFileSync(join(dir, folder, 'checks.json'), JSON.stringify([{ id: 'x', status }]));
      }

      // Act
      const results = readResults(dir);

      // Assess
      expect(results.map((r) => [r.scenario, r.failed])).toEqual([
        ['auth/basic-cimd', 0],
        ['auth/scope-retry-limit', 1],
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
