/**
 * @module chat.model.test: every path `createTestModel` finds through the
 * abstract chat model, executed against a live server over real sockets and
 * checked after every step.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createTestModel } from 'xstate/graph';
import { startChatServer, type ChatServer } from '../../src/server.js';
import { CHEAP_SCRYPT } from '../support/accounts.js';
import { TestClient } from '../support/client.js';
import { useRedis } from '../support/redis.js';
import { clustered, TEST_LIVENESS } from '../support/server.js';
import type { Frame } from '../support/client.js';
import {
  chatModel,
  HISTORY,
  MESSAGE,
  PAGE,
  PAGE_LIMIT,
  PASSWORD,
  RECOVERY,
  ROOM,
  TOKEN,
  type Expectations,
  type ExpectedFrame,
  type ModelEvent,
} from './chat.model.js';

/**
 * The system under test for one path: a fresh server, the observer Bob, and
 * Alice when online. In the cluster run (XSTATE_CHAT_CLUSTER=1), two nodes:
 * Bob on the first, Alice on the second, and a second connection with
 * Alice's nick on the first again, so every step crosses Redis.
 */
interface Harness {
  nodes: ChatServer[];
  bob: TestClient;
  alice?: TestClient;
  /** Alice's connection that a takeover is closing. */
  replaced?: TestClient;
  /** A second connection with Alice's nick: an impostor, or Alice signing in again. */
  challenger?: TestClient;
  /** The resume token from Alice's last login. */
  token?: string;
  /** Every event of #room, as Bob (a member throughout) received it: offsets 1, 2, 3, … */
  log: Frame[];
  /** The last offset of #room Alice saw, kept across her connections as a client would. */
  aliceSeen: number;
}

let harness: Harness | undefined;
const redis = clustered ? useRedis() : undefined;
let harnessCount = 0;

/** Where Alice connects: the last node, so in a cluster she and Bob are never on the same one. */
const aliceNode = (h: Harness) => h.nodes.at(-1)!.url;

afterEach(async () => {
  if (!harness) return;
  for (const client of [harness.alice, harness.bob, harness.challenger, harness.replaced]) await client?.terminate();
  for (const node of harness.nodes) await node.close();
  harness = undefined;
});

async function setUp(): Promise<Harness> {
  // Hashing at full cost is the integration tests' job; here it would only multiply every path's time.
  const options = { port: 0, accounts: { policy: { scrypt: CHEAP_SCRYPT } } };
  const nodes: ChatServer[] = [];
  if (redis) {
    const cluster = { prefix: `model${process.pid}-${(harnessCount += 1)}:`, liveness: TEST_LIVENESS };
    for (const nodeName of ['a', 'b']) nodes.push(await startChatServer({ ...options, redis: redis.url, nodeName, cluster }));
  } else nodes.push(await startChatServer(options));
  const bob = await TestClient.login(nodes[0]!.url, 'bob');
  bob.send({ type: 4, channel: ROOM });
  const join = await bob.expect({ type: 4, channel: ROOM, user: 'bob', offset: 1 });
  const { epoch: _, ...asLogged } = join;
  return { nodes, bob, log: [asLogged as Frame], aliceSeen: 0 };
}

function alice(): TestClient {
  if (!harness?.alice) throw new Error('the model sent an event for Alice while she is offline');
  return harness.alice;
}

/** How each abstract event is carried out over the wire. */
const executors: Record<ModelEvent['type'], (h: Harness) => Promise<void> | void> = {
  CONNECT: async (h) => {
    h.alice = await TestClient.connect(aliceNode(h), 'alice');
  },
  JOIN: () => alice().send({ type: 4, channel: 'Room' }),
  JOIN_SINCE: (h) => alice().send({ type: 4, channel: 'room', since: h.aliceSeen }),
  PAGE: () => alice().send({ type: 8, channel: 'room', limit: PAGE_LIMIT }),
  SEND: () => alice().send({ type: 0, dest: '#ROOM', message: MESSAGE }),
  LEAVE: () => alice().send({ type: 5, channel: 'room' }),
  LIST_USERS: () => alice().send({ type: 6 }),
  LIST_ROOM: () => alice().send({ type: 6, channel: 'room' }),
  BAD_JSON: () => alice().send('{"type":'),
  UNKNOWN_TYPE: () => alice().send({ type: 42 }),
  IMPOSTOR: async (h) => {
    h.challenger = await TestClient.connect(h.nodes[0]!.url, 'ALICE');
  },
  LOGIN_AGAIN: () => alice().send({ type: 2, user: 'alice' }),
  LOGOUT: () => alice().send({ type: 3 }),
  DROP: () => {
    alice().ws.terminate();
  },
  REGISTER: () => alice().send({ type: 1, password: PASSWORD }),
  LOGIN_PASSWORD: () => alice().send({ type: 2, user: 'alice', password: PASSWORD }),
  LOGIN_TOKEN: (h) => alice().send({ type: 2, user: 'alice', token: h.token ?? 'a-token-alice-never-had' }),
  WRONG_PASSWORD: () => alice().send({ type: 2, user: 'alice', password: 'not the password' }),
  // The login goes out as the very first frame, before the server has asked for it.
  TAKEOVER: async (h) => {
    h.challenger = await TestClient.connect(h.nodes[0]!.url, 'alice');
    h.challenger.send({ type: 2, user: 'alice', password: PASSWORD });
  },
};

