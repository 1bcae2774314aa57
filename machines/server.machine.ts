/**
 * @module server: the root actor. It has a session actor spawned per
 * connection, under one of its supervisors (machines/supervisor.machine.ts),
 * and spawns a channel actor per channel in use; it hands each connection to
 * the outbox (the one actor frames leave through), keeps the nick registry,
 * and routes what sessions cannot address directly.
 *
 * A failing session or channel never takes it down: a session's failure
 * comes from its supervisor as `session.failed`, any other child's as
 * `xstate.error.actor.*`; the client is closed with 1011 and everyone else is
 * told it left, as after any disconnect.
 */
import { assertEvent, assign, enqueueActions, setup, spawnChild, type ActorSystem, type AnyActorRef, type EventObject } from 'xstate';
import { announce, closeSocket, listUsers, outboxOf } from './broadcast.js';
import { channelMachine, type ChannelEvent } from './channel.machine.js';
import { childId } from './child-events.js';
import { DEFAULT_LIMITS, SESSIONS_PER_SUPERVISOR } from './limits.js';
import { nickKey } from './names.js';
import { OUTBOX_ID, outboxLogic, type OutboxEvent } from './outbox.js';
import type { ChannelToServerEvent, HelloAnswer, SessionToServerEvent, SupervisorToServerEvent } from './server.events.js';
import { sessionMachine, type SessionContext } from './session.machine.js';
import { sessionActorId, supervisorActorId, supervisorMachine, type SupervisorEvent } from './supervisor.machine.js';
import { CloseCode, type Connection } from './socket.js';
import type { ClusterOutboxEvent } from './cluster-outbox.js';

export interface SessionEntry {
  id: string;
  nick: string;
  /** The session's own ref: the server sends to it directly, not through its supervisor. */
  session: AnyActorRef;
  supervisor: SupervisorEntry;
  loggedIn: boolean;
}

export interface SupervisorEntry {
  ref: AnyActorRef;
  /** Sessions placed under it and not yet ended: what decides whether it has room. */
  sessions: number;
}

export interface ChannelEntry {
  ref: AnyActorRef;
  /** Joins forwarded to this channel: equal to the channel's own count when none is in flight. */
  joins: number;
}

type HelloEvent = Extract<SessionToServerEvent, { type: 'session.hello' }>;

/**
 * The registries are mutated in place rather than copied in `assign`: with
 * ten thousand sessions a copy per connect would make connecting quadratic.
 */
export interface ServerContext {
  maxChannelsPerSession: number;
  authTimeoutMs: number;
  clustered: boolean;
  sessions: Map<string, SessionEntry>;
  /** Sessions one supervisor holds at most. */
  sessionsPerSupervisor: number;
  /** Every supervisor, by actor id; kept when empty, to take the next connections. */
  supervisors: Map<string, SupervisorEntry>;
  /** The supervisors with room, in the order they had it: a new session goes under the first. */
  withRoom: Set<SupervisorEntry>;
  /** How many supervisors have been spawned, which numbers the next one. */
  supervisorsSpawned: number;
  /** Lower-cased nick to connection id, for logged-in sessions. */
  nicks: Map<string, string>;
  channels: Map<string, ChannelEntry>;
  /**
   * Owners waiting for their nick, by the connection id that still holds it:
   * each logs in once the old connection has been logged out.
   */
  takeovers: Map<string, HelloEvent>;
}

export interface ServerInput {
  /** How many channels one session may be in; defaults to {@link DEFAULT_LIMITS}. */
  maxChannelsPerSession?: number;
  /** How long a registered nick has to authenticate; defaults to {@link DEFAULT_LIMITS}. */
  authTimeoutMs?: number;
  /**
   * One of several nodes serving one chat: a session claims its nick
   * cluster-wide (the `claimNick` actor) before it says hello here.
   */
  clustered?: boolean;
  /** Sessions one supervisor holds at most; defaults to {@link SESSIONS_PER_SUPERVISOR}. */
  sessionsPerSupervisor?: number;
}

