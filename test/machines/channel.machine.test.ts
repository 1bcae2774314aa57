/**
 * @module channel.machine.test: the channel actor alone, with fake member connections behind a real outbox.
 */
import { createActor, createMachine, fromCallback, spawnChild, type AnyActorRef } from 'xstate';
import { describe, expect, it } from 'vitest';
import { channelMachine } from '../../machines/channel.machine.js';
import type { Member } from '../../machines/member.js';
import { OUTBOX_ID, outboxLogic } from '../../machines/outbox.js';

/**
 * A parent that records what the channel reports; fake connections, attached
 * to a real outbox, and fake sessions record what each member receives.
 */
function harness() {
  const received = new Map<string, unknown[]>();
  const reported: unknown[] = [];
  /** Every event the outbox took, seen through the inspection API. */
  const toOutbox: { type: string; [key: string]: unknown }[] = [];
  const record = (name: string, item: unknown) => {
    const items = received.get(name) ?? [];
    items.push(item);
    received.set(name, items);
  };
  const parent = createActor(
    createMachine({
      entry: spawnChild(outboxLogic, { id: OUTBOX_ID, systemId: OUTBOX_ID }),
      invoke: { id: 'channel', src: channelMachine, input: { name: '#x' } },
      on: { '*': { actions: ({ event }) => reported.push(event) } },
    }),
    {
      inspect: (inspection) => {
        if (inspection.type === '@xstate.event' && (inspection.actorRef as AnyActorRef).id === OUTBOX_ID) toOutbox.push(inspection.event);
      },
    },
  ).start();
  const channel = parent.getSnapshot().children.channel as AnyActorRef;
  const outbox = parent.system.get(OUTBOX_ID) as AnyActorRef;
  /** Every raw string handed to any connection, in order. */
  const raw: string[] = [];
  const member = (id: string, nick: string): Member => {
    outbox.send({
      type: 'outbox.attach',
      id,
      connection: {
        send: (data: string) => {
          raw.push(data);
          record(nick, JSON.parse(data));
        },
        close: () => {},
      },
    });
    const session = createActor(fromCallback(({ receive }) => receive((event) => record(`${nick}.session`, event)))).start();
    return { id, nick, session };
  };
  const take = (name: string) => (received.get(name) ?? []).splice(0);
  return { channel, member, take, reported, raw, toOutbox };
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

  it('encodes a message once and hands it to the outbox as one delivery for every member', () => {
    const { channel, member, raw, toOutbox } = harness();
    channel.send({ type: 'channel.join', member: member('1', 'alice') });
    channel.send({ type: 'channel.join', member: member('2', 'bob') });
    raw.length = 0;
    toOutbox.length = 0;
    channel.send({ type: 'channel.say', id: '1', message: 'hi' });
    expect(toOutbox).toEqual([{ type: 'outbox.deliver', to: ['1', '2'], data: raw[0] }]);
    expect(raw).toEqual([raw[0], raw[0]]);
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
