/**
 * @module auth-storm.test: 200 password logins at once, at the real hashing
 * cost, while two other users chat: their messages keep flowing, hashing
 * stays within its pool, and memory stays bounded.
 */
import { describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/accounts/passwords.js';
import { nickKey } from '../../machines/names.js';
import { MemoryStore } from '../../src/store/memory.js';
import { PASSWORD } from '../support/auth.js';
import { TestClient } from '../support/client.js';
import { useServer } from '../support/server.js';

const start = useServer();
const STORM = 200;
/** Generous: a round trip on an idle loopback takes about a millisecond; a starved event loop takes seconds. */
const ROUND_TRIP_BOUND_MS = 1_000;
const MEMORY_BOUND_BYTES = 256 * 1024 * 1024;

describe('a storm of password logins', () => {
  it(`logs ${STORM} registered users in at once while others' messages keep flowing and memory stays bounded`, { timeout: 120_000 }, async () => {
    const store = new MemoryStore();
    // One hash serves every account (same password): seeding must not take the storm's own time.
    const passwordHash = await hashPassword(PASSWORD);
    const nicks = Array.from({ length: STORM }, (_, i) => `user${i}`);
    for (const nick of nicks) await store.createAccount(nickKey(nick), { nick, passwordHash, createdAt: Date.now() });
    const { login, server } = await start({ store, limits: { maxConnectionsPerIp: 0, maxConnections: STORM + 10 } });

    const alice = await login('alice');
    const bob = await login('bob');
    await alice.next();
    for (const [nick, client] of [['alice', alice], ['bob', bob]] as const) {
      client.send({ type: 4, channel: '#calm' });
      await client.until((frame) => frame.type === 4 && frame.user === nick);
    }

    const rssBefore = process.memoryUsage().rss;
    let rssPeak = rssBefore;
    const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 25);

    const storm = Promise.all(
      nicks.map(async (nick) => {
        const client = await TestClient.connect(server.url, nick);
        client.send({ type: 2, user: nick, password: PASSWORD });
        await client.until((frame) => frame.type === 2 && frame.user === nick && typeof frame.token === 'string', 90_000);
        return client;
      }),
    );
    let stormDone = false;
    void storm.finally(() => (stormDone = true));

    const roundTrips: number[] = [];
    while (!stormDone || roundTrips.length < 5) {
      const sentAt = performance.now();
      const text = `ping ${roundTrips.length}`;
      alice.send({ type: 0, dest: '#calm', message: text });
      await alice.until((frame) => frame.type === 0 && frame.message === text, 10_000);
      roundTrips.push(performance.now() - sentAt);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const clients = await storm;
    clearInterval(sampler);

    expect(clients).toHaveLength(STORM);
    expect(server.actor.getSnapshot().context.nicks.size).toBe(STORM + 2);
    expect(Math.max(...roundTrips)).toBeLessThan(ROUND_TRIP_BOUND_MS);
    expect(server.accounts.hashes.peak).toBeLessThanOrEqual(server.accounts.hashes.concurrency);
    expect(rssPeak - rssBefore).toBeLessThan(MEMORY_BOUND_BYTES);
    await Promise.all(clients.map((client) => client.terminate()));
  });
});