export type ServerEvent =
  /** The transport accepted a socket whose nick passed validation. */
  | { type: 'connection.open'; id: string; nick: string; address: string; connection: Connection }
  | ClusterOutboxEvent
  | { type: 'server.shutdown' }
  | SessionToServerEvent
  | SupervisorToServerEvent
  | ChannelToServerEvent;

export { sessionActorId };
export const channelActorId = (name: string) => `channel:${name}`;

/** The part of `enqueueActions`' `enqueue` that these helpers use. */
interface Enqueue {
  sendTo(target: AnyActorRef, event: EventObject | OutboxEvent): void;
  stopChild(child: AnyActorRef | string): void;
}

/**
 * Takes the nick for a session: everyone logged in hears of it (the new user
 * too, with its resume token when it has one), then the new user alone gets
 * the user list. The outbox keeps who is logged in, in login order, for both:
 * so a login costs the server no walk over every session, and a storm of
 * logins can be announced in batches.
 */
function logIn(enqueue: Enqueue, system: ActorSystem<any>, context: ServerContext, hello: HelloEvent): void {
  const entry = context.sessions.get(hello.id);
  if (!entry) return;
  entry.loggedIn = true;
  context.nicks.set(nickKey(hello.nick), hello.id);
  enqueue.sendTo(hello.session, { type: 'session.accepted' } satisfies HelloAnswer);
  announce(enqueue, system, 'login', hello.id, hello.nick, hello.token);
  listUsers(enqueue, system, hello.id);
}

/** The channels a session is in (or has asked to join), as its own context says. */
function channelsOf(entry: SessionEntry): Iterable<string> {
  return (entry.session.getSnapshot().context as SessionContext | undefined)?.channels.keys() ?? [];
}

/**
 * Logs a session out for everyone else: the members of each of its channels
 * hear it leave, then every remaining user hears it log out. Runs once per
 * session, whether it logged out, dropped, failed or was taken over; an owner
 * waiting for this nick logs in right after.
 */
function logOut(enqueue: Enqueue, system: ActorSystem<any>, context: ServerContext, id: string, channels: Iterable<string>): void {
  const entry = context.sessions.get(id);
  if (!entry?.loggedIn) return;
  const leave: ChannelEvent = { type: 'channel.leave', id, disconnected: true };
  for (const name of channels) {
    const channel = context.channels.get(name);
    if (channel) enqueue.sendTo(channel.ref, leave);
  }
  entry.loggedIn = false;
  context.nicks.delete(nickKey(entry.nick));
  announce(enqueue, system, 'logout', id, entry.nick);
  const successor = context.takeovers.get(id);
  if (successor) {
    context.takeovers.delete(id);
    logIn(enqueue, system, context, successor);
  }
}

/**
 * Forgets a session that ended or failed (its supervisor has already stopped
 * its actor): logs it out if it still holds its nick (a session that ended
 * while its login was on its way), then drops its entry, its connection in
 * the outbox and any takeover it was waiting for, and makes room under its
 * supervisor.
 */
function dropSession(enqueue: Enqueue, system: ActorSystem<any>, context: ServerContext, id: string): void {
  const entry = context.sessions.get(id);
  if (entry?.loggedIn) logOut(enqueue, system, context, id, channelsOf(entry));
  for (const [holder, successor] of context.takeovers) if (successor.id === id) context.takeovers.delete(holder);
  if (entry) {
    context.sessions.delete(id);
    entry.supervisor.sessions -= 1;
    if (context.supervisors.has(entry.supervisor.ref.id)) context.withRoom.add(entry.supervisor);
  }
  enqueue.sendTo(outboxOf(system), { type: 'outbox.detach', id } satisfies OutboxEvent);
}

/** The first supervisor with room: every other one is full. */
function supervisorWithRoom(context: ServerContext): SupervisorEntry | undefined {
  for (const supervisor of context.withRoom) return supervisor;
  return undefined;
}

