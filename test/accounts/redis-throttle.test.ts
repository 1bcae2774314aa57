/**
 * @module redis-throttle.test: the Redis throttle decides exactly as the
 * in-memory one does (checked against it as an oracle, by the clock the
 * caller passes), shares its lockouts between clients as a cluster's nodes
 * do, counts failures recorded at once, keeps its keys under the prefix
 * with an expiry, and names the Redis when it is gone.
 */
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { Throttle, type ThrottlePolicy } from '../../src/accounts/throttle.js';
import { Keys } from '../../src/cluster/keys.js';
import { GC_MARGIN_MS, RedisAccountsError } from '../../src/cluster/redis-accounts.js';
import { RedisThrottle } from '../../src/cluster/redis-throttle.js';
import { describeWithRedis, useRedis } from '../support/redis.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const BY_NICK: ThrottlePolicy = { after: 5, windowMs: Number.POSITIVE_INFINITY, baseMs: MINUTE, maxMs: HOUR };
const BY_ADDRESS: ThrottlePolicy = { after: 20, windowMs: 10 * MINUTE, baseMs: MINUTE, maxMs: HOUR };

describeWithRedis('the redis throttle', () => {
  const redis = useRedis();
  let prefixes = 0;
  const throttle = (policy: ThrottlePolicy, client = redis.client(), prefix = `t${(prefixes += 1)}:`) =>
    new RedisThrottle(client, policy, { keys: new Keys(prefix), scope: 'nick', location: redis.url });

  it('locks a key on its fifth failure for a minute, doubling to an hour, by the clock it is given', async () => {
    const locks = throttle(BY_NICK);
    for (let i = 0; i < 4; i += 1) await locks.fail('alice', 0);
    expect(await locks.retryAfter('alice', 0)).toBe(0);
    await locks.fail('alice', 0);
    expect(await locks.retryAfter('alice', 0)).toBe(MINUTE);
    expect(await locks.retryAfter('alice', MINUTE)).toBe(0);
    expect(await locks.retryAfter('bob', 0)).toBe(0);
    let now = MINUTE;
    const lockouts: number[] = [];
    for (let i = 0; i < 8; i += 1) {
      await locks.fail('alice', now);
      lockouts.push(await locks.retryAfter('alice', now));
      now += lockouts.at(-1)!;
    }
    expect(lockouts).toEqual([2, 4, 8, 16, 32, 60, 60, 60].map((minutes) => minutes * MINUTE));
    await locks.reset('alice');
    expect(await locks.retryAfter('alice', now)).toBe(0);
  });

  it('decides as the in-memory throttle does, whatever the failures, resets and clock', async () => {
    // Small advances decide within windows and lockouts; large ones cross the horizon past which a key is forgotten.
    const advance = fc.oneof(fc.integer({ min: 0, max: 2 * MINUTE }), fc.integer({ min: 0, max: 3 * HOUR }));
    const step = fc.record({ act: fc.constantFrom('fail', 'fail', 'fail', 'reset'), key: fc.constantFrom('a', 'b'), advance });
    const steps = fc.array(step, { maxLength: 40 });
    const client = redis.client();
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(BY_NICK, BY_ADDRESS), steps, async (policy, run) => {
        const oracle = new Throttle(policy);
        const shared = throttle(policy, client);
        let now = 1_700_000_000_000;
        for (const { act, key, advance: by } of run) {
          now += by;
          if (act === 'reset') {
            oracle.reset(key);
            await shared.reset(key);
          } else {
            oracle.fail(key, now);
            await shared.fail(key, now);
          }
          for (const probe of ['a', 'b']) expect(await shared.retryAfter(probe, now)).toBe(oracle.retryAfter(probe, now));
        }
      }),
      {
        numRuns: 60,
        // A key idle just past the horizon, failing again before the in-memory throttle's next sweep: forgotten by both.
        examples: [[BY_NICK, [...Array.from({ length: 4 }, () => ({ act: 'fail', key: 'a', advance: 0 })), { act: 'fail', key: 'b', advance: 50 * MINUTE }, { act: 'fail', key: 'a', advance: 11 * MINUTE }]]],
      },
    );
  });

  it('shares lockouts between clients, and counts failures recorded at the same moment on both', async () => {
    const [one, two] = [redis.client(), redis.client()].map((client) => throttle(BY_NICK, client, 'shared:'));
    await Promise.all([1, 2, 3, 4, 5].map((i) => (i % 2 ? one! : two!).fail('alice', 0)));
    expect(await one!.retryAfter('alice', 0)).toBe(MINUTE);
    expect(await two!.retryAfter('alice', 0)).toBe(MINUTE);
    await two!.reset('alice');
    expect(await one!.retryAfter('alice', 0)).toBe(0);
  });

  it('keeps its keys under the prefix, and lets Redis drop them some time after they would be forgotten', async () => {
    const client = redis.client();
    const byNick = new RedisThrottle(client, BY_NICK, { keys: new Keys('keys:'), scope: 'nick', location: redis.url });
    const byAddress = new RedisThrottle(client, BY_ADDRESS, { keys: new Keys('keys:'), scope: 'address', location: redis.url });
    await byNick.fail('alice', Date.now());
    await byAddress.fail('::1', Date.now());
    expect((await client.keys('keys:*')).sort()).toEqual(['keys:throttle:address:::1', 'keys:throttle:nick:alice']);
    for (const key of ['keys:throttle:address:::1', 'keys:throttle:nick:alice']) {
      expect(await client.pttl(key)).toBeGreaterThan(HOUR);
      expect(await client.pttl(key)).toBeLessThanOrEqual(HOUR + GC_MARGIN_MS);
    }
  });

  it('fails while Redis is down, naming it, and works again once it is back', async () => {
    // A cluster node's client: no queue while disconnected, so a check fails rather than waits.
    const client = redis.client({ enableOfflineQueue: false, maxRetriesPerRequest: 0, lazyConnect: true });
    await client.connect();
    const locks = throttle(BY_NICK, client);
    for (let i = 0; i < 5; i += 1) await locks.fail('alice', 0);
    await redis.stop();
    await expect(locks.retryAfter('alice', 0)).rejects.toThrow(RedisAccountsError);
    await expect(locks.fail('alice', 0)).rejects.toThrow(`Redis at ${redis.url}`);
    await redis.start();
    for (const deadline = Date.now() + 5_000; client.status !== 'ready' && Date.now() < deadline; ) await new Promise((resolve) => setTimeout(resolve, 20));
    // The lockout was saved with the data; the script is loaded again by itself (EVALSHA falls back to EVAL).
    expect(await locks.retryAfter('alice', 0)).toBe(MINUTE);
    await locks.fail('alice', MINUTE);
    expect(await locks.retryAfter('alice', MINUTE)).toBe(2 * MINUTE);
  });
});
