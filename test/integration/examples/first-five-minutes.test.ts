/**
 * The README's "first five minutes", run as a newcomer runs them: its shell blocks, verbatim,
 * in bash, against the local gateway serving the synthesized stack (only the URL's port is the
 * test's own), and what they print compared with the answers the README shows.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { useLocalGateway } from '../../support/local-gateway-fixture';
import { type CodeBlock, codeBlocks } from '../../support/markdown';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const README = readFileSync(new URL('README.md', `file://${ROOT}/`), 'utf8');
/** The URL `npm run dev` serves by default, as the README's first block sets it. */
const DEV_URL = 'URL=http://127.0.0.1:3000/prod/mcp';

/** The section's blocks: from its heading to the next `## `. */
function section(heading: string): CodeBlock[] {
  const start = README.indexOf(`\n## ${heading}\n`);
  const end = README.indexOf('\n## ', start + 1);
  return codeBlocks(README.slice(start, end === -1 ? undefined : end));
}

/** The JSON a Streamable HTTP answer carries, whether sent as JSON or as one SSE event. */
function messageOf(output: string): unknown {
  const data = /^data: (.*)$/m.exec(output)?.[1];
  return JSON.parse(data ?? output);
}

describe("the README's first five minutes", () => {
  const local = useLocalGateway('mcp-first-five-');
  const blocks = section('The first five minutes');
  const [tokenBlock, callBlock, refusalBlock] = blocks.filter((block) => block.lang === 'sh');
  const shownAnswer = blocks.find((block) => block.lang === 'text');
  const shownRefusal = blocks.find((block) => block.lang === 'json');

  /** Runs the token block and then `block` in one bash, as one terminal would. */
  async function run(block: CodeBlock | undefined): Promise<string> {
    const setup = (tokenBlock?.lines ?? []).map((line) =>
      line === DEV_URL ? `URL=${local.gateway.mcpUrl}` : line,
    );
    const script = ['set -euo pipefail', ...setup, ...(block?.lines ?? [])].join('\n');
    const { stdout } = await promisify(execFile)('bash', ['-c', script], {
      cwd: ROOT,
      env: { ...process.env, MCP_LOCAL_DIR: local.dir },
      timeout: 60_000,
    });
    return stdout;
  }

  it('sets the URL npm run dev serves by default', () => {
    expect(tokenBlock?.lines).toContain(DEV_URL);
  });

  it('answers the call that works as the README shows it', async () => {
    // Act
    const output = await run(callBlock);

    // Assess: the shown answer elides the record ({…}); the rest is as printed
    const [head = '', tail = ''] = (shownAnswer?.lines.join('\n') ?? '(none)').split('{…}');
    expect(output.trim().startsWith(head)).toBe(true);
    expect(output.trim().endsWith(tail)).toBe(true);
    expect(messageOf(output)).toMatchObject({ result: { structuredContent: { found: true } } });
  }, 90_000);

  it('refuses the delete with exactly the answer the README shows', async () => {
    // Act
    const output = await run(refusalBlock);

    // Assess
    expect(messageOf(output)).toEqual(JSON.parse(shownRefusal?.lines.join('\n') ?? 'null'));
  }, 90_000);
});
