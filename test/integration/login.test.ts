/**
 * @module login.test: connecting, nick rules, the user list and logging out (protocol rows 1-3, 10).
 */
import { describe, expect, it } from 'vitest';
import { useServer } from '../support/server.js';

const start = useServer();

describe('logging in', () => {
  it('announces a new user to everyone, itself included, then sends it the user list', async () => {
    const { connect, login } = await start();
    const alice = await login('alice');
    const bob = await connect('bob');
    await bob.expect({ type: 2, user: 'bob' });
    await bob.expect({ type: 6, users: ['alice', 'bob'] });
    await alice.expect({ type: 2, user: 'bob' });
  });

  it('accepts nicks of letters and digits of any script, "_" and "-", up to 32 characters', async () => {
    const { connect } = await start();
    for (const nick of ['Zoë', 'пользователь', '用户_1', 'a-b', 'x'.repeat(32), '٣']) {
      const client = await connect(nick);
      await client.expect({ type: 2, user: nick });
    }
  });

  it.each([
    ['an empty nick', ''],
    ['a nick of 33 characters', 'x'.repeat(33)],
    ['a space', 'bad nick'],
    ['punctuation', 'bob!'],
    ['an encoded slash', 'a/b'],
    ['a malformed escape', '%E0%A4%A'],
  ])('refuses %s with invalid_nick and closes with 1008', async (_, nick) => {
    const { connect } = await start();
    const path = nick.startsWith('%') ? `/chat/login/${nick}` : `/chat/login/${encodeURIComponent(nick)}`;
    const client = await connect(nick, path);
    await client.expectError('invalid_nick');
    expect((await client.closed).code).toBe(1008);
  });

  it('refuses a nick in use, compared case-insensitively, and tells no one else', async () => {
    const { connect, login } = await start();
    const alice = await login('Alice');
    const impostor = await connect('aLICE');
    await impostor.expectError('nick_taken');
    expect((await impostor.closed).code).toBe(1008);
    await alice.expectQuiet();
  });

  it('frees the nick when its user disconnects', async () => {
    const { connect, login } = await start();
    const first = await login('carol');
    await first.close();
    const again = await connect('Carol');
    await again.expect({ type: 2, user: 'Carol' });
  });

  it('answers a login frame on a logged-in session with already_logged_in', async () => {
    const { login } = await start();
    const alice = await login('alice');
    alice.send({ type: 2, user: 'alice', id: 'l1' });
    await alice.expectError('already_logged_in', 'l1');
  });

  it('answers a registration with a password under 8 characters with weak_password', async () => {
    const { login } = await start();
    const alice = await login('alice');
    alice.send({ type: 1, user: 'alice', password: 'secret' });
    await alice.expectError('weak_password');
  });
});

describe('listing users', () => {
  it('lists every connected nick in the order they connected', async () => {
    const { login } = await start();
    const alice = await login('alice');
    await login('bob');
    await login('Carol');
    await alice.next();
    await alice.next();
    alice.send({ type: 6 });
    await alice.expect({ type: 6, users: ['alice', 'bob', 'Carol'] });
  });

  it('echoes the request id on the answer', async () => {
    const { login } = await start();
    const alice = await login('alice');
    alice.send({ type: 6, id: 42 });
    await alice.expect({ type: 6, users: ['alice'], id: 42 });
  });
});

describe('logging out', () => {
  it('closes with 1000, tells channel members it left, then tells everyone it logged out', async () => {
    const { login } = await start();
    const alice = await login('alice');
    const bob = await login('bob');
    const carol = await login('carol');
    await alice.next();
    await alice.next();
    await bob.next();
    alice.send({ type: 4, channel: '#a' });
    await alice.expect({ type: 4, channel: '#a', user: 'alice' });
    bob.send({ type: 4, channel: '#a' });
    await alice.expect({ type: 4, channel: '#a', user: 'bob' });
    await bob.expect({ type: 4, channel: '#a', user: 'bob' });
    alice.send({ type: 4, channel: '#b' });
    await alice.expect({ type: 4, channel: '#b', user: 'alice' });

    alice.send({ type: 3 });
    expect((await alice.closed).code).toBe(1000);
    await bob.expect({ type: 5, channel: '#a', user: 'alice' });
    await bob.expect({ type: 3, user: 'alice' });
    await carol.expect({ type: 3, user: 'alice' });
    bob.send({ type: 6 });
    await bob.expect({ type: 6, users: ['bob', 'carol'] });
  });

  it('treats a dropped connection like a logout', async () => {
    const { login } = await start();
    const alice = await login('alice');
    const bob = await login('bob');
    await alice.next();
    alice.send({ type: 4, channel: 'x' });
    bob.send({ type: 4, channel: 'x' });
    await bob.expect({ type: 4, channel: '#x', user: 'bob' });
    await alice.terminate();
    await bob.expect({ type: 5, channel: '#x', user: 'alice' });
    await bob.expect({ type: 3, user: 'alice' });
  });
});
