/**
 * Variables a local tool adds to a function beside its template's (`extraEnvironment`: the
 * local gateway's error-detail switch), and never in place of one the template sets.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Served, serve, TestApi } from '../../../../support/test-api';

const SHOW_ENV = `
exports.handler = async () => ({
  statusCode: 200,
  body: JSON.stringify({ extra: process.env.EXTRA ?? null, own: process.env.OWN ?? null }),
});
`;

function build(): TestApi {
  const api = new TestApi();
  api.function('Show', SHOW_ENV, { environment: { OWN: 'from-template' } });
  api.method('/show', 'GET', { function: 'Show' });
  return api;
}

describe('extraEnvironment', () => {
  let served: Served;
  beforeAll(async () => {
    served = await serve(build(), { extraEnvironment: { Show: { EXTRA: 'true' } } });
  });
  afterAll(async () => {
    await served?.stop();
  });

  it('gives the function the extra variable beside the ones its template sets', async () => {
    // Act
    const response = await served.fetch('/show');

    // Assess
    expect(await response.json()).toEqual({ extra: 'true', own: 'from-template' });
  });

  it('refuses to start when it would replace a variable the template sets', async () => {
    // Act
    const started = serve(build(), { extraEnvironment: { Show: { OWN: 'replaced' } } });

    // Assess
    await expect(started).rejects.toThrow('Show: the template sets OWN already');
  });
});
