/**
 * @module chat.model: an abstract model of what one client, "alice", can do,
 * and what she and an observer, "bob", must see after each step.
 *
 * Bob is logged in and sits in #room throughout, so every broadcast of Alice's
 * is checked from outside too. Each transition records the frames each client
 * must receive next; because that record is part of the model's context,
 * every distinct outcome is a distinct state, and `createTestModel` finds a
 * path to each one. A new event here yields new paths with no new test code:
 * only its executor in `chat.model.test.ts` has to be added.
 *
 * Alice may register her nick. From then on connecting asks her for
 * credentials (authenticating), which she gives as a password or as the
 * resume token her last login handed her; a wrong password counts towards
 * the three that close the connection, and signing in from a second
 * connection takes her nick over from the first (a guest's second
 * connection is simply refused).
 *
 * #room keeps its history: joining hears the last events first, rejoining
 * with the last offset seen hears everything missed, and a member can page
 * back. The events themselves are not in the model (its states would never
 * end); the test expands them from what Bob, in #room throughout, received.
 */
import { assign, setup } from 'xstate';

/**
 * An expected frame; for errors only `type` and `code` are compared; {@link TOKEN} stands for any resume token.
 * Channel events are also checked against the channel's log as Bob saw it: dense offsets, the same for everyone.
 */
export type ExpectedFrame = Record<string, unknown> & { type: number };

/**
 * Stand-ins for frames that depend on what happened in #room before, which
 * the test expands from the room's log as Bob received it: the last events
 * before Alice's join (history), every event since the last one she saw
 * (recovery), or a page of the newest events (type 8).
 */
export const HISTORY = { type: -100 } as const;
export const RECOVERY = { type: -101 } as const;
export const PAGE = { type: -102 } as const;
/** Events asked for per history page in the model. */
export const PAGE_LIMIT = 3;

export interface Expectations {
  alice: ExpectedFrame[];
  bob: ExpectedFrame[];
  /** The close code Alice's socket must end with, when this step closes it. */
  aliceClosed?: number;
  /** The close code Alice's previous connection must end with, when this step replaced it. */
  replacedClosed?: number;
  /** What a second client with Alice's nick (an impostor, or Alice signing in again) must be told when it does not get in. */
  impostor?: 'nick_taken' | 'auth_required';
}

export interface ModelContext {
  expected: Expectations;
  /** Alice's nick is registered. */
  registered: boolean;
  /** Alice holds a resume token from her last login. */
  token: boolean;
  /** Failed logins on Alice's current connection. */
  failures: number;
}

export const ROOM = '#room';
/** In an expected frame: any resume token, which the test keeps for the next token login. */
export const TOKEN = '<token>';
export const PASSWORD = 'correct horse battery';
const error = (code: string): ExpectedFrame => ({ type: -1, code });
const expect = (params: Expectations) => ({ type: 'expect', params }) as const;

export type ModelEvent =
  | { type: 'CONNECT' }
  | { type: 'JOIN' }
  | { type: 'JOIN_SINCE' }
  | { type: 'PAGE' }
  | { type: 'SEND' }
  | { type: 'LEAVE' }
  | { type: 'LIST_USERS' }
  | { type: 'LIST_ROOM' }
  | { type: 'BAD_JSON' }
  | { type: 'UNKNOWN_TYPE' }
  | { type: 'IMPOSTOR' }
  | { type: 'LOGIN_AGAIN' }
  | { type: 'REGISTER' }
  | { type: 'LOGOUT' }
  | { type: 'DROP' }
  | { type: 'REGISTER' }
  | { type: 'LOGIN_PASSWORD' }
  | { type: 'LOGIN_TOKEN' }
  | { type: 'WRONG_PASSWORD' }
  | { type: 'TAKEOVER' };

export const MESSAGE = 'hello <b>world</b>';

