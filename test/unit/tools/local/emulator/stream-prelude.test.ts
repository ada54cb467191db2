/**
 * API Gateway's reading of a streamed Lambda response: the metadata JSON, eight NUL bytes
 * within the first 16 KB, only the four documented keys ("Set up a Lambda proxy integration
 * with payload response streaming").
 */
import { describe, expect, it } from 'vitest';
import {
  PRELUDE_WINDOW_BYTES,
  readPrelude,
} from '../../../../../tools/local/emulator/stream-prelude';

const NUL8 = Buffer.alloc(8);
const prelude = (metadata: unknown, rest = '') =>
  Buffer.concat([Buffer.from(JSON.stringify(metadata)), NUL8, Buffer.from(rest)]);

describe('the metadata prelude', () => {
  it('waits for more bytes until the delimiter has arrived', () => {
    expect(readPrelude(Buffer.from('{"statusCode":200'))).toEqual({ kind: 'more' });
  });

  it('gives the metadata and the payload bytes that came with it', () => {
    const state = readPrelude(
      prelude(
        {
          statusCode: 201,
          headers: { 'content-type': 'text/event-stream' },
          multiValueHeaders: { 'x-a': ['1', '2'] },
          cookies: ['a=1'],
        },
        'data: hi',
      ),
    );

    expect(state).toEqual({
      kind: 'ready',
      metadata: {
        statusCode: 201,
        headers: { 'content-type': 'text/event-stream' },
        multiValueHeaders: { 'x-a': ['1', '2'] },
        cookies: ['a=1'],
      },
      rest: Buffer.from('data: hi'),
    });
  });

  it('defaults the status to 200 when the metadata leaves it out', () => {
    const state = readPrelude(prelude({}));

    expect(state.kind === 'ready' && state.metadata.statusCode).toBe(200);
  });

  it('accepts a delimiter that ends exactly at 16 KB', () => {
    const padding = 'x'.repeat(PRELUDE_WINDOW_BYTES - 8 - '{"headers":{"x":""}}'.length);

    expect(readPrelude(prelude({ headers: { x: padding } })).kind).toBe('ready');
  });

  it.each([
    [
      'a delimiter ending one byte past 16 KB',
      prelude({ headers: { x: 'x'.repeat(PRELUDE_WINDOW_BYTES - 8 - 20 + 1) } }),
      /no delimiter within the first 16 KB/,
    ],
    [
      '16 KB without a delimiter',
      Buffer.alloc(PRELUDE_WINDOW_BYTES, 'a'),
      /no delimiter within the first 16 KB/,
    ],
    ['metadata that is not JSON', Buffer.concat([Buffer.from('{oops'), NUL8]), /not JSON/],
    ['a key other than the four', prelude({ statusCode: 200, body: 'x' }), /unsupported key body/],
    [
      'a multi-value header in `headers`',
      prelude({ headers: { a: ['1', '2'] } }),
      /single-value headers/,
    ],
    [
      'a multiValueHeaders value that is not a list',
      prelude({ multiValueHeaders: { a: '1' } }),
      /not a list/,
    ],
    [
      'a status that is not an HTTP status',
      prelude({ statusCode: 'teapot' }),
      /not an HTTP status/,
    ],
  ])('refuses %s (API Gateway answers 500)', (_name, bytes, why) => {
    const state = readPrelude(bytes);

    expect(state.kind).toBe('invalid');
    expect(state.kind === 'invalid' && state.why).toMatch(why);
  });
});
