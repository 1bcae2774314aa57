/**
 * @module outbox: the actor every frame leaves the actor system through.
 *
 * It holds the {@link Connection} of every client by connection id, and is the
 * only caller of that seam. Machines address a client by its id, so a roster
 * entry or a session costs a string, not an actor: one callback actor for all
 * sockets rather than one per socket keeps an idle session to its session
 * actor alone (an actor costs about 2 KiB of heap).
 *
 * A broadcast is one event carrying the encoded frame once and its
 * recipients' ids. Channel events (`outbox.publish`) are stored before any
 * client sees them: they wait until the end of the event-loop turn, when the
 * turn's events are handed to the {@link History} in one batch, which gives
 * each its offset and time; then they are delivered. Every frame queued
 * behind a waiting one waits too, so each client still gets its frames in
 * the order the machines sent them. The same pass answers what needs the
 * store's past: history for a joiner, recovery after a reconnect, pages of
 * older events. When fan-out spans processes, this actor is the seam to
 * replace.
 */
import { fromCallback } from 'xstate';
import { encode, errorFrame, usersFrame, type RequestId } from './frames.js';
import { asHistory, pageFrame, ephemeralHistory, isRecovered, withFields, type History, type ReadResult, type StoredEvent } from './history.js';
import type { Connection, SocketEvent } from './socket.js';

/** The system id the server registers the outbox under. */
export const OUTBOX_ID = 'outbox';

/** A member joining a channel, who hears the channel's past before its own join frame. */
export interface Joiner {
  id: string;
  /** The last offset the client saw: it gets everything after it. Absent: the newest events, as history. */
  since?: number;
  /** The epoch `since` belongs to; the store's own when absent. */
  epoch?: string;
}

export type OutboxEvent =
  | SocketEvent
  /** The same frame to many clients. */
  | { type: 'outbox.deliver'; to: readonly string[]; data: string }
  /**
   * A channel event: stored (which numbers it), then sent to `to`. `from`, if
   * any, hears `unavailable` if it cannot be stored. `joiner` and `leaver`
   * say whose membership it changes, which a cluster's outbox applies to its
   * own delivery list once the event comes back numbered.
   */
  | { type: 'outbox.publish'; channel: string; head: string; to: readonly string[]; joiner?: Joiner; leaver?: Leaver; from?: string; requestId?: RequestId }
  /**
   * Connection `id` logged in or out as `user`: `data` goes to everyone
   * logged in from then on (the new user included; `tokenFrame` instead, if given,
   * to the new user: its login frame with its resume token, a secret the
   * inspector redacts by the field's name), and the outbox's list of who is logged in changes. In
   * a cluster, every node hears it.
   */
  | { type: 'outbox.presence'; kind: 'login' | 'logout'; id: string; user: string; data: string; tokenFrame?: string }
  /**
   * A user list for one client (type 6): everyone logged in, from the
   * outbox's own list; or, with `channel`, that channel's members as this
   * node knows them (`users`). A cluster's outbox asks the cluster for both.
   */
  | { type: 'outbox.list'; to: string; channel?: string; users?: string[]; requestId?: RequestId }
  /** A page of a channel's stored events, for one client (type 8). */
  | { type: 'outbox.page'; to: string; channel: string; before?: number; limit: number; requestId?: RequestId }
  /** A client's socket is open: frames for `id` go to `connection` from now on. */
  | { type: 'outbox.attach'; id: string; connection: Connection }
  /** A client's session has ended: frames for `id` are dropped from now on. */
  | { type: 'outbox.detach'; id: string };

/** A member leaving a channel: `disconnected`, its socket is gone, so it does not hear its own leave. */
export interface Leaver {
  id: string;
  disconnected: boolean;
}

export type Publish = Extract<OutboxEvent, { type: 'outbox.publish' }>;
export type Presence = Extract<OutboxEvent, { type: 'outbox.presence' }>;
type Page = Extract<OutboxEvent, { type: 'outbox.page' }>;

export interface OutboxSettings {
  history: History;
  /** Events a joiner hears from before its join; 0 for none. */
  historyOnJoin: number;
  /** The most events a recovering joiner is sent. */
  recoveryLimit: number;
  /** Called after each batch is delivered: where the transport writes out what was queued. */
  afterFlush?: () => void;
  /** Told when the history could not store or read: the affected requests were answered `unavailable`. */
  onError?: (error: unknown) => void;
  /** The clock for event times. */
  now?: () => number;
}

/**
 * Group commit: within this long of the last store, a batch waits up to this
 * many more turns (or until this many events are waiting) before it is stored.
 */
const GROUP_COMMIT_MS = 1;
const GROUP_COMMIT_TURNS = 4;
const GROUP_COMMIT_EVENTS = 256;

