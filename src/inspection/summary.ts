/**
 * @module summary: turns XState inspection events into small JSON-safe
 * summaries for the inspector page.
 *
 * Inspection events carry live actor refs, Maps and closures, none of which
 * survive `JSON.stringify`; and they carry every chat message, which a
 * developer watching the system has no business reading by default. So
 * nothing leaves this module but ids, state values, counts and, unless bodies
 * are allowed, redacted events.
 */
import type { AnyActorRef, AnyEventObject, AnyStateMachine, InspectionEvent } from 'xstate';
import type { Connection } from '../../machines/socket.js';

/** Where a message body or a secret was removed. */
export const REDACTED = '[redacted]';


const MAX_STRING = 200;
/** Nicks and channel names shown from a context. */
const MAX_LIST = 50;
/** Items kept of an array inside an event (a broadcast's recipients): the rest are counted, not copied, as this runs for every event. */
const MAX_EVENT_LIST = 10;

export interface ActorSummary {
  /** Unique for the life of the system, unlike `id`, which a later actor may reuse. */
  sessionId: string;
  id: string;
  /** What people call it: the id, and for a session its nick too (`session:3 · alice`), for a supervisor its count of sessions. */
  label: string;
  parent: string | null;
  /** The machine id (`server`, `session`, `channel`), or null for a callback actor. */
  machine: string | null;
  status: string;
  /** The state value, as in `snapshot.value`; null for actors without states. */
  value: unknown;
  context: Record<string, unknown>;
}

export interface EventSummary {
  /** Numbers every event the hub has seen, in order; gaps in a page's list are events it dropped. */
  seq: number;
  /** When it was sent, in ms since the epoch. */
  at: number;
  /** The sender's actor id, or null when the event came from outside (the transport). */
  source: string | null;
  target: string;
  type: string;
  event: Record<string, unknown>;
}

export function machineOf(actor: AnyActorRef): AnyStateMachine | undefined {
  const logic = (actor as { logic?: unknown }).logic as Partial<AnyStateMachine> | undefined;
  return logic && 'root' in logic && logic.root ? (logic as AnyStateMachine) : undefined;
}

function parentOf(actor: AnyActorRef): AnyActorRef | undefined {
  return (actor as { _parent?: AnyActorRef })._parent;
}

/**
 * `session:3 · alice` for an actor whose context has a nick, `supervisor:0 ·
 * 3 sessions` for one that counts its sessions (the server's are a map); the
 * bare id otherwise.
 */
export function labelOf(id: string, context: Record<string, unknown>): string {
  if (typeof context.nick === 'string') return `${id} · ${context.nick}`;
  if (typeof context.sessions === 'number') return `${id} · ${context.sessions} session${context.sessions === 1 ? '' : 's'}`;
  return id;
}

/** Who an actor is; its state comes with its first snapshot (reading one while it starts throws). */
export function summariseActor(actor: AnyActorRef): ActorSummary {
  return {
    sessionId: actor.sessionId,
    id: actor.id,
    label: actor.id,
    parent: parentOf(actor)?.sessionId ?? null,
    machine: machineOf(actor)?.id ?? null,
    status: 'active',
    value: null,
    context: {},
  };
}

/**
 * The parts of a context a developer needs to follow a session or channel:
 * nicks, channel names and counts. A map of entries with nicks (a channel's
 * members, the server's sessions) becomes those nicks, the first
 * {@link MAX_LIST} of them, and its size; other maps become their keys
 * (channels) or size; actor refs become their ids.
 */
export function summariseContext(context: unknown): Record<string, unknown> {
  if (typeof context !== 'object' || context === null) return {};
  const summary: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(context)) {
    if (isSecret(key, value)) summary[key] = REDACTED;
    else if (value instanceof Map) {
      if (key === 'channels') summary.channels = firstKeys(value);
      else {
        const nicks = firstNicks(value);
        if (nicks) summary[key] = nicks;
        summary[`${key}Count`] = value.size;
      }
    } else {
      summary[key] = isSecret(key, value) ? REDACTED : summariseValue(value, 1, false);
    }
  }
  return summary;
}

