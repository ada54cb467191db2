/**
 * Once per test run: the default cloud assembly, synthesized and bundled as `cdk synth` does,
 * which every end-to-end suite's local gateway serves (`support/test-assembly.ts`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { synthesize } from '../../tools/local/emulator/assembly';
import { E2E_CONTEXT } from './test-assembly';

export default function setup(project: TestProject) {
  const base = mkdtempSync(join(tmpdir(), 'mcp-test-assemblies-'));
  synthesize({ outdir: join(base, 'default'), context: E2E_CONTEXT });
  project.provide('assemblies', base);
  return () => rmSync(base, { recursive: true, force: true });
}
