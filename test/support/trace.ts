/**
 * @module trace: turns a trace downloaded from the inspector into a
 * regression test in one line. Save the file under test/traces/ and write
 *
 *     traceTest('my-trace.json');
 *
 * in a test file there: the test replays the trace into the machines (no
 * sockets) and fails when any event now leads to another state, or through
 * other transitions, than when it was recorded.
 */
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { recordedSteps, replayTrace } from '../../src/replay/replay.js';
import { readTrace } from '../../src/replay/trace-file.js';

export const TRACES = fileURLToPath(new URL('../traces/', import.meta.url));

export function traceTest(file: string): void {
  it(`replays ${file} through the recorded states and transitions`, async () => {
    const trace = await readTrace(`${TRACES}${file}`);
    const recorded = recordedSteps(trace);
    expect(recorded.length, 'a trace with no recorded steps would prove nothing').toBeGreaterThan(0);
    expect((await replayTrace(trace)).steps).toEqual(recorded);
  });
}
