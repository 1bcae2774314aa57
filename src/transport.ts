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
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { Actor, AnyActorRef } from 'xstate';
import type { ClientCommand } from '../machines/commands.js';
import { encode, errorFrame, ErrorCodes, type ErrorCode } from '../machines/frames.js';
import type { ServerLimits } from '../machines/limits.js';
import { isValidNick } from '../machines/names.js';
import { sessionActorId, type serverMachine } from '../machines/server.machine.js';
import type { SessionContext } from '../machines/session.machine.js';
import { CloseCode } from '../machines/socket.js';
import { WsConnection, type ConnectionOwner } from './connection.js';
import { RefusalWindow, TokenBucket } from './flood.js';
import { logFrameForDebug } from './frame-log.js';
import type { Logger } from './log.js';
import type { ChatCounters } from './metrics/counters.js';
import { isOriginAllowed } from './origin.js';
import { parseClientFrame, requestIdOf } from './protocol.js';
import { refuseUpgrade } from './refuse-upgrade.js';

const LOGIN_PATH = /^\/chat\/login\/([^/]*)$/;

export interface TransportOptions {
  actor: Actor<typeof serverMachine>;
  logger: Logger;
  limits: ServerLimits;
  /** Origins allowed besides the server's own and requests without one. */
  allowedOrigins: ReadonlySet<string>;
  /** Where connections, frames and refusals are counted, for `/metrics`. */
  counters: ChatCounters;
  /** Why new connections are refused with 503 right now (a cluster without Redis), or undefined to take them. */
  unavailable?: () => string | undefined;
}

/** Where a socket's per-connection record hangs, for the listeners shared by every connection. */
const PEER = Symbol('peer');
/** The address an admitted TCP socket counts against, read back when it closes. */
const ADMITTED = Symbol('admitted');

type PeerSocket = WebSocket & { [PEER]?: Peer };
type AdmittedSocket = Duplex & { [ADMITTED]?: string };

/**
 * What the transport keeps per open socket, in one object: the connection the
 * actor system writes to, and what flood control and the heartbeat need.
 */
class Peer extends WsConnection<Transport> {
  /** Answered the last ping. */
  alive = true;
  session: AnyActorRef | undefined;
  /** Made on the first frame, when rate limiting is on. */
  bucket: TokenBucket | undefined;
  /** Made on the first frame refused for its rate. */
  refusals: RefusalWindow | undefined;

  constructor(
    ws: WebSocket,
    transport: Transport,
    readonly id: string,
    readonly nick: string,
    readonly address: string,
  ) {
    super(ws, transport);
  }

  get running(): boolean {
    return this.session?.getSnapshot().status === 'active';
  }

  /** For log lines: plain bindings rather than a child logger, which each idle session would keep. */
  get who(): { id: string; nick: string; address: string } {
    return { id: this.id, nick: this.nick, address: this.address };
  }
}

/** At `LOG_LEVEL=debug` only, so a busy server at info pays nothing: logs joins, leaves and refusals. */
class DebugPeer extends Peer {
  override send(data: string): void {
    logFrameForDebug(this.owner.logger, this.who, data);
    super.send(data);
  }

  override sendMany(frames: readonly string[]): void {
    for (const data of frames) this.send(data);
  }

  override sendSplit(head: string, tail: string): void {
    this.send(head + tail);
  }
}

/*
 * The listeners below are shared by every socket (`this` is the emitter), so
 * an idle connection costs no closures: ten thousand sessions would otherwise
 * keep tens of thousands of them.
 */
function destroyOnError(this: Duplex): void {
  this.destroy();
}

function markAlive(this: PeerSocket): void {
  if (this[PEER]) this[PEER].alive = true;
}

function forwardMessage(this: PeerSocket, data: RawData, isBinary: boolean): void {
  this[PEER]?.owner.receive(this[PEER], data, isBinary);
}

function reportClosed(this: PeerSocket, code: number): void {
  this[PEER]?.owner.closed(this[PEER], code);
}

/** The byte length of a frame as `ws` hands it over: one buffer, unless another binary type was asked for. */
function byteLengthOf(data: RawData): number {
  if (Array.isArray(data)) return data.reduce((sum, part) => sum + part.length, 0);
  return data.byteLength;
}

