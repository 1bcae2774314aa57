/**
 * @module channel.machine.test: the channel actor alone, with fake member connections behind a real outbox.
 */
import { createActor, createMachine, fromCallback, spawnChild, type AnyActorRef } from 'xstate';
import { describe, expect, it } from 'vitest';
import { channelMachine } from '../../machines/channel.machine.js';
import type { Member } from '../../machines/member.js';
import { OUTBOX_ID, outboxLogic } from '../../machines/outbox.js';
import { settle } from '../support/accounts.js';

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

/** A channel event as delivered: numbered and timed by the outbox's history once stored. */
const stamped = (frame: Record<string, unknown>, offset: number, joiner = false) => ({
  ...frame,
  offset,
  time: expect.any(Number),
  ...(joiner ? { epoch: 'ephemeral' } : {}),
});

describe('channel machine', () => {
  it('announces a join to every member, stamped with dense offsets, and confirms it to the joiner session', async () => {
    const { channel, member, take } = harness();
    channel.send({ type: 'channel.join', member: member('1', 'alice') });
    channel.send({ type: 'channel.join', member: member('2', 'bob') });
    expect(take('alice')).toEqual([]);
    await settle();
    expect(take('alice')).toEqual([
      stamped({ type: 4, channel: '#x', user: 'alice' }, 1, true),
      stamped({ type: 4, channel: '#x', user: 'bob' }, 2),
    ]);
    expect(take('bob')).toEqual([stamped({ type: 4, channel: '#x', user: 'bob' }, 2, true)]);
    expect(take('bob.session')).toEqual([{ type: 'channel.joined', channel: '#x', ref: channel }]);
    expect(channel.getSnapshot().value).toBe('occupied');
  });

  it('encodes a message once and hands it to the outbox as one publication for every member', async () => {
    const { channel, member, raw, toOutbox } = harness();
    channel.send({ type: 'channel.join', member: member('1', 'alice') });
    channel.send({ type: 'channel.join', member: member('2', 'bob') });
    await settle();
    raw.length = 0;
    toOutbox.length = 0;
    channel.send({ type: 'channel.say', id: '1', message: 'hi' });
    expect(toOutbox).toEqual([
      { type: 'outbox.publish', channel: '#x', head: '{"type":0,"dest":"#x","message":"hi","user":"alice"', to: ['1', '2'], from: '1' },
    ]);
    await settle();
    expect(raw).toEqual([raw[0], raw[0]]);
    expect(JSON.parse(raw[0]!)).toEqual(stamped({ type: 0, dest: '#x', message: 'hi', user: 'alice' }, 3));
  });

  it('drops a message from a connection that is not a member', async () => {
    const { channel, member, take } = harness();
    channel.send({ type: 'channel.join', member: member('1', 'alice') });
    await settle();
    take('alice');
    channel.send({ type: 'channel.say', id: '99', message: 'sneaky' });
    await settle();
    expect(take('alice')).toEqual([]);
  });

  it('tells a leaver its own leave, but a disconnected member only to the others', async () => {
    const { channel, member, take } = harness();
    channel.send({ type: 'channel.join', member: member('1', 'alice') });
    channel.send({ type: 'channel.join', member: member('2', 'bob') });
    channel.send({ type: 'channel.join', member: member('3', 'carol') });
    await settle();
    take('alice');
    take('bob');
    take('carol');
    channel.send({ type: 'channel.leave', id: '2', disconnected: false });
    await settle();
    expect(take('bob')).toEqual([stamped({ type: 5, channel: '#x', user: 'bob' }, 4)]);
    expect(take('carol')).toEqual([stamped({ type: 5, channel: '#x', user: 'bob' }, 4)]);
    channel.send({ type: 'channel.leave', id: '3', disconnected: true });
    await settle();
    expect(take('carol')).toEqual([]);
    expect(take('alice')).toEqual([stamped({ type: 5, channel: '#x', user: 'bob' }, 4), stamped({ type: 5, channel: '#x', user: 'carol' }, 5)]);
  });

  it('reports itself empty, with its join count, when the last member leaves', () => {
    const { channel, member, reported } = harness();
    channel.send({ type: 'channel.join', member: member('1', 'alice') });
    channel.send({ type: 'channel.leave', id: '1', disconnected: false });
    expect(channel.getSnapshot().value).toBe('vacant');
    expect(reported).toContainEqual({ type: 'channel.empty', channel: '#x', ref: channel, joins: 1 });
  });

  it('reopens when a join arrives after it reported itself empty, numbering on', async () => {
    const { channel, member, take } = harness();
    channel.send({ type: 'channel.join', member: member('1', 'alice') });
    channel.send({ type: 'channel.leave', id: '1', disconnected: false });
    channel.send({ type: 'channel.join', member: member('2', 'bob') });
    expect(channel.getSnapshot().value).toBe('occupied');
    await settle();
    expect(take('bob')).toEqual([stamped({ type: 4, channel: '#x', user: 'bob' }, 3, true)]);
  });
});
