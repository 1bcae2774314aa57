/**
 * @module cluster: the project as a cluster under test: a fresh redis-server
 * and project nodes started with `--redis` on it (`a`, `b`, …), all real
 * processes on this machine, started for one run and stopped after it, even
 * when starting failed half-way.
 */
import { startRedis, type RunningRedis } from './redis.js';
import { startServer, type RunningServer, type StartOptions } from './servers.js';

/** Two nodes: the cluster scenario, and the fewest that make one. */
export const CLUSTER_NODES = 2;

export interface RunningCluster extends RunningServer {
  redis: RunningRedis;
  nodes: RunningServer[];
}

export async function startCluster(options: StartOptions = {}, count = CLUSTER_NODES): Promise<RunningCluster> {
  const redis = await startRedis();
  const nodes: RunningServer[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const name = String.fromCharCode(97 + i);
      const profileName = options.profileName?.replace(/(\.cpuprofile)?$/, `-${name}$1`);
      nodes.push(
        await startServer('cluster', {
          ...options,
          ...(profileName ? { profileName } : {}),
          args: ['--redis', redis.url, '--node-name', name, ...(options.args ?? [])],
        }),
      );
    }
  } catch (error) {
    await Promise.allSettled(nodes.map((node) => node.stop()));
    await redis.stop();
    throw error;
  }
  const sum = (read: (node: RunningServer) => number) => nodes.reduce((total, node) => total + read(node), 0);
  return {
    kind: 'cluster',
    url: nodes[0]!.url,
    urls: nodes.map((node) => node.url),
    pid: nodes[0]!.pid,
    redis,
    nodes,
    rss: () => sum((node) => node.rss()),
    /** The nodes' peaks added up: at most their peak together, which may have come at different times. */
    peakRss: () => sum((node) => node.peakRss()),
    /** The nodes' CPU time together; Redis's is `redis.cpuSeconds()`. */
    cpuSeconds: () => sum((node) => node.cpuSeconds()),
    preciseCpuSeconds: () => sum((node) => node.preciseCpuSeconds()),
    collectGarbage: async () => {
      await Promise.all(nodes.map((node) => node.collectGarbage()));
    },
    stop: async () => {
      // Nodes first: a profiled node drains (logs its users out) through Redis before it exits.
      await Promise.allSettled(nodes.map((node) => node.stop()));
      await redis.stop();
    },
  };
}
