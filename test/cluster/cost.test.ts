/**
 * @module cost.test: what a cluster asks of Redis: a node subscribes only to
 * channels with members on it, and a channel message costs the same Redis
 * commands whatever the number of members or nodes.
 */
import { afterEach, expect, it } from 'vitest';
import { startChatServer, type ChatServer } from '../../src/server.js';
import { TestClient } from '../support/client.js';
import { describeWithRedis, useRedis } from '../support/redis.js';
import { TEST_LIVENESS } from '../support/server.js';

describeWithRedis('what a cluster costs Redis', () => {
  const redis = useRedis();
  const servers: ChatServer[] = [];
  const clients: TestClient[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.terminate()));
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });
  let clusters = 0;
  const twoNodes = async () => {
    const cluster = { prefix: `cost${(clusters += 1)}:`, liveness: TEST_LIVENESS };
    for (const nodeName of ['a', 'b']) servers.push(await startChatServer({ redis: redis.url, nodeName, cluster, limits: { historyOnJoin: 0 } }));
    return { a: servers.at(-2)!, b: servers.at(-1)!, topic: (channel: string) => `${cluster.prefix}ch:${channel}` };
  };
  const login = async (server: ChatServer, nick: string) => {
    const client = await TestClient.login(server.url, nick);
    clients.push(client);
    return client;
  };
  const join = async (client: TestClient, channel: string) => {
    client.send({ type: 4, channel });
    await client.until((frame) => frame.type === 4 && frame.epoch !== undefined);
  };
  const subscribers = async (topic: string) => {
    const [, count] = (await redis.client().pubsub('NUMSUB', topic)) as [string, number];
    return Number(count);
  };

  it('subscribes a node to a channel only while it has members in it', async () => {
    const { a, b, topic } = await twoNodes();
    const alice = await login(a, 'alice');
    const bob = await login(b, 'bob');
    expect(await subscribers(topic('#x'))).toBe(0);
    await join(alice, '#x');
    expect(await subscribers(topic('#x'))).toBe(1);
    await join(bob, '#x');
    expect(await subscribers(topic('#x'))).toBe(2);
    alice.send({ type: 5, channel: '#x' });
    await alice.until((frame) => frame.type === 5);
    await bob.until((frame) => frame.type === 5);
    expect(await subscribers(topic('#x'))).toBe(1);
    bob.send({ type: 5, channel: '#x' });
    await bob.until((frame) => frame.type === 5);
    await bob.expectQuiet();
    expect(await subscribers(topic('#x'))).toBe(0);
  });

  it('costs the same Redis commands per channel message with 2 members as with 10', async () => {
    const { a, b } = await twoNodes();
    const commandsPerMessage = async (channel: string, members: number) => {
      const clientsHere: TestClient[] = [];
      for (let i = 0; i < members; i += 1) {
        const client = await login(i % 2 === 0 ? a : b, `${channel.slice(1)}m${i}`);
        await join(client, channel);
        clientsHere.push(client);
      }
      const sender = clientsHere[0]!;
      // Everyone has heard the last join, which Redis numbered after everything before it: nothing left over to count.
      const last = `${channel.slice(1)}m${members - 1}`;
      for (const client of clientsHere.slice(0, -1)) await client.until((frame) => frame.type === 4 && frame.user === last);
      const before = await totalCalls();
      const messages = 20;
      for (let i = 0; i < messages; i += 1) sender.send({ type: 0, dest: channel, message: `m${i}` });
      for (const client of clientsHere) {
        for (let seen = 0; seen < messages; ) if ((await client.next()).type === 0) seen += 1;
      }
      return ((await totalCalls()) - before) / messages;
    };
    const measuring = redis.client();
    await measuring.ping();
    const totalCalls = async () => {
      const stats = await measuring.info('commandstats');
      // Every command Redis ran, the scripts' own included, but the INFO calls that measure and the
      // heartbeats' (SET, SADD, SMEMBERS, EXISTS), which run on their own clock whatever the traffic.
      return [...stats.matchAll(/^cmdstat_(\w+):calls=(\d+)/gm)]
        .filter(([, name]) => !['info', 'set', 'sadd', 'smembers', 'exists'].includes(name!))
        .reduce((sum, [, , calls]) => sum + Number(calls), 0);
    };
    const sequenced = async () => {
      const text = await (await fetch(`${a.url}/metrics`)).text();
      expect(text).toMatch(/^chat_redis_up\{node="a"\} 1$/m);
      return Number(/^chat_redis_operation_duration_seconds_count\{node="a",operation="sequence"\} (\d+)$/m.exec(text)?.[1]);
    };
    const sequencedBefore = await sequenced();
    const small = await commandsPerMessage('#small', 2);
    // Node a sequenced its member's join and the 20 messages, each one timed in /metrics.
    expect((await sequenced()) - sequencedBefore).toBe(21);
    const large = await commandsPerMessage('#large', 10);
    console.log(`Redis commands per channel message: ${small} with 2 members, ${large} with 10`);
    expect(large).toBe(small);
    expect(small).toBeLessThanOrEqual(6);
  });
});
