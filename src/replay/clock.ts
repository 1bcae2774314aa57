/**
 * @module clock: the replay's clock for delayed transitions (a registered
 * nick's authentication timeout, say).
 *
 * Its timers never fire on their own. A replay runs as fast as it can, so
 * waiting out the real delays would make it slow, and would let a timer fire
 * before or after events it did not come between when recorded. The replay
 * fires them instead where the trace recorded the delayed event, in the order
 * they fall due.
 */
/** Has the shape of XState's `Clock` (`createActor`'s `clock` option), which the package does not export. */
export class ReplayClock {
  /** Virtual time: how far the timers fired so far have moved it. */
  private now = 0;
  private lastId = 0;
  private readonly timers = new Map<number, { due: number; fire: () => void }>();

  setTimeout(fire: () => void, timeout: number): number {
    const id = ++this.lastId;
    this.timers.set(id, { due: this.now + timeout, fire });
    return id;
  }

  clearTimeout(id: number): void {
    this.timers.delete(id);
  }

  /** Fires the timer due first, moving time on to when it is due; false when none is pending. */
  fireNext(): boolean {
    let first: [number, { due: number; fire: () => void }] | undefined;
    for (const timer of this.timers) if (!first || timer[1].due < first[1].due) first = timer;
    if (!first) return false;
    const [id, { due, fire }] = first;
    this.timers.delete(id);
    this.now = due;
    fire();
    return true;
  }
}
