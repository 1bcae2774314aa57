/**
 * @module storm: a reconnect storm, and the idle memory of the sessions it
 * leaves: what a restart of a busy server costs.
 *
 * `stormSessions` clients log in on raw sockets, `STORM_IN_FLIGHT` at a time
 * across the load workers (a sliding window: the next client connects as soon
 * as one in flight is logged in, that is, has its own login frame and its user
 * list). Every login is announced to everyone online, as the protocol says, so
 * N logins send N²/2 login frames; the clients only count them (see
 * `worker.ts`), and at the end every client must have heard of every user
 * exactly once, in its user list or by a login frame.
 *
 * The storm runs in three phases so that the server's CPU per connect can be
 * read at 100 and at N sessions online: the first `CONNECT_COST_LOGINS`
 * logins, the bulk, and the last `CONNECT_COST_LOGINS`, with the server left
 * to settle before and after each measured phase so their CPU is theirs
 * alone. The time to log all in is the phases' time, without the settling.
 * Peak resident memory is the server's VmHWM, read every 100 ms.
 *
 * Once everyone is in, the server settles and is garbage-collected, and its
 * resident memory, less what it held fresh, divided by the sessions, is the
 * idle memory per session.
 */
import { CONNECT_COST_LOGINS, DRAIN_TIMEOUT_MS, RSS_SAMPLE_MS, SETTLE_CPU_SHARE, SETTLE_SAMPLE_MS, STORM_IN_FLIGHT, STORM_SECONDS_LIMIT, STORM_TIMEOUT_MS } from '../limits.js';
import type { Command } from '../messages.js';
import { sleep, type Scenario } from '../scenario.js';
import type { RunningServer } from '../servers.js';
import type { WorkerPool } from '../workers.js';

/**
 * Waits until the server has been idle for one sample period; resolves with
 * its CPU time when that quiet period began (so the quiet period's few
 * milliseconds are not counted), or undefined if it never settles in time.
 */
async function settle(server: RunningServer, deadline: number): Promise<number | undefined> {
  while (Date.now() < deadline) {
    const before = server.preciseCpuSeconds();
    await sleep(SETTLE_SAMPLE_MS);
    if (server.preciseCpuSeconds() - before <= (SETTLE_CPU_SHARE * SETTLE_SAMPLE_MS) / 1e3) return before;
  }
  return undefined;
}

/** Splits `count` as evenly as can be over `parts`. */
function split(count: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, w) => Math.floor(count / parts) + (w < count % parts ? 1 : 0));
}

export const storm: Scenario = {
  name: 'storm',
  describe: (settings) =>
    `${settings.stormSessions} clients log in on raw sockets, ${STORM_IN_FLIGHT} in flight at a time (a sliding window over the load workers: the next connects when one in flight has its own login frame and user list), every login announced to everyone online; every client must hear of every user once. Time to log all in (without the two pauses that let the server settle around the first and last ${CONNECT_COST_LOGINS} logins), peak server RSS (VmHWM, read every ${RSS_SAMPLE_MS} ms), server CPU per connect for the first and the last ${CONNECT_COST_LOGINS} logins (all threads, from /proc/PID/task/*/schedstat; the login broadcast and the user list included), and then idle memory per session: resident memory after the storm, settled and garbage-collected, less the fresh server's, divided by the sessions.`,
  figures: [
    { key: 'seconds', label: 'time to log all in', unit: 's', better: 'lower', decimals: 1, limit: STORM_SECONDS_LIMIT },
    { key: 'peakRssMiB', label: 'peak server RSS during the storm', unit: 'MiB', better: 'lower', decimals: 0, target: 1.5 },
    { key: 'connectFirst', label: `server CPU per connect, first ${CONNECT_COST_LOGINS} logins`, unit: 'ms', better: 'lower', decimals: 3 },
    { key: 'connectLast', label: `server CPU per connect, last ${CONNECT_COST_LOGINS} logins`, unit: 'ms', better: 'lower', decimals: 3 },
    { key: 'connectGrowth', label: 'connect CPU growth, last / first', unit: 'x', better: 'lower', decimals: 1 },
    { key: 'perSession', label: 'idle memory per session', unit: 'KiB', better: 'lower', decimals: 1, target: 1.25 },
    { key: 'rssMiB', label: 'server RSS with all sessions, settled', unit: 'MiB', better: 'lower', decimals: 0 },
    { key: 'sessions', label: 'sessions held', unit: '', better: 'higher', decimals: 0 },
  ],
  runs: (settings) => settings.stormRuns,
  async run(server, pool, settings) {
    const problems: string[] = [];
    const deadline = Date.now() + STORM_TIMEOUT_MS;
    const total = settings.stormSessions;
    const first = Math.min(CONNECT_COST_LOGINS, total);
    const last = Math.min(CONNECT_COST_LOGINS, total - first);
    const inFlight = split(STORM_IN_FLIGHT, pool.size);
    const assigned = Array.from({ length: pool.size }, () => 0);
    let stormMs = 0;
    let sessions = 0;
    const phase = async (count: number) => {
      const counts = split(count, pool.size);
      const started = Date.now();
      const ready = await pool.ask(
        counts.map((n, w): Command => ({ cmd: 'storm', url: server.url, prefix: `storm${w}x`, from: assigned[w]!, count: n, inFlight: Math.max(1, inFlight[w]!) })),
        'ready',
        Math.max(1, deadline - Date.now()),
      );
      stormMs += Date.now() - started;
      counts.forEach((n, w) => (assigned[w]! += n));
      sessions += ready.reduce((sum, r) => sum + r.clients, 0);
    };
    const quietCpu = async (when: string) => {
      const cpu = await settle(server, deadline);
      if (cpu === undefined) problems.push(`the server never settled ${when}`);
      return cpu ?? Number.NaN;
    };

    await quietCpu('fresh');
    await server.collectGarbage();
    const fresh = server.rss();
    let peak = server.peakRss();
    const sampler = setInterval(() => (peak = Math.max(peak, server.peakRss())), RSS_SAMPLE_MS);
    try {
      let cpu = server.preciseCpuSeconds();
      await phase(first);
      const connectFirst = ((await quietCpu(`after the first ${first} logins`)) - cpu) / first;
      await phase(total - first - last);
      await quietCpu(`before the last ${last} logins`);
      cpu = server.preciseCpuSeconds();
      await phase(last);
      const connectLast = ((await quietCpu(`after the last ${last} logins`)) - cpu) / last;
      clearInterval(sampler);
      peak = Math.max(peak, server.peakRss());

      // Settled, every frame has left the server; a drain proves each arrived once and no connection closed.
      const drained = await pool.askAll({ cmd: 'drain', expected: { users: total }, timeoutMs: DRAIN_TIMEOUT_MS }, 'drained', DRAIN_TIMEOUT_MS * 2);
      problems.push(...drained.flatMap((d) => d.problems));
      await server.collectGarbage();
      const full = server.rss();
      return {
        ok: problems.length === 0 && sessions === total,
        problems,
        figures: {
          seconds: stormMs / 1e3,
          peakRssMiB: peak / 2 ** 20,
          connectFirst: connectFirst * 1e3,
          connectLast: connectLast * 1e3,
          connectGrowth: connectLast / connectFirst,
          perSession: (full - fresh) / sessions / 1024,
          rssMiB: full / 2 ** 20,
          sessions,
        },
      };
    } finally {
      clearInterval(sampler);
    }
  },
};
