/**
 * @module session.machine.test: the session lifecycle, with a fake server parent and a fake connection behind a real outbox.
 */
import { createActor, createMachine, fromCallback, fromPromise, sendTo, spawnChild, type AnyActorRef } from 'xstate';
import { describe, expect, it, vi } from 'vitest';
import { OUTBOX_ID, outboxLogic } from '../../machines/outbox.js';
import { accountActors, type LoginInput, type LoginOutcome, type RegisterInput, type RegisterOutcome } from '../../machines/accounts.js';
import { MAX_HELD_FRAMES } from '../../machines/limits.js';
import type { Connection } from '../../machines/socket.js';
import type { Accounts } from '../../src/accounts/accounts.js';
import { sessionWithAccounts } from '../../src/effects.js';
import { settle, testAccounts } from '../support/accounts.js';

/**
 * A parent standing in for the server: it records what the session asks and
 * answers hello as told. A real outbox delivers the session's frames to a
 * connection that records them.
 */
async function harness(
  answer: 'accept' | 'refuse' | 'nothing' = 'accept',
  accounts: Accounts = testAccounts(),
  authTimeoutMs = 30_000,
  settled = true,
  /** Overrides of the account effects, applied over the real ones (failures, outcomes hard to reach for real). */
  effects: Parameters<ReturnType<typeof sessionWithAccounts>['provide']>[0]['actors'] = {},
) {
  const toServer: { type: string; [key: string]: unknown }[] = [];
  const frames: unknown[] = [];
  const closes: unknown[] = [];
  const connection: Connection = {
    send: (data) => frames.push(JSON.parse(data)),
    close: (code, reason) => closes.push({ type: 'socket.close', code, reason }),
  };
  const parent = createActor(
    createMachine({
      entry: [
        spawnChild(outboxLogic, { id: OUTBOX_ID, systemId: OUTBOX_ID }),
        sendTo(OUTBOX_ID, { type: 'outbox.attach', id: '7', connection }),
      ],
      invoke: {
        id: 'session',
        src: sessionWithAccounts(accounts).provide({ actors: effects }),
        input: { id: '7', nick: 'alice', address: '127.0.0.1', maxChannels: 100, authTimeoutMs },
      },
      on: {
        'session.hello': {
          actions: [
            ({ event }) => toServer.push(event),
            ...(answer === 'nothing'
              ? []
              : [sendTo('session', answer === 'accept' ? { type: 'session.accepted' } : { type: 'session.refused', code: 'nick_taken' })]),
          ],
        },
        '*': { actions: ({ event }) => toServer.push(event) },
      },
    }),
  ).start();
  const session = parent.getSnapshot().children.session as AnyActorRef;
  if (settled) await settle();
  return { session, toServer, frames, closes };
}