const isRoomEvent = (frame: Frame) => (frame.type === 4 || frame.type === 5 ? frame.channel : frame.type === 0 ? frame.dest : undefined) === ROOM;

/** Bob's copy of an event: every member gets the same frame, byte for byte but for a joiner's own stamps. */
function logged(h: Harness, offset: number): Frame {
  const entry = h.log.find((frame) => frame.offset === offset);
  if (!entry) throw new Error(`offset ${offset} of ${ROOM} is not in Bob's log`);
  return entry;
}

/** The events of #room before Alice's join that Bob just received. */
function beforeAlicesJoin(h: Harness): Frame[] {
  const join = h.log.findLastIndex((frame) => frame.type === 4 && frame.user === 'alice');
  return h.log.slice(0, join);
}

async function receiveReplay(client: TestClient, replay: Frame[], h: Harness): Promise<void> {
  for (const entry of replay) {
    expect(await client.next()).toEqual({ ...entry, history: true });
    h.aliceSeen = entry.offset as number;
  }
}

async function receives(client: TestClient, frames: ExpectedFrame[], h: Harness): Promise<void> {
  for (const expected of frames) {
    if (expected === HISTORY) await receiveReplay(client, beforeAlicesJoin(h).slice(-50), h);
    else if (expected === RECOVERY) await receiveReplay(client, beforeAlicesJoin(h).filter((frame) => (frame.offset as number) > h.aliceSeen), h);
    else if (expected === PAGE) {
      const newest = h.log.slice(-PAGE_LIMIT);
      await client.expect({ type: 8, channel: ROOM, events: newest, more: (newest[0]!.offset as number) > 1 });
    } else if (expected.type === -1) await client.expectError(expected.code as string);
    else if (expected.token === TOKEN) {
      const frame = await client.next();
      expect(frame).toEqual({ ...expected, token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
      h.token = frame.token as string;
    } else {
      const frame = await client.expect(expected);
      if (!isRoomEvent(frame)) continue;
      if (client === h.bob) {
        // Bob is in #room throughout: he sees every offset, in order, none twice.
        expect(frame.offset).toBe(h.log.length + 1);
        h.log.push(frame);
      } else {
        const { epoch, recovered: _, ...copy } = frame;
        expect(copy).toEqual(logged(h, frame.offset as number));
        if (frame.type === 4 && frame.user === 'alice') expect(epoch).toEqual(expect.any(String));
        h.aliceSeen = frame.offset as number;
      }
    }
  }
}

/** The one check every model state runs: each client saw exactly what the model expects, and nothing more. */
async function verify(snapshot: { context: { expected: Expectations }; value: unknown }) {
  const h = harness!;
  const { expected } = snapshot.context;
  await receives(h.bob, expected.bob, h);
  if (expected.replacedClosed !== undefined) {
    [h.replaced, h.alice, h.challenger] = [h.alice, h.challenger, undefined];
    expect((await h.replaced!.closed).code).toBe(expected.replacedClosed);
    h.replaced = undefined;
  }
  if (expected.aliceClosed !== undefined) {
    await receives(alice(), expected.alice, h);
    expect((await alice().closed).code).toBe(expected.aliceClosed);
    h.alice = undefined;
  } else if (h.alice) {
    await receives(h.alice, expected.alice, h);
    // While authenticating, a list request is refused too: the refusal still proves nothing else came first.
    if (snapshot.value === 'authenticating') {
      h.alice.send({ type: 6 });
      await h.alice.expectError('auth_required');
    } else await h.alice.expectQuiet();
  }
  if (expected.impostor) {
    await h.challenger!.expectError(expected.impostor);
    if (expected.impostor === 'nick_taken') expect((await h.challenger!.closed).code).toBe(1008);
    await h.challenger!.terminate();
    h.challenger = undefined;
  }
  await h.bob.expectQuiet();
}

const model = createTestModel(chatModel);
const paths = model.getShortestPaths();

describe('chat protocol model', () => {
  it('exercises every event of the model and every executor', () => {
    // Guards against a model change that leaves an event unreachable, or an executor that is never run.
    const exercised = new Set<string>(paths.flatMap((path) => path.steps.map((step) => step.event.type)));
    expect([...exercised].filter((type) => type !== 'xstate.init').sort()).toEqual(Object.keys(executors).sort());
  });

  for (const path of paths) {
    it(path.description, async () => {
      harness = await setUp();
      await path.test({
        states: { offline: verify, authenticating: verify, 'online.outside': verify, 'online.inside': verify },
        events: Object.fromEntries(
          Object.entries(executors).map(([type, run]) => [type, () => run(harness!)]),
        ),
      });
    });
  }
});
