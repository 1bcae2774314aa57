/**
 * @module frames: the wire frames the client sends and receives, typed from
 * the server's own definitions.
 *
 * Client frames are `z.input` of the server's zod union (src/protocol.ts),
 * and server frames extend machines/frames.ts's `ServerFrame` with what the
 * store stamps on channel events (machines/history.ts appends `offset`,
 * `time`, `history`, `epoch` and `recovered` to the encoded string, so the
 * union there does not spell them out). Every import here is type-only: the
 * client ships without zod or any server code at run time.
 */
import type { z } from 'zod';
import type { clientFrameSchema } from '../src/protocol.js';
import type { ErrorCode, RequestId, ServerFrame } from '../machines/frames.js';

export type { ErrorCode, RequestId };

/** A frame as a client may send it, before the server canonicalises names; any frame may carry an `id`. */
export type OutgoingFrame = z.input<typeof clientFrameSchema> & { id?: RequestId };

/** What the store adds to every channel event (see docs/protocol.md, "History"). */
export interface EventStamps {
  /** Per channel, from 1, dense, never reused within an epoch. */
  offset: number;
  /** Milliseconds since the Unix epoch. */
  time: number;
  /** Sent from the store rather than live: history on join, or recovery after `since`. */
  history?: true;
  /** Only on the joiner's own join frame. */
  epoch?: string;
  /** Only on the joiner's own join frame after a join with `since`. */
  recovered?: boolean;
}

export type MessageFrame = Extract<ServerFrame, { type: 0 }> & EventStamps;
export type JoinFrame = Extract<ServerFrame, { type: 4 }> & EventStamps;
export type LeaveFrame = Extract<ServerFrame, { type: 5 }> & EventStamps;
export type ChannelEventFrame = MessageFrame | JoinFrame | LeaveFrame;

/** The answer to a type 8 request (built as a string by machines/outbox.ts). */
export interface HistoryPageFrame {
  type: 8;
  channel: string;
  events: ChannelEventFrame[];
  more: boolean;
  id?: RequestId;
}

export type ErrorFrame = Extract<ServerFrame, { type: -1 }>;

/** Every frame the server sends. */
export type IncomingFrame = Exclude<ServerFrame, { type: 0 | 4 | 5 }> | ChannelEventFrame | HistoryPageFrame;

/** The channel a channel event belongs to. */
export function channelOf(frame: ChannelEventFrame): string {
  return frame.type === 0 ? frame.dest : frame.channel;
}

export function isChannelEvent(frame: IncomingFrame): frame is ChannelEventFrame {
  return (frame.type === 0 || frame.type === 4 || frame.type === 5) && typeof (frame as { offset?: unknown }).offset === 'number';
}
