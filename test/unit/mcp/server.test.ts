/** The MCP server's own description of itself (`lambda/mcp/server.ts`). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SERVER_INFO } from '../../../lambda/mcp/server';

const PACKAGE = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };

describe('the version', () => {
  it('is the one package.json says, in the MCP serverInfo', () => {
    expect(SERVER_INFO.version).toBe(PACKAGE.version);
  });
});
