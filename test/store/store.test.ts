/**
 * @module store.test: the store contract, run against every engine (its
 * account half against Redis too, on a real redis-server), and what only the
 * SQLite engine does: migrations, refusing what it cannot open.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/store/memory.js';
import { SCHEMA_VERSION } from '../../src/store/migrations.js';
import { DATABASE_FILE, SqliteStore } from '../../src/store/sqlite.js';
import { StoreOpenError, type AccountStore, type Store } from '../../src/store/store.js';
import { RedisAccounts } from '../../src/cluster/redis-accounts.js';
import { describeWithRedis, useRedis } from '../support/redis.js';

const open: AccountStore[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((store) => store.close()));
});

const freshDir = () => mkdtempSync(join(tmpdir(), 'xstate-chat-store-'));
const engines: [string, () => Store][] = [
  ['memory', () => new MemoryStore()],
  ['sqlite', () => new SqliteStore({ dataDir: freshDir() })],
];
const account = (nick: string) => ({ nick, passwordHash: `$scrypt$hash-of-${nick}`, createdAt: 1 });

/**
 * The account half of the contract (src/store/store.ts, AccountStore): every
 * engine, Redis included. `make` gives a fresh, empty store each call.
 */
function accountContract(make: () => AccountStore): void {
  const store = () => {
    const made = make();
    open.push(made);
    return made;
  };
  it('creates an account once and finds it by key', async () => {
    const s = store();
    expect(await s.createAccount('alice', account('Alice'))).toBe(true);
    expect(await s.createAccount('alice', account('alice'))).toBe(false);
    expect(await s.findAccount('alice')).toEqual(account('Alice'));
    expect(await s.findAccount('bob')).toBeUndefined();
  });

  it('finds a token’s owner until it expires', async () => {
    const s = store();
    await s.createAccount('alice', account('alice'));
    await s.addToken('alice', 'h1', 1_000, 0);
    expect(await s.tokenOwner('h1', 999)).toBe('alice');
    expect(await s.tokenOwner('h1', 1_000)).toBeUndefined();
    expect(await s.tokenOwner('unknown', 0)).toBeUndefined();
  });

  it('forgets a nick’s expired tokens when it is given a new one, and keeps live ones', async () => {
    const s = store();
    await s.createAccount('alice', account('alice'));
    await s.addToken('alice', 'old', 100, 0);
    await s.addToken('alice', 'live', 10_000, 0);
    await s.addToken('alice', 'new', 20_000, 500);
    expect(await s.tokenOwner('old', 50)).toBeUndefined();
    expect(await s.tokenOwner('live', 600)).toBe('alice');
  });

  it('replaces the password and revokes every token of that nick only', async () => {
    const s = store();
    await s.createAccount('alice', account('alice'));
    await s.createAccount('bob', account('bob'));
    await s.addToken('alice', 'a1', 10_000, 0);
    await s.addToken('alice', 'a2', 10_000, 0);
    await s.addToken('bob', 'b1', 10_000, 0);
    await s.changePassword('alice', 'new-hash');
    expect((await s.findAccount('alice'))?.passwordHash).toBe('new-hash');
    expect(await s.tokenOwner('a1', 0)).toBeUndefined();
    expect(await s.tokenOwner('a2', 0)).toBeUndefined();
    expect(await s.tokenOwner('b1', 0)).toBe('bob');
  });
}

describe.each(engines)('the %s engine: accounts', (_, make) => accountContract(make));

describe.each(engines)('the %s engine: history', (_, make) => {
  const store = () => {
    const made = make();
    open.push(made);
    return made;
  };
  it('numbers each channel’s events densely from 1, in batch order, and reads back the newest in a range', () => {
    const s = store();
    const stored = s.append(
      [
        { channel: '#a', head: '{"type":0,"n":1' },
        { channel: '#b', head: '{"type":0,"n":2' },
        { channel: '#a', head: '{"type":0,"n":3' },
      ],
      1_000,
    );
    expect(stored.map((event) => event.offset)).toEqual([1, 1, 2]);
    expect(stored[2]).toEqual({ offset: 2, time: 1_000, data: '{"type":0,"n":3,"offset":2,"time":1000}' });
    s.append([{ channel: '#a', head: '{"type":0,"n":4' }], 2_000);
    expect(s.read({ channel: '#a', after: 1, limit: 10 })).toEqual({ events: [stored[2], expect.objectContaining({ offset: 3 })], first: 1, last: 3 });
    expect(s.read({ channel: '#a', before: 3, limit: 1 }).events.map((event) => event.offset)).toEqual([2]);
    expect(s.read({ channel: '#none', limit: 10 })).toEqual({ events: [], first: 1, last: 0 });
  });

  it('prunes beyond the size and the age it is given, a bounded step at a time, and never reuses an offset', () => {
    const s = store();
    const day = 24 * 60 * 60 * 1000;
    for (let i = 0; i < 10; i += 1) s.append([{ channel: '#a', head: '{"type":0' }], i < 4 ? 0 : 10 * day);
    s.append([{ channel: '#b', head: '{"type":0' }], 0);
    const retention = { maxEvents: 5, maxAgeMs: 30 * day };
    // Step by step: #a's oldest five go (by size), then #b's only event (by age).
    expect(s.prune(retention, 31 * day, 3)).toBe(3);
    expect(s.prune(retention, 31 * day, 100)).toBe(3);
    expect(s.prune(retention, 31 * day, 100)).toBe(0);
    expect(s.read({ channel: '#a', limit: 100 }).events.map((event) => event.offset)).toEqual([6, 7, 8, 9, 10]);
    expect(s.read({ channel: '#a', limit: 100 }).first).toBe(6);
    expect(s.read({ channel: '#b', limit: 100 })).toEqual({ events: [], first: 2, last: 1 });
    expect(s.append([{ channel: '#b', head: '{"type":0' }], 31 * day)[0]!.offset).toBe(2);
  });
});

