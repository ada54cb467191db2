/**
 * How a progress notification is made to leave the Lambda at once: after each notification
 * that precedes the answer, the stream carries an SSE comment, written on its own, that brings
 * the bytes written since the last such comment up to a threshold (`STREAM_FLUSH_BYTES`).
 *
 * Why: Lambda response streaming is reported to hold small writes until more data follows.
 * AWS documents no such thing; the evidence is users' reports (none from AWS) in public issues:
 * - aws/aws-lambda-nodejs-runtime-interface-client #94: a small write, then a pause, arrives
 *   only with the next write; "the threshold seems to be around 16Kb to get reliable
 *   streaming"; calling cork() before a write and uncork() after "seems to help a little bit".
 * - the same repository, #102 (Function URLs): "with payload smaller than about 100kb ... the
 *   chunk is buffered and sent with the next one".
 * - H4ad/serverless-adapter #166: "writes are buffered until either another write occurs or the
 *   stream ends"; what is written "totaling to ~15,000 bytes" flows.
 * The comment answers both readings: it is the write that follows the frame, and it makes the
 * bytes since the last flush reach the threshold. A comment line (one starting with `:`) is
 * ignored by every SSE client (WHATWG HTML, server-sent events: a line that "starts with a
 * U+003A COLON character (:)": "Ignore the line"; so does `eventsource-parser`, which both MCP
 * SDK clients use), and the frames themselves are left byte for byte as they were.
 *
 * Not done, on purpose: cork()/uncork() would merge a frame and its comment into one HTTP
 * chunk, which by the "held until the next write" reading would be held itself. Not done here:
 * #94 also reports that a first write landing in the same chunk as the metadata prelude's eight
 * NUL bytes sometimes held the whole stream (about 25 ms between them helped); that needs the
 * prelude written alone, in `lambda-response.ts`.
 *
 * None of this is proved by the local tests, which only show what is written: whether progress
 * leaves at once in AWS is what `npm run verify` measures against a deployment.
 */

const COLON = 0x3a;
const SPACE = 0x20;
const LF = 0x0a;

/** The shortest comment block: `:` and the blank line that ends it. */
export const MIN_COMMENT_BYTES = 3;

/**
 * An SSE comment block of `bytes` bytes (at least {@link MIN_COMMENT_BYTES}): `:`, spaces, and
 * the blank line that ends the block (keep-alive comments are framed the same way).
 */
export function sseComment(bytes: number): Uint8Array {
  const comment = new Uint8Array(Math.max(bytes, MIN_COMMENT_BYTES)).fill(SPACE);
  comment[0] = COLON;
  comment[comment.length - 2] = LF;
  comment[comment.length - 1] = LF;
  return comment;
}

/** The bytes a stream has written since its last flush, and the comment that flushes them. */
export class FlushPadding {
  #written = 0;

  /** @param thresholdBytes what the bytes since the last flush are brought up to (> 0) */
  constructor(readonly thresholdBytes: number) {}

  /** Count bytes the stream has written. */
  wrote(bytes: number): void {
    this.#written += bytes;
  }

  /**
   * The comment to write next: the bytes the threshold still lacks, or the shortest comment
   * when none are lacking (a write must still follow the frame). Counts as the flush.
   */
  next(): Uint8Array {
    const comment = sseComment(this.thresholdBytes - this.#written);
    this.#written = 0;
    return comment;
  }
}
