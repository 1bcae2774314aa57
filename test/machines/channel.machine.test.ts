/**
 * @module channel.machine.test: the channel actor alone, with fake member sockets.
 */
import { createActor, createMachine, fromCallback, type AnyActorRef } from 'xstate';
import { describe, expect, it } from 'vitest';
import { channelMachine } from '../../machines/channel.machine.js';
import type { Member } from '../../machines/member.js';

/** A parent that records what the channel reports, and fake sockets and sessions that record what they receive. */
function harness() {
  const received = new Map<string, unknown[]>();
  const reported: unknown[] = [];
  const recorder = (name: string) =>
    createActor(
      fromCallback(({ receive }) => {
        receive((event) => {
          const events = received.get(name) ?? [];
          events.push(event.type === 'socket.send' ? JSON.parse((event as unknown as { data: string }).data) : event);
          received.set(name, events);
        });
      }),
    ).start();
  const parent = createActor(
    createMachine({
      invoke: { id: 'channel', src: channelMachine, input: { name: '#x' } },
      on: { '*': { actions: ({ event }) => reported.push(event) } },
    }),
  ).start();
  const channel = parent.getSnapshot().children.channel as AnyActorRef;
  const member = (id: string, nick: string): Member => ({ id, nick, socket: recorder(nick), session: recorder(`${nick}.session`) });
  const take = (name: string) => (received.get(name) ?? []).splice(0);
  return { channel, member, take, reported };
}

describe('channel machine', () => {
  it('announces a join to every member and confirms it to the joiner session', () => {
    const { channel, member, take } = harness();
    channel.send({ type: 'channel.join', member: member('1', 'alice') });
    channel.send({ type: 'channel.join', member: member('2', 'bob') });
    expect(take('alice')).toEqual([
      { type: 4, channel: '#x', user: 'alice' },
      { type: 4, channel: '#x', user: 'bob' },
    ]);
    expect(take('bob.session')).toEqual([{ type: 'channel.joined', channel: '#x', ref: channel }]);
    expect(channel.getSnapshot().value).toBe('occupied');
  });

  it('hands every member the same encoded string for one message', () => {
    const { channel, member } = harness();
    const sent: unknown[] = [];
    const alice = member('1', 'alice');
    const bob = member('2', 'bob');
    for (const m of [alice, bob]) {
      m.socket = createActor(fromCallback(({ receive }) => receive((event) => sent.push(event)))).start();
      channel.send({ type: 'channel.join', member: m });
    }
    sent.length = 0;
    channel.send({ type: 'channel.say', id: '1', message: 'hi' });
    expect(sent).toHaveLength(2);
    expect(sent[0]).toBe(sent[1]);
  });

  it('drops a message from a connection that is not a member', () => {
    const { channel, member, take } = harness();
    channel.send({ type: 'channel.join', member: member('1', 'alice') });
    take('alice');
    channel.send({ type: 'channel.say', id: '99', message: 'sneaky' });
    expect(take('alice')).toEqual([]);
  });

  it('tells a leaver its own leave, but a disconnected member only to the others', () => {
    const { channel, member, take } = harness();
    channel.send({ type: 'channel.join', member: member('1', 'alice') });
    channel.send({ type: 'channel.join', member: member('2', 'bob') });
    channel.send({ type: 'channel.join', member: member('3', 'carol') });
    take('alice');
    take('bob');
    take('carol');
    channel.send({ type: 'channel.leave', id: '2', disconnected: false });
    expect(take('bob')).toEqual([{ type: 5, channel: '#x', user: 'bob' }]);
    expect(take('carol')).toEqual([{ type: 5, channel: '#x', user: 'bob' }]);
    channel.send({ type: 'channel.leave', id: '3', disconnected: true });
    expect(take('carol')).toEqual([]);
    expect(take('alice')).toEqual([
      { type: 5, channel: '#x', user: 'bob' },
      { type: 5, channel: '#x', user: 'carol' },
    ]);
  });

  it('reports itself empty, with its join count, when the last member leaves', () => {
    const { channel, member, reported } = harness();
    channel.send({ type: 'channel.join', member: member('1', 'alice') });
    channel.send({ type: 'channel.leave', id: '1', disconnected: false });
    expect(channel.getSnapshot().value).toBe('vacant');
    expect(reported).toContainEqual({ type: 'channel.empty', channel: '#x', ref: channel, joins: 1 });
  });

  it('reopens when a join arrives after it reported itself empty', () => {
    const { channel, member, take } = harness();
    channel.send({ type: 'channel.join', member: member('1', 'alice') });
    channel.send({ type: 'channel.leave', id: '1', disconnected: false });
    channel.send({ type: 'channel.join', member: member('2', 'bob') });
    expect(channel.getSnapshot().value).toBe('occupied');
    expect(take('bob')).toEqual([{ type: 4, channel: '#x', user: 'bob' }]);
  });
});
