/**
 * @module channels.test: joining, leaving, messages and channel listing (protocol rows 4-9).
 */
import { describe, expect, it } from 'vitest';
import { useServer } from '../support/server.js';

const start = useServer();

/** Logs in the given nicks; each has consumed the login frames of those after it. */
async function users(login: (nick: string) => Promise<import('../support/client.js').TestClient>, ...nicks: string[]) {
  const clients = [];
  for (const nick of nicks) {
    const client = await login(nick);
    for (const earlier of clients) await earlier.expect({ type: 2, user: nick });
    clients.push(client);
  }
  return clients;
}

describe('joining', () => {
  it('announces the join to every member, the joiner included, in canonical form', async () => {
    const { login } = await start();
    const [alice, bob, carol] = await users(login, 'alice', 'bob', 'carol');
    alice!.send({ type: 4, channel: 'Django' });
    await alice!.expect({ type: 4, channel: '#django', user: 'alice' });
    bob!.send({ type: 4, channel: '##DJANGO' });
    await bob!.expect({ type: 4, channel: '#django', user: 'bob' });
    await alice!.expect({ type: 4, channel: '#django', user: 'bob' });
    await carol!.expectQuiet();
  });

  it('answers a second join with already_member, whatever the spelling', async () => {
    const { login } = await start();
    const [alice] = await users(login, 'alice');
    alice!.send({ type: 4, channel: '#flask' });
    await alice!.expect({ type: 4, channel: '#flask', user: 'alice' });
    alice!.send({ type: 4, channel: 'FLASK', id: 'j2' });
    await alice!.expectError('already_member', 'j2');
  });

  it.each([['a space', 'bad name'], ['only sharps', '###'], ['33 characters', 'c'.repeat(33)], ['a dot', 'a.b']])(
    'answers a channel name with %s with invalid_channel',
    async (_, channel) => {
      const { login } = await start();
      const [alice] = await users(login, 'alice');
      alice!.send({ type: 4, channel, id: 1 });
      await alice!.expectError('invalid_channel', 1);
    },
  );
});

describe('messages', () => {
  it('reaches every member, the sender included, with the sender nick added', async () => {
    const { login } = await start();
    const [alice, bob, carol] = await users(login, 'alice', 'bob', 'carol');
    alice!.send({ type: 4, channel: '#django' });
    await alice!.next();
    bob!.send({ type: 4, channel: '#django' });
    await bob!.next();
    await alice!.next();
    alice!.send({ type: 0, dest: 'django', message: 'hello world' });
    const frame = { type: 0, dest: '#django', message: 'hello world', user: 'alice' };
    await alice!.expect(frame);
    await bob!.expect(frame);
    await carol!.expectQuiet();
  });

  it('relays the message text exactly, markup, quotes, newlines and astral characters included', async () => {
    const { login } = await start();
    const [alice] = await users(login, 'alice');
    alice!.send({ type: 4, channel: 'x' });
    await alice!.next();
    const text = '<img src=x onerror=alert(1)> "quoted" \\ back\nslash 😀 \u2028 é';
    alice!.send({ type: 0, dest: '#x', message: text });
    expect((await alice!.next()).message).toBe(text);
  });

  it('accepts a message of 2048 characters and refuses 2049 or none with invalid_message', async () => {
    const { login } = await start();
    const [alice] = await users(login, 'alice');
    alice!.send({ type: 4, channel: 'x' });
    await alice!.next();
    alice!.send({ type: 0, dest: 'x', message: 'm'.repeat(2048) });
    expect((await alice!.next()).message).toHaveLength(2048);
    alice!.send({ type: 0, dest: 'x', message: 'm'.repeat(2049), id: 'long' });
    await alice!.expectError('invalid_message', 'long');
    alice!.send({ type: 0, dest: 'x', message: '' });
    await alice!.expectError('invalid_message');
  });

  it('answers a non-member with not_member and delivers nothing to anyone', async () => {
    const { login } = await start();
    const [alice, bob] = await users(login, 'alice', 'bob');
    alice!.send({ type: 4, channel: 'x' });
    await alice!.next();
    bob!.send({ type: 0, dest: '#x', message: 'let me in', id: 'm1' });
    await bob!.expectError('not_member', 'm1');
    bob!.send({ type: 0, dest: '#nowhere', message: 'anyone?' });
    await bob!.expectError('not_member');
    await alice!.expectQuiet();
  });
});

describe('leaving', () => {
  it('tells every member, the leaver included, and the leaver hears nothing more', async () => {
    const { login } = await start();
    const [alice, bob] = await users(login, 'alice', 'bob');
    alice!.send({ type: 4, channel: 'x' });
    await alice!.next();
    bob!.send({ type: 4, channel: 'x' });
    await bob!.next();
    await alice!.next();
    bob!.send({ type: 5, channel: '#X' });
    await bob!.expect({ type: 5, channel: '#x', user: 'bob' });
    await alice!.expect({ type: 5, channel: '#x', user: 'bob' });
    alice!.send({ type: 0, dest: 'x', message: 'still here?' });
    await alice!.next();
    await bob!.expectQuiet();
  });

  it('answers leaving a channel one is not in with not_member', async () => {
    const { login } = await start();
    const [alice] = await users(login, 'alice');
    alice!.send({ type: 5, channel: 'x', id: 'l' });
    await alice!.expectError('not_member', 'l');
  });

  it('stops a channel when its last member leaves, and starts it afresh on the next join', async () => {
    const { server, login } = await start();
    const [alice] = await users(login, 'alice');
    alice!.send({ type: 4, channel: 'x' });
    await alice!.next();
    expect(server.actor.getSnapshot().context.channels.size).toBe(1);
    alice!.send({ type: 5, channel: 'x' });
    await alice!.next();
    expect(server.actor.getSnapshot().context.channels.size).toBe(0);
    expect(Object.keys(server.actor.getSnapshot().children).filter((id) => id.startsWith('channel:'))).toEqual([]);
    alice!.send({ type: 4, channel: 'x' });
    await alice!.expect({ type: 4, channel: '#x', user: 'alice' });
    alice!.send({ type: 6, channel: 'x' });
    await alice!.expect({ type: 6, channel: '#x', users: ['alice'] });
  });
});

describe('listing a channel', () => {
  it('lists the members of a channel, for members and non-members alike', async () => {
    const { login } = await start();
    const [alice, bob, carol] = await users(login, 'alice', 'bob', 'carol');
    alice!.send({ type: 4, channel: 'x' });
    await alice!.next();
    bob!.send({ type: 4, channel: 'x' });
    await bob!.next();
    carol!.send({ type: 6, channel: '#X', id: 'c' });
    await carol!.expect({ type: 6, channel: '#x', users: ['alice', 'bob'], id: 'c' });
    alice!.send({ type: 6, channel: 'x' });
    await alice!.next();
    await alice!.expect({ type: 6, channel: '#x', users: ['alice', 'bob'] });
  });

  it('answers an empty list for a channel nobody is in', async () => {
    const { login } = await start();
    const [alice] = await users(login, 'alice');
    alice!.send({ type: 6, channel: 'empty' });
    await alice!.expect({ type: 6, channel: '#empty', users: [] });
  });
});
