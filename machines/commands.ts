/**
 * @module commands: what a client can ask of its session, as typed events.
 *
 * The transport validates every frame against the protocol schema and turns
 * it into one of these; the machines never see raw JSON. Channel names here
 * are already canonical (`#` plus the lower-cased name).
 */
import type { ErrorCode, RequestId } from './frames.js';

export type ClientCommand =
  | { type: 'client.message'; channel: string; message: string; id?: RequestId }
  /** `since`/`epoch`: the last offset the client saw of the channel, to recover what it missed. */
  | { type: 'client.join'; channel: string; since?: number; epoch?: string; id?: RequestId }
  /** A page of the channel's stored events before offset `before` (or the newest). */
  | { type: 'client.history'; channel: string; before?: number; limit: number; id?: RequestId }
  | { type: 'client.leave'; channel: string; id?: RequestId }
  | { type: 'client.list'; channel?: string; id?: RequestId }
  | { type: 'client.logout'; id?: RequestId }
  /** A login frame: on a registered nick, carries a password or a resume token for `user`. */
  | { type: 'client.login'; user?: string; password?: string; token?: string; id?: RequestId }
  /** Registers the session's nick, or with `oldPassword`, changes its password. */
  | { type: 'client.register'; password: string; oldPassword?: string; id?: RequestId }
  /** A frame the transport could not accept; the session answers it with an error. */
  | { type: 'client.invalid'; code: ErrorCode; message?: string; id?: RequestId };

