/**
 * @module report: turns the runs into `bench/RESULTS.md`: medians of the
 * passing runs for each figure, the ratio project / baseline, and whether each
 * target is met.
 */
import { cpus, totalmem } from 'node:os';
import type { FigureSpec, RunResult, Scenario, Settings } from './scenario.js';
import type { ServerKind } from './servers.js';
import { median } from './stats.js';

export interface ScenarioRuns {
  scenario: Scenario;
  runs: Record<ServerKind, RunResult[]>;
  notes: string[];
}

function format(value: number, decimals: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  return value.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

function medianOf(runs: RunResult[], key: string): number {
  const passing = runs.filter((run) => run.ok).map((run) => run.figures[key]!);
  return passing.length === 0 ? Number.NaN : median(passing);
}

function verdict(spec: FigureSpec, ratio: number): string {
  if (spec.target === undefined) return '';
  if (!Number.isFinite(ratio)) return `target ${spec.better === 'higher' ? '≥' : '≤'} ${spec.target}x: **not measured**`;
  const met = spec.better === 'higher' ? ratio >= spec.target : ratio <= spec.target;
  return `target ${spec.better === 'higher' ? '≥' : '≤'} ${spec.target}x: ${met ? 'met' : '**not met**'}`;
}

/** The shipped store may cost at most 15% of the throughput of memory. */
const STORE_COST: Omit<FigureSpec, 'key'> = { label: 'store cost', unit: '', better: 'higher', target: 0.85, decimals: 2 };

function failures(runs: RunResult[]): string {
  const failed = runs.filter((run) => !run.ok).length;
  return failed === 0 ? `${runs.length}` : `${runs.length - failed} (${failed} failed)`;
}

export function renderReport(results: ScenarioRuns[], settings: Settings, elapsedSeconds: number): string {
  const cpu = cpus();
  const lines = [
    '# Benchmark results',
    '',
    'Written by `npm run bench` (see `bench/run.ts`). The project server (`dist/src/cli.js`) and the baseline',
    '(`bench/baselines/ws-server.ts`: the same protocol on bare `ws`, one `JSON.stringify` and `ws.send` per',
    'recipient per frame) run as child processes, started fresh for every run and alternated project, baseline,',
    'project, baseline… Load comes from forked worker processes on the same machine over loopback.',
    '',
    `- date: ${new Date().toISOString()}`,
    `- node: ${process.version} (${process.platform} ${process.arch})`,
    `- machine: ${cpu.length} cores (${cpu[0]?.model.trim() ?? 'unknown CPU'}), ${format(totalmem() / 2 ** 30, 1)} GiB memory`,
    `- settings: ${settings.runs} runs per server and scenario (idle: ${settings.idleRuns}), ${settings.workers} load workers, ${settings.warmupMs} ms warm-up, ${settings.measureMs} ms measured, ${settings.idleSessions} idle sessions`,
    `- the whole benchmark took ${format(elapsedSeconds / 60, 1)} minutes`,
    '',
    'Figures are medians over the passing runs. A run in which any frame was lost, duplicated or reordered, or',
    'any client failed, is a failure and gives no figure. The ratio is project / baseline, of the medians.',
    '',
    '| scenario | figure | project | baseline | ratio | target |',
    '|---|---|---:|---:|---:|---|',
  ];
  for (const { scenario, runs } of results) {
    for (const spec of scenario.figures) {
      const project = medianOf(runs.project, spec.key);
      const baseline = medianOf(runs.baseline, spec.key);
      const ratio = project / baseline;
      const unit = spec.unit ? ` (${spec.unit})` : '';
      lines.push(
        `| ${scenario.name} | ${spec.label}${unit} | ${format(project, spec.decimals)} | ${format(baseline, spec.decimals)} | ${Number.isFinite(ratio) ? `${format(ratio, 2)}x` : 'n/a'} | ${verdict(spec, ratio)} |`,
      );
    }
    if (runs.memory.length > 0) {
      // What the shipped SQLite store costs: the project against itself on --store memory, in the same run.
      const onSqlite = medianOf(runs.project, 'deliveries');
      const onMemory = medianOf(runs.memory, 'deliveries');
      const cost = onSqlite / onMemory;
      lines.push(
        `| ${scenario.name} | deliveries/s, project on --store memory (ratio: SQLite / memory) | ${format(onMemory, 0)} | | ${Number.isFinite(cost) ? `${format(cost, 2)}x` : 'n/a'} | ${verdict({ ...STORE_COST, key: 'deliveries' }, cost)} |`,
      );
    }
  }
  lines.push('', '## Scenarios', '');
  for (const { scenario, runs, notes } of results) {
    const memoryRuns = runs.memory.length > 0 ? `, project on --store memory ${failures(runs.memory)}` : '';
    lines.push(`- **${scenario.name}**: ${scenario.describe(settings)} Runs: project ${failures(runs.project)}, baseline ${failures(runs.baseline)}${memoryRuns}.`);
    for (const note of notes) lines.push(`  - ${note}`);
    for (const kind of ['project', 'baseline', 'memory'] as const) {
      const problems = runs[kind].flatMap((run) => run.problems);
      if (problems.length > 0) lines.push(`  - ${kind} failures, first few: ${problems.slice(0, 3).map((p) => `\`${p}\``).join('; ')}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
