/**
 * @module restart.test: a cluster's state lives in Redis, not in its nodes.
 * Stop every node, start new ones on the same Redis and key prefix, and
 * accounts, resume tokens, channel offsets, history and recovery carry on
 * as if nothing happened; the same when Redis itself was restarted with its
 * data. Only a Redis that lost its data starts a new epoch, which tells a
 * client its `since` from before can no longer be honoured.
 */
import { afterEach, expect, it } from 'vitest';
import { startChatServer, type ChatServer } from '../../src/server.js';
import { expectAuthRequired, PASSWORD, register, signIn } from '../support/auth.js';
import { joinChannel, say } from '../support/channels.js';
import { TestClient, type Frame } from '../support/client.js';
import { describeWithRedis, useRedis } from '../support/redis.js';
import { TEST_LIVENESS } from '../support/server.js';

describeWithRedis('a cluster restarted on the same Redis', () => {
  const redis = useRedis();
  const nodes: ChatServer[] = [];
  const clients: TestClient[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.terminate()));
    await Promise.all(nodes.splice(0).map((node) => node.close()));
  });
  let clusters = 0;

  /** Two nodes on the test Redis under `prefix`, named after their generation so the second are new nodes, not the first come back. */
  async function startCluster(prefix: string, generation: number): Promise<ChatServer[]> {
    const started: ChatServer[] = [];
    for (const name of ['a', 'b']) {
      const node = await startChatServer({
        port: 0,
        host: '127.0.0.1',
        redis: redis.url,
        nodeName: `${name}${generation}`,
        cluster: { prefix, liveness: TEST_LIVENESS },
        limits: { historyOnJoin: 50 },
      });
      nodes.push(node);
      started.push(node);
    }
    return started;
  }

  /** Stops the nodes one after the other, so their users' leaves get offsets in a known order. */
  async function stopCluster(cluster: ChatServer[]): Promise<void> {
    for (const node of cluster) {
      await node.close();
      nodes.splice(nodes.indexOf(node), 1);
    }
  }

  const track = (client: TestClient) => (clients.push(client), client);
  const connect = async (node: ChatServer, nick: string) => track(await TestClient.connect(node.url, nick));
  const login = async (node: ChatServer, nick: string) => track(await TestClient.login(node.url, nick));

  /**
   * The first generation: Alice and Bob register (Alice on one node, Bob on
   * the other), Alice signs in by password for a resume token, both join
   * #x and Alice says two things. Then both nodes stop, which gives each a
   * leave: #x holds offsets 1 to 6.
   */
  async function firstGeneration(prefix: string) {
    const [a, b] = await startCluster(prefix, 1);
    const registering = await login(a!, 'alice');
    await register(registering, 'alice');
    await registering.close();
    const alice = await connect(b!, 'alice');
    await expectAuthRequired(alice);
    const token = await signIn(alice, 'alice', { password: PASSWORD });
    const { own: aliceJoin } = await joinChannel(alice, 'alice', '#x');

    const bob = await login(a!, 'bob');
    await register(bob, 'bob');
    await alice.expect({ type: 2, user: 'bob' });
    await joinChannel(bob, 'bob', '#x');
    await alice.next((frame) => frame.type === 4 && frame.user === 'bob');
    const said = await say(alice, '#x', 2, 'before');
    for (const message of said) expect(await bob.next()).toEqual(message);

    expect(aliceJoin).toMatchObject({ offset: 1, epoch: expect.stringMatching(/^[0-9a-f]{16}$/) });
    expect(said.map((frame) => frame.offset)).toEqual([3, 4]);
    // Bob's node first: his leave is 5, Alice's 6.
    await stopCluster([a!, b!]);
    return { token, epoch: aliceJoin.epoch as string, bobSaw: said.at(-1)!.offset as number, said };
  }

  const kinds = (frames: Frame[]) => frames.map((frame) => [frame.type, frame.user, frame.offset]);
  const BEFORE = [[4, 'alice', 1], [4, 'bob', 2], [0, 'alice', 3], [0, 'alice', 4], [5, 'bob', 5], [5, 'alice', 6]];

  it.each([
    ['only the nodes were restarted', async () => {}],
    ['Redis was restarted with its data too', () => redis.restart()],
  ])('keeps accounts, tokens, offsets, history and recovery when %s', async (_, between) => {
    const prefix = `restart${(clusters += 1)}:`;
    const before = await firstGeneration(prefix);
    await between();
    const [c, d] = await startCluster(prefix, 2);

    // A resume token from before signs in on a node that never saw it issued.
    const alice = await connect(c!, 'alice');
    await expectAuthRequired(alice);
    await signIn(alice, 'alice', { token: before.token });
    // History on join replays the channel as it was, and the next offset follows on in the same epoch.
    const { replay, own } = await joinChannel(alice, 'alice', '#x');
    expect(kinds(replay)).toEqual(BEFORE);
    expect(replay.filter((frame) => frame.type === 0).map((frame) => frame.message)).toEqual(before.said.map((frame) => frame.message));
    expect(own).toMatchObject({ offset: 7, epoch: before.epoch });

    // A password from before signs in on the other new node; recovery from what Bob last saw is complete.
    const bob = await connect(d!, 'bob');
    await expectAuthRequired(bob);
    await signIn(bob, 'bob', { password: PASSWORD });
    await alice.expect({ type: 2, user: 'bob' });
    const recovery = await joinChannel(bob, 'bob', '#x', { since: before.bobSaw, epoch: before.epoch });
    expect(kinds(recovery.replay)).toEqual([[5, 'bob', 5], [5, 'alice', 6], [4, 'alice', 7]]);
    expect(recovery.own).toMatchObject({ offset: 8, epoch: before.epoch, recovered: true });
  });

  it('starts a new epoch when Redis lost its data, so a since from before is not recovered', async () => {
    const prefix = `restart${(clusters += 1)}:`;
    const before = await firstGeneration(prefix);
    await redis.kill();
    await redis.start();
    const [c] = await startCluster(prefix, 2);

    const bob = await login(c!, 'bob');
    const { own } = await joinChannel(bob, 'bob', '#x', { since: before.bobSaw, epoch: before.epoch });
    expect(own).toMatchObject({ offset: 1, recovered: false, epoch: expect.stringMatching(/^[0-9a-f]{16}$/) });
    expect(own.epoch).not.toBe(before.epoch);
  });
});
