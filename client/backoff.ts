/**
 * @module backoff: how long to wait before reconnecting. The ceiling doubles
 * with each failed attempt up to a cap, and the wait is drawn between half
 * the ceiling and all of it, so clients dropped together by a restart do not
 * come back together.
 */

export interface BackoffOptions {
  /** The first ceiling, in ms (default 500). */
  baseMs?: number;
  /** The largest ceiling, in ms (default 15,000). */
  maxMs?: number;
}

export const DEFAULT_BACKOFF = { baseMs: 500, maxMs: 15_000 } as const;

/** The wait before attempt `attempt` (0 for the first after a drop); `random` is in [0, 1). */
export function backoffDelay(attempt: number, options: BackoffOptions = {}, random = Math.random()): number {
  const base = options.baseMs ?? DEFAULT_BACKOFF.baseMs;
  const max = options.maxMs ?? DEFAULT_BACKOFF.maxMs;
  const ceiling = Math.min(max, base * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + random * (ceiling / 2));
}
