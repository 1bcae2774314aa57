/**
 * @module client: `ChatClient`, the application's handle on the connection
 * machine: a promise per request, settled by the server's answer, and typed
 * event subscriptions.
 *
 * Requests made while the connection is down wait and go out, in order, once
 * it is back and its channels are rejoined; nothing needs to be repeated by
 * the application.
 */
import { createActor, type InspectionEvent, type Observer } from 'xstate';
import type { BackoffOptions } from './backoff.js';
import { connectionMachine, type ConnectionActor, type Emitted, type Failure } from './connection.machine.js';
import { ChatError, type ChatErrorCode } from './errors.js';
import type { ChannelEvent, ClientEventMap, ClientEventName, ConnectionState, MessageEvent } from './events.js';
import type { OutgoingFrame, RequestId } from './frames.js';
import { socketLogic, type WebSocketConstructor } from './socket.js';

export interface ConnectOptions {
  /** The server, as `ws://host:port` (or `http://host:port`, or with `wss:`/`https:`). */
  url: string;
  nick: string;
  /** For a registered nick; forgotten once the server hands out a resume token. */
  password?: string;
  /** A resume token from an earlier login (see the `token` event); preferred to the password. */
  token?: string;
  /** The WebSocket implementation: the global one when absent (browsers); in Node 20 pass `ws`'s. */
  WebSocket?: WebSocketConstructor;
  backoff?: BackoffOptions;
  /** An XState inspection observer, to watch the connection machine (the Stately inspector's, say). */
  inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void);
}

export interface JoinResult {
  channel: string;
  /** The store's epoch, which the offsets of this channel belong to. */
  epoch?: string;
  /** The offset of this client's join. */
  offset: number;
}

export interface HistoryPage {
  /** Oldest first, each with `source: 'history'`. */
  events: ChannelEvent[];
  /** Whether the server keeps older events still. */
  more: boolean;
}

type Handler<K extends ClientEventName> = (event: ClientEventMap[K]) => void;

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: ChatError) => void;
}

/** The login path of a nick on a server given by its base URL. */
export function loginUrl(base: string, nick: string): string {
  return `${base.replace(/^http/, 'ws').replace(/\/+$/, '')}/chat/login/${encodeURIComponent(nick)}`;
}

function errorOf(failure: Failure | { code: string; message: string }, requestId?: RequestId): ChatError {
  return new ChatError(failure.code as ChatErrorCode, failure.message, requestId);
}

export class ChatClient {
  /** The connection machine's actor: inspect it, or read `getSnapshot()`. */
  readonly actor: ConnectionActor;
  private nextId = 1;
  private readonly pending = new Map<RequestId, Pending>();
  private readonly handlers = new Map<ClientEventName, Set<(event: never) => void>>();
  private started: Promise<this> | undefined;

