/**
 * @module redis-accounts.test: what the Redis account engine does beyond the
 * store contract (test/store/store.test.ts runs that against it): its keys
 * stay under its prefix and expire on their own, it leaves a shared client
 * open, it names the Redis and what to check when Redis is gone, and it
 * works again, scripts included, once Redis is back.
 */
import { Redis } from 'ioredis';
import { expect, it } from 'vitest';
import { maskRedisUrl, RedisAccounts, RedisAccountsError } from '../../src/cluster/redis-accounts.js';
import { describeWithRedis, useRedis } from '../support/redis.js';

const account = { nick: 'Alice', passwordHash: '$scrypt$hash', createdAt: 1 };

it('masks the password of a Redis URL, and only that', () => {
  expect(maskRedisUrl('redis://user:s3cret@redis.example:6380/2')).toBe('redis://user:***@redis.example:6380/2');
  expect(maskRedisUrl('redis://:s3cret@127.0.0.1:6379')).toBe('redis://:***@127.0.0.1:6379');
  expect(maskRedisUrl('redis://127.0.0.1:6379/0')).toBe('redis://127.0.0.1:6379/0');
  const client = new Redis('redis://:s3cret@127.0.0.1:1/3', { lazyConnect: true });
  expect(new RedisAccounts(client).location).toBe('redis://:***@127.0.0.1:1/3');
  expect(new RedisAccounts(client, { url: 'redis://:s3cret@10.0.0.1:6379/3' }).location).toBe('redis://:***@10.0.0.1:6379/3');
  client.disconnect();
});

it('refuses a client with ioredis’s own keyPrefix, which its scripts could not honour, and says what to do instead', () => {
  const client = new Redis('redis://127.0.0.1:1', { lazyConnect: true, keyPrefix: 'app:' });
  expect(() => new RedisAccounts(client)).toThrow(/without it and pass \{ prefix \} here instead/);
  client.disconnect();
});

describeWithRedis('the redis account engine', () => {
  const redis = useRedis();

  it('keeps every key under its prefix, and lets Redis drop token keys some time after they expire', async () => {
    const client = redis.client();
    const store = new RedisAccounts(client, { prefix: 'keys:' });
    await store.createAccount('alice', account);
    const now = Date.now();
    await store.addToken('alice', 'h1', now + 60_000, now);
    expect((await client.keys('*')).filter((key) => !key.startsWith('keys:'))).toEqual([]);
    expect((await client.keys('keys:*')).sort()).toEqual(['keys:account:alice', 'keys:token:h1', 'keys:tokens:alice']);
    for (const key of ['keys:token:h1', 'keys:tokens:alice']) {
      // Its remaining lifetime plus the margin for clocks that differ between nodes (an hour).
      expect(await client.pttl(key)).toBeGreaterThan(60_000);
      expect(await client.pttl(key)).toBeLessThanOrEqual(60_000 + 60 * 60 * 1000);
    }
    expect(await client.pttl('keys:account:alice')).toBe(-1);
  });

  it('leaves a shared client open on close, and quits one it owns', async () => {
    const shared = redis.client();
    await new RedisAccounts(shared).close();
    expect(await shared.ping()).toBe('PONG');
    const owned = redis.client();
    await owned.ping();
    await new RedisAccounts(owned, { ownsClient: true }).close();
    await until(() => owned.status === 'end');
  });

  it('fails at once while Redis is down, saying which Redis and what to check, and works again once it is back', async () => {
    // What a cluster node's client is made with: no queue while disconnected, so a request fails rather than waits.
    // Such a client refuses commands until it is connected, so it is connected first (lazyConnect, then connect()).
    const client = redis.client({ enableOfflineQueue: false, maxRetriesPerRequest: 0, lazyConnect: true });
    await client.connect();
    const store = new RedisAccounts(client, { url: redis.url, prefix: 'down:' });
    await store.createAccount('alice', account);
    await redis.restart();
    await until(() => client.status === 'ready');
    // The restart emptied Redis's script cache: ioredis falls back from EVALSHA to EVAL by itself.
    expect(await store.createAccount('alice', account)).toBe(false);

    await redis.stop();
    const failed = store.findAccount('alice');
    await expect(failed).rejects.toThrow(RedisAccountsError);
    await expect(failed).rejects.toThrow(`Redis at ${redis.url}`);
    await expect(failed).rejects.toThrow(/Check that it is running and reachable/);

    await redis.start();
    await until(() => client.status === 'ready');
    expect(await store.findAccount('alice')).toEqual(account);
  });
});

async function until(test: () => boolean, timeoutMs = 5_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !test(); await new Promise((resolve) => setTimeout(resolve, 20))) {
    if (Date.now() > deadline) throw new Error(`not so within ${timeoutMs} ms`);
  }
}
