/**
 * Throttling: a token bucket per method, the stage's default (`/*` `*`) or the method's own
 * override, and the account's 10,000 requests per second with a burst of 5,000 over all.
 */
import { describe, expect, it } from 'vitest';
import type { ThrottleModel } from '../../../../../tools/local/emulator/api-model';
import { Throttle } from '../../../../../tools/local/emulator/throttle';

const STAGE_DEFAULT: ThrottleModel = {
  httpMethod: '*',
  resourcePath: '/*',
  rateLimit: 2,
  burstLimit: 3,
};
const REGISTER: ThrottleModel = {
  httpMethod: 'POST',
  resourcePath: '/register',
  rateLimit: 1,
  burstLimit: 1,
};

function admitted(throttle: Throttle, path: string, method: string, times: number): boolean[] {
  return Array.from({ length: times }, () => throttle.admit(path, method));
}

describe('a method bucket', () => {
  it('admits the burst at once, then refuses until the rate refills a token', () => {
    let now = 0;
    const throttle = new Throttle([STAGE_DEFAULT], () => now);

    const burst = admitted(throttle, '/mcp', 'POST', 4);
    now += 499;
    const early = throttle.admit('/mcp', 'POST');
    now += 1;
    const refilled = throttle.admit('/mcp', 'POST');

    expect(burst).toEqual([true, true, true, false]);
    expect(early).toBe(false);
    expect(refilled).toBe(true);
  });

  it('refills no further than the burst', () => {
    let now = 0;
    const throttle = new Throttle([STAGE_DEFAULT], () => now);
    admitted(throttle, '/mcp', 'POST', 3);

    now += 60_000;

    expect(admitted(throttle, '/mcp', 'POST', 4)).toEqual([true, true, true, false]);
  });

  it("is each method's own under the stage default: one method's traffic leaves another's bucket full", () => {
    const throttle = new Throttle([STAGE_DEFAULT], () => 0);
    admitted(throttle, '/mcp', 'POST', 3);

    expect(throttle.admit('/mcp', 'POST')).toBe(false);
    expect(throttle.admit('/mcp', 'GET')).toBe(true);
    expect(throttle.admit('/token', 'POST')).toBe(true);
  });

  it("follows a method's own setting over the stage default", () => {
    const throttle = new Throttle([STAGE_DEFAULT, REGISTER], () => 0);

    expect(admitted(throttle, '/register', 'POST', 2)).toEqual([true, false]);
    expect(throttle.limitsOf('/register', 'POST')).toBe(REGISTER);
    expect(throttle.limitsOf('/register', 'GET')).toBe(STAGE_DEFAULT);
  });
});

describe("the account's regional quota", () => {
  it('admits a burst of 5,000 over all methods without stage settings, then refuses', () => {
    const throttle = new Throttle([], () => 0);

    const results = Array.from({ length: 5_001 }, (_, i) => throttle.admit(`/p${i % 7}`, 'GET'));

    expect(results.filter(Boolean)).toHaveLength(5_000);
    expect(results.at(-1)).toBe(false);
  });
});
