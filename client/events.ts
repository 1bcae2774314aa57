/**
 * @module events: what the client tells the application, by name, as
 * `client.on(name, handler)` delivers it.
 *
 * Channel events are the server's frames made plain: the channel always in
 * `channel`, `own` when this client's nick did it, and `source` saying how it
 * came: live, as the channel's past on joining (`history`), or as what was
 * missed while disconnected (`recovered`). Each is delivered once: the client
 * drops any offset of a channel it has delivered already.
 */
import type { ChatError } from './errors.js';
import type { ChannelEventFrame } from './frames.js';

export type EventSource = 'live' | 'history' | 'recovered';

interface ChannelEventBase {
  channel: string;
  user: string;
  offset: number;
  time: number;
  source: EventSource;
  /** This client's nick did it: its own message echoed, its own join or leave. */
  own: boolean;
}

export interface MessageEvent extends ChannelEventBase {
  type: 'message';
  message: string;
}

export interface JoinEvent extends ChannelEventBase {
  type: 'join';
}

export interface LeaveEvent extends ChannelEventBase {
  type: 'leave';
}

export type ChannelEvent = MessageEvent | JoinEvent | LeaveEvent;

/** The states of the connection machine (client/connection.machine.ts). */
export type ConnectionState = 'connecting' | 'authenticating' | 'online' | 'reconnecting' | 'closed';

export interface StateEvent {
  type: 'state';
  state: ConnectionState;
  /** Failed attempts since the last time online; while `reconnecting`, the one about to be made. */
  attempt: number;
  /** While `reconnecting`: how long until the next attempt. */
  delayMs?: number;
  /** The close code that ended the last connection, if one did. */
  closeCode?: number;
  /** When `closed` for a reason other than `close()`: why. */
  error?: ChatError;
}

/** Everything that was said in a channel while disconnected was received: `count` events (own joins and leaves not counted). */
export interface RecoveredEvent {
  type: 'recovered';
  channel: string;
  count: number;
}

/**
 * Not everything said while disconnected could be recovered: the server's
 * store started afresh (`epoch`), or it no longer keeps all of it or would
 * not send that many (`incomplete`). The `count` newest events follow.
 */
export interface GapEvent {
  type: 'gap';
  channel: string;
  count: number;
  reason: 'epoch' | 'incomplete';
}

export interface PresenceEvent {
  type: 'login' | 'logout';
  user: string;
}

/** A fresh resume token for this registered nick: keep it (never the password) to sign in next time. */
export interface TokenEvent {
  type: 'token';
  token: string;
}

/** Everyone online, as the server lists them after each login (before the `online` state). */
export interface UsersEvent {
  type: 'users';
  users: string[];
}

/** An error frame no request of the application's was waiting for (a rejoin refused, say). */
export interface ErrorEvent {
  type: 'error';
  error: ChatError;
  channel?: string;
}

/** What `client.on` can listen to, by name. */
export interface ClientEventMap {
  message: MessageEvent;
  join: JoinEvent;
  leave: LeaveEvent;
  login: PresenceEvent;
  logout: PresenceEvent;
  recovered: RecoveredEvent;
  gap: GapEvent;
  state: StateEvent;
  token: TokenEvent;
  users: UsersEvent;
  error: ErrorEvent;
}

export type ClientEventName = keyof ClientEventMap;

/** A channel event frame as the application sees it. */
export function toChannelEvent(frame: ChannelEventFrame, source: EventSource, own: boolean): ChannelEvent {
  const base = { user: frame.user, offset: frame.offset, time: frame.time, source, own };
  switch (frame.type) {
    case 0:
      return { type: 'message', channel: frame.dest, message: frame.message, ...base };
    case 4:
      return { type: 'join', channel: frame.channel, ...base };
    case 5:
      return { type: 'leave', channel: frame.channel, ...base };
  }
}
