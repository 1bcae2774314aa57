/**
 * @module transitions: every state and transition of a machine, read from its
 * definition (`machine.root` and its state nodes), never listed by hand.
 *
 * The diagram, the "transition just taken" highlight and the state coverage
 * report all name a transition the same way, by {@link transitionId}, so that
 * a machine which gains states (accounts, say) shows up everywhere without
 * touching this code.
 */
import type { AnyStateMachine, AnyTransitionDefinition } from 'xstate';

export interface StateInfo {
  /** Dotted path from the root, `''` for the machine itself. */
  path: string;
  key: string;
  type: string;
  /** The initial child's path, for compound states. */
  initial: string | null;
  /** Child paths, in definition order. */
  states: string[];
}

export interface TransitionInfo {
  id: string;
  /** Path of the state that declares it (`''`: the machine's top-level `on`). */
  source: string;
  /** The event descriptor as declared (`client.join`, `xstate.done.actor.*`, `always`). */
  event: string;
  /** What a person reads on the arrow: the event, with delays and actor events spelled out. */
  label: string;
  guard: string | null;
  /** Target paths; empty for a transition that only runs actions and stays put. */
  targets: string[];
}

/** The slice of XState's StateNode this module reads. */
interface StateNodeLike {
  key: string;
  type: string;
  path: string[];
  states: Record<string, StateNodeLike>;
  initial?: { target: readonly StateNodeLike[] };
  transitions: Map<string, readonly AnyTransitionDefinition[]>;
  always?: readonly AnyTransitionDefinition[] | undefined;
}

const pathOf = (node: { path: readonly string[] }): string => node.path.join('.');

/**
 * A transition's stable name: where it is declared, for which event, and its
 * position among that event's candidates there (guarded alternatives differ
 * only by position). The same for a machine and its `provide()`d variants.
 */
export function transitionId(transition: AnyTransitionDefinition): string {
  const source = transition.source as unknown as StateNodeLike;
  const candidates = transition.eventType === '' || !source.transitions.has(transition.eventType)
    ? (source.always ?? [])
    : (source.transitions.get(transition.eventType) ?? []);
  const event = candidates === source.always ? 'always' : transition.eventType;
  return `${pathOf(source)}|${event}|${Math.max(0, candidates.indexOf(transition))}`;
}

export function statesOf(machine: AnyStateMachine): StateInfo[] {
  const states: StateInfo[] = [];
  const visit = (node: StateNodeLike) => {
    states.push({
      path: pathOf(node),
      key: node.key,
      type: node.type,
      initial: node.initial?.target[0] ? pathOf(node.initial.target[0]) : null,
      states: Object.values(node.states).map(pathOf),
    });
    for (const child of Object.values(node.states)) visit(child);
  };
  visit(machine.root as unknown as StateNodeLike);
  return states;
}

export function transitionsOf(machine: AnyStateMachine): TransitionInfo[] {
  const transitions: TransitionInfo[] = [];
  const visit = (node: StateNodeLike) => {
    const add = (event: string, candidates: readonly AnyTransitionDefinition[]) =>
      candidates.forEach((candidate, index) =>
        transitions.push({
          id: `${pathOf(node)}|${event}|${index}`,
          source: pathOf(node),
          event,
          label: eventLabel(event),
          guard: guardName(candidate.guard),
          targets: (candidate.target ?? []).map((target) => pathOf(target as unknown as StateNodeLike)),
        }),
      );
    for (const [event, candidates] of node.transitions) add(event, candidates);
    add('always', node.always ?? []);
    for (const child of Object.values(node.states)) visit(child);
  };
  visit(machine.root as unknown as StateNodeLike);
  return transitions;
}

/** `xstate.after.5000.session.active` reads as `after 5000 ms`; invoked actors' results by their id. */
export function eventLabel(event: string): string {
  const after = /^xstate\.after\.(\d+)\./.exec(event);
  if (after) return `after ${after[1]} ms`;
  const actor = /^xstate\.(done|error)\.actor\.(.+)$/.exec(event);
  if (actor) return `${actor[1] === 'done' ? 'done' : 'error'}: ${actor[2] === '*' ? 'any child' : actor[2]}`;
  const done = /^xstate\.done\.state\./.exec(event);
  if (done) return 'done';
  return event;
}

function guardName(guard: unknown): string | null {
  if (guard === undefined || guard === null) return null;
  if (typeof guard === 'string') return guard;
  if (typeof guard === 'function') return guard.name && guard.name !== 'guard' ? guard.name : 'inline guard';
  const type = (guard as { type?: unknown }).type;
  return typeof type === 'string' ? type : 'guard';
}
