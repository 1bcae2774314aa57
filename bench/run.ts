#!/usr/bin/env node
/**
 * @module run: `npm run bench`: runs every scenario against the project
 * server and both baselines, alternating, and writes `bench/RESULTS.md`.
 *
 *   npm run bench -- --runs 3 --scenarios fanout,steady --duration 3000 --profile
 *
 * Raw results (and, with `--profile`, a CPU profile of each scenario's first
 * project run) go to `bench/out/`, which git ignores.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { FD_HEADROOM, MEASURE_MS, RUNS, STORM_RUNS, STORM_SESSIONS, STORM_SESSIONS_TARGET, WARMUP_MS, WORKERS } from './limits.js';
import { renderReport, type ScenarioRuns } from './report.js';
import type { RunResult, Scenario, Settings } from './scenario.js';
import { startCluster } from './cluster.js';
import { auth } from './scenarios/auth.js';
import { churn } from './scenarios/churn.js';
import { cluster } from './scenarios/cluster.js';
import { storm } from './scenarios/storm.js';
import { fanout, spread, steady } from './scenarios/traffic.js';
import { startServer, type ServerKind } from './servers.js';
import { WorkerPool } from './workers.js';

const SCENARIOS: Scenario[] = [fanout, spread, steady, churn, auth, storm, cluster];
/**
 * What runs without `--scenarios`. The cluster is left out, to keep the full
 * bench within the quarter of an hour issue 12 allows on the 2-core reference
 * machine; `--scenarios cluster` runs it.
 */
const DEFAULT_SCENARIOS: Scenario[] = [fanout, spread, steady, churn, auth, storm];
/** Sources live in `bench/`, compiled to `dist/bench/`: results go next to the sources. */
const BENCH_DIR = fileURLToPath(new URL('../../bench/', import.meta.url));
const OUT_DIR = `${BENCH_DIR}out/`;

class UsageError extends Error {}

