/**
 * @module outbox.test: the actor every frame leaves through, with fake connections.
 */
import { createActor } from 'xstate';
import { describe, expect, it } from 'vitest';
import { ephemeralHistory, type History } from '../../machines/history.js';
import { createOutbox, LoggedIn, outboxLogic, presenceWait } from '../../machines/outbox.js';
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

describe('logins and logouts in the outbox', () => {
  const login = (id: string, user: string, own?: string) =>
    ({ type: 'outbox.presence', kind: 'login', id, user, data: JSON.stringify({ type: 2, user }), ...(own ? { tokenFrame: own } : {}) }) as const;
  const logout = (id: string, user: string) => ({ type: 'outbox.presence', kind: 'logout', id, user, data: JSON.stringify({ type: 3, user }) }) as const;

  /** A connection that records the runs handed to it whole, as the real one writes them in one go. */
  class RunConnection extends FakeConnection {
    readonly runs: (readonly string[])[] = [];
    sendMany(frames: readonly string[]): void {
      this.runs.push(frames);
      for (const data of frames) this.send(data);
    }
  }

  it('announces each login to everyone logged in after it, the new user with its own frame, and lists them in login order', async () => {
    const { outbox, attach } = harness();
    const [alice, bob] = [attach('1'), attach('2')];
    outbox.send(login('1', 'alice'));
    await settle();
    outbox.send(login('2', 'bob', '{"type":2,"user":"bob","token":"t"}'));
    await settle();
    expect(alice.take()).toEqual([{ type: 2, user: 'alice' }, { type: 2, user: 'bob' }]);
    expect(bob.take()).toEqual([{ type: 2, user: 'bob', token: 't' }]);
    outbox.send({ type: 'outbox.list', to: '2', requestId: 'who' });
    await settle();
    expect(bob.take()).toEqual([{ type: 6, users: ['alice', 'bob'], id: 'who' }]);
    outbox.send(logout('1', 'alice'));
    outbox.send({ type: 'outbox.list', to: '2' });
    await settle();
    expect(bob.take()).toEqual([{ type: 3, user: 'alice' }, { type: 6, users: ['bob'] }]);
    expect(alice.take()).toEqual([]);
  });

  it('hands a storm’s run of logins to everyone already logged in as one array, and the newcomers their part frame by frame', async () => {
    const outbox = createActor(outboxLogic).start();
    const connections = ['1', '2', '3', '4', '5'].map((id) => {
      const connection = new RunConnection();
      outbox.send({ type: 'outbox.attach', id, connection });
      return connection;
    });
    const [alice, bob, carol, dave, erin] = connections as [RunConnection, RunConnection, RunConnection, RunConnection, RunConnection];
    outbox.send(login('1', 'alice'));
    outbox.send(login('2', 'bob'));
    await settle();
    for (const connection of connections) connection.take();
    // One turn: three logins and a logout.
    outbox.send(login('3', 'carol'));
    outbox.send(login('4', 'dave'));
    outbox.send(logout('2', 'bob'));
    outbox.send(login('5', 'erin'));
    await settle();
    // Alice was there throughout: the whole run, handed once, the same array she would share with any other veteran.
    expect(alice.runs).toHaveLength(1);
    expect(alice.take()).toEqual([{ type: 2, user: 'carol' }, { type: 2, user: 'dave' }, { type: 3, user: 'bob' }, { type: 2, user: 'erin' }]);
    // Bob heard what came before his logout; the newcomers, what came from their own login on.
    expect(bob.take()).toEqual([{ type: 2, user: 'carol' }, { type: 2, user: 'dave' }]);
    expect(carol.take()).toEqual([{ type: 2, user: 'carol' }, { type: 2, user: 'dave' }, { type: 3, user: 'bob' }, { type: 2, user: 'erin' }]);
    expect(dave.take()).toEqual([{ type: 2, user: 'dave' }, { type: 3, user: 'bob' }, { type: 2, user: 'erin' }]);
    expect(erin.take()).toEqual([{ type: 2, user: 'erin' }]);
  });

  /** A connection that takes a frame in two parts, as the real one writes a shared first part as it is. */
  class SplitConnection extends RunConnection {
    readonly heads: string[] = [];
    sendSplit(head: string, tail: string): void {
      this.heads.push(head);
      this.send(head + tail);
    }
  }

  it('sends each newcomer of a run its user list as the list before the run, the same string for all, and the run so far', async () => {
    const outbox = createActor(outboxLogic).start();
    const connections = ['1', '2', '3', '4'].map((id) => {
      const connection = new SplitConnection();
      outbox.send({ type: 'outbox.attach', id, connection });
      return connection;
    });
    const [, bob, carol, dave] = connections as [SplitConnection, SplitConnection, SplitConnection, SplitConnection];
    outbox.send(login('1', 'alice'));
    await settle();
    outbox.send(login('2', 'bob'));
    outbox.send({ type: 'outbox.list', to: '2' });
    outbox.send(login('3', 'carol'));
    outbox.send({ type: 'outbox.list', to: '3' });
    outbox.send(login('4', 'dave'));
    outbox.send({ type: 'outbox.list', to: '4', requestId: 7 });
    await settle();
    expect(bob.take()).toEqual([{ type: 2, user: 'bob' }, { type: 6, users: ['alice', 'bob'] }, { type: 2, user: 'carol' }, { type: 2, user: 'dave' }]);
    expect(carol.take()).toEqual([{ type: 2, user: 'carol' }, { type: 6, users: ['alice', 'bob', 'carol'] }, { type: 2, user: 'dave' }]);
    expect(dave.take()).toEqual([{ type: 2, user: 'dave' }, { type: 6, users: ['alice', 'bob', 'carol', 'dave'], id: 7 }]);
    expect(new Set([...bob.heads, ...carol.heads, ...dave.heads]).size).toBe(1);
  });
});

