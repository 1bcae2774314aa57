/**
 * @module supervisor: a group of session actors under the server.
 *
 * The server does not spawn sessions itself: XState copies an actor's
 * `children` on every spawn and every stop, so with every session a child of
 * the root, each connect and disconnect would cost as much as there are
 * sessions online. Each supervisor holds at most
 * {@link SESSIONS_PER_SUPERVISOR} of them (the server picks one with room),
 * so those copies stay bounded whatever the total.
 *
 * It adds no behaviour of its own: what its sessions send their parent it
 * forwards to the server unchanged, so a session does not know it is grouped;
 * and it turns its sessions' ends into events for the server, which logs the
 * session out (and, for a failed one, closes its client with 1011) as it
 * always has. The server still addresses a session directly, by its ref.
 */
import { assertEvent, assign, enqueueActions, sendParent, setup, type AnyActorRef } from 'xstate';
import { childId } from './child-events.js';
import type { SESSIONS_PER_SUPERVISOR } from './limits.js';
import type { SessionToServerEvent, SupervisorToServerEvent } from './server.events.js';
import { sessionMachine, type SessionInput } from './session.machine.js';

export interface SupervisorContext {
  /** Sessions it holds now. */
  sessions: number;
}

export type SupervisorEvent =
  /** From the server: start a session for a connection the transport accepted. */
  | { type: 'supervisor.spawn'; input: SessionInput }
  /** From its sessions, for the server. */
  | SessionToServerEvent;

/**
 * A session's actor id, which is also its system id: the transport finds a
 * connection's session with `system.get(sessionActorId(id))`.
 */
export const sessionActorId = (id: string) => `session:${id}`;
export const supervisorActorId = (index: number) => `supervisor:${index}`;

/** The connection id of a child, from its actor id. */
const connectionOf = (actorId: string) => actorId.slice('session:'.length);

export const supervisorMachine = setup({
  types: {
    context: {} as SupervisorContext,
    events: {} as SupervisorEvent,
  },
  actors: {
    session: sessionMachine,
  },
  actions: {
    spawnSession: assign(({ context, event, spawn }) => {
      assertEvent(event, 'supervisor.spawn');
      const actorId = sessionActorId(event.input.id);
      spawn('session', { id: actorId, systemId: actorId, input: event.input });
      return { sessions: context.sessions + 1 };
    }),
    /** Spawning registered the session's system id, so its ref is there to hand over. */
    reportSpawned: sendParent(({ event, system, self }): SupervisorToServerEvent => {
      assertEvent(event, 'supervisor.spawn');
      const { id, nick } = event.input;
      return { type: 'session.spawned', id, nick, session: system.get(sessionActorId(id)) as AnyActorRef, supervisor: self.id };
    }),
    forwardToServer: sendParent(({ event }) => event as SessionToServerEvent),
    /** A session that reached its final state (`xstate.done.actor.*`) or failed (`xstate.error.actor.*`): stopped, and reported as such. */
    stopEnded: enqueueActions(({ context, event, enqueue }) => {
      const child = childId(event.type);
      const id = connectionOf(child);
      enqueue.stopChild(child);
      enqueue.assign({ sessions: context.sessions - 1 });
      const failed = event.type.startsWith('xstate.error.');
      enqueue.sendParent(
        (failed ? { type: 'session.failed', id, error: (event as { error?: unknown }).error } : { type: 'session.stopped', id }) satisfies SupervisorToServerEvent,
      );
    }),
  },
}).createMachine({
  id: 'supervisor',
  context: { sessions: 0 },
  on: {
    'supervisor.spawn': { actions: ['spawnSession', 'reportSpawned'] },
    'session.hello': { actions: 'forwardToServer' },
    'session.ended': { actions: 'forwardToServer' },
    'route.join': { actions: 'forwardToServer' },
    'route.channel': { actions: 'forwardToServer' },
    'route.list': { actions: 'forwardToServer' },
    'users.list': { actions: 'forwardToServer' },
    'xstate.done.actor.*': { actions: 'stopEnded' },
    'xstate.error.actor.*': { actions: 'stopEnded' },
  },
});
