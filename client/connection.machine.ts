/**
 * @module connection.machine: the client's connection as a statechart:
 * connecting → authenticating → online, and reconnecting after a drop, until
 * closed. Inspect it like the server's machines (`inspect` option of
 * `createChatClient`).
 *
 * The socket is a child actor spawned on each attempt and stopped when it
 * ends (client/socket.ts). What was asked and seen lives in the context as a
 * plain {@link Tracker} (client/tracker.ts), so each step is data in, data
 * out; the machine sends the frames a step produces and emits what the
 * application should hear, which `ChatClient` turns into promises and events.
 *
 * No reconnect follows a refusal (close 1008: nick taken or invalid, failed
 * logins, authentication timeout, flooding), a takeover (4001) or a logout
 * (1000): the same attempt would only be refused again, or would take the
 * nick back from its owner.
 */
import { and, assign, enqueueActions, fromCallback, setup, spawnChild, stateIn, stopChild, type ActorRefFrom } from 'xstate';
import { backoffDelay, type BackoffOptions } from './backoff.js';
import type { ConnectionState } from './events.js';
import type { ErrorCode, IncomingFrame, OutgoingFrame, RequestId } from './frames.js';
import type { SocketCommand, SocketEvent, SocketInput } from './socket.js';
import { addRequest, createTracker, onDropped, onFrame, onOnline, onStopped, retryThrottled, type Notice, type Settlement, type Step, type Tracker } from './tracker.js';

const CLOSE_LOGGED_OUT = 1000;
const CLOSE_REFUSED = 1008;
const CLOSE_SIGNED_IN_ELSEWHERE = 4001;

export interface ConnectionInput {
  /** The login URL for the nick, `ws://host:port/chat/login/NICK`. */
  url: string;
  nick: string;
  password?: string;
  token?: string;
  backoff?: BackoffOptions;
}

/** Why the client stopped, as data (the inspector shows it); `ChatClient` makes a `ChatError` of it. */
export interface Failure {
  code: string;
  message: string;
}

export interface ConnectionContext {
  url: string;
  backoff: BackoffOptions;
  /** A resume token: preferred to the password, which is forgotten once a token is held. */
  token?: string;
  password?: string;
  /** What the login on this connection was sent with, so a refused token can fall back to the password. */
  signingInWith?: 'token' | 'password';
  /** Attempts since the last time online. */
  attempt: number;
  delayMs: number;
  everOnline: boolean;
  closeCode?: number;
  /** An error frame that explains the close that follows it (nick_taken before 1008, say). */
  refusal?: Failure;
  failure?: Failure;
  tracker: Tracker;
}

export type ConnectionEvent =
  | SocketEvent
  | { type: 'client.request'; frame: OutgoingFrame & { id: RequestId } }
  | { type: 'client.close' }
  /** Time to send again what the server's rate limit refused. */
  | { type: 'client.retry' }
  /** Skip the rest of the backoff (a person pressed "Retry now"). */
  | { type: 'client.reconnect' };

export type Emitted =
  | Notice
  | Settlement
  | { type: 'state'; state: ConnectionState; attempt: number; delayMs?: number; closeCode?: number; failure?: Failure }
  | { type: 'token'; token: string }
  | { type: 'users'; users: string[] };

/** How long to wait before asking again what the server refused `rate_limited`: by then its bucket has refilled some. */
const RATE_LIMIT_RETRY_MS = 1_000;

const FINAL_CLOSES = new Set([CLOSE_LOGGED_OUT, CLOSE_REFUSED, CLOSE_SIGNED_IN_ELSEWHERE]);

/** Error frames while signing in after which trying again is pointless: the client stops. */
const SIGN_IN_REFUSALS: ReadonlySet<string> = new Set<ErrorCode>([
  'bad_password',
  'bad_token',
  'auth_throttled',
  'auth_timeout',
  'nick_taken',
  'invalid_nick',
]);

type FrameEvent = Extract<ConnectionEvent, { type: 'socket.frame' }>;
type ClosedEvent = Extract<ConnectionEvent, { type: 'socket.closed' }>;

function errorOf(event: ConnectionEvent): { code: string; message: string } | undefined {
  if (event.type !== 'socket.frame' || event.frame.type !== -1) return undefined;
  return { code: event.frame.code, message: event.frame.message };
}

function isOwnLogin(frame: IncomingFrame, nick: string): frame is Extract<IncomingFrame, { type: 2 }> {
  return frame.type === 2 && frame.user.toLowerCase() === nick.toLowerCase();
}