/** Alice logging in as the owner: everyone hears it, her copy carries a token, then she gets the list. */
const ownerLogin = { alice: [{ type: 2, user: 'alice', token: TOKEN }, { type: 6, users: ['bob', 'alice'] }], bob: [{ type: 2, user: 'alice' }] };
/** A second connection that sent its password as its first frame: it is still asked, then logged in. */
const takeoverLogin = [error('auth_required'), ...ownerLogin.alice];

export const chatModel = setup({
  types: {
    context: {} as ModelContext,
    events: {} as ModelEvent,
  },
  actions: {
    expect: assign((_, params: Expectations) => ({ expected: params })),
    register: assign({ registered: true }),
    holdToken: assign({ token: true, failures: 0 }),
    countFailure: assign({ failures: ({ context }) => context.failures + 1 }),
    newConnection: assign({ failures: 0 }),
  },
  guards: {
    registered: ({ context }) => context.registered,
    hasToken: ({ context }) => context.token,
    lastTry: ({ context }) => context.failures === 2,
  },
}).createMachine({
  id: 'chat-model',
  context: { expected: { alice: [], bob: [] }, registered: false, token: false, failures: 0 },
  initial: 'offline',
  states: {
    offline: {
      entry: 'newConnection',
      on: {
        CONNECT: [
          {
            guard: 'registered',
            target: 'authenticating',
            actions: expect({ alice: [error('auth_required')], bob: [] }),
          },
          {
            target: 'online.outside',
            actions: expect({
              alice: [{ type: 2, user: 'alice' }, { type: 6, users: ['bob', 'alice'] }],
              bob: [{ type: 2, user: 'alice' }],
            }),
          },
        ],
      },
    },
    /** Alice's nick is registered and she has connected: nothing but a login counts. */
    authenticating: {
      on: {
        LOGIN_PASSWORD: { target: 'online.outside', actions: ['holdToken', expect(ownerLogin)] },
        // Without a token of her own, Alice tries one she made up: a failed login like a wrong password.
        LOGIN_TOKEN: [
          { guard: 'hasToken', target: 'online.outside', actions: ['holdToken', expect(ownerLogin)] },
          { guard: 'lastTry', target: 'offline', actions: expect({ alice: [error('bad_token')], bob: [], aliceClosed: 1008 }) },
          { actions: ['countFailure', expect({ alice: [error('bad_token')], bob: [] })] },
        ],
        WRONG_PASSWORD: [
          { guard: 'lastTry', target: 'offline', actions: expect({ alice: [error('bad_password')], bob: [], aliceClosed: 1008 }) },
          { actions: ['countFailure', expect({ alice: [error('bad_password')], bob: [] })] },
        ],
        JOIN: { actions: expect({ alice: [error('auth_required')], bob: [] }) },
        JOIN_SINCE: { actions: expect({ alice: [error('auth_required')], bob: [] }) },
        LIST_USERS: { actions: expect({ alice: [error('auth_required')], bob: [] }) },
        DROP: { target: 'offline', actions: expect({ alice: [], bob: [], aliceClosed: 1006 }) },
      },
    },
    online: {
      initial: 'outside',
      on: {
        LIST_USERS: { actions: expect({ alice: [{ type: 6, users: ['bob', 'alice'] }], bob: [] }) },
        BAD_JSON: { actions: expect({ alice: [error('bad_json')], bob: [] }) },
        UNKNOWN_TYPE: { actions: expect({ alice: [error('unknown_type')], bob: [] }) },
        IMPOSTOR: [
          { guard: 'registered', actions: expect({ alice: [], bob: [], impostor: 'auth_required' }) },
          { actions: expect({ alice: [], bob: [], impostor: 'nick_taken' }) },
        ],
        REGISTER: [
          { guard: 'registered', actions: expect({ alice: [error('already_registered')], bob: [] }) },
          { actions: ['register', expect({ alice: [{ type: 1, user: 'alice' }], bob: [] })] },
        ],
        LOGIN_AGAIN: { actions: expect({ alice: [error('already_logged_in')], bob: [] }) },
      },
      states: {
        outside: {
          on: {
            JOIN: {
              target: 'inside',
              actions: expect({
                alice: [HISTORY, { type: 4, channel: ROOM, user: 'alice' }],
                bob: [{ type: 4, channel: ROOM, user: 'alice' }],
              }),
            },
            // Rejoining with the last offset she saw: everything since, then a join that says nothing is missing.
            JOIN_SINCE: {
              target: 'inside',
              actions: expect({
                alice: [RECOVERY, { type: 4, channel: ROOM, user: 'alice', recovered: true }],
                bob: [{ type: 4, channel: ROOM, user: 'alice' }],
              }),
            },
            PAGE: { actions: expect({ alice: [error('not_member')], bob: [] }) },
            SEND: { actions: expect({ alice: [error('not_member')], bob: [] }) },
            LEAVE: { actions: expect({ alice: [error('not_member')], bob: [] }) },
            LIST_ROOM: { actions: expect({ alice: [{ type: 6, channel: ROOM, users: ['bob'] }], bob: [] }) },
            LOGOUT: { target: '#chat-model.offline', actions: expect({ alice: [], bob: [{ type: 3, user: 'alice' }], aliceClosed: 1000 }) },
            DROP: { target: '#chat-model.offline', actions: expect({ alice: [], bob: [{ type: 3, user: 'alice' }], aliceClosed: 1006 }) },
            TAKEOVER: [
              {
                guard: 'registered',
                target: 'outside',
                reenter: true,
                actions: [
                  'holdToken',
                  expect({ alice: takeoverLogin, bob: [{ type: 3, user: 'alice' }, ...ownerLogin.bob], replacedClosed: 4001 }),
                ],
              },
              { actions: expect({ alice: [], bob: [], impostor: 'nick_taken' }) },
            ],
          },
        },
        inside: {
          on: {
            JOIN: { actions: expect({ alice: [error('already_member')], bob: [] }) },
            JOIN_SINCE: { actions: expect({ alice: [error('already_member')], bob: [] }) },
            PAGE: { actions: expect({ alice: [PAGE], bob: [] }) },
            SEND: {
              actions: expect({
                alice: [{ type: 0, dest: ROOM, message: MESSAGE, user: 'alice' }],
                bob: [{ type: 0, dest: ROOM, message: MESSAGE, user: 'alice' }],
              }),
            },
            LEAVE: {
              target: 'outside',
              actions: expect({
                alice: [{ type: 5, channel: ROOM, user: 'alice' }],
                bob: [{ type: 5, channel: ROOM, user: 'alice' }],
              }),
            },
            LIST_ROOM: { actions: expect({ alice: [{ type: 6, channel: ROOM, users: ['bob', 'alice'] }], bob: [] }) },
            LOGOUT: {
              target: '#chat-model.offline',
              actions: expect({
                alice: [],
                bob: [{ type: 5, channel: ROOM, user: 'alice' }, { type: 3, user: 'alice' }],
                aliceClosed: 1000,
              }),
            },
            DROP: {
              target: '#chat-model.offline',
              actions: expect({
                alice: [],
                bob: [{ type: 5, channel: ROOM, user: 'alice' }, { type: 3, user: 'alice' }],
                aliceClosed: 1006,
              }),
            },
            // The new connection is in no channel: the old one's leave is heard before its logout.
            TAKEOVER: [
              {
                guard: 'registered',
                target: 'outside',
                actions: [
                  'holdToken',
                  expect({
                    alice: takeoverLogin,
                    bob: [{ type: 5, channel: ROOM, user: 'alice' }, { type: 3, user: 'alice' }, ...ownerLogin.bob],
                    replacedClosed: 4001,
                  }),
                ],
              },
              { actions: expect({ alice: [], bob: [], impostor: 'nick_taken' }) },
            ],
          },
        },
      },
    },
  },
});
