/**
 * @module timed-store: a {@link Store} that times every operation of the one
 * it wraps, for the store latency histograms.
 *
 * Wrapping the seam, rather than timing inside each engine, times every
 * engine alike (SQLite, memory, and a networked one behind the same
 * interface), and keeps the outbox, a machine, free of clocks and metrics:
 * it is handed this store as its history. A failed operation is timed too,
 * since a store that fails slowly is what a dashboard most needs to show.
 */
import type { AppendRequest, ReadQuery, ReadResult, StoredEvent } from '../../machines/history.js';
import type { AccountRecord, AccountStore, Retention, Store } from '../store/store.js';

/** The `operation` label: history appends and reads, account and token lookups and writes, retention. */
export const STORE_OPERATIONS = [
  'history_append',
  'history_read',
  'history_prune',
  'account_lookup',
  'account_create',
  'password_change',
  'token_add',
  'token_lookup',
] as const;
export type StoreOperation = (typeof STORE_OPERATIONS)[number];

/** Told how long each operation took, in seconds. */
export type StoreTimer = (operation: StoreOperation, seconds: number) => void;

/**
 * The account half: what a cluster's Redis engine serves alone, timed the
 * same way as the embedded engines' accounts.
 */
export class TimedAccountStore<S extends AccountStore = AccountStore> implements AccountStore {
  constructor(
    protected readonly store: S,
    private readonly observe: StoreTimer,
  ) {}

  get engine(): string {
    return this.store.engine;
  }

  get location(): string {
    return this.store.location;
  }

  findAccount(key: string): Promise<AccountRecord | undefined> {
    return this.time('account_lookup', () => this.store.findAccount(key));
  }

  createAccount(key: string, account: AccountRecord): Promise<boolean> {
    return this.time('account_create', () => this.store.createAccount(key, account));
  }

  changePassword(key: string, passwordHash: string): Promise<void> {
    return this.time('password_change', () => this.store.changePassword(key, passwordHash));
  }

  addToken(key: string, tokenHash: string, expiresAt: number, now: number): Promise<void> {
    return this.time('token_add', () => this.store.addToken(key, tokenHash, expiresAt, now));
  }

  tokenOwner(tokenHash: string, now: number): Promise<string | undefined> {
    return this.time('token_lookup', () => this.store.tokenOwner(tokenHash, now));
  }

  /** Closing is not an operation anyone waits on while serving: not timed. */
  close(): Promise<void> {
    return this.store.close();
  }

  private async time<T>(operation: StoreOperation, run: () => Promise<T>): Promise<T> {
    const start = performance.now();
    try {
      return await run();
    } finally {
      this.done(operation, start);
    }
  }

  protected done(operation: StoreOperation, start: number): void {
    this.observe(operation, (performance.now() - start) / 1000);
  }
}

export class TimedStore extends TimedAccountStore<Store> implements Store {
  get epoch(): string {
    return this.store.epoch;
  }

  append(requests: readonly AppendRequest[], now: number): StoredEvent[] {
    const start = performance.now();
    try {
      return this.store.append(requests, now);
    } finally {
      this.done('history_append', start);
    }
  }

  read(query: ReadQuery): ReadResult {
    const start = performance.now();
    try {
      return this.store.read(query);
    } finally {
      this.done('history_read', start);
    }
  }

  prune(retention: Retention, now: number, budget: number): number {
    const start = performance.now();
    try {
      return this.store.prune(retention, now, budget);
    } finally {
      this.done('history_prune', start);
    }
  }

  /** Not timed: a probe of whether writes work again, not a request anyone waits on. */
  checkWritable(now: number): void {
    this.store.checkWritable(now);
  }
}
