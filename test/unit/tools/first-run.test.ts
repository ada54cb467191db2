/**
 * What a newcomer sees when a first run goes wrong: too old a Node or no dependencies get a
 * sentence saying what to do (before any project code loads), a busy port gets the PORT hint
 * before the half-minute synth, and the server says the version package.json says.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVER_INFO } from '../../../lambda/mcp/server';
import { MIN_NODE, preflightProblem } from '../../../tools/cli/preflight.mjs';

const run = promisify(execFile);
const PACKAGE = JSON.parse(readFileSync('package.json', 'utf8')) as {
  version: string;
  engines: { node: string };
  scripts: Record<string, string>;
};

describe('preflight', () => {
  it('names the Node version needed and how to get it, for Node 18', () => {
    const problem = preflightProblem({ nodeVersion: '18.20.4', hasDependencies: true });
    expect(problem).toContain('needs Node.js 20.11 or later');
    expect(problem).toContain('this is Node.js 18.20.4');
    expect(problem).toContain('npm ci');
  });

  it('says to run npm ci when the dependencies are missing', () => {
    expect(preflightProblem({ nodeVersion: '22.12.0', hasDependencies: false })).toBe(
      'The dependencies are not installed: run `npm ci` in the project folder first.',
    );
  });

  it('lets a supported Node with its dependencies through', () => {
    expect(preflightProblem({ nodeVersion: '20.11.0', hasDependencies: true })).toBeUndefined();
    expect(preflightProblem({ nodeVersion: 'v22.12.0', hasDependencies: true })).toBeUndefined();
  });

  it('agrees with package.json engines and runs before dev and every CLI', () => {
    expect(PACKAGE.engines.node).toBe(`>=${MIN_NODE.join('.')}`);
    for (const script of ['dev', 'token', 'keys', 'users', 'verify']) {
      expect(PACKAGE.scripts[script]).toMatch(/^node tools\/cli\/preflight\.mjs && tsx /);
    }
  });
});

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

describe('the version', () => {
  it('is the one package.json says, in the MCP serverInfo', () => {
    expect(SERVER_INFO.version).toBe(PACKAGE.version);
  });
});
