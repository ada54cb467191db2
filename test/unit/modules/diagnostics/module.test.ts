/**
 * The diagnostics module's `stream_check`: one progress report before it waits, the wait it
 * was asked for, and both send times on the server's clock in its answer.
 */
import { describe, expect, it } from 'vitest';
import type { ToolContext } from '../../../../lambda/mcp/module-kit';
import type { Principal } from '../../../../lambda/shared/principal';
import {
  type DiagnosticsDeps,
  diagnostics,
  MAX_STREAM_CHECK_SECONDS,
  streamCheck,
} from '../../../../modules/diagnostics/module';

const operator: Principal = {
  principalId: 'diagnostics-test',
  authMethod: 'cognito',
  groups: ['admin'],
  scopes: [],
  keyId: '',
};

/** A context whose clock moves only when the tool sleeps, recording what the tool did. */
function recordingContext() {
  let clock = Date.parse('2026-03-01T00:00:00.000Z');
  const events: string[] = [];
  const deps: DiagnosticsDeps = {
    sleep: async (ms) => {
      events.push(`sleep ${ms}`);
      clock += ms;
    },
  };
  const context: ToolContext<DiagnosticsDeps> = {
    deps,
    principal: operator,
    requestId: 'req-diagnostics',
    now: () => new Date(clock),
    signal: new AbortController().signal,
    progress: async (update) => {
      events.push(`progress ${update.progress}/${update.total}`);
    },
  };
  return { context, events };
}

describe('stream_check', () => {
  it('reports progress once, then waits the seconds asked for', async () => {
    // Prepare
    const { context, events } = recordingContext();

    // Act
    await streamCheck.run(streamCheck.input.parse({ seconds: 1.5 }), context);

    // Assess
    expect(events).toEqual(['progress 0/1', 'sleep 1500']);
  });

  it('answers with when it sent its progress and when it answered, the wait apart', async () => {
    // Prepare
    const { context } = recordingContext();

    // Act
    const output = streamCheck.output.parse(
      await streamCheck.run(streamCheck.input.parse({ seconds: 2 }), context),
    );

    // Assess
    expect(output).toEqual({
      waited_ms: 2000,
      progress_sent_at: '2026-03-01T00:00:00.000Z',
      answered_at: '2026-03-01T00:00:02.000Z',
    });
  });

  it('refuses a wait beyond the limit or below zero', () => {
    // Act
    const tooLong = streamCheck.input.safeParse({ seconds: MAX_STREAM_CHECK_SECONDS + 0.5 });
    const negative = streamCheck.input.safeParse({ seconds: -1 });

    // Assess
    expect(tooLong.success).toBe(false);
    expect(negative.success).toBe(false);
  });

  it('needs the diagnostics permission, which its module declares', () => {
    // Assess
    expect(streamCheck.permission).toBe('diagnostics');
    expect(Object.keys(diagnostics.permissions)).toEqual(['diagnostics']);
  });
});

describe('the default sleep', () => {
  it('stops waiting when the request is aborted', async () => {
    // Prepare
    const { sleep } = diagnostics.dependencies({}) as DiagnosticsDeps;
    const controller = new AbortController();

    // Act
    const waiting = sleep(60_000, controller.signal);
    controller.abort();

    // Assess
    await expect(waiting).rejects.toThrow(/abort/i);
  });
});