/**
 * Logins and logouts are announced to everyone logged in, which costs a
 * write per client however many are announced at once. Node accepts one
 * connection per event-loop turn, so in a reconnect storm announcing each
 * turn's logins would announce them one at a time, each to everyone. With
 * many online, a run of them is therefore announced at most once per as long
 * as the previous announcement took (at most this long), so announcing takes
 * at most about half the server's time and the connections accepted
 * meanwhile are announced together.
 */
const MAX_PRESENCE_HOLD_MS = 5;
/** Below this many logged in, an announcement is cheap and goes out at the end of its turn, as everything else. */
const PRESENCE_HOLD_AUDIENCE = 256;

/**
 * How long logins and logouts waiting at `now` wait still, after an
 * announcement to `audience` clients that ended at `announcedAt` and took `cost`.
 */
export function presenceWait(now: number, announcedAt: number, cost: number, audience: number): number {
  if (audience < PRESENCE_HOLD_AUDIENCE) return 0;
  return Math.max(0, announcedAt + Math.min(cost, MAX_PRESENCE_HOLD_MS) - now);
}

const NOT_STORED = 'The server could not store this, so it was not sent. Try again shortly.';
const UNAVAILABLE = encode(errorFrame('unavailable', undefined, NOT_STORED));

/** The error for a request the store could not take, with the request's id when it had one. */
function unavailable(requestId: RequestId | undefined): string {
  return requestId === undefined ? UNAVAILABLE : encode(errorFrame('unavailable', requestId, NOT_STORED));
}

/**
 * The outbox's logic over a given history. `settings` may be a function, to
 * give each outbox actor settings (a history) of its own.
 */
export function createOutbox(settings: OutboxSettings | (() => OutboxSettings)) {
  return fromCallback<OutboxEvent>(({ receive }) => {
    const { history, historyOnJoin, recoveryLimit, afterFlush, onError, now = Date.now } = typeof settings === 'function' ? settings() : settings;
    const connections = new Map<string, Connection>();
    /** Events waiting for the end of the turn, in the order they came. */
    let pending: OutboxEvent[] = [];
    let scheduled = false;
    /** When the last batch was stored, and how many turns the pending one has waited for company. */
    let committedAt = Number.NEGATIVE_INFINITY;
    let postponed = 0;
    /** Whether a login or logout is waiting, and when the last batch that announced some ended and how long it took. */
    let presencePending = false;
    let announcedAt = Number.NEGATIVE_INFINITY;
    let announceCost = 0;

    const send = (id: string, data: string) => connections.get(id)?.send(data);
    const presence = new LoggedIn();

    /** What needs no store, done at once. */
    const apply = (event: OutboxEvent): void => {
      switch (event.type) {
        case 'outbox.deliver':
          for (const id of event.to) send(id, event.data);
          break;
        case 'outbox.presence':
          announce([event], presence, connections);
          break;
        case 'outbox.list':
          send(event.to, event.channel === undefined ? presence.listFrame(event.requestId) : encode(usersFrame(event.users ?? [], event.channel, event.requestId)));
          break;
        default:
          applyToConnections(event, connections);
          break;
      }
    };

    const deliverPublish = (event: Publish, record: StoredEvent): void => {
      const { joiner } = event;
      if (joiner) {
        let replay: StoredEvent[] = [];
        let recovered: boolean | undefined;
        if (joiner.since !== undefined) {
          const epoch = joiner.epoch ?? history.epoch;
          // Offsets of another epoch mean nothing here: everything retained is news to this client.
          const after = epoch === history.epoch ? joiner.since : 0;
          const read = history.read({ channel: event.channel, after, before: record.offset, limit: recoveryLimit });
          replay = read.events;
          recovered = isRecovered(joiner.since, epoch, history.epoch, read.first, record.offset - 1, replay.length);
        } else if (historyOnJoin > 0) {
          replay = history.read({ channel: event.channel, before: record.offset, limit: historyOnJoin }).events;
        }
        for (const past of replay) send(joiner.id, asHistory(past.data));
        send(joiner.id, withFields(record.data, { epoch: history.epoch, recovered }));
      }
      for (const id of event.to) if (id !== joiner?.id) send(id, record.data);
    };

    const answerPage = (event: Page, ceiling: number | undefined): void => {
      // Events of this batch not yet delivered are live news, not history: the page ends before them.
      const before = ceiling === undefined ? event.before : Math.min(event.before ?? ceiling, ceiling);
      const read: ReadResult = history.read({ channel: event.channel, before, limit: event.limit });
      send(event.to, pageFrame(event.channel, read, event.requestId));
    };

    /** Stores the turn's channel events in one batch, then delivers everything in the order it came. */
    const flush = (mode?: 'at once'): void => {
      scheduled = false;
      const startedAt = performance.now();
      if (mode !== 'at once' && presencePending) {
        const wait = presenceWait(startedAt, announcedAt, announceCost, presence.nicks.size);
        if (wait > 0) {
          scheduled = true;
          setTimeout(flush, wait);
          return;
        }
      }
      // Busy: a commit just happened. Waiting a turn or two gathers more events into the next one,
      // which is what makes a store's per-commit cost small per event; idle, a batch goes at once.
      const sinceCommit = startedAt - committedAt;
      if (mode !== 'at once' && sinceCommit < GROUP_COMMIT_MS && postponed < GROUP_COMMIT_TURNS && pending.length < GROUP_COMMIT_EVENTS) {
        postponed += 1;
        scheduled = true;
        setImmediate(flush);
        return;
      }
      postponed = 0;
      const batch = pending;
      const announcing = presencePending;
      pending = [];
      presencePending = false;
      const publishes = batch.filter((event): event is Publish => event.type === 'outbox.publish');
      let stored: StoredEvent[] | undefined = [];
      if (publishes.length > 0) {
        try {
          stored = history.append(publishes.map(({ channel, head }) => ({ channel, head })), now());
          committedAt = performance.now();
        } catch (error) {
          // Nothing of the batch was stored, so none of it is delivered: the senders hear why.
          onError?.(error);
          stored = undefined;
        }
      }
      let next = 0;
      for (let i = 0; i < batch.length; i += 1) {
        const event = batch[i]!;
        try {
          if (event.type === 'outbox.presence') {
            // A run of logins and logouts (a storm) is announced at once: see `announce`.
            const end = presenceRunEnd(batch, i);
            announce(batch.slice(i, end) as PresenceRunEvent[], presence, connections);
            i = end - 1;
          } else if (event.type === 'outbox.publish') {
            const record = stored?.[next++];
            if (record) deliverPublish(event, record);
            else if (event.from !== undefined) send(event.from, unavailable(event.requestId));
          } else if (event.type === 'outbox.page') {
            answerPage(event, firstOffsetAfter(batch, i, event.channel, stored));
          } else apply(event);
        } catch (error) {
          onError?.(error);
          const to = event.type === 'outbox.page' ? event.to : event.type === 'outbox.publish' ? event.from : undefined;
          const requestId = event.type === 'outbox.page' || event.type === 'outbox.publish' ? event.requestId : undefined;
          if (to !== undefined) send(to, unavailable(requestId));
        }
      }
      afterFlush?.();
      if (announcing) {
        announcedAt = performance.now();
        announceCost = announcedAt - startedAt;
      }
    };

    receive((event) => {
      // Nothing waiting and nothing to store: straight out, as fast as before there was a store.
      // Logins and logouts wait for the end of the turn too, to be announced together.
      if (pending.length === 0 && event.type !== 'outbox.publish' && event.type !== 'outbox.page' && event.type !== 'outbox.presence') {
        apply(event);
        return;
      }
      pending.push(event);
      if (event.type === 'outbox.presence') presencePending = true;
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    });

    // Stopping (the server shutting down) stores and sends what is waiting, before the store is closed.
    return () => {
      if (pending.length > 0) flush('at once');
    };
  });
}

