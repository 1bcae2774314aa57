/**
 * @module cluster-outbox.test: nodes of a cluster as whole actor trees over a
 * fake sequencer (test/support/fake-cluster.ts), with fake connections: what
 * each node delivers, and when, decided by what the cluster hands back.
 */
import { createActor } from 'xstate';
import { describe, expect, it } from 'vitest';
import { createClusterOutbox } from '../../machines/cluster-outbox.js';
import { serverMachine } from '../../machines/server.machine.js';
import { withEffects } from '../../src/effects.js';
import { settle, testAccounts } from '../support/accounts.js';
import { FakeCluster, type FakeBus } from '../support/fake-cluster.js';
import { connector } from '../support/server-actor.js';

function node(cluster: FakeCluster, name: string, historyOnJoin = 0) {
  const bus = cluster.bus(name);
  const outbox = createClusterOutbox({ bus, historyOnJoin, recoveryLimit: 100 });
  const server = createActor(withEffects(serverMachine, testAccounts(), { outbox, claimNick: (input) => bus.claim(input) }), {
    input: { clustered: true },
  }).start();
  return { bus, server, connect: connector(server) };
}

/** Alice on node a and Bob on node b, both in #x, their frames so far taken. */
async function aliceAndBobInX(cluster: FakeCluster) {
  const a = node(cluster, 'a');
  const b = node(cluster, 'b');
  const alice = await a.connect('alice');
  const bob = await b.connect('bob');
  alice.send({ type: 'client.join', channel: '#x' });
  await flush(cluster);
  bob.send({ type: 'client.join', channel: '#x' });
  await flush(cluster);
  alice.connection.take();
  bob.connection.take();
  return { a, b, alice, bob };
}

/** Lets every promise settle and the cluster hand out what is on its way, until nothing moves. */
async function flush(cluster: FakeCluster, lose?: (to: FakeBus, index: number) => boolean): Promise<void> {
  for (let round = 0; round < 6; round += 1) {
    await settle();
    cluster.deliver(round === 0 ? lose : undefined);
  }
  await settle();
}

const messages = (frames: unknown[]) => frames.filter((frame) => (frame as { type: number }).type === 0);

describe('a cluster node’s outbox', () => {
  it('delivers a channel event on every node, the sender’s too, only once the sequencer hands it back', async () => {
    const cluster = new FakeCluster();
    const { alice, bob } = await aliceAndBobInX(cluster);

    alice.send({ type: 'client.message', channel: '#x', message: 'hi' });
    await settle();
    expect(cluster.streams.get('#x')!.at(-1)).toMatchObject({ kind: 'say', node: 'a', member: alice.id, offset: 3 });
    expect(alice.connection.take()).toEqual([]);
    cluster.deliver();
    await settle();
    const frame = { type: 0, dest: '#x', message: 'hi', user: 'alice', offset: 3, time: 1_003 };
    expect(alice.connection.take()).toEqual([frame]);
    expect(bob.connection.take()).toEqual([frame]);
  });

  it('fills a gap from the kept stream before it delivers what came after it', async () => {
    const cluster = new FakeCluster();
    const { b, alice, bob } = await aliceAndBobInX(cluster);
    for (const message of ['one', 'two', 'three']) alice.send({ type: 'client.message', channel: '#x', message });
    await settle();
    // Node b never hears of 'one' from the subscription.
    let lostOne = false;
    await flush(cluster, (to) => {
      if (to !== b.bus || lostOne) return false;
      lostOne = true;
      return true;
    });
    expect(messages(bob.connection.take()).map((frame) => (frame as { message: string }).message)).toEqual(['one', 'two', 'three']);
  });

  it('sends a joiner the channel’s last events, then its own join with the epoch, and the members only the join', async () => {
    const cluster = new FakeCluster();
    const a = node(cluster, 'a');
    const b = node(cluster, 'b', 2);
    const alice = await a.connect('alice');
    alice.send({ type: 'client.join', channel: '#x' });
    await flush(cluster);
    for (const message of ['one', 'two', 'three']) alice.send({ type: 'client.message', channel: '#x', message });
    await flush(cluster);
    const bob = await b.connect('bob');
    await flush(cluster);
    alice.connection.take();
    bob.connection.take();
    bob.send({ type: 'client.join', channel: '#x' });
    await flush(cluster);
    expect(bob.connection.take()).toMatchObject([
      { type: 0, message: 'two', history: true, offset: 3 },
      { type: 0, message: 'three', history: true, offset: 4 },
      { type: 4, user: 'bob', offset: 5, epoch: 'fake-epoch' },
    ]);
    expect(alice.connection.take()).toEqual([{ type: 4, channel: '#x', user: 'bob', offset: 5, time: 1_005 }]);
  });

  it('counts again from offset 1 when the cluster comes back in a new epoch, and puts its members back, rather than taking the new offsets for old ones', async () => {
    const cluster = new FakeCluster();
    const { a, b, alice, bob } = await aliceAndBobInX(cluster);
    cluster.loseData('second-epoch');
    await settle();
    // Each node puts its members back into the cluster's view of the channel.
    expect(a.bus.restored).toEqual([{ channel: '#x', members: [{ id: alice.id, user: 'alice' }] }]);
    expect(b.bus.restored).toEqual([{ channel: '#x', members: [{ id: bob.id, user: 'bob' }] }]);
    alice.send({ type: 'client.message', channel: '#x', message: 'still here' });
    await flush(cluster);
    expect(bob.connection.take()).toEqual([{ type: 0, dest: '#x', message: 'still here', user: 'alice', offset: 1, time: 1_001 }]);
  });

  it('tells a joiner it is not in the channel when the cluster refuses its join, and forgets it', async () => {
    const cluster = new FakeCluster();
    const a = node(cluster, 'a');
    const alice = await a.connect('alice');
    alice.connection.take();
    cluster.up = false;
    alice.send({ type: 'client.join', channel: '#x' });
    await flush(cluster);
    expect(alice.connection.take()).toMatchObject([{ type: -1, code: 'unavailable' }, { type: 5, channel: '#x', user: 'alice' }]);
    expect(alice.session.getSnapshot().context.channels.has('#x')).toBe(false);
    // The channel forgot the member without a word, and stopped.
    expect(Object.keys(a.server.getSnapshot().children)).not.toContain('channel:#x');
  });

  it('closes a session with 4001 when the cluster says its nick’s owner signed in on another node', async () => {
    const cluster = new FakeCluster();
    const a = node(cluster, 'a');
    const alice = await a.connect('alice');
    a.bus.listener!.takenOver(alice.id);
    await settle();
    expect(alice.connection.closed).toEqual({ code: 4001, reason: 'signed in elsewhere' });
  });

  it('hands other nodes’ logins and logouts to everyone logged in here, and its own logouts once they come back', async () => {
    const cluster = new FakeCluster();
    const a = node(cluster, 'a');
    const b = node(cluster, 'b');
    const alice = await a.connect('alice');
    const carol = await a.connect('carol');
    await flush(cluster);
    alice.connection.take();
    const bob = await b.connect('bob');
    await flush(cluster);
    expect(alice.connection.take()).toEqual([{ type: 2, user: 'bob' }]);
    bob.send({ type: 'client.logout' });
    await flush(cluster);
    expect(alice.connection.take()).toEqual([{ type: 3, user: 'bob' }]);
    carol.send({ type: 'client.logout' });
    await settle();
    expect(alice.connection.take()).toEqual([]);
    await flush(cluster);
    expect(alice.connection.take()).toEqual([{ type: 3, user: 'carol' }]);
  });
});
