/**
 * @module supervisor.machine.test: a supervisor under a fake server, with real sessions behind a real outbox.
 */
import { createActor, createMachine, sendTo, spawnChild, type AnyActorRef } from 'xstate';
import { describe, expect, it } from 'vitest';
import { OUTBOX_ID, outboxLogic } from '../../machines/outbox.js';
import type { SessionInput } from '../../machines/session.machine.js';
import { sessionMachine } from '../../machines/session.machine.js';
import { supervisorMachine } from '../../machines/supervisor.machine.js';
import { sessionWithAccounts } from '../../src/effects.js';
import { settle, testAccounts } from '../support/accounts.js';
import { FakeConnection } from '../support/fake-connection.js';

/**
 * A parent standing in for the server: it records every event it gets and
 * accepts every hello, as a server with no other users would.
 */
function harness(session: typeof sessionMachine = sessionMachine) {
  const toServer: { type: string; [key: string]: unknown }[] = [];
  const server = createActor(
    createMachine({
      entry: [spawnChild(outboxLogic, { id: OUTBOX_ID, systemId: OUTBOX_ID }), spawnChild('supervisor', { id: 'supervisor:0' })],
      on: {
        'session.hello': {
          actions: [
            ({ event }) => toServer.push(event),
            sendTo(({ event }) => (event as unknown as { session: AnyActorRef }).session, { type: 'session.accepted' }),
          ],
        },
        '*': { actions: ({ event }) => toServer.push(event) },
      },
    }).provide({ actors: { supervisor: supervisorMachine.provide({ actors: { session: sessionWithAccounts(testAccounts(), session) } }) } }),
  ).start();
  const supervisor = server.getSnapshot().children['supervisor:0'] as AnyActorRef;
  const connections = new Map<string, FakeConnection>();
  /** What the server does on `connection.open`: the outbox gets the connection, the supervisor a session for it. */
  const open = (id: string, nick: string) => {
    const connection = new FakeConnection();
    connections.set(id, connection);
    server.system.get(OUTBOX_ID)!.send({ type: 'outbox.attach', id, connection });
    const input: SessionInput = { id, nick, address: '127.0.0.1', maxChannels: 100, authTimeoutMs: 30_000 };
    supervisor.send({ type: 'supervisor.spawn', input });
    return server.system.get(`session:${id}`) as AnyActorRef | undefined;
  };
  const sessions = () => Object.keys(supervisor.getSnapshot().children).sort();
  const received = (type: string) => toServer.filter((event) => event.type === type);
  return { supervisor, open, sessions, received, toServer, connections };
}

describe('supervisor machine', () => {
  it('spawns a session at once under its connection’s system id, and hands the server that session’s own ref', () => {
    const { supervisor, open, sessions, received } = harness();
    const alice = open('1', 'alice');
    expect(alice).toBeDefined();
    expect(alice!.id).toBe('session:1');
    expect(sessions()).toEqual(['session:1']);
    expect(supervisor.getSnapshot().context.sessions).toBe(1);
    expect(received('session.spawned')).toEqual([{ type: 'session.spawned', id: '1', nick: 'alice', session: alice, supervisor: 'supervisor:0' }]);
  });

  it('forwards to the server, unchanged, everything its sessions send their parent', async () => {
    const { open, received, toServer } = harness();
    const alice = open('1', 'alice')!;
    await settle();
    expect(received('session.hello')).toEqual([{ type: 'session.hello', id: '1', nick: 'alice', session: alice, owner: false }]);
    expect(alice.getSnapshot().value).toEqual({ active: 'guest' });

    alice.send({ type: 'client.join', channel: '#x' });
    alice.send({ type: 'client.message', channel: '#x', message: 'before the join is confirmed' });
    alice.send({ type: 'client.list', id: 1 });
    alice.send({ type: 'client.list', channel: '#y', id: 2 });
    alice.send({ type: 'client.logout' });
    expect(toServer.map((event) => event.type).filter((type) => type !== 'session.spawned')).toEqual([
      'session.hello',
      'route.join',
      'route.channel',
      'users.list',
      'route.list',
      'session.ended',
    ]);
    expect(received('route.join')).toEqual([{ type: 'route.join', channel: '#x', member: { id: '1', nick: 'alice', session: alice } }]);
    expect(received('route.channel')).toEqual([
      { type: 'route.channel', channel: '#x', event: { type: 'channel.say', id: '1', message: 'before the join is confirmed' } },
    ]);
    expect(received('users.list')).toEqual([{ type: 'users.list', replyTo: '1', requestId: 1 }]);
    expect(received('route.list')).toEqual([{ type: 'route.list', channel: '#y', replyTo: '1', requestId: 2 }]);
    expect(received('session.ended')).toEqual([{ type: 'session.ended', id: '1', channels: ['#x'] }]);
  });

  it('stops a session that has finished, after passing on what it said last, and tells the server it is gone', async () => {
    const { supervisor, open, sessions, toServer } = harness();
    const alice = open('1', 'alice')!;
    open('2', 'bob');
    await settle();
    alice.send({ type: 'socket.closed', code: 1006 });
    expect(toServer.slice(-2)).toEqual([
      { type: 'session.ended', id: '1', channels: [] },
      { type: 'session.stopped', id: '1' },
    ]);
    expect(sessions()).toEqual(['session:2']);
    expect(supervisor.getSnapshot().context.sessions).toBe(1);
    expect(supervisor.getSnapshot().status).toBe('active');
  });

  it('stops a session that fails and tells the server why, while its other sessions carry on', async () => {
    const failing = sessionMachine.provide({
      actions: {
        listUsers: ({ context }) => {
          if (context.nick === 'mallory') throw new Error('injected session fault');
        },
      },
    });
    const { supervisor, open, sessions, received, connections } = harness(failing);
    const alice = open('1', 'alice')!;
    const mallory = open('2', 'mallory')!;
    await settle();
    mallory.send({ type: 'client.list' });
    expect(received('session.failed')).toEqual([{ type: 'session.failed', id: '2', error: new Error('injected session fault') }]);
    expect(sessions()).toEqual(['session:1']);
    expect(supervisor.getSnapshot().context.sessions).toBe(1);
    expect(supervisor.getSnapshot().status).toBe('active');
    // Closing its client is the server's part: the supervisor only reports.
    expect(connections.get('2')!.closed).toBeUndefined();

    alice.send({ type: 'client.join', channel: '#x' });
    expect(received('route.join')).toHaveLength(1);
  });
});
