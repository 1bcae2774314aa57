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
import { chatModel, MESSAGE, PASSWORD, ROOM, TOKEN, type Expectations, type ExpectedFrame, type ModelEvent } from './chat.model.js';

/** The system under test for one path: a fresh server, the observer Bob, and Alice when online. */
interface Harness {
  server: ChatServer;
  bob: TestClient;
  alice?: TestClient;
  /** Alice's connection that a takeover is closing. */
  replaced?: TestClient;
  /** A second connection with Alice's nick: an impostor, or Alice signing in again. */
  challenger?: TestClient;
  /** The resume token from Alice's last login. */
  token?: string;
}

let harness: Harness | undefined;

afterEach(async () => {
  if (!harness) return;
  for (const client of [harness.alice, harness.bob, harness.challenger, harness.replaced]) await client?.terminate();
  await harness.server.close();
  harness = undefined;
});

async function setUp(): Promise<Harness> {
  // Hashing at full cost is the integration tests' job; here it would only multiply every path's time.
  const server = await startChatServer({ port: 0, accounts: { policy: { scrypt: CHEAP_SCRYPT } } });
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
    h.challenger = await TestClient.connect(h.server.url, 'ALICE');
  },
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
    h.challenger = await TestClient.connect(h.server.url, 'alice');
    h.challenger.send({ type: 2, user: 'alice', password: PASSWORD });
  },
};

async function receives(client: TestClient, frames: ExpectedFrame[], h: Harness): Promise<void> {
  for (const expected of frames) {
    if (expected.type === -1) await client.expectError(expected.code as string);
    else if (expected.token === TOKEN) {
      const frame = await client.next();
      expect(frame).toEqual({ ...expected, token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
      h.token = frame.token as string;
    } else await client.expect(expected);
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
