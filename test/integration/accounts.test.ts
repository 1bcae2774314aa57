/**
 * @module accounts.test: registration, password and token logins, password
 * changes, takeover, the authentication timeout and throttling, over real
 * sockets at the real hashing cost.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/store/sqlite.js';
import { connectAsked, expectAuthRequired, PASSWORD, register, registerAndLeave, signIn } from '../support/auth.js';
import { TestClient } from '../support/client.js';
import { clustered, useServer } from '../support/server.js';

const start = useServer();

describe('registration (type 1)', () => {
  it('registers the nick to the sender alone and broadcasts nothing', async () => {
    const h = await start();
    const { login } = h;
    const bob = await login('bob');
    const alice = await login('Alice');
    await bob.next();
    alice.send({ type: 1, password: PASSWORD, id: 'r1' });
    await alice.expect({ type: 1, user: 'Alice', id: 'r1' });
    await bob.expectQuiet();
  });

  it('answers already_registered when the nick is registered', async () => {
    const h = await start();
    const { login } = h;
    const alice = await login('alice');
    await register(alice, 'alice');
    alice.send({ type: 1, password: 'another password', id: 2 });
    await alice.expectError('already_registered', 2);
  });

  it('answers weak_password for passwords under 8 or over 1,024 characters, and bad_request for a missing one', async () => {
    const h = await start();
    const { login } = h;
    const alice = await login('alice');
    alice.send({ type: 1, password: '1234567' });
    await alice.expectError('weak_password');
    alice.send({ type: 1, password: 'x'.repeat(1025) });
    await alice.expectError('weak_password');
    alice.send({ type: 1 });
    await alice.expectError('bad_request');
    alice.send({ type: 1, password: 12345678 });
    await alice.expectError('bad_request');
    // None of that registered anything.
    await register(alice, 'alice', 'x'.repeat(1024));
  });

  it('answers not_registered to a password change on a nick nobody registered', async () => {
    const h = await start();
    const { login } = h;
    const alice = await login('alice');
    alice.send({ type: 1, password: 'new password', old_password: PASSWORD });
    await alice.expectError('not_registered');
  });
});

describe('signing in to a registered nick', () => {
  it('asks for credentials, tells nobody else, and keeps the nick out of the user list until then', async () => {
    const h = await start();
    const { login, connect } = h;
    await registerAndLeave(h, 'alice');
    const bob = await login('bob');
    const again = await connect('alice');
    const demand = await expectAuthRequired(again);
    expect(demand.message).toMatch(/"password"/);
    bob.send({ type: 6, id: 'who' });
    await bob.expect({ type: 6, users: ['bob'], id: 'who' });
    await bob.expectQuiet();
  });

  it('logs in with the right password: everyone hears type 2, and only the owner’s copy carries a token', async () => {
    const h = await start();
    const { login } = h;
    await registerAndLeave(h, 'alice');
    const bob = await login('bob');
    const alice = await connectAsked(h, 'alice');
    alice.send({ type: 2, user: 'alice', password: PASSWORD });
    const own = await alice.next();
    expect(own).toEqual({ type: 2, user: 'alice', token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
    await alice.expect({ type: 6, users: ['bob', 'alice'] });
    await bob.expect({ type: 2, user: 'alice' });
  });

  it('accepts the login as the very first frame, before the server asks', async () => {
    const h = await start();
    const { server } = h;
    await registerAndLeave(h, 'alice');
    const alice = await TestClient.connect(server.url, 'alice');
    alice.send({ type: 2, user: 'alice', password: PASSWORD });
    await expectAuthRequired(alice);
    const own = await alice.next();
    expect(own).toMatchObject({ type: 2, user: 'alice', token: expect.any(String) });
    await alice.terminate();
  });

  it('answers bad_password, and closes with 1008 on the third failure', async () => {
    const h = await start();
    await registerAndLeave(h, 'alice');
    const alice = await connectAsked(h, 'alice');
    for (const id of [1, 2, 3]) {
      alice.send({ type: 2, user: 'alice', password: `wrong password ${id}`, id });
      await alice.expectError('bad_password', id);
    }
    expect((await alice.closed).code).toBe(1008);
  });

  it('answers auth_required to anything but a login, and bad_request to a login without one credential', async () => {
    const h = await start();
    const { login } = h;
    await registerAndLeave(h, 'alice');
    const alice = await connectAsked(h, 'alice');
    alice.send({ type: 4, channel: '#x', id: 'j' });
    await alice.expectError('auth_required', 'j');
    alice.send({ type: 6 });
    await alice.expectError('auth_required');
    alice.send({ type: 1, password: PASSWORD });
    await alice.expectError('auth_required');
    alice.send({ type: 2, user: 'alice' });
    await alice.expectError('bad_request');
    alice.send({ type: 2, user: 'alice', password: PASSWORD, token: 'x' });
    await alice.expectError('bad_request');
    alice.send({ type: 2, user: 'bob', password: PASSWORD });
    await alice.expectError('bad_request');
    alice.send('{"type":');
    await alice.expectError('bad_json');
    // None of those counted as a failed login.
    await signIn(alice, 'alice', { password: PASSWORD });
  });

  it('logs in with a resume token, which hands out a fresh one; an unknown token gets bad_token', async () => {
    const h = await start();
    await registerAndLeave(h, 'alice');
    const second = await connectAsked(h, 'alice');
    const token = await signIn(second, 'alice', { password: PASSWORD });
    await second.close();

    const third = await connectAsked(h, 'alice');
    third.send({ type: 2, user: 'alice', token: 'not-a-token', id: 't' });
    await third.expectError('bad_token', 't');
    const fresh = await signIn(third, 'alice', { token });
    expect(fresh).not.toBe(token);
  });

  it('refuses a token of another nick, and one older than 30 days', async () => {
    let now = Date.now();
    const h = await start({ accounts: { now: () => now } });
    const { login } = h;
    for (const nick of ['alice', 'bob']) {
      const client = await login(nick);
      await register(client, nick);
      await client.close();
    }
    const alice = await connectAsked(h, 'alice');
    const token = await signIn(alice, 'alice', { password: PASSWORD });
    await alice.close();

    const bob = await connectAsked(h, 'bob');
    bob.send({ type: 2, user: 'bob', token });
    await bob.expectError('bad_token');

    now += 30 * 24 * 60 * 60 * 1000;
    const later = await connectAsked(h, 'alice');
    later.send({ type: 2, user: 'alice', token });
    await later.expectError('bad_token');
  });

  it('closes with auth_timeout and 1008 when no login arrives in time', async () => {
    const h = await start({ limits: { authTimeoutMs: 300 } });
    await registerAndLeave(h, 'alice');
    const alice = await connectAsked(h, 'alice');
    await alice.expectError('auth_timeout');
    expect((await alice.closed).code).toBe(1008);
  });

  it('leaves guests as they were: first come, first served', async () => {
    const h = await start();
    const { login, connect } = h;
    await login('guest');
    const other = await connect('GUEST');
    await other.expectError('nick_taken');
    expect((await other.closed).code).toBe(1008);
  });
});

describe('password changes', () => {
  it('changes the password, revokes every token, and refuses a wrong old password', async () => {
    const h = await start();
    await registerAndLeave(h, 'alice');
    const alice = await connectAsked(h, 'alice');
    const token = await signIn(alice, 'alice', { password: PASSWORD });

    alice.send({ type: 1, password: 'a new password', old_password: 'not the password', id: 'c1' });
    await alice.expectError('bad_password', 'c1');
    alice.send({ type: 1, password: 'a new password', old_password: PASSWORD, id: 'c2' });
    await alice.expect({ type: 1, user: 'alice', changed: true, id: 'c2' });
    await alice.close();

    const withToken = await connectAsked(h, 'alice');
    withToken.send({ type: 2, user: 'alice', token });
    await withToken.expectError('bad_token');
    withToken.send({ type: 2, user: 'alice', password: PASSWORD });
    await withToken.expectError('bad_password');
    await signIn(withToken, 'alice', { password: 'a new password' });
  });

  it('lets a guest who just registered change the password on the same connection', async () => {
    const h = await start();
    const { login } = h;
    const alice = await login('alice');
    await register(alice, 'alice');
    alice.send({ type: 1, password: 'second password', old_password: PASSWORD });
    await alice.expect({ type: 1, user: 'alice', changed: true });
  });
});

describe('takeover', () => {
  it('closes the other connection with 4001, logs it out for everyone, then logs the owner in', async () => {
    const h = await start();
    const { login } = h;
    const bob = await login('bob');
    const old = await login('alice');
    await bob.next();
    await register(old, 'alice');
    old.send({ type: 4, channel: '#x' });
    await old.expect({ type: 4, channel: '#x', user: 'alice' });
    bob.send({ type: 4, channel: '#x' });
    await bob.expect({ type: 4, channel: '#x', user: 'bob' });
    await old.next();

    const fresh = await connectAsked(h, 'alice');
    fresh.send({ type: 2, user: 'alice', password: PASSWORD });
    const closed = await old.closed;
    expect(closed).toEqual({ code: 4001, reason: 'signed in elsewhere' });
    await bob.expect({ type: 5, channel: '#x', user: 'alice' });
    await bob.expect({ type: 3, user: 'alice' });
    await bob.expect({ type: 2, user: 'alice' });
    expect(await fresh.next()).toMatchObject({ type: 2, user: 'alice', token: expect.any(String) });
    await fresh.expect({ type: 6, users: ['bob', 'alice'] });
    await bob.expectQuiet();
  });
});

describe('throttling', () => {
  it('locks a nick after 5 wrong passwords in a row without hashing, and a correct login after the lockout resets it', async () => {
    let now = Date.now();
    const h = await start({ accounts: { now: () => now } });
    const { server } = h;
    await registerAndLeave(h, 'alice');

    const attempt = async (client: TestClient, password: string) => {
      client.send({ type: 2, user: 'alice', password });
      return client.next();
    };
    // Three failures close a connection, so the five take two.
    const firstTry = await connectAsked(h, 'alice');
    for (const failure of [1, 2, 3]) expect(await attempt(firstTry, `wrong ${failure}`)).toMatchObject({ code: 'bad_password' });
    expect((await firstTry.closed).code).toBe(1008);
    const client = await connectAsked(h, 'alice');
    for (const failure of [4, 5]) expect(await attempt(client, `wrong ${failure}`)).toMatchObject({ code: 'bad_password' });
    const hashed = server.accounts.hashes.started;
    expect(await attempt(client, PASSWORD)).toMatchObject({ code: 'auth_throttled' });
    expect(server.accounts.hashes.started).toBe(hashed);

    now += 60_000;
    await signIn(client, 'alice', { password: PASSWORD });
    await client.close();
    // Reset: five more wrong passwords are needed for the next lockout, not one.
    const next = await connectAsked(h, 'alice');
    expect(await attempt(next, 'wrong again')).toMatchObject({ code: 'bad_password' });
    expect(await attempt(next, PASSWORD)).toMatchObject({ type: 2, user: 'alice' });
  });

  it('locks a nick again for twice as long when it fails after its first lockout', async () => {
    let now = Date.now();
    const h = await start({ accounts: { now: () => now } });
    const { connect } = h;
    await registerAndLeave(h, 'alice');
    const fail = async (count: number) => {
      for (let i = 0; i < count; i += 1) {
        const client = await connect('alice');
        await expectAuthRequired(client);
        client.send({ type: 2, user: 'alice', password: 'wrong password' });
        await client.expectError('bad_password');
        await client.terminate();
      }
    };
    await fail(5);
    now += 60_000;
    await fail(1);
    now += 60_000;
    const client = await connectAsked(h, 'alice');
    client.send({ type: 2, user: 'alice', password: PASSWORD });
    await client.expectError('auth_throttled');
    now += 60_000;
    await signIn(client, 'alice', { password: PASSWORD });
  });

  it('locks an address after 20 wrong passwords within 10 minutes, whichever nicks they were for', async () => {
    const h = await start();
    const { login, connect } = h;
    const nicks = ['n1', 'n2', 'n3', 'n4', 'n5', 'n6'];
    for (const nick of nicks) {
      const client = await login(nick);
      await register(client, nick);
      await client.close();
    }
    // Four wrong passwords for each of five nicks: no nick reaches its own limit of five.
    for (const nick of nicks.slice(0, 5)) {
      for (let round = 0; round < 2; round += 1) {
        const client = await connect(nick);
        await expectAuthRequired(client);
        for (const attempt of [1, 2]) {
          client.send({ type: 2, user: nick, password: `wrong ${attempt}` });
          await client.expectError('bad_password');
        }
        await client.terminate();
      }
    }
    const last = await connectAsked(h, 'n6');
    last.send({ type: 2, user: 'n6', password: PASSWORD });
    await last.expectError('auth_throttled');
  });
});

// The embedded engine's own: a cluster's restarts are in test/cluster.
describe.skipIf(clustered)('a restart on the same data directory', () => {
  it('keeps accounts and resume tokens', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'xstate-chat-accounts-'));
    const before = await start({ store: new SqliteStore({ dataDir }) });
    const alice = await before.login('alice');
    await register(alice, 'alice');
    await alice.close();
    const again = await before.connect('alice');
    await expectAuthRequired(again);
    const token = await signIn(again, 'alice', { password: PASSWORD });
    await again.close();
    await before.server.close();

    const after = await start({ store: new SqliteStore({ dataDir }) });
    const byPassword = await after.connect('alice');
    await expectAuthRequired(byPassword);
    await signIn(byPassword, 'alice', { password: PASSWORD });
    await byPassword.close();
    const byToken = await after.connect('alice');
    await expectAuthRequired(byToken);
    await signIn(byToken, 'alice', { token });
  });
});
