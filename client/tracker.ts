/**
 * @module tracker: what the client has asked for and what it has seen, as
 * pure functions the connection machine calls (so the machine's context is
 * plain data an inspector can show, and this logic is testable alone).
 *
 * It keeps the application's requests in the order made, each until the
 * server answers it, and per channel the newest offset delivered and the
 * store's epoch. From those it knows what to send when the connection comes
 * back (rejoins with `since`, then what was waiting), what to drop as a
 * duplicate, and which request a frame answers: errors, lists, pages and
 * registrations by `id`; joins and leaves by the channel of the client's own
 * join or leave frame; messages by the client's own echo (the server does not
 * echo ids on broadcasts).
 */
import type { ClientErrorCode } from './errors.js';
import { toChannelEvent, type ChannelEvent, type JoinEvent } from './events.js';
import { channelOf, isChannelEvent, type ChannelEventFrame, type JoinFrame, type IncomingFrame, type OutgoingFrame, type RequestId } from './frames.js';
import { canonicalChannel, nickKey } from '../machines/names.js';

export interface Request {
  id: RequestId;
  frame: OutgoingFrame;
  /** The canonical channel a join, leave or message is for (the name as given when the server's rule refuses it). */
  channel?: string;
  /** On the current connection. */
  sent: boolean;
  /** A message sent on a connection that dropped before its echo came: a recovery may show it arrived. */
  unanswered?: boolean;
}

export interface ChannelState {
  /** `joining`: asked for, not yet confirmed; `rejoining`: joined before, asked for again after a reconnect. */
  status: 'joining' | 'joined' | 'rejoining';
  /** The newest offset delivered; 0 before any. */
  offset: number;
  epoch?: string;
  /** History frames, held until the own join frame says what they are. */
  past: ChannelEventFrame[];
  /** The application's join request this channel's next join frame answers, if one is waiting. */
  joinId?: RequestId;
  /** The id of a rejoin the client sent by itself. */
  rejoinId?: RequestId;
  /** That rejoin was refused `rate_limited`, so nothing was done: it is to be sent again shortly. */
  throttled?: boolean;
}

export interface Tracker {
  nick: string;
  channels: Record<string, ChannelState>;
  requests: Request[];
  /** For the client's own requests (rejoins): string ids, so they never meet the application's numbers. */
  nextInternalId: number;
}

/** What the application hears, besides its answers. */
export type Notice =
  | ChannelEvent
  | { type: 'login' | 'logout'; user: string }
  | { type: 'recovered'; channel: string; count: number }
  | { type: 'gap'; channel: string; count: number; reason: 'epoch' | 'incomplete' }
  | { type: 'error'; code: string; message: string; channel?: string };

/** A request answered: `value` for the promise, or the code it is rejected with. */
export type Settlement =
  | { type: 'settled'; id: RequestId; value: unknown }
  | { type: 'failed'; id: RequestId; code: string; message: string };

export interface Step {
  tracker: Tracker;
  /** Notices and settlements, in the order they happened. */
  emits: (Notice | Settlement)[];
  /** Frames to send now, in order. */
  out: OutgoingFrame[];
  /** A password the server accepted for this nick (a registration or a change): to sign in with until a token comes. */
  password?: string;
  /** Something the client sent by itself was refused `rate_limited`: call {@link retryThrottled} after a pause. */
  retry?: boolean;
}

export function createTracker(nick: string): Tracker {
  return { nick, channels: {}, requests: [], nextInternalId: 1 };
}

/** The channel a request is about, canonical when the name is valid. */
function requestChannel(frame: OutgoingFrame): string | undefined {
  const name = frame.type === 0 ? frame.dest : frame.type === 4 || frame.type === 5 || frame.type === 8 ? frame.channel : undefined;
  return name === undefined ? undefined : (canonicalChannel(name) ?? name);
}

function joinFrame(channel: string, state: ChannelState, id: RequestId): OutgoingFrame {
  return {
    type: 4,
    channel,
    id,
    ...(state.offset > 0 ? { since: state.offset, ...(state.epoch === undefined ? {} : { epoch: state.epoch }) } : {}),
  };
}

/**
 * A message, page or leave for a channel whose join is not confirmed yet
 * waits: the server confirms a join after the channel has taken it, so sent
 * now it would be refused `not_member`.
 */
function isHeld(tracker: Tracker, request: Request): boolean {
  const type = request.frame.type;
  if ((type !== 0 && type !== 5 && type !== 8) || request.channel === undefined) return false;
  const status = tracker.channels[request.channel]?.status;
  return status === 'joining' || status === 'rejoining';
}

