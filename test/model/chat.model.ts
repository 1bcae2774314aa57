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
 */
import { assign, setup } from 'xstate';

/** An expected frame; for errors only `type` and `code` are compared. */
export type ExpectedFrame = Record<string, unknown> & { type: number };

export interface Expectations {
  alice: ExpectedFrame[];
  bob: ExpectedFrame[];
  /** The close code Alice's socket must end with, when this step closes it. */
  aliceClosed?: number;
  /** Whether a second client with Alice's nick in other case was just refused. */
  impostorRefused?: boolean;
}

export const ROOM = '#room';
const error = (code: string): ExpectedFrame => ({ type: -1, code });
const expect = (params: Expectations) => ({ type: 'expect', params }) as const;

export type ModelEvent =
  | { type: 'CONNECT' }
  | { type: 'JOIN' }
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
  | { type: 'DROP' };

export const MESSAGE = 'hello <b>world</b>';

export const chatModel = setup({
  types: {
    context: {} as { expected: Expectations },
    events: {} as ModelEvent,
  },
  actions: {
    expect: assign((_, params: Expectations) => ({ expected: params })),
  },
}).createMachine({
  id: 'chat-model',
  context: { expected: { alice: [], bob: [] } },
  initial: 'offline',
  states: {
    offline: {
      on: {
        CONNECT: {
          target: 'online.outside',
          actions: expect({
            alice: [{ type: 2, user: 'alice' }, { type: 6, users: ['bob', 'alice'] }],
            bob: [{ type: 2, user: 'alice' }],
          }),
        },
      },
    },
    online: {
      initial: 'outside',
      on: {
        LIST_USERS: { actions: expect({ alice: [{ type: 6, users: ['bob', 'alice'] }], bob: [] }) },
        BAD_JSON: { actions: expect({ alice: [error('bad_json')], bob: [] }) },
        UNKNOWN_TYPE: { actions: expect({ alice: [error('unknown_type')], bob: [] }) },
        IMPOSTOR: { actions: expect({ alice: [], bob: [], impostorRefused: true }) },
        LOGIN_AGAIN: { actions: expect({ alice: [error('already_logged_in')], bob: [] }) },
        REGISTER: { actions: expect({ alice: [error('not_supported')], bob: [] }) },
      },
      states: {
        outside: {
          on: {
            JOIN: {
              target: 'inside',
              actions: expect({
                alice: [{ type: 4, channel: ROOM, user: 'alice' }],
                bob: [{ type: 4, channel: ROOM, user: 'alice' }],
              }),
            },
            SEND: { actions: expect({ alice: [error('not_member')], bob: [] }) },
            LEAVE: { actions: expect({ alice: [error('not_member')], bob: [] }) },
            LIST_ROOM: { actions: expect({ alice: [{ type: 6, channel: ROOM, users: ['bob'] }], bob: [] }) },
            LOGOUT: { target: '#chat-model.offline', actions: expect({ alice: [], bob: [{ type: 3, user: 'alice' }], aliceClosed: 1000 }) },
            DROP: { target: '#chat-model.offline', actions: expect({ alice: [], bob: [{ type: 3, user: 'alice' }], aliceClosed: 1006 }) },
          },
        },
        inside: {
          on: {
            JOIN: { actions: expect({ alice: [error('already_member')], bob: [] }) },
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
          },
        },
      },
    },
  },
});
