/**
 * @module cluster: the project as a two-node cluster on Redis against the
 * project as one process on its embedded store, under the same load, in the
 * same run.
 *
 * For each channel size (`CLUSTER_SIZES`), the members are split evenly
 * across the nodes, every member floods the channel as in fanout, and then
 * every member must hold every message once, in its sender's order, with
 * offsets dense from its own join on, and the same messages at the same
 * offsets as every other member (see `checkOffsets`). On the cluster, Redis's
 * `INFO commandstats` is read after the joins and after the last delivery:
 * between the two, the only channel events are the messages, so the calls
 * divided by the messages sent are what one message costs Redis.
 */
import * as clusterScripts from '../../src/cluster/scripts.js';
import type { RunningCluster } from '../cluster.js';
import { CLUSTER_QUIET_MS, CLUSTER_SIZES, CLUSTER_WINDOW } from '../limits.js';
import type { ClientPlan } from '../messages.js';
import { callsBetween } from '../redis.js';
import { sleep, type FigureSpec, type RunResult, type Scenario } from '../scenario.js';
import type { RunningServer } from '../servers.js';
import { measure } from './traffic.js';

/** Commands a client sends to run a script: one call each, whatever the script then does. */
const SCRIPT_RUNNERS = new Set(['eval', 'evalsha', 'eval_ro', 'evalsha_ro', 'fcall', 'fcall_ro']);

/**
 * The commands the cluster's Lua scripts call (read from their text): the
 * ones Redis counts as executed inside a script rather than sent by a client.
 */
const SCRIPTED = new Set(
  (Object.values(clusterScripts) as unknown[])
    .filter((value): value is string => typeof value === 'string')
    .flatMap((lua) => [...lua.matchAll(/redis\.call\('([A-Za-z]+)'/g)].map((match) => match[1]!.toLowerCase())),
);

/** Members of `size`, split into as many even runs as there are nodes: the first half on node a, the second on b. */
function plan(size: number, urls: string[]): ClientPlan[] {
  return Array.from({ length: size }, (_, m) => ({
    nick: `cluster${size}m${m}`,
    channel: `#cluster${size}`,
    sender: m,
    url: urls[Math.floor((m * urls.length) / size)]!,
  }));
}

function isCluster(server: RunningServer): server is RunningCluster {
  return 'redis' in server;
}

/** Waits until Redis has run no script for `CLUSTER_QUIET_MS`: the previous size's leaves are all sequenced. */
async function quiet(cluster: RunningCluster): Promise<void> {
  let last = -1;
  for (let tries = 0; tries < 100; tries++) {
    const calls = await cluster.redis.commandCalls();
    const scripts = [...SCRIPT_RUNNERS].reduce((sum, name) => sum + (calls[name] ?? 0), 0);
    if (scripts === last) return;
    last = scripts;
    await sleep(CLUSTER_QUIET_MS);
  }
}

const perSize = (size: number): FigureSpec[] => [
  { key: `deliveries${size}`, label: `deliveries/s, ${size} members`, unit: '/s', better: 'higher', decimals: 0 },
  { key: `cpu${size}`, label: `server CPU, ${size} members (cores busy; cluster: both nodes)`, unit: '', better: 'lower', decimals: 2 },
  { key: `redisCpu${size}`, label: `Redis CPU, ${size} members (cores busy)`, unit: '', better: 'lower', decimals: 2 },
  { key: `calls${size}`, label: `Redis calls from clients per message, ${size} members`, unit: '', better: 'lower', decimals: 3 },
  { key: `commands${size}`, label: `Redis commands executed per message, ${size} members (scripts' inner ones included)`, unit: '', better: 'lower', decimals: 3 },
];

export const cluster: Scenario = {
  name: 'cluster',
  kinds: ['cluster', 'project'],
  describe: () =>
    `two project nodes on one redis-server (\`--redis\`), all on this machine, against one project process on its embedded store; one channel of ${CLUSTER_SIZES.join(', then ')} members, split evenly across the nodes, every member sending as fast as it can with at most ${CLUSTER_WINDOW} of its messages unacknowledged, a message acknowledged once every member in its sender's load worker (on both nodes) has it; every member must hold every message once, in order, with dense offsets, the same as every other member's; Redis calls counted by \`INFO commandstats\` from after the joins to after the last delivery, divided by the messages sent (calls from clients: script runs plus commands not called by the cluster's scripts; executed: every command Redis counts, the scripts' ones included; the nodes' heartbeats, a few a second, are in both).`,
  figures: CLUSTER_SIZES.flatMap(perSize),
  async run(server, pool, settings): Promise<RunResult> {
    const figures: Record<string, number> = {};
    const problems: string[] = [];
    for (const size of CLUSTER_SIZES) {
      const redis = isCluster(server) ? server.redis : undefined;
      let before: Record<string, number> = {};
      let redisCpuAtOpen = 0;
      const m = await measure(server, pool, settings, plan(size, server.urls), { kind: 'flood', window: CLUSTER_WINDOW, ackByAll: true }, {
        checkOffsets: true,
        beforeLoad: async () => {
          if (redis) before = await redis.commandCalls();
        },
        onWindow: (edge) => {
          if (!redis) return;
          if (edge === 'open') redisCpuAtOpen = redis.cpuSeconds();
          else figures[`redisCpu${size}`] = (redis.cpuSeconds() - redisCpuAtOpen) / (settings.measureMs / 1e3);
        },
      });
      problems.push(...m.problems);
      for (const [channel, summaries] of Object.entries(m.orders)) {
        const distinct = new Set(summaries);
        if (distinct.size > 1) problems.push(`${channel}: members disagree on the messages' offsets or order (${distinct.size} different summaries of ${summaries.length})`);
      }
      if (m.sent === 0) problems.push(`${size} members: no message was sent`);
      figures[`deliveries${size}`] = m.deliveriesPerSecond;
      figures[`cpu${size}`] = m.serverCpuShare;
      if (redis && m.sent > 0) {
        const calls = callsBetween(before, await redis.commandCalls());
        let fromClients = 0;
        let executed = 0;
        for (const [command, n] of Object.entries(calls)) {
          executed += n;
          if (SCRIPT_RUNNERS.has(command) || !SCRIPTED.has(command)) fromClients += n;
          figures[`per${size}:${command}`] = n / m.sent;
        }
        figures[`calls${size}`] = fromClients / m.sent;
        figures[`commands${size}`] = executed / m.sent;
      }
      await pool.askAll({ cmd: 'reset' }, 'reset', 60_000);
      if (isCluster(server)) await quiet(server);
    }
    return { ok: problems.length === 0, problems, figures };
  },
};
