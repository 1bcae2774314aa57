/**
 * @module write-health: whether the store can write, as the health endpoint
 * reports it.
 *
 * Every write the server makes goes through {@link watchWrites}, which
 * notes the outcome: a failure (a full disk, an I/O error, a file gone
 * read-only) marks writes failing with its reason, the next success clears
 * it. The failing requests themselves are answered `unavailable` where they
 * were made (the outbox, the sessions); this only tells `/healthz`, and the
 * log. While writes fail, {@link startWriteProbe} tries one small write every
 * second, so a server nobody writes through (the load balancer sent its
 * clients elsewhere) still notices the disk has room again.
 */
import type { AppendRequest, ReadQuery, ReadResult, StoredEvent } from '../../machines/history.js';
import type { AccountRecord, Retention, Store } from './store.js';

/** How often a failing store is tried again while nothing else writes. */
export const WRITE_PROBE_MS = 1_000;

export class WriteHealth {
  private reason: string | undefined;

  /** `onChange` hears each turn from working to failing (with the reason) and back (undefined). */
  constructor(private readonly onChange: (failing: string | undefined) => void = () => {}) {}

  /** Why writes fail, or undefined while they work. */
  get failing(): string | undefined {
    return this.reason;
  }

  failed(error: unknown): void {
    const was = this.reason;
    this.reason = describe(error);
    if (was === undefined) this.onChange(this.reason);
  }

  succeeded(): void {
    if (this.reason === undefined) return;
    this.reason = undefined;
    this.onChange(undefined);
  }
}

/** `SQLITE_FULL: database or disk is full`, `ENOSPC: no space left on device`. */
function describe(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return typeof code === 'string' && !message.startsWith(code) ? `${code}: ${message}` : message;
}

/** `store`, with the outcome of every write reported to `health`; reads pass through untouched. */
export function watchWrites(store: Store, health: WriteHealth): Store {
  const sync = <T>(write: () => T): T => {
    let result: T;
    try {
      result = write();
    } catch (error) {
      health.failed(error);
      throw error;
    }
    health.succeeded();
    return result;
  };
  const async = async <T>(write: () => Promise<T>): Promise<T> => {
    let result: T;
    try {
      result = await write();
    } catch (error) {
      health.failed(error);
      throw error;
    }
    health.succeeded();
    return result;
  };
  return {
    get engine() {
      return store.engine;
    },
    get location() {
      return store.location;
    },
    get epoch() {
      return store.epoch;
    },
    append: (requests: readonly AppendRequest[], now: number): StoredEvent[] => sync(() => store.append(requests, now)),
    read: (query: ReadQuery): ReadResult => store.read(query),
    prune: (retention: Retention, now: number, budget: number) => sync(() => store.prune(retention, now, budget)),
    checkWritable: (now: number) => sync(() => store.checkWritable(now)),
    findAccount: (key: string) => store.findAccount(key),
    tokenOwner: (tokenHash: string, now: number) => store.tokenOwner(tokenHash, now),
    createAccount: (key: string, account: AccountRecord) => async(() => store.createAccount(key, account)),
    changePassword: (key: string, passwordHash: string) => async(() => store.changePassword(key, passwordHash)),
    addToken: (key: string, tokenHash: string, expiresAt: number, now: number) => async(() => store.addToken(key, tokenHash, expiresAt, now)),
    close: () => store.close(),
  };
}

/** While writes fail, tries `store.checkWritable` every `intervalMs`; the watched store clears the failure when one works. */
export function startWriteProbe(store: Store, health: WriteHealth, intervalMs = WRITE_PROBE_MS): NodeJS.Timeout {
  const timer = setInterval(() => {
    if (health.failing === undefined) return;
    try {
      store.checkWritable(Date.now());
    } catch {
      // Still failing: the reason is updated, and the next tick tries again.
    }
  }, intervalMs);
  timer.unref();
  return timer;
}
