#!/usr/bin/env node
/**
 * @module ws-corked-server: the practical limit the benchmark measures the
 * project against beside the obvious baseline: the same protocol on bare `ws`
 * (see `chat.ts`), but each event's frame is stringified and encoded once,
 * however many recipients it has, and each socket's writes are corked from
 * its first frame in an event-loop turn until `setImmediate`, so a busy turn
 * leaves in one write per socket rather than one per frame.
 *
 * Usage: node dist/bench/baselines/ws-corked-server.js --port 0 [--host 127.0.0.1]
 * Prints its URL (`http://HOST:PORT`) on one line once listening.
 */
import type { Socket } from 'node:net';
import { WebSocket } from 'ws';
import { serveChat } from './chat.js';

/** Sockets corked this turn; all uncorked together once the turn's I/O callbacks are done. */
const corked = new Set<Socket>();

function uncorkAll(): void {
  for (const socket of corked) socket.uncork();
  corked.clear();
}

/** `ws` has no cork of its own; its frames go through this socket's `write`, which a cork holds back. */
function write(ws: WebSocket, data: Buffer): void {
  if (ws.readyState !== WebSocket.OPEN) return;
  const socket = (ws as unknown as { _socket: Socket })._socket;
  if (!corked.has(socket)) {
    if (corked.size === 0) setImmediate(uncorkAll);
    socket.cork();
    corked.add(socket);
  }
  // A Buffer is sent as it is (a server does not mask), so every recipient shares the one encoding.
  ws.send(data, { binary: false });
}

serveChat({
  send(ws, frame) {
    write(ws, Buffer.from(JSON.stringify(frame)));
  },
  sendAll(sockets, frame) {
    const data = Buffer.from(JSON.stringify(frame));
    for (const ws of sockets) write(ws, data);
  },
});
