/**
 * @module migrations: the SQLite schema, as numbered steps.
 *
 * The schema version is SQLite's `user_version`. At start every step above
 * it runs, in order, each in its own transaction with the version bump, so a
 * crash mid-migration leaves the file at the last complete version. A file
 * whose version is above the last step here was written by a newer release
 * and is refused before anything touches it.
 *
 * Steps are only ever appended: a released step never changes.
 */

export interface Migration {
  version: number;
  /** For the log line: what the step adds. */
  summary: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    summary: 'accounts and resume tokens',
    sql: `
      CREATE TABLE accounts (
        nick_key      TEXT PRIMARY KEY,
        nick          TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        created_at    INTEGER NOT NULL
      ) STRICT;
      CREATE TABLE tokens (
        token_hash TEXT PRIMARY KEY,
        nick_key   TEXT NOT NULL REFERENCES accounts(nick_key) ON DELETE CASCADE,
        expires_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX tokens_by_nick ON tokens(nick_key, expires_at);
    `,
  },
  {
    version: 2,
    summary: 'channel history with offsets, and the store epoch',
    // The epoch is drawn once, here: a data directory started fresh gets a new one.
    sql: `
      CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
      ) STRICT;
      INSERT INTO meta (key, value) VALUES ('epoch', lower(hex(randomblob(8))));
      CREATE TABLE channels (
        name        TEXT PRIMARY KEY,
        last_offset INTEGER NOT NULL
      ) STRICT;
      CREATE TABLE events (
        channel TEXT NOT NULL,
        offset  INTEGER NOT NULL,
        time    INTEGER NOT NULL,
        data    TEXT NOT NULL,
        PRIMARY KEY (channel, offset)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX events_by_time ON events(time);
    `,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;
