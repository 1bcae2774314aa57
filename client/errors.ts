/**
 * @module errors: the one error type the client rejects with, carrying the
 * server's error code, or a code of the client's own for what the server
 * cannot say (it took the nick over, it could not be reached, the client
 * was closed). Program against `code`; `message` is for people.
 */
import type { ErrorCode, RequestId } from './frames.js';

/** Codes of the client's own, for failures that are not an error frame. */
export type ClientErrorCode =
  /** Another connection signed in as this registered nick (close 4001). No reconnect follows. */
  | 'signed_in_elsewhere'
  /** The first connection could not be made, or closed before it was logged in. */
  | 'unreachable'
  /** The connection dropped before the server answered, and the request is not safe to send again (a registration). */
  | 'connection_lost'
  /** `close()` was called, or the client had stopped for another reason given earlier. */
  | 'closed';

export type ChatErrorCode = ErrorCode | ClientErrorCode;

export class ChatError extends Error {
  override readonly name = 'ChatError';

  constructor(
    readonly code: ChatErrorCode,
    message: string,
    /** The request this answers, when it answers one. */
    readonly requestId?: RequestId,
  ) {
    super(message);
  }
}
