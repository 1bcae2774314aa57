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
  | { type: 'client.join'; channel: string; id?: RequestId }
  | { type: 'client.leave'; channel: string; id?: RequestId }
  | { type: 'client.list'; channel?: string; id?: RequestId }
  | { type: 'client.logout'; id?: RequestId }
  | { type: 'client.login'; id?: RequestId }
  | { type: 'client.register'; id?: RequestId }
  /** A frame the transport could not accept; the session answers it with an error. */
  | { type: 'client.invalid'; code: ErrorCode; message?: string; id?: RequestId };
