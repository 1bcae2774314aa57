/**
 * @module history: one actor's recent past, for time travel and traces: the
 * events it received, each with its state and context right after, and the
 * events it sent, in a ring of fixed size that counts what it dropped.
 */
import type { EventSummary } from './summary.js';

export interface HistoryEntry extends EventSummary {
  /** `in`: the actor received it; `out`: the actor sent it. */
  dir: 'in' | 'out';
  /** For `in`: the state and context right after the actor processed it. */
  value?: unknown;
  context?: Record<string, unknown>;
  /** For `in`: the transitions it took (ids from transitions.ts); empty when none was enabled. */
  transitions?: string[];
}

export class ActorHistory {
  private readonly entries: (HistoryEntry | undefined)[];
  private next = 0;
  private count = 0;
  /** Entries pushed out of the ring by newer ones. */
  dropped = 0;

  constructor(readonly capacity: number) {
    this.entries = new Array(capacity);
  }

  get size(): number {
    return this.count;
  }

  push(entry: HistoryEntry): void {
    if (this.count === this.capacity) this.dropped += 1;
    else this.count += 1;
    this.entries[this.next] = entry;
    this.next = (this.next + 1) % this.capacity;
  }

  /** Oldest first. */
  list(): HistoryEntry[] {
    const start = (this.next - this.count + this.capacity) % this.capacity;
    const list: HistoryEntry[] = [];
    for (let index = 0; index < this.count; index += 1) list.push(this.entries[(start + index) % this.capacity]!);
    return list;
  }

  /**
   * Oldest first by when they were sent: an event received is stored once
   * processed, after the events it caused to be sent, but it came first.
   */
  toJSON(): { capacity: number; dropped: number; entries: HistoryEntry[] } {
    return { capacity: this.capacity, dropped: this.dropped, entries: this.list().sort((a, b) => a.seq - b.seq) };
  }
}
