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

/**
 * Wraps a socket so the actor system can send and close without knowing
 * `ws`. Frames for a socket that is already closing are dropped, never thrown:
 * a peer that vanished mid-broadcast must not fail the sender's actor.
 */
export function connectionFor(ws: WebSocket, onClose: (code: number, reason: string) => void): Connection {
  const socket = rawSocket(ws);
  return {
    send(data) {
      if (ws.readyState !== WebSocket.OPEN) return;
      if (socket) holdUntilTurnEnds(socket);
      ws.send(data);
    },
    close(code, reason) {
      if (ws.readyState !== WebSocket.OPEN) return;
      onClose(code, reason);
      ws.close(code, reason);
    },
  };
}
