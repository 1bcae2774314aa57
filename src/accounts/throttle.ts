/**
 * @module throttle: lockouts after repeated wrong passwords, per nick and per
 * address, so guessing a password costs an attacker hours rather than seconds.
 *
 * A locked key is refused before any hash is computed: a throttled guess
 * costs the server nothing.
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

interface Entry {
  /** Times of the failures that count towards the next lockout. */
  failures: number[];
  lockouts: number;
  lockedUntil: number;
  touched: number;
}

export class Throttle {
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
    if (!entry) {
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
    const horizon = Math.max(this.policy.maxMs, Number.isFinite(this.policy.windowMs) ? this.policy.windowMs : 0);
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
