/**
 * What a newcomer sees when a first run goes wrong before any project code loads: too old a
 * Node or no dependencies get a sentence saying what to do (`tools/cli/preflight.mjs`, run
 * before dev and every CLI).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MIN_NODE, preflightProblem } from '../../../../tools/cli/preflight.mjs';

const PACKAGE = JSON.parse(readFileSync('package.json', 'utf8')) as {
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
