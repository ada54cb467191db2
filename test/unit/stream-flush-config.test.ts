/**
 * The stream flush threshold from `-c streamFlushBytes` to the MCP function: the config's
 * default and range, the variable the stack sets, and the function's own parse of it (one rule,
 * `isStreamFlushBytes`, for both).
 */
import { describe, expect, it } from 'vitest';
import { mcpEnvSchema, parseEnv, STREAM_FLUSH_BYTES } from '../../lambda/shared/env';
import { loadConfig } from '../../lib/config';
import { synthStack } from '../support/stack-fixture';
import { resourcesOf } from '../support/template-helpers';

/** The MCP function's environment variables in a stack synthesized with `overrides`. */
function mcpVariables(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const { template } = synthStack(overrides);
  const mcp = Object.values(resourcesOf(template, 'AWS::Lambda::Function')).find(
    (fn) =>
      (fn.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables
        ?.POWERTOOLS_SERVICE_NAME === 'mcp-server',
  );
  return (
    (mcp?.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)
      ?.Variables ?? {}
  );
}

describe('-c streamFlushBytes', () => {
  it('defaults to 16 KiB', () => {
    expect(loadConfig(() => undefined).streamFlushBytes).toBe(16_384);
  });

  it.each([
    ['0', 0],
    ['1024', 1024],
    [262_144, 262_144],
  ])('takes %j (0 turns the padding off)', (value, expected) => {
    expect(
      loadConfig((key) => (key === 'streamFlushBytes' ? value : undefined)).streamFlushBytes,
    ).toBe(expected);
  });

  it.each(['100', '262145', '-1', '2048.5'])(
    'refuses %j, naming the key and the range',
    (value) => {
      expect(() => loadConfig((key) => (key === 'streamFlushBytes' ? value : undefined))).toThrow(
        /-c streamFlushBytes=.*must be 0 \(off\) or a whole number of bytes from 1024 to 262144/,
      );
    },
  );

  it('reaches the MCP function as STREAM_FLUSH_BYTES', () => {
    expect(mcpVariables().STREAM_FLUSH_BYTES).toBe('16384');
    expect(mcpVariables({ streamFlushBytes: 0 }).STREAM_FLUSH_BYTES).toBe('0');
  });
});

describe('STREAM_FLUSH_BYTES in the MCP function', () => {
  it('defaults to the config default when unset (a function deployed without the stack)', () => {
    expect(parseEnv(mcpEnvSchema, {}).STREAM_FLUSH_BYTES).toBe(STREAM_FLUSH_BYTES.default);
  });

  it('reads the number the stack writes', () => {
    expect(parseEnv(mcpEnvSchema, { STREAM_FLUSH_BYTES: '0' }).STREAM_FLUSH_BYTES).toBe(0);
    expect(parseEnv(mcpEnvSchema, { STREAM_FLUSH_BYTES: '4096' }).STREAM_FLUSH_BYTES).toBe(4096);
  });

  it('fails loudly, by name, on a threshold out of range', () => {
    expect(() => parseEnv(mcpEnvSchema, { STREAM_FLUSH_BYTES: '512' })).toThrow(
      /STREAM_FLUSH_BYTES: must be 0 \(off\)/,
    );
  });
});
