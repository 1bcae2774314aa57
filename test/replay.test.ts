/**
 * @module replay.test: `npm run replay` and the replay behind it: a real
 * trace replays to the recorded steps, a changed machine is caught, and
 * traces that cannot be replayed are refused with a reason.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { assign, createActor, fromPromise, setup, waitFor, type AnyStateMachine } from 'xstate';
import { accountActors } from '../machines/accounts.js';
import { channelMachine } from '../machines/channel.machine.js';
import { serverMachine, sessionsOf, withSessions } from '../machines/server.machine.js';
import { sessionMachine } from '../machines/session.machine.js';
import type { HistoryEntry } from '../src/inspection/history.js';
import { ACTORS_REPLAYED_FROM_THE_TRACE, withReplayFakes } from '../src/replay/fakes.js';
import { recordedStates, recordedSteps, replayTrace } from '../src/replay/replay.js';
import { parseTrace, readTrace, TraceError } from '../src/replay/trace-file.js';
import { TRACES } from './support/trace.js';

const run = promisify(execFile);
const EXAMPLE = `${TRACES}alice-joins-talks-and-leaves.json`;
const CLI = new URL('../dist/src/replay/cli.js', import.meta.url).pathname.replace('/dist/dist/', '/dist/');

describe('replaying a trace', () => {
  it('passes through the recorded states, and sends the client its frames', async () => {
    const trace = await readTrace(EXAMPLE);
    const result = await replayTrace(trace);
    // The nick is looked up (answered from the trace, no store touched) and is not registered: alice is a guest.
    expect(result.states).toEqual(['identifying', { handshaking: 'greeting' }, { active: 'guest' }, 'closing', 'closed']);
    expect(result.states).toEqual(recordedStates(trace));
    const frames = result.frames.map((frame) => JSON.parse(frame) as { type: number; code?: string; offset?: number });
    expect(frames.filter((frame) => frame.type === -1).map((frame) => frame.code)).toEqual(['not_member', 'already_member']);
    // Channel events leave the outbox at the end of the turn, stored and numbered: they are there, in order, all the same.
    expect(frames.map((frame) => frame.type)).toEqual([2, 6, 4, 0, -1, -1, 6, 5]);
    expect(frames.filter((frame) => frame.offset !== undefined).map((frame) => frame.offset)).toEqual([1, 2, 3]);
  });

  it('catches a machine that now takes another transition for the same events', async () => {
    const trace = await readTrace(EXAMPLE);
    // As if a change made every session think it is in no channel.
    const changed = withSessions(serverMachine, sessionMachine.provide({ guards: { isMember: () => false } }));
    const replayed = (await replayTrace(trace, changed)).steps;
    const recorded = recordedSteps(trace);
    expect(replayed).not.toEqual(recorded);
    // Its message is now refused: the same state, but another transition, which is what gives it away.
    const message = recorded.findIndex((step) => step.event === 'client.message');
    expect(recorded[message]).toMatchObject({ value: { active: 'guest' }, transitions: ['active|client.message|0'] });
    expect(replayed[message]).toEqual({ event: 'client.message', value: { active: 'guest' }, transitions: ['active|client.message|1'] });
  });

  it('hands back an account call’s answer where the trace has it, after a frame that came while it was under way', async () => {
    const trace = await readTrace(EXAMPLE);
    // As if alice's join had come before the lookup answered: the recorded trace, with that one event moved earlier.
    const answer = trace.events.find((entry) => entry.type.startsWith('xstate.done.actor.0.session.identifying'))!;
    const join = trace.events.find((entry) => entry.type === 'client.join')!;
    const early = { ...trace, events: trace.events.map((entry) => (entry === join ? { ...entry, seq: answer.seq - 0.5 } : entry)) };
    const steps = (await replayTrace(early)).steps.map(({ event, value }) => ({ event, value }));
    // Held while identifying, then raised again on entering active (within that step): the session joins all the same.
    expect(steps.slice(0, 5)).toEqual([
      { event: 'xstate.init', value: 'identifying' },
      { event: 'client.join', value: 'identifying' },
      { event: answer.type, value: { handshaking: 'greeting' } },
      { event: 'session.accepted', value: { active: 'guest' } },
      { event: 'channel.joined', value: { active: 'guest' } },
    ]);
  });

  it('refuses a trace whose start the history ring dropped, and files that are not traces', async () => {
    const trace = await readTrace(EXAMPLE);
    await expect(replayTrace({ ...trace, dropped: 3 })).rejects.toThrow(/lost its first 3 events .* larger --inspect-history/);
    expect(() => parseTrace('{"format":"other"}', 'x.json')).toThrow(TraceError);
    expect(() => parseTrace('{"format":"other"}', 'x.json')).toThrow(/x\.json is not an xstate-chat trace .*Download trace/);
    expect(() => parseTrace('nope', 'y.json')).toThrow(/y\.json is not JSON/);
    await expect(readTrace('/nonexistent/trace.json')).rejects.toThrow(/Cannot read \/nonexistent\/trace\.json: ENOENT/);
  });
});

describe('npm run replay', () => {
  it('prints the states a trace passes through and exits 0 when they are the recorded ones', async () => {
    const { stdout } = await run(process.execPath, [CLI, EXAMPLE]);
    expect(stdout).toContain('session:2 · alice');
    expect(stdout).toContain('States passed through: identifying → handshaking.greeting → active.guest → closing → closed');
    expect(stdout).toMatch(/closing +after client\.logout/);
    expect(stdout).toContain('The same 12 steps (events, states and transitions) as recorded.');
  });

  it('exits 1 with the reason for a file that is not a trace', async () => {
    const failure = await run(process.execPath, [CLI, '/nonexistent/trace.json']).catch((error: { code: number; stderr: string }) => error);
    expect(failure).toMatchObject({ code: 1 });
    expect((failure as { stderr: string }).stderr).toContain('Cannot read /nonexistent/trace.json');
  });
});

describe('replay fakes', () => {
  // A machine shaped like the account lookup on its way: a session invoking an actor that does I/O.
  let realLookups = 0;
  const lookup = fromPromise<{ known: boolean }, { nick: string }>(async () => {
    realLookups += 1;
    return { known: true };
  });
  const session = setup({ types: { context: {} as { error: string | null } }, actors: { lookupAccount: lookup } }).createMachine({
    id: 'session',
    context: { error: null },
    initial: 'authenticating',
    states: {
      authenticating: {
        invoke: {
          id: 'lookup',
          src: 'lookupAccount',
          input: { nick: 'alice' },
          onDone: [{ guard: ({ event }) => event.output.known, target: 'active' }, { target: 'registering' }],
          onError: { target: 'refused', actions: assign({ error: ({ event }) => String(event.error) }) },
        },
      },
      active: {},
      registering: {},
      refused: {},
    },
  });
  const outcome = (type: string, event: Record<string, unknown>): HistoryEntry => ({ seq: 1, at: 0, dir: 'in', source: 'lookup', target: 'session', type, event: { type, ...event } });

  it.each([
    [outcome('xstate.done.actor.lookup', { output: { known: true } }), 'active'],
    [outcome('xstate.done.actor.lookup', { output: { known: false } }), 'registering'],
    [outcome('xstate.error.actor.lookup', { error: 'no database' }), 'refused'],
  ])('answer an invoked actor named in the list with the outcome the trace recorded (%#)', async (recorded, state) => {
    const actor = createActor(withReplayFakes(session, [recorded], ['lookupAccount'])).start();
    await waitFor(actor, (snapshot) => snapshot.value !== 'authenticating');
    expect(actor.getSnapshot().value).toBe(state);
    expect(realLookups).toBe(0);
  });

  it('say so when the trace ends before the actor answered', async () => {
    const actor = createActor(withReplayFakes(session, [], ['lookupAccount'])).start();
    await waitFor(actor, (snapshot) => snapshot.value !== 'authenticating');
    expect(actor.getSnapshot().context.error).toBe(
      'Error: The trace has no outcome for invocation 1 of lookupAccount (lookup): it was recorded before that actor answered.',
    );
    expect(realLookups).toBe(0);
  });

  it('leave actors not in the list to their real implementation', async () => {
    const actor = createActor(withReplayFakes(session, [], [])).start();
    await waitFor(actor, (snapshot) => snapshot.value !== 'authenticating');
    expect(actor.getSnapshot().value).toBe('active');
    expect(realLookups).toBe(1);
  });

  it('leave a machine without such actors as it is', () => {
    expect(withReplayFakes(channelMachine, [])).toBe(channelMachine);
  });

  it('replace every account effect of the sessions the server spawns, so a replay never touches accounts', () => {
    // A new effect in machines/accounts.ts must be replayed from the trace too, or a replay would call the store.
    expect([...ACTORS_REPLAYED_FROM_THE_TRACE].sort()).toEqual(Object.keys(accountActors).sort());
    const session = sessionsOf(withReplayFakes(serverMachine, [])) as AnyStateMachine;
    for (const name of ACTORS_REPLAYED_FROM_THE_TRACE) {
      expect(session.implementations.actors[name], name).toBeDefined();
      expect(session.implementations.actors[name], name).not.toBe(sessionMachine.implementations.actors[name]);
    }
  });
});
