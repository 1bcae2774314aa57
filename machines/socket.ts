/**
 * @module socket: the seam between the actor system and a client's socket.
 *
 * Machines never touch `ws`. The transport hands each connection in as a
 * {@link Connection}, and only the outbox actor (see `outbox.ts`) calls it, so
 * unit tests pass a fake and the inspector still shows every frame as an event.
 */

/** The seam between the actor system and a real socket. */
export interface Connection {
  /** Queues one text frame; never throws for a socket that is already closing. */
  send(data: string): void;
  /**
   * Queues several text frames, in order. The outbox hands the same array to
   * many connections (a storm's login announcements), so an implementation
   * may encode it once for all of them. Optional: without it, each frame is
   * sent on its own.
   */
  sendMany?(data: readonly string[]): void;
  /**
   * Queues one text frame whose payload is `head` then `tail`. The outbox
   * hands the same `head` to many connections in a row (the user list each
   * newcomer of a storm gets, long and nearly the same for all of them), so
   * an implementation may encode it once for all of them. Optional: without
   * it, `head + tail` is sent.
   */
  sendSplit?(head: string, tail: string): void;
  /** Starts the closing handshake with a WebSocket close code. */
  close(code: number, reason: string): void;
}

/** What a machine asks of one client's socket, addressed by its connection id. */
export type SocketEvent =
  | { type: 'socket.send'; to: string; data: string }
  | { type: 'socket.close'; to: string; code: number; reason: string };

/** The close codes the server uses, named after why it closes. */
export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  policyViolation: 1008,
  internalError: 1011,
  /** The store could not be reached to check the nick: try again later. */
  tryAgainLater: 1013,
  /** Application code: the registered owner of this nick signed in on another connection. */
  signedInElsewhere: 4001,
  /** Application code: the client did not read its frames fast enough. */
  slowConsumer: 4008,
} as const;
