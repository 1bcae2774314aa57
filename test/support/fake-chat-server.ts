/**
 * @module fake-chat-server: serves the real chat page next to a scripted
 * WebSocket endpoint, for refusals the real server does not make yet
 * (`auth_required`, a 4001 takeover: both arrive with accounts), so the page's
 * handling of them is tested against the protocol rather than a mock of the page.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { pageAt, servePage } from '../../src/pages.js';

export interface FakeServer {
  url: string;
  /** Every nick a WebSocket was opened for, in order. */
  connections: string[];
  /** Closes `nick`'s socket as a login elsewhere would: 4001. */
  takeOver(nick: string): void;
  close(): Promise<void>;
}

/** The nick this server treats as registered: its login is answered with `auth_required`. */
export const REGISTERED = 'registered';

export async function startFakeServer(): Promise<FakeServer> {
  const wss = new WebSocketServer({ noServer: true });
  const sockets = new Map<string, WebSocket>();
  const connections: string[] = [];
  const http = createServer((request, response) => {
    const page = pageAt(new URL(request.url ?? '/', 'http://localhost').pathname, false);
    if (page) void servePage(page, response, request.method === 'HEAD');
    else response.writeHead(404).end();
  });
  http.on('upgrade', (request, socket, head) => {
    const nick = decodeURIComponent(/^\/chat\/login\/([^/]+)$/.exec(request.url ?? '')?.[1] ?? '');
    wss.handleUpgrade(request, socket, head, (ws) => {
      connections.push(nick);
      if (nick === REGISTERED) {
        ws.send(JSON.stringify({ type: -1, code: 'auth_required', message: 'That nick is registered. Log in with its password.' }));
        ws.close(1008, 'auth_required');
        return;
      }
      sockets.set(nick, ws);
      ws.send(JSON.stringify({ type: 2, user: nick }));
      ws.send(JSON.stringify({ type: 6, users: [nick] }));
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    connections,
    takeOver: (nick) => sockets.get(nick)?.close(4001, 'signed in elsewhere'),
    close: async () => {
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
