/**
 * @module accounts: registration, password and token logins, and password
 * changes: the policy between the protocol and the store.
 *
 * The machines reach this only through the actors `src/effects.ts` provides
 * so they never see a hash, a store or a clock. Answers are outcomes, not
 * exceptions: a wrong password is an expected result. A store that fails
 * rejects the promise, which the machines answer with `unavailable`.
 */
import type { ChangeOutcome, LoginOutcome, RegisterOutcome } from '../../machines/accounts.js';
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from '../../machines/limits.js';
import { nickKey } from '../../machines/names.js';
import type { AccountStore } from '../store/store.js';
import { HashPool, HashQueueFullError, hashPassword, OWASP_SCRYPT, verifyPassword, type ScryptParams } from './passwords.js';
import { Throttle, type LoginThrottle, type ThrottleFactory, type ThrottlePolicy } from './throttle.js';
import { newToken, tokenHash } from './tokens.js';

export interface AccountPolicy {
  tokenTtlMs: number;
  nickThrottle: ThrottlePolicy;
  addressThrottle: ThrottlePolicy;
  /** Hashes computed at once; more wait in line. */
  hashConcurrency: number;
  /** Hashes that may wait; past that, logins are answered `auth_throttled` at once. */
  hashQueue: number;
  scrypt: ScryptParams;
}

const MINUTE = 60_000;

export const DEFAULT_ACCOUNT_POLICY: Readonly<AccountPolicy> = Object.freeze({
  tokenTtlMs: 30 * 24 * 60 * MINUTE,
  nickThrottle: { after: 5, windowMs: Number.POSITIVE_INFINITY, baseMs: MINUTE, maxMs: 60 * MINUTE },
  addressThrottle: { after: 20, windowMs: 10 * MINUTE, baseMs: MINUTE, maxMs: 60 * MINUTE },
  hashConcurrency: 2,
  hashQueue: 1_000,
  scrypt: OWASP_SCRYPT,
});

/** How a login attempt ended, for the metrics: signed in by password or by token, or refused. */
export type LoginAttempt = 'password' | 'token' | 'refused';

export interface AccountsOptions {
  policy?: Partial<AccountPolicy>;
  /** The clock for token expiry and lockouts; tests move it. */
  now?: () => number;
  /** Told how every login attempt ended (not one the store failed: that is answered `unavailable`). */
  onLogin?: (attempt: LoginAttempt) => void;
  /** Where lockouts are kept: this process's memory unless given (a cluster gives Redis's, so they hold on every node). */
  throttles?: ThrottleFactory;
}

const inMemory: ThrottleFactory = (_scope, policy) => new Throttle(policy);

export class Accounts {
  readonly policy: AccountPolicy;
  readonly hashes: HashPool;
  private readonly now: () => number;
  private readonly onLogin: (attempt: LoginAttempt) => void;
  private readonly byNick: LoginThrottle;
  private readonly byAddress: LoginThrottle;

  constructor(
    private readonly store: AccountStore,
    options: AccountsOptions = {},
  ) {
    this.policy = { ...DEFAULT_ACCOUNT_POLICY, ...options.policy };
    this.now = options.now ?? Date.now;
    this.onLogin = options.onLogin ?? (() => {});
    this.hashes = new HashPool(this.policy.hashConcurrency, this.policy.hashQueue);
    const throttles = options.throttles ?? inMemory;
    this.byNick = throttles('nick', this.policy.nickThrottle);
    this.byAddress = throttles('address', this.policy.addressThrottle);
  }

  async isRegistered(nick: string): Promise<boolean> {
    return (await this.store.findAccount(nickKey(nick))) !== undefined;
  }

  async logInWithPassword(nick: string, password: string, address: string): Promise<LoginOutcome> {
    return this.counted('password', await this.checkPassword(nick, password, address));
  }

  async logInWithToken(nick: string, token: string): Promise<LoginOutcome> {
    return this.counted('token', await this.checkToken(nick, token));
  }

  private counted(method: 'password' | 'token', outcome: LoginOutcome): LoginOutcome {
    this.onLogin(outcome.ok ? method : 'refused');
    return outcome;
  }