describe('session machine', () => {
  it('says hello with its connection id and nick, then becomes active', async () => {
    const { session, toServer } = await harness();
    expect(toServer[0]).toMatchObject({ type: 'session.hello', id: '7', nick: 'alice' });
    expect(session.getSnapshot().value).toEqual({ active: 'guest' });
  });

  it('tells a refused client why, closes with 1008, and ends once the socket is gone', async () => {
    const { session, frames, closes } = await harness('refuse');
    expect(session.getSnapshot().value).toBe('rejected');
    expect(frames).toEqual([expect.objectContaining({ type: -1, code: 'nick_taken' })]);
    expect(closes).toEqual([{ type: 'socket.close', code: 1008, reason: 'nick_taken' }]);
    session.send({ type: 'socket.closed', code: 1008 });
    expect(session.getSnapshot().status).toBe('done');
  });

  it('ends without a word when its socket closes before the server has answered its hello', async () => {
    const { session, frames, closes, toServer } = await harness('nothing');
    expect(session.getSnapshot().value).toEqual({ handshaking: 'greeting' });
    session.send({ type: 'socket.closed', code: 1006 });
    expect(session.getSnapshot().status).toBe('done');
    expect(frames).toEqual([]);
    expect(closes).toEqual([]);
    // It never logged in, so there is no logout to report.
    expect(toServer.map((event) => event.type).filter((type) => !type.startsWith('xstate.'))).toEqual(['session.hello']);
  });

  it('answers membership errors itself, with the request id', async () => {
    const { session, frames, toServer } = await harness();
    session.send({ type: 'client.message', channel: '#x', message: 'hi', id: 3 });
    session.send({ type: 'client.leave', channel: '#x' });
    session.send({ type: 'client.join', channel: '#x' });
    session.send({ type: 'client.join', channel: '#x', id: 'again' });
    expect(frames).toEqual([
      expect.objectContaining({ type: -1, code: 'not_member', id: 3 }),
      expect.objectContaining({ type: -1, code: 'not_member' }),
      expect.objectContaining({ type: -1, code: 'already_member', id: 'again' }),
    ]);
    expect(toServer.filter((event) => event.type === 'route.join')).toHaveLength(1);
  });

  it('routes channel events through the server until the join is confirmed, then straight to the channel', async () => {
    const { session, toServer } = await harness();
    const channelEvents: unknown[] = [];
    const channel = createActor(fromCallback(({ receive }) => receive((event) => channelEvents.push(event)))).start();
    session.send({ type: 'client.join', channel: '#x' });
    session.send({ type: 'client.message', channel: '#x', message: 'early' });
    expect(toServer.at(-1)).toEqual({
      type: 'route.channel',
      channel: '#x',
      event: { type: 'channel.say', id: '7', message: 'early' },
    });
    session.send({ type: 'channel.joined', channel: '#x', ref: channel });
    session.send({ type: 'client.message', channel: '#x', message: 'late' });
    expect(channelEvents).toEqual([{ type: 'channel.say', id: '7', message: 'late' }]);
  });

  it('on logout reports the channels it was in, closes with 1000 and waits for the socket', async () => {
    const { session, toServer, closes } = await harness();
    session.send({ type: 'client.join', channel: '#a' });
    session.send({ type: 'client.join', channel: '#b' });
    session.send({ type: 'client.logout' });
    expect(toServer.at(-1)).toEqual({ type: 'session.ended', id: '7', channels: ['#a', '#b'] });
    expect(closes).toEqual([{ type: 'socket.close', code: 1000, reason: 'logged out' }]);
    expect(session.getSnapshot().value).toBe('closing');
    session.send({ type: 'socket.closed', code: 1000 });
    expect(session.getSnapshot().value).toBe('closed');
  });

  it('reports its end exactly once when the socket drops', async () => {
    const { session, toServer } = await harness();
    session.send({ type: 'socket.closed', code: 1006 });
    expect(toServer.filter((event) => event.type === 'session.ended')).toHaveLength(1);
    expect(session.getSnapshot().status).toBe('done');
  });

  it('closes with 1001 when the server shuts down', async () => {
    const { session, closes } = await harness();
    session.send({ type: 'session.shutdown' });
    expect(closes).toEqual([{ type: 'socket.close', code: 1001, reason: 'server shutting down' }]);
  });
});

describe('session machine, for a registered nick', () => {
  const PASSWORD = 'password1';
  async function registered(authTimeoutMs = 30_000) {
    const accounts = testAccounts();
    await accounts.register('alice', PASSWORD);
    return harness('accept', accounts, authTimeoutMs);
  }

  it('asks for credentials and waits, without saying hello', async () => {
    const { session, frames, toServer } = await registered();
    expect(session.getSnapshot().value).toEqual({ authenticating: 'waiting' });
    expect(frames).toEqual([expect.objectContaining({ type: -1, code: 'auth_required' })]);
    expect(toServer).toEqual([]);
  });

  it('says hello as the owner, with a fresh token, once the password checks out', async () => {
    const { session, toServer } = await registered();
    session.send({ type: 'client.login', user: 'ALICE', password: PASSWORD });
    expect(session.getSnapshot().value).toEqual({ authenticating: 'verifying' });
    await vi.waitFor(() => expect(toServer).toHaveLength(1));
    expect(toServer).toEqual([expect.objectContaining({ type: 'session.hello', owner: true, token: expect.any(String) })]);
    expect(session.getSnapshot().value).toEqual({ active: 'owner' });
    expect(session.getSnapshot().context.token).toBeUndefined();
  });

  it('goes back to waiting on a wrong password, and is rejected with 1008 on the third', async () => {
    const { session, frames, closes } = await registered();
    for (const attempt of [1, 2, 3]) {
      session.send({ type: 'client.login', user: 'alice', password: `wrong password ${attempt}`, id: attempt });
      await vi.waitFor(() => expect(frames).toHaveLength(1 + attempt));
    }
    expect(frames.slice(1)).toEqual([1, 2, 3].map((id) => expect.objectContaining({ code: 'bad_password', id })));
    expect(session.getSnapshot().value).toBe('rejected');
    expect(closes).toEqual([{ type: 'socket.close', code: 1008, reason: 'too many failed logins' }]);
  });

  it('times out with auth_timeout and 1008 when the client never sends a login', async () => {
    const { session, frames, closes } = await registered(20);
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(frames.at(-1)).toEqual(expect.objectContaining({ code: 'auth_timeout' }));
    expect(closes).toEqual([{ type: 'socket.close', code: 1008, reason: 'authentication timed out' }]);
    expect(session.getSnapshot().value).toBe('rejected');
  });
});

