/**
 * @module state-coverage.test: `npm run coverage:states`: the machines'
 * states and transitions are read from their definitions, counted, and
 * reported, with the ones never taken marked.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { serverMachine } from '../machines/server.machine.js';
import { coverageLines, formatReport, machinesFrom, mergeCounts } from '../src/state-coverage/report.js';

const run = promisify(execFile);
const CLI = new URL('../dist/src/state-coverage/cli.js', import.meta.url).pathname;

describe('the state coverage report', () => {
  it('finds the server machine and every machine it spawns, from their definitions', () => {
    expect(machinesFrom(serverMachine).map((machine) => machine.id)).toEqual(['server', 'supervisor', 'session', 'channel']);
  });

  it('adds up counts from several processes and marks what was never taken', () => {
    const counts = mergeCounts([
      { channel: { states: { '': 1, opening: 1 }, transitions: { 'opening|channel.join|0': 2 } } },
      { channel: { states: { opening: 2, occupied: 1 }, transitions: { 'opening|channel.join|0': 1 } } },
    ]);
    const lines = coverageLines(machinesFrom(serverMachine).filter((machine) => machine.id === 'channel'), counts);
    expect(lines.find((line) => line.id === 'opening')?.count).toBe(3);
    expect(lines.find((line) => line.id === 'opening|channel.join|0')).toMatchObject({ name: 'opening --channel.join--> occupied', count: 3 });
    expect(lines.find((line) => line.id === 'occupied|channel.leave|0')).toMatchObject({ name: 'occupied --channel.leave [isLastMemberLeaving]--> vacant', count: 0 });
    const report = formatReport(lines);
    expect(report).toMatch(/✗ transition +occupied --channel\.leave \[isLastMemberLeaving\]--> vacant +0/);
    expect(report).toMatch(/ {3}transition +opening --channel\.join--> occupied +3/);
  });

  it('runs the tests it is given with every actor observed, and prints the counts', async () => {
    const { stdout } = await run(process.execPath, [CLI, 'test/machines/channel.machine.test.ts'], { cwd: new URL('..', import.meta.url).pathname });
    expect(stdout).toMatch(/channel machine: \d+ of 11 states and transitions taken/);
    expect(stdout).toMatch(/ {3}transition +opening --channel\.join--> occupied +[1-9]\d*/);
    // Only some tests ran, so the gaps (the server's, at least) are reported without failing.
    expect(stdout).toMatch(/✗ transition +serving --connection\.open--> \(stays\) +0/);
  }, 60_000);
});
