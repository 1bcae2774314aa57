/**
 * @module failing-store: a store engine that fails on demand, for the write
 * failure tests: it delegates everything to a real engine, and while told to
 * fail, every write throws the error a full disk (or a broken one) gives,
 * before it reaches the real engine. Reads keep working, as they do on a
 * full disk.
 */
import type { AppendRequest, ReadQuery, ReadResult, StoredEvent } from '../../machines/history.js';
import type { AccountRecord, Retention, Store } from '../../src/store/store.js';

export class FailingStore implements Store {
  private error: NodeJS.ErrnoException | undefined;
  /** Writes refused so far. */
  refused = 0;

  constructor(private readonly inner: Store) {}

  /** Every write throws `code` (ENOSPC, EIO, EROFS...) from now on; `undefined` to stop. */
  fail(code: string | undefined, message = 'no space left on device'): void {
    this.error = code === undefined ? undefined : Object.assign(new Error(`${code}: ${message}`), { code });
  }

  private write<T>(run: () => T): T {
    if (this.error) {
      this.refused += 1;
      throw this.error;
    }
    return run();
  }

  get engine() {
    return this.inner.engine;
  }
  get location() {
    return this.inner.location;
  }
  get epoch() {
    return this.inner.epoch;
  }
  append(requests: readonly AppendRequest[], now: number): StoredEvent[] {
    return this.write(() => this.inner.append(requests, now));
  }
  read(query: ReadQuery): ReadResult {
    return this.inner.read(query);
  }
  prune(retention: Retention, now: number, budget: number): number {
    return this.write(() => this.inner.prune(retention, now, budget));
  }
  checkWritable(now: number): void {
    this.write(() => this.inner.checkWritable(now));
  }
  findAccount(key: string): Promise<AccountRecord | undefined> {
    return this.inner.findAccount(key);
  }
  tokenOwner(tokenHash: string, now: number): Promise<string | undefined> {
    return this.inner.tokenOwner(tokenHash, now);
  }
  async createAccount(key: string, account: AccountRecord): Promise<boolean> {
    return this.write(() => this.inner.createAccount(key, account));
  }
  async changePassword(key: string, passwordHash: string): Promise<void> {
    return this.write(() => this.inner.changePassword(key, passwordHash));
  }
  async addToken(key: string, tokenHash: string, expiresAt: number, now: number): Promise<void> {
    return this.write(() => this.inner.addToken(key, tokenHash, expiresAt, now));
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}
