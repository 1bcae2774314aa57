/**
 * @module outbox.test: the actor every frame leaves through, with fake connections.
 */
import { createActor } from 'xstate';
import { describe, expect, it } from 'vitest';
import { ephemeralHistory, type History } from '../../machines/history.js';
import { createOutbox, outboxLogic } from '../../machines/outbox.js';
import { settle } from '../support/accounts.js';
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

  it('stores a publication before delivering it, and keeps a frame sent after it behind it', async () => {
    const appended: string[] = [];
    const history = ephemeralHistory('e1');
    const recording: History = {
      epoch: history.epoch,
      read: history.read,
      append: (requests, now) => {
        appended.push(...requests.map((request) => request.head));
        return history.append(requests, now);
      },
    };
    const outbox = createActor(createOutbox({ history: recording, historyOnJoin: 0, recoveryLimit: 0 })).start();
    const alice = new FakeConnection();
    outbox.send({ type: 'outbox.attach', id: '1', connection: alice });
    outbox.send({ type: 'outbox.publish', channel: '#x', head: '{"type":0,"dest":"#x","message":"hi","user":"bob"', to: ['1'] });
    outbox.send({ type: 'socket.send', to: '1', data: '{"type":6,"users":[]}' });
    expect(alice.take()).toEqual([]);
    await settle();
    expect(appended).toHaveLength(1);
    expect(alice.take()).toEqual([
      { type: 0, dest: '#x', message: 'hi', user: 'bob', offset: 1, time: expect.any(Number) },
      { type: 6, users: [] },
    ]);
  });

  it('delivers nothing of a batch the history could not store, and tells its senders unavailable', async () => {
    const failing: History = {
      epoch: 'e',
      append: () => {
        throw new Error('disk full');
      },
      read: () => ({ events: [], first: 1, last: 0 }),
    };
    const errors: unknown[] = [];
    const outbox = createActor(createOutbox({ history: failing, historyOnJoin: 0, recoveryLimit: 0, onError: (error) => errors.push(error) })).start();
    const [alice, bob] = [new FakeConnection(), new FakeConnection()];
    outbox.send({ type: 'outbox.attach', id: '1', connection: alice });
    outbox.send({ type: 'outbox.attach', id: '2', connection: bob });
    outbox.send({ type: 'outbox.publish', channel: '#x', head: '{"type":0,"dest":"#x","message":"hi","user":"alice"', to: ['1', '2'], from: '1' });
    await settle();
    expect(alice.take()).toEqual([expect.objectContaining({ type: -1, code: 'unavailable' })]);
    expect(bob.take()).toEqual([]);
    expect(errors).toHaveLength(1);
  });

  it('stores and delivers what is waiting when it is stopped, so a shutdown loses nothing', () => {
    const outbox = createActor(outboxLogic).start();
    const alice = new FakeConnection();
    outbox.send({ type: 'outbox.attach', id: '1', connection: alice });
    outbox.send({ type: 'outbox.publish', channel: '#x', head: '{"type":5,"channel":"#x","user":"bob"', to: ['1'] });
    outbox.stop();
    expect(alice.take()).toEqual([{ type: 5, channel: '#x', user: 'bob', offset: 1, time: expect.any(Number) }]);
  });
});
