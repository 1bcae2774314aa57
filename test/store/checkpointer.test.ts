/**
 * @module checkpointer.test: the SQLite store's log is copied into the
 * database file by its worker, not by the commits on the event loop.
 */
import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { DATABASE_FILE, SqliteStore } from '../../src/store/sqlite.js';

const open: SqliteStore[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((store) => store.close()));
});

function storeIn(dataDir: string, problems: string[] = []): SqliteStore {
  const store = new SqliteStore({ dataDir, onCheckpointProblem: (message) => problems.push(message) });
  open.push(store);
  return store;
}

/** A few dozen log pages: far below the 1,000 at which SQLite would checkpoint on the committing thread. */
function writeSome(store: SqliteStore, batches: number): void {
  for (let batch = 0; batch < batches; batch += 1) {
    const requests = Array.from({ length: 20 }, (_, i) => ({ channel: `#c${i % 4}`, head: `{"type":0,"dest":"#c${i % 4}","message":"m${batch}.${i}"` }));
    store.append(requests, Date.now());
  }
}

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('the SQLite checkpointer', () => {
  it('copies what the server wrote into the database file while the server goes on', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'xstate-chat-checkpoint-'));
    const problems: string[] = [];
    const store = storeIn(dataDir, problems);
    const file = join(dataDir, DATABASE_FILE);
    // Everything so far, the schema included, sits in the log: the file itself is its first page.
    const before = statSync(file).size;
    writeSome(store, 10);
    await until(() => statSync(file).size > before, 'the database file holds the written pages');
    expect(store.read({ channel: '#c0', limit: 100 }).events).toHaveLength(50);
    expect(problems).toEqual([]);
  });

  it('stops its worker first when the store closes, so the server’s connection, the last, folds the log in and removes it', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'xstate-chat-checkpoint-'));
    const store = new SqliteStore({ dataDir });
    writeSome(store, 3);
    await store.close();
    expect(existsSync(join(dataDir, `${DATABASE_FILE}-wal`))).toBe(false);
    const db = new Database(join(dataDir, DATABASE_FILE), { readonly: true });
    expect(db.prepare('SELECT count(*) AS n FROM events').get()).toEqual({ n: 60 });
    db.close();
  });

  it('closes at once when the store closes right after opening, before its worker has started', async () => {
    const store = new SqliteStore({ dataDir: mkdtempSync(join(tmpdir(), 'xstate-chat-checkpoint-')) });
    await store.close();
  });
});
