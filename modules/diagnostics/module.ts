/**
 * Diagnostics for a deployment: one tool, `stream_check`, that `npm run verify` calls to time
 * how a progress notification travels from the function to the client (streamed the moment it
 * is sent, or held until the answer ends somewhere on the way: API Gateway's transfer mode, a
 * proxy, Lambda's runtime). It reads nothing and writes nothing.
 *
 * This deployment serves it (`modules/index.ts`, no AWS access in `modules/infra.ts`) to the
 * `operator` role alone (`modules/roles.ts`): a key for deployment checks reads no data.
 * Remove it from the three lists to stop serving it.
 */
import { setTimeout as sleepFor } from 'node:timers/promises';
import * as z from 'zod';
import { moduleKit } from '#module-kit';

/** The permission `stream_check` needs. */
export const DIAGNOSTICS_PERMISSION = 'diagnostics';
/** The tool's name, as `npm run verify` looks for it in `tools/list`. */
export const STREAM_CHECK_TOOL = 'stream_check';
/** The longest wait a caller may ask for: well under any timeout of the function or the API. */
export const MAX_STREAM_CHECK_SECONDS = 5;

/** What the tool waits with: a seam so its tests need not wait. */
export interface DiagnosticsDeps {
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

const define = moduleKit<DiagnosticsDeps>();

/**
 * The server's own clock at both ends, so a client can tell how long the progress report was
 * held on the way without comparing two machines' clocks: the server's gap between sending the
 * report and answering, against the client's gap between receiving them.
 */
export const streamCheckOutput = z.object({
  waited_ms: z.number().int().nonnegative(),
  progress_sent_at: z.iso.datetime(),
  answered_at: z.iso.datetime(),
});
export type StreamCheckOutput = z.output<typeof streamCheckOutput>;

export const streamCheck = define.tool({
  name: STREAM_CHECK_TOOL,
  permission: DIAGNOSTICS_PERMISSION,
  title: 'Check progress streaming',
  description: `Send one progress notification, wait the given seconds (0 to ${MAX_STREAM_CHECK_SECONDS}), then answer with when each was sent. Call it with a progress token to see whether progress arrives while a tool runs.`,
  annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
  input: z.strictObject({
    seconds: z.number().min(0).max(MAX_STREAM_CHECK_SECONDS).describe('How long to wait'),
  }),
  output: streamCheckOutput,
  async run({ seconds }, { deps, progress, now, signal }) {
    const progressSentAt = now();
    await progress({ progress: 0, total: 1, message: `Waiting ${seconds} s` });
    const waitedMs = Math.round(seconds * 1000);
    await deps.sleep(waitedMs, signal);
    return {
      waited_ms: waitedMs,
      progress_sent_at: progressSentAt.toISOString(),
      answered_at: now().toISOString(),
    };
  },
  summarize: (out) =>
    `Progress sent at ${out.progress_sent_at}, answered at ${out.answered_at} after waiting ${out.waited_ms} ms.`,
});

export const diagnostics = define.module({
  name: 'diagnostics',
  permissions: {
    [DIAGNOSTICS_PERMISSION]: 'Run deployment diagnostics (they read and change no data)',
  },
  instructions:
    'Diagnostics for operators: stream_check times how progress notifications reach the client.',
  tools: [streamCheck],
  dependencies: () => ({ sleep: (ms, signal) => sleepFor(ms, undefined, { signal }) }),
});