export const serverMachine = setup({
  types: {
    context: {} as ServerContext,
    input: {} as ServerInput,
    events: {} as ServerEvent,
  },
  actors: {
    supervisor: supervisorMachine,
    channel: channelMachine,
    outbox: outboxLogic,
  },
  actions: {
    /** Attaches first, so the outbox knows the connection before the session sends it anything. */
    attachConnection: enqueueActions(({ event, enqueue, system }) => {
      if (event.type !== 'connection.open') return;
      enqueue.sendTo(outboxOf(system), { type: 'outbox.attach', id: event.id, connection: event.connection } satisfies OutboxEvent);
    }),
    /** Spawned only when every supervisor is full, so the root's `children` are copied once per that many connects. */
    addSupervisor: assign(({ context, spawn }) => {
      const id = supervisorActorId(context.supervisorsSpawned);
      const supervisor: SupervisorEntry = { ref: spawn('supervisor', { id }), sessions: 0 };
      context.supervisors.set(id, supervisor);
      context.withRoom.add(supervisor);
      return { supervisorsSpawned: context.supervisorsSpawned + 1 };
    }),
    /**
     * Has the first supervisor with room spawn the session. It does so at
     * once, within this event: the transport finds the session by its system
     * id right after `connection.open`, and the server records it on the
     * supervisor's `session.spawned`, which comes before any other event.
     */
    spawnSession: enqueueActions(({ context, event, enqueue }) => {
      assertEvent(event, 'connection.open');
      const supervisor = supervisorWithRoom(context);
      if (!supervisor) return;
      supervisor.sessions += 1;
      if (supervisor.sessions >= context.sessionsPerSupervisor) context.withRoom.delete(supervisor);
      const { id, nick, address } = event;
      enqueue.sendTo(supervisor.ref, {
        type: 'supervisor.spawn',
        input: {
          id,
          nick,
          address,
          maxChannels: context.maxChannelsPerSession,
          authTimeoutMs: context.authTimeoutMs,
          claimsNick: context.clustered,
        },
      } satisfies SupervisorEvent);
    }),
    recordSession: assign(({ context, event }) => {
      assertEvent(event, 'session.spawned');
      const supervisor = context.supervisors.get(event.supervisor);
      if (supervisor) context.sessions.set(event.id, { id: event.id, nick: event.nick, session: event.session, supervisor, loggedIn: false });
      return {};
    }),
    logIn: enqueueActions(({ context, event, enqueue, system }) => {
      assertEvent(event, 'session.hello');
      logIn(enqueue, system, context, event);
    }),
    /**
     * The owner proved who it is, so the connection holding its nick is closed
     * with 4001; the owner logs in once that one is logged out (see `logOut`).
     * A later owner login supersedes one still waiting.
     */
    takeOver: enqueueActions(({ context, event, enqueue }) => {
      assertEvent(event, 'session.hello');
      const holder = context.nicks.get(nickKey(event.nick));
      if (holder === undefined) return;
      const waiting = context.takeovers.get(holder);
      if (waiting) enqueue.sendTo(waiting.session, { type: 'session.takenOver' } satisfies HelloAnswer);
      else {
        const entry = context.sessions.get(holder);
        if (entry) enqueue.sendTo(entry.session, { type: 'session.takenOver' } satisfies HelloAnswer);
      }
      context.takeovers.set(holder, event);
    }),
    refuseNick: enqueueActions(({ event, enqueue }) => {
      assertEvent(event, 'session.hello');
      enqueue.sendTo(event.session, { type: 'session.refused', code: 'nick_taken' } satisfies HelloAnswer);
    }),
    logOut: enqueueActions(({ context, event, enqueue, system }) => {
      assertEvent(event, 'session.ended');
      logOut(enqueue, system, context, event.id, event.channels);
    }),
    removeStoppedSession: enqueueActions(({ context, event, enqueue, system }) => {
      assertEvent(event, 'session.stopped');
      dropSession(enqueue, system, context, event.id);
    }),
    containSession: enqueueActions(({ context, event, enqueue, system }) => {
      assertEvent(event, 'session.failed');
      if (!context.sessions.has(event.id)) return;
      closeSocket(enqueue, system, event.id, CloseCode.internalError, 'internal error');
      dropSession(enqueue, system, context, event.id);
    }),
    contain: enqueueActions(({ context, event, enqueue, system }) => {
      const child = childId(event.type);
      const [kind, ...rest] = child.split(':');
      const key = rest.join(':');
      if (kind === 'supervisor') {
        // XState leaves a failed actor's children running: each of its sessions is closed like a failed one.
        const supervisor = context.supervisors.get(child);
        if (!supervisor) return;
        context.supervisors.delete(child);
        context.withRoom.delete(supervisor);
        for (const entry of context.sessions.values()) {
          if (entry.supervisor !== supervisor) continue;
          closeSocket(enqueue, system, entry.id, CloseCode.internalError, 'internal error');
          dropSession(enqueue, system, context, entry.id);
        }
        enqueue.stopChild(child);
      } else if (kind === 'channel') {
        const entry = context.channels.get(key);
        if (!entry) return;
        context.channels.delete(key);
        const members = (entry.ref.getSnapshot().context as { members?: Map<string, { session: AnyActorRef }> })?.members;
        for (const member of members?.values() ?? []) {
          enqueue.sendTo(member.session, { type: 'channel.lost', channel: key });
        }
      }
    }),
    forwardJoin: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'route.join') return;
      let entry = context.channels.get(event.channel);
      if (!entry) {
        // `spawnChild` cannot hand back the ref, so the spawn goes through assign.
        enqueue.assign(({ spawn }) => {
          const ref = spawn('channel', { id: channelActorId(event.channel), input: { name: event.channel } });
          context.channels.set(event.channel, { ref, joins: 0 });
          return {};
        });
        enqueue.raise({ ...event });
        return;
      }
      entry.joins += 1;
      const { member, since, epoch } = event;
      enqueue.sendTo(entry.ref, {
        type: 'channel.join',
        member,
        ...(since === undefined ? {} : { since }),
        ...(epoch === undefined ? {} : { epoch }),
      } satisfies ChannelEvent);
    }),
    forwardToChannel: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'route.channel') return;
      const entry = context.channels.get(event.channel);
      if (entry) enqueue.sendTo(entry.ref, event.event);
    }),
    answerChannelList: enqueueActions(({ context, event, enqueue, system }) => {
      if (event.type !== 'route.list') return;
      const entry = context.channels.get(event.channel);
      if (entry) {
        enqueue.sendTo(entry.ref, {
          type: 'channel.list',
          replyTo: event.replyTo,
          requestId: event.requestId,
        } satisfies ChannelEvent);
      } else {
        // No member here; in a cluster, there may be some elsewhere.
        listUsers(enqueue, system, event.replyTo, event.requestId, { name: event.channel, members: [] });
      }
    }),
    answerUserList: enqueueActions(({ context, event, enqueue, system }) => {
      if (event.type !== 'users.list') return;
      listUsers(enqueue, system, event.replyTo, event.requestId);
    }),
    closeChannel: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'channel.empty') return;
      context.channels.delete(event.channel);
      enqueue.stopChild(event.ref);
    }),
    takenOverElsewhere: enqueueActions(({ context, event, enqueue }) => {
      assertEvent(event, 'cluster.takenOver');
      const entry = context.sessions.get(event.id);
      if (entry) enqueue.sendTo(entry.session, { type: 'session.takenOver' } satisfies HelloAnswer);
    }),
    /** The session hears it is out of the channel (as when a channel fails); the channel forgets it without a word. */
    dropFailedJoin: enqueueActions(({ context, event, enqueue }) => {
      assertEvent(event, 'cluster.joinFailed');
      const entry = context.sessions.get(event.id);
      if (entry) enqueue.sendTo(entry.session, { type: 'channel.lost', channel: event.channel });
      const channel = context.channels.get(event.channel);
      if (channel) enqueue.sendTo(channel.ref, { type: 'channel.leave', id: event.id, disconnected: true, unheard: true } satisfies ChannelEvent);
    }),
    shutDownSessions: enqueueActions(({ context, enqueue }) => {
      for (const entry of context.sessions.values()) enqueue.sendTo(entry.session, { type: 'session.shutdown' });
    }),
    /** Overridden by the transport to log; the machine itself does no I/O. */
    reportFault: (_, _params: { actor: string; error: unknown }) => {},
  },
  guards: {
    everySupervisorIsFull: ({ context }) => context.withRoom.size === 0,
    nickIsFree: ({ context, event }) =>
      event.type === 'session.hello' && !context.nicks.has(nickKey(event.nick)),
    isOwner: ({ event }) => event.type === 'session.hello' && event.owner,
    /** Stale notices (a join raced the last leave) must not stop a channel in use. */
    channelIsIdle: ({ context, event }) => {
      if (event.type !== 'channel.empty') return false;
      const entry = context.channels.get(event.channel);
      return entry !== undefined && entry.ref === event.ref && entry.joins === event.joins;
    },
  },
}).createMachine({
  id: 'server',
  context: ({ input }) => ({
    maxChannelsPerSession: input.maxChannelsPerSession ?? DEFAULT_LIMITS.maxChannelsPerSession,
    authTimeoutMs: input.authTimeoutMs ?? DEFAULT_LIMITS.authTimeoutMs,
    clustered: input.clustered ?? false,
    sessions: new Map(),
    sessionsPerSupervisor: input.sessionsPerSupervisor ?? SESSIONS_PER_SUPERVISOR,
    supervisors: new Map(),
    withRoom: new Set(),
    supervisorsSpawned: 0,
    nicks: new Map(),
    channels: new Map(),
    takeovers: new Map(),
  }),
  // Where every broadcast leaves the actor system (see machines/outbox.ts); found by its system id.
  entry: spawnChild('outbox', { id: OUTBOX_ID, systemId: OUTBOX_ID }),
  initial: 'serving',
  on: {
    'session.hello': [
      { guard: 'nickIsFree', actions: 'logIn' },
      { guard: 'isOwner', actions: 'takeOver' },
      { actions: 'refuseNick' },
    ],
    'session.ended': { actions: 'logOut' },
    'route.join': { actions: 'forwardJoin' },
    'route.channel': { actions: 'forwardToChannel' },
    'route.list': { actions: 'answerChannelList' },
    'users.list': { actions: 'answerUserList' },
    'cluster.takenOver': { actions: 'takenOverElsewhere' },
    'cluster.joinFailed': { actions: 'dropFailedJoin' },
    'channel.empty': { guard: 'channelIsIdle', actions: 'closeChannel' },
    'session.spawned': { actions: 'recordSession' },
    'session.stopped': { actions: 'removeStoppedSession' },
    'session.failed': {
      actions: [
        {
          type: 'reportFault',
          params: ({ event }) => ({ actor: sessionActorId(event.id), error: event.error }),
        },
        'containSession',
      ],
    },
    'xstate.error.actor.*': {
      actions: [
        {
          type: 'reportFault',
          params: ({ event }: { event: EventObject }) => ({ actor: childId(event.type), error: (event as { error?: unknown }).error }),
        },
        'contain',
      ],
    },
  },
  states: {
    serving: {
      on: {
        'connection.open': [
          { guard: 'everySupervisorIsFull', actions: ['attachConnection', 'addSupervisor', 'spawnSession'] },
          { actions: ['attachConnection', 'spawnSession'] },
        ],
        'server.shutdown': { target: 'draining', actions: 'shutDownSessions' },
      },
    },
    /** Shutting down: no new sessions; existing ones are closing with 1001. */
    draining: {},
  },
});

/** The session machine `server`'s supervisors spawn. */
export function sessionsOf(server: typeof serverMachine): typeof sessionMachine {
  const supervisor = (server.implementations.actors.supervisor ?? supervisorMachine) as typeof supervisorMachine;
  return (supervisor.implementations.actors.session ?? sessionMachine) as typeof sessionMachine;
}

/**
 * `server` with its supervisors spawning `session`: how a variant of the
 * session machine (its effects, an injected fault) is plugged in.
 */
export function withSessions(server: typeof serverMachine, session: typeof sessionMachine): typeof serverMachine {
  const supervisor = (server.implementations.actors.supervisor ?? supervisorMachine) as typeof supervisorMachine;
  return server.provide({ actors: { supervisor: supervisor.provide({ actors: { session } }) } }) as typeof serverMachine;
}
