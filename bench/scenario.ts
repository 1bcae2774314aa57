/**
 * @module scenario: what every benchmark scenario is and what one run of it yields.
 */
import type { RunningServer, ServerKind } from './servers.js';
import type { WorkerPool } from './workers.js';

export interface Settings {
  runs: number;
  /** Runs of the idle scenario, which is too slow for `runs`. */
  idleRuns: number;
  workers: number;
  warmupMs: number;
  measureMs: number;
  idleSessions: number;
}

/** One figure a scenario reports, and the target its ratio to the baseline must meet. */
export interface FigureSpec {
  key: string;
  label: string;
  unit: string;
  /** Which way is better, which decides what "meets the target" means. */
  better: 'higher' | 'lower';
  /** The ratio (project / baseline) to reach: at least it when higher is better, at most it otherwise. */
  target?: number;
  /** Printed with this many decimals. */
  decimals: number;
}

export interface RunResult {
  /** False when any frame was lost, duplicated or reordered, or a client failed: the figures then do not count. */
  ok: boolean;
  problems: string[];
  figures: Record<string, number>;
}

export interface Scenario {
  name: string;
  /** One line for the report: what load, what is measured. */
  describe(settings: Settings): string;
  figures: FigureSpec[];
  /** Runs per server, when not `settings.runs`. */
  runs?(settings: Settings): number;
  /** Measures what the baseline does not have (accounts): its figures are the project's alone. */
  projectOnly?: boolean;
  /** Also runs the project on `--store memory`, to report what its SQLite store costs. */
  compareStores?: boolean;
  /**
   * The servers to run, alternating, when not the project and the baseline:
   * the first is measured against the second (the cluster against one node).
   */
  kinds?: [ServerKind, ServerKind];
  run(server: RunningServer, pool: WorkerPool, settings: Settings): Promise<RunResult>;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));
