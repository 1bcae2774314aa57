/**
 * @module channel-history: what the page has shown of one channel's events,
 * by the offsets the server numbers them with (dense per channel, one epoch
 * of the server's store).
 *
 * It answers three questions: was this event shown already (history on join,
 * recovery, older pages and live frames can overlap, and nothing may show
 * twice), which offset a rejoin recovers after, and which offset "Load older"
 * pages before.
 */

export class ChannelHistory {
  /** The store's epoch the offsets below belong to; unknown until the first join frame. */
  epoch: string | undefined;
  /** The newest offset seen: a rejoin asks for everything after it. 0 before any. */
  newest = 0;
  /** The oldest offset shown: "Load older" asks for what came before it. */
  oldest: number | undefined;
  /** Whether the server may keep events older than {@link oldest}. */
  more = false;
  private readonly shown = new Set<number>();

  /**
   * Notes the epoch a join frame carries. True when it is another one than
   * before: the server's store started afresh, so the offsets seen so far
   * mean nothing any more and are forgotten.
   */
  joined(epoch: string | undefined): boolean {
    if (epoch === undefined || epoch === this.epoch) return false;
    const changed = this.epoch !== undefined;
    this.epoch = epoch;
    if (changed) {
      this.shown.clear();
      this.newest = 0;
      this.oldest = undefined;
    }
    return changed;
  }

  /**
   * The server's store started afresh (a rejoin reported a gap by epoch):
   * its offsets start over, so those seen so far are forgotten. The new
   * epoch is noted by the next join that names it.
   */
  startedAfresh(): void {
    this.epoch = undefined;
    this.shown.clear();
    this.newest = 0;
    this.oldest = undefined;
  }

  /** Takes note of an event about to be shown; false when it was shown already, so it must not be again. */
  take(offset: number): boolean {
    if (this.shown.has(offset)) return false;
    this.shown.add(offset);
    if (offset > this.newest) this.newest = offset;
    if (this.oldest === undefined || offset < this.oldest) {
      this.oldest = offset;
      // Offsets start at 1: anything above it had something before it.
      this.more = offset > 1;
    }
    return true;
  }

  /** A page of older events said whether there are more still. */
  paged(more: boolean): void {
    this.more = more && (this.oldest ?? 1) > 1;
  }
}
