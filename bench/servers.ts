/**
 * @module servers: the two servers under test as child processes, started
 * fresh for every run, and what the coordinator reads from them: resident
 * memory and CPU time, from `/proc`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { GC_WAIT_MS, SERVER_START_TIMEOUT_MS } from './limits.js';

/**
 * `baseline`: the obvious bare `ws` server; `corked`: the same protocol
 * encoding each event once and corking writes per turn, the practical limit.
 * `memory`: the project on `--store memory`, to price its shipped SQLite store.
 * `cluster`: two project nodes on one Redis (see `cluster.ts`).
 */
export type ServerKind = 'project' | 'baseline' | 'corked' | 'memory' | 'cluster';

const DIST = fileURLToPath(new URL('..', import.meta.url));
const SCRIPTS: Record<ServerKind, string> = {
  project: `${DIST}src/cli.js`,
  baseline: `${DIST}bench/baselines/ws-server.js`,
  corked: `${DIST}bench/baselines/ws-corked-server.js`,
  memory: `${DIST}src/cli.js`,
  cluster: `${DIST}src/cli.js`,
};
/**
 * The project's flood control and per-address cap are for the open internet:
 * a benchmark floods on purpose from one address, so both are switched off,
 * as the README says load tests need.
 */
const LIMITS_OFF: Record<ServerKind, string[]> = {
  project: ['--rate-limit', '0', '--max-connections-per-ip', '0', '--max-connections', '100000'],
  baseline: [],
  corked: [],
  memory: ['--rate-limit', '0', '--max-connections-per-ip', '0', '--max-connections', '100000', '--store', 'memory'],
  cluster: ['--rate-limit', '0', '--max-connections-per-ip', '0', '--max-connections', '100000'],
};
const GC_HOOK = `${DIST}bench/gc-hook.js`;
/** Linux reports CPU time in clock ticks of 1/100 s on every platform Node supports. */
const CLOCK_TICKS_PER_SECOND = 100;
export const HOST = '127.0.0.1';

/** Every server process (and redis-server) started and not yet gone: killed when the coordinator exits, however it exits. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** Keeps `child` on the list of processes killed when the coordinator exits. */
export function killOnExit(child: ChildProcess): ChildProcess {
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

export interface RunningServer {
  kind: ServerKind;
  /** Where clients connect: the first node's URL for a cluster. */
  url: string;
  /** Every node's URL: `[url]` for a single server. */
  urls: string[];
  pid: number;
  /** Resident memory now, in bytes. */
  rss(): number;
  /** Resident memory at its highest since the process started (VmHWM), in bytes. */
  peakRss(): number;
  /** CPU time (user + system) used so far, in seconds. */
  cpuSeconds(): number;
  /** The same to the nanosecond, for spans too short for `cpuSeconds`' 10 ms ticks (see `preciseCpuSecondsOf`). */
  preciseCpuSeconds(): number;
  /** Asks the server for a full garbage collection (see gc-hook.ts) and gives it time to finish. */
  collectGarbage(): Promise<void>;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** More command-line flags for the server (`--inspect`, say). */
  args?: string[];
  /** Write a V8 CPU profile into this directory when the server exits. */
  profileDir?: string;
  profileName?: string;
}

/**
 * The project's CLI logs its URL only at `info`, and `info` also logs every
 * connection, which would tax it in the benchmark. So both servers get a port
 * picked here and count as started once they answer HTTP on it.
 */
export async function startServer(kind: ServerKind, options: StartOptions = {}): Promise<RunningServer> {
  const port = await freePort();
  const nodeArgs = options.profileDir
    ? ['--cpu-prof', '--cpu-prof-dir', options.profileDir, '--cpu-prof-name', options.profileName ?? `${kind}.cpuprofile`]
    : [];
  const gcHook = ['--expose-gc', '--import', GC_HOOK];
  // The project runs on its shipped store (SQLite), in a directory of its own that dies with the run.
  const dataDir = kind === 'project' ? mkdtempSync(join(tmpdir(), 'xstate-chat-bench-')) : undefined;
  const storeArgs = dataDir ? ['--data-dir', dataDir] : [];
  const child = killOnExit(spawn(process.execPath, [...gcHook, ...nodeArgs, SCRIPTS[kind], '--port', String(port), '--host', HOST, ...LIMITS_OFF[kind], ...storeArgs, ...(options.args ?? [])], {
    env: { ...process.env, LOG_LEVEL: 'silent' },
    stdio: ['ignore', 'ignore', 'inherit'],
  }));
  const url = `http://${HOST}:${port}`;
  await waitForHttp(url, child);
  const pid = child.pid!;
  return {
    kind,
    url,
    urls: [url],
    pid,
    rss: () => statusKiB(pid, 'VmRSS') * 1024,
    peakRss: () => statusKiB(pid, 'VmHWM') * 1024,
    cpuSeconds: () => cpuSecondsOf(pid),
    preciseCpuSeconds: () => preciseCpuSecondsOf(pid),
    collectGarbage: async () => {
      child.kill('SIGUSR2');
      await new Promise((resolve) => setTimeout(resolve, GC_WAIT_MS));
    },
    stop: async () => {
      await stopChild(child, options.profileDir !== undefined);
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

function statusKiB(pid: number, field: string): number {
  return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? Number.NaN);
}

/** The thread of V8's CPU profiler (`--cpu-prof`): the measurement's, not the server's, and busy even when the server is idle. */
const PROFILER_THREAD = 'v8:ProfEvntProc';

/**
 * CPU time of every thread of process `pid` but the profiler's so far, in
 * seconds, from each thread's `schedstat` (nanoseconds on the CPU). The
 * server's threads (V8's and libuv's) live as long as it does, so none's time
 * goes missing.
 */
export function preciseCpuSecondsOf(pid: number): number {
  let nanos = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      if (readFileSync(`/proc/${pid}/task/${task}/comm`, 'utf8').trimEnd() === PROFILER_THREAD) continue;
      nanos += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return nanos / 1e9;
}

/** CPU time (user + system) process `pid` used so far, in seconds. */
export function cpuSecondsOf(pid: number): number {
  // Fields after the parenthesised command name; utime and stime are the 14th and 15th of the whole line.
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, HOST, () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

async function waitForHttp(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + SERVER_START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the server exited with code ${child.exitCode} before listening; run it by hand to see why`);
    const answered = await new Promise<boolean>((resolve) => {
      const req = request(`${url}/healthz`, (response) => {
        response.resume();
        resolve(true);
      });
      req.on('error', () => resolve(false));
      req.end();
    });
    if (answered) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`the server did not listen on ${url} within ${SERVER_START_TIMEOUT_MS} ms`);
}

/**
 * A profiled server must exit cleanly to write its profile, so it gets
 * SIGTERM; any other is killed outright, because a graceful shutdown
 * broadcasts a logout per session and would only cost time.
 */
export function stopChild(child: ChildProcess, graceful: boolean): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill(graceful ? 'SIGTERM' : 'SIGKILL');
  });
}
