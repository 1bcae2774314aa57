/**
 * @module scenario: what every benchmark scenario is and what one run of it yields.
 */
import type { RunningServer, ServerKind } from './servers.js';
import type { WorkerPool } from './workers.js';

export interface Settings {
  runs: number;
  /** Runs of the storm, which is too slow for `runs`. */
  stormRuns: number;
  workers: number;
  warmupMs: number;
  measureMs: number;
  /** Clients in the storm. */
  stormSessions: number;
}

/** One figure a scenario reports, and the targets it must meet. */
export interface FigureSpec {
  key: string;
  label: string;
  unit: string;
  /** Which way is better, which decides what "meets the target" means. */
  better: 'higher' | 'lower';
  /** The ratio (project / baseline) to reach: at least it when higher is better, at most it otherwise. */
  target?: number;
  /** The same for the ratio project / corked (the practical limit, `baselines/ws-corked-server.ts`). */
  corkedTarget?: number;
  /** A bound on the project's own figure, whatever the baselines do. */
  limit?: number;
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
   * The servers to run, alternating, when not the project and both baselines:
   * the first is measured against the second (the cluster against one node).
   */
  kinds?: [ServerKind, ServerKind];
  run(server: RunningServer, pool: WorkerPool, settings: Settings): Promise<RunResult>;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));
