/**
 * @module origin: which browser origins may open WebSockets here.
 *
 * A page on another site can open a WebSocket to this server from a
 * visitor's browser (cross-site WebSocket hijacking); browsers always send
 * `Origin` on such upgrades, so refusing unknown origins stops it. Clients
 * that send no `Origin` are not browsers and are allowed.
 */
import type { IncomingMessage } from 'node:http';

export function isOriginAllowed(request: IncomingMessage, allowedOrigins: ReadonlySet<string>): boolean {
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  if (allowedOrigins.has(origin)) return true;
  const host = request.headers.host;
  return host !== undefined && (origin === `http://${host}` || origin === `https://${host}`);
}
