/**
 * @module replay: feeds a trace's outside events (what the transport sent:
 * the connection, the client's commands, the socket closing) into the real
 * machines, with no sockets, and records the states the traced actor passes
 * through, to compare with the ones recorded.
 *
 * Events between actors are not fed: the machines produce them again, which
 * is the point. Anything that does I/O is faked in `fakes.ts`, and answers
 * with what the trace recorded, at the point it recorded it.
 */
import { createActor, type AnyActorRef, type AnyStateMachine, type AnyTransitionDefinition, type InspectionEvent } from 'xstate';
import { serverMachine } from '../../machines/server.machine.js';
import type { HistoryEntry } from '../inspection/history.js';
import type { Trace } from '../inspection/trace.js';
import { transitionId } from '../inspection/transitions.js';
import { ReplayClock } from './clock.js';
import { ACTORS_REPLAYED_FROM_THE_TRACE, fakeConnection, restoreEvent, withReplayFakes } from './fakes.js';
import { TraceError } from './trace-file.js';

export interface ReplayStep {
  /** The event the traced actor processed. */
  event: string;
  /** Its state right after. */
  value: unknown;
  /** The transitions it took (ids from transitions.ts): a changed guard shows here even when the state does not change. */
  transitions: string[];
}

export interface ReplayResult {
  /** Every event the traced actor processed during the replay, with its state after. */
  steps: ReplayStep[];
  /** The states it passed through, each change once. */
  states: unknown[];
  /** The frames its client would have received. */
  frames: string[];
}

/** What the recording says the actor did: each event it processed, its state after and the transitions taken. */
export function recordedSteps(trace: Trace): ReplayStep[] {
  return trace.events
    .filter((entry) => entry.dir === 'in' && entry.value !== undefined)
    .sort((a, b) => a.seq - b.seq)
    .map((entry) => ({ event: entry.type, value: entry.value, transitions: entry.transitions ?? [] }));
}

/** The states the recording passed through, each change once. */
export function recordedStates(trace: Trace): unknown[] {
  return distinct(recordedSteps(trace).map((step) => step.value));
}

/** The events from outside the actor system, oldest first: what a replay feeds in. */
export function outsideEvents(trace: Trace): HistoryEntry[] {
  return trace.events
    .filter((entry) => entry.dir === 'in' && entry.source === null && !entry.type.startsWith('xstate.'))
    .sort((a, b) => a.seq - b.seq);
}

/** The trace's recorded answers of invoked actors (an account lookup's result, say), which a replay hands back where they came. */
function outcomes(trace: Trace): HistoryEntry[] {
  return trace.events.filter((entry) => entry.dir === 'in' && /^xstate\.(done|error)\.actor\./.test(entry.type) && entry.source !== null);
}

/** The delayed events the traced actor received (an authentication timeout), which a replay fires where they came. */
function delayedEvents(trace: Trace): HistoryEntry[] {
  return trace.events.filter((entry) => entry.dir === 'in' && entry.type.startsWith('xstate.after.'));
}

/**
 * Lets everything the last event set off run out: promise answers (microtasks)
 * and the outbox, which stores and delivers at the end of the turn
 * (`setImmediate`), possibly scheduled by one of those answers. Each hop lets
 * the immediates queued before it run first.
 */
async function settle(): Promise<void> {
  for (let hop = 0; hop < 3; hop += 1) await new Promise<void>((resolve) => setImmediate(resolve));
}

/**
 * Feeds the trace's outside events and, where they came, the recorded answers
 * of the actors replaced by fakes and the delayed events, one at a time in
 * recorded order, letting the system settle after each; so everything
 * happens in the order it did.
 */
