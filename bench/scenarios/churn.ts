/**
 * @module churn: users connecting and disconnecting while many stay online.
 *
 * Each churning user connects, waits until its login is complete (its user
 * list has arrived), and disconnects. Every user who stays online must hear
 * exactly one login and one logout per churning user.
 */
import { CHURN_CONCURRENCY, CHURN_ONLINE, DRAIN_TIMEOUT_MS, SETUP_TIMEOUT_MS } from '../limits.js';
import type { ClientPlan, Command } from '../messages.js';
import { nowMicros } from '../payload.js';
import { sleep, type Scenario } from '../scenario.js';
import { share } from '../workers.js';

const CHURN_PREFIX = 'churner';

export const churn: Scenario = {
  name: 'churn',
  describe: (settings) =>
    `${CHURN_ONLINE} users online; ${CHURN_CONCURRENCY * settings.workers} loops connect a new user, wait for its login, disconnect; connects plus disconnects per second.`,
  figures: [
    { key: 'rate', label: 'connects+disconnects/s', unit: '/s', better: 'higher', decimals: 0, target: 1.0 },
    { key: 'cpu', label: 'server CPU (cores busy)', unit: '', better: 'lower', decimals: 2 },
  ],
  async run(server, pool, settings) {
    const online: ClientPlan[] = Array.from({ length: CHURN_ONLINE }, (_, i) => ({ nick: `online${i}`, sender: i }));
    await pool.ask(share(online, pool.size).map((mine): Command => ({ cmd: 'login', url: server.url, clients: mine })), 'ready', SETUP_TIMEOUT_MS);

    const from = nowMicros() + settings.warmupMs * 1e3;
    const measure = { from, to: from + settings.measureMs * 1e3 };
    pool.tell(Array.from({ length: pool.size }, (): Command => ({ cmd: 'churn', url: server.url, prefix: CHURN_PREFIX, concurrency: CHURN_CONCURRENCY, measure })));
    await sleep((measure.from - nowMicros()) / 1e3);
    const cpuBefore = server.cpuSeconds();
    await sleep((measure.to - nowMicros()) / 1e3);
    const cpu = (server.cpuSeconds() - cpuBefore) / (settings.measureMs / 1e3);

    const stopped = await pool.askAll({ cmd: 'stop' }, 'stopped', DRAIN_TIMEOUT_MS);
    const cycles = stopped.reduce((sum, s) => sum + s.cycles, 0);
    const inWindow = stopped.reduce((sum, s) => sum + s.cyclesInWindow, 0);
    const drained = await pool.askAll({ cmd: 'drain', expected: { logins: cycles }, timeoutMs: DRAIN_TIMEOUT_MS }, 'drained', DRAIN_TIMEOUT_MS * 2);
    const problems = drained.flatMap((d) => d.problems);
    if (cycles === 0) problems.push('no churning user completed a connect and disconnect');
    return {
      ok: problems.length === 0,
      problems,
      figures: { rate: (2 * inWindow) / (settings.measureMs / 1e3), cpu },
    };
  },
};
