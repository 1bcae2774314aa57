/**
 * @module collector: counts the states entered and transitions taken by every
 * machine of a running server, for `npm run coverage:states`.
 *
 * It is on only when the environment variable {@link COVERAGE_DIR_VARIABLE}
 * names a directory (the coverage command sets it for the test run it
 * starts); otherwise no observer exists and nothing is counted. Each process
 * writes its totals to one file there, which the command adds up.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AnyActorRef, AnyTransitionDefinition, InspectionEvent } from 'xstate';
import { transitionId } from '../inspection/transitions.js';

export const COVERAGE_DIR_VARIABLE = 'XSTATE_CHAT_STATE_COVERAGE';

/** Per machine id: how often each state path was entered and each transition id taken. */
export interface CoverageCounts {
  [machine: string]: { states: Record<string, number>; transitions: Record<string, number> };
}

const counts: CoverageCounts = {};
const active = new WeakMap<object, Set<string>>();
let exitHooked = false;

function machineIdOf(ref: AnyActorRef): string | undefined {
  const logic = (ref as { logic?: { root?: unknown; id?: string } }).logic;
  return logic && logic.root ? logic.id : undefined;
}

function bucket(machine: string) {
  return (counts[machine] ??= { states: {}, transitions: {} });
}

function paths(value: unknown, prefix = ''): string[] {
  if (typeof value === 'string') return [prefix + value];
  if (!value || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, child]) => [prefix + key, ...paths(child, `${prefix}${key}.`)]);
}

function observe(inspection: InspectionEvent): void {
  const ref = inspection.actorRef as AnyActorRef;
  if (inspection.type !== '@xstate.microstep' && inspection.type !== '@xstate.snapshot') return;
  const machine = machineIdOf(ref);
  if (!machine) return;
  const counted = bucket(machine);
  if (inspection.type === '@xstate.microstep') {
    for (const transition of (inspection as { _transitions?: AnyTransitionDefinition[] })._transitions ?? []) {
      const id = transitionId(transition);
      counted.transitions[id] = (counted.transitions[id] ?? 0) + 1;
    }
  }
  const snapshot = inspection.snapshot as { value?: unknown };
  const now = new Set(paths(snapshot.value));
  const before = active.get(ref);
  if (!before) counted.states[''] = (counted.states[''] ?? 0) + 1;
  for (const path of now) if (!before?.has(path)) counted.states[path] = (counted.states[path] ?? 0) + 1;
  active.set(ref, now);
}

/** The observer to attach when coverage is on, or undefined: then nothing is observed at all. */
export function stateCoverageObserver(): ((inspection: InspectionEvent) => void) | undefined {
  if (!process.env[COVERAGE_DIR_VARIABLE]) return undefined;
  if (!exitHooked) {
    exitHooked = true;
    process.once('exit', writeStateCoverage);
  }
  return observe;
}

/** Writes this process's totals so far; called when a server closes and when the process exits. */
export function writeStateCoverage(): void {
  const dir = process.env[COVERAGE_DIR_VARIABLE];
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${process.pid}.json`), JSON.stringify(counts));
}
