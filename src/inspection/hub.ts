/**
 * @module hub: the local inspector's server side. It observes the actor
 * system through XState's `inspect` option, keeps the live actor tree, a
 * window of recent messages and a bounded history per actor, and streams
 * changes to every `/inspector` page in batches.
 *
 * It exists only when the server runs with `--inspect`; without it no
 * observer is attached and inspection costs nothing. With it, the work per
 * event is a summary and a push onto a ring; pages get at most one frame per
 * {@link FLUSH_MS}, with each actor's latest state only, so a busy server
 * is not slowed down by a page that cannot keep up.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import type { AnyActorRef, AnyTransitionDefinition, InspectionEvent } from 'xstate';
import { sessionActorId } from '../../machines/server.machine.js';
import { ActorHistory, type HistoryEntry } from './history.js';
import { layoutMachine, type Diagram } from './layout.js';
import { labelOf, machineOf, summariseActor, summariseMessage, summariseSnapshot, type ActorSummary, type EventSummary } from './summary.js';
import { buildTrace } from './trace.js';
import { transitionId } from './transitions.js';

/** How many recent messages a page that connects late still gets to see. */
export const EVENT_WINDOW = 500;
/** Pages are sent what changed at most this often. */
export const FLUSH_MS = 100;
/** At most this many events go to pages per flush; the rest are counted as skipped (they stay in the histories). */
export const EVENTS_PER_FLUSH = 200;
/** How long an ended actor with a statechart stays listed (greyed) and its history downloadable, and how many are kept. */
export const ENDED_KEEP_MS = 10 * 60_000;
export const ENDED_KEEP_COUNT = 200;

export interface HubOptions {
  /** Show message bodies; otherwise they are redacted before they leave the process. */
  bodies: boolean;
  /** Entries kept per actor for time travel (`--inspect-history`). */
  historySize: number;
  /** The node this server is in a cluster (`--node-name`), or null when it runs alone. */
  node: string | null;
}

export interface ActorView extends ActorSummary {
  /** When it stopped, or null while it runs. */
  endedAt: number | null;
  /** The transitions its last event took (ids from transitions.ts). */
  transitions: string[];
  /** When its state last changed. */
  changedAt: number;
}

/** Everything the server sends to an inspector page, one JSON object per frame. */
export type InspectorMessage =
  | {
      kind: 'hello';
      node: string | null;
      bodies: boolean;
      historySize: number;
      diagrams: Diagram[];
      actors: ActorView[];
      events: EventSummary[];
      /** Events that fell out of the window before this page connected. */
      droppedEvents: number;
      /** What the page tells people about dropped events: the window, and at most how many events a second it is sent. */
      eventWindow: number;
      eventsPerSecond: number;
    }
  | { kind: 'batch'; messages: InspectorMessage[] }
  | { kind: 'diagram'; diagram: Diagram }
  | { kind: 'actor'; actor: ActorView }
  | { kind: 'snapshot'; sessionId: string; label: string; status: string; value: unknown; context: Record<string, unknown>; transitions: string[]; changedAt: number }
  /** The actor stopped or finished; `value` is its last state (a session's `closed`). */
  | { kind: 'ended'; sessionId: string; status: string; value: unknown; endedAt: number; transitions: string[] }
  /** An ended actor is no longer kept. */
  | { kind: 'forgotten'; sessionId: string }
  /** Events that happened but were not streamed, because pages were being sent too many. */
  | { kind: 'skipped'; count: number }
  | ({ kind: 'event' } & EventSummary);

interface Tracked {
  ref: AnyActorRef;
  view: ActorView;
  /** False until the actor's first snapshot: before that it has no state to show. */
  shown: boolean;
  /** The last state sent, serialised, so that unchanged snapshots are not sent again. */
  last: string;
  history: ActorHistory;
  /** Events sent to it that it has not processed yet, oldest first (its mailbox, as seen from outside). */
  pending: HistoryEntry[];
  /** Transitions taken while processing the oldest pending event. */
  taking: string[];
}

