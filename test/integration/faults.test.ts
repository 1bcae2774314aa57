/**
 * @module faults.test: a failing actor or a vanished client never stops the server or costs others frames.
 */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { channelMachine } from '../../machines/channel.machine.js';
import { serverMachine, withSessions } from '../../machines/server.machine.js';
import { sessionMachine } from '../../machines/session.machine.js';
import { useServer } from '../support/server.js';

const start = useServer();

/** Sessions whose user list action throws for the nick "mallory": an injected bug. */
const faultySessions = withSessions(
  serverMachine,
  sessionMachine.provide({
    actions: {
      listUsers: ({ context }) => {
        if (context.nick === 'mallory') throw new Error('injected session fault');
      },
    },
  }),
);

/** Channels whose member listing always throws: an injected bug. */
const faultyChannels = serverMachine.provide({
  actors: {
    channel: channelMachine.provide({
      actions: {
        answerList: () => {
          throw new Error('injected channel fault');
        },
      },
    }),
  },
});

describe('fault isolation', () => {
  it('closes a failing session with 1011, logs it, and tells the others it left, while they carry on', async () => {
    const logLines: string[] = [];
    const logger = pino({ level: 'error' }, { write: (line: string) => logLines.push(line) });
    const { server, login, connect } = await start({ machine: faultySessions, logger });
    const alice = await login('alice');
    const mallory = await login('mallory');
    await alice.expect({ type: 2, user: 'mallory' });
    for (const client of [alice, mallory]) {
      client.send({ type: 4, channel: 'x' });
      await client.next((frame) => frame.type === 4);
    }
    await alice.expect({ type: 4, channel: '#x', user: 'mallory' });

    mallory.send({ type: 6 });
    expect((await mallory.closed).code).toBe(1011);
    await alice.expect({ type: 5, channel: '#x', user: 'mallory' });
    await alice.expect({ type: 3, user: 'mallory' });

    alice.send({ type: 0, dest: 'x', message: 'still here' });
    await alice.expect({ type: 0, dest: '#x', message: 'still here', user: 'alice' });
    expect(server.actor.getSnapshot().status).toBe('active');
    expect(server.actor.getSnapshot().context.sessions.size).toBe(1);

    const again = await connect('mallory');
    await again.expect({ type: 2, user: 'mallory' });

    const logged = logLines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(logged).toContainEqual(expect.objectContaining({ level: 50, actor: expect.stringMatching(/^session:/) }));
    expect(JSON.stringify(logged)).toContain('injected session fault');
  });

  it('removes a failing channel, tells its members they are out, and lets them rejoin', async () => {
    const { server, login } = await start({ machine: faultyChannels });
    const alice = await login('alice');
    const bob = await login('bob');
    await alice.next();
    for (const client of [alice, bob]) {
      client.send({ type: 4, channel: 'x' });
      await client.next((frame) => frame.type === 4);
    }
    await alice.next();
    bob.send({ type: 6, channel: 'x' });
    // A notice from the member's own session, not an event of the channel's history: no offset, no time.
    expect(await alice.next()).toEqual({ type: 5, channel: '#x', user: 'alice' });
    expect(await bob.next()).toEqual({ type: 5, channel: '#x', user: 'bob' });
    expect(server.actor.getSnapshot().context.channels.size).toBe(0);

    alice.send({ type: 4, channel: 'x' });
    await alice.expect({ type: 4, channel: '#x', user: 'alice' });
    alice.send({ type: 0, dest: 'x', message: 'back' });
    await alice.expect({ type: 0, dest: '#x', message: 'back', user: 'alice' });
  });

  it('loses no frame for others when a client is killed mid-traffic', async () => {
    const { login } = await start({ limits: { rateLimit: 0 } });
    const alice = await login('alice');
    const bob = await login('bob');
    const victim = await login('victim');
    await alice.next();
    await alice.next();
    await bob.next();
    for (const client of [alice, bob, victim]) {
      client.send({ type: 4, channel: 'x' });
      await client.next((frame) => frame.type === 4);
    }
    await alice.next();
    await alice.next();
    await bob.next();

    for (let i = 0; i < 200; i++) {
      victim.send({ type: 0, dest: 'x', message: `v${i}` });
      alice.send({ type: 0, dest: 'x', message: `a${i}` });
      if (i === 100) victim.ws.terminate();
    }
    const fromAlice = [];
    for (;;) {
      const frame = await bob.next();
      if (frame.type === 0 && frame.user === 'alice') fromAlice.push(frame.message);
      if (frame.type === 3) break;
    }
    while (fromAlice.length < 200) {
      const frame = await bob.next();
      if (frame.type === 0 && frame.user === 'alice') fromAlice.push(frame.message);
    }
    expect(fromAlice).toEqual(Array.from({ length: 200 }, (_, i) => `a${i}`));
  });
});