export class Transport implements ConnectionOwner {
  readonly wss: WebSocketServer;
  readonly maxBufferedBytes: number;
  readonly counters: ChatCounters;
  /** Decided once: whether peers log their joins, leaves and refusals (see DebugPeer). */
  private readonly debug: boolean;
  private readonly connectionsByAddress = new Map<string, number>();
  private connections = 0;
  private nextId = 0;
  private accepting = true;
  private readonly heartbeat: NodeJS.Timeout;
  private readonly logSocketError = (error: Error) => this.options.logger.debug({ err: error }, 'socket error');
  private readonly onAdmittedClose: (this: AdmittedSocket) => void;

  constructor(private readonly options: TransportOptions) {
    this.wss = new WebSocketServer({
      noServer: true,
      perMessageDeflate: false,
      maxPayload: options.limits.maxPayload,
      clientTracking: true,
    });
    this.maxBufferedBytes = options.limits.maxBufferedBytes;
    this.counters = options.counters;
    this.debug = options.logger.isLevelEnabled('debug');
    const transport = this;
    this.onAdmittedClose = function (this: AdmittedSocket) {
      transport.release(this[ADMITTED]!);
    };
    this.heartbeat = setInterval(() => this.pingAll(), options.limits.pingIntervalMs);
    this.heartbeat.unref();
  }

  /** Handles an HTTP upgrade request: admits it to the login path or answers it with an HTTP error. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    // A socket that errors before the upgrade completes must not crash the process.
    socket.on('error', destroyOnError);
    const { limits } = this.options;
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    const match = LOGIN_PATH.exec(path);
    if (!match) return this.refuse(socket, 404, 'Not Found', 'WebSocket connections go to /chat/login/NICK.');
    if (!this.accepting) return this.refuse(socket, 503, 'Service Unavailable', 'The server is shutting down.');
    const unavailable = this.options.unavailable?.();
    if (unavailable !== undefined) return this.refuse(socket, 503, 'Service Unavailable', unavailable);
    if (!isOriginAllowed(request, this.options.allowedOrigins)) {
      this.options.logger.warn({ origin: request.headers.origin }, 'upgrade refused: origin not allowed');
      return this.refuse(socket, 403, 'Forbidden', 'This origin may not connect. Ask the operator to add it to --allowed-origins.');
    }
    const address = request.socket.remoteAddress ?? 'unknown';
    if (this.connections >= limits.maxConnections) {
      this.options.logger.warn({ address }, 'upgrade refused: server full');
      return this.refuse(socket, 503, 'Service Unavailable', 'The server is full. Try again later.');
    }
    const fromAddress = this.connectionsByAddress.get(address) ?? 0;
    if (limits.maxConnectionsPerIp > 0 && fromAddress >= limits.maxConnectionsPerIp) {
      this.options.logger.warn({ address }, 'upgrade refused: too many connections from one address');
      return this.refuse(socket, 429, 'Too Many Requests', 'Too many connections from your address. Close some first.');
    }

    // Counted per TCP socket, so an upgrade that fails half-way is released as surely as a closed chat.
    this.connections += 1;
    this.connectionsByAddress.set(address, fromAddress + 1);
    (socket as AdmittedSocket)[ADMITTED] = address;
    // `on`, not `once`: a socket closes once, and `once` would wrap the listener per socket.
    socket.on('close', this.onAdmittedClose);

    const nick = decodeNick(match[1] ?? '');
    this.wss.handleUpgrade(request, socket, head, (ws) => {
      // From here `ws` handles the socket's errors; one listener fewer for every idle connection.
      socket.removeListener('error', destroyOnError);
      this.accept(ws, nick, address);
    });
  }

  /** Answers an upgrade with an HTTP error, counted for `/metrics`. */
  private refuse(socket: Duplex, status: number, statusText: string, reason: string): void {
    this.counters.refused('upgrade', status);
    refuseUpgrade(socket, status, statusText, reason);
  }

  /** @internal Gives back the slot of an admitted TCP socket that closed. */
  release(address: string): void {
    this.connections -= 1;
    const remaining = (this.connectionsByAddress.get(address) ?? 1) - 1;
    if (remaining > 0) this.connectionsByAddress.set(address, remaining);
    else this.connectionsByAddress.delete(address);
  }

