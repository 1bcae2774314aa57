/**
 * @module history: the seam between the outbox and wherever channel events
 * are kept, and the rules of recovery as pure functions.
 *
 * The engine behind this seam is the sequencer: it gives each channel event
 * its offset and time as it stores it, so offsets are dense per channel and
 * survive restarts (and, with a shared engine, agree across processes). The
 * outbox hands it each turn's events in one batch and delivers them only once
 * they are stored. Machines never see the engine, only this interface.
 */
import type { RequestId } from './frames.js';

/** One channel event, as stored and as its members received it. */
export interface StoredEvent {
  offset: number;
  /** Milliseconds since the Unix epoch. */
  time: number;
  /** The frame exactly as sent to the channel's members, offset and time included. */
  data: string;
}

/** A channel event to store: its frame as JSON without the closing brace, so the engine can add offset and time. */
export interface AppendRequest {
  channel: string;
  head: string;
}

/** The newest `limit` events with `after < offset < before` (either bound optional), oldest first. */
export interface ReadQuery {
  channel: string;
  after?: number;
  before?: number;
  limit: number;
}

export interface ReadResult {
  events: StoredEvent[];
  /** The oldest offset still retained for the channel; `last + 1` when none is. */
  first: number;
  /** The newest offset the channel ever had; 0 for a channel that never had an event. */
  last: number;
}

/**
 * Synchronous, as the embedded engines are: a turn's events are stored and
 * delivered in that same turn, with no promise in the hot path. (A networked
 * engine sequences elsewhere and hands events back to deliver: a different
 * seam, not a slower version of this one.) A failure throws.
 */
export interface History {
  /** Fixed when the store was created: offsets from another epoch mean nothing here. */
  readonly epoch: string;
  /** Stores a batch in order, all or nothing, assigning each event the next offset of its channel. */
  append(requests: readonly AppendRequest[], now: number): StoredEvent[];
  read(query: ReadQuery): ReadResult;
}

/** The whole frame: the head, closed with offset and time. */
export function completeFrame(head: string, offset: number, time: number): string {
  return `${head},"offset":${offset},"time":${time}}`;
}

/**
 * A page of older events (type 8): the events exactly as stored, and `more`
 * when older ones are still kept. `read` answered the page's query.
 */
export function pageFrame(channel: string, read: { events: readonly { offset: number; data: string }[]; first: number }, requestId?: RequestId): string {
  const oldest = read.events[0]?.offset;
  const more = oldest !== undefined && oldest > read.first;
  const id = requestId === undefined ? '' : `,"id":${JSON.stringify(requestId)}`;
  return `{"type":8,"channel":${JSON.stringify(channel)},"events":[${read.events.map((event) => event.data).join(',')}],"more":${more}${id}}`;
}

/** A stored frame as replayed to one client: marked as history. */
export function asHistory(data: string): string {
  return `${data.slice(0, -1)},"history":true}`;
}

/** A frame with extra fields appended, each already encoded. */
export function withFields(data: string, fields: Record<string, unknown>): string {
  let extra = '';
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) extra += `,${JSON.stringify(key)}:${JSON.stringify(value)}`;
  return `${data.slice(0, -1)}${extra}}`;
}

/**
 * Whether a client that saw everything up to `since` (in `epoch`) missed
 * nothing up to `last` by being sent `sent` events: same epoch, nothing after
 * `since` pruned (`first` is the oldest retained offset), and every event
 * after it sent rather than cut by the recovery limit.
 */
export function isRecovered(since: number, epoch: string, current: string, first: number, last: number, sent: number): boolean {
  if (epoch !== current) return false;
  if (since >= last) return true;
  return first <= since + 1 && sent >= last - since;
}

/**
 * Offsets with no retention at all, for machine tests and embedding without a
 * store: every event is numbered, none can be replayed.
 */
export function ephemeralHistory(epoch = 'ephemeral'): History {
  const last = new Map<string, number>();
  return {
    epoch,
    append(requests, now) {
      return requests.map(({ channel, head }) => {
        const offset = (last.get(channel) ?? 0) + 1;
        last.set(channel, offset);
        return { offset, time: now, data: completeFrame(head, offset, now) };
      });
    },
    read({ channel }) {
      const newest = last.get(channel) ?? 0;
      return { events: [], first: newest + 1, last: newest };
    },
  };
}
