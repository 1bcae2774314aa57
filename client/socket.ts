/**
 * @module socket: one WebSocket as a callback actor of the connection
 * machine: it reports opening, each frame (parsed) and the close, and sends
 * what the machine gives it. Stopping the actor closes the socket, so a
 * connection never outlives the state that opened it.
 *
 * It takes any WebSocket with the browser's interface: the native one in
 * browsers, `ws`'s in Node 20 (which has no stable global WebSocket).
 */
import { fromCallback } from 'xstate';
import type { IncomingFrame, OutgoingFrame } from './frames.js';

/** The part of the WebSocket interface the client uses; browsers' and `ws`'s both have it. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  // `any`: browsers and `ws` each type their events their own way, and only `data`, `code` and `reason` are read.
  addEventListener(type: 'open' | 'message' | 'close' | 'error', listener: (event: any) => void): void;
}

export type WebSocketConstructor = new (url: string) => WebSocketLike;

const OPEN = 1;

export type SocketEvent =
  | { type: 'socket.open' }
  | { type: 'socket.frame'; frame: IncomingFrame }
  | { type: 'socket.closed'; code: number; reason: string };

export type SocketCommand = { type: 'socket.send'; frame: OutgoingFrame };

export interface SocketInput {
  url: string;
}

export function socketLogic(WebSocketImpl: WebSocketConstructor) {
  return fromCallback<SocketCommand, SocketInput, SocketEvent>(({ input, sendBack, receive }) => {
    let socket: WebSocketLike;
    try {
      socket = new WebSocketImpl(input.url);
    } catch (error) {
      // A URL the implementation refuses outright fails like a connection that could not be made, not as a crash.
      const reason = error instanceof Error ? error.message : String(error);
      queueMicrotask(() => sendBack({ type: 'socket.closed', code: 1006, reason }));
      return () => {};
    }
    let closed = false;
    socket.addEventListener('open', () => sendBack({ type: 'socket.open' }));
    socket.addEventListener('message', (event: { data: unknown }) => {
      // The server sends only text frames of JSON objects; anything else is not a frame of this protocol.
      if (typeof event.data !== 'string') return;
      let frame: unknown;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      if (typeof frame === 'object' && frame !== null && typeof (frame as { type?: unknown }).type === 'number') {
        sendBack({ type: 'socket.frame', frame: frame as IncomingFrame });
      }
    });
    socket.addEventListener('close', (event: { code: number; reason: string }) => {
      closed = true;
      sendBack({ type: 'socket.closed', code: event.code, reason: event.reason });
    });
    // An error is always followed by a close, which is what the machine acts on.
    socket.addEventListener('error', () => {});
    receive((command) => {
      if (socket.readyState === OPEN) socket.send(JSON.stringify(command.frame));
    });
    return () => {
      if (closed) return;
      try {
        // 1000 reads as a logout to the server: the nick is free at once.
        socket.close(1000);
      } catch {
        // Closing a socket still connecting throws in some implementations; it is abandoned either way.
      }
    };
  });
}
