/**
 * @module reconnect: the countdown the page shows while the client SDK waits
 * to reconnect. The SDK owns the backoff (and its jitter) and says how long
 * the wait is; this only turns that into whole seconds left, ticking often
 * enough that what the page says is always the time actually left.
 */

const TICK_MS = 250;

export class Countdown {
  private ticker: number | undefined;

  /** @param tick called with the whole seconds left, now and whenever that number changes */
  constructor(private readonly tick: (secondsLeft: number) => void) {}

  /** Counts down `delayMs` from now, replacing any countdown under way. */
  start(delayMs: number): void {
    this.cancel();
    const due = Date.now() + delayMs;
    let shown = -1;
    const update = () => {
      const left = Math.max(0, Math.ceil((due - Date.now()) / 1000));
      if (left !== shown) this.tick((shown = left));
      if (left === 0) this.cancel();
    };
    update();
    this.ticker = window.setInterval(update, TICK_MS);
  }

  cancel(): void {
    window.clearInterval(this.ticker);
    this.ticker = undefined;
  }
}
