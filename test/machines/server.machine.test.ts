/**
 * @module server.machine.test: the whole actor tree with fake connections, no sockets.
 */
import { createActor, enqueueActions, type AnyActorRef } from 'xstate';
import { describe, expect, it, vi } from 'vitest';
import { serverMachine, withSessions, type ServerInput } from '../../machines/server.machine.js';
import { sessionMachine } from '../../machines/session.machine.js';
import { supervisorMachine } from '../../machines/supervisor.machine.js';
import { withEffects } from '../../src/effects.js';
import { settle, testAccounts } from '../support/accounts.js';
import { FakeConnection } from '../support/fake-connection.js';
import { connector } from '../support/server-actor.js';

function start(machine = serverMachine, accounts = testAccounts(), input: ServerInput = {}) {
  const faults: unknown[] = [];
  const server = createActor(
    withEffects(machine, accounts).provide({ actions: { reportFault: (_, params) => faults.push(params.actor) } }),
    { input },
  ).start();
  const connect = connector(server);
  // The outbox lives as long as the server; the tests are about what comes and goes: the server's children and its supervisors'.
  const children = () =>
    Object.entries(server.getSnapshot().children)
      .filter(([id]) => id !== 'outbox')
      .flatMap(([id, child]) => [id, ...(id.startsWith('supervisor:') ? Object.keys((child as AnyActorRef).getSnapshot().children) : [])])
      .sort();
  return { server, connect, children, faults };
}

type Client = Awaited<ReturnType<ReturnType<typeof start>['connect']>>;

/** The scene of the fault tests: alice and mallory in #x, what alice has heard so far taken. */
async function aliceAndMalloryInX(connect: (nick: string) => Promise<Client>) {
  const alice = await connect('alice');
  const mallory = await connect('mallory');
  alice.send({ type: 'client.join', channel: '#x' });
  mallory.send({ type: 'client.join', channel: '#x' });
  await settle();
  alice.connection.take();
  return { alice, mallory };
}

/** A failure of mallory's contained: her client closed with 1011, alice told she left #x and logged out. */
function expectMalloryContained(alice: Client, mallory: Client) {
  expect(mallory.connection.closed).toEqual({ code: 1011, reason: 'internal error' });
  expect(alice.connection.take()).toEqual([
    { type: 5, channel: '#x', user: 'mallory', offset: 3, time: expect.any(Number) },
    { type: 3, user: 'mallory' },
  ]);
}

