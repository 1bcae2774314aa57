/**
 * @module traffic: the message scenarios (fanout, spread, steady): clients
 * log in, join their channels, send for a warm-up and a measured window, stop,
 * and then every member must hold every message sent to its channel.
 */
import {
  DRAIN_TIMEOUT_MS,
  FANOUT_MEMBERS,
  FANOUT_WINDOW,
  SETUP_TIMEOUT_MS,
  SPREAD_CHANNEL_SIZE,
  SPREAD_CHANNELS,
  SPREAD_WINDOW,
  STEADY_CHANNEL_SIZE,
  STEADY_CHANNELS,
  STEADY_RATE,
  STEADY_TICK_MS,
} from '../limits.js';
import type { ClientPlan, Command } from '../messages.js';
import { nowMicros } from '../payload.js';
import { sleep, type FigureSpec, type RunResult, type Scenario, type Settings } from '../scenario.js';
import type { RunningServer } from '../servers.js';
import { percentile } from '../stats.js';
import { share, type WorkerPool } from '../workers.js';

function plan(prefix: string, channels: number, size: number): ClientPlan[] {
  const clients: ClientPlan[] = [];
  for (let c = 0; c < channels; c++) {
    for (let m = 0; m < size; m++) clients.push({ nick: `${prefix}${c}m${m}`, channel: `#${prefix}${c}`, sender: clients.length });
  }
  return clients;
}

export type Load = { kind: 'flood'; window: number; ackByAll?: boolean } | { kind: 'rate'; rate: number };

export interface Measured {
  ok: boolean;
  problems: string[];
  deliveriesPerSecond: number;
  latencies: number[];
  serverCpuShare: number;
  /** Messages sent, all of them delivered when ok. */
  sent: number;
  /** With `checkOffsets`: each member's summary of what it received, by channel (see `drained.orders`). */
  orders: Record<string, string[]>;
}

export interface MeasureOptions {
  /** Check offsets too (see the `login` command). */
  checkOffsets?: boolean;
  /** Called once every client is in its channel, before the load starts. */
  beforeLoad?: () => Promise<void>;
  /** Called with the server's CPU time when the measured window opens and closes, for others to read alongside. */
  onWindow?: (edge: 'open' | 'close') => void;
}

export async function measure(server: RunningServer, pool: WorkerPool, settings: Settings, clients: ClientPlan[], load: Load, options: MeasureOptions = {}): Promise<Measured> {
  const shares = share(clients, pool.size);
  await pool.ask(shares.map((mine): Command => ({ cmd: 'login', url: server.url, clients: mine, checkOffsets: options.checkOffsets })), 'ready', SETUP_TIMEOUT_MS);
  await options.beforeLoad?.();

  const from = nowMicros() + settings.warmupMs * 1e3;
  const window = { from, to: from + settings.measureMs * 1e3 };
  pool.tell(
    shares.map((mine): Command => {
      if (load.kind === 'flood') return { cmd: 'flood', window: load.window, measure: window, ackByAll: load.ackByAll };
      // Each worker offers its clients' share of the rate.
      return { cmd: 'rate', rate: (load.rate * mine.length) / clients.length, tickMs: STEADY_TICK_MS, measure: window };
    }),
  );
  await sleep((window.from - nowMicros()) / 1e3);
  const cpuBefore = server.cpuSeconds();
  options.onWindow?.('open');
  await sleep((window.to - nowMicros()) / 1e3);
  const cpuShare = (server.cpuSeconds() - cpuBefore) / (settings.measureMs / 1e3);
  options.onWindow?.('close');

  const stopped = await pool.askAll({ cmd: 'stop' }, 'stopped', DRAIN_TIMEOUT_MS);
  const expected: Record<string, number> = {};
  for (const { sentByChannel } of stopped) {
    for (const [channel, sent] of Object.entries(sentByChannel)) expected[channel] = (expected[channel] ?? 0) + sent;
  }
  const drained = await pool.askAll({ cmd: 'drain', expected: { messages: expected }, timeoutMs: DRAIN_TIMEOUT_MS }, 'drained', DRAIN_TIMEOUT_MS * 2);
  const delivered = drained.reduce((sum, d) => sum + d.delivered, 0);
  const orders: Record<string, string[]> = {};
  for (const d of drained) for (const [channel, summaries] of Object.entries(d.orders ?? {})) (orders[channel] ??= []).push(...summaries);
  return {
    sent: Object.values(expected).reduce((sum, n) => sum + n, 0),
    orders,
    ok: drained.every((d) => d.ok),
    problems: drained.flatMap((d) => d.problems),
    deliveriesPerSecond: delivered / (settings.measureMs / 1e3),
    latencies: drained.flatMap((d) => d.latencies),
    serverCpuShare: cpuShare,
  };
}

const deliveries: FigureSpec = { key: 'deliveries', label: 'deliveries/s', unit: '/s', better: 'higher', decimals: 0 };
const cpu: FigureSpec = { key: 'cpu', label: 'server CPU (cores busy)', unit: '', better: 'lower', decimals: 2 };

function floodScenario(name: string, channels: number, size: number, window: number, target: number, corkedTarget: number): Scenario {
  return {
    name,
    describe: () =>
      `${channels} channel(s) of ${size} members, every member sending as fast as it can with at most ${window} of its messages unacknowledged; deliveries per second over the window.`,
    figures: [{ ...deliveries, target, corkedTarget }, cpu],
    compareStores: true,
    async run(server, pool, settings): Promise<RunResult> {
      const m = await measure(server, pool, settings, plan(name, channels, size), { kind: 'flood', window });
      return { ok: m.ok, problems: m.problems, figures: { deliveries: m.deliveriesPerSecond, cpu: m.serverCpuShare } };
    },
  };
}

// Issue 12: at least 0.8x the corked limit, beside the earlier targets against the obvious baseline.
export const fanout = floodScenario('fanout', 1, FANOUT_MEMBERS, FANOUT_WINDOW, 2.0, 0.8);
export const spread = floodScenario('spread', SPREAD_CHANNELS, SPREAD_CHANNEL_SIZE, SPREAD_WINDOW, 1.5, 0.8);

export const steady: Scenario = {
  name: 'steady',
  describe: () =>
    `${STEADY_RATE} messages/s offered open-loop into ${STEADY_CHANNELS} channels of ${STEADY_CHANNEL_SIZE}; latency from send to receipt over every delivery of a message sent in the window.`,
  figures: [
    { key: 'p50', label: 'latency p50', unit: 'ms', better: 'lower', decimals: 2 },
    { key: 'p99', label: 'latency p99', unit: 'ms', better: 'lower', decimals: 2, target: 1.0 },
    { key: 'p999', label: 'latency p99.9', unit: 'ms', better: 'lower', decimals: 2 },
    deliveries,
    cpu,
  ],
  async run(server, pool, settings): Promise<RunResult> {
    const m = await measure(server, pool, settings, plan('steady', STEADY_CHANNELS, STEADY_CHANNEL_SIZE), { kind: 'rate', rate: STEADY_RATE });
    const sorted = Float64Array.from(m.latencies).sort();
    const problems = [...m.problems];
    if (sorted.length === 0) problems.push('no message sent in the window was delivered');
    return {
      ok: m.ok && sorted.length > 0,
      problems,
      figures: {
        p50: percentile(sorted, 0.5) / 1e3,
        p99: percentile(sorted, 0.99) / 1e3,
        p999: percentile(sorted, 0.999) / 1e3,
        deliveries: m.deliveriesPerSecond,
        cpu: m.serverCpuShare,
      },
    };
  },
};
