/**
 * @module dashboard.test: the Grafana dashboard in docs/ against a real
 * scrape, so a metric renamed or dropped cannot leave a panel empty.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { startChatServer } from '../../src/server.js';
import { runRedisTests, useRedis } from '../support/redis.js';
import { useServer } from '../support/server.js';

const start = useServer();
const redis = runRedisTests ? useRedis() : undefined;
const DASHBOARD = new URL('../../docs/grafana-dashboard.json', import.meta.url);

interface Panel {
  title: string;
  type: string;
  targets?: { expr: string }[];
}

describe('the Grafana dashboard', () => {
  it('queries only metrics /metrics serves, in every panel', async () => {
    const dashboard = JSON.parse(await readFile(DASHBOARD, 'utf8')) as { panels: Panel[]; templating: { list: { name: string }[] } };
    const { server } = await start();
    // The cluster panels' metrics are served in cluster mode only: a cluster node is scraped too.
    const node = redis ? await startChatServer({ redis: redis.url, nodeName: 'dashboard', cluster: { prefix: 'dashboard:' } }) : undefined;
    // By the TYPE lines: a counter with labels has no sample until something is counted.
    const scraped = new Set<string>();
    try {
      for (const url of [server.url, ...(node ? [node.url] : [])]) {
        for (const [, name, type] of (await (await fetch(`${url}/metrics`)).text()).matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
          scraped.add(name!);
          if (type === 'histogram') for (const suffix of ['_bucket', '_count', '_sum']) scraped.add(`${name}${suffix}`);
        }
      }
    } finally {
      await node?.close();
    }
    const graphs = dashboard.panels.filter((panel) => panel.type !== 'row');
    expect(graphs.length).toBeGreaterThan(10);
    for (const panel of graphs) {
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      for (const { expr } of panel.targets!) {
        const names = expr.match(/\b(?:chat|nodejs|process)_[a-z0-9_]+/g) ?? [];
        expect(names.length, `${panel.title}: ${expr}`).toBeGreaterThan(0);
        for (const name of names) {
          // Without redis-server (outside CI), the cluster's metrics cannot be scraped here: not counted against the panels.
          if (!redis && name.startsWith('chat_redis_')) continue;
          expect(scraped.has(name), `${panel.title} queries ${name}`).toBe(true);
        }
        // Every query follows the node picker.
        expect(expr, panel.title).toContain('node=~"$node"');
      }
    }
    expect(dashboard.templating.list.map((variable) => variable.name)).toEqual(['datasource', 'node']);
    // And every metric of the server's own is on it somewhere.
    const queried = graphs.flatMap((panel) => panel.targets!.map((target) => target.expr)).join('\n');
    for (const name of [...scraped].filter((name) => name.startsWith('chat_') && !/_(count|sum)$/.test(name))) {
      if (name.endsWith('_seconds') && scraped.has(`${name}_bucket`)) continue;
      expect(queried, `no panel shows ${name}`).toContain(name);
    }
  });
});