describe('session machine, before it can answer', () => {
  it(`holds at most ${MAX_HELD_FRAMES} early frames and refuses the rest as rate_limited`, async () => {
    const { session, frames, toServer } = await harness('accept', testAccounts(), 30_000, false);
    for (let i = 0; i <= MAX_HELD_FRAMES; i += 1) session.send({ type: 'client.list', id: i });
    expect(frames).toEqual([expect.objectContaining({ code: 'rate_limited', id: MAX_HELD_FRAMES })]);
    await settle();
    // The held ones are answered once the session is active, in order: each list request goes to the server.
    const lists = toServer.filter((event) => event.type === 'users.list');
    expect(lists.map((event) => event.requestId)).toEqual(Array.from({ length: MAX_HELD_FRAMES }, (_, i) => i));
  });

  it('holds frames that arrive while the nick is looked up, and answers them in order once active', async () => {
    const { session, frames, toServer } = await harness('accept', testAccounts(), 30_000, false);
    expect(session.getSnapshot().value).toBe('identifying');
    session.send({ type: 'client.join', channel: '#x', id: 1 });
    session.send({ type: 'client.join', channel: '#x', id: 2 });
    session.send({ type: 'client.leave', channel: '#y', id: 3 });
    expect(frames).toEqual([]);
    await settle();
    expect(session.getSnapshot().value).toEqual({ active: 'guest' });
    expect(toServer.map((event) => event.type)).toEqual(['session.hello', 'route.join']);
    expect(frames).toEqual([
      expect.objectContaining({ code: 'already_member', id: 2 }),
      expect.objectContaining({ code: 'not_member', id: 3 }),
    ]);
  });
});