const ENDED = new Set(['done', 'error', 'stopped']);
const MAX_PENDING = 1_000;

export class InspectorHub {
  private readonly wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, clientTracking: true });
  private readonly actors = new Map<string, Tracked>();
  /** Actor ids to the sessionId of their latest actor, for URLs and traces that name an actor by id. */
  private readonly byId = new Map<string, string>();
  private readonly diagrams = new Map<string, Diagram | null>();
  /** Ended actors by sessionId, oldest first, with when they ended. */
  private readonly ended = new Map<string, number>();
  private readonly events: EventSummary[] = [];
  private droppedEvents = 0;
  private seq = 0;
  /** A session's first event goes to the server, before the session exists: kept here until it does. */
  private readonly opening = new Map<string, HistoryEntry>();
  private queue: InspectorMessage[] = [];
  private readonly snapshots = new Map<string, InspectorMessage>();
  private queuedEvents = 0;
  private skipped = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: HubOptions) {}

  /** The observer for `createActor(machine, { inspect })`. */
  readonly inspect = (inspection: InspectionEvent): void => {
    switch (inspection.type) {
      case '@xstate.actor':
        this.onActor(inspection.actorRef as AnyActorRef);
        break;
      case '@xstate.event':
        this.onEvent(inspection);
        break;
      case '@xstate.microstep': {
        const tracked = this.actors.get(inspection.actorRef.sessionId);
        const taken = (inspection as { _transitions?: AnyTransitionDefinition[] })._transitions ?? [];
        if (tracked) for (const transition of taken) tracked.taking.push(transitionId(transition));
        break;
      }
      case '@xstate.snapshot':
        this.onSnapshot(inspection.actorRef as AnyActorRef, inspection.snapshot, inspection.event.type);
        break;
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

  /**
   * `GET /inspector/history/ID` (an actor's time-travel ring) and
   * `GET /inspector/trace/ID` (a session's trace, as a download). True when
   * it answered; the caller has already checked the client is on loopback.
   */
  handleRequest(path: string, response: ServerResponse): boolean {
    const match = /^\/inspector\/(history|trace)\/(.+)$/.exec(path);
    if (!match) return false;
    const [, what, rawId] = match;
    const id = decodeURIComponent(rawId!);
    const tracked = this.actors.get(id) ?? this.actors.get(this.byId.get(id) ?? '');
    if (!tracked) {
      response
        .writeHead(404, { 'content-type': 'text/plain' })
        .end(`No actor ${id} is known here: it never existed, or ended more than ${ENDED_KEEP_MS / 60_000} minutes ago.\n`);
      return true;
    }
    if (what === 'history') {
      const body = JSON.stringify({ sessionId: tracked.view.sessionId, ...tracked.history.toJSON() });
      response.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(body);
      return true;
    }
    const trace = buildTrace({
      actor: tracked.view,
      history: tracked.history,
      node: this.options.node,
      bodies: this.options.bodies,
    });
    const file = `trace-${tracked.view.id.replace(/[^a-zA-Z0-9_-]+/g, '-')}.json`;
    response
      .writeHead(200, {
        'content-type': 'application/json',
        'content-disposition': `attachment; filename="${file}"`,
        'cache-control': 'no-store',
      })
      .end(`${JSON.stringify(trace, null, 2)}\n`);
    return true;
  }

  /** Closes every inspector page's socket; pages reconnect to the next server on their own. */
  close(): void {
    clearTimeout(this.timer);
    for (const ws of this.wss.clients) ws.terminate();
    this.wss.close();
  }

  private hello(): InspectorMessage {
    const actors: ActorView[] = [];
    for (const tracked of this.actors.values()) if (tracked.shown) actors.push(tracked.view);
    return {
      kind: 'hello',
      node: this.options.node,
      bodies: this.options.bodies,
      historySize: this.options.historySize,
      diagrams: [...this.diagrams.values()].filter((diagram): diagram is Diagram => diagram !== null),
      actors,
      events: [...this.events],
      droppedEvents: this.droppedEvents,
      eventWindow: EVENT_WINDOW,
      eventsPerSecond: (EVENTS_PER_FLUSH * 1000) / FLUSH_MS,
    };
  }

  private onActor(ref: AnyActorRef): void {
    const machine = machineOf(ref);
    if (machine && !this.diagrams.has(machine.id)) {
      this.diagrams.set(machine.id, null);
      layoutMachine(machine).then(
        (diagram) => {
          this.diagrams.set(machine.id, diagram);
          this.publish({ kind: 'diagram', diagram });
        },
        // A machine ELK cannot lay out is still inspectable: the page says it has no diagram.
        () => this.diagrams.delete(machine.id),
      );
    }
    const summary = summariseActor(ref);
    const history = new ActorHistory(this.options.historySize);
    const opening = this.opening.get(ref.id);
    if (opening) {
      this.opening.delete(ref.id);
      history.push(opening);
    }
    this.actors.set(ref.sessionId, {
      ref,
      view: { ...summary, endedAt: null, transitions: [], changedAt: Date.now() },
      shown: false,
      last: '',
      history,
      pending: [],
      taking: [],
    });
    this.byId.set(ref.id, ref.sessionId);
  }

  private onEvent(inspection: Extract<InspectionEvent, { type: '@xstate.event' }>): void {
    const summary = summariseMessage(inspection, this.options.bodies, ++this.seq);
    if (!summary) return;
    this.events.push(summary);
    if (this.events.length > EVENT_WINDOW) {
      this.events.shift();
      this.droppedEvents += 1;
    }
    const source = inspection.sourceRef as AnyActorRef | undefined;
    const sender = source ? this.actors.get(source.sessionId) : undefined;
    sender?.history.push({ ...summary, dir: 'out' });
    const target = this.actors.get(inspection.actorRef.sessionId);
    if (target) {
      target.pending.push({ ...summary, dir: 'in' });
      if (target.pending.length > MAX_PENDING) target.pending.shift();
    }
    if (!source && target?.view.parent === null) {
      // An outside event to the root naming a connection opens a session that does not exist yet: it starts that session's history.
      const id = (inspection.event as { id?: unknown }).id;
      if (typeof id === 'string' && !this.byId.has(sessionActorId(id)) && this.opening.size < MAX_PENDING) {
        this.opening.set(sessionActorId(id), { ...summary, dir: 'in' });
      }
    }
    this.queueEvent({ kind: 'event', ...summary });
  }

  private onSnapshot(ref: AnyActorRef, snapshot: unknown, eventType: string): void {
    const tracked = this.actors.get(ref.sessionId);
    if (!tracked) return;
    const state = summariseSnapshot(snapshot);
    const now = Date.now();
    const transitions = tracked.taking;
    tracked.taking = [];
    // The mailbox is first in, first out; events before the one processed were dropped unprocessed (sent to an actor stopping, say).
    const index = tracked.pending.findIndex((candidate) => candidate.type === eventType);
    const entry = index === -1 ? undefined : tracked.pending.splice(0, index + 1)[index];
    // Events the hub did not see sent (an actor's start, say) are recorded all the same.
    const base: HistoryEntry = entry ?? {
      seq: ++this.seq, at: now, dir: 'in', source: null, target: ref.id, type: eventType, event: { type: eventType },
    };
    tracked.history.push({ ...base, value: state.value, context: state.context, transitions });
    const view = tracked.view;
    if (ENDED.has(state.status)) {
      tracked.pending = [];
      this.snapshots.delete(ref.sessionId);
      // An actor without a statechart that ends is a session's finished call (an account lookup, a login):
      // its answer is in the session's history as the `xstate.done.actor.*` it sent, and keeping each one
      // greyed would fill the tree, and the ended actors kept, with finished calls instead of sessions.
      if (view.machine === null) {
        this.forget(ref.sessionId, tracked);
        this.schedule();
        return;
      }
      // A stop after the final state takes no transition: the one into the final state stays the last.
      Object.assign(view, { status: state.status, value: state.value ?? view.value, endedAt: view.endedAt ?? now, ...(transitions.length > 0 ? { transitions } : {}) });
      if (tracked.shown) {
        this.queue.push({ kind: 'ended', sessionId: ref.sessionId, status: view.status, value: view.value, endedAt: view.endedAt!, transitions: view.transitions });
      }
      if (!this.ended.has(ref.sessionId)) this.ended.set(ref.sessionId, now);
      this.schedule();
      this.forgetEnded(now);
      return;
    }
    // Only the state value is compared: contexts change with nearly every event, and pages get one snapshot per actor per flush anyway.
    const serialised = JSON.stringify(state.value);
    const changed = serialised !== tracked.last;
    tracked.last = serialised;
    Object.assign(view, state, { label: labelOf(view.id, state.context), transitions, ...(changed ? { changedAt: now } : {}) });
    if (!tracked.shown) {
      tracked.shown = true;
      this.queue.push({ kind: 'actor', actor: { ...view } });
      this.schedule();
      return;
    }
    // Only an actor's latest state matters to a page: a newer snapshot replaces one not yet sent.
    this.snapshots.set(ref.sessionId, {
      kind: 'snapshot',
      sessionId: ref.sessionId,
      label: view.label,
      status: view.status,
      value: view.value,
      context: view.context,
      transitions,
      changedAt: view.changedAt,
    });
    this.schedule();
  }

  /** Drops ended actors past their time, or past the count, oldest first (the map keeps the order they ended in). */
  private forgetEnded(now: number): void {
    for (const [sessionId, endedAt] of this.ended) {
      if (this.ended.size <= ENDED_KEEP_COUNT && now - endedAt <= ENDED_KEEP_MS) break;
      this.ended.delete(sessionId);
      const tracked = this.actors.get(sessionId);
      if (tracked) this.forget(sessionId, tracked);
    }
  }

  private forget(sessionId: string, tracked: Tracked): void {
    this.actors.delete(sessionId);
    if (this.byId.get(tracked.view.id) === sessionId) this.byId.delete(tracked.view.id);
    if (tracked.shown) this.queue.push({ kind: 'forgotten', sessionId });
  }

  private queueEvent(message: InspectorMessage): void {
    if (this.wss.clients.size === 0) return;
    if (this.queuedEvents >= EVENTS_PER_FLUSH) {
      this.skipped += 1;
      return;
    }
    this.queuedEvents += 1;
    this.queue.push(message);
    this.schedule();
  }

  private publish(message: InspectorMessage): void {
    this.queue.push(message);
    this.schedule();
  }

  private schedule(): void {
    if (this.timer || this.wss.clients.size === 0) {
      if (this.wss.clients.size === 0) this.clearQueue();
      return;
    }
    this.timer = setTimeout(() => this.flush(), FLUSH_MS);
    this.timer.unref();
  }

  private clearQueue(): void {
    this.queue = [];
    this.snapshots.clear();
    this.queuedEvents = 0;
    this.skipped = 0;
  }

  private flush(): void {
    this.timer = undefined;
    const messages = [...this.queue, ...this.snapshots.values()];
    if (this.skipped > 0) messages.push({ kind: 'skipped', count: this.skipped });
    this.clearQueue();
    if (messages.length === 0 || this.wss.clients.size === 0) return;
    const data = JSON.stringify({ kind: 'batch', messages } satisfies InspectorMessage);
    for (const ws of this.wss.clients) if (ws.readyState === WebSocket.OPEN) ws.send(data);
  }
}