  constructor(options: ConnectOptions) {
    const WebSocketImpl = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!WebSocketImpl) {
      throw new TypeError('No WebSocket implementation: pass one as `WebSocket` (in Node 20: `import { WebSocket } from "ws"`).');
    }
    const machine = connectionMachine.provide({ actors: { socket: socketLogic(WebSocketImpl) } });
    this.actor = createActor(machine, {
      input: {
        url: loginUrl(options.url, options.nick),
        nick: options.nick,
        ...(options.password === undefined ? {} : { password: options.password }),
        ...(options.token === undefined ? {} : { token: options.token }),
        ...(options.backoff === undefined ? {} : { backoff: options.backoff }),
      },
      ...(options.inspect === undefined ? {} : { inspect: options.inspect }),
    });
    this.actor.on('*', (emitted) => this.dispatch(emitted as Emitted));
  }

  /** Starts connecting; resolves once logged in, rejects with the reason if the client closes first. */
  start(): Promise<this> {
    this.started ??= new Promise<this>((resolve, reject) => {
      const off = this.on('state', ({ state, error }) => {
        if (state === 'online') {
          off();
          resolve(this);
        } else if (state === 'closed') {
          off();
          reject(error ?? new ChatError('closed', 'The client was closed before it logged in.'));
        }
      });
      this.actor.start();
    });
    return this.started;
  }

  get state(): ConnectionState {
    const snapshot = this.actor.getSnapshot();
    return snapshot.status === 'active' ? (snapshot.value as ConnectionState) : 'closed';
  }

  /** The nick as the server spells it. */
  get nick(): string {
    return this.actor.getSnapshot().context.tracker.nick;
  }

  /** The newest resume token, once a login to a registered nick handed one out. */
  get token(): string | undefined {
    return this.actor.getSnapshot().context.token;
  }

  /** The channels this client is in (or is rejoining), canonical. */
  get channels(): string[] {
    return Object.keys(this.actor.getSnapshot().context.tracker.channels);
  }

  /** Calls `handler` for every event named `name` until the returned function is called. */
  on<K extends ClientEventName>(name: K, handler: Handler<K>): () => void {
    let set = this.handlers.get(name);
    if (!set) this.handlers.set(name, (set = new Set()));
    set.add(handler as (event: never) => void);
    return () => set.delete(handler as (event: never) => void);
  }

  /** Joins a channel; delivers its recent past as `message`/`join`/`leave` events with `source: 'history'` first. */
  join(channel: string): Promise<JoinResult> {
    return this.request({ type: 4, channel }) as Promise<JoinResult>;
  }

  leave(channel: string): Promise<void> {
    return this.request({ type: 5, channel }) as Promise<void>;
  }

  /** Resolves with the message as delivered to the channel (its offset and time) once the server has echoed it. */
  send(channel: string, message: string): Promise<MessageEvent> {
    return this.request({ type: 0, dest: channel, message }) as Promise<MessageEvent>;
  }

  /** Everyone online, or the members of `channel`. */
  users(channel?: string): Promise<string[]> {
    return this.request(channel === undefined ? { type: 6 } : { type: 6, channel }) as Promise<string[]>;
  }

  /** A page of a channel's stored events before offset `before` (the newest without it); `limit` 1 to 200, 50 by default. */
  history(channel: string, { before, limit }: { before?: number; limit?: number } = {}): Promise<HistoryPage> {
    return this.request({
      type: 8,
      channel,
      ...(before === undefined ? {} : { before }),
      ...(limit === undefined ? {} : { limit }),
    }) as Promise<HistoryPage>;
  }

  /** Registers this nick with a password; from then on reconnects sign in with it (then with the token they get). */
  async register(password: string): Promise<void> {
    await this.request({ type: 1, password });
  }

  /** Changes the password; the server revokes every resume token of the nick. */
  async changePassword(oldPassword: string, newPassword: string): Promise<void> {
    await this.request({ type: 1, password: newPassword, old_password: oldPassword });
  }

  /** While `reconnecting`: tries now rather than when the backoff is over. Otherwise does nothing. */
  reconnectNow(): void {
    if (this.actor.getSnapshot().status === 'active') this.actor.send({ type: 'client.reconnect' });
  }

  /** Logs out and stops for good: no reconnect; whatever was waiting is rejected with `closed`. */
  close(): Promise<void> {
    if (this.actor.getSnapshot().status === 'active') this.actor.send({ type: 'client.close' });
    return Promise.resolve();
  }

  private request(frame: OutgoingFrame): Promise<unknown> {
    if (this.actor.getSnapshot().status !== 'active') {
      const failure = this.actor.getSnapshot().context.failure;
      return Promise.reject(failure ? errorOf(failure) : new ChatError('closed', 'The client is closed.'));
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.actor.send({ type: 'client.request', frame: { ...frame, id } });
    });
  }

  private dispatch(emitted: Emitted): void {
    switch (emitted.type) {
      case 'settled':
        this.pending.get(emitted.id)?.resolve(emitted.value);
        this.pending.delete(emitted.id);
        return;
      case 'failed':
        this.pending.get(emitted.id)?.reject(errorOf(emitted, emitted.id));
        this.pending.delete(emitted.id);
        return;
      case 'state': {
        const { failure, ...rest } = emitted;
        this.notify('state', { ...rest, ...(failure ? { error: errorOf(failure) } : {}) });
        return;
      }
      case 'error':
        this.notify('error', {
          type: 'error',
          error: errorOf(emitted),
          ...(emitted.channel === undefined ? {} : { channel: emitted.channel }),
        });
        return;
      default:
        this.notify(emitted.type, emitted as ClientEventMap[typeof emitted.type]);
    }
  }

  private notify<K extends ClientEventName>(name: K, event: ClientEventMap[K]): void {
    for (const handler of [...(this.handlers.get(name) ?? [])]) {
      try {
        (handler as Handler<K>)(event);
      } catch (error) {
        // A failing handler must not break the connection machine; the failure still surfaces, as an uncaught error.
        setTimeout(() => {
          throw error;
        });
      }
    }
  }
}

export function createChatClient(options: ConnectOptions): ChatClient {
  return new ChatClient(options);
}

/**
 * Connects and logs in. Resolves once online; rejects with a `ChatError` when
 * the server refuses (`nick_taken`, `bad_password`, `auth_required` without
 * credentials, …) or cannot be reached (`unreachable`). After that, drops are
 * reconnected by themselves.
 */
export function connect(options: ConnectOptions): Promise<ChatClient> {
  return new ChatClient(options).start();
}
