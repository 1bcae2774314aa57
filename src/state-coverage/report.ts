/**
 * @module report: every state and transition of the server machine and of
 * every machine it spawns, read from their definitions, with how often a
 * test run took each, and which were never taken.
 */
import type { AnyStateMachine } from 'xstate';
import { statesOf, transitionsOf } from '../inspection/transitions.js';
import type { CoverageCounts } from './collector.js';

export interface CoverageLine {
  machine: string;
  kind: 'state' | 'transition';
  /** `active`, or `active --client.logout--> closing`. */
  name: string;
  id: string;
  count: number;
}

/** The root machine and every machine reachable through its actor implementations, each once. */
export function machinesFrom(root: AnyStateMachine): AnyStateMachine[] {
  const found = new Map<string, AnyStateMachine>();
  const visit = (machine: AnyStateMachine) => {
    if (found.has(machine.id)) return;
    found.set(machine.id, machine);
    for (const logic of Object.values(machine.implementations.actors ?? {})) {
      if (typeof logic === 'object' && logic !== null && 'root' in logic) visit(logic as AnyStateMachine);
    }
  };
  visit(root);
  return [...found.values()];
}

export function mergeCounts(all: CoverageCounts[]): CoverageCounts {
  const merged: CoverageCounts = {};
  for (const counts of all) {
    for (const [machine, { states, transitions }] of Object.entries(counts)) {
      const into = (merged[machine] ??= { states: {}, transitions: {} });
      for (const [id, count] of Object.entries(states)) into.states[id] = (into.states[id] ?? 0) + count;
      for (const [id, count] of Object.entries(transitions)) into.transitions[id] = (into.transitions[id] ?? 0) + count;
    }
  }
  return merged;
}

export function coverageLines(machines: AnyStateMachine[], counts: CoverageCounts): CoverageLine[] {
  const lines: CoverageLine[] = [];
  for (const machine of machines) {
    const counted = counts[machine.id] ?? { states: {}, transitions: {} };
    for (const state of statesOf(machine)) {
      const name = state.path === '' ? `(machine ${machine.id})` : state.path;
      lines.push({ machine: machine.id, kind: 'state', name, id: state.path, count: counted.states[state.path] ?? 0 });
    }
    for (const transition of transitionsOf(machine)) {
      const from = transition.source === '' ? `(machine ${machine.id})` : transition.source;
      const label = transition.guard ? `${transition.label} [${transition.guard}]` : transition.label;
      const to = transition.targets.length === 0 ? '(stays)' : transition.targets.join(', ');
      lines.push({ machine: machine.id, kind: 'transition', name: `${from} --${label}--> ${to}`, id: transition.id, count: counted.transitions[transition.id] ?? 0 });
    }
  }
  return lines;
}

export function formatReport(lines: CoverageLine[]): string {
  const width = Math.max(...lines.map((line) => line.name.length));
  let text = '';
  let machine = '';
  for (const line of lines) {
    if (line.machine !== machine) {
      machine = line.machine;
      const own = lines.filter((candidate) => candidate.machine === machine);
      text += `\n${machine} machine: ${own.filter((item) => item.count > 0).length} of ${own.length} states and transitions taken\n`;
    }
    text += `  ${line.count === 0 ? '✗' : ' '} ${line.kind.padEnd(10)} ${line.name.padEnd(width)}  ${String(line.count).padStart(7)}\n`;
  }
  return text;
}
