/**
 * @module store: the one seam between the server and the state that outlives
 * the process: accounts, and channel history.
 *
 * Every method is asynchronous, whatever the engine: the embedded engines
 * answer at once, a networked one (Redis, in cluster mode) does not, and the
 * machines that wait on them (through actors provided from `src/`) must not
 * care which. Nicks are passed in their canonical key form (`nickKey`), so
 * the engines never decide what makes two nicks the same.
 */

import type { History } from '../../machines/history.js';

/** A registered nick. */
export interface AccountRecord {
  /** The nick as it was registered (its letter case). */
  nick: string;
  /** A PHC-style string that names its own algorithm and parameters. */
  passwordHash: string;
  createdAt: number;
}

/** How much history is kept: per channel, and by age. */
export interface Retention {
  maxEvents: number;
  maxAgeMs: number;
}

/**
 * Where accounts and resume tokens live: all an engine needs to serve logins.
 * The embedded engines implement it as part of {@link Store}; in cluster mode
 * Redis implements it alone, since channel events go through the cluster's
 * sequencer instead of a synchronous history.
 */
export interface AccountStore {
  /** `sqlite`, `memory` or `redis`: what the startup log line says. */
  readonly engine: string;
  /** Where the data lives, for people: a file path, a Redis URL, or a note that it dies with the process. */
  readonly location: string;

  findAccount(key: string): Promise<AccountRecord | undefined>;
  /** Registers `key` unless it is taken; false when it was. */
  createAccount(key: string, account: AccountRecord): Promise<boolean>;
  /** Replaces the password and revokes every token of `key`, in one step. */
  changePassword(key: string, passwordHash: string): Promise<void>;

  /** Remembers a resume token by its hash; expired tokens of the same nick are forgotten on the way. */
  addToken(key: string, tokenHash: string, expiresAt: number, now: number): Promise<void>;
  /** The nick key a live token belongs to, or undefined for an unknown, revoked or expired one. */
  tokenOwner(tokenHash: string, now: number): Promise<string | undefined>;

  close(): Promise<void>;
}

/**
 * Accounts are asynchronous; history is synchronous (see `History`), since
 * it is stored in the outbox's turn, and both embedded engines answer at once.
 */
export interface Store extends AccountStore, History {

  /**
   * Deletes up to `budget` events beyond the retention, oldest first, and says
   * how many it deleted: called in the background, a bounded step at a time,
   * so it never holds up delivery for long.
   */
  prune(retention: Retention, now: number, budget: number): number;

  /**
   * Makes one small write, or throws why it cannot (a full disk, a file gone
   * read-only): how the server learns that writes work again while no client
   * is writing.
   */
  checkWritable(now: number): void;
}

/**
 * A store that cannot be opened as it is: the message names the file and
 * says what to do. The CLI prints it as one line and exits 1.
 */
export class StoreOpenError extends Error {
  override name = 'StoreOpenError';
}
