/**
 * @module broadcast: the one place where a frame fans out to many sockets.
 *
 * Every frame that reaches more than one client leaves through here: it is
 * encoded once and handed, as one event, to the outbox actor, which gives the
 * same string to each recipient's socket actor.
 */
import type { ActorSystem, AnyActorRef } from 'xstate';
import { encode, type ServerFrame } from './frames.js';
import { OUTBOX_ID, type OutboxEvent } from './outbox.js';
import type { SocketEvent } from './socket.js';

/** The subset of `enqueueActions`' `enqueue` that fan-out needs. */
export interface Enqueuer {
  sendTo(target: AnyActorRef, event: SocketEvent | OutboxEvent): void;
}

export function broadcast(
  enqueue: Enqueuer,
  system: ActorSystem<any>,
  /** A fresh array the caller does not touch again, so it travels to the outbox without a copy. */
  sockets: readonly AnyActorRef[],
  frame: ServerFrame,
): void {
  if (sockets.length === 0) return;
  const event: SocketEvent = { type: 'socket.send', data: encode(frame) };
  const outbox = system.get(OUTBOX_ID) as AnyActorRef | undefined;
  if (outbox) {
    enqueue.sendTo(outbox, { type: 'outbox.deliver', sockets, event });
    return;
  }
  // A machine running on its own, without the server (in a unit test, say), has no outbox.
  for (const socket of sockets) enqueue.sendTo(socket, event);
}

/** Sends one frame to one socket: the unicast twin of {@link broadcast}. */
export function unicast(enqueue: Enqueuer, socket: AnyActorRef, frame: ServerFrame): void {
  enqueue.sendTo(socket, { type: 'socket.send', data: encode(frame) });
}
