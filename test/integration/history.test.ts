/**
 * @module history.test: offsets and times on channel events, history on
 * join, recovery with `since`, paging (type 8) and retention, over real
 * sockets, on the memory and the SQLite store.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/store/sqlite.js';
import { joinChannel, say } from '../support/channels.js';
import type { Frame } from '../support/client.js';
import { clustered, useServer, type Harness } from '../support/server.js';

const start = useServer();
const freshDir = () => mkdtempSync(join(tmpdir(), 'xstate-chat-history-'));

const withoutStamps = ({ epoch: _, recovered: __, ...frame }: Frame) => frame;

describe('offsets and times', () => {
  it('stamps every channel event with a dense offset and a time, the same for every member', async () => {
    const { login } = await start();
    const alice = await login('alice');
    const bob = await login('bob');
    await alice.next();
    const aliceJoin = (await joinChannel(alice, 'alice', '#x')).own;
    const bobJoin = (await joinChannel(bob, 'bob', '#x')).own;
    const aliceSeesBob = await alice.next();
    const [hello] = await say(alice, '#x', 1);
    const bobSeesHello = await bob.next();
    bob.send({ type: 5, channel: '#x' });
    const bobLeave = await bob.next();
    const aliceSeesLeave = await alice.next();

    expect([aliceJoin.offset, bobJoin.offset, hello!.offset, bobLeave.offset]).toEqual([1, 2, 3, 4]);
    expect(withoutStamps(bobJoin)).toEqual(aliceSeesBob);
    expect(bobSeesHello).toEqual(hello);
    expect(aliceSeesLeave).toEqual(bobLeave);
    for (const frame of [aliceJoin, bobJoin, hello!, bobLeave]) {
      expect(frame.time).toBeGreaterThan(Date.now() - 60_000);
      expect(frame.time).toBeLessThanOrEqual(Date.now());
    }
    // Only the joiner's own copy carries the epoch.
    expect(aliceJoin.epoch).toEqual(expect.stringMatching(/^[0-9a-f]{16}$/));
    expect(aliceSeesBob).not.toHaveProperty('epoch');
  });

  it('numbers a leave caused by a disconnect too', async () => {
    const { login } = await start();
    const alice = await login('alice');
    const bob = await login('bob');
    await alice.next();
    await joinChannel(alice, 'alice', '#x');
    await joinChannel(bob, 'bob', '#x');
    await alice.next();
    await bob.terminate();
    const leave = await alice.next();
    expect(leave).toMatchObject({ type: 5, channel: '#x', user: 'bob', offset: 3 });
  });

  // The embedded engines' own: a cluster's restarts are in test/cluster.
  it.skipIf(clustered)('keeps numbering across a channel emptied and reopened, and across a restart on the same data directory', async () => {
    const dataDir = freshDir();
    const first = await start({ store: new SqliteStore({ dataDir }) });
    const alice = await first.login('alice');
    const { own } = await joinChannel(alice, 'alice', '#x');
    await say(alice, '#x', 2);
    alice.send({ type: 5, channel: '#x' });
    expect(await alice.next()).toMatchObject({ type: 5, offset: 4 });
    expect((await joinChannel(alice, 'alice', '#x')).own).toMatchObject({ offset: 5, epoch: own.epoch });
    await first.server.close();

    const second = await start({ store: new SqliteStore({ dataDir }), limits: { historyOnJoin: 50 } });
    const again = await second.login('alice');
    // Offset 6 was Alice's leave when the first server shut down and closed her socket.
    const { replay, own: rejoined } = await joinChannel(again, 'alice', '#x');
    expect(replay.map((frame) => [frame.type, frame.offset])).toEqual([[4, 1], [0, 2], [0, 3], [5, 4], [4, 5], [5, 6]]);
    expect(rejoined).toMatchObject({ offset: 7, epoch: own.epoch });
  });

  it.skipIf(clustered)('gives every memory store a new epoch', async () => {
    const a = await start();
    const b = await start();
    const epochOf = async (h: Harness) => (await joinChannel(await h.login('alice'), 'alice', '#x')).own.epoch;
    expect(await epochOf(a)).not.toBe(await epochOf(b));
  });
});

describe('history on join', () => {
  it('sends the joiner alone the channel’s last events, oldest first, exactly as sent plus history, before its join', async () => {
    const { login } = await start({ limits: { historyOnJoin: 3 } });
    const alice = await login('alice');
    const { own } = await joinChannel(alice, 'alice', '#x');
    const sent = await say(alice, '#x', 4);
    const bob = await login('bob');
    await alice.next();
    const { replay, own: bobJoin } = await joinChannel(bob, 'bob', '#x');
    expect(replay).toEqual(sent.slice(-3).map((frame) => ({ ...frame, history: true })));
    expect(bobJoin.offset).toBe(sent.at(-1)!.offset as number + 1);
    // Alice, already a member, hears the join and nothing of the replay.
    expect(await alice.next()).toEqual(withoutStamps(bobJoin));
    await alice.expectQuiet();
    expect(own.offset).toBe(1);
  });

  it('sends no history with --history-on-join 0', async () => {
    const { login } = await start({ limits: { historyOnJoin: 0 } });
    const alice = await login('alice');
    await joinChannel(alice, 'alice', '#x');
    await say(alice, '#x', 2);
    const bob = await login('bob');
    expect((await joinChannel(bob, 'bob', '#x')).replay).toEqual([]);
  });

  it('sends 50 by default', async () => {
    const { login } = await start({ limits: { historyOnJoin: 50, rateLimit: 0 } });
    const alice = await login('alice');
    await joinChannel(alice, 'alice', '#x');
    const sent = await say(alice, '#x', 60);
    const bob = await login('bob');
    const { replay } = await joinChannel(bob, 'bob', '#x');
    expect(replay.map((frame) => frame.offset)).toEqual(sent.slice(-50).map((frame) => frame.offset));
  });
});

describe('recovery with since', () => {
  it('sends every event after since, then a join saying recovered, and nothing twice', async () => {
    const { login } = await start({ limits: { historyOnJoin: 2 } });
    const alice = await login('alice');
    const bob = await login('bob');
    await alice.next();
    const { own } = await joinChannel(bob, 'bob', '#x');
    await joinChannel(alice, 'alice', '#x');
    await bob.next();
    const seen = await say(alice, '#x', 2, 'before');
    for (let i = 0; i < 2; i += 1) await bob.next();
    await bob.terminate();
    await alice.next();
    const missed = await say(alice, '#x', 5, 'missed');

    const back = await login('bob');
    await alice.next();
    const { replay, own: rejoin } = await joinChannel(back, 'bob', '#x', { since: seen.at(-1)!.offset, epoch: own.epoch });
    expect(replay.map(withoutStamps)).toEqual(
      [{ type: 5, channel: '#x', user: 'bob' }, ...missed].map((frame, i) => expect.objectContaining({ ...frame, offset: (seen.at(-1)!.offset as number) + 1 + i, history: true })),
    );
    expect(rejoin).toMatchObject({ recovered: true, epoch: own.epoch, offset: (missed.at(-1)!.offset as number) + 1 });
  });

  it('assumes the current epoch when none is given, and says recovered false for another epoch', async () => {
    const { login } = await start();
    const alice = await login('alice');
    await joinChannel(alice, 'alice', '#x');
    await say(alice, '#x', 2);
    const bob = await login('bob');
    await alice.next();
    const withoutEpoch = await joinChannel(bob, 'bob', '#x', { since: 2 });
    expect(withoutEpoch.replay.map((frame) => frame.offset)).toEqual([3]);
    expect(withoutEpoch.own.recovered).toBe(true);
    bob.send({ type: 5, channel: '#x' });
    await bob.next();
    await alice.next();
    await alice.next();
    const otherEpoch = await joinChannel(bob, 'bob', '#x', { since: 2, epoch: 'not-this-store' });
    // Offsets of another store mean nothing here: everything retained is sent, and it cannot say nothing is missing.
    expect(otherEpoch.replay.map((frame) => frame.offset)).toEqual([1, 2, 3, 4, 5]);
    expect(otherEpoch.own.recovered).toBe(false);
  });

  it('sends the newest events up to --recovery-limit and says recovered false when more were missed', async () => {
    const { login } = await start({ limits: { recoveryLimit: 3, rateLimit: 0 } });
    const alice = await login('alice');
    await joinChannel(alice, 'alice', '#x');
    const sent = await say(alice, '#x', 6);
    const bob = await login('bob');
    const { replay, own } = await joinChannel(bob, 'bob', '#x', { since: 1 });
    expect(replay.map((frame) => frame.offset)).toEqual(sent.slice(-3).map((frame) => frame.offset));
    expect(own.recovered).toBe(false);
  });

  // Retention by the embedded engines' pruner; Redis trims as it appends (test/cluster).
  it.skipIf(clustered).each([
    ['memory', () => undefined],
    ['SQLite', () => new SqliteStore({ dataDir: freshDir() })],
  ])('says recovered false when retention deleted events after since (%s store)', async (_, store) => {
    const { login } = await start({ store: store(), limits: { historySize: 3, rateLimit: 0 }, pruneIntervalMs: 20 });
    const alice = await login('alice');
    await joinChannel(alice, 'alice', '#x');
    const sent = await say(alice, '#x', 8);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const bob = await login('bob');
    const { replay, own } = await joinChannel(bob, 'bob', '#x', { since: 2 });
    // Only the newest 3 of the 9 events are kept.
    expect(replay.map((frame) => frame.offset)).toEqual(sent.slice(-3).map((frame) => frame.offset));
    expect(own.recovered).toBe(false);
    const current = await joinChannel(await login('carol'), 'carol', '#x', { since: sent.at(-1)!.offset });
    expect(current.own.recovered).toBe(true);
  });

  it('refuses a since or epoch of the wrong type with bad_request', async () => {
    const { login } = await start();
    const alice = await login('alice');
    for (const frame of [{ since: -1 }, { since: 1.5 }, { since: '3' }, { epoch: 7 }, { epoch: 'x'.repeat(65) }]) {
      alice.send({ type: 4, channel: '#x', id: 'j', ...frame });
      await alice.expectError('bad_request', 'j');
    }
  });
});

describe('paging (type 8)', () => {
  it('answers a member with the events before an offset, oldest first, in live shape, with more and the id', async () => {
    const { login } = await start({ limits: { rateLimit: 0 } });
    const alice = await login('alice');
    const { own } = await joinChannel(alice, 'alice', '#x');
    const sent = await say(alice, '#x', 5);
    const all = [withoutStamps(own), ...sent];

    alice.send({ type: 8, channel: 'X', limit: 2, id: 'p1' });
    expect(await alice.next()).toEqual({ type: 8, channel: '#x', events: all.slice(-2), more: true, id: 'p1' });
    alice.send({ type: 8, channel: '#x', before: 3, limit: 10 });
    expect(await alice.next()).toEqual({ type: 8, channel: '#x', events: all.slice(0, 2), more: false });
    alice.send({ type: 8, channel: '#x' });
    expect(await alice.next()).toEqual({ type: 8, channel: '#x', events: all, more: false });
  });

  it('refuses non-members with not_member and a bad before or limit with bad_request', async () => {
    const { login } = await start();
    const alice = await login('alice');
    alice.send({ type: 8, channel: '#x', id: 1 });
    await alice.expectError('not_member', 1);
    await joinChannel(alice, 'alice', '#x');
    for (const frame of [{ limit: 0 }, { limit: 201 }, { limit: 2.5 }, { before: 0 }, { before: 'x' }, {}]) {
      alice.send({ type: 8, id: 2, ...('limit' in frame || 'before' in frame ? { channel: '#x' } : {}), ...frame });
      await alice.expectError('bad_request', 2);
    }
  });
});
