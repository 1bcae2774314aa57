/**
 * @module types: what `src/inspection/hub.ts` sends the inspector page, as the
 * page reads it. Kept by hand in step with the hub: the page is compiled on
 * its own and imports nothing from the server.
 */

export interface ActorView {
  sessionId: string;
  id: string;
  /** `session:3 · alice` for a session; the id otherwise. */
  label: string;
  parent: string | null;
  machine: string | null;
  status: string;
  value: unknown;
  context: Record<string, unknown>;
  endedAt: number | null;
  transitions: string[];
  changedAt: number;
}

export interface EventSummary {
  seq: number;
  at: number;
  source: string | null;
  target: string;
  type: string;
  event: Record<string, unknown>;
}

export interface HistoryEntry extends EventSummary {
  dir: 'in' | 'out';
  value?: unknown;
  context?: Record<string, unknown>;
  transitions?: string[];
}

export interface History {
  sessionId: string;
  capacity: number;
  dropped: number;
  entries: HistoryEntry[];
}

export interface Point {
  x: number;
  y: number;
}

export interface Diagram {
  machine: string;
  width: number;
  height: number;
  nodes: { path: string; key: string; type: string; x: number; y: number; width: number; height: number; initial: boolean; lines: { id: string; text: string }[] }[];
  edges: { id: string; source: string; target: string; label: string; points: Point[]; labelAt: { x: number; y: number; width: number; height: number } | null }[];
  entries: { parent: string; points: Point[] }[];
}

export type Message =
  | { kind: 'hello'; node: string | null; bodies: boolean; historySize: number; diagrams: Diagram[]; actors: ActorView[]; events: EventSummary[]; droppedEvents: number; eventWindow: number; eventsPerSecond: number }
  | { kind: 'batch'; messages: Message[] }
  | { kind: 'diagram'; diagram: Diagram }
  | { kind: 'actor'; actor: ActorView }
  | { kind: 'snapshot'; sessionId: string; label: string; status: string; value: unknown; context: Record<string, unknown>; transitions: string[]; changedAt: number }
  | { kind: 'ended'; sessionId: string; status: string; value: unknown; endedAt: number; transitions: string[] }
  | { kind: 'forgotten'; sessionId: string }
  | { kind: 'skipped'; count: number }
  | ({ kind: 'event' } & EventSummary);
