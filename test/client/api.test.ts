/**
 * @module api.test: every call of the client SDK against a real server over
 * real sockets: what each resolves with, and each error the server can
 * answer it with, as a `ChatError` carrying the server's code.
 */
import { describe, expect, it } from 'vitest';
import { ChatError, type StateEvent } from '../../client/index.js';
import { CHEAP_SCRYPT } from '../support/accounts.js';
import { useServer } from '../support/server.js';
import { Recorder, useSdk } from '../support/sdk.js';

const start = useServer();
const sdk = useSdk();
const PASSWORD = 'correct horse battery';

async function server(historyOnJoin = 0) {
  return start({ limits: { historyOnJoin }, accounts: { policy: { scrypt: CHEAP_SCRYPT } } });
}

/** The error a promise rejects with, which must be a ChatError. */
async function refusal(promise: Promise<unknown>): Promise<ChatError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!(error instanceof ChatError)) throw new Error(`expected a ChatError, got ${String(error)}`);
  return error;
}

describe('the client SDK against a real server', () => {
  it('connects through connecting, authenticating and online, and lists users', async () => {
    const { server: chat } = await server();
    const alice = sdk({ url: chat.url, nick: 'alice' });
    const states: StateEvent['state'][] = [];
    alice.on('state', ({ state }) => states.push(state));
    await alice.start();
    expect(states).toEqual(['connecting', 'authenticating', 'online']);
    expect(alice.state).toBe('online');
    expect(await alice.users()).toEqual(['alice']);
  });

  it('says who is online after each login with a users event, before online, without a request of its own', async () => {
    const { server: chat } = await server();
    await sdk({ url: chat.url, nick: 'alice' }).start();
    const bob = sdk({ url: chat.url, nick: 'bob' });
    const heard: string[] = [];
    bob.on('users', ({ users }) => heard.push(`users ${users.join(',')}`));
    bob.on('state', ({ state }) => heard.push(state));
    await bob.start();
    expect(heard).toEqual(['connecting', 'authenticating', 'users alice,bob', 'online']);
  });

  it('joins, sends, lists members and leaves; every member hears each event once, with offsets', async () => {
    const { server: chat } = await server();
    const alice = await sdk({ url: chat.url, nick: 'alice' }).start();
    const bob = await sdk({ url: chat.url, nick: 'bob' }).start();
    const heard = new Recorder(bob);

    const joined = await alice.join('Django');
    expect(joined).toMatchObject({ channel: '#django', offset: 1 });
    expect(typeof joined.epoch).toBe('string');
    await bob.join('#django');
    expect(alice.channels).toEqual(['#django']);

    const sent = await alice.send('#django', 'hello <b>world</b>');
    expect(sent).toMatchObject({ type: 'message', channel: '#django', user: 'alice', message: 'hello <b>world</b>', offset: 3, own: true, source: 'live' });
    const message = await heard.waitFor('message');
    expect(message).toMatchObject({ channel: '#django', user: 'alice', message: 'hello <b>world</b>', offset: 3, own: false, source: 'live' });
    expect(await bob.users('#django')).toEqual(['alice', 'bob']);
    expect(await bob.users()).toEqual(['alice', 'bob']);

    await alice.leave('#django');
    expect(alice.channels).toEqual([]);
    const left = await heard.waitFor('leave');
    expect(left).toMatchObject({ channel: '#django', user: 'alice', offset: 4 });
    expect(heard.of('join').map((event) => [event.user, event.own])).toEqual([['bob', true]]);
    expect(heard.of('message')).toHaveLength(1);
  });

  it('hears other users log in and out', async () => {
    const { server: chat } = await server();
    const alice = await sdk({ url: chat.url, nick: 'alice' }).start();
    const heard = new Recorder(alice);
    const bob = await sdk({ url: chat.url, nick: 'bob' }).start();
    expect(await heard.waitFor('login')).toEqual({ type: 'login', user: 'bob' });
    await bob.close();
    expect(await heard.waitFor('logout')).toEqual({ type: 'logout', user: 'bob' });
    expect(bob.state).toBe('closed');
  });

  it('rejects each request the server refuses with its code and the request id', async () => {
    const { server: chat } = await server();
    const alice = await sdk({ url: chat.url, nick: 'alice' }).start();
    const invalid = await refusal(alice.join('no spaces'));
    expect(invalid.code).toBe('invalid_channel');
    expect(typeof invalid.requestId).toBe('number');
    expect(alice.channels).toEqual([]);
    expect((await refusal(alice.send('#django', 'hi'))).code).toBe('not_member');
    expect((await refusal(alice.leave('#django'))).code).toBe('not_member');
    expect((await refusal(alice.history('#django'))).code).toBe('not_member');
    expect((await refusal(alice.users('bad name!'))).code).toBe('invalid_channel');
    await alice.join('#django');
    expect((await refusal(alice.join('#DJANGO'))).code).toBe('already_member');
    expect((await refusal(alice.send('#django', ''))).code).toBe('invalid_message');
    expect((await refusal(alice.send('#django', 'x'.repeat(2049)))).code).toBe('invalid_message');
    expect((await refusal(alice.history('#django', { limit: 201 }))).code).toBe('bad_request');
    expect((await refusal(alice.register('short'))).code).toBe('weak_password');
    expect((await refusal(alice.changePassword('whatever1', 'a new password'))).code).toBe('not_registered');
    await alice.register(PASSWORD);
    expect((await refusal(alice.register(PASSWORD))).code).toBe('already_registered');
    expect((await refusal(alice.changePassword('wrong password', 'a new password'))).code).toBe('bad_password');
    // Still usable after all of that.
    expect((await alice.send('#django', 'still here')).offset).toBe(2);
  });

  it('pages back through a channel’s history with before and limit', async () => {
    const { server: chat } = await server();
    const alice = await sdk({ url: chat.url, nick: 'alice' }).start();
    await alice.join('#django');
    for (let i = 1; i <= 5; i += 1) await alice.send('#django', `m${i}`);
    const newest = await alice.history('#django', { limit: 2 });
    expect(newest.more).toBe(true);
    expect(newest.events.map((event) => [event.offset, event.type === 'message' ? event.message : event.type])).toEqual([
      [5, 'm4'],
      [6, 'm5'],
    ]);
    expect(newest.events.every((event) => event.source === 'history')).toBe(true);
    const older = await alice.history('#django', { before: 5, limit: 10 });
    expect(older.more).toBe(false);
    expect(older.events.map((event) => event.offset)).toEqual([1, 2, 3, 4]);
    expect(older.events[0]).toMatchObject({ type: 'join', user: 'alice', own: true });
  });

  it('delivers a channel’s past on joining as history events, before the own join', async () => {
    const { server: chat } = await server(50);
    const alice = await sdk({ url: chat.url, nick: 'alice' }).start();
    await alice.join('#django');
    await alice.send('#django', 'before bob');
    const bob = sdk({ url: chat.url, nick: 'bob' });
    const heard = new Recorder(bob, ['message', 'join']);
    await bob.start();
    await bob.join('#django');
    expect(heard.events.map((event) => [event.type, 'source' in event ? event.source : '', 'user' in event ? event.user : ''])).toEqual([
      ['join', 'history', 'alice'],
      ['message', 'history', 'alice'],
      ['join', 'live', 'bob'],
    ]);
  });

  it('queues requests made before it is online and sends them in order once it is', async () => {
    const { server: chat } = await server();
    const alice = sdk({ url: chat.url, nick: 'alice' });
    const joined = alice.join('#django');
    const sent = alice.send('#django', 'first');
    const listed = alice.users('#django');
    await alice.start();
    expect((await joined).channel).toBe('#django');
    expect((await sent).message).toBe('first');
    expect(await listed).toEqual(['alice']);
  });

  it('holds a channel’s messages, pages and leave until its join is confirmed, so none is refused not_member', async () => {
    const { server: chat } = await server();
    const alice = await sdk({ url: chat.url, nick: 'alice' }).start();
    // Not awaited in turn: all four go before the server has confirmed the join.
    const [joined, page, sent, left] = await Promise.all([
      alice.join('#django'),
      alice.history('#django'),
      alice.send('#django', 'at once'),
      alice.leave('#django'),
    ]);
    expect(joined.offset).toBe(1);
    expect(page.events.map((event) => event.offset)).toEqual([1]);
    expect(sent.offset).toBe(2);
    expect(left).toBeUndefined();
    expect(alice.channels).toEqual([]);
  });

  it('rejects connect with unreachable when there is no server, or the URL is no WebSocket URL, and does not retry', async () => {
    const { server: chat } = await server();
    const port = chat.port;
    await chat.close();
    for (const url of [`ws://127.0.0.1:${port}`, 'not a url']) {
      const client = sdk({ url, nick: 'alice' });
      const states = new Recorder(client, ['state']);
      const error = await refusal(client.start());
      expect(error.code, url).toBe('unreachable');
      expect(states.of('state').map((event) => event.state)).toEqual(['connecting', 'closed']);
    }
  });

  it('rejects what is still waiting when closed, and every request after', async () => {
    const { server: chat } = await server();
    const alice = sdk({ url: chat.url, nick: 'alice' });
    const waiting = alice.users();
    void alice.start().catch(() => {});
    await alice.close();
    expect((await refusal(waiting)).code).toBe('closed');
    expect((await refusal(alice.users())).code).toBe('closed');
    expect(alice.state).toBe('closed');
  });
});

