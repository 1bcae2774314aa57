/**
 * @module connection: the {@link Connection} seam over a `ws` socket.
 */
import { WebSocket } from 'ws';
import type { Connection } from '../machines/socket.js';

/**
 * Wraps a socket so the actor system can send and close without knowing
 * `ws`. Frames for a socket that is already closing are dropped, never thrown:
 * a peer that vanished mid-broadcast must not fail the sender's actor.
 */
export function connectionFor(ws: WebSocket, onClose: (code: number, reason: string) => void): Connection {
  return {
    send(data) {
      if (ws.readyState === WebSocket.OPEN) ws.send(data);
    },
    close(code, reason) {
      if (ws.readyState !== WebSocket.OPEN) return;
      onClose(code, reason);
      ws.close(code, reason);
    },
  };
}
