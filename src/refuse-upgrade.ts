/**
 * @module refuse-upgrade: answers a WebSocket upgrade with an HTTP error
 * before any WebSocket exists, with the reason as text for whoever reads it.
 */
import type { Duplex } from 'node:stream';

export function refuseUpgrade(socket: Duplex, status: number, statusText: string, reason: string): void {
  const body = `${reason}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${statusText}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
