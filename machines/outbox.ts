/**
 * @module outbox: the actor every broadcast leaves the actor system through.
 *
 * A broadcast is one event to this actor, carrying the encoded frame once and
 * the sockets it goes to; the outbox hands the same event object to each
 * socket actor. One `sendTo` per broadcast instead of one per recipient keeps
 * the delivery path cheap (no action object per recipient), and the order of
 * frames is kept because this actor, like every other, takes events one at a
 * time in the order they were sent. When fan-out spans processes, this actor
 * is the seam to replace.
 */
import { fromCallback, type AnyActorRef } from 'xstate';
import type { SocketEvent } from './socket.js';

/** The system id the server registers the outbox under. */
export const OUTBOX_ID = 'outbox';

export interface OutboxEvent {
  type: 'outbox.deliver';
  sockets: readonly AnyActorRef[];
  event: SocketEvent;
}

export const outboxLogic = fromCallback<OutboxEvent>(({ receive }) => {
  receive(({ sockets, event }) => {
    for (const socket of sockets) socket.send(event);
  });
});