  private accept(ws: PeerSocket, nick: string | undefined, address: string): void {
    const { actor, logger } = this.options;
    const { counters } = this;
    ws.on('error', this.logSocketError);
    counters.opened();

    if (nick === undefined || !isValidNick(nick)) {
      logger.warn({ address, nick, errorCode: 'invalid_nick' }, 'login refused');
      const refusal = encode(errorFrame('invalid_nick'));
      // Counted like every frame out, which also counts the refused login.
      counters.frameOut(refusal);
      ws.send(refusal);
      ws.close(CloseCode.policyViolation, 'invalid_nick');
      ws.once('close', (code: number) => counters.closed(code));
      return;
    }

    const peer = new (this.debug ? DebugPeer : Peer)(ws, this, String(++this.nextId), nick, address);
    ws[PEER] = peer;
    ws.on('pong', markAlive);
    logger.info(peer.who, 'connection opened');
    actor.send({ type: 'connection.open', id: peer.id, nick, address, connection: peer });
    peer.session = actor.system.get(sessionActorId(peer.id)) as AnyActorRef | undefined;
    if (!peer.session) {
      // The server is not taking sessions (it is shutting down).
      ws.close(CloseCode.goingAway, 'server shutting down');
      ws.once('close', (code: number) => counters.closed(code));
      return;
    }
    ws.on('message', forwardMessage);
    ws.on('close', reportClosed);
  }

  /** @internal One frame from a client: flood control, then validation, then its session. */
  receive(peer: Peer, data: RawData, isBinary: boolean): void {
    if (!peer.running) return;
    const session = peer.session!;
    const { limits, logger } = this.options;
    if (limits.rateLimit > 0) {
      const now = performance.now();
      peer.bucket ??= new TokenBucket(limits.rateLimit, limits.rateBurst, now);
      if (!peer.bucket.take(now)) {
        this.counters.frameRateLimited(byteLengthOf(data));
        const id = isBinary ? undefined : requestIdOf(data.toString());
        session.send({ type: 'client.invalid', code: 'rate_limited', ...(id === undefined ? {} : { id }) });
        peer.refusals ??= new RefusalWindow(limits.floodRefusals);
        if (peer.refusals.refuse(now)) {
          logger.warn(peer.who, 'flooding client disconnected');
          session.send({ type: 'client.flooding' });
        }
        return;
      }
    }
    const command: ClientCommand = isBinary
      ? { type: 'client.invalid', code: 'bad_request', message: 'Binary frames are not accepted; send JSON as text frames.' }
      : parseClientFrame(data.toString());
    this.counters.frameIn(command.type, byteLengthOf(data));
    session.send(command);
  }

  /** @internal The socket finished closing, however that started. */
  closed(peer: Peer, code: number): void {
    this.counters.closed(code);
    this.options.logger.info({ ...peer.who, code }, 'connection closed');
    if (!peer.running) return;
    if (this.debug) {
      // A dropped member is not sent its own leave frames, so its leaves are logged here.
      const channels = (peer.session!.getSnapshot().context as SessionContext).channels;
      for (const channel of channels.keys()) this.options.logger.debug({ ...peer.who, channel }, 'left channel on disconnect');
    }
    peer.session!.send({ type: 'socket.closed', code });
  }

  /** Deferred: the overflow is noticed inside a broadcast, which should finish before the session reacts. */
  onOverflow(connection: WsConnection): void {
    const peer = connection as Peer;
    queueMicrotask(() => {
      if (peer.running) peer.session!.send({ type: 'socket.overflow' });
    });
  }

  onClose(connection: WsConnection, code: number, reason: string): void {
    const peer = connection as Peer;
    if (code === CloseCode.policyViolation && isErrorCode(reason)) {
      // A session closes a refused login with the refusal's code as the reason (nick_taken, ...).
      this.options.logger.warn({ ...peer.who, errorCode: reason }, 'login refused');
    } else if (code === CloseCode.policyViolation) {
      this.options.logger.warn({ ...peer.who, reason }, 'connection rejected');
    }
    if (code === CloseCode.slowConsumer) this.options.logger.warn(peer.who, 'slow consumer disconnected');
  }

  /** A peer that has not answered the previous ping is gone: dropping it cleans its session up like any close. */
  private pingAll(): void {
    for (const ws of this.wss.clients as Set<PeerSocket>) {
      const peer = ws[PEER];
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

  get logger(): Logger {
    return this.options.logger;
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

function isErrorCode(text: string): text is ErrorCode {
  return (ErrorCodes as readonly string[]).includes(text);
}
