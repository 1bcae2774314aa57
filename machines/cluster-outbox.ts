/**
 * @module cluster-outbox: the outbox of one node of a cluster.
 *
 * It takes the place of the single-node outbox (see `outbox.ts`) and speaks
 * the same events, so no other machine knows how many nodes there are. The
 * difference is where order comes from: channel events go to the cluster's
 * sequencer ({@link ClusterBus}) and are delivered only when they come back
 * numbered, in offset order, to the members on this node. Who those are is
 * decided by the numbered joins and leaves themselves, applied in that same
 * order, so a member on any node hears exactly the events between its join
 * and its leave. A gap in the offsets (a message lost while the cluster was
 * away) is filled from the kept stream before anything after it goes out.
 *
 * Redis work per channel event is one sequencing call, whatever the number of
 * members or nodes; the per-member work stays on each node.
 */
import { fromCallback } from 'xstate';
import type { ClusterBus, EventKind, SequencedEvent, SequenceRequest } from './cluster.js';
import { encode, errorFrame, usersFrame, type RequestId } from './frames.js';
import { asHistory, pageFrame, isRecovered, withFields } from './history.js';
import { announce, applyToConnections, LoggedIn, type Joiner, type OutboxEvent, type Publish } from './outbox.js';
import type { Connection } from './socket.js';

export interface ClusterOutboxSettings {
  bus: ClusterBus;
  /** Events a joiner hears from before its join; 0 for none. */
  historyOnJoin: number;
  /** The most events a recovering joiner is sent. */
  recoveryLimit: number;
  /** Told when the cluster could not take or hand back something: the affected requests were answered `unavailable`. */
  onError?: (error: unknown) => void;
}

/** What the cluster outbox tells the server actor. */
export type ClusterOutboxEvent =
  | { type: 'cluster.takenOver'; id: string }
  /** A join the cluster could not take: the member is not in the channel after all. */
  | { type: 'cluster.joinFailed'; id: string; channel: string };

/** The most events one gap-filling read asks for; a longer gap takes several reads. */
const FILL_BATCH = 1_000;

const NOT_TAKEN = 'The chat cluster could not take this, so it was not sent. Try again shortly.';

/** One channel with members (or joins on their way) on this node. */
interface ChannelState {
  name: string;
  /** Members on this node who receive the channel's events, by connection id, in join order, with their nicks. */
  roster: Map<string, string>;
  /** The offset of the last event applied; undefined until the first one arrives after subscribing. */
  last: number | undefined;
  /** Events that arrived after a gap, waiting for the gap to be filled. */
  early: SequencedEvent[];
  filling: boolean;
  subscribed: boolean;
  /** Requests waiting for the subscription, in the order they came. */
  queued: { request: SequenceRequest; from: string | undefined; requestId?: RequestId }[];
  /** Requests sent and not yet answered. */
  inflight: number;
  /** The highest offset the sequencer gave one of this node's requests. */
  highestOwn: number;
  /** Joins on their way: what each joiner saw before, for its recovery. */
  joiners: Map<string, Joiner>;
  /** Joiners reading their past: frames for them wait here, in order, until it is sent. */
  catching: Map<string, string[]>;
}

