/**
 * @module socket: one client connection as a callback actor.
 *
 * Machines never touch `ws`. The transport hands in a {@link Connection}, and
 * this actor is the only thing that calls it, so unit tests pass a fake and
 * the inspector still shows every frame as an event sent to the socket.
 */
import { fromCallback } from 'xstate';

/** The seam between the actor system and a real socket. */
export interface Connection {
  /** Queues one text frame; never throws for a socket that is already closing. */
  send(data: string): void;
  /** Starts the closing handshake with a WebSocket close code. */
  close(code: number, reason: string): void;
}

export type SocketEvent =
  | { type: 'socket.send'; data: string }
  | { type: 'socket.close'; code: number; reason: string };

export interface SocketInput {
  connection: Connection;
}

export const socketLogic = fromCallback<SocketEvent, SocketInput>(({ input, receive }) => {
  const { connection } = input;
  receive((event) => {
    if (event.type === 'socket.send') connection.send(event.data);
    else connection.close(event.code, event.reason);
  });
});

/** The close codes the server uses, named after why it closes. */
export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  policyViolation: 1008,
  internalError: 1011,
  /** Application code: the client did not read its frames fast enough. */
  slowConsumer: 4008,
} as const;
