/**
 * @module redis-harness.test: the test Redis itself (test/support/redis.ts),
 * since the cluster's fault tests lean on it: restarts keep the data as an
 * operator's would, a crash loses it, and a stopped server refuses clients
 * until it is started again on the same address.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { describeWithRedis, useRedis } from '../support/redis.js';

describeWithRedis('the test redis-server', () => {
  const redis = useRedis();

  it('answers on loopback, with persistence off', async () => {
    const client = redis.client();
    expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
    expect(await client.ping()).toBe('PONG');
    expect(await client.config('GET', 'save')).toEqual(['save', '']);
    expect(await client.config('GET', 'appendonly')).toEqual(['appendonly', 'no']);
  });

  it('keeps its data across restart(), and across stop() and a later start(), on the same port', async () => {
    const client = redis.client();
    await client.set('kept', 'yes');
    await redis.restart();
    expect(existsSync(join(redis.dir, 'dump.rdb'))).toBe(true);
    expect(await client.get('kept')).toBe('yes');

    await client.set('kept', 'still');
    await redis.stop();
    expect(redis.running).toBe(false);
    const offline = redis.client({ enableOfflineQueue: false, retryStrategy: () => null, lazyConnect: true });
    const refused = new Promise((resolve) => offline.once('error', resolve));
    // ioredis rejects connect() with 'Connection is closed.'; the cause comes as an 'error' event.
    await expect(offline.connect()).rejects.toThrow('Connection is closed.');
    expect(await refused).toMatchObject({ code: 'ECONNREFUSED' });
    await redis.start();
    expect(redis.running).toBe(true);
    expect(await client.get('kept')).toBe('still');
  });

  it('loses what was not saved when killed', async () => {
    const client = redis.client();
    await client.set('lost', 'soon');
    await redis.kill();
    await redis.start();
    expect(await client.get('lost')).toBeNull();
  });
});
