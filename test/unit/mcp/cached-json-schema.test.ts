import { describe, expect, it, vi } from 'vitest';
import * as z from 'zod';
import { cachedJsonSchema } from '../../../lambda/mcp/server';

describe('cachedJsonSchema', () => {
  const schema = z.object({ id: z.string().min(3), limit: z.number().int().default(10) });

  it('converts a schema to JSON Schema once, however often it is asked', () => {
    // Prepare
    const convert = vi.spyOn(schema['~standard'].jsonSchema, 'input');
    const cached = cachedJsonSchema(schema);

    // Act
    const first = cached['~standard'].jsonSchema.input({ target: 'draft-2020-12' });
    const second = cachedJsonSchema(schema)['~standard'].jsonSchema.input({
      target: 'draft-2020-12',
    });

    // Assess
    expect(second).toEqual(first);
    expect(first).toMatchObject({ type: 'object', required: ['id'] });
    expect(convert).toHaveBeenCalledTimes(1);
    convert.mockRestore();
  });

  it('hands out copies: changing one answer leaves the next untouched', () => {
    const cached = cachedJsonSchema(schema);
    const first = cached['~standard'].jsonSchema.output({ target: 'draft-2020-12' });
    (first as { type?: unknown }).type = 'tampered';
    expect(cached['~standard'].jsonSchema.output({ target: 'draft-2020-12' })).toMatchObject({
      type: 'object',
    });
  });

  it('validates exactly as the schema itself', async () => {
    const cached = cachedJsonSchema(schema);
    expect(cached.safeParse({ id: 'abc' })).toEqual(schema.safeParse({ id: 'abc' }));
    expect(cached.safeParse({ id: 'a' }).success).toBe(false);
    expect(await cached['~standard'].validate({ id: 'x' })).toMatchObject({
      issues: expect.any(Array),
    });
  });
});
