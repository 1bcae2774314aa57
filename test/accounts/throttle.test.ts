/**
 * @module throttle.test: lockouts after repeated failures, by the clock.
 */
import { describe, expect, it } from 'vitest';
import { Throttle } from '../../src/accounts/throttle.js';

const MINUTE = 60_000;
const consecutive = () => new Throttle({ after: 5, windowMs: Number.POSITIVE_INFINITY, baseMs: MINUTE, maxMs: 60 * MINUTE });

describe('throttle', () => {
  it('locks a key on its fifth failure, for a minute', () => {
    const throttle = consecutive();
    for (let i = 0; i < 4; i += 1) throttle.fail('alice', 0);
    expect(throttle.retryAfter('alice', 0)).toBe(0);
    throttle.fail('alice', 0);
    expect(throttle.retryAfter('alice', 0)).toBe(MINUTE);
    expect(throttle.retryAfter('alice', MINUTE)).toBe(0);
    expect(throttle.retryAfter('bob', 0)).toBe(0);
  });

  it('doubles each further lockout, up to an hour', () => {
    const throttle = consecutive();
    for (let i = 0; i < 5; i += 1) throttle.fail('alice', 0);
    let now = 0;
    const lockouts: number[] = [MINUTE];
    for (let i = 0; i < 8; i += 1) {
      now += throttle.retryAfter('alice', now);
      throttle.fail('alice', now);
      lockouts.push(throttle.retryAfter('alice', now));
    }
    expect(lockouts).toEqual([1, 2, 4, 8, 16, 32, 60, 60, 60].map((minutes) => minutes * MINUTE));
  });

  it('starts over after a reset', () => {
    const throttle = consecutive();
    for (let i = 0; i < 5; i += 1) throttle.fail('alice', 0);
    throttle.reset('alice');
    expect(throttle.retryAfter('alice', 0)).toBe(0);
    throttle.fail('alice', 0);
    expect(throttle.retryAfter('alice', 0)).toBe(0);
  });

  it('counts only failures within its window when it has one', () => {
    const throttle = new Throttle({ after: 20, windowMs: 10 * MINUTE, baseMs: MINUTE, maxMs: 60 * MINUTE });
    for (let i = 0; i < 19; i += 1) throttle.fail('10.0.0.1', i * MINUTE);
    throttle.fail('10.0.0.1', 19 * MINUTE);
    expect(throttle.retryAfter('10.0.0.1', 19 * MINUTE)).toBe(0);
    for (let i = 0; i < 20; i += 1) throttle.fail('10.0.0.2', 30 * MINUTE + i);
    expect(throttle.retryAfter('10.0.0.2', 30 * MINUTE + 19)).toBe(MINUTE);
  });

  it('forgets keys idle for longer than its longest lockout', () => {
    const throttle = consecutive();
    throttle.fail('alice', 0);
    throttle.fail('bob', 2 * 60 * MINUTE);
    expect(throttle.size).toBe(1);
  });
});
