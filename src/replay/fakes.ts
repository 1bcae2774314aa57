/**
 * @module fakes: the one place where replay swaps what does I/O for fakes.
 *
 * Machines never do I/O themselves; what does is either the connection the
 * outbox writes to, or an actor `src/` provides to a machine (an account
 * lookup, say). Replay has no sockets and must not touch real accounts, so:
 *
 * - every `connection` field of a recorded event (the inspector shows it as
 *   the string `"connection"`) becomes a {@link FakeConnection} that keeps
 *   the frames written to it;
 * - every actor named in {@link ACTORS_REPLAYED_FROM_THE_TRACE} is replaced,
 *   in the root machine and in every machine it spawns, by a fake that
 *   answers with what the trace recorded for it: the `output` of its
 *   `xstate.done.actor.*` event, or the `error` of its `xstate.error.actor.*`
 *   (redacted as in the trace: a login's token comes back as `[redacted]`,
 *   which no machine reads).
 *
 * A fake answers at once, unless given `answerAt`: the replay passes one
 * that holds each answer back until it reaches the recorded outcome among the
 * trace's events, so that a frame the client sent while the real call was
 * under way is again processed before its answer (held, say).
 *
 * When a machine gains an invoked actor that does I/O, add its name to that
 * list; replay then reproduces the recorded outcome instead of calling it.
 */
import { fromPromise, type AnyActorLogic, type AnyStateMachine } from 'xstate';
import type { accountActors } from '../../machines/accounts.js';
import type { Connection } from '../../machines/socket.js';
import type { HistoryEntry } from '../inspection/history.js';

/**
 * Names (as given in `setup({ actors })`) of actors that do I/O and are
 * replayed from the trace: the account effects a session invokes
 * (machines/accounts.ts), which would otherwise read and write real accounts.
 */
export const ACTORS_REPLAYED_FROM_THE_TRACE: readonly string[] = [
  'lookupAccount',
  'logIn',
  'register',
  'changePassword',
] satisfies readonly (keyof typeof accountActors)[];

/** When a fake may answer with `outcome`, the recorded event it reproduces; by default, at once. */
export type AnswerAt = (outcome: HistoryEntry) => Promise<void>;
const AT_ONCE: AnswerAt = () => Promise.resolve();

export interface FakeConnection extends Connection {
  frames: string[];
  closed: { code: number; reason: string } | null;
}

export function fakeConnection(): FakeConnection {
  const connection: FakeConnection = {
    frames: [],
    closed: null,
    send(data: string) {
      connection.frames.push(data);
    },
    close(code: number, reason: string) {
      connection.closed = { code, reason };
    },
  } as FakeConnection;
  return connection;
}

/** Puts live fakes where a recorded event has placeholders for objects that do I/O. */
export function restoreEvent(event: Record<string, unknown>, connection: FakeConnection): Record<string, unknown> {
  const restored: Record<string, unknown> = { ...event };
  if (restored.connection === 'connection') restored.connection = connection;
  return restored;
}

/**
 * `machine` with every actor named in {@link ACTORS_REPLAYED_FROM_THE_TRACE}
 * replaced by one answering from `recorded`, at every level of spawned machines.
 */
export function withReplayFakes<M extends AnyStateMachine>(
  machine: M,
  recorded: readonly HistoryEntry[],
  names: readonly string[] = ACTORS_REPLAYED_FROM_THE_TRACE,
  answerAt: AnswerAt = AT_ONCE,
): M {
  const actors = (machine.implementations.actors ?? {}) as Record<string, AnyActorLogic>;
  const replaced: Record<string, AnyActorLogic> = {};
  for (const [name, logic] of Object.entries(actors)) {
    if (names.includes(name)) replaced[name] = replayedActor(name, recorded, answerAt);
    else if (isMachine(logic) && logic !== (machine as AnyStateMachine)) {
      const faked = withReplayFakes(logic, recorded, names, answerAt);
      if (faked !== logic) replaced[name] = faked;
    }
  }
  return Object.keys(replaced).length === 0 ? machine : (machine.provide({ actors: replaced } as never) as M);
}

function isMachine(logic: unknown): logic is AnyStateMachine {
  return typeof logic === 'object' && logic !== null && 'root' in logic && 'provide' in logic;
}

/** Answers the n-th invocation of an actor with the n-th outcome the trace recorded for that invocation id. */
function replayedActor(name: string, recorded: readonly HistoryEntry[], answerAt: AnswerAt): AnyActorLogic {
  const used = new Map<string, number>();
  return fromPromise(async ({ self }) => {
    const id = self.id;
    const outcomes = recorded.filter((entry) => entry.dir === 'in' && (entry.type === `xstate.done.actor.${id}` || entry.type === `xstate.error.actor.${id}`));
    const index = used.get(id) ?? 0;
    used.set(id, index + 1);
    const outcome = outcomes[index];
    if (!outcome) {
      throw new Error(`The trace has no outcome for invocation ${index + 1} of ${name} (${id}): it was recorded before that actor answered.`);
    }
    await answerAt(outcome);
    if (outcome.type.startsWith('xstate.error.')) throw outcome.event.error;
    return outcome.event.output;
  });
}
