/**
 * The stream flush part of the bench on small input: how it reads a body's shape, and that
 * its two sides differ by the padding alone. It times nothing.
 */
import { describe, expect, it } from 'vitest';
import { collectStreamed } from '../../../../tools/bench/mcp-under-test';
import {
  bodyShape,
  framesAlone,
  SYNTHETIC_NOTIFICATIONS,
} from '../../../../tools/bench/stream-flush';

const frame = (message: unknown) => `event: message\ndata: ${JSON.stringify(message)}\n\n`;

describe('bodyShape', () => {
  it('counts the notifications and the comment bytes of an SSE body, not the answer', () => {
    // Prepare
    const progress = frame({ jsonrpc: '2.0', method: 'notifications/progress', params: {} });
    const answer = frame({ jsonrpc: '2.0', id: 1, result: {} });
    const body = `${progress}:    \n\n${progress}: keepalive\n\n${answer}`;

    // Act
    const shape = bodyShape(body);

    // Assess
    expect(shape).toEqual({
      bytes: Buffer.byteLength(body),
      notifications: 2,
      commentBytes: ':    \n\n'.length + ': keepalive\n\n'.length,
    });
  });
});

describe('framesAlone', () => {
  it('gives bodies that differ by the padding alone, one comment per notification', async () => {
    // Act
    const [on, off] = await Promise.all(
      [framesAlone(2048), framesAlone(0)].map(({ entry, event }) => collectStreamed(entry, event)),
    );
    const [shapeOn, shapeOff] = [bodyShape(on?.body ?? ''), bodyShape(off?.body ?? '')];

    // Assess
    expect(shapeOn.notifications).toBe(SYNTHETIC_NOTIFICATIONS);
    expect(shapeOff).toMatchObject({ notifications: SYNTHETIC_NOTIFICATIONS, commentBytes: 0 });
    expect(shapeOn.bytes - shapeOff.bytes).toBe(shapeOn.commentBytes);
    // Each notification and its comment make the threshold; the answer follows unpadded.
    const answer = frame({
      jsonrpc: '2.0',
      id: 4,
      result: { content: [{ type: 'text', text: 'done' }] },
    });
    expect(shapeOn.bytes).toBe(SYNTHETIC_NOTIFICATIONS * 2048 + Buffer.byteLength(answer));
  });
});
