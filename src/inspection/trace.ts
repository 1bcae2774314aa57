/**
 * @module trace: "Download trace": one actor's (usually a session's) events
 * in and out, as kept in its history, in a JSON file that `npm run replay`
 * and the trace test helper read back.
 *
 * It holds only what the inspector already shows: summaries, with bodies and
 * secrets redacted exactly as on the page.
 */
import type { ActorHistory, HistoryEntry } from './history.js';
import type { ActorSummary } from './summary.js';

export const TRACE_FORMAT = 'xstate-chat-trace';
export const TRACE_VERSION = 1;

export interface Trace {
  format: typeof TRACE_FORMAT;
  version: typeof TRACE_VERSION;
  /** The node that recorded it (`--node-name`), or null for a server running alone. */
  node: string | null;
  recordedAt: string;
  /** Whether message bodies were kept (`--inspect-bodies`); secrets never are. */
  bodies: boolean;
  actor: { id: string; label: string; machine: string | null };
  /** Entries the history ring had already dropped: a trace with some does not start at the beginning. */
  dropped: number;
  events: HistoryEntry[];
}

export function buildTrace(input: { actor: ActorSummary; history: ActorHistory; node: string | null; bodies: boolean }): Trace {
  const { entries, dropped } = input.history.toJSON();
  return {
    format: TRACE_FORMAT,
    version: TRACE_VERSION,
    node: input.node,
    recordedAt: new Date().toISOString(),
    bodies: input.bodies,
    actor: { id: input.actor.id, label: input.actor.label, machine: input.actor.machine },
    dropped,
    events: entries,
  };
}
