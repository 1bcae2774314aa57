#!/usr/bin/env node
/**
 * @module ws-server: the baseline the benchmark compares against: the chat
 * protocol on bare `ws` (see `chat.ts`), with a `send` helper that stringifies
 * and calls `ws.send` once per recipient per frame, the obvious way. It is
 * meant to be honest, not slow: nothing here is done worse than the obvious way.
 *
 * Usage: node dist/bench/baselines/ws-server.js --port 0 [--host 127.0.0.1]
 * Prints its URL (`http://HOST:PORT`) on one line once listening.
 */
import { WebSocket } from 'ws';
import { serveChat } from './chat.js';

function send(ws: WebSocket, frame: object): void {
  if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(frame));
}

serveChat({
  send,
  sendAll(sockets, frame) {
    for (const ws of sockets) send(ws, frame);
  },
});
