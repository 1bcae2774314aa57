#!/usr/bin/env node
/**
 * @module cli: `npm run coverage:states`: runs the test suite (vitest) with
 * state coverage on, then prints every state and transition of the server
 * machine and the machines it spawns with how often the tests took it, and
 * fails when one was never taken. Arguments go to vitest; when some are
 * given (a subset of the tests), gaps are reported but do not fail the run.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { serverMachine } from '../../machines/server.machine.js';
import { COVERAGE_DIR_VARIABLE, type CoverageCounts } from './collector.js';
import { coverageLines, formatReport, machinesFrom, mergeCounts } from './report.js';

const args = process.argv.slice(2);
const quiet = args[0] === '--quiet';
const vitestArgs = quiet ? args.slice(1) : args;
const dir = mkdtempSync(join(tmpdir(), 'xstate-chat-state-coverage-'));
// The package exports no path to its command, so find it next to its package.json.
const vitest = join(dirname(createRequire(import.meta.url).resolve('vitest/package.json')), 'vitest.mjs');

const run = spawnSync(process.execPath, [vitest, 'run', ...vitestArgs], {
  stdio: 'inherit',
  env: { ...process.env, [COVERAGE_DIR_VARIABLE]: dir },
});

const counts = mergeCounts(
  readdirSync(dir)
    .filter((file) => file.endsWith('.json'))
    .map((file) => JSON.parse(readFileSync(join(dir, file), 'utf8')) as CoverageCounts),
);
rmSync(dir, { recursive: true, force: true });

const lines = coverageLines(machinesFrom(serverMachine), counts);
const missed = lines.filter((line) => line.count === 0);
if (quiet) {
  if (missed.length > 0) process.stdout.write(formatReport(missed));
} else process.stdout.write(formatReport(lines));

const taken = lines.length - missed.length;
process.stdout.write(`\nState coverage: ${taken} of ${lines.length} states and transitions taken by the tests.\n`);
if (missed.length > 0) {
  process.stdout.write(
    `Never taken (✗ above): ${missed.map((line) => `${line.machine}: ${line.name}`).join('; ')}.\n` +
      'Add an event to the model in test/model/chat.model.ts (and its executor in chat.model.test.ts) that takes each one, or a test that does.\n',
  );
}
const failedTests = run.status !== 0;
if (failedTests) process.stdout.write(`The tests failed (vitest exited ${run.status ?? run.signal}).\n`);
process.exit(failedTests || (missed.length > 0 && vitestArgs.length === 0) ? 1 : 0);
