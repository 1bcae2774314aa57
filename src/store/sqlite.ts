/**
 * @module sqlite: the embedded store engine, the default: one SQLite file in
 * the data directory (`./data/chat.db`), through `better-sqlite3`.
 *
 * better-sqlite3 is synchronous, which suits an embedded engine: a query on
 * an indexed key takes microseconds, far less than a round trip to a thread
 * or another process would. What is slow (password hashing) happens
 * elsewhere, off the event loop.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { completeFrame, type AppendRequest, type ReadQuery, type ReadResult, type StoredEvent } from '../../machines/history.js';
import { Checkpointer } from './checkpointer.js';
import { lockDataDir, type DataDirLock } from './lock.js';
import { MIGRATIONS, SCHEMA_VERSION } from './migrations.js';
import { StoreOpenError, type AccountRecord, type Retention, type Store } from './store.js';

export const DATABASE_FILE = 'chat.db';

export interface SqliteStoreOptions {
  dataDir: string;
  /** Told about each migration that ran. */
  onMigrate?: (version: number, summary: string) => void;
  /** Told when the background checkpoints fail or stop (see {@link Checkpointer}). */
  onCheckpointProblem?: (message: string) => void;
}

/** Rows per multi-row INSERT when a batch is stored (SQLite allows 32,766 parameters a statement). */
const ROWS_PER_INSERT = 32;

export class SqliteStore implements Store {
  readonly engine = 'sqlite';
  readonly location: string;
  readonly epoch: string;
  private readonly db: Database.Database;
  private readonly lock: DataDirLock;
  private readonly checkpointer: Checkpointer;
  private readonly statements;
  /** Each channel's newest offset, read once from the store: appends then need no read. */
  private readonly lastOffsets = new Map<string, number>();
  private readonly appendBatch: (requests: readonly AppendRequest[], now: number) => { stored: StoredEvent[]; last: Map<string, number> };

