#!/usr/bin/env node
/**
 * @module inspector: `npm run bench:inspector`: what the inspector costs.
 *
 * Runs the fanout scenario against the project server three ways,
 * alternating: without `--inspect` (no observer at all), with `--inspect`
 * and no page open, and with the inspector page open in Chromium (showing
 * the server's diagram and a sequence of the server and the outbox) for the
 * whole run. It prints deliveries per second for each, the ratio to no
 * inspector (the target: at least 0.7 with the page open), and how long the
 * page's frames took meanwhile (a responsive page keeps them short).
 *
 *   npm run bench:inspector -- --runs 3
 */
import { parseArgs } from 'node:util';
import { chromium, type Browser, type Page } from 'playwright-core';
import { MEASURE_MS, WARMUP_MS, WORKERS } from './limits.js';
import type { Settings } from './scenario.js';
import { fanout } from './scenarios/traffic.js';
import { startServer } from './servers.js';
import { percentile } from './stats.js';
import { WorkerPool } from './workers.js';

const MODES = ['no inspector', 'inspector, no page', 'inspector page open'] as const;
type Mode = (typeof MODES)[number];
const TARGET = 0.7;

interface Sample {
  deliveries: number;
  /** Frame gaps in the page, in ms (only with the page open). */
  frames: number[];
}

async function openPage(browser: Browser, url: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
  await page.goto(`${url}/inspector`);
  await page.getByRole('status').filter({ hasText: 'Live.' }).waitFor();
  await page.getByRole('button', { name: 'Add to sequence' }).click();
  // Records the gap between animation frames: long gaps are a page that does not respond.
  await page.evaluate(() => {
    const gaps: number[] = [];
    (window as unknown as { gaps: number[] }).gaps = gaps;
    let last = performance.now();
    const tick = (now: number) => {
      gaps.push(now - last);
      last = now;
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
  return page;
}

async function runOnce(mode: Mode, pool: WorkerPool, settings: Settings, browser: Browser): Promise<Sample> {
  const server = await startServer('project', { args: mode === 'no inspector' ? [] : ['--inspect'] });
  let page: Page | undefined;
  try {
    if (mode === 'inspector page open') page = await openPage(browser, server.url);
    const result = await fanout.run(server, pool, settings);
    if (!result.ok) throw new Error(`the fanout run failed: ${result.problems.slice(0, 3).join('; ')}`);
    const frames = page ? await page.evaluate(() => (window as unknown as { gaps: number[] }).gaps) : [];
    return { deliveries: result.figures.deliveries!, frames };
  } finally {
    await page?.close();
    await server.stop();
    await pool.askAll({ cmd: 'reset' }, 'reset', 60_000);
  }
}

const median = (values: number[]) => percentile(Float64Array.from(values).sort(), 0.5);

async function main(): Promise<void> {
  const { values } = parseArgs({ args: process.argv.slice(2), options: { runs: { type: 'string' } } });
  const runs = Number(values.runs ?? 3);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a whole number of at least 1, not "${values.runs}".`);
  const settings: Settings = { runs, stormRuns: 1, workers: WORKERS, warmupMs: WARMUP_MS, measureMs: MEASURE_MS, stormSessions: 1 };
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'] });
  const pool = WorkerPool.start(settings.workers);
  const samples = new Map<Mode, Sample[]>(MODES.map((mode) => [mode, []]));
  try {
    for (let run = 1; run <= runs; run += 1) {
      for (const mode of MODES) {
        const sample = await runOnce(mode, pool, settings, browser);
        samples.get(mode)!.push(sample);
        process.stdout.write(`run ${run}/${runs} ${mode}: ${sample.deliveries.toFixed(0)} deliveries/s\n`);
      }
    }
  } finally {
    pool.stop();
    await browser.close();
  }
  const base = median(samples.get('no inspector')!.map((sample) => sample.deliveries));
  process.stdout.write('\nfanout, median deliveries/s:\n');
  for (const mode of MODES) {
    const value = median(samples.get(mode)!.map((sample) => sample.deliveries));
    process.stdout.write(`  ${mode.padEnd(20)} ${value.toFixed(0).padStart(8)}  ${(value / base).toFixed(2)} of no inspector\n`);
  }
  const frames = Float64Array.from(samples.get('inspector page open')!.flatMap((sample) => sample.frames)).sort();
  process.stdout.write(
    `\nInspector page frames during the runs: median ${percentile(frames, 0.5).toFixed(0)} ms, p99 ${percentile(frames, 0.99).toFixed(0)} ms, longest ${(frames.at(-1) ?? 0).toFixed(0)} ms.\n`,
  );
  const ratio = median(samples.get('inspector page open')!.map((sample) => sample.deliveries)) / base;
  process.stdout.write(ratio >= TARGET ? `Meets the target: at least ${TARGET} of the throughput with the page open.\n` : `Misses the target of ${TARGET}.\n`);
  process.exit(ratio >= TARGET ? 0 : 1);
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(1);
});