describe('reconnecting in-process', () => {
  it('rejoins every channel after a drop even when the server’s rate limit refuses some rejoins, and asks again', async () => {
    const { server: chat } = await start({ limits: { historyOnJoin: 0, rateLimit: 2, rateBurst: 3 } });
    const alice = await sdk({ url: chat.url, nick: 'alice' }).start();
    const heard = new Recorder(alice, ['recovered', 'gap', 'error', 'state']);
    const channels = ['#a', '#b', '#c', '#d', '#e', '#f'];
    for (const channel of channels) {
      // The application's own requests are refused rate_limited like any other; it waits and asks again.
      for (;;) {
        const error = await alice.join(channel).then(() => undefined, (reason: ChatError) => reason);
        if (!error) break;
        expect(error.code).toBe('rate_limited');
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    for (const client of chat.transport.wss.clients) client.terminate();
    await heard.waitFor('state', (event) => event.state === 'reconnecting');
    for (const channel of channels) await heard.waitFor('recovered', (event) => event.channel === channel, 10_000);
    expect(heard.of('error')).toEqual([]);
    expect(heard.of('gap')).toEqual([]);
    expect(alice.channels.sort()).toEqual(channels);
    expect(await alice.users('#f')).toEqual(['alice']);
  }, 30_000);
});

describe('reconnecting when asked', () => {
  it('reconnects at once on reconnectNow instead of waiting out the backoff', async () => {
    const first = await server();
    const port = first.server.port;
    const alice = sdk({ url: first.server.url, nick: 'alice', backoff: { baseMs: 60_000, maxMs: 60_000 } });
    const heard = new Recorder(alice, ['state']);
    await alice.start();
    await alice.join('#django');
    await first.server.close();
    const waiting = await heard.waitFor('state', (event) => event.state === 'reconnecting');
    expect(waiting.delayMs).toBeGreaterThanOrEqual(30_000);
    await start({ port, limits: { historyOnJoin: 0 } });
    alice.reconnectNow();
    await heard.waitFor('state', (event) => event.state === 'online');
    expect(await alice.users('#django')).toEqual(['alice']);
  });
});

describe('accounts through the client SDK', () => {
  async function registered(url: string, nick: string): Promise<void> {
    const owner = await sdk({ url, nick }).start();
    await owner.register(PASSWORD);
    await owner.close();
  }

  it('signs in with a password, hands out a token, and signs in with that token', async () => {
    const { server: chat } = await server();
    await registered(chat.url, 'carol');
    const withPassword = sdk({ url: chat.url, nick: 'carol', password: PASSWORD });
    const heard = new Recorder(withPassword, ['token']);
    await withPassword.start();
    const { token } = await heard.waitFor('token');
    expect(withPassword.token).toBe(token);
    await withPassword.close();
    const withToken = await sdk({ url: chat.url, nick: 'carol', token }).start();
    expect(withToken.state).toBe('online');
    expect(withToken.token).not.toBe(token);
  });

  it('falls back to the password when the token is refused', async () => {
    const { server: chat } = await server();
    await registered(chat.url, 'carol');
    const client = await sdk({ url: chat.url, nick: 'carol', token: 'not-a-token', password: PASSWORD }).start();
    expect(client.state).toBe('online');
  });

  it('refuses to connect without credentials, with a wrong password, a bad token, or a nick in use', async () => {
    const { server: chat } = await server();
    await registered(chat.url, 'carol');
    const cases: [Parameters<typeof sdk>[0], string][] = [
      [{ url: chat.url, nick: 'carol' }, 'auth_required'],
      [{ url: chat.url, nick: 'carol', password: 'wrong password' }, 'bad_password'],
      [{ url: chat.url, nick: 'carol', token: 'not-a-token' }, 'bad_token'],
      [{ url: chat.url, nick: 'no spaces allowed' }, 'invalid_nick'],
    ];
    for (const [options, code] of cases) {
      const client = sdk(options);
      expect((await refusal(client.start())).code, options.nick).toBe(code);
      expect(client.state).toBe('closed');
    }
    await sdk({ url: chat.url, nick: 'dave' }).start();
    const taken = sdk({ url: chat.url, nick: 'DAVE' });
    const states = new Recorder(taken, ['state']);
    expect((await refusal(taken.start())).code).toBe('nick_taken');
    expect(states.of('state').map((event) => event.state)).toEqual(['connecting', 'authenticating', 'closed']);
  });

  it('does not reconnect after being signed in elsewhere (4001)', async () => {
    const { server: chat } = await server();
    await registered(chat.url, 'carol');
    const first = await sdk({ url: chat.url, nick: 'carol', password: PASSWORD }).start();
    const firstStates = new Recorder(first, ['state']);
    const second = await sdk({ url: chat.url, nick: 'carol', password: PASSWORD }).start();
    const closed = await firstStates.waitFor('state', (event) => event.state === 'closed');
    expect(closed.closeCode).toBe(4001);
    expect(closed.error?.code).toBe('signed_in_elsewhere');
    // Well past the test backoff: a reconnect would have taken the nick back by now.
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(firstStates.of('state').map((event) => event.state)).toEqual(['closed']);
    expect(second.state).toBe('online');
    expect(await second.users()).toEqual(['carol']);
    expect((await refusal(first.users())).code).toBe('signed_in_elsewhere');
  });

  it('after registering, a reconnect signs in with the registered password', async () => {
    const { server: chat } = await server();
    const alice = await sdk({ url: chat.url, nick: 'alice' }).start();
    const heard = new Recorder(alice, ['state', 'token']);
    await alice.register(PASSWORD);
    // Drop the connection from the server side, as a network failure would.
    for (const client of chat.transport.wss.clients) client.terminate();
    await heard.waitFor('state', (event) => event.state === 'reconnecting');
    await heard.waitFor('token');
    await heard.waitFor('state', (event) => event.state === 'online');
    expect(alice.state).toBe('online');
  });
});

