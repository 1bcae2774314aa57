/**
 * @module idle: many connected sessions doing nothing: resident memory per session.
 *
 * Logging in N users sends N²/2 login frames (every login goes to everyone
 * online), so idle clients are raw sockets that finish the WebSocket handshake
 * and then discard every byte unparsed: cheap for the load generator, and
 * identical for both servers. The server's resident memory is read once it is
 * settled (no CPU use) and has had a forced full garbage collection: fresh,
 * with half the sessions, and with all of them.
 */
import { DRAIN_TIMEOUT_MS, IDLE_SETUP_TIMEOUT_MS, SETTLE_CPU_SHARE, SETTLE_SAMPLE_MS } from '../limits.js';
import type { Command } from '../messages.js';
import { sleep, type Scenario } from '../scenario.js';
import type { RunningServer } from '../servers.js';
import type { WorkerPool } from '../workers.js';

/** Waits until the server has been idle for one sample period; false if it never settles in time. */
async function settle(server: RunningServer, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const before = server.cpuSeconds();
    await sleep(SETTLE_SAMPLE_MS);
    if (server.cpuSeconds() - before <= (SETTLE_CPU_SHARE * SETTLE_SAMPLE_MS) / 1e3) return true;
  }
  return false;
}

/** Logs `count` more sessions in, spread over the workers; returns how many connected. */
async function logIn(server: RunningServer, pool: WorkerPool, count: number, batch: string, timeoutMs: number): Promise<number> {
  const counts = Array.from({ length: pool.size }, (_, w) => Math.floor(count / pool.size) + (w < count % pool.size ? 1 : 0));
  const ready = await pool.ask(
    counts.map((n, w): Command => ({ cmd: 'idle', url: server.url, prefix: `idle${batch}${w}x`, count: n })),
    'ready',
    timeoutMs,
  );
  return ready.reduce((sum, r) => sum + r.clients, 0);
}

export const idle: Scenario = {
  name: 'idle',
  describe: (settings) =>
    `${settings.idleSessions} logged-in sessions held open by raw clients that discard what they receive; server resident memory added per session (from the fresh server to all sessions, divided by their number), and the marginal memory of the second half of the sessions, read from /proc after the server settles and a forced full garbage collection (both servers alike).`,
  figures: [
    { key: 'perSession', label: 'memory per session', unit: 'KiB', better: 'lower', decimals: 1, target: 1.25 },
    { key: 'marginal', label: 'marginal memory per session, second half', unit: 'KiB', better: 'lower', decimals: 1 },
    { key: 'rssMiB', label: 'server RSS with all sessions', unit: 'MiB', better: 'lower', decimals: 0 },
    { key: 'sessions', label: 'sessions held', unit: '', better: 'higher', decimals: 0 },
    { key: 'setupSeconds', label: 'time to log all in', unit: 's', better: 'lower', decimals: 1 },
  ],
  runs: (settings) => settings.idleRuns,
  async run(server, pool, settings) {
    const problems: string[] = [];
    const deadline = Date.now() + IDLE_SETUP_TIMEOUT_MS;
    const measure = async (when: string) => {
      if (!(await settle(server, Math.max(0, deadline - Date.now())))) problems.push(`the server never settled ${when}`);
      await server.collectGarbage();
      return server.rss();
    };
    const fresh = await measure('fresh');
    const started = Date.now();
    const firstHalf = Math.floor(settings.idleSessions / 2);
    let sessions = await logIn(server, pool, firstHalf, 'a', Math.max(0, deadline - Date.now()));
    const half = await measure('with half the sessions logged in');
    sessions += await logIn(server, pool, settings.idleSessions - firstHalf, 'b', Math.max(0, deadline - Date.now()));
    const full = await measure('with every session logged in');
    const setupSeconds = (Date.now() - started) / 1e3;
    // Every idle connection must still be open: a drain with nothing expected reports any that closed.
    const drained = await pool.askAll({ cmd: 'drain', expected: {}, timeoutMs: 0 }, 'drained', DRAIN_TIMEOUT_MS);
    problems.push(...drained.flatMap((d) => d.problems));
    return {
      ok: problems.length === 0 && sessions === settings.idleSessions,
      problems,
      figures: {
        perSession: (full - fresh) / sessions / 1024,
        marginal: (full - half) / (sessions - firstHalf) / 1024,
        rssMiB: full / 2 ** 20,
        sessions,
        setupSeconds,
      },
    };
  },
};