export async function replayTrace(trace: Trace, machine: AnyStateMachine = serverMachine): Promise<ReplayResult> {
  if (trace.dropped > 0) {
    throw new TraceError(
      `This trace lost its first ${trace.dropped} events (the history ring was full), so it cannot be replayed from the start. Record it again with a larger --inspect-history.`,
    );
  }
  const steps: ReplayStep[] = [];
  let taking: string[] = [];
  /** Delayed events the traced actor has been sent so far, by type. */
  const delivered = new Map<string, number>();
  const inspect = (inspection: InspectionEvent) => {
    if ((inspection.actorRef as AnyActorRef).id !== trace.actor.id) return;
    if (inspection.type === '@xstate.event' && inspection.event.type.startsWith('xstate.after.')) {
      delivered.set(inspection.event.type, (delivered.get(inspection.event.type) ?? 0) + 1);
    } else if (inspection.type === '@xstate.microstep') {
      for (const transition of (inspection as { _transitions?: AnyTransitionDefinition[] })._transitions ?? []) taking.push(transitionId(transition));
    } else if (inspection.type === '@xstate.snapshot') {
      steps.push({ event: inspection.event.type, value: (inspection.snapshot as { value?: unknown }).value ?? null, transitions: taking });
      taking = [];
    }
  };
  // A fake's answer waits until the replay reaches the recorded outcome it reproduces.
  const reached = new Set<HistoryEntry>();
  const waiting = new Map<HistoryEntry, () => void>();
  const answerAt = (outcome: HistoryEntry) =>
    reached.has(outcome) ? Promise.resolve() : new Promise<void>((resolve) => waiting.set(outcome, resolve));
  const connection = fakeConnection();
  const clock = new ReplayClock();
  const root = createActor(withReplayFakes(machine, trace.events, ACTORS_REPLAYED_FROM_THE_TRACE, answerAt), { id: 'server', input: {}, inspect, clock });
  const errors: unknown[] = [];
  root.subscribe({ error: (error) => errors.push(error) });
  root.start();
  const answers = new Set(outcomes(trace));
  const delays = new Set(delayedEvents(trace));
  /** Delayed events reached in the trace so far, by type. */
  const due = new Map<string, number>();
  const driving = [...outsideEvents(trace), ...answers, ...delays].sort((a, b) => a.seq - b.seq);
  try {
    for (const entry of driving) {
      if (answers.has(entry)) {
        reached.add(entry);
        waiting.get(entry)?.();
      } else if (delays.has(entry)) {
        // Time moves on, timer by timer, until this one has fired; if the machines no longer set it, the steps show that.
        due.set(entry.type, (due.get(entry.type) ?? 0) + 1);
        while ((delivered.get(entry.type) ?? 0) < due.get(entry.type)! && clock.fireNext()) await settle();
      } else {
        const target = entry.target === root.id ? root : findActor(root, entry.target);
        if (!target) {
          throw new TraceError(`Event #${entry.seq} (${entry.type}) is for ${entry.target}, which the replayed machines never created: the machines no longer behave as they did when the trace was recorded.`);
        }
        target.send(restoreEvent(entry.event, connection) as { type: string });
      }
      await settle();
      if (errors.length > 0) throw new TraceError(`The machines failed while replaying event #${entry.seq} (${entry.type}): ${String(errors[0])}`);
    }
  } finally {
    root.stop();
  }
  return { steps, states: distinct(steps.map((step) => step.value)), frames: connection.frames };
}

/** A child (at any depth) of `root` with this id. */
function findActor(root: AnyActorRef, id: string): AnyActorRef | undefined {
  const children = (root.getSnapshot() as { children?: Record<string, AnyActorRef | undefined> }).children ?? {};
  for (const child of Object.values(children)) {
    if (!child) continue;
    if (child.id === id) return child;
    const nested = findActor(child, id);
    if (nested) return nested;
  }
  return undefined;
}

function distinct(values: unknown[]): unknown[] {
  const changes: unknown[] = [];
  let last = '';
  for (const value of values) {
    const key = JSON.stringify(value);
    if (key !== last) changes.push(value);
    last = key;
  }
  return changes;
}
