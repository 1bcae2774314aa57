/**
 * @module member: what a channel knows of one of its members.
 */
import type { AnyActorRef } from 'xstate';

export interface Member {
  /** The per-connection id, which frames are addressed to: stable for the life of one socket, never the nick. */
  id: string;
  nick: string;
  /** The session actor, told when its join took effect. */
  session: AnyActorRef;
}
