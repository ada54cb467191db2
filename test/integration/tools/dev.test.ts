/**
 * `npm run dev` (`tools/local/dev.ts`) on a busy port: the PORT hint comes before the
 * half-minute synth, not after it.
 */
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);

describe('npm run dev on a busy port', () => {
  let busy: Server;
  let port = 0;
  beforeAll(async () => {
    busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    port = (busy.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => busy.close(() => resolve())));

  it('fails before synthesizing, naming the port and the PORT variable', async () => {
    // Act
    const failed = await run(process.execPath, ['--import', 'tsx', 'tools/local/dev.ts'], {
      env: { ...process.env, PORT: String(port) },
    }).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );

    // Assess
    expect(failed?.code).toBe(2);
    expect(failed?.stderr).toContain(`port ${port} is in use`);
    expect(failed?.stderr).toContain(`PORT=${port + 1} npm run dev`);
    expect(failed?.stderr).not.toContain('Synthesizing');
  });
});
