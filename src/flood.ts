/**
 * @module flood: per-session flood control: a token bucket for the rate, and
 * a window of recent refusals to tell a burst from a client that keeps flooding.
 */
import { FLOOD_WINDOW_MS } from '../machines/limits.js';

export class TokenBucket {
  private tokens: number;
  private refilledAt: number;

  /** `rate` tokens a second on average, at most `burst` at once. */
  constructor(
    private readonly rate: number,
    private readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.refilledAt = now;
  }

  /** Takes one token if there is one; false means the frame is over the limit. */
  take(now: number): boolean {
    const elapsed = now - this.refilledAt;
    if (elapsed > 0) {
      this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.rate) / 1000);
      this.refilledAt = now;
    }
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/** Remembers the times of the last `limit` refusals, in a ring, allocated at the first one. */
export class RefusalWindow {
  private times: Float64Array | undefined;
  private next = 0;

  constructor(
    private readonly limit: number,
    private readonly windowMs = FLOOD_WINDOW_MS,
  ) {}

  /** Records a refusal; true when `limit` refusals fell within the window. */
  refuse(now: number): boolean {
    if (this.limit <= 0) return false;
    this.times ??= new Float64Array(this.limit).fill(Number.NEGATIVE_INFINITY);
    // The slot about to be overwritten holds the refusal `limit` refusals ago.
    const oldest = this.times[this.next]!;
    this.times[this.next] = now;
    this.next = (this.next + 1) % this.limit;
    return now - oldest < this.windowMs;
  }
}