  private async checkPassword(nick: string, password: string, address: string): Promise<LoginOutcome> {
    const key = nickKey(nick);
    if (await this.locked(key, address)) return { ok: false, code: 'auth_throttled' };
    const account = await this.store.findAccount(key);
    const matches = account !== undefined && fitsLength(password) && (await this.check(password, account.passwordHash));
    if (matches === 'busy') return { ok: false, code: 'auth_throttled' };
    if (!matches) {
      await this.failed(key, address);
      return { ok: false, code: 'bad_password' };
    }
    await this.byNick.reset(key);
    return { ok: true, token: await this.issueToken(key) };
  }

  private async checkToken(nick: string, token: string): Promise<LoginOutcome> {
    const key = nickKey(nick);
    const owner = await this.store.tokenOwner(tokenHash(token), this.now());
    if (owner !== key) return { ok: false, code: 'bad_token' };
    return { ok: true, token: await this.issueToken(key) };
  }

  async register(nick: string, password: string): Promise<RegisterOutcome> {
    const key = nickKey(nick);
    if (await this.store.findAccount(key)) return { ok: false, code: 'already_registered' };
    const passwordHash = await this.hash(password);
    if (passwordHash === undefined) return { ok: false, code: 'auth_throttled' };
    const created = await this.store.createAccount(key, { nick, passwordHash, createdAt: this.now() });
    return created ? { ok: true } : { ok: false, code: 'already_registered' };
  }

  /** Checks the old password like a login (and counts a wrong one like a login), then replaces it and revokes every token. */
  async changePassword(nick: string, oldPassword: string, newPassword: string, address: string): Promise<ChangeOutcome> {
    const key = nickKey(nick);
    if (await this.locked(key, address)) return { ok: false, code: 'auth_throttled' };
    const account = await this.store.findAccount(key);
    if (!account) return { ok: false, code: 'not_registered' };
    const matches = fitsLength(oldPassword) && (await this.check(oldPassword, account.passwordHash));
    if (matches === 'busy') return { ok: false, code: 'auth_throttled' };
    if (!matches) {
      await this.failed(key, address);
      return { ok: false, code: 'bad_password' };
    }
    const passwordHash = await this.hash(newPassword);
    if (passwordHash === undefined) return { ok: false, code: 'auth_throttled' };
    await this.store.changePassword(key, passwordHash);
    await this.byNick.reset(key);
    return { ok: true };
  }

  /** Whether the nick or the address is locked out: asked before any hash is computed, so a throttled guess costs nothing. */
  private async locked(key: string, address: string): Promise<boolean> {
    const now = this.now();
    // Both at once: with a shared engine that is one round trip's wait, not two.
    const waits = await Promise.all([this.byNick.retryAfter(key, now), this.byAddress.retryAfter(address, now)]);
    return waits.some((wait) => wait > 0);
  }

  private async failed(key: string, address: string): Promise<void> {
    const now = this.now();
    await Promise.all([this.byNick.fail(key, now), this.byAddress.fail(address, now)]);
  }

  /** Password checks running or waiting: what the storm tests and the metrics watch. */
  get hashesInFlight(): number {
    return this.hashes.inFlight;
  }

  private async issueToken(key: string): Promise<string> {
    const token = newToken();
    const now = this.now();
    await this.store.addToken(key, tokenHash(token), now + this.policy.tokenTtlMs, now);
    return token;
  }

  private async check(password: string, stored: string): Promise<boolean | 'busy'> {
    try {
      return await this.hashes.run(() => verifyPassword(password, stored));
    } catch (error) {
      if (error instanceof HashQueueFullError) return 'busy';
      throw error;
    }
  }

  private async hash(password: string): Promise<string | undefined> {
    try {
      return await this.hashes.run(() => hashPassword(password, this.policy.scrypt));
    } catch (error) {
      if (error instanceof HashQueueFullError) return undefined;
      throw error;
    }
  }
}

/** A password no registration could have set cannot match: answered without hashing it. */
function fitsLength(password: string): boolean {
  return password.length >= MIN_PASSWORD_LENGTH && password.length <= MAX_PASSWORD_LENGTH;
}