/**
 * What every outbox does alike with its connections: one frame to one
 * client, a close, a socket attached or detached. Other events are not its.
 */
export function applyToConnections(event: OutboxEvent, connections: Map<string, Connection>): void {
  switch (event.type) {
    case 'socket.send':
      connections.get(event.to)?.send(event.data);
      break;
    case 'socket.close':
      connections.get(event.to)?.close(event.code, event.reason);
      break;
    case 'outbox.attach':
      connections.set(event.id, event.connection);
      break;
    case 'outbox.detach':
      connections.delete(event.id);
      break;
    default:
      break;
  }
}

/**
 * Who is logged in, in login order, as the outbox learns it from logins and
 * logouts: where they are announced, and what a user list says. The list's
 * JSON is kept between changes, since every login is sent it: as the list
 * when it was last {@link seal sealed}, and the nicks logged in since, each
 * with the comma before it.
 */
export class LoggedIn {
  readonly nicks = new Map<string, string>();
  private sealed: string | undefined = '';
  private since = '';
  /** The start of a list frame up to the sealed part, made once per seal and shared by every {@link listParts}. */
  private head: string | undefined;

  apply(event: Presence): void {
    if (event.kind === 'login') {
      this.nicks.set(event.id, event.user);
      if (this.sealed !== undefined) this.since += `${this.sealed === '' && this.since === '' ? '' : ','}${JSON.stringify(event.user)}`;
    } else {
      this.forget(event.id);
    }
  }

  /** Forgets a connection that went away without a logout (a cluster's safety net). */
  forget(id: string): void {
    if (!this.nicks.delete(id)) return;
    this.sealed = undefined;
    this.since = '';
    this.head = undefined;
  }