describe('session machine, when the store fails or a request is still on its way', () => {
  /** An account effect whose store fails. */
  const failing = <K extends keyof typeof accountActors>(): (typeof accountActors)[K] =>
    fromPromise(async () => {
      throw new Error('disk I/O error');
    }) as unknown as (typeof accountActors)[K];

  it('closes with 1008 a client that floods, or ends quietly one that goes, while its nick is looked up', async () => {
    const flooding = await harness('accept', testAccounts(), 30_000, false);
    flooding.session.send({ type: 'client.flooding' });
    expect(flooding.session.getSnapshot().value).toBe('rejected');
    expect(flooding.closes).toEqual([{ type: 'socket.close', code: 1008, reason: 'flooding' }]);
    const gone = await harness('accept', testAccounts(), 30_000, false);
    gone.session.send({ type: 'socket.closed', code: 1006 });
    expect(gone.session.getSnapshot().status).toBe('done');
    expect(gone.toServer.filter((event) => event.type.startsWith('session.'))).toEqual([]);
  });

  it('answers unavailable and closes with 1013 when the nick cannot be looked up', async () => {
    const { session, frames, closes } = await harness('accept', testAccounts(), 30_000, true, { lookupAccount: failing<'lookupAccount'>() });
    expect(session.getSnapshot().value).toBe('rejected');
    expect(frames).toEqual([expect.objectContaining({ code: 'unavailable' })]);
    expect(closes).toEqual([{ type: 'socket.close', code: 1013, reason: 'store unavailable' }]);
  });

  it('holds frames while the server has not answered its hello, and is closed with 4001 if a later login of the owner supersedes it', async () => {
    const { session, frames, closes } = await harness('nothing');
    session.send({ type: 'client.list', id: 'early' });
    expect(session.getSnapshot().context.held).toEqual([{ type: 'client.list', id: 'early' }]);
    session.send({ type: 'session.takenOver' });
    expect(session.getSnapshot().value).toBe('rejected');
    expect(frames).toEqual([]);
    expect(closes).toEqual([{ type: 'socket.close', code: 4001, reason: 'signed in elsewhere' }]);
  });

  it('closes with 1008 a client that floods while waiting for the server, or while authenticating', async () => {
    const waiting = await harness('nothing');
    waiting.session.send({ type: 'client.flooding' });
    expect(waiting.closes).toEqual([{ type: 'socket.close', code: 1008, reason: 'flooding' }]);
    const accounts = testAccounts();
    await accounts.register('alice', 'password1');
    const authenticating = await harness('accept', accounts);
    authenticating.session.send({ type: 'client.flooding' });
    expect(authenticating.session.getSnapshot().value).toBe('rejected');
    expect(authenticating.closes).toEqual([{ type: 'socket.close', code: 1008, reason: 'flooding' }]);
  });

  it('answers unavailable to a login the store cannot check, and a second login while one is checked with bad_request', async () => {
    const accounts = testAccounts();
    await accounts.register('alice', 'password1');
    let fail!: (error: Error) => void;
    const stuck = fromPromise<LoginOutcome, LoginInput>(() => new Promise((_, reject) => (fail = reject)));
    const { session, frames } = await harness('accept', accounts, 30_000, true, { logIn: stuck });
    session.send({ type: 'client.login', user: 'alice', password: 'password1', id: 1 });
    session.send({ type: 'client.login', user: 'alice', password: 'password1', id: 2 });
    fail(new Error('disk I/O error'));
    await settle();
    expect(session.getSnapshot().value).toEqual({ authenticating: 'waiting' });
    expect(frames.slice(1)).toEqual([
      expect.objectContaining({ code: 'bad_request', id: 2 }),
      expect.objectContaining({ code: 'unavailable', id: 1 }),
    ]);
  });

  it('stays a guest, saying why, when a registration fails or cannot be stored, and refuses a second one meanwhile', async () => {
    const refused = fromPromise<RegisterOutcome, RegisterInput>(async () => ({ ok: false, code: 'auth_throttled' }));
    const first = await harness('accept', testAccounts(), 30_000, true, { register: refused });
    first.session.send({ type: 'client.register', password: 'password1', id: 'r' });
    first.session.send({ type: 'client.register', password: 'password1', id: 'again' });
    await settle();
    expect(first.session.getSnapshot().value).toEqual({ active: 'guest' });
    expect(first.frames).toEqual([
      expect.objectContaining({ code: 'bad_request', id: 'again' }),
      expect.objectContaining({ code: 'auth_throttled', id: 'r' }),
    ]);
    const broken = await harness('accept', testAccounts(), 30_000, true, { register: failing<'register'>() });
    broken.session.send({ type: 'client.register', password: 'password1' });
    await settle();
    expect(broken.session.getSnapshot().value).toEqual({ active: 'guest' });
    expect(broken.frames).toEqual([expect.objectContaining({ code: 'unavailable' })]);
  });

  it('stays the owner, saying why, when a password change cannot be stored, and refuses a second one meanwhile', async () => {
    const { session, frames } = await harness('accept', testAccounts(), 30_000, true, { changePassword: failing<'changePassword'>() });
    session.send({ type: 'client.register', password: 'password1' });
    await vi.waitFor(() => expect(session.getSnapshot().value).toEqual({ active: 'owner' }));
    session.send({ type: 'client.register', password: 'password2', oldPassword: 'password1', id: 'c' });
    session.send({ type: 'client.register', password: 'password3', oldPassword: 'password1', id: 'again' });
    await settle();
    expect(session.getSnapshot().value).toEqual({ active: 'owner' });
    expect(frames.slice(1)).toEqual([
      expect.objectContaining({ code: 'bad_request', id: 'again' }),
      expect.objectContaining({ code: 'unavailable', id: 'c' }),
    ]);
  });
});
