/**
 * @module hub: the local inspector's server side. It observes the actor
 * system through XState's `inspect` option, keeps the live actor tree and a
 * window of recent messages, and streams both to every `/inspector` page.
 *
 * It exists only when the server runs with `--inspect`; without it no
 * observer is attached and inspection costs nothing.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import type { AnyActorRef, InspectionEvent } from 'xstate';
import {
  chartOf,
  machineOf,
  summariseActor,
  summariseMessage,
  summariseSnapshot,
  type ActorSummary,
  type EventSummary,
  type StateNodeChart,
} from './summary.js';

/** How many recent messages a page that connects late still gets to see. */
export const EVENT_WINDOW = 500;

/** Everything the server sends to an inspector page, one JSON object per frame. */
export type InspectorMessage =
  | {
      kind: 'hello';
      bodies: boolean;
      charts: Record<string, StateNodeChart>;
      actors: ActorSummary[];
      events: EventSummary[];
    }
  | { kind: 'chart'; machine: string; chart: StateNodeChart }
  | { kind: 'actor'; actor: ActorSummary }
  | { kind: 'snapshot'; sessionId: string; status: string; value: unknown; context: Record<string, unknown> }
  /** The actor stopped or finished; `value` is its last state (a session's `closed`). */
  | { kind: 'ended'; sessionId: string; status: string; value: unknown }
  | ({ kind: 'event' } & EventSummary);

interface Tracked {
  ref: AnyActorRef;
  /** Null until the actor's first snapshot: before that it has no state to show. */
  summary: ActorSummary | null;
  /** The last snapshot sent, serialised, so that unchanged snapshots are not sent again. */
  last: string;
}

const ENDED = new Set(['done', 'error', 'stopped']);

export class InspectorHub {
  private readonly wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, clientTracking: true });
  private readonly actors = new Map<string, Tracked>();
  private readonly charts = new Map<string, StateNodeChart>();
  private readonly events: EventSummary[] = [];

  /** `bodies`: show message bodies; otherwise they are redacted before they leave the process. */
  constructor(private readonly bodies: boolean) {}

  /** The observer for `createActor(machine, { inspect })`. */
  readonly inspect = (inspection: InspectionEvent): void => {
    switch (inspection.type) {
      case '@xstate.actor':
        this.onActor(inspection.actorRef as AnyActorRef);
        break;
      case '@xstate.snapshot':
        this.onSnapshot(inspection.actorRef as AnyActorRef, inspection.snapshot);
        break;
      case '@xstate.event': {
        const summary = summariseMessage(inspection, this.bodies);
        if (!summary) break;
        this.events.push(summary);
        if (this.events.length > EVENT_WINDOW) this.events.shift();
        this.publish({ kind: 'event', ...summary });
        break;
      }
      default:
        break;
    }
  };

  /** Accepts an inspector page's WebSocket; the caller has already checked the client is on loopback. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    this.wss.handleUpgrade(request, socket, head, (ws) => {
      ws.on('error', () => {});
      ws.send(JSON.stringify(this.hello()));
    });
  }

  /** Closes every inspector page's socket; pages reconnect to the next server on their own. */
  close(): void {
    for (const ws of this.wss.clients) ws.terminate();
    this.wss.close();
  }

  private hello(): InspectorMessage {
    const actors: ActorSummary[] = [];
    for (const tracked of this.actors.values()) if (tracked.summary) actors.push(tracked.summary);
    return {
      kind: 'hello',
      bodies: this.bodies,
      charts: Object.fromEntries(this.charts),
      actors,
      events: [...this.events],
    };
  }

  private onActor(ref: AnyActorRef): void {
    const machine = machineOf(ref);
    if (machine && !this.charts.has(machine.id)) {
      const chart = chartOf(machine);
      this.charts.set(machine.id, chart);
      this.publish({ kind: 'chart', machine: machine.id, chart });
    }
    this.actors.set(ref.sessionId, { ref, summary: null, last: '' });
  }

  private onSnapshot(ref: AnyActorRef, snapshot: unknown): void {
    const tracked = this.actors.get(ref.sessionId);
    if (!tracked) return;
    const state = summariseSnapshot(snapshot);
    if (ENDED.has(state.status)) {
      this.actors.delete(ref.sessionId);
      if (tracked.summary) this.publish({ kind: 'ended', sessionId: ref.sessionId, status: state.status, value: state.value });
      return;
    }
    const serialised = JSON.stringify(state);
    if (serialised === tracked.last) return;
    tracked.last = serialised;
    if (!tracked.summary) {
      tracked.summary = { ...summariseActor(ref), ...state };
      this.publish({ kind: 'actor', actor: tracked.summary });
      return;
    }
    Object.assign(tracked.summary, state);
    this.publish({ kind: 'snapshot', sessionId: ref.sessionId, ...state });
  }

  private publish(message: InspectorMessage): void {
    if (this.wss.clients.size === 0) return;
    const data = JSON.stringify(message);
    for (const ws of this.wss.clients) if (ws.readyState === WebSocket.OPEN) ws.send(data);
  }
}
