/**
 * @module transport: WebSocket upgrades and the wiring of each socket to its
 * session actor.
 *
 * Everything that touches `ws` is here or in `connection.ts`: admission
 * (path, origin, connection caps), the nick check, frame validation, flood
 * control, slow consumers and dead peers. Machines only see typed events.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import type { Actor, AnyActorRef } from 'xstate';
import { encode, errorFrame } from '../machines/frames.js';
import type { ServerLimits } from '../machines/limits.js';
import { isValidNick } from '../machines/names.js';
import { sessionActorId, type serverMachine } from '../machines/server.machine.js';
import { CloseCode } from '../machines/socket.js';
import { connectionFor } from './connection.js';
import { RefusalWindow, TokenBucket } from './flood.js';
import type { Logger } from './log.js';
import { isOriginAllowed } from './origin.js';
import { parseClientFrame } from './protocol.js';
import { refuseUpgrade } from './refuse-upgrade.js';

const LOGIN_PATH = /^\/chat\/login\/([^/]*)$/;

export interface TransportOptions {
  actor: Actor<typeof serverMachine>;
  logger: Logger;
  limits: ServerLimits;
  /** Origins allowed besides the server's own and requests without one. */
  allowedOrigins: ReadonlySet<string>;
}

/** What the transport keeps per open socket. */
interface Peer {
  /** Answered the last ping. */
  alive: boolean;
}

export class Transport {
  readonly wss: WebSocketServer;
  private readonly peers = new WeakMap<WebSocket, Peer>();
  private readonly connectionsByAddress = new Map<string, number>();
  private connections = 0;
  private nextId = 0;
  private accepting = true;
  private readonly heartbeat: NodeJS.Timeout;

  constructor(private readonly options: TransportOptions) {
    this.wss = new WebSocketServer({
      noServer: true,
      perMessageDeflate: false,
      maxPayload: options.limits.maxPayload,
      clientTracking: true,
    });
    this.heartbeat = setInterval(() => this.pingAll(), options.limits.pingIntervalMs);
    this.heartbeat.unref();
  }

