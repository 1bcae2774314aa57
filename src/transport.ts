/**
 * @module transport: WebSocket upgrades and the wiring of each socket to its
 * session actor.
 *
 * Everything that touches `ws` is here or in `connection.ts`: the path and
 * nick check, frame validation, and turning socket events into actor events.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import type { Actor, AnyActorRef } from 'xstate';
import { encode, errorFrame } from '../machines/frames.js';
import { isValidNick } from '../machines/names.js';
import { sessionActorId, type serverMachine } from '../machines/server.machine.js';
import { CloseCode } from '../machines/socket.js';
import { connectionFor } from './connection.js';
import type { Logger } from './log.js';
import { parseClientFrame } from './protocol.js';

const LOGIN_PATH = /^\/chat\/login\/([^/]*)$/;

export interface TransportOptions {
  actor: Actor<typeof serverMachine>;
  logger: Logger;
}

export class Transport {
  readonly wss: WebSocketServer;
  private nextId = 0;
  private accepting = true;

  constructor(private readonly options: TransportOptions) {
    this.wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, clientTracking: true });
  }

  /** Handles an HTTP upgrade request: login path or 404. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    // A socket that errors before the upgrade completes must not crash the process.
    socket.on('error', () => socket.destroy());
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    const match = LOGIN_PATH.exec(path);
    if (!match || !this.accepting) {
      const status = match ? '503 Service Unavailable' : '404 Not Found';
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    const nick = decodeNick(match[1] ?? '');
    this.wss.handleUpgrade(request, socket, head, (ws) => this.accept(ws, nick, request));
  }

  private accept(ws: WebSocket, nick: string | undefined, request: IncomingMessage): void {
    const { actor, logger } = this.options;
    const address = request.socket.remoteAddress;
    ws.on('error', (error) => logger.debug({ err: error }, 'socket error'));

    if (nick === undefined || !isValidNick(nick)) {
      logger.warn({ address, nick }, 'connection rejected: invalid nick');
      ws.send(encode(errorFrame('invalid_nick')));
      ws.close(CloseCode.policyViolation, 'invalid nick');
      return;
    }

    const id = String(++this.nextId);
    const log = logger.child({ id, nick });
    const connection = connectionFor(ws, (code, reason) => {
      if (code === CloseCode.policyViolation) log.warn({ address, reason }, 'connection rejected');
    });
    log.info({ address }, 'connection opened');
    actor.send({ type: 'connection.open', id, nick, connection });
    const session = actor.system.get(sessionActorId(id)) as AnyActorRef | undefined;
    if (!session) {
      // The server is not taking sessions (it is shutting down).
      ws.close(CloseCode.goingAway, 'server shutting down');
      return;
    }

    const running = () => session.getSnapshot().status === 'active';
    ws.on('message', (data, isBinary) => {
      if (!running()) return;
      session.send(
        isBinary
          ? { type: 'client.invalid', code: 'bad_request', message: 'Binary frames are not accepted; send JSON as text frames.' }
          : parseClientFrame(data.toString()),
      );
    });
    ws.on('close', (code) => {
      log.info({ code }, 'connection closed');
      if (running()) session.send({ type: 'socket.closed', code });
    });
  }

  /** Stops taking new connections. */
  stopAccepting(): void {
    this.accepting = false;
  }

  /** Every open socket, including ones still in their closing handshake. */
  get sockets(): Set<WebSocket> {
    return this.wss.clients;
  }
}

function decodeNick(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}
