/**
 * @module server.events: the events sessions, their supervisors and channels send to the server actor.
 */
import type { AnyActorRef } from 'xstate';
import type { ChannelEmptyEvent, ChannelEvent } from './channel.machine.js';
import type { ErrorCode, RequestId } from './frames.js';
import type { Member } from './member.js';

export type SessionToServerEvent =
  /**
   * A new session asks to log in under its nick. `owner`: it proved it owns
   * the registered nick, so it takes the nick over from another connection;
   * `token` is the resume token to hand it with its own login frame.
   */
  | { type: 'session.hello'; id: string; nick: string; session: AnyActorRef; owner: boolean; token?: string }
  /** A logged-in session is going away; `channels` are the ones it was in. */
  | { type: 'session.ended'; id: string; channels: string[] }
  | { type: 'route.join'; channel: string; member: Member; since?: number; epoch?: string }
  /** A channel-bound event from a session that does not hold the channel's ref yet. */
  | { type: 'route.channel'; channel: string; event: ChannelEvent }
  /** `replyTo`: the connection id the answer goes to. */
  | { type: 'route.list'; channel: string; replyTo: string; requestId?: RequestId }
  | { type: 'users.list'; replyTo: string; requestId?: RequestId };

export type ChannelToServerEvent = ChannelEmptyEvent;

/**
 * What a supervisor tells the server of its sessions' lives, besides
 * forwarding what the sessions themselves send (see machines/supervisor.machine.ts).
 */
export type SupervisorToServerEvent =
  /** `session` is the session's own ref, for the server to address it directly. */
  | { type: 'session.spawned'; id: string; nick: string; session: AnyActorRef; supervisor: string }
  /** The session reached its final state and its supervisor has stopped it. */
  | { type: 'session.stopped'; id: string }
  /** The session failed (an action threw) and its supervisor has stopped it. */
  | { type: 'session.failed'; id: string; error: unknown };

/**
 * What the server answers to `session.hello`, and what it tells a logged-in
 * session whose nick's owner has signed in on another connection.
 */
export type HelloAnswer =
  | { type: 'session.accepted' }
  | { type: 'session.refused'; code: ErrorCode }
  | { type: 'session.takenOver' };
