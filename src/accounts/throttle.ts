/**
 * @module throttle: lockouts after repeated wrong passwords, per nick and per
 * address, so guessing a password costs an attacker hours rather than seconds.
 *
 * A locked key is refused before any hash is computed: a throttled guess
 * costs the server nothing.
 *
 * Where the failures are kept is pluggable ({@link LoginThrottle}): this
 * process's memory for the embedded engines, Redis in cluster mode
 * (src/cluster/redis-throttle.ts), where a lockout must hold on every node or
 * an attacker gets a fresh set of tries per node.
 */

export interface ThrottlePolicy {
  /** Failures that lock the key. */
  after: number;
  /** Failures count only within this window; Infinity for "consecutive, however far apart". */
  windowMs: number;
  /** The first lockout; each further one doubles, up to `maxMs`. */
  baseMs: number;
  maxMs: number;
}

/**
 * Failures and lockouts by key. Answers may be promises: a shared engine
 * answers over the network. Decisions follow the `now` the caller passes,
 * never the engine's own clock, so every engine agrees with a test's fake one.
 */
export interface LoginThrottle {
  /** Milliseconds until `key` may try again; 0 when it may now. */
  retryAfter(key: string, now: number): number | Promise<number>;
  /** Records a failure at `now`, locking `key` when it has used up its tries. */
  fail(key: string, now: number): void | Promise<void>;
  /** Forgets `key`'s failures and lockouts. */
  reset(key: string): void | Promise<void>;
}

/** What a throttle counts: failures for one nick, or from one address. */
export type ThrottleScope = 'nick' | 'address';

/** Makes the throttle for a scope; `Accounts` asks for one per scope, with that scope's policy. */
export type ThrottleFactory = (scope: ThrottleScope, policy: ThrottlePolicy) => LoginThrottle;

/**
 * How long an untouched key is remembered: past this it is forgotten, and
 * its next failure counts as its first. Long enough that no lockout and no
 * window is cut short.
 */
export function forgetAfter(policy: ThrottlePolicy): number {
  return Math.max(policy.maxMs, Number.isFinite(policy.windowMs) ? policy.windowMs : 0);
}

interface Entry {
  /** Times of the failures that count towards the next lockout. */
  failures: number[];
  lockouts: number;
  lockedUntil: number;
  touched: number;
}

/** The throttle in this process's memory: for one process, whose lockouts need hold nowhere else. */
export class Throttle implements LoginThrottle {
  private readonly entries = new Map<string, Entry>();
  private sweptAt = 0;

  constructor(private readonly policy: ThrottlePolicy) {}

  /** Milliseconds until `key` may try again; 0 when it may now. */
  retryAfter(key: string, now: number): number {
    const entry = this.entries.get(key);
    return entry && entry.lockedUntil > now ? entry.lockedUntil - now : 0;
  }

  /**
   * Records a failure. Once locked, a key that fails again after its lockout
   * is locked again at once, for twice as long: it has used up its tries.
   */
  fail(key: string, now: number): void {
    this.sweep(now);
    let entry = this.entries.get(key);
    // Idle past the horizon means forgotten, whether or not a sweep has come by yet: the Redis engine decides the same way.
    if (!entry || now - entry.touched > forgetAfter(this.policy)) {
      entry = { failures: [], lockouts: 0, lockedUntil: 0, touched: now };
      this.entries.set(key, entry);
    }
    entry.touched = now;
    const { after, windowMs, baseMs, maxMs } = this.policy;
    entry.failures = entry.failures.filter((time) => now - time < windowMs);
    entry.failures.push(now);
    if (entry.lockouts > 0 || entry.failures.length >= after) {
      entry.lockedUntil = now + Math.min(maxMs, baseMs * 2 ** entry.lockouts);
      entry.lockouts += 1;
      entry.failures = [];
    }
  }

  /** Forgets `key`'s failures and lockouts: it proved it knows the password. */
  reset(key: string): void {
    this.entries.delete(key);
  }

  /** Keys untouched for longer than the longest lockout are forgotten, so the map stays bounded. */
  private sweep(now: number): void {
    const horizon = forgetAfter(this.policy);
    if (now - this.sweptAt < horizon / 4) return;
    this.sweptAt = now;
    for (const [key, entry] of this.entries) {
      if (now - entry.touched > horizon && entry.lockedUntil <= now) this.entries.delete(key);
    }
  }

  get size(): number {
    return this.entries.size;
  }
}
