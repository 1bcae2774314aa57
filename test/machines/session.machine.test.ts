/**
 * @module session.machine.test: the session lifecycle, with a fake server parent and a fake connection behind a real outbox.
 */
import { createActor, createMachine, fromCallback, sendTo, spawnChild, type AnyActorRef } from 'xstate';
import { describe, expect, it } from 'vitest';
import { OUTBOX_ID, outboxLogic } from '../../machines/outbox.js';
import { sessionMachine } from '../../machines/session.machine.js';
import type { Connection } from '../../machines/socket.js';

/**
 * A parent standing in for the server: it records what the session asks and
 * answers hello as told. A real outbox delivers the session's frames to a
 * connection that records them.
 */
function harness(answer: 'accept' | 'refuse' | 'nothing' = 'accept') {
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
      invoke: { id: 'session', src: sessionMachine, input: { id: '7', nick: 'alice', maxChannels: 100 } },
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
  return { session, toServer, frames, closes };
}

describe('session machine', () => {
  it('says hello with its connection id and nick, then becomes active', () => {
    const { session, toServer } = harness();
    expect(toServer[0]).toMatchObject({ type: 'session.hello', id: '7', nick: 'alice' });
    expect(session.getSnapshot().value).toBe('active');
  });

  it('tells a refused client why, closes with 1008, and ends once the socket is gone', () => {
    const { session, frames, closes } = harness('refuse');
    expect(session.getSnapshot().value).toBe('rejected');
    expect(frames).toEqual([expect.objectContaining({ type: -1, code: 'nick_taken' })]);
    expect(closes).toEqual([{ type: 'socket.close', code: 1008, reason: 'login refused' }]);
    session.send({ type: 'socket.closed', code: 1008 });
    expect(session.getSnapshot().status).toBe('done');
  });

  it('ends without a word when its socket closes before the server has answered its hello', () => {
    // Today the server answers within the same turn; an asynchronous login (accounts) makes this wait real.
    const { session, frames, closes, toServer } = harness('nothing');
    expect(session.getSnapshot().value).toBe('handshaking');
    session.send({ type: 'socket.closed', code: 1006 });
    expect(session.getSnapshot().status).toBe('done');
    expect(frames).toEqual([]);
    expect(closes).toEqual([]);
    // It never logged in, so there is no logout to report.
    expect(toServer.map((event) => event.type).filter((type) => !type.startsWith('xstate.'))).toEqual(['session.hello']);
  });

  it('answers membership errors itself, with the request id', () => {
    const { session, frames, toServer } = harness();
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

  it('routes channel events through the server until the join is confirmed, then straight to the channel', () => {
    const { session, toServer } = harness();
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

  it('on logout reports the channels it was in, closes with 1000 and waits for the socket', () => {
    const { session, toServer, closes } = harness();
    session.send({ type: 'client.join', channel: '#a' });
    session.send({ type: 'client.join', channel: '#b' });
    session.send({ type: 'client.logout' });
    expect(toServer.at(-1)).toEqual({ type: 'session.ended', id: '7', channels: ['#a', '#b'] });
    expect(closes).toEqual([{ type: 'socket.close', code: 1000, reason: 'logged out' }]);
    expect(session.getSnapshot().value).toBe('closing');
    session.send({ type: 'socket.closed', code: 1000 });
    expect(session.getSnapshot().value).toBe('closed');
  });

  it('reports its end exactly once when the socket drops', () => {
    const { session, toServer } = harness();
    session.send({ type: 'socket.closed', code: 1006 });
    expect(toServer.filter((event) => event.type === 'session.ended')).toHaveLength(1);
    expect(session.getSnapshot().status).toBe('done');
  });

  it('closes with 1001 when the server shuts down', () => {
    const { session, closes } = harness();
    session.send({ type: 'session.shutdown' });
    expect(closes).toEqual([{ type: 'socket.close', code: 1001, reason: 'server shutting down' }]);
  });
});