  constructor(options: SqliteStoreOptions) {
    const dataDir = resolve(options.dataDir);
    this.location = join(dataDir, DATABASE_FILE);
    try {
      mkdirSync(dataDir, { recursive: true });
    } catch (error) {
      throw new StoreOpenError(
        `Cannot create the data directory ${dataDir} (${(error as NodeJS.ErrnoException).code}). Create it yourself, or pass another --data-dir.`,
      );
    }
    // Before the file is opened: a second server must not so much as read it while another writes.
    this.lock = lockDataDir(dataDir);
    try {
      this.db = openDatabase(this.location);
    } catch (error) {
      this.lock.release();
      throw error;
    }
    try {
      migrate(this.db, this.location, options.onMigrate);
      this.statements = {
        findAccount: this.db.prepare<[string], { nick: string; password_hash: string; created_at: number }>(
          'SELECT nick, password_hash, created_at FROM accounts WHERE nick_key = ?',
        ),
        createAccount: this.db.prepare(
          'INSERT INTO accounts (nick_key, nick, password_hash, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
        ),
        setPassword: this.db.prepare('UPDATE accounts SET password_hash = ? WHERE nick_key = ?'),
        revokeTokens: this.db.prepare('DELETE FROM tokens WHERE nick_key = ?'),
        pruneTokens: this.db.prepare('DELETE FROM tokens WHERE nick_key = ? AND expires_at <= ?'),
        addToken: this.db.prepare('INSERT INTO tokens (token_hash, nick_key, expires_at) VALUES (?, ?, ?)'),
        tokenOwner: this.db.prepare<[string, number], { nick_key: string }>(
          'SELECT nick_key FROM tokens WHERE token_hash = ? AND expires_at > ?',
        ),
        lastOffset: this.db.prepare<[string], { last_offset: number }>('SELECT last_offset FROM channels WHERE name = ?'),
        setLastOffset: this.db.prepare(
          'INSERT INTO channels (name, last_offset) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET last_offset = excluded.last_offset',
        ),
        insertEvent: this.db.prepare('INSERT INTO events (channel, offset, time, data) VALUES (?, ?, ?, ?)'),
        readEvents: this.db.prepare<[string, number, number, number], StoredEvent>(
          'SELECT offset, time, data FROM events WHERE channel = ? AND offset > ? AND offset < ? ORDER BY offset DESC LIMIT ?',
        ),
        firstOffset: this.db.prepare<[string], { first: number | null }>('SELECT min(offset) AS first FROM events WHERE channel = ?'),
        pruneOld: this.db.prepare(
          'DELETE FROM events WHERE (channel, offset) IN (SELECT channel, offset FROM events WHERE time < ? LIMIT ?)',
        ),
        /** Channels holding an event older than their newest `?`. */
        oversized: this.db.prepare<[number], { name: string; last_offset: number }>(
          'SELECT name, last_offset FROM channels WHERE EXISTS (SELECT 1 FROM events WHERE channel = name AND offset <= last_offset - ?)',
        ),
        pruneChannel: this.db.prepare(
          'DELETE FROM events WHERE (channel, offset) IN (SELECT channel, offset FROM events WHERE channel = ? AND offset <= ? ORDER BY offset LIMIT ?)',
        ),
        epoch: this.db.prepare<[], { value: string }>("SELECT value FROM meta WHERE key = 'epoch'"),
        writtenAt: this.db.prepare(
          "INSERT INTO meta (key, value) VALUES ('written_at', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        ),
      };
      this.epoch = this.statements.epoch.get()!.value;
      // A file SQLite could only open read-only says so at the first write, not at open: make that write now.
      this.checkWritable(Date.now());
    } catch (error) {
      this.db.close();
      this.lock.release();
      throw unusable(this.location, error);
    }
    this.checkpointer = new Checkpointer(this.db, { onProblem: options.onCheckpointProblem });
    // OR FAIL: a plain multi-row INSERT keeps a statement journal (so that a failing row undoes its
    // statement alone), which wrote every page it touched to a temporary file first: twice the cost
    // of a row at a time. Any failure here rolls the whole batch back anyway.
    const insertRows = this.db.prepare(
      `INSERT OR FAIL INTO events (channel, offset, time, data) VALUES ${Array(ROWS_PER_INSERT).fill('(?, ?, ?, ?)').join(', ')}`,
    );
    this.appendBatch = this.db.transaction((requests: readonly AppendRequest[], now: number) => {
      const last = new Map<string, number>();
      const stored = requests.map(({ channel, head }) => {
        const offset = (last.get(channel) ?? this.newestOffset(channel)) + 1;
        last.set(channel, offset);
        return { offset, time: now, data: completeFrame(head, offset, now) };
      });
      // A busy turn stores hundreds of events: a statement per many rows, not per row.
      const values: (string | number)[] = [];
      let row = 0;
      for (; row + ROWS_PER_INSERT <= requests.length; row += ROWS_PER_INSERT) {
        values.length = 0;
        for (let i = row; i < row + ROWS_PER_INSERT; i += 1) values.push(requests[i]!.channel, stored[i]!.offset, now, stored[i]!.data);
        insertRows.run(values);
      }
      for (; row < requests.length; row += 1) this.statements.insertEvent.run(requests[row]!.channel, stored[row]!.offset, now, stored[row]!.data);
      for (const [channel, offset] of last) this.statements.setLastOffset.run(channel, offset);
      return { stored, last };
    });
  }

  private newestOffset(channel: string): number {
    let last = this.lastOffsets.get(channel);
    if (last === undefined) {
      last = this.statements.lastOffset.get(channel)?.last_offset ?? 0;
      this.lastOffsets.set(channel, last);
    }
    return last;
  }

  append(requests: readonly AppendRequest[], now: number): StoredEvent[] {
    const { stored, last } = this.appendBatch(requests, now);
    this.checkpointer.wrote();
    // Only once the transaction committed: a failed batch leaves the offsets where they were.
    for (const [channel, offset] of last) this.lastOffsets.set(channel, offset);
    return stored;
  }

  read({ channel, after, before, limit }: ReadQuery): ReadResult {
    const last = this.newestOffset(channel);
    const events = this.statements.readEvents.all(channel, after ?? 0, before ?? Number.MAX_SAFE_INTEGER, limit).reverse();
    const first = this.statements.firstOffset.get(channel)?.first ?? last + 1;
    return { events, first, last };
  }

  prune({ maxEvents, maxAgeMs }: Retention, now: number, budget: number): number {
    let deleted = this.statements.pruneOld.run(now - maxAgeMs, budget).changes;
    for (const { name, last_offset } of this.statements.oversized.all(maxEvents)) {
      if (deleted >= budget) break;
      deleted += this.statements.pruneChannel.run(name, last_offset - maxEvents, budget - deleted).changes;
    }
    if (deleted > 0) this.checkpointer.wrote();
    return deleted;
  }

  checkWritable(now: number): void {
    this.statements.writtenAt.run(String(now));
  }

  async findAccount(key: string): Promise<AccountRecord | undefined> {
    const row = this.statements.findAccount.get(key);
    return row && { nick: row.nick, passwordHash: row.password_hash, createdAt: row.created_at };
  }

  async createAccount(key: string, account: AccountRecord): Promise<boolean> {
    const created = this.statements.createAccount.run(key, account.nick, account.passwordHash, account.createdAt).changes === 1;
    if (created) this.checkpointer.wrote();
    return created;
  }

  private readonly replacePassword = (key: string, passwordHash: string) => {
    this.statements.setPassword.run(passwordHash, key);
    this.statements.revokeTokens.run(key);
  };

  async changePassword(key: string, passwordHash: string): Promise<void> {
    this.db.transaction(this.replacePassword)(key, passwordHash);
    this.checkpointer.wrote();
  }

  async addToken(key: string, tokenHash: string, expiresAt: number, now: number): Promise<void> {
    this.db.transaction(() => {
      this.statements.pruneTokens.run(key, now);
      this.statements.addToken.run(tokenHash, key, expiresAt);
    })();
    this.checkpointer.wrote();
  }

  async tokenOwner(tokenHash: string, now: number): Promise<string | undefined> {
    return this.statements.tokenOwner.get(tokenHash, now)?.nick_key;
  }

  async close(): Promise<void> {
    // The worker's connection first: the last one to close copies what is left of the log and removes it.
    await this.checkpointer.stop();
    if (this.db.open) this.db.close();
    this.lock.release();
  }
}

function openDatabase(file: string): Database.Database {
  let db: Database.Database;
  try {
    db = new Database(file);
  } catch (error) {
    throw new StoreOpenError(`Cannot open ${file}: ${(error as Error).message}. Check its permissions, or pass another --data-dir.`);
  }
  try {
    // Reading the version is the first access: a file that is not a database fails here, before anything is written.
    db.pragma('user_version', { simple: true });
  } catch (error) {
    db.close();
    throw new StoreOpenError(
      `${file} is not a usable SQLite database (${(error as Error).message}). Move it aside to start fresh, or restore it from a backup.`,
    );
  }
  return db;
}

/**
 * What went wrong opening a file that looked like a database: SQLite's own
 * errors (a damaged page, a full or read-only disk) become one line naming
 * the file; anything else is a bug, and is thrown as it is.
 */
function unusable(file: string, error: unknown): unknown {
  if (error instanceof StoreOpenError) return error;
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string' || !code.startsWith('SQLITE_')) return error;
  const message = (error as Error).message;
  if (code.startsWith('SQLITE_CORRUPT') || code.startsWith('SQLITE_NOTADB')) {
    return new StoreOpenError(`${file} is damaged (${code}: ${message}). Move it aside to start fresh, or restore it from a backup; the server did not change it.`);
  }
  if (code.startsWith('SQLITE_READONLY')) {
    return new StoreOpenError(
      `${file} is read-only for this user (${code}): the server writes accounts and history to it. Make it writable by the user the server runs as, or pass another --data-dir.`,
    );
  }
  return new StoreOpenError(`Cannot use ${file} (${code}: ${message}). Check the disk and the file's permissions, or pass another --data-dir.`);
}

function migrate(db: Database.Database, file: string, onMigrate?: (version: number, summary: string) => void): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > SCHEMA_VERSION) {
    throw new StoreOpenError(
      `${file} was written by a newer xstate-chat (schema ${version}; this one knows up to ${SCHEMA_VERSION}). ` +
        'Upgrade xstate-chat, or pass another --data-dir. The file was not changed.',
    );
  }
  // WAL lets readers run beside the writer, and with NORMAL sync a commit
  // survives a killed process (only a power cut can lose the last ones).
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  for (const step of MIGRATIONS) {
    if (step.version <= version) continue;
    db.transaction(() => {
      db.exec(step.sql);
      db.pragma(`user_version = ${step.version}`);
    })();
    onMigrate?.(step.version, step.summary);
  }
}