describe('server machine', () => {
  it('spawns one session per connection, addressed by connection id, under a supervisor, and nothing else', async () => {
    const { connect, children } = start();
    await connect('alice');
    await connect('bob');
    expect(children()).toEqual(['session:1', 'session:2', 'supervisor:0']);
  });

  it('announces each login to the outbox once, which delivers it to everyone logged in', async () => {
    const { server, connect } = start();
    const announced: unknown[] = [];
    server.system.inspect((inspection) => {
      if (inspection.type === '@xstate.event' && inspection.event.type === 'outbox.presence') announced.push(inspection.event);
    });
    const alice = await connect('alice');
    const bob = await connect('bob');
    await connect('carol');
    expect(server.getSnapshot().children.outbox).toBeDefined();
    // One outbox event per login, whatever the number of users: the outbox keeps who is logged in.
    expect(announced).toMatchObject([
      { kind: 'login', id: '1', user: 'alice', data: '{"type":2,"user":"alice"}' },
      { kind: 'login', id: '2', user: 'bob' },
      { kind: 'login', id: '3', user: 'carol' },
    ]);
    expect(alice.connection.take().filter((frame) => (frame as { type: number }).type === 2)).toHaveLength(3);
    expect(bob.connection.take().filter((frame) => (frame as { type: number }).type === 2)).toHaveLength(2);
  });

  it('spawns a channel on the first join and stops it when the last member leaves', async () => {
    const { connect, children } = start();
    const alice = await connect('alice');
    const bob = await connect('bob');
    alice.send({ type: 'client.join', channel: '#x' });
    bob.send({ type: 'client.join', channel: '#x' });
    expect(children()).toContain('channel:#x');
    alice.send({ type: 'client.leave', channel: '#x' });
    expect(children()).toContain('channel:#x');
    bob.send({ type: 'client.leave', channel: '#x' });
    expect(children()).not.toContain('channel:#x');
  });

  it('forwards a channel event by name for a session that does not know the channel yet', async () => {
    // Over sockets a join is confirmed before the client's next frame arrives, so only a unit test reaches this route.
    const { server, connect } = start();
    const alice = await connect('alice');
    alice.send({ type: 'client.join', channel: '#x' });
    await settle();
    alice.connection.take();
    server.send({ type: 'route.channel', channel: '#x', event: { type: 'channel.say', id: alice.id, message: 'early' } });
    await settle();
    expect(alice.connection.take()).toEqual([{ type: 0, dest: '#x', message: 'early', user: 'alice', offset: 2, time: expect.any(Number) }]);
    // A channel that no longer exists: dropped, as the session will hear it left anyway.
    server.send({ type: 'route.channel', channel: '#gone', event: { type: 'channel.say', id: alice.id, message: 'lost' } });
    await settle();
    expect(alice.connection.take()).toEqual([]);
  });

  it('frees a session and detaches its connection once its socket has closed', async () => {
    const { server, connect, children } = start();
    const alice = await connect('alice');
    alice.send({ type: 'client.join', channel: '#x' });
    alice.send({ type: 'client.logout' });
    alice.send({ type: 'socket.closed', code: 1000 });
    expect(children()).toEqual(['supervisor:0']);
    expect(server.getSnapshot().context.sessions.size).toBe(0);
    expect(server.getSnapshot().context.nicks.size).toBe(0);
    // What was sent before the detach still goes out, in order; nothing after it.
    await settle();
    alice.connection.take();
    await connect('bob');
    expect(alice.connection.take()).toEqual([]);
  });

  it('refuses a second session with the same nick in any case', async () => {
    const { connect } = start();
    await connect('alice');
    const impostor = await connect('ALICE');
    expect(impostor.session.getSnapshot().value).toBe('rejected');
    expect(impostor.connection.closed?.code).toBe(1008);
  });

  it('contains a session whose action throws: closes it with 1011 and logs the others out of it', async () => {
    const failing = withSessions(
      serverMachine,
      sessionMachine.provide({
        actions: {
          relayMessage: ({ context }) => {
            if (context.nick === 'mallory') throw new Error('injected');
          },
        },
      }),
    );
    const { server, connect, children, faults } = start(failing);
    const { alice, mallory } = await aliceAndMalloryInX(connect);
    mallory.send({ type: 'client.message', channel: '#x', message: 'boom' });
    await settle();

    expect(server.getSnapshot().status).toBe('active');
    expect(faults).toEqual(['session:2']);
    expectMalloryContained(alice, mallory);
    expect(children()).toEqual(['channel:#x', 'session:1', 'supervisor:0']);
    const again = await connect('mallory');
    expect(again.session.getSnapshot().value).toEqual({ active: 'guest' });
  });

  it('opens another supervisor only when every one it has is full, and fills the room a session leaves', async () => {
    const { server, connect, children } = start(serverMachine, testAccounts(), { sessionsPerSupervisor: 2 });
    const alice = await connect('alice');
    await connect('bob');
    await connect('carol');
    const under = (supervisor: string) => Object.keys((server.getSnapshot().children[supervisor] as AnyActorRef).getSnapshot().children).sort();
    expect(under('supervisor:0')).toEqual(['session:1', 'session:2']);
    expect(under('supervisor:1')).toEqual(['session:3']);

    alice.send({ type: 'socket.closed', code: 1006 });
    await connect('dave');
    await connect('erin');
    expect(under('supervisor:0')).toEqual(['session:2', 'session:5']);
    expect(under('supervisor:1')).toEqual(['session:3', 'session:4']);
    expect(children().filter((id) => id.startsWith('supervisor:'))).toEqual(['supervisor:0', 'supervisor:1']);
    // The server still sends to each session directly, by the session's own ref.
    const entry = server.getSnapshot().context.sessions.get('5')!;
    expect(entry.session).toBe(server.system.get('session:5'));
  });

  it('contains a failing supervisor: closes each of its sessions with 1011 and logs them out for everyone', async () => {
    // A supervisor whose forwarding throws on a user list: an injected bug.
    const failing = serverMachine.provide({
      actors: {
        supervisor: supervisorMachine.provide({
          actions: {
            forwardToServer: enqueueActions(({ event, enqueue }) => {
              if (event.type === 'users.list') throw new Error('injected');
              enqueue.sendParent(event);
            }) as never,
          },
        }),
      },
    });
    const { server, connect, children, faults } = start(failing, testAccounts(), { sessionsPerSupervisor: 1 });
    const { alice, mallory } = await aliceAndMalloryInX(connect);
    mallory.send({ type: 'client.list' });
    await settle();

    expect(server.getSnapshot().status).toBe('active');
    expect(faults).toEqual(['supervisor:1']);
    expectMalloryContained(alice, mallory);
    expect(children()).toEqual(['channel:#x', 'session:1', 'supervisor:0']);
    const again = await connect('mallory');
    expect(again.session.getSnapshot().value).toEqual({ active: 'guest' });
    expect(children()).toContain('supervisor:2');
  });

  it('does not stop a channel on a stale empty notice that a join overtook', async () => {
    const { server, connect, children } = start();
    const alice = await connect('alice');
    alice.send({ type: 'client.join', channel: '#x' });
    const entry = server.getSnapshot().context.channels.get('#x')!;
    server.send({ type: 'channel.empty', channel: '#x', ref: entry.ref, joins: 0 });
    expect(children()).toContain('channel:#x');
  });

  it('asks every session to close with 1001 on shutdown and takes no new ones', async () => {
    const { server, connect } = start();
    const alice = await connect('alice');
    server.send({ type: 'server.shutdown' });
    expect(alice.connection.closed?.code).toBe(1001);
    expect(server.getSnapshot().value).toBe('draining');
    server.send({ type: 'connection.open', id: '99', nick: 'late', address: '127.0.0.1', connection: new FakeConnection() });
    expect(server.system.get('session:99')).toBeUndefined();
  });

  it('hands the nick from owner connection to owner connection, closing each one before with 4001', async () => {
    const accounts = testAccounts();
    await accounts.register('alice', 'password1');
    const { server, connect } = start(serverMachine, accounts);
    const watcher = await connect('bob');
    watcher.connection.take();
    const signIn = async () => {
      const client = await connect('alice');
      client.send({ type: 'client.login', user: 'alice', password: 'password1' });
      await vi.waitFor(() => expect(client.session.getSnapshot().value).toEqual({ active: 'owner' }));
      return client;
    };
    const first = await signIn();
    const second = await signIn();
    expect(first.connection.closed).toEqual({ code: 4001, reason: 'signed in elsewhere' });
    const third = await signIn();
    expect(second.connection.closed).toEqual({ code: 4001, reason: 'signed in elsewhere' });
    expect(third.connection.closed).toBeUndefined();
    for (const old of [first, second]) old.send({ type: 'socket.closed', code: 4001 });
    expect(server.getSnapshot().context.nicks.get('alice')).toBe(third.id);
    expect(server.getSnapshot().context.takeovers.size).toBe(0);
    // Each handover is a logout, then a login, for everyone else.
    expect(watcher.connection.take()).toEqual([
      { type: 2, user: 'alice' },
      { type: 3, user: 'alice' },
      { type: 2, user: 'alice' },
      { type: 3, user: 'alice' },
      { type: 2, user: 'alice' },
    ]);
  });

  it('logs out a session whose socket closed while its login was on its way to the server', async () => {
    const { server, connect } = await start();
    const watcher = await connect('bob');
    const alice = await connect('alice');
    watcher.connection.take();
    // The server takes the nick, then hears that the session ended without having left `active` through its exit.
    server.send({ type: 'session.stopped', id: '2' });
    expect(server.getSnapshot().context.nicks.has('alice')).toBe(false);
    await settle();
    expect(watcher.connection.take()).toEqual([{ type: 3, user: 'alice' }]);
    expect(alice.id).toBe('2');
  });
});