function firstKeys(map: ReadonlyMap<unknown, unknown>): unknown[] {
  const keys: unknown[] = [];
  for (const key of map.keys()) {
    if (keys.length === MAX_LIST) break;
    keys.push(key);
  }
  return keys;
}

/** The nicks of a map's first entries, when its entries have nicks; undefined otherwise. */
function firstNicks(map: ReadonlyMap<unknown, unknown>): string[] | undefined {
  const nicks: string[] = [];
  for (const entry of map.values()) {
    const nick = (entry as { nick?: unknown } | null)?.nick;
    if (typeof nick !== 'string') return nicks.length > 0 ? nicks : map.size === 0 ? [] : undefined;
    if (nicks.length === MAX_LIST) break;
    nicks.push(nick);
  }
  return nicks;
}

export function summariseSnapshot(snapshot: unknown): Pick<ActorSummary, 'status' | 'value' | 'context'> {
  const { status, value, context } = (snapshot ?? {}) as { status?: string; value?: unknown; context?: unknown };
  return { status: status ?? 'active', value: value ?? null, context: summariseContext(context) };
}

/**
 * Fields that carry credentials (`password`, `old_password`, `oldPassword`,
 * `newPassword`, `token`, …), in events, contexts, actor inputs and outputs,
 * the JSON text of frames, inspector streams, the Stately relay and
 * downloaded traces alike ({@link isSecret} is the one rule for all of them):
 * always redacted, whatever `--inspect-bodies` says, since nobody watching a
 * server should ever see a password or a token that signs in as someone.
 */
const SECRET_FIELD = /password|token/i;

/** Which field of which event carries a user's words. */
const BODY_FIELDS: Record<string, string> = {
  'client.message': 'message',
  'channel.say': 'message',
  'socket.send': 'data',
  'outbox.deliver': 'data',
  'outbox.publish': 'head',
};

/** An event made JSON-safe, with its body replaced by {@link REDACTED} unless `bodies`. */
export function summariseEvent(event: AnyEventObject, bodies: boolean): Record<string, unknown> {
  const summary: Record<string, unknown> = {};
  const bodyField = bodies ? undefined : BODY_FIELDS[event.type];
  for (const [key, value] of Object.entries(event)) {
    summary[key] = key === bodyField || isSecret(key, value) ? REDACTED : summariseValue(value, 1, bodies);
  }
  const frameText = bodyField === undefined ? undefined : event[bodyField];
  if (bodies) {
    // Bodies are on, but a frame's credentials (a login frame's resume token) are secrets, not bodies.
    const field = BODY_FIELDS[event.type];
    const text = field === undefined ? undefined : event[field];
    if (typeof text === 'string') {
      // A publish carries its frame without the closing brace, which the outbox adds after the offset.
      const redacted = event.type === 'outbox.publish' ? redactFrame(`${text}}`).slice(0, -1) : redactFrame(text);
      summary[field!] = summariseValue(redacted, 1, bodies);
    }
  } else if (typeof frameText === 'string') {
    // The frame type still says what kind of frame went out, without its text.
    const frameType = /^\{"type":(-?\d+)/.exec(frameText)?.[1];
    if (frameType !== undefined) summary.frameType = Number(frameType);
    // An error frame carries no chat text, and its code is what a developer is looking for.
    const code = frameType === '-1' ? /"code":"([a-z_]+)"/.exec(frameText)?.[1] : undefined;
    if (code !== undefined) summary.code = code;
  }
  return summary;
}

/**
 * A frame's JSON text with every secret field in it redacted by
 * {@link isSecret}, before it is cut short, so that no part of one shows.
 * Text that names no secret, or is not JSON, is returned as it is.
 */
function redactFrame(text: string): string {
  if (!SECRET_FIELD.test(text)) return text;
  let frame: unknown;
  try {
    frame = JSON.parse(text);
  } catch {
    return text;
  }
  return JSON.stringify(redactSecrets(frame));
}

/** `value` with every secret field, at any depth, replaced by {@link REDACTED}. */
function redactSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactSecrets);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.entries(value).map(([key, field]) => [key, isSecret(key, field) ? REDACTED : redactSecrets(field)]));
}