/** Sends every request not yet sent that may go now, in order. Joins go through their channel, not from here. */
function flush(tracker: Tracker, out: OutgoingFrame[]): Tracker {
  const requests = tracker.requests.map((request) => {
    if (request.sent || request.frame.type === 4 || isHeld(tracker, request)) return request;
    out.push(request.frame);
    return { ...request, sent: true };
  });
  return { ...tracker, requests };
}

/** The application asks for something; `online` says whether it can go now. */
export function addRequest(tracker: Tracker, frame: OutgoingFrame & { id: RequestId }, online: boolean): Step {
  const channel = requestChannel(frame);
  const request: Request = { id: frame.id, frame, sent: false, ...(channel === undefined ? {} : { channel }) };
  const out: OutgoingFrame[] = [];
  const emits: Step['emits'] = [];
  let next: Tracker = { ...tracker, requests: [...tracker.requests, request] };
  if (frame.type === 4 && channel !== undefined) {
    if (next.channels[channel]) {
      // Joined already, or on the way: the server would answer already_member, and the channel would be none the wiser.
      next = { ...next, requests: tracker.requests };
      emits.push({ type: 'failed', id: frame.id, code: 'already_member', message: 'You are already a member of that channel.' });
      return { tracker: next, emits, out };
    }
    const state: ChannelState = { status: 'joining', offset: 0, past: [], joinId: frame.id };
    next = { ...next, channels: { ...next.channels, [channel]: state } };
    if (online) {
      out.push(joinFrame(channel, state, frame.id));
      next = { ...next, requests: next.requests.map((r) => (r === request ? { ...r, sent: true } : r)) };
    }
    return { tracker: next, emits, out };
  }
  if (frame.type === 5 && channel !== undefined && !online && next.channels[channel]) {
    // Offline, the server has already let go of this connection's channels: leaving is only forgetting.
    const { [channel]: left, ...channels } = next.channels;
    next = { ...next, channels, requests: next.requests.filter((r) => r !== request) };
    emits.push({ type: 'settled', id: frame.id, value: undefined });
    if (left?.joinId !== undefined) {
      next = { ...next, requests: next.requests.filter((r) => r.id !== left.joinId) };
      emits.push({ type: 'failed', id: left.joinId, code: 'connection_lost', message: 'The channel was left before its join was confirmed.' });
    }
    return { tracker: next, emits, out };
  }
  if (online) next = flush(next, out);
  return { tracker: next, emits, out };
}

/** Logged in on a new connection: rejoin every channel after the last offset seen, then send what was waiting. */
export function onOnline(tracker: Tracker, nick: string): Step {
  const out: OutgoingFrame[] = [];
  const channels: Record<string, ChannelState> = {};
  let nextInternalId = tracker.nextInternalId;
  let requests = tracker.requests;
  for (const [name, state] of Object.entries(tracker.channels)) {
    const rejoining = state.status !== 'joining';
    const id = state.joinId ?? `rejoin-${nextInternalId++}`;
    const { throttled: _throttled, ...kept } = state;
    const next: ChannelState = { ...kept, status: rejoining ? 'rejoining' : 'joining', past: [] };
    if (state.joinId === undefined) next.rejoinId = id;
    channels[name] = next;
    out.push(joinFrame(name, next, id));
  }
  requests = requests.map((request) => (request.frame.type === 4 ? { ...request, sent: true } : request));
  const next = flush({ ...tracker, nick, channels, requests, nextInternalId }, out);
  return { tracker: next, emits: [], out };
}

/**
 * The connection dropped. Reads are asked again on the next one; a message
 * sent but not echoed waits for the recovery to say whether it arrived; a
 * leave is done (the server lets go of a dropped connection's channels); a
 * registration cannot safely be repeated, so it fails.
 */
export function onDropped(tracker: Tracker): Step {
  const emits: Step['emits'] = [];
  const channels: Record<string, ChannelState> = {};
  const left = new Set<string>();
  const requests: Request[] = [];
  for (const request of tracker.requests) {
    if (!request.sent) {
      requests.push(request);
      continue;
    }
    switch (request.frame.type) {
      case 5:
        if (request.channel !== undefined) left.add(request.channel);
        emits.push({ type: 'settled', id: request.id, value: undefined });
        break;
      case 1:
        emits.push(failure(request.id, 'connection_lost', 'The connection dropped before the server answered; the nick may or may not be registered.'));
        break;
      case 0:
        requests.push({ ...request, sent: false, unanswered: true });
        break;
      default:
        requests.push({ ...request, sent: false });
    }
  }
  for (const [name, state] of Object.entries(tracker.channels)) {
    if (left.has(name)) continue;
    const { rejoinId: _rejoin, ...kept } = state;
    channels[name] = { ...kept, past: [] };
  }
  return { tracker: { ...tracker, channels, requests }, emits, out: [] };
}

