/**
 * @module idle: many connected sessions doing nothing: resident memory per session.
 *
 * Logging in N users sends N²/2 login frames (every login goes to everyone
 * online), so idle clients are raw sockets that finish the WebSocket handshake
 * and then discard every byte unparsed: cheap for the load generator, and
 * identical for both servers. The server's resident memory is read once it is
 * settled (no CPU use) before and after, and the difference divided by N.
 */
import { DRAIN_TIMEOUT_MS, SETTLE_CPU_SHARE, SETTLE_SAMPLE_MS, SETUP_TIMEOUT_MS } from '../limits.js';
import type { Command } from '../messages.js';
import { sleep, type Scenario } from '../scenario.js';
import type { RunningServer } from '../servers.js';

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

export const idle: Scenario = {
  name: 'idle',
  describe: (settings) =>
    `${settings.idleSessions} logged-in sessions held open by raw clients that discard what they receive; server resident memory added per session, read from /proc after the server settles and a forced full garbage collection (both servers alike).`,
  figures: [
    { key: 'perSession', label: 'memory per session', unit: 'KiB', better: 'lower', decimals: 1, target: 1.25 },
    { key: 'rssMiB', label: 'server RSS with all sessions', unit: 'MiB', better: 'lower', decimals: 0 },
    { key: 'sessions', label: 'sessions held', unit: '', better: 'higher', decimals: 0 },
    { key: 'setupSeconds', label: 'time to log all in', unit: 's', better: 'lower', decimals: 1 },
  ],
  async run(server, pool, settings) {
    const problems: string[] = [];
    if (!(await settle(server, SETUP_TIMEOUT_MS))) problems.push('the fresh server never settled');
    await server.collectGarbage();
    const before = server.rss();
    const started = Date.now();
    const counts = Array.from({ length: pool.size }, (_, w) => Math.floor(settings.idleSessions / pool.size) + (w < settings.idleSessions % pool.size ? 1 : 0));
    const ready = await pool.ask(
      counts.map((count, w): Command => ({ cmd: 'idle', url: server.url, prefix: `idle${w}x`, count })),
      'ready',
      SETUP_TIMEOUT_MS,
    );
    if (!(await settle(server, SETUP_TIMEOUT_MS))) problems.push('the server never settled with every session logged in');
    const setupSeconds = (Date.now() - started) / 1e3;
    await server.collectGarbage();
    const after = server.rss();
    // Every idle connection must still be open: a drain with nothing expected reports any that closed.
    const drained = await pool.askAll({ cmd: 'drain', expected: {}, timeoutMs: 0 }, 'drained', DRAIN_TIMEOUT_MS);
    problems.push(...drained.flatMap((d) => d.problems));
    const sessions = ready.reduce((sum, r) => sum + r.clients, 0);
    return {
      ok: problems.length === 0 && sessions === settings.idleSessions,
      problems,
      figures: { perSession: (after - before) / sessions / 1024, rssMiB: after / 2 ** 20, sessions, setupSeconds },
    };
  },
};
