/**
 * @module memory: the store engine that keeps everything in this process, for
 * tests and throwaway runs (`--store memory`). It behaves like the SQLite
 * engine in every way but one: nothing survives a restart.
 */
import type { AccountRecord, Store } from './store.js';

interface TokenRecord {
  key: string;
  expiresAt: number;
}

export class MemoryStore implements Store {
  readonly engine = 'memory';
  readonly location = 'in memory: everything is lost when the process stops';
  private readonly accounts = new Map<string, AccountRecord>();
  private readonly tokens = new Map<string, TokenRecord>();

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
