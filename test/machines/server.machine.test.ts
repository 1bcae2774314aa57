/**
 * @module server.machine.test: the whole actor tree with fake connections, no sockets.
 */
import { createActor, type AnyActorRef } from 'xstate';
import { describe, expect, it } from 'vitest';
import { serverMachine } from '../../machines/server.machine.js';
import { sessionMachine } from '../../machines/session.machine.js';
import { FakeConnection } from '../support/fake-connection.js';

function start(machine = serverMachine) {
  const faults: unknown[] = [];
  const server = createActor(
    machine.provide({ actions: { reportFault: (_, params) => faults.push(params.actor) } }),
    { input: {} },
  ).start();
  let next = 0;
  const connect = (nick: string) => {
    const id = String(++next);
    const connection = new FakeConnection();
    server.send({ type: 'connection.open', id, nick, connection });
    const session = server.system.get(`session:${id}`) as AnyActorRef;
    return { id, connection, session, send: (event: Parameters<AnyActorRef['send']>[0]) => session.send(event) };
  };
  // The outbox lives as long as the server; the tests are about what comes and goes.
  const children = () =>
    Object.keys(server.getSnapshot().children)
      .filter((id) => id !== 'outbox')
      .sort();
  return { server, connect, children, faults };
}

describe('server machine', () => {
  it('spawns one session per connection, addressed by connection id, and nothing else', () => {
    const { connect, children } = start();
    connect('alice');
    connect('bob');
    expect(children()).toEqual(['session:1', 'session:2']);
  });

  it('sends each broadcast to the outbox once, with every recipient connection id', () => {
    const { server, connect } = start();
    const delivered: unknown[] = [];
    server.system.inspect((inspection) => {
      if (inspection.type === '@xstate.event' && inspection.event.type === 'outbox.deliver') delivered.push(inspection.event);
    });
    connect('alice');
    connect('bob');
    connect('carol');
    expect(server.getSnapshot().children.outbox).toBeDefined();
    // Each login is announced to everyone logged in so far: one outbox event each, to 1, 2 and 3 connections.
    expect(delivered.map((event) => (event as { to: unknown[] }).to)).toEqual([['1'], ['1', '2'], ['1', '2', '3']]);
  });

  it('spawns a channel on the first join and stops it when the last member leaves', () => {
    const { connect, children } = start();
    const alice = connect('alice');
    const bob = connect('bob');
    alice.send({ type: 'client.join', channel: '#x' });
    bob.send({ type: 'client.join', channel: '#x' });
    expect(children()).toContain('channel:#x');
    alice.send({ type: 'client.leave', channel: '#x' });
    expect(children()).toContain('channel:#x');
    bob.send({ type: 'client.leave', channel: '#x' });
    expect(children()).not.toContain('channel:#x');
  });

  it('forwards a channel event by name for a session that does not know the channel yet', () => {
    // Over sockets a join is confirmed before the client's next frame arrives, so only a unit test reaches this route.
    const { server, connect } = start();
    const alice = connect('alice');
    alice.send({ type: 'client.join', channel: '#x' });
    alice.connection.take();
    server.send({ type: 'route.channel', channel: '#x', event: { type: 'channel.say', id: alice.id, message: 'early' } });
    expect(alice.connection.take()).toEqual([{ type: 0, dest: '#x', message: 'early', user: 'alice' }]);
    // A channel that no longer exists: dropped, as the session will hear it left anyway.
    server.send({ type: 'route.channel', channel: '#gone', event: { type: 'channel.say', id: alice.id, message: 'lost' } });
    expect(alice.connection.take()).toEqual([]);
  });

  it('frees a session and detaches its connection once its socket has closed', () => {
    const { server, connect, children } = start();
    const alice = connect('alice');
    alice.send({ type: 'client.join', channel: '#x' });
    alice.send({ type: 'client.logout' });
    alice.send({ type: 'socket.closed', code: 1000 });
    expect(children()).toEqual([]);
    expect(server.getSnapshot().context.sessions.size).toBe(0);
    expect(server.getSnapshot().context.nicks.size).toBe(0);
    alice.connection.take();
    connect('bob');
    expect(alice.connection.take()).toEqual([]);
  });

  it('refuses a second session with the same nick in any case', () => {
    const { connect } = start();
    connect('alice');
    const impostor = connect('ALICE');
    expect(impostor.session.getSnapshot().value).toBe('rejected');
    expect(impostor.connection.closed?.code).toBe(1008);
  });

  it('contains a session whose action throws: closes it with 1011 and logs the others out of it', () => {
    const failing = serverMachine.provide({
      actors: {
        session: sessionMachine.provide({
          actions: {
            relayMessage: ({ context }) => {
              if (context.nick === 'mallory') throw new Error('injected');
            },
          },
        }),
      },
    });
    const { server, connect, children, faults } = start(failing);
    const alice = connect('alice');
    const mallory = connect('mallory');
    alice.send({ type: 'client.join', channel: '#x' });
    mallory.send({ type: 'client.join', channel: '#x' });
    alice.connection.take();
    mallory.send({ type: 'client.message', channel: '#x', message: 'boom' });

    expect(server.getSnapshot().status).toBe('active');
    expect(faults).toEqual(['session:2']);
    expect(mallory.connection.closed).toEqual({ code: 1011, reason: 'internal error' });
    expect(alice.connection.take()).toEqual([
      { type: 5, channel: '#x', user: 'mallory' },
      { type: 3, user: 'mallory' },
    ]);
    expect(children()).toEqual(['channel:#x', 'session:1']);
    const again = connect('mallory');
    expect(again.session.getSnapshot().value).toBe('active');
  });

  it('does not stop a channel on a stale empty notice that a join overtook', () => {
    const { server, connect, children } = start();
    const alice = connect('alice');
    alice.send({ type: 'client.join', channel: '#x' });
    const entry = server.getSnapshot().context.channels.get('#x')!;
    server.send({ type: 'channel.empty', channel: '#x', ref: entry.ref, joins: 0 });
    expect(children()).toContain('channel:#x');
  });

  it('asks every session to close with 1001 on shutdown and takes no new ones', () => {
    const { server, connect } = start();
    const alice = connect('alice');
    server.send({ type: 'server.shutdown' });
    expect(alice.connection.closed?.code).toBe(1001);
    expect(server.getSnapshot().value).toBe('draining');
    server.send({ type: 'connection.open', id: '99', nick: 'late', connection: new FakeConnection() });
    expect(server.system.get('session:99')).toBeUndefined();
  });
});
