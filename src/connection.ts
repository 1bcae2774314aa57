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

/** A server's (unmasked, final) text frame header for a payload of `length` bytes. */
function textHeader(length: number): Buffer {
  if (length < 126) return Buffer.from([0x81, length]);
  if (length < 0x10000) return Buffer.from([0x81, 126, length >> 8, length & 0xff]);
  const header = Buffer.alloc(10);
  header[0] = 0x81;
  header[1] = 127;
  header.writeBigUInt64BE(BigInt(length), 2);
  return header;
}

/**
 * `ws` frames each send anew: it measures the string, builds a header and
 * writes both, for every recipient of a broadcast. The outbox hands every
 * recipient of a broadcast the same string, so the last string framed is
 * remembered with its frame (header and payload in one buffer), and each
 * further recipient gets that same buffer: one encoding per broadcast, one
 * write per socket.
 */
let framedText: string | undefined;
let framedBytes: Buffer = Buffer.alloc(0);

function textFrame(data: string): Buffer {
  if (data !== framedText) {
    const payload = Buffer.from(data);
    framedBytes = Buffer.concat([textHeader(payload.length), payload]);
    framedText = data;
  }
  return framedBytes;
}

/** The last run of frames framed (see `sendMany`), with its frames in one buffer. */
let framedRun: readonly string[] = [];
let framedRunBytes: Buffer = Buffer.alloc(0);

function textFrames(frames: readonly string[]): Buffer {
  if (frames !== framedRun) {
    framedRunBytes = Buffer.concat(frames.map(textFrame));
    framedRun = frames;
  }
  return framedRunBytes;
}

/** The last head framed by `sendSplit`, as bytes. */
let splitHead: string | undefined;
let splitHeadBytes: Buffer = Buffer.alloc(0);

/**
 * Whether a frame may go straight to the socket: `ws`'s sender is idle (it
 * queues only while compressing, which this server never does), so nothing
 * of its own can be written between.
 */
function senderIdle(ws: WebSocket): boolean {
  return (ws as unknown as { _sender?: { _state?: number } })._sender?._state === 0;
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
    if (!this.takesFrames()) return;
    const socket = this.directSocket();
    if (socket) socket.write(textFrame(data));
    else this.ws.send(data);
    // Counted once queued, so frames dropped for a closing or overflowed client are not.
    if (this.owner.counters.frameOut(data) === OUT_LOGIN && !this.announced) {
      this.announced = true;
      this.owner.counters.ownLogin(data);
    }
    this.checkOverflow();
  }

  /**
   * Frames the outbox hands, as one array, to many clients in a row (a
   * storm's logins): they are framed once, into one buffer, and each client
   * gets that buffer in one write.
   */
  sendMany(frames: readonly string[]): void {
    if (!this.takesFrames()) return;
    const socket = this.directSocket();
    if (socket) socket.write(textFrames(frames));
    else for (const data of frames) this.ws.send(data);
    this.owner.counters.framesOutMany(frames);
    this.checkOverflow();
  }

  /**
   * One frame in two parts, the first shared by many clients in a row (a
   * storm's user lists): its bytes are made once and written to each of them
   * as they are, and only the tail is encoded per client.
   */
  sendSplit(head: string, tail: string): void {
    if (!this.takesFrames()) return;
    const socket = this.directSocket();
    if (!socket) {
      this.send(head + tail);
      return;
    }
    if (head !== splitHead) {
      splitHeadBytes = Buffer.from(head);
      splitHead = head;
    }
    const tailBytes = Buffer.from(tail);
    socket.write(textHeader(splitHeadBytes.length + tailBytes.length));
    socket.write(splitHeadBytes);
    socket.write(tailBytes);
    this.owner.counters.splitFrameOut(head, splitHeadBytes.length + tailBytes.length);
    this.checkOverflow();
  }

  /** Open, and not given up on as a slow consumer. */
  private takesFrames(): boolean {
    return !this.overflowed && this.ws.readyState === WebSocket.OPEN;
  }

  /**
   * Holds the socket's writes until the turn ends, and returns it when a
   * frame may be written to it directly; undefined when `ws` must frame it.
   */
  private directSocket(): Socket | undefined {
    const socket = rawSocket(this.ws);
    if (!socket) return undefined;
    holdUntilTurnEnds(socket);
    return senderIdle(this.ws) ? socket : undefined;
  }

  private checkOverflow(): void {
    if (this.ws.bufferedAmount <= this.owner.maxBufferedBytes) return;
    this.overflowed = true;
    this.owner.onOverflow(this);
  }

  close(code: number, reason: string): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    this.owner.onClose(this, code, reason);
    this.ws.close(code, reason);
  }
}
