/**
 * @module frame-log: at `LOG_LEVEL=debug`, a line for each join, leave and
 * refused frame, read from the frames the server sends the client concerned.
 *
 * Reading them at the transport keeps the machines free of I/O, and sees
 * exactly what the client was told. Only codes, ids, nicks and channel names
 * are logged: never a message body, nor the human text of an error.
 */
import type { Logger } from './log.js';

/** Who the frame went to, as the transport's other log lines name a connection. */
export interface Recipient {
  id: string;
  nick: string;
}

/**
 * Logs `data` if it is one of the frames debugging needs. A join or leave is
 * broadcast to every member, so only the member's own copy is logged: one line
 * per join. Message frames, by far the most, are passed over without parsing.
 */
export function logFrameForDebug(logger: Logger, to: Recipient, data: string): void {
  // A replayed event is the channel's past, not something that just happened to this client.
  if (data.endsWith(',"history":true}')) return;
  const join = data.startsWith('{"type":4,');
  const leave = data.startsWith('{"type":5,');
  const refusal = data.startsWith('{"type":-1,');
  if (!join && !leave && !refusal) return;
  const frame = JSON.parse(data) as { channel?: string; user?: string; code?: string; id?: string | number };
  if (refusal) {
    logger.debug({ ...to, errorCode: frame.code, requestId: frame.id }, 'frame refused');
  } else if (frame.user === to.nick) {
    logger.debug({ ...to, channel: frame.channel }, join ? 'joined channel' : 'left channel');
  }
}
