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

/** Where a message body was removed. */
export const REDACTED = '[redacted]';

const MAX_STRING = 200;
const MAX_LIST = 50;

export interface ActorSummary {
  /** Unique for the life of the system, unlike `id`, which a later actor may reuse. */
  sessionId: string;
  id: string;
  parent: string | null;
  /** The machine id (`server`, `session`, `channel`), or null for a callback actor. */
  machine: string | null;
  status: string;
  /** The state value, as in `snapshot.value`; null for actors without states. */
  value: unknown;
  context: Record<string, unknown>;
}

export interface EventSummary {
  /** The sender's actor id, or null when the event came from outside (the transport). */
  source: string | null;
  target: string;
  type: string;
  event: Record<string, unknown>;
}

export interface StateNodeChart {
  key: string;
  type: string;
  initial: string | null;
  transitions: { event: string; targets: string[] }[];
  states: StateNodeChart[];
}

/** What a statechart drawing needs of a machine: its nested states and their transitions. */
export function chartOf(machine: AnyStateMachine): StateNodeChart {
  return chartNode(machine.root);
}

interface StateNodeLike {
  key: string;
  type: string;
  states: Record<string, StateNodeLike>;
  initial?: { target: readonly StateNodeLike[] };
  transitions: Map<string, readonly { target?: readonly StateNodeLike[] | undefined }[]>;
  always?: readonly { target?: readonly StateNodeLike[] | undefined }[] | undefined;
}

function chartNode(node: StateNodeLike): StateNodeChart {
  const transitions: StateNodeChart['transitions'] = [];
  for (const [event, candidates] of node.transitions) {
    const targets = new Set<string>();
    for (const candidate of candidates) for (const target of candidate.target ?? []) targets.add(target.key);
    transitions.push({ event, targets: [...targets] });
  }
  for (const candidate of node.always ?? []) {
    transitions.push({ event: 'always', targets: (candidate.target ?? []).map((target) => target.key) });
  }
  return {
    key: node.key,
    type: node.type,
    initial: node.initial?.target[0]?.key ?? null,
    transitions,
    states: Object.values(node.states).map(chartNode),
  };
}

export function machineOf(actor: AnyActorRef): AnyStateMachine | undefined {
  const logic = (actor as { logic?: unknown }).logic as Partial<AnyStateMachine> | undefined;
  return logic && 'root' in logic && logic.root ? (logic as AnyStateMachine) : undefined;
}

function parentOf(actor: AnyActorRef): AnyActorRef | undefined {
  return (actor as { _parent?: AnyActorRef })._parent;
}

export function summariseActor(actor: AnyActorRef): ActorSummary {
  const snapshot = actor.getSnapshot() as { status?: string; value?: unknown; context?: unknown } | undefined;
  return {
    sessionId: actor.sessionId,
    id: actor.id,
    parent: parentOf(actor)?.sessionId ?? null,
    machine: machineOf(actor)?.id ?? null,
    status: snapshot?.status ?? 'active',
    value: snapshot?.value ?? null,
    context: summariseContext(snapshot?.context),
  };
}

/**
 * The parts of a context a developer needs to follow a session or channel:
 * nicks, channel names and counts. Maps become their keys (channels) or their
 * size (members, sessions); actor refs become their ids.
 */
export function summariseContext(context: unknown): Record<string, unknown> {
  if (typeof context !== 'object' || context === null) return {};
  const summary: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(context)) {
    if (value instanceof Map) {
      if (key === 'channels') summary.channels = [...value.keys()].slice(0, MAX_LIST);
      else summary[`${key}Count`] = value.size;
    } else {
      summary[key] = isSecret(key, value) ? REDACTED : summariseValue(value, 1, false);
    }
  }
  return summary;
}

export function summariseSnapshot(snapshot: unknown): Pick<ActorSummary, 'status' | 'value' | 'context'> {
  const { status, value, context } = (snapshot ?? {}) as { status?: string; value?: unknown; context?: unknown };
  return { status: status ?? 'active', value: value ?? null, context: summariseContext(context) };
}

/**
 * Fields that carry credentials (`password`, `oldPassword`, `newPassword`,
 * `token`, …), in events, contexts, actor inputs and outputs alike:
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
  if (typeof frameText === 'string') {
    // The frame type still says what kind of frame went out, without its text.
    const frameType = /^\{"type":(-?\d+)/.exec(frameText)?.[1];
    if (frameType !== undefined) summary.frameType = Number(frameType);
  } else if (typeof summary.data === 'string' && summary.data.includes('"token":')) {
    // Bodies are on, but a login frame's resume token is a credential, not a body.
    summary.data = summary.data.replace(/"token":"[^"]*"/g, `"token":"${REDACTED}"`);
  }
  return summary;
}

/** Nested events (a `route.channel` wraps a `channel.say`) are redacted like top-level ones. */
function summariseValue(value: unknown, depth: number, bodies: boolean): unknown {
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value === 'string') return value.length > MAX_STRING ? `${value.slice(0, MAX_STRING)}…` : value;
  if (value === undefined || typeof value === 'function' || typeof value === 'symbol') return undefined;
  if (typeof value === 'bigint') return value.toString();
  if (isActorRef(value)) return `actor ${value.id}`;
  // An `outbox.attach` carries the transport's whole per-socket record: show that there is one, not its insides.
  if (isConnection(value)) return 'connection';
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  if (value instanceof Map || value instanceof Set) return `${value instanceof Map ? 'Map' : 'Set'}(${value.size})`;
  if (Array.isArray(value)) {
    return depth > 2 ? `Array(${value.length})` : value.slice(0, MAX_LIST).map((item) => summariseValue(item, depth + 1, bodies));
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
function isSecret(key: string, value: unknown): boolean {
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
export function summariseMessage(inspection: InspectionEvent, bodies: boolean): EventSummary | undefined {
  if (inspection.type !== '@xstate.event') return undefined;
  const source = inspection.sourceRef as AnyActorRef | undefined;
  const target = inspection.actorRef as AnyActorRef;
  return {
    source: source?.id ?? null,
    target: target.id,
    type: inspection.event.type,
    event: summariseEvent(inspection.event, bodies),
  };
}
