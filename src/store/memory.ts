/**
 * @module memory: the store engine that keeps everything in this process, for
 * tests and throwaway runs (`--store memory`). It behaves like the SQLite
 * engine in every way but one: nothing survives a restart.
 */
import { randomBytes } from 'node:crypto';
import { completeFrame, type AppendRequest, type ReadQuery, type ReadResult, type StoredEvent } from '../../machines/history.js';
import type { AccountRecord, Retention, Store } from './store.js';

interface TokenRecord {
  key: string;
  expiresAt: number;
}

interface ChannelLog {
  last: number;
  /** Retained events, oldest first. */
  events: StoredEvent[];
}

export class MemoryStore implements Store {
  readonly engine = 'memory';
  readonly location = 'in memory: everything is lost when the process stops';
  /** A new one for every process: offsets from an earlier run mean nothing to this one. */
  readonly epoch = randomBytes(8).toString('hex');
  private readonly accounts = new Map<string, AccountRecord>();
  private readonly tokens = new Map<string, TokenRecord>();
  private readonly channels = new Map<string, ChannelLog>();

  append(requests: readonly AppendRequest[], now: number): StoredEvent[] {
    return requests.map(({ channel, head }) => {
      let log = this.channels.get(channel);
      if (!log) this.channels.set(channel, (log = { last: 0, events: [] }));
      log.last += 1;
      const event = { offset: log.last, time: now, data: completeFrame(head, log.last, now) };
      log.events.push(event);
      return event;
    });
  }

  read({ channel, after = 0, before = Number.MAX_SAFE_INTEGER, limit }: ReadQuery): ReadResult {
    const log = this.channels.get(channel);
    if (!log) return { events: [], first: 1, last: 0 };
    const inRange = log.events.filter((event) => event.offset > after && event.offset < before);
    return { events: inRange.slice(-limit), first: log.events[0]?.offset ?? log.last + 1, last: log.last };
  }

  prune({ maxEvents, maxAgeMs }: Retention, now: number, budget: number): number {
    let deleted = 0;
    for (const log of this.channels.values()) {
      let drop = 0;
      while (drop < log.events.length && deleted + drop < budget && (log.events.length - drop > maxEvents || log.events[drop]!.time < now - maxAgeMs)) drop += 1;
      log.events.splice(0, drop);
      deleted += drop;
    }
    return deleted;
  }

  /** Memory never refuses a write (short of running out, which ends the process anyway). */
  checkWritable(): void {}

  async findAccount(key: string): Promise<AccountRecord | undefined> {
    const account = this.accounts.get(key);
    return account && { ...account };
  }

  async createAccount(key: string, account: AccountRecord): Promise<boolean> {
    if (this.accounts.has(key)) return false;
    this.accounts.set(key, { ...account });
    return true;
  }

  async changePassword(key: string, passwordHash: string): Promise<void> {
    const account = this.accounts.get(key);
    if (!account) return;
    account.passwordHash = passwordHash;
    for (const [hash, token] of this.tokens) if (token.key === key) this.tokens.delete(hash);
  }

  async addToken(key: string, tokenHash: string, expiresAt: number, now: number): Promise<void> {
    for (const [hash, token] of this.tokens) if (token.key === key && token.expiresAt <= now) this.tokens.delete(hash);
    this.tokens.set(tokenHash, { key, expiresAt });
  }

  async tokenOwner(tokenHash: string, now: number): Promise<string | undefined> {
    const token = this.tokens.get(tokenHash);
    return token && token.expiresAt > now ? token.key : undefined;
  }

  async close(): Promise<void> {}
}
