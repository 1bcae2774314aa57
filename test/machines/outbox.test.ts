/**
 * @module outbox.test: the actor every frame leaves through, with fake connections.
 */
import { createActor } from 'xstate';
import { describe, expect, it } from 'vitest';
import { outboxLogic } from '../../machines/outbox.js';
import { FakeConnection } from '../support/fake-connection.js';

function harness() {
  const outbox = createActor(outboxLogic).start();
  const attach = (id: string) => {
    const connection = new FakeConnection();
    outbox.send({ type: 'outbox.attach', id, connection });
    return connection;
  };
  return { outbox, attach };
}

describe('outbox', () => {
  it('delivers one frame to every listed connection and to no other', () => {
    const { outbox, attach } = harness();
    const [alice, bob, carol] = [attach('1'), attach('2'), attach('3')];
    outbox.send({ type: 'outbox.deliver', to: ['1', '3'], data: '{"type":3,"user":"dave"}' });
    expect(alice.take()).toEqual([{ type: 3, user: 'dave' }]);
    expect(bob.take()).toEqual([]);
    expect(carol.take()).toEqual([{ type: 3, user: 'dave' }]);
  });

  it('sends to and closes one connection by its id', () => {
    const { outbox, attach } = harness();
    const alice = attach('1');
    outbox.send({ type: 'socket.send', to: '1', data: '{"type":6,"users":[]}' });
    outbox.send({ type: 'socket.close', to: '1', code: 1000, reason: 'logged out' });
    expect(alice.take()).toEqual([{ type: 6, users: [] }]);
    expect(alice.closed).toEqual({ code: 1000, reason: 'logged out' });
  });

  it('drops frames for a detached or unknown id instead of failing', () => {
    const { outbox, attach } = harness();
    const alice = attach('1');
    outbox.send({ type: 'outbox.detach', id: '1' });
    outbox.send({ type: 'outbox.deliver', to: ['1', '99'], data: '{"type":2,"user":"bob"}' });
    outbox.send({ type: 'socket.close', to: '99', code: 1000, reason: 'gone' });
    expect(alice.take()).toEqual([]);
    expect(outbox.getSnapshot().status).toBe('active');
  });
});
