/**
 * The SSE comment that flushes a streamed answer, and the count that sizes it. How `passSse`
 * uses them is tested with `passSse` (`response.test.ts`); whether they make progress leave a
 * Lambda in AWS at once, only `npm run verify` against a deployment shows.
 */
import { describe, expect, it } from 'vitest';
import { FlushPadding, MIN_COMMENT_BYTES, sseComment } from '../../../lambda/mcp/stream-flush';

const decoder = new TextDecoder();

describe('sseComment', () => {
  it('is a comment line of exactly the bytes asked for, ended by a blank line', () => {
    // Act
    const text = decoder.decode(sseComment(40));

    // Assess
    expect(text).toBe(`:${' '.repeat(37)}\n\n`);
    expect(new TextEncoder().encode(text).byteLength).toBe(40);
  });

  it('is never shorter than a colon and a blank line', () => {
    // Act
    const texts = [-5, 0, 1, MIN_COMMENT_BYTES].map((bytes) => decoder.decode(sseComment(bytes)));

    // Assess
    expect(texts).toEqual([':\n\n', ':\n\n', ':\n\n', ':\n\n']);
  });
});

describe('FlushPadding', () => {
  it('pads what was written since the last flush up to the threshold, then counts afresh', () => {
    // Prepare
    const padding = new FlushPadding(100);

    // Act
    padding.wrote(30);
    padding.wrote(20);
    const first = padding.next();
    padding.wrote(10);
    const second = padding.next();

    // Assess
    expect([first.byteLength, second.byteLength]).toEqual([50, 90]);
  });
});
