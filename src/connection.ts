/**
 * @module connection: the {@link Connection} seam over a `ws` socket.
 */
import type { Socket } from 'node:net';
import { WebSocket } from 'ws';
import type { Connection } from '../machines/socket.js';
import type { ChatCounters } from './metrics/counters.js';
import { OUT_LOGIN } from './metrics/frame-type.js';
import { holdUntilTurnEnds } from './write-batch.js';

/**
 * The TCP socket under a `ws` WebSocket. `ws` keeps it in `_socket` and has
 * no public accessor; without it, frames are simply written one at a time.
 */
function rawSocket(ws: WebSocket): Socket | undefined {
  const socket = (ws as unknown as { _socket?: Socket })._socket;
  return typeof socket?.cork === 'function' ? socket : undefined;
}

/** Who is told when a connection passes its limit or starts closing: one object for every connection. */
export interface ConnectionOwner {
  /** Bytes that may wait unsent for one client before it counts as a slow consumer. */
  readonly maxBufferedBytes: number;
  /** Where every frame queued for a client is counted, for `/metrics`. */
  readonly counters: ChatCounters;
  /** Called once, after the frame that passed the limit: nothing more is queued for this client. */
  onOverflow(connection: WsConnection): void;
  /** Called when the server starts closing the socket, with the code it closes with. */
  onClose(connection: WsConnection, code: number, reason: string): void;
}

/**
 * Wraps a socket so the actor system can send and close without knowing
 * `ws`. Frames for a socket that is already closing, or whose reader fell
 * behind, are dropped, never thrown: a peer that vanished or stalled
 * mid-broadcast must not fail the sender's actor or grow the server's memory.
 *
 * A class with its hooks on one shared owner, rather than closures per
 * connection: ten thousand idle connections each pay only for their fields.
 */
export class WsConnection<Owner extends ConnectionOwner = ConnectionOwner> implements Connection {
  private overflowed = false;
  /** Whether this client has been sent a login announcement yet: the first one is its own. */
  private announced = false;

  constructor(
    readonly ws: WebSocket,
    readonly owner: Owner,
  ) {}

  send(data: string): void {
    const { ws } = this;
    if (this.overflowed || ws.readyState !== WebSocket.OPEN) return;
    const socket = rawSocket(ws);
    if (socket) holdUntilTurnEnds(socket);
    ws.send(data);
    // Counted once queued, so frames dropped for a closing or overflowed client are not.
    if (this.owner.counters.frameOut(data) === OUT_LOGIN && !this.announced) {
      this.announced = true;
      this.owner.counters.ownLogin(data);
    }
    if (ws.bufferedAmount > this.owner.maxBufferedBytes) {
      this.overflowed = true;
      this.owner.onOverflow(this);
    }
  }

  close(code: number, reason: string): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    this.owner.onClose(this, code, reason);
    this.ws.close(code, reason);
  }
}
