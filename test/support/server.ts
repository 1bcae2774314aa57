/**
 * @module server: starts a real chat server on a free loopback port for one
 * test file, and makes sure it and every client are closed afterwards.
 */
import { afterEach } from 'vitest';
import { startChatServer, type ChatServer, type ChatServerOptions } from '../../src/server.js';
import { TestClient } from './client.js';

export interface Harness {
  server: ChatServer;
  connect(nick: string, path?: string): Promise<TestClient>;
  login(nick: string): Promise<TestClient>;
}

/**
 * Registers cleanup with the calling test file; each call starts a fresh
 * server, with history on join off unless `limits.historyOnJoin` says otherwise.
 */
export function useServer(): (options?: ChatServerOptions) => Promise<Harness> {
  const servers: ChatServer[] = [];
  const clients: TestClient[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.terminate()));
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });
  return async (options = {}) => {
    // A joiner's history would come before every join frame these tests expect; the history tests ask for it.
    const limits = { historyOnJoin: 0, ...options.limits };
    const server = await startChatServer({ port: 0, host: '127.0.0.1', ...options, limits });
    servers.push(server);
    const track = (client: TestClient) => {
      clients.push(client);
      return client;
    };
    return {
      server,
      connect: async (nick, path) => track(await TestClient.connect(server.url, nick, path)),
      login: async (nick) => track(await TestClient.login(server.url, nick)),
    };
  };
}
