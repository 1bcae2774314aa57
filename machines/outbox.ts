/**
 * @module outbox: the actor every frame leaves the actor system through.
 *
 * It holds the {@link Connection} of every client by connection id, and is the
 * only caller of that seam. Machines address a client by its id, so a roster
 * entry or a session costs a string, not an actor: one callback actor for all
 * sockets rather than one per socket keeps an idle session to its session
 * actor alone (an actor costs about 2 KiB of heap).
 *
 * A broadcast is one `outbox.deliver` event carrying the encoded frame once
 * and its recipients' ids. The order of frames is kept because this actor,
 * like every other, takes events one at a time in the order they were sent.
 * When fan-out spans processes, this actor is the seam to replace.
 */
import { fromCallback } from 'xstate';
import type { Connection, SocketEvent } from './socket.js';

/** The system id the server registers the outbox under. */
export const OUTBOX_ID = 'outbox';

export type OutboxEvent =
  | SocketEvent
  /** The same frame to many clients. */
  | { type: 'outbox.deliver'; to: readonly string[]; data: string }
  /** A client's socket is open: frames for `id` go to `connection` from now on. */
  | { type: 'outbox.attach'; id: string; connection: Connection }
  /** A client's session has ended: frames for `id` are dropped from now on. */
  | { type: 'outbox.detach'; id: string };

export const outboxLogic = fromCallback<OutboxEvent>(({ receive }) => {
  const connections = new Map<string, Connection>();
  receive((event) => {
    switch (event.type) {
      case 'outbox.deliver':
        for (const id of event.to) connections.get(id)?.send(event.data);
        break;
      case 'socket.send':
        connections.get(event.to)?.send(event.data);
        break;
      case 'socket.close':
        connections.get(event.to)?.close(event.code, event.reason);
        break;
      case 'outbox.attach':
        connections.set(event.id, event.connection);
        break;
      case 'outbox.detach':
        connections.delete(event.id);
        break;
    }
  });
});