describeWithRedis('the redis engine: accounts', () => {
  const redis = useRedis();
  // One server for the file: a prefix of its own keeps each store as empty as a fresh file would be.
  let stores = 0;
  const freshPrefix = () => `test${(stores += 1)}:`;
  accountContract(() => new RedisAccounts(redis.client(), { prefix: freshPrefix() }));

  it('shows every node the accounts and tokens another node made', async () => {
    const prefix = freshPrefix();
    const [one, two] = [new RedisAccounts(redis.client(), { prefix }), new RedisAccounts(redis.client(), { prefix })];
    open.push(one, two);
    expect(await one.createAccount('alice', account('Alice'))).toBe(true);
    expect(await two.findAccount('alice')).toEqual(account('Alice'));
    expect(await two.createAccount('alice', account('alice'))).toBe(false);
    await two.addToken('alice', 'h1', 10_000, 0);
    expect(await one.tokenOwner('h1', 0)).toBe('alice');
    await one.changePassword('alice', 'new-hash');
    expect(await two.tokenOwner('h1', 0)).toBeUndefined();
    expect((await two.findAccount('alice'))?.passwordHash).toBe('new-hash');
  });

  it('lets exactly one of two clients racing to register a nick win, and keeps the winner’s account whole', async () => {
    const prefix = freshPrefix();
    const [one, two] = [new RedisAccounts(redis.client(), { prefix }), new RedisAccounts(redis.client(), { prefix })];
    open.push(one, two);
    for (let round = 0; round < 20; round += 1) {
      const key = `nick${round}`;
      const outcomes = await Promise.all([one.createAccount(key, account(`one-${round}`)), two.createAccount(key, account(`two-${round}`))]);
      expect(outcomes.filter(Boolean)).toHaveLength(1);
      const winner = outcomes[0] ? 'one' : 'two';
      expect(await one.findAccount(key)).toEqual(account(`${winner}-${round}`));
    }
  });
});

describe('the SQLite engine', () => {
  const fileHash = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

  it('creates its directory and file, migrates to the current schema, and keeps data across reopening', async () => {
    const dataDir = join(freshDir(), 'nested', 'data');
    const migrated: number[] = [];
    const first = new SqliteStore({ dataDir, onMigrate: (version) => migrated.push(version) });
    expect(migrated).toEqual(Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1));
    await first.createAccount('alice', account('alice'));
    await first.close();

    const again: number[] = [];
    const second = new SqliteStore({ dataDir, onMigrate: (version) => again.push(version) });
    open.push(second);
    expect(again).toEqual([]);
    expect(await second.findAccount('alice')).toEqual(account('alice'));
    const db = new Database(join(dataDir, DATABASE_FILE), { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    db.close();
  });

  it('refuses a file written by a newer schema, naming it, and leaves it untouched', async () => {
    const dataDir = freshDir();
    const file = join(dataDir, DATABASE_FILE);
    const db = new Database(file);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    const before = fileHash(file);
    expect(() => new SqliteStore({ dataDir })).toThrow(StoreOpenError);
    expect(() => new SqliteStore({ dataDir })).toThrow(new RegExp(`${file}.*newer.*Upgrade xstate-chat`));
    expect(fileHash(file)).toBe(before);
  });

  it('refuses a file that is not a database, naming it, and leaves it untouched', async () => {
    const dataDir = freshDir();
    const file = join(dataDir, DATABASE_FILE);
    writeFileSync(file, 'this is not a database, just some text that happens to be long enough'.repeat(100));
    const before = fileHash(file);
    expect(() => new SqliteStore({ dataDir })).toThrow(new RegExp(`${file} is not a usable SQLite database`));
    expect(fileHash(file)).toBe(before);
  });
});