/** Sends again the rejoins the server refused `rate_limited`. */
export function retryThrottled(tracker: Tracker): Step {
  const out: OutgoingFrame[] = [];
  const channels: Record<string, ChannelState> = {};
  for (const [name, state] of Object.entries(tracker.channels)) {
    if (!state.throttled || state.rejoinId === undefined) {
      channels[name] = state;
      continue;
    }
    const { throttled: _throttled, ...kept } = state;
    channels[name] = kept;
    out.push(joinFrame(name, kept, state.rejoinId));
  }
  return { tracker: { ...tracker, channels }, emits: [], out };
}

/** Stopped for good: every request still waiting fails with the reason. */
export function onStopped(tracker: Tracker, code: ClientErrorCode | string, message: string): Step {
  const emits = tracker.requests.map((request) => failure(request.id, code, message));
  return { tracker: { ...tracker, requests: [], channels: {} }, emits, out: [] };
}

function failure(id: RequestId, code: string, message: string): Settlement {
  return { type: 'failed', id, code, message };
}

/** One frame from the server while logged in. */
export function onFrame(tracker: Tracker, frame: IncomingFrame): Step {
  const emits: Step['emits'] = [];
  const out: OutgoingFrame[] = [];
  const own = (user: string) => nickKey(user) === nickKey(tracker.nick);
  const take = (id: RequestId | undefined): Request | undefined => {
    if (id === undefined) return undefined;
    const request = tracker.requests.find((r) => r.id === id);
    if (request) tracker = { ...tracker, requests: tracker.requests.filter((r) => r !== request) };
    return request;
  };
  const setChannel = (name: string, state: ChannelState | undefined) => {
    const { [name]: _old, ...rest } = tracker.channels;
    tracker = { ...tracker, channels: state ? { ...rest, [name]: state } : rest };
  };
  /** The oldest message of ours to `channel` with this text that is waiting for its echo. */
  const takeMessage = (channel: string, text: string, unanswered: boolean): Request | undefined => {
    const request = tracker.requests.find(
      (r) => r.frame.type === 0 && r.channel === channel && r.frame.message === text && (unanswered ? r.unanswered === true : r.sent),
    );
    if (request) tracker = { ...tracker, requests: tracker.requests.filter((r) => r !== request) };
    return request;
  };

  if (isChannelEvent(frame)) {
    const channel = channelOf(frame);
    const state = tracker.channels[channel];
    if (!state) return { tracker, emits, out };
    if (frame.history === true) {
      if (state.status !== 'joined') setChannel(channel, { ...state, past: [...state.past, frame] });
      return { tracker, emits, out };
    }
    if (frame.type === 4 && own(frame.user) && state.status !== 'joined') {
      ownJoin(channel, state, frame);
      tracker = flush(tracker, out);
      return { tracker, emits, out };
    }
    // Delivered already (live, recovered or as history): offsets are dense, so anything not above the newest is old.
    if (frame.offset <= state.offset) return { tracker, emits, out };
    setChannel(channel, { ...state, offset: frame.offset });
    const event = toChannelEvent(frame, 'live', own(frame.user));
    if (frame.type === 0 && event.own) {
      const sent = takeMessage(channel, frame.message, false);
      if (sent) emits.push({ type: 'settled', id: sent.id, value: event });
    }
    emits.push(event);
    if (frame.type === 5 && event.own) {
      setChannel(channel, undefined);
      const leave = tracker.requests.find((r) => r.frame.type === 5 && r.channel === channel && r.sent);
      if (leave) {
        take(leave.id);
        emits.push({ type: 'settled', id: leave.id, value: undefined });
      }
    }
    return { tracker, emits, out };
  }

  switch (frame.type) {
    case -1: {
      const request = take(frame.id);
      if (request) {
        if (request.frame.type === 4 && request.channel !== undefined && tracker.channels[request.channel]?.joinId === request.id) {
          setChannel(request.channel, undefined);
        }
        emits.push(failure(request.id, frame.code, frame.message));
        break;
      }
      const rejoined = Object.entries(tracker.channels).find(([, state]) => state.rejoinId !== undefined && state.rejoinId === frame.id);
      if (rejoined && frame.code === 'rate_limited') {
        // A server's rate limit counts the rejoins of a client in many channels too: nothing was done, so ask again.
        setChannel(rejoined[0], { ...rejoined[1], throttled: true });
        return { tracker, emits, out, retry: true };
      }
      if (rejoined) {
        setChannel(rejoined[0], undefined);
        // Messages waiting for that channel cannot go now.
        for (const r of tracker.requests.filter((r) => r.frame.type === 0 && r.channel === rejoined[0])) {
          take(r.id);
          emits.push(failure(r.id, frame.code, `Could not rejoin ${rejoined[0]}: ${frame.message}`));
        }
        emits.push({ type: 'error', code: frame.code, message: frame.message, channel: rejoined[0] });
        tracker = flush(tracker, out);
        break;
      }
      if (frame.id === undefined && frame.code === 'unavailable') {
        // A message the store could not keep is answered without its id (the outbox no longer has it); the oldest waiting is the one.
        const message = tracker.requests.find((r) => r.frame.type === 0 && r.sent);
        if (message) {
          take(message.id);
          emits.push(failure(message.id, frame.code, frame.message));
          break;
        }
      }
      emits.push({ type: 'error', code: frame.code, message: frame.message });
      break;
    }
    case 1: {
      const request = take(frame.id);
      if (request && request.frame.type === 1) {
        emits.push({ type: 'settled', id: request.id, value: frame.changed === true ? { changed: true } : {} });
        return { tracker, emits, out, password: request.frame.password };
      }
      break;
    }
    case 2:
      if (!own(frame.user)) emits.push({ type: 'login', user: frame.user });
      break;
    case 3:
      emits.push({ type: 'logout', user: frame.user });
      break;
    case 6: {
      const request = take(frame.id);
      if (request) emits.push({ type: 'settled', id: request.id, value: frame.users });
      break;
    }
    case 8: {
      const request = take(frame.id);
      if (request) {
        const events = frame.events.map((event) => toChannelEvent(event, 'history', own(event.user)));
        emits.push({ type: 'settled', id: request.id, value: { events, more: frame.more } });
      }
      break;
    }
  }
  return { tracker, emits, out };

  /**
   * The own join frame: the held past is now known to be the channel's
   * history (a first join) or what was missed (a rejoin), delivered in that
   * light, after a `recovered` or `gap` notice for a rejoin.
   */
  function ownJoin(channel: string, state: ChannelState, frame: JoinFrame): void {
    const rejoin = state.status === 'rejoining';
    const epochChanged = state.epoch !== undefined && frame.epoch !== undefined && frame.epoch !== state.epoch;
    let offset = epochChanged ? 0 : state.offset;
    const fresh = state.past.filter((event) => event.offset > offset);
    const delivered: ChannelEvent[] = [];
    /** The events with the settlements they make, in order: they follow the recovered or gap notice. */
    const ordered: Step['emits'] = [];
    for (const event of fresh) {
      offset = Math.max(offset, event.offset);
      const mine = own(event.user);
      if (rejoin && mine && event.type === 0) {
        // One of ours that reached the server before the drop: done, and not to be sent again.
        const sent = takeMessage(channel, event.message, true);
        const recovered = toChannelEvent(event, 'recovered', true);
        if (sent) ordered.push({ type: 'settled', id: sent.id, value: recovered });
        delivered.push(recovered);
        ordered.push(recovered);
        continue;
      }
      // This client's own leave on dropping and join on coming back are not news to it.
      if (rejoin && mine) continue;
      const past = toChannelEvent(event, rejoin ? 'recovered' : 'history', mine);
      delivered.push(past);
      ordered.push(past);
    }
    if (rejoin) {
      if (epochChanged || frame.recovered === false) {
        emits.push({ type: 'gap', channel, count: delivered.length, reason: epochChanged ? 'epoch' : 'incomplete' });
      } else {
        emits.push({ type: 'recovered', channel, count: delivered.length });
      }
    }
    emits.push(...ordered);
    offset = Math.max(offset, frame.offset);
    const joined: ChannelState = { status: 'joined', offset, past: [], ...(frame.epoch === undefined ? {} : { epoch: frame.epoch }) };
    setChannel(channel, joined);
    const join = toChannelEvent(frame, 'live', true) as JoinEvent;
    if (!rejoin) emits.push(join);
    const request = take(state.joinId);
    if (request) emits.push({ type: 'settled', id: request.id, value: { channel, epoch: frame.epoch, offset: frame.offset } });
  }
}
