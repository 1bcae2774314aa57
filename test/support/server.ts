/**
 * @module server: starts a real chat server on a free loopback port for one
 * test file, and makes sure it and every client are closed afterwards.
 *
 * Under XSTATE_CHAT_CLUSTER=1 (the `cluster` project in vitest.config.ts)
 * the same tests run against a cluster instead: two nodes on a real
 * redis-server started for the file, each harness with keys of its own, and
 * clients alternating between the nodes, so every frame a test expects from
 * another user has crossed Redis.
 */
import { afterEach } from 'vitest';
import { startChatServer, type ChatServer, type ChatServerOptions } from '../../src/server.js';
import { TestClient } from './client.js';
import { useRedis, type RedisServer } from './redis.js';

export interface Harness {
  /** The server, or in cluster mode the first node. */
  server: ChatServer;
  /** Every node: one server, or both nodes of a cluster. */
  nodes: ChatServer[];
  connect(nick: string, path?: string): Promise<TestClient>;
  login(nick: string): Promise<TestClient>;
}

/** Whether this run puts every harness on a two-node cluster. */
export const clustered = process.env.XSTATE_CHAT_CLUSTER === '1';

/** Faster liveness than production, so a test that kills a node hears of it in a few seconds. */
export const TEST_LIVENESS = { beatMs: 200, ttlMs: 1_000, checkMs: 300, graceMs: 500 };

let harnesses = 0;

/**
 * Registers cleanup with the calling test file; each call starts a fresh
 * server (or cluster), with history on join off unless `limits.historyOnJoin` says otherwise.
 */
export function useServer(): (options?: ChatServerOptions) => Promise<Harness> {
  const redis: RedisServer | undefined = clustered ? useRedis() : undefined;
  const servers: ChatServer[] = [];
  const clients: TestClient[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.terminate()));
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });
  return async (options = {}) => {
    // A joiner's history would come before every join frame these tests expect; the history tests ask for it.
    const limits = { historyOnJoin: 0, ...options.limits };
    const common = { port: 0, host: '127.0.0.1', ...options, limits };
    let nodes: ChatServer[];
    if (redis) {
      const prefix = `test${process.pid}-${(harnesses += 1)}:`;
      const cluster = { prefix, liveness: TEST_LIVENESS, takeoverWaitMs: 2_000 };
      nodes = [];
      for (const name of ['a', 'b']) {
        const node = await startChatServer({ ...common, redis: redis.url, nodeName: name, cluster });
        servers.push(node);
        nodes.push(node);
      }
    } else {
      nodes = [await startChatServer(common)];
      servers.push(nodes[0]!);
    }
    let turn = 0;
    const next = () => nodes[turn++ % nodes.length]!.url;
    const track = (client: TestClient) => {
      clients.push(client);
      return client;
    };
    return {
      server: nodes[0]!,
      nodes,
      connect: async (nick, path) => track(await TestClient.connect(next(), nick, path)),
      login: async (nick) => track(await TestClient.login(next(), nick)),
    };
  };
}