/**
 * A whole snapshot for an inspector that takes snapshots as they are (the
 * Stately relay): its context summarised, and what else can carry a secret,
 * an invoked actor's `input` (a password being checked), `output` (a fresh
 * resume token) and `error`, summarised like event fields.
 */
export function summariseWholeSnapshot(snapshot: unknown, bodies: boolean): Record<string, unknown> {
  const whole: Record<string, unknown> = { ...(snapshot as Record<string, unknown>) };
  if ('context' in whole) whole.context = summariseContext(whole.context);
  for (const key of ['input', 'output', 'error']) if (key in whole) whole[key] = summariseValue(whole[key], 1, bodies);
  return whole;
}

/** Nested events (a `route.channel` wraps a `channel.say`) are redacted like top-level ones. */
function summariseValue(value: unknown, depth: number, bodies: boolean): unknown {
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    // A frame's text outside a body field, wherever it is (a field not named for its secret, say): redacted too.
    const text = redactFrame(value);
    return text.length > MAX_STRING ? `${text.slice(0, MAX_STRING)}…` : text;
  }
  if (value === undefined || typeof value === 'function' || typeof value === 'symbol') return undefined;
  if (typeof value === 'bigint') return value.toString();
  if (isActorRef(value)) return `actor ${value.id}`;
  // An `outbox.attach` carries the transport's whole per-socket record: show that there is one, not its insides.
  if (isConnection(value)) return 'connection';
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  if (value instanceof Map || value instanceof Set) return `${value instanceof Map ? 'Map' : 'Set'}(${value.size})`;
  if (Array.isArray(value)) {
    if (depth > 2) return `Array(${value.length})`;
    const items = value.slice(0, MAX_EVENT_LIST).map((item) => summariseValue(item, depth + 1, bodies));
    if (value.length > MAX_EVENT_LIST) items.push(`… ${value.length - MAX_EVENT_LIST} more`);
    return items;
  }
  if (typeof value === 'object') {
    if (depth > 2) return '{…}';
    const type = (value as { type?: unknown }).type;
    if (typeof type === 'string' && type in BODY_FIELDS) return summariseEvent(value as AnyEventObject, bodies);
    const summary: Record<string, unknown> = {};
    for (const [key, field] of Object.entries(value)) {
      summary[key] = isSecret(key, field) ? REDACTED : summariseValue(field, depth + 1, bodies);
    }
    return summary;
  }
  return String(value);
}

/** A credential is present: an absent one shows as absent, which says something without revealing anything. */
export function isSecret(key: string, value: unknown): boolean {
  return value !== undefined && SECRET_FIELD.test(key);
}

function isConnection(value: unknown): value is Connection {
  const candidate = value as Partial<Connection> | null;
  return typeof candidate === 'object' && candidate !== null && typeof candidate.send === 'function' && typeof candidate.close === 'function';
}

function isActorRef(value: unknown): value is AnyActorRef {
  return typeof value === 'object' && value !== null && 'sessionId' in value && 'send' in value && 'getSnapshot' in value;
}

/** The message-passing part of an inspection event, or undefined for the other kinds. */
export function summariseMessage(inspection: InspectionEvent, bodies: boolean, seq: number): EventSummary | undefined {
  if (inspection.type !== '@xstate.event') return undefined;
  const source = inspection.sourceRef as AnyActorRef | undefined;
  const target = inspection.actorRef as AnyActorRef;
  return {
    seq,
    at: Date.now(),
    source: source?.id ?? null,
    target: target.id,
    type: inspection.event.type,
    event: summariseEvent(inspection.event, bodies),
  };
}
