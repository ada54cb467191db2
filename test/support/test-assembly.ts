/**
 * The cloud assemblies the end-to-end suites run: synthesized as `cdk synth` does, Lambdas
 * bundled. The default one is synthesized once per test run (`test/support/global-setup.ts`); a suite
 * that models another deployment (`-c earlyDeny=true`, an allowed origin, its own modules)
 * gets one synthesized on first use and shared, by its context, with the other suites of the
 * run.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { inject } from 'vitest';
import type { AddStackOptions } from '../../lib/app';
import { type CloudAssembly, readAssembly, synthesize } from '../../tools/local/emulator/assembly';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The folder holding this run's assemblies (`default/` and the variants). */
    assemblies: string;
  }
}

const STACK = 'SecureMcpServer';

/**
 * What every suite's deployment sets over `cdk.json`: throttles and WAF rate limits above what
 * a suite sends in a burst (hundreds of requests in a second from one address), so a suite
 * hears its own answers, not 429s. The limits themselves are tested with the defaults
 * (`test/unit/tools/local/emulator/`).
 */
export const E2E_CONTEXT: Readonly<Record<string, unknown>> = {
  throttleRateLimit: 10_000,
  throttleBurstLimit: 5_000,
  oauthRateLimit: 1_000,
  oauthBurstLimit: 2_000,
  registrationRateLimit: 100,
  registrationBurstLimit: 200,
  wafRateLimit: 2_000_000_000,
};

/**
 * The deployment with `delete_record`'s approval switched off (`-c approvalOff`), for suites
 * about something else that `delete_record` shows (roles, scopes, step-up): with it on, every
 * allowed delete is answered with an approval URL first. The approval itself is tested in
 * `test/unit/mcp/approvals.test.ts`, `test/integration/e2e/approvals.test.ts` and `test/integration/browser/approval.test.ts`.
 */
export const NO_DELETE_APPROVAL: Readonly<Record<string, unknown>> = {
  approvalOff: 'delete_record',
};

/** The folder for a context and modules: `default` for none. */
function keyOf(
  context: Readonly<Record<string, unknown>>,
  modules?: AddStackOptions['modules'],
): string {
  const names = modules?.list.map((module) => module.name) ?? [];
  if (Object.keys(context).length === 0 && modules === undefined) return 'default';
  const text = JSON.stringify({
    context: Object.fromEntries(Object.entries(context).sort(([a], [b]) => a.localeCompare(b))),
    modules: names,
    roles: modules?.roles,
    quotas: modules?.quotas,
  });
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/** The assembly of the default deployment, or of one with these `-c` values and modules. */
export function testAssembly(
  context: Readonly<Record<string, unknown>> = {},
  modules?: AddStackOptions['modules'],
): CloudAssembly {
  const base = inject('assemblies');
  const directory = join(base, keyOf(context, modules));
  if (existsSync(join(directory, `${STACK}.template.json`))) return readAssembly(directory, STACK);
  mkdirSync(base, { recursive: true });
  const temporary = `${directory}.${process.pid}.${Date.now()}`;
  synthesize({
    outdir: temporary,
    context: { ...E2E_CONTEXT, ...context },
    ...(modules === undefined ? {} : { modules }),
  });
  try {
    renameSync(temporary, directory);
  } catch {
    // Another worker finished the same assembly first: use theirs.
    rmSync(temporary, { recursive: true, force: true });
  }
  return readAssembly(directory, STACK);
}
