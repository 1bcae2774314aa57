/**
 * @module chat.model.test: every path `createTestModel` finds through the
 * abstract chat model, executed against a live server over real sockets and
 * checked after every step.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createTestModel } from 'xstate/graph';
import { startChatServer, type ChatServer } from '../../src/server.js';
import { TestClient } from '../support/client.js';
import { chatModel, MESSAGE, ROOM, type ExpectedFrame, type ModelEvent } from './chat.model.js';

/** The system under test for one path: a fresh server, the observer Bob, and Alice when online. */
interface Harness {
  server: ChatServer;
  bob: TestClient;
  alice?: TestClient;
  aliceClose?: Promise<number>;
  impostor?: TestClient;
}

let harness: Harness | undefined;

afterEach(async () => {
  if (!harness) return;
  for (const client of [harness.alice, harness.bob, harness.impostor]) await client?.terminate();
  await harness.server.close();
  harness = undefined;
});

async function setUp(): Promise<Harness> {
  const server = await startChatServer({ port: 0 });
  const bob = await TestClient.login(server.url, 'bob');
  bob.send({ type: 4, channel: ROOM });
  await bob.expect({ type: 4, channel: ROOM, user: 'bob' });
  return { server, bob };
}

function alice(): TestClient {
  if (!harness?.alice) throw new Error('the model sent an event for Alice while she is offline');
  return harness.alice;
}

/** How each abstract event is carried out over the wire. */
const executors: Record<ModelEvent['type'], (h: Harness) => Promise<void> | void> = {
  CONNECT: async (h) => {
    h.alice = await TestClient.connect(h.server.url, 'alice');
  },
  JOIN: () => alice().send({ type: 4, channel: 'Room' }),
  SEND: () => alice().send({ type: 0, dest: '#ROOM', message: MESSAGE }),
  LEAVE: () => alice().send({ type: 5, channel: 'room' }),
  LIST_USERS: () => alice().send({ type: 6 }),
  LIST_ROOM: () => alice().send({ type: 6, channel: 'room' }),
  BAD_JSON: () => alice().send('{"type":'),
  UNKNOWN_TYPE: () => alice().send({ type: 42 }),
  IMPOSTOR: async (h) => {
    h.impostor = await TestClient.connect(h.server.url, 'ALICE');
  },
  LOGIN_AGAIN: () => alice().send({ type: 2, user: 'alice' }),
  REGISTER: () => alice().send({ type: 1, user: 'alice', password: 'hunter2' }),
  LOGOUT: () => alice().send({ type: 3 }),
  DROP: () => {
    alice().ws.terminate();
  },
};

async function receives(client: TestClient, frames: ExpectedFrame[]): Promise<void> {
  for (const expected of frames) {
    if (expected.type === -1) await client.expectError(expected.code as string);
    else await client.expect(expected);
  }
}

/** The one check every model state runs: each client saw exactly what the model expects, and nothing more. */
async function verify(snapshot: { context: { expected: import('./chat.model.js').Expectations }; value: unknown }) {
  const h = harness!;
  const { expected } = snapshot.context;
  await receives(h.bob, expected.bob);
  if (expected.aliceClosed !== undefined) {
    expect((await alice().closed).code).toBe(expected.aliceClosed);
    h.alice = undefined;
  } else if (h.alice) {
    await receives(h.alice, expected.alice);
    await h.alice.expectQuiet();
  }
  if (expected.impostorRefused) {
    await h.impostor!.expectError('nick_taken');
    expect((await h.impostor!.closed).code).toBe(1008);
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
        states: { offline: verify, 'online.outside': verify, 'online.inside': verify },
        events: Object.fromEntries(
          Object.entries(executors).map(([type, run]) => [type, () => run(harness!)]),
        ),
      });
    });
  }
});