export function createClusterOutbox(settings: ClusterOutboxSettings | (() => ClusterOutboxSettings)) {
  return fromCallback<OutboxEvent>(({ receive, sendBack }) => {
    const { bus, historyOnJoin, recoveryLimit, onError } = typeof settings === 'function' ? settings() : settings;
    const connections = new Map<string, Connection>();
    /** Who is logged in on this node: where other nodes' logins and logouts are delivered. */
    const presence = new LoggedIn();
    const channels = new Map<string, ChannelState>();
    /** Leaves the cluster could not take: sent again when it is back, so the other nodes hear them. */
    let failedLeaves: SequenceRequest[] = [];
    let stopped = false;
    /** The epoch offsets were last seen in. */
    let epoch = bus.epoch;

    const send = (id: string, data: string) => connections.get(id)?.send(data);
    const fail = (error: unknown) => onError?.(error);

    const deliver = (state: ChannelState, data: string, except?: string) => {
      for (const id of state.roster.keys()) {
        if (id === except) continue;
        const waiting = state.catching.get(id);
        if (waiting) waiting.push(data);
        else send(id, data);
      }
    };

    const channelState = (name: string): ChannelState => {
      let state = channels.get(name);
      if (state) return state;
      const created: ChannelState = {
        name,
        roster: new Map(),
        last: undefined,
        early: [],
        filling: false,
        subscribed: false,
        queued: [],
        inflight: 0,
        highestOwn: 0,
        joiners: new Map(),
        catching: new Map(),
      };
      state = created;
      channels.set(name, created);
      bus.subscribe(name).then(
        () => {
          created.subscribed = true;
          const queued = created.queued;
          created.queued = [];
          for (const { request, from, requestId } of queued) sequence(created, request, from, requestId);
        },
        (error: unknown) => {
          fail(error);
          const queued = created.queued;
          created.queued = [];
          for (const { request, from, requestId } of queued) refused(created, request, from, requestId);
          forgetIfIdle(created);
        },
      );
      return created;
    };

    /** A channel with nobody here and nothing on its way is unsubscribed, so this node hears no more of it. */
    const forgetIfIdle = (state: ChannelState) => {
      if (state.roster.size > 0 || state.inflight > 0 || state.queued.length > 0 || state.catching.size > 0) return;
      if (state.subscribed && (state.last ?? 0) < state.highestOwn) return;
      if (channels.get(state.name) !== state) return;
      channels.delete(state.name);
      if (state.subscribed) bus.unsubscribe(state.name);
    };

    const sequence = (state: ChannelState, request: SequenceRequest, from: string | undefined, requestId?: RequestId) => {
      state.inflight += 1;
      bus.sequence(request).then(
        (offset) => {
          state.inflight -= 1;
          state.highestOwn = Math.max(state.highestOwn, offset);
          forgetIfIdle(state);
        },
        (error: unknown) => {
          state.inflight -= 1;
          fail(error);
          refused(state, request, from, requestId);
          forgetIfIdle(state);
        },
      );
    };

    /** The cluster did not take a request: nobody anywhere heard it, so only this node's side is put right. */
    const refused = (state: ChannelState, request: SequenceRequest, from: string | undefined, requestId?: RequestId) => {
      if (from !== undefined) send(from, encode(errorFrame('unavailable', requestId, NOT_TAKEN)));
      if (request.kind === 'join') {
        state.joiners.delete(request.member);
        sendBack({ type: 'cluster.joinFailed', id: request.member, channel: state.name } satisfies ClusterOutboxEvent);
      } else if (request.kind === 'leave') {
        // The member is out as far as this node is concerned; the others hear of it once the cluster is back.
        if (!request.disconnected && state.roster.has(request.member)) send(request.member, `${request.head}}`);
        state.roster.delete(request.member);
        failedLeaves.push(request);
      }
    };

    const publish = (event: Publish) => {
      const kind: EventKind = event.joiner ? 'join' : event.leaver ? 'leave' : 'say';
      const member = event.joiner?.id ?? event.leaver?.id ?? event.from ?? '';
      const state = channelState(event.channel);
      if (event.joiner) state.joiners.set(member, event.joiner);
      const request: SequenceRequest = {
        channel: event.channel,
        head: event.head,
        kind,
        member,
        disconnected: event.leaver?.disconnected ?? false,
      };
      if (state.subscribed) sequence(state, request, event.from, event.requestId);
      else state.queued.push({ request, from: event.from, ...(event.requestId === undefined ? {} : { requestId: event.requestId }) });
    };

    /** Sends a local joiner its past, then its own join, then whatever came for it meanwhile. */
    const catchUp = (state: ChannelState, event: SequencedEvent) => {
      const id = event.member;
      const joiner = state.joiners.get(id);
      state.joiners.delete(id);
      const since = joiner?.since;
      const epoch = since === undefined ? undefined : (joiner?.epoch ?? bus.epoch);
      const finish = (past: SequencedEvent[], recovered: boolean | undefined) => {
        const waiting = state.catching.get(id) ?? [];
        state.catching.delete(id);
        for (const old of past) send(id, asHistory(old.data));
        send(id, withFields(event.data, { epoch: bus.epoch, recovered }));
        for (const data of waiting) send(id, data);
        forgetIfIdle(state);
      };
      if (since === undefined && historyOnJoin === 0) {
        finish([], undefined);
        return;
      }
      state.catching.set(id, []);
      const sameEpoch = epoch === bus.epoch;
      const query =
        since === undefined
          ? { channel: state.name, before: event.offset, limit: historyOnJoin }
          : { channel: state.name, after: sameEpoch ? since : 0, before: event.offset, limit: recoveryLimit };
      bus.read(query).then(
        (read) => {
          const recovered = since === undefined ? undefined : isRecovered(since, epoch!, bus.epoch, read.first, event.offset - 1, read.events.length);
          finish(read.events, recovered);
        },
        (error: unknown) => {
          fail(error);
          finish([], since === undefined ? undefined : false);
        },
      );
    };

    /** Applies one numbered event, the next in its channel's order. */
    const apply = (state: ChannelState, event: SequencedEvent) => {
      state.last = event.offset;
      const local = event.node === bus.node;
      if (event.kind === 'join') {
        if (local && !state.roster.has(event.member)) {
          deliver(state, event.data, event.member);
          state.roster.set(event.member, (JSON.parse(event.data) as { user: string }).user);
          catchUp(state, event);
        } else deliver(state, event.data);
      } else if (event.kind === 'leave') {
        // Connection ids are per node: only a member of this node can be the one who does not hear it.
        deliver(state, event.data, event.disconnected && local ? event.member : undefined);
        if (local) state.roster.delete(event.member);
      } else deliver(state, event.data);
    };

    /** Applies events in offset order; a gap is filled from the kept stream first. */
    const arrive = (event: SequencedEvent) => {
      const state = channels.get(event.channel);
      if (!state) return;
      if (state.last === undefined) state.last = event.offset - 1;
      if (event.offset <= state.last) return;
      if (state.filling || event.offset > state.last + 1) {
        state.early.push(event);
        fill(state);
        return;
      }
      apply(state, event);
      forgetIfIdle(state);
    };

    /** Reads what this node missed of a channel, applies it, then the events that came early. */
    const fill = (state: ChannelState) => {
      if (state.filling || state.last === undefined) return;
      state.filling = true;
      const after = state.last;
      bus.read({ channel: state.name, after, limit: FILL_BATCH }).then(
        (read) => {
          state.filling = false;
          if (stopped) return;
          // The kept stream is the truth: an offset missing from it was pruned, and is skipped rather than waited for.
          for (const event of read.events) if (event.offset > (state.last ?? 0)) apply(state, event);
          const more = read.events.length === FILL_BATCH;
          const early = state.early.sort((a, b) => a.offset - b.offset);
          state.early = [];
          for (const event of early) {
            if (event.offset <= (state.last ?? 0)) continue;
            if (more) state.early.push(event);
            else apply(state, event);
          }
          if (more) fill(state);
          else forgetIfIdle(state);
        },
        (error: unknown) => {
          // The cluster is away; `resumed` starts filling again.
          state.filling = false;
          fail(error);
        },
      );
    };

    const list = (event: Extract<OutboxEvent, { type: 'outbox.list' }>) => {
      const asked = event.channel === undefined ? bus.users() : bus.members(event.channel);
      asked.then(
        (users) => send(event.to, encode(usersFrame(users, event.channel, event.requestId))),
        (error: unknown) => {
          fail(error);
          send(event.to, encode(errorFrame('unavailable', event.requestId)));
        },
      );
    };

    const page = (event: Extract<OutboxEvent, { type: 'outbox.page' }>) => {
      // Events this node has not delivered yet are live news, not history: the page ends before them.
      const state = channels.get(event.channel);
      const ceiling = state?.last === undefined ? undefined : state.last + 1;
      const before = ceiling === undefined ? event.before : Math.min(event.before ?? ceiling, ceiling);
      bus.read({ channel: event.channel, ...(before === undefined ? {} : { before }), limit: event.limit }).then(
        (read) => {
          send(event.to, pageFrame(event.channel, read, event.requestId));
        },
        (error: unknown) => {
          fail(error);
          send(event.to, encode(errorFrame('unavailable', event.requestId)));
        },
      );
    };

    const stopListening = bus.listen({
      event: arrive,
      presence(notice) {
        // This node's own logins went out at once (see 'outbox.presence'); its logouts come back like anyone's.
        if (notice.node === bus.node && notice.kind === 'login') return;
        const data = encode(notice.kind === 'login' ? { type: 2, user: notice.user } : { type: 3, user: notice.user });
        for (const id of presence.nicks.keys()) send(id, data);
      },
      takenOver(id) {
        sendBack({ type: 'cluster.takenOver', id } satisfies ClusterOutboxEvent);
      },
      resumed() {
        if (bus.epoch !== epoch) {
          // The cluster lost its data (a Redis restarted empty): offsets start again from 1, in a new epoch.
          epoch = bus.epoch;
          for (const state of channels.values()) {
            state.last = undefined;
            state.early = [];
            const members = Array.from(state.roster, ([id, user]) => ({ id, user }));
            if (members.length > 0) bus.restoreMembers(state.name, members).catch(fail);
          }
        }
        const leaves = failedLeaves;
        failedLeaves = [];
        for (const request of leaves) {
          bus.sequence(request).catch((error: unknown) => {
            fail(error);
            failedLeaves.push(request);
          });
        }
        for (const state of channels.values()) if (state.subscribed) fill(state);
      },
    });

    receive((event) => {
      switch (event.type) {
        case 'outbox.publish':
          publish(event);
          break;
        case 'outbox.deliver':
          for (const id of event.to) send(id, event.data);
          break;
        case 'outbox.presence': {
          const notice = { kind: event.kind, id: event.id, user: event.user };
          if (event.kind === 'login') {
            // At once: the new user's own login frame must come before the user list it is about to be sent.
            announce([event], presence, connections);
            bus.announce(notice).catch(fail);
            break;
          }
          // A logout is delivered here when it comes back from the cluster, like anyone's: after the
          // leaves this node published before it, which come back first.
          presence.apply(event);
          bus.announce(notice).catch((error: unknown) => {
            fail(error);
            for (const id of presence.nicks.keys()) send(id, event.data);
          });
          break;
        }
        case 'outbox.list':
          list(event);
          break;
        case 'outbox.page':
          page(event);
          break;
        case 'outbox.detach':
          applyToConnections(event, connections);
          presence.forget(event.id);
          bus.forget(event.id);
          break;
        default:
          applyToConnections(event, connections);
      }
    });

    return () => {
      stopped = true;
      stopListening();
    };
  });
}
