/**
 * @module broadcast: the one place where a frame fans out to many sockets.
 *
 * Every frame that reaches more than one client leaves through here: it is
 * encoded once and the same event object, holding the same string, is handed
 * to each recipient's socket actor. When fan-out moves across processes, this
 * is the seam to replace.
 */
import type { AnyActorRef } from 'xstate';
import { encode, type ServerFrame } from './frames.js';
import type { SocketEvent } from './socket.js';

/** The subset of `enqueueActions`' `enqueue` that fan-out needs. */
export interface Enqueuer {
  sendTo(target: AnyActorRef, event: SocketEvent): void;
}

export function broadcast(enqueue: Enqueuer, recipients: Iterable<AnyActorRef>, frame: ServerFrame): void {
  const event: SocketEvent = { type: 'socket.send', data: encode(frame) };
  for (const socket of recipients) enqueue.sendTo(socket, event);
}

/** Sends one frame to one socket: the unicast twin of {@link broadcast}. */
export function unicast(enqueue: Enqueuer, socket: AnyActorRef, frame: ServerFrame): void {
  enqueue.sendTo(socket, { type: 'socket.send', data: encode(frame) });
}