export const connectionMachine = setup({
  types: {
    context: {} as ConnectionContext,
    input: {} as ConnectionInput,
    events: {} as ConnectionEvent,
    emitted: {} as Emitted,
  },
  actors: {
    // Replaced by `ChatClient` with one over the WebSocket implementation it was given.
    socket: fromCallback<SocketCommand, SocketInput, SocketEvent>(() => {
      throw new Error('no WebSocket implementation was provided');
    }),
  },
  delays: {
    backoff: ({ context }) => context.delayMs,
  },
  guards: {
    isFinalClose: ({ event }) => FINAL_CLOSES.has((event as ClosedEvent).code),
    wasOnline: ({ context }) => context.everOnline,
    isAuthRequired: ({ event }) => errorOf(event)?.code === 'auth_required',
    canSignIn: ({ context }) => context.token !== undefined || context.password !== undefined,
    /** A refused token, with a password still known to fall back on. */
    isRefusedToken: ({ context, event }) => errorOf(event)?.code === 'bad_token' && context.signingInWith === 'token' && context.password !== undefined,
    isSignInRefusal: ({ event }) => SIGN_IN_REFUSALS.has(errorOf(event)?.code ?? ''),
    isRefusalNotice: ({ event }) => {
      const code = errorOf(event)?.code;
      return code === 'nick_taken' || code === 'invalid_nick';
    },
    isOwnLogin: ({ context, event }) => isOwnLogin((event as FrameEvent).frame, context.tracker.nick),
    /** The user list that follows a login; a list the application asked for carries its `id`. */
    isLoginList: ({ event }) => {
      const frame = (event as FrameEvent).frame;
      return frame.type === 6 && frame.id === undefined && frame.channel === undefined;
    },
  },
  actions: {
    spawnSocket: spawnChild('socket', { id: 'socket', input: ({ context }) => ({ url: context.url }) }),
    stopSocket: stopChild('socket'),
    signIn: enqueueActions(({ context, enqueue }) => {
      const kind = context.token !== undefined ? 'token' : 'password';
      const credential = kind === 'token' ? context.token! : context.password!;
      enqueue.assign({ signingInWith: kind });
      enqueue.sendTo('socket', { type: 'socket.send', frame: { type: 2, user: context.tracker.nick, [kind]: credential } } satisfies SocketCommand);
    }),
    forgetToken: assign({ token: undefined }),
    /** The list that follows a login says who is online: the application gets it without asking (and spending a frame). */
    emitUsers: enqueueActions(({ event, enqueue }) => {
      const frame = (event as FrameEvent).frame as Extract<IncomingFrame, { type: 6 }>;
      enqueue.emit({ type: 'users', users: frame.users });
    }),
    noteRefusal: assign({ refusal: ({ event }) => errorOf(event) }),
    failWithError: assign({ failure: ({ event }) => errorOf(event) }),
    failNoCredentials: assign({
      failure: { code: 'auth_required', message: 'This nick is registered: connect with its password or a resume token.' },
    }),
    /** The own login frame: the server's spelling of the nick, and a fresh token if the nick is registered. */
    loggedIn: enqueueActions(({ context, event, enqueue }) => {
      const frame = (event as FrameEvent).frame as Extract<IncomingFrame, { type: 2 }>;
      enqueue.assign({ tracker: { ...context.tracker, nick: frame.user } });
      if (frame.token !== undefined) {
        enqueue.assign({ token: frame.token, password: undefined });
        enqueue.emit({ type: 'token', token: frame.token });
      }
    }),
    noteClose: assign({ closeCode: ({ event }) => (event as ClosedEvent).code }),
    failOnClose: assign({
      failure: ({ context, event }) => {
        const { code, reason } = event as ClosedEvent;
        if (code === CLOSE_SIGNED_IN_ELSEWHERE) {
          return { code: 'signed_in_elsewhere', message: 'Signed in elsewhere: another connection logged in as this nick.' };
        }
        if (context.refusal) return context.refusal;
        if (code === CLOSE_LOGGED_OUT) return { code: 'closed', message: 'The server closed the connection as logged out.' };
        if (!context.everOnline) return { code: 'unreachable', message: `Could not log in: the connection closed with ${code}${reason ? ` (${reason})` : ''}.` };
        return { code: reason || 'closed', message: `The server refused the connection (close ${code}${reason ? `, ${reason}` : ''}).` };
      },
    }),
    failClosedByApplication: assign({ failure: { code: 'closed', message: 'The client was closed.' } }),
    scheduleRetry: assign(({ context }) => ({
      delayMs: backoffDelay(context.attempt, context.backoff),
      attempt: context.attempt + 1,
    })),
    wentOnline: assign({ attempt: 0, everOnline: true, refusal: undefined, signingInWith: undefined }),
    startedAttempt: assign({ refusal: undefined, signingInWith: undefined }),
    rejoin: enqueueActions(({ context, enqueue }) => applyStep(enqueue, onOnline(context.tracker, context.tracker.nick))),
    request: enqueueActions(({ context, event, enqueue }, params: { online: boolean }) => {
      applyStep(enqueue, addRequest(context.tracker, (event as Extract<ConnectionEvent, { type: 'client.request' }>).frame, params.online));
    }),
    emitState: enqueueActions(({ context, enqueue }, params: { state: ConnectionState }) => {
      const { state } = params;
      enqueue.emit({
        type: 'state',
        state,
        attempt: context.attempt,
        ...(state === 'reconnecting' ? { delayMs: context.delayMs } : {}),
        ...(context.closeCode === undefined ? {} : { closeCode: context.closeCode }),
        ...(state === 'closed' && context.failure ? { failure: context.failure } : {}),
      });
    }),
    frame: enqueueActions(({ context, event, enqueue }) => {
      const step = onFrame(context.tracker, (event as FrameEvent).frame);
      applyStep(enqueue, step);
      // A nick registered on this connection signs in with its password until a login hands out a token.
      if (step.password !== undefined && context.token === undefined) enqueue.assign({ password: step.password });
      if (step.retry) {
        enqueue.cancel('retry');
        enqueue.raise({ type: 'client.retry' }, { id: 'retry', delay: RATE_LIMIT_RETRY_MS });
      }
    }),
    retryThrottled: enqueueActions(({ context, enqueue }) => applyStep(enqueue, retryThrottled(context.tracker))),
    dropped: enqueueActions(({ context, enqueue }) => applyStep(enqueue, onDropped(context.tracker))),
    stopped: enqueueActions(({ context, enqueue }) => {
      const failure = context.failure ?? { code: 'closed', message: 'The client was closed.' };
      applyStep(enqueue, onStopped(context.tracker, failure.code, failure.message));
    }),
  },
}).createMachine({
  id: 'chatClient',
  context: ({ input }) => ({
    url: input.url,
    backoff: input.backoff ?? {},
    ...(input.token === undefined ? {} : { token: input.token }),
    ...(input.password === undefined ? {} : { password: input.password }),
    attempt: 0,
    delayMs: 0,
    everOnline: false,
    tracker: createTracker(input.nick),
  }),
  initial: 'connecting',
  on: {
    'client.request': [
      { guard: stateIn('online'), actions: { type: 'request', params: { online: true } } },
      { actions: { type: 'request', params: { online: false } } },
    ],
    'client.close': { target: '.closed', actions: 'failClosedByApplication' },
  },
  states: {
    connecting: {
      entry: ['startedAttempt', 'spawnSocket', { type: 'emitState', params: { state: 'connecting' } }],
      on: {
        'socket.open': 'authenticating',
        'socket.closed': [
          { guard: 'isFinalClose', target: 'closed', actions: ['noteClose', 'failOnClose'] },
          { guard: 'wasOnline', target: 'reconnecting', actions: 'noteClose' },
          { target: 'closed', actions: ['noteClose', 'failOnClose'] },
        ],
      },
    },
    authenticating: {
      entry: { type: 'emitState', params: { state: 'authenticating' } },
      on: {
        'socket.frame': [
          { guard: 'isOwnLogin', actions: 'loggedIn' },
          { guard: 'isLoginList', target: 'online', actions: 'emitUsers' },
          { guard: and(['isAuthRequired', 'canSignIn']), actions: 'signIn' },
          { guard: 'isAuthRequired', target: 'closed', actions: 'failNoCredentials' },
          { guard: 'isRefusedToken', actions: ['forgetToken', 'signIn'] },
          // nick_taken and invalid_nick come just before the server's close 1008, which ends the attempt.
          { guard: 'isRefusalNotice', actions: 'noteRefusal' },
          { guard: 'isSignInRefusal', target: 'closed', actions: 'failWithError' },
        ],
        'socket.closed': [
          { guard: 'isFinalClose', target: 'closed', actions: ['noteClose', 'failOnClose'] },
          { guard: 'wasOnline', target: 'reconnecting', actions: 'noteClose' },
          { target: 'closed', actions: ['noteClose', 'failOnClose'] },
        ],
      },
    },
    online: {
      entry: ['wentOnline', { type: 'emitState', params: { state: 'online' } }, 'rejoin'],
      on: {
        'socket.frame': { actions: 'frame' },
        'client.retry': { actions: 'retryThrottled' },
        'socket.closed': [
          { guard: 'isFinalClose', target: 'closed', actions: ['noteClose', 'failOnClose'] },
          { target: 'reconnecting', actions: 'noteClose' },
        ],
      },
    },
    reconnecting: {
      entry: ['stopSocket', 'dropped', 'scheduleRetry', { type: 'emitState', params: { state: 'reconnecting' } }],
      after: { backoff: 'connecting' },
      on: { 'client.reconnect': 'connecting' },
    },
    closed: {
      type: 'final',
      entry: ['stopSocket', 'stopped', { type: 'emitState', params: { state: 'closed' } }],
    },
  },
});

/** Sends a step's frames and emits its notices and settlements, in order. */
function applyStep(
  enqueue: {
    assign: (values: Partial<ConnectionContext>) => void;
    sendTo: (to: string, event: SocketCommand) => void;
    emit: (event: Emitted) => void;
  },
  step: Step,
): void {
  enqueue.assign({ tracker: step.tracker });
  for (const frame of step.out) enqueue.sendTo('socket', { type: 'socket.send', frame });
  for (const emitted of step.emits) enqueue.emit(emitted);
}

export type ConnectionActor = ActorRefFrom<typeof connectionMachine>;