  /** Makes the list as it stands the part later {@link listParts} share. */
  seal(): void {
    this.sealed = this.json();
    this.since = '';
    this.head = undefined;
  }

  /** A type 6 frame listing everyone, as `usersFrame` would encode it. */
  listFrame(requestId?: RequestId): string {
    return `{"type":6,"users":[${this.json()}]${idField(requestId)}}`;
  }

  /** The same frame as {@link listFrame}, in two parts: the first the same string for every call until the next seal or logout. */
  listParts(requestId?: RequestId): [head: string, tail: string] {
    if (this.sealed === undefined) this.seal();
    this.head ??= `{"type":6,"users":[${this.sealed}`;
    return [this.head, `${this.since}]${idField(requestId)}}`];
  }

  private json(): string {
    this.sealed ??= Array.from(this.nicks.values(), (nick) => JSON.stringify(nick)).join(',');
    return this.since === '' ? this.sealed : this.sealed + this.since;
  }
}

function idField(requestId: RequestId | undefined): string {
  return requestId === undefined ? '' : `,"id":${JSON.stringify(requestId)}`;
}

/**
 * Announces a run of logins and logouts, each to everyone logged in right
 * after it (a login's own user included, a logout's not). Everyone logged in
 * throughout the run hears all of it: that is nearly everyone in a storm, so
 * they are handed one array of the run's frames, which a connection can
 * encode once for all of them, rather than one write per frame per user.
 * Those whose state the run changes hear their part frame by frame.
 */
export function announce(run: readonly PresenceRunEvent[], presence: LoggedIn, connections: ReadonlyMap<string, Connection>): void {
  const send = (id: string, data: string) => connections.get(id)?.send(data);
  if (run.length === 1) {
    const event = run[0]!;
    if (event.type === 'outbox.list') {
      send(event.to, presence.listFrame(event.requestId));
      return;
    }
    presence.apply(event);
    for (const id of presence.nicks.keys()) send(id, id === event.id && event.tokenFrame !== undefined ? event.tokenFrame : event.data);
    return;
  }
  const changing = new Set<string>();
  for (const event of run) if (event.type === 'outbox.presence') changing.add(event.id);
  const frames: string[] = [];
  // Each newcomer's user list is the list before the run plus the run's logins so far: the long part is shared.
  presence.seal();
  for (const event of run) {
    if (event.type === 'outbox.list') {
      // The user list each newcomer is sent after its login: as things stand at this point of the run.
      const connection = connections.get(event.to);
      if (connection?.sendSplit) connection.sendSplit(...presence.listParts(event.requestId));
      else connection?.send(presence.listFrame(event.requestId));
      continue;
    }
    presence.apply(event);
    frames.push(event.data);
    for (const id of changing) {
      if (presence.nicks.has(id)) send(id, id === event.id && event.tokenFrame !== undefined ? event.tokenFrame : event.data);
    }
  }
  for (const id of presence.nicks.keys()) {
    if (changing.has(id)) continue;
    const connection = connections.get(id);
    if (!connection) continue;
    if (connection.sendMany) connection.sendMany(frames);
    else for (const data of frames) connection.send(data);
  }
}

/** What a run of logins can hold: the logins and logouts, and the user lists sent to the users they concern. */
type PresenceRunEvent = Presence | Extract<OutboxEvent, { type: 'outbox.list' }>;

/**
 * Where the run of logins and logouts starting at `start` ends. A login is
 * followed by its user's user list: that belongs to the run too, since only
 * that user gets it (and it gets its frames one by one, in order); anything
 * else ends the run, so nobody's frames change order.
 */
function presenceRunEnd(batch: readonly OutboxEvent[], start: number): number {
  const concerned = new Set<string>();
  let end = start;
  for (;;) {
    const event = batch[end];
    if (event?.type === 'outbox.presence') concerned.add(event.id);
    else if (!(event?.type === 'outbox.list' && event.channel === undefined && concerned.has(event.to))) return end;
    end += 1;
  }
}

/** The offset of the first event of `channel` published after position `index` of the batch, if any. */
function firstOffsetAfter(batch: readonly OutboxEvent[], index: number, channel: string, stored: readonly StoredEvent[] | undefined): number | undefined {
  if (!stored) return undefined;
  let seen = 0;
  for (let i = 0; i < batch.length; i += 1) {
    const event = batch[i]!;
    if (event.type !== 'outbox.publish') continue;
    if (i > index && event.channel === channel) return stored[seen]?.offset;
    seen += 1;
  }
  return undefined;
}

/** An outbox with offsets (each actor its own) but no retention: for machine tests, and machines run without a store. */
export const outboxLogic = createOutbox(() => ({ history: ephemeralHistory(), historyOnJoin: 0, recoveryLimit: 0 }));
