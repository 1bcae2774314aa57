/**
 * @module connection: the {@link Connection} seam over a `ws` socket.
 */
import type { Socket } from 'node:net';
import { WebSocket } from 'ws';
import type { Connection } from '../machines/socket.js';
import { holdUntilTurnEnds } from './write-batch.js';

/**
 * The TCP socket under a `ws` WebSocket. `ws` keeps it in `_socket` and has
 * no public accessor; without it, frames are simply written one at a time.
 */
function rawSocket(ws: WebSocket): Socket | undefined {
  const socket = (ws as unknown as { _socket?: Socket })._socket;
  return typeof socket?.cork === 'function' ? socket : undefined;
}

export interface ConnectionHooks {
  /** Bytes that may wait unsent for this client before it counts as a slow consumer. */
  maxBufferedBytes: number;
  /** Called once, after the frame that passed the limit: nothing more is queued for this client. */
  onOverflow(): void;
  /** Called when the server starts closing the socket, with the code it closes with. */
  onClose(code: number, reason: string): void;
}

/**
 * Wraps a socket so the actor system can send and close without knowing
 * `ws`. Frames for a socket that is already closing, or whose reader fell
 * behind, are dropped, never thrown: a peer that vanished or stalled
 * mid-broadcast must not fail the sender's actor or grow the server's memory.
 */
export function connectionFor(ws: WebSocket, hooks: ConnectionHooks): Connection {
  const socket = rawSocket(ws);
  let overflowed = false;
  return {
    send(data) {
      if (overflowed || ws.readyState !== WebSocket.OPEN) return;
      if (socket) holdUntilTurnEnds(socket);
      ws.send(data);
      if (ws.bufferedAmount > hooks.maxBufferedBytes) {
        overflowed = true;
        hooks.onOverflow();
      }
    },
    close(code, reason) {
      if (ws.readyState !== WebSocket.OPEN) return;
      hooks.onClose(code, reason);
      ws.close(code, reason);
    },
  };
}
