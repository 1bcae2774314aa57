#!/usr/bin/env node
/**
 * @module cli: `npm run replay -- trace.json`: replays a trace downloaded from
 * the inspector into the machines, without sockets, prints the states the
 * traced actor passes through, and exits 1 when they differ from the ones
 * recorded (a regression, or a trace from machines that have changed).
 */
import { TRACE_FORMAT } from '../inspection/trace.js';
import { recordedStates, recordedSteps, replayTrace, type ReplayStep } from './replay.js';
import { readTrace, TraceError } from './trace-file.js';

const USAGE = `Usage: npm run replay -- TRACE.json

Replays a trace from the inspector's "Download trace" (format ${TRACE_FORMAT})
into the server, session and channel machines, without sockets, and prints
the states the traced actor passes through. Account lookups, logins and
registrations are answered from the trace, never from a store. Exits 1 when
the states differ from the recorded ones.
`;

/** A state value as people read it: `active.guest` for `{ active: 'guest' }`; parallel regions joined by `, `. */
function describe(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  return Object.entries(value)
    .map(([key, child]) => (child !== null && typeof child === 'object' && Object.keys(child).length === 0 ? key : `${key}.${describe(child)}`))
    .join(', ');
}

const step = (item: ReplayStep | undefined) =>
  item ? `${item.event} → ${describe(item.value)} via ${item.transitions.join(', ') || 'no transition'}` : '(nothing)';

function firstDifference(recorded: ReplayStep[], replayed: ReplayStep[]): number {
  for (let index = 0; index < Math.max(recorded.length, replayed.length); index += 1) {
    if (JSON.stringify(recorded[index]) !== JSON.stringify(replayed[index])) return index;
  }
  return -1;
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  if (args.length !== 1 || args[0] === '--help' || args[0] === '-h') {
    process.stdout.write(USAGE);
    return args.length === 1 ? 0 : 2;
  }
  const file = args[0]!;
  try {
    const trace = await readTrace(file);
    const result = await replayTrace(trace);
    process.stdout.write(
      `Replaying ${file}: ${trace.actor.label}, recorded ${trace.recordedAt} on ${trace.node ?? 'a single node'}.\n\n`,
    );
    const width = Math.max(0, ...result.steps.map((step) => describe(step.value).length));
    for (const step of result.steps) process.stdout.write(`  ${describe(step.value).padEnd(width)} after ${step.event}\n`);
    process.stdout.write(`\nStates passed through: ${result.states.map(describe).join(' → ')}\n`);
    process.stdout.write(`Frames to the client:  ${result.frames.length}\n`);
    const recorded = recordedSteps(trace);
    const at = firstDifference(recorded, result.steps);
    if (at === -1) {
      process.stdout.write(`The same ${recorded.length} steps (events, states and transitions) as recorded.\n`);
      return 0;
    }
    process.stdout.write(
      `\nThe replay differs from the recording at step ${at + 1}:\n  recorded: ${step(recorded[at])}\n  replayed: ${step(result.steps[at])}\n` +
        `Recorded states: ${recordedStates(trace).map(describe).join(' → ')}\n`,
    );
    return 1;
  } catch (error) {
    if (!(error instanceof TraceError)) throw error;
    process.stderr.write(`${error.message}\n`);
    return 1;
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`${(error as Error).stack ?? error}\n`);
    process.exit(1);
  },
);