describe('the list of who is logged in', () => {
  const presence = (kind: 'login' | 'logout', id: string, user: string) => ({ type: 'outbox.presence', kind, id, user, data: '' }) as const;

  it('gives the same list whole or in parts, through logins, a seal and a logout', () => {
    const list = new LoggedIn();
    const parts = () => list.listParts('r').join('');
    expect(parts()).toBe(list.listFrame('r'));
    list.apply(presence('login', '1', 'alice'));
    list.seal();
    list.apply(presence('login', '2', 'bob'));
    list.apply(presence('login', '3', 'carol'));
    expect(JSON.parse(parts())).toEqual({ type: 6, users: ['alice', 'bob', 'carol'], id: 'r' });
    expect(parts()).toBe(list.listFrame('r'));
    list.apply(presence('logout', '2', 'bob'));
    list.apply(presence('login', '4', 'dave'));
    expect(JSON.parse(list.listFrame())).toEqual({ type: 6, users: ['alice', 'carol', 'dave'] });
    expect(parts()).toBe(list.listFrame('r'));
  });
});

describe('when logins are announced', () => {
  it('announces at the end of the turn when few are logged in, however long the last announcement took', () => {
    expect(presenceWait(100, 100, 80, 255)).toBe(0);
  });

  it('announces at once when the last announcement was cheap or long ago', () => {
    expect(presenceWait(100, 99.99, 0.01, 10_000)).toBe(0);
    expect(presenceWait(100, 50, 30, 10_000)).toBe(0);
  });

  it('waits as long again as a costly announcement to many took, a few milliseconds at most, so a storm’s logins go out together', () => {
    expect(presenceWait(100, 99, 2, 10_000)).toBeCloseTo(1);
    expect(presenceWait(100, 100, 80, 10_000)).toBeGreaterThan(0);
    expect(presenceWait(100, 100, 80, 10_000)).toBeLessThanOrEqual(5);
  });
});
