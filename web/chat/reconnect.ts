/**
 * @module reconnect: when to try a dropped connection again, and the
 * countdown the page shows until then.
 *
 * Delays double from BASE up to CAP, each jittered so that a restarted
 * server is not hit by every client at once. The countdown ticks every
 * second, so what the page says is always the time actually left.
 */

const RECONNECT_BASE_MS = 500;
const RECONNECT_CAP_MS = 15_000;
const TICK_MS = 250;

export class Reconnector {
  /** Failed attempts since the last successful login. */
  attempt = 0;
  private due = 0;
  private timer: number | undefined;
  private ticker: number | undefined;

  /**
   * @param connect called when the wait is over (or at once, on {@link retryNow})
   * @param tick called with the whole seconds left, now and whenever that number changes
   */
  constructor(
    private readonly connect: () => void,
    private readonly tick: (secondsLeft: number) => void,
  ) {}

  get waiting(): boolean {
    return this.timer !== undefined;
  }

  /** Waits the next backoff delay, then connects. */
  schedule(): void {
    this.cancel();
    const ceiling = Math.min(RECONNECT_CAP_MS, RECONNECT_BASE_MS * 2 ** this.attempt);
    const delay = Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
    this.attempt += 1;
    this.due = Date.now() + delay;
    let shown = -1;
    const update = () => {
      const left = Math.max(0, Math.ceil((this.due - Date.now()) / 1000));
      if (left !== shown) this.tick((shown = left));
    };
    update();
    this.ticker = window.setInterval(update, TICK_MS);
    this.timer = window.setTimeout(() => {
      this.cancel();
      this.connect();
    }, delay);
  }

  /** Skips the rest of the wait. */
  retryNow(): void {
    this.cancel();
    this.connect();
  }

  cancel(): void {
    window.clearTimeout(this.timer);
    window.clearInterval(this.ticker);
    this.timer = undefined;
    this.ticker = undefined;
  }

  /** A login succeeded: the next drop starts from the shortest delay again. */
  reset(): void {
    this.cancel();
    this.attempt = 0;
  }
}
