/**
 * @module faults.test: a cluster when things below it fail: a node killed
 * mid-traffic, Redis taken away and brought back, two logins racing for one
 * nick on two nodes, a node drained, an owner signing in on another node.
 * Real redis-server, real sockets; the killed node is a real process.
 */
import { rmSync } from 'node:fs';
import { join as joinPath } from 'node:path';
import { pino } from 'pino';
import { afterEach, expect, it } from 'vitest';
import { CHEAP_SCRYPT } from '../support/accounts.js';
import { PASSWORD, register } from '../support/auth.js';
import { useCli } from '../support/cli-process.js';
import { TestClient, type Frame } from '../support/client.js';
import { describeWithRedis, useRedis } from '../support/redis.js';
import { TEST_LIVENESS } from '../support/server.js';
import { startChatServer, type ChatServer, type ChatServerOptions } from '../../src/server.js';

describeWithRedis('a cluster when things fail', () => {
  const redis = useRedis();
  const run = useCli();
  const servers: ChatServer[] = [];
  const clients: TestClient[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.terminate()));
    await Promise.all(servers.splice(0).map((server) => server.close()));
    // Each test starts from an empty Redis, so no node of an earlier test is judged dead by a later one.
    if (redis.running) await redis.client().flushall();
  });

  const node = async (nodeName: string, options: ChatServerOptions = {}) => {
    const server = await startChatServer({
      redis: redis.url,
      nodeName,
      limits: { historyOnJoin: 0 },
      accounts: { policy: { scrypt: CHEAP_SCRYPT } },
      ...options,
    });
    servers.push(server);
    return server;
  };
  const track = (client: TestClient) => {
    clients.push(client);
    return client;
  };
  const login = async (server: { url: string }, nick: string) => track(await TestClient.login(server.url, nick));
  const join = async (client: TestClient, channel: string) => {
    client.send({ type: 4, channel });
    return client.until((frame) => frame.type === 4 && frame.channel === channel && frame.epoch !== undefined);
  };

  it("announces a killed node's users leaving and logging out exactly once across the survivors, within 15 s, and loses nothing for the others", async () => {
    // Production liveness timings: the 15 s are the operator's, not a test's.
    const a = await node('a');
    const b = await node('b');
    const c = await run(['--redis', redis.url, '--node-name', 'c', '--port', '0']);
    const alice = await login(a, 'alice');
    const bob = await login(b, 'bob');
    const carol = track(await TestClient.login(c.url, 'carol'));
    const dave = track(await TestClient.login(c.url, 'dave'));
    for (const client of [alice, bob, carol, dave]) await join(client, '#room');

    // Alice and Bob keep talking while c dies.
    let sending = true;
    const sent = { alice: 0, bob: 0 };
    const talk = async (client: TestClient, who: 'alice' | 'bob') => {
      while (sending) {
        client.send({ type: 0, dest: '#room', message: `${who} ${(sent[who] += 1)}` });
        // Under the rate limit (20 frames a second), which would otherwise disconnect the talkers.
        await new Promise((resolve) => setTimeout(resolve, 75));
      }
    };
    const talking = Promise.all([talk(alice, 'alice'), talk(bob, 'bob')]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const killedAt = Date.now();
    c.child.kill('SIGKILL');

    const heard = async (client: TestClient) => {
      const frames: Frame[] = [];
      const gone = () => ['carol', 'dave'].every((nick) => frames.some((frame) => frame.type === 3 && frame.user === nick));
      while (!gone()) frames.push(await client.next(undefined, 20_000));
      return { frames, at: Date.now() };
    };
    const [forAlice, forBob] = await Promise.all([heard(alice), heard(bob)]);
    const announcedIn = Math.max(forAlice.at, forBob.at) - killedAt;
    console.log(`node killed: its users announced gone after ${announcedIn} ms`);
    expect(announcedIn).toBeLessThan(15_000);
    // Anything more would have come within a few more heartbeats.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    sending = false;
    await talking;
    // The last messages are on their way: everything sent arrives before a list answered after it.
    const all = { alice: [...forAlice.frames, ...(await alice.drain())], bob: [...forBob.frames, ...(await bob.drain())] };

    for (const frames of Object.values(all)) {
      for (const nick of ['carol', 'dave']) {
        expect(frames.filter((frame) => frame.type === 5 && frame.user === nick)).toHaveLength(1);
        expect(frames.filter((frame) => frame.type === 3 && frame.user === nick)).toHaveLength(1);
        // A leave before the logout, as on one node.
        expect(frames.findIndex((frame) => frame.type === 5 && frame.user === nick)).toBeLessThan(
          frames.findIndex((frame) => frame.type === 3 && frame.user === nick),
        );
      }
    }
    // Nothing lost: both see the same channel events, with dense offsets, and every message either sent.
    // (Alice joined first, so her frames start with joins Bob's do not: both are compared from where both had joined.)
    const from = Math.max(...[all.alice, all.bob].map((frames) => frames.find((frame) => frame.offset !== undefined)!.offset as number));
    const channelEvents = (frames: Frame[]) => frames.filter((frame) => (frame.offset as number) >= from);
    const offsets = channelEvents(all.alice).map((frame) => frame.offset as number);
    expect(offsets).toEqual(Array.from({ length: offsets.length }, (_, i) => from + i));
    expect(channelEvents(all.bob)).toEqual(channelEvents(all.alice));
    const messages = channelEvents(all.alice).filter((frame) => frame.type === 0).map((frame) => frame.message);
    for (const who of ['alice', 'bob'] as const) {
      const own = messages.filter((message) => (message as string).startsWith(`${who} `));
      expect(own).toEqual(Array.from({ length: sent[who] }, (_, i) => `${who} ${i + 1}`));
    }
    // Their nicks are free again, on any node.
    const again = await login(b, 'carol');
    expect(again.ws.readyState).toBe(again.ws.OPEN);
  }, 60_000);

  it('answers unavailable while Redis is away, refuses new connections with 503 and says degraded, and resumes within 5 s of its return, saying so in the log', async () => {
    const lines: { msg: string }[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as { msg: string }) });
    const a = await node('a', { cluster: { liveness: TEST_LIVENESS }, logger });
    const b = await node('b', { cluster: { liveness: TEST_LIVENESS } });
    const alice = await login(a, 'alice');
    const bob = await login(b, 'bob');
    await join(alice, '#room');
    await join(bob, '#room');
    await alice.next((frame) => frame.type === 4 && frame.user === 'bob');
    alice.send({ type: 0, dest: '#room', message: 'before' });
    const before = await bob.next((frame) => frame.type === 0);
    await alice.next((frame) => frame.type === 0);

    await redis.stop();
    alice.send({ type: 0, dest: '#room', message: 'while away', id: 'm1' });
    await alice.expectError('unavailable', 'm1');
    await expect(TestClient.connect(b.url, 'carol')).rejects.toThrow('HTTP 503');
    const health = await fetch(`${a.url}/healthz`);
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({ status: 'degraded' });
    bob.send({ type: 6, channel: '#room', id: 'who' });
    await bob.expectError('unavailable', 'who');
    // Both sockets stayed open through it.
    expect([alice.ws.readyState, bob.ws.readyState]).toEqual([alice.ws.OPEN, bob.ws.OPEN]);

    await redis.start();
    const back = Date.now();
    for (const server of [a, b]) {
      while ((await fetch(`${server.url}/healthz`)).status !== 200) {
        expect(Date.now() - back).toBeLessThan(5_000);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    console.log(`Redis back: both nodes healthy after ${Date.now() - back} ms`);
    expect(lines.map((line) => line.msg)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^lost Redis: /), expect.stringMatching(/^Redis is back: /)]),
    );
    alice.send({ type: 0, dest: '#room', message: 'after' });
    const after = await bob.next((frame) => frame.type === 0);
    expect(after).toMatchObject({ message: 'after', offset: (before.offset as number) + 1 });
    await alice.next((frame) => frame.type === 0 && frame.message === 'after');
    track(await TestClient.login(b.url, 'carol'));
  }, 30_000);

  it('never delivers a message to some members and not others while Redis comes and goes mid-traffic, and catches up on what it missed', async () => {
    const a = await node('a', { cluster: { liveness: TEST_LIVENESS } });
    const b = await node('b', { cluster: { liveness: TEST_LIVENESS } });
    const alice = await login(a, 'alice');
    const bob = await login(b, 'bob');
    const carol = await login(b, 'carol');
    await join(alice, '#room');
    await join(bob, '#room');
    const talkers = { alice, bob };
    const sent = { alice: 0, bob: 0 };
    let sending = true;
    const talk = async (who: 'alice' | 'bob') => {
      while (sending) {
        talkers[who].send({ type: 0, dest: '#room', message: `${who} ${(sent[who] += 1)}` });
        await new Promise((resolve) => setTimeout(resolve, 75));
      }
    };
    const talking = Promise.all([talk('alice'), talk('bob')]);
    await new Promise((resolve) => setTimeout(resolve, 700));
    await redis.stop();
    // Carol logs out while Redis is away: her own node tells its users at once, the other node once Redis is back.
    carol.send({ type: 3 });
    await new Promise((resolve) => setTimeout(resolve, 700));
    await redis.start();
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    sending = false;
    await talking;

    const seen = { alice: await alice.drain(), bob: await bob.drain() };
    const events = (frames: Frame[]) => frames.filter((frame) => frame.type === 0);
    // One truth: the same messages, with the same offsets, for both members (from where both were listening).
    const from = Math.max(...[seen.alice, seen.bob].map((frames) => events(frames)[0]!.offset as number));
    const since = (frames: Frame[]) => events(frames).filter((frame) => (frame.offset as number) >= from);
    expect(since(seen.bob)).toEqual(since(seen.alice));
    for (const who of ['alice', 'bob'] as const) {
      const delivered = events(seen[who]).filter((frame) => (frame.message as string).startsWith(`${who} `)).length;
      const refused = seen[who].filter((frame) => frame.type === -1 && frame.code === 'unavailable').length;
      expect(refused).toBeGreaterThan(0);
      expect(delivered + refused).toBe(sent[who]);
    }
    expect(seen.alice.filter((frame) => frame.type === 3 && frame.user === 'carol')).toHaveLength(1);
    expect(seen.bob.filter((frame) => frame.type === 3 && frame.user === 'carol')).toHaveLength(1);
    // Her nick was freed once Redis was back.
    await login(a, 'carol');
  }, 30_000);

  it('keeps serving in a new epoch when Redis comes back empty, with who is online and where put back', async () => {
    const a = await node('a', { cluster: { liveness: TEST_LIVENESS } });
    const b = await node('b', { cluster: { liveness: TEST_LIVENESS } });
    const alice = await login(a, 'alice');
    const bob = await login(b, 'bob');
    const first = await join(alice, '#d');
    await join(bob, '#d');
    await alice.until((frame) => frame.type === 4 && frame.user === 'bob');

    await redis.kill();
    // Nothing saved comes back: not even an earlier test's dump.
    rmSync(joinPath(redis.dir, 'dump.rdb'), { force: true });
    await redis.start();
    for (const server of [a, b]) {
      while ((await fetch(`${server.url}/healthz`)).status !== 200) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    alice.send({ type: 0, dest: '#d', message: 'after the loss' });
    const heard = await bob.until((frame) => frame.type === 0);
    // Offsets start again, in a new epoch: a client's old offsets are not mistaken for these.
    expect(heard).toMatchObject({ message: 'after the loss', offset: 1 });
    await alice.until((frame) => frame.type === 0 && frame.message === 'after the loss');
    bob.send({ type: 6, id: 'all' });
    expect(((await bob.until((frame) => frame.id === 'all')).users as string[]).sort()).toEqual(['alice', 'bob']);
    bob.send({ type: 6, channel: '#d', id: 'room' });
    expect(((await bob.until((frame) => frame.id === 'room')).users as string[]).sort()).toEqual(['alice', 'bob']);
    const impostor = track(await TestClient.connect(b.url, 'ALICE'));
    await impostor.expectError('nick_taken');
    // A rejoin with the old epoch's offset is told what it missed cannot be recovered.
    bob.send({ type: 5, channel: '#d' });
    await bob.until((frame) => frame.type === 5 && frame.user === 'bob');
    bob.send({ type: 4, channel: '#d', since: 2, epoch: first.epoch });
    expect(await bob.until((frame) => frame.type === 4 && frame.user === 'bob')).toMatchObject({ recovered: false });
  }, 30_000);

  it('lets exactly one of two logins of one nick on two nodes win', async () => {
    const a = await node('a');
    const b = await node('b');
    for (let round = 0; round < 20; round += 1) {
      const nick = `zed${round}`;
      const [one, two] = await Promise.all([TestClient.connect(a.url, nick), TestClient.connect(b.url, nick)]);
      track(one);
      track(two);
      const outcomes = await Promise.all([one.next(), two.next()]);
      expect(outcomes.filter((frame) => frame.type === 2 && frame.user === nick)).toHaveLength(1);
      expect(outcomes.filter((frame) => frame.type === -1 && frame.code === 'nick_taken')).toHaveLength(1);
      const loser = outcomes[0]!.type === -1 ? one : two;
      expect((await loser.closed).code).toBe(1008);
    }
  });

  it('drains one node on SIGTERM: its clients get 1001, the others hear each of its users leave once, and keep chatting', async () => {
    const a = await node('a', { cluster: { liveness: TEST_LIVENESS } });
    const b = await run(['--redis', redis.url, '--node-name', 'b', '--port', '0']);
    const alice = await login(a, 'alice');
    const bob = track(await TestClient.login(b.url, 'bob'));
    await alice.next((frame) => frame.type === 2 && frame.user === 'bob');
    await join(alice, '#room');
    await join(bob, '#room');
    await alice.next((frame) => frame.type === 4 && frame.user === 'bob');

    b.child.kill('SIGTERM');
    expect((await bob.closed).code).toBe(1001);
    await alice.expect({ type: 5, channel: '#room', user: 'bob' });
    await alice.expect({ type: 3, user: 'bob' });
    const code = b.child.exitCode ?? (await new Promise<number | null>((resolve) => b.child.once('exit', (exit) => resolve(exit))));
    expect(code).toBe(0);
    // A drained node is not a dead one: nobody announces its users a second time.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    await alice.expectQuiet();
    alice.send({ type: 0, dest: '#room', message: 'still here' });
    await alice.expect({ type: 0, dest: '#room', message: 'still here', user: 'alice' });
  }, 30_000);

  it("closes an owner's session on another node with 4001, and everyone hears its logout before the new login", async () => {
    const a = await node('a');
    const b = await node('b');
    const watcher = await login(b, 'watcher');
    const first = await login(a, 'owner');
    await watcher.next((frame) => frame.type === 2 && frame.user === 'owner');
    await register(first, 'owner');
    const second = track(await TestClient.connect(b.url, 'owner'));
    await second.expectError('auth_required');
    second.send({ type: 2, user: 'owner', password: PASSWORD });
    expect((await first.closed).code).toBe(4001);
    await second.next((frame) => frame.type === 2 && frame.user === 'owner' && typeof frame.token === 'string');
    await watcher.expect({ type: 3, user: 'owner' });
    await watcher.expect({ type: 2, user: 'owner' });
    watcher.send({ type: 6, id: 'who' });
    expect((await watcher.next()).users).toEqual(['watcher', 'owner']);
  });
});