  /** Handles an HTTP upgrade request: admits it to the login path or answers it with an HTTP error. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    // A socket that errors before the upgrade completes must not crash the process.
    socket.on('error', () => socket.destroy());
    const { limits } = this.options;
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    const match = LOGIN_PATH.exec(path);
    if (!match) return refuseUpgrade(socket, 404, 'Not Found', 'WebSocket connections go to /chat/login/NICK.');
    if (!this.accepting) return refuseUpgrade(socket, 503, 'Service Unavailable', 'The server is shutting down.');
    if (!isOriginAllowed(request, this.options.allowedOrigins)) {
      this.options.logger.warn({ origin: request.headers.origin }, 'upgrade refused: origin not allowed');
      return refuseUpgrade(socket, 403, 'Forbidden', 'This origin may not connect. Ask the operator to add it to --allowed-origins.');
    }
    const address = request.socket.remoteAddress ?? 'unknown';
    if (this.connections >= limits.maxConnections) {
      this.options.logger.warn({ address }, 'upgrade refused: server full');
      return refuseUpgrade(socket, 503, 'Service Unavailable', 'The server is full. Try again later.');
    }
    const fromAddress = this.connectionsByAddress.get(address) ?? 0;
    if (limits.maxConnectionsPerIp > 0 && fromAddress >= limits.maxConnectionsPerIp) {
      this.options.logger.warn({ address }, 'upgrade refused: too many connections from one address');
      return refuseUpgrade(socket, 429, 'Too Many Requests', 'Too many connections from your address. Close some first.');
    }

    // Counted per TCP socket, so an upgrade that fails half-way is released as surely as a closed chat.
    this.connections += 1;
    this.connectionsByAddress.set(address, fromAddress + 1);
    socket.once('close', () => this.release(address));

    const nick = decodeNick(match[1] ?? '');
    this.wss.handleUpgrade(request, socket, head, (ws) => this.accept(ws, nick, address));
  }

  private release(address: string): void {
    this.connections -= 1;
    const remaining = (this.connectionsByAddress.get(address) ?? 1) - 1;
    if (remaining > 0) this.connectionsByAddress.set(address, remaining);
    else this.connectionsByAddress.delete(address);
  }

  private accept(ws: WebSocket, nick: string | undefined, address: string): void {
    const { actor, logger, limits } = this.options;
    const peer: Peer = { alive: true };
    this.peers.set(ws, peer);
    ws.on('pong', () => (peer.alive = true));
    ws.on('error', (error) => logger.debug({ err: error }, 'socket error'));

    if (nick === undefined || !isValidNick(nick)) {
      logger.warn({ address, nick }, 'connection rejected: invalid nick');
      ws.send(encode(errorFrame('invalid_nick')));
      ws.close(CloseCode.policyViolation, 'invalid nick');
      return;
    }

    const id = String(++this.nextId);
    // Plain bindings rather than a child logger: ten thousand idle sessions would each keep one.
    const who = { id, nick, address };
    let session: AnyActorRef | undefined;
    const running = () => session?.getSnapshot().status === 'active';
    const connection = connectionFor(ws, {
      maxBufferedBytes: limits.maxBufferedBytes,
      // Deferred: the overflow is noticed inside a broadcast, which should finish before the session reacts.
      onOverflow: () =>
        queueMicrotask(() => {
          if (running()) session!.send({ type: 'socket.overflow' });
        }),
      onClose: (code, reason) => {
        if (code === CloseCode.policyViolation) logger.warn({ ...who, reason }, 'connection rejected');
        if (code === CloseCode.slowConsumer) logger.warn(who, 'slow consumer disconnected');
      },
    });

    logger.info(who, 'connection opened');
    actor.send({ type: 'connection.open', id, nick, connection });
    session = actor.system.get(sessionActorId(id)) as AnyActorRef | undefined;
    if (!session) {
      // The server is not taking sessions (it is shutting down).
      ws.close(CloseCode.goingAway, 'server shutting down');
      return;
    }
    const live = session;

    const bucket = limits.rateLimit > 0 ? new TokenBucket(limits.rateLimit, limits.rateBurst, performance.now()) : undefined;
    const refusals = new RefusalWindow(limits.floodRefusals);
    ws.on('message', (data, isBinary) => {
      if (!running()) return;
      if (bucket) {
        const now = performance.now();
        if (!bucket.take(now)) {
          live.send({ type: 'client.invalid', code: 'rate_limited' });
          if (refusals.refuse(now)) {
            logger.warn(who, 'flooding client disconnected');
            live.send({ type: 'client.flooding' });
          }
          return;
        }
      }
      live.send(
        isBinary
          ? { type: 'client.invalid', code: 'bad_request', message: 'Binary frames are not accepted; send JSON as text frames.' }
          : parseClientFrame(data.toString()),
      );
    });
    ws.on('close', (code) => {
      logger.info({ ...who, code }, 'connection closed');
      if (running()) live.send({ type: 'socket.closed', code });
    });
  }

  /** A peer that has not answered the previous ping is gone: dropping it cleans its session up like any close. */
  private pingAll(): void {
    for (const ws of this.wss.clients) {
      const peer = this.peers.get(ws);
      if (!peer) continue;
      if (!peer.alive) {
        this.options.logger.info('peer did not answer a ping; terminating');
        ws.terminate();
        continue;
      }
      peer.alive = false;
      ws.ping();
    }
  }

  /** Stops taking new connections and pinging. */
  stopAccepting(): void {
    this.accepting = false;
    clearInterval(this.heartbeat);
  }

  /** Every open socket, including ones still in their closing handshake. */
  get sockets(): Set<WebSocket> {
    return this.wss.clients;
  }

  /** Admitted TCP connections (upgrading or open), in all and by address. */
  get admitted(): { total: number; byAddress: ReadonlyMap<string, number> } {
    return { total: this.connections, byAddress: this.connectionsByAddress };
  }
}

function decodeNick(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}
