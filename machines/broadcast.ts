/**
 * @module broadcast: the one place where a frame leaves a machine for clients.
 *
 * Every frame is encoded once and handed, as one event, to the outbox actor,
 * which gives the same string to each recipient's connection.
 */
import type { ActorSystem, AnyActorRef } from 'xstate';
import { encode, type RequestId, type ServerFrame } from './frames.js';
import { OUTBOX_ID, type Joiner, type Leaver, type OutboxEvent } from './outbox.js';

/** The subset of `enqueueActions`' `enqueue` that sending to clients needs. */
export interface Enqueuer {
  sendTo(target: AnyActorRef, event: OutboxEvent): void;
}

/**
 * The outbox of `system`. A machine without one is wired wrongly, and its
 * frames would otherwise vanish (or, through `sendTo(undefined)`, go to the
 * machine itself), so this throws: the parent's error handling then shows it.
 */
export function outboxOf(system: ActorSystem<any>): AnyActorRef {
  const outbox = system.get(OUTBOX_ID) as AnyActorRef | undefined;
  if (!outbox) throw new Error(`No outbox in this actor system: spawn outboxLogic with systemId '${OUTBOX_ID}' before any machine sends frames.`);
  return outbox;
}

export function broadcast(
  enqueue: Enqueuer,
  system: ActorSystem<any>,
  /** Connection ids; a fresh array the caller does not touch again, so it travels to the outbox without a copy. */
  to: readonly string[],
  frame: ServerFrame,
): void {
  if (to.length === 0) return;
  enqueue.sendTo(outboxOf(system), { type: 'outbox.deliver', to, data: encode(frame) });
}

/**
 * Sends a channel event to the channel's members once it is stored: the
 * store gives it its offset and time, which every member then sees alike.
 * `from` is told if it could not be stored; a `joiner` first hears the past.
 */
export function publish(
  enqueue: Enqueuer,
  system: ActorSystem<any>,
  channel: string,
  to: readonly string[],
  frame: ServerFrame,
  extra: PublishExtra = {},
): void {
  enqueue.sendTo(outboxOf(system), publication(channel, to, frame, extra));
}

type PublishExtra = { joiner?: Joiner; leaver?: Leaver; from?: string; requestId?: RequestId };

/** The outbox event {@link publish} sends: for a machine's own `sendTo`, on a path too hot for `enqueueActions`. */
export function publication(channel: string, to: readonly string[], frame: ServerFrame, extra: PublishExtra = {}): OutboxEvent {
  const data = encode(frame);
  return { type: 'outbox.publish', channel, head: data.slice(0, -1), to, ...extra };
}

/** Sends one frame to one client: the unicast twin of {@link broadcast}. */
export function unicast(enqueue: Enqueuer, system: ActorSystem<any>, to: string, frame: ServerFrame): void {
  enqueue.sendTo(outboxOf(system), { type: 'socket.send', to, data: encode(frame) });
}

/** Starts closing one client's socket with a WebSocket close code. */
export function closeSocket(enqueue: Enqueuer, system: ActorSystem<any>, to: string, code: number, reason: string): void {
  enqueue.sendTo(outboxOf(system), { type: 'socket.close', to, code, reason });
}

/**
 * Announces that `user` (connection `id`) logged in or out, to everyone
 * logged in: the outbox keeps who that is. A login's own frame can differ
 * (it carries the resume token, for its owner's eyes only).
 */
export function announce(
  enqueue: Enqueuer,
  system: ActorSystem<any>,
  kind: 'login' | 'logout',
  id: string,
  user: string,
  token?: string,
): void {
  const data = encode(kind === 'login' ? { type: 2, user } : { type: 3, user });
  const own = token === undefined ? {} : { tokenFrame: encode({ type: 2, user, token }) };
  enqueue.sendTo(outboxOf(system), { type: 'outbox.presence', kind, id, user, data, ...own });
}

/**
 * Answers one client with a user list (type 6): everyone logged in, as the
 * outbox knows them; or, given `channel`, its `members` as this node knows
 * them. A cluster's outbox widens both to every node's.
 */
export function listUsers(
  enqueue: Enqueuer,
  system: ActorSystem<any>,
  to: string,
  requestId?: RequestId,
  channel?: { name: string; members: string[] },
): void {
  enqueue.sendTo(outboxOf(system), {
    type: 'outbox.list',
    to,
    ...(channel === undefined ? {} : { channel: channel.name, users: channel.members }),
    ...(requestId === undefined ? {} : { requestId }),
  });
}