function positive(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} must be a whole number of at least 1, not "${value}".`);
  return n;
}

function parse(argv: string[]): { settings: Settings; scenarios: Scenario[]; profile: boolean } {
  const { values } = parseArgs({
    args: argv,
    options: {
      runs: { type: 'string' },
      scenarios: { type: 'string' },
      workers: { type: 'string' },
      warmup: { type: 'string' },
      duration: { type: 'string' },
      'storm-sessions': { type: 'string' },
      'storm-runs': { type: 'string' },
      profile: { type: 'boolean', default: false },
    },
  });
  const names = values.scenarios?.split(',').map((s) => s.trim()) ?? DEFAULT_SCENARIOS.map((s) => s.name);
  const scenarios = names.map((name) => {
    const scenario = SCENARIOS.find((s) => s.name === name);
    if (!scenario) throw new UsageError(`Unknown scenario "${name}". Choose from ${SCENARIOS.map((s) => s.name).join(', ')}.`);
    return scenario;
  });
  return {
    scenarios,
    profile: values.profile ?? false,
    settings: {
      runs: positive('runs', values.runs, RUNS),
      stormRuns: positive('storm-runs', values['storm-runs'], STORM_RUNS),
      workers: positive('workers', values.workers, WORKERS),
      warmupMs: positive('warmup', values.warmup, WARMUP_MS),
      measureMs: positive('duration', values.duration, MEASURE_MS),
      stormSessions: positive('storm-sessions', values['storm-sessions'], STORM_SESSIONS),
    },
  };
}

/**
 * Every process here inherits one open-files limit: the server holds one
 * socket per storm client, and each load worker its share of the clients.
 */
function openFilesLimit(): number {
  try {
    return Number(execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim()) || Infinity;
  } catch {
    return Infinity;
  }
}

async function runOnce(kind: ServerKind, scenario: Scenario, pool: WorkerPool, settings: Settings, profileName?: string): Promise<RunResult> {
  const options = profileName ? { profileDir: `${OUT_DIR}profiles`, profileName } : {};
  const server = kind === 'cluster' ? await startCluster(options) : await startServer(kind, options);
  try {
    return await scenario.run(server, pool, settings);
  } catch (error) {
    return { ok: false, problems: [(error as Error).message], figures: {} };
  } finally {
    await server.stop();
    await pool.askAll({ cmd: 'reset' }, 'reset', 60_000);
  }
}

async function main(): Promise<void> {
  let options;
  try {
    options = parse(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\nUsage: npm run bench -- [--runs N] [--scenarios ${SCENARIOS.map((s) => s.name).join(',')}] [--workers N] [--warmup MS] [--duration MS] [--storm-sessions N] [--storm-runs N] [--profile]\n`);
    process.exit(2);
  }
  const { settings, scenarios, profile } = options;
  const notesFor = new Map<Scenario, string[]>(scenarios.map((s) => [s, []]));
  const limit = openFilesLimit();
  if (settings.stormSessions + FD_HEADROOM > limit) {
    const wanted = settings.stormSessions;
    settings.stormSessions = Math.max(1, limit - FD_HEADROOM);
    notesFor.get(storm)?.push(`scaled down from ${wanted} to ${settings.stormSessions} sessions: \`ulimit -n\` is ${limit}; raise it to measure ${wanted}.`);
  }
  if (settings.stormSessions < STORM_SESSIONS_TARGET) {
    notesFor
      .get(storm)
      ?.push(
        `measured with ${settings.stormSessions} sessions, not the ${STORM_SESSIONS_TARGET} issue 12's targets name (so the last logins' connect cost is at ${settings.stormSessions} online): every login is announced to everyone, so ${STORM_SESSIONS_TARGET} logins cost ${(STORM_SESSIONS_TARGET ** 2 / 2e6).toFixed(0)}M frames, about nine minutes for each bare server (which announces each login in a turn of its own); \`npm run bench -- --scenarios storm --storm-sessions ${STORM_SESSIONS_TARGET}\` measures them.`,
      );
  }
  mkdirSync(OUT_DIR, { recursive: true });
  const pool = WorkerPool.start(settings.workers);
  const started = Date.now();
  const results: ScenarioRuns[] = [];
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  // The part of the report this run does not write (the cluster's, or everything else's) is kept from the last one.
  const existingReport = existsSync(`${BENCH_DIR}RESULTS.md`) ? readFileSync(`${BENCH_DIR}RESULTS.md`, 'utf8') : '';
  try {
    for (const scenario of scenarios) {
      const entry: ScenarioRuns = { scenario, runs: { project: [], baseline: [], corked: [], memory: [], cluster: [] }, notes: notesFor.get(scenario) ?? [] };
      results.push(entry);
      const runs = scenario.runs?.(settings) ?? settings.runs;
      for (let run = 0; run < runs; run++) {
        const kinds: ServerKind[] = scenario.kinds ?? (scenario.projectOnly ? ['project'] : scenario.compareStores ? ['project', 'baseline', 'corked', 'memory'] : ['project', 'baseline', 'corked']);
        for (const kind of kinds) {
          const profileName = profile && run === 0 ? `${scenario.name}-${kind}.cpuprofile` : undefined;
          const t0 = Date.now();
          const result = await runOnce(kind, scenario, pool, settings, profileName);
          entry.runs[kind].push(result);
          const figures = Object.entries(result.figures).map(([k, v]) => `${k}=${Number(v.toFixed(2))}`).join(' ');
          process.stdout.write(`${scenario.name} run ${run + 1}/${runs} ${kind}: ${result.ok ? 'ok' : 'FAILED'} ${figures} (${((Date.now() - t0) / 1e3).toFixed(1)} s)\n`);
          for (const problem of result.problems.slice(0, 3)) process.stdout.write(`  ${problem}\n`);
        }
      }
      // Written after every scenario, so an interrupted run still leaves what it measured.
      const report = renderReport(results, settings, (Date.now() - started) / 1e3, existingReport);
      writeFileSync(`${BENCH_DIR}RESULTS.md`, report);
      writeFileSync(`${OUT_DIR}results-${stamp}.json`, JSON.stringify({ settings, results: results.map((r) => ({ scenario: r.scenario.name, runs: r.runs, notes: r.notes })) }, null, 2));
    }
  } finally {
    pool.stop();
  }
  process.stdout.write(`\n${renderReport(results, settings, (Date.now() - started) / 1e3)}`);
}

// Interrupted, the coordinator still exits through 'exit', which kills the servers and Redis it started.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
