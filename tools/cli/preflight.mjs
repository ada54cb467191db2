/**
 * Runs before `npm run dev` and the CLIs, in plain JavaScript so that it runs on any Node.js:
 * on too old a Node the project's own code fails at load with an error that says nothing of
 * the cause (Node 18: `Invalid flags supplied to RegExp constructor 'v'`), and without its
 * dependencies `npm run` says only `tsx: not found`. Says what to do instead, and exits 1.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The oldest Node.js the tools run on (package.json `engines`); Lambda runs Node 22. */
export const MIN_NODE = [20, 11];

/**
 * What stops the tools from starting, or `undefined`.
 * @param {{ nodeVersion: string, hasDependencies: boolean }} state
 * @returns {string | undefined}
 */
export function preflightProblem(state) {
  const [major = 0, minor = 0] = state.nodeVersion.replace(/^v/, '').split('.').map(Number);
  const [minMajor, minMinor] = MIN_NODE;
  if (major < minMajor || (major === minMajor && minor < minMinor)) {
    return `This project needs Node.js ${minMajor}.${minMinor} or later (22 recommended: the Lambdas run on Node.js 22); this is Node.js ${state.nodeVersion}. Install a newer one (for example \`nvm install 22\`), then run \`npm ci\` again.`;
  }
  if (!state.hasDependencies) {
    return 'The dependencies are not installed: run `npm ci` in the project folder first.';
  }
  return undefined;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const problem = preflightProblem({
    nodeVersion: process.versions.node,
    hasDependencies: existsSync(
      fileURLToPath(new URL('../../node_modules/.bin/tsx', import.meta.url)),
    ),
  });
  if (problem !== undefined) {
    process.stderr.write(`error: ${problem}\n`);
    process.exit(1);
  }
}
