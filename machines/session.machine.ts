/**
 * @module session: one client connection, from handshake to close.
 *
 * Its states are the lifecycle a developer watches in the inspector:
 * identifying (is the nick registered?), authenticating (a registered nick
 * must prove it is its owner), handshaking (the server takes the nick),
 * active, and closing. Channel membership as this client sees it lives here,
 * so membership errors are answered without a round trip; the roster each
 * channel broadcasts to lives in the channel actor.
 */
import { assertEvent, assign, enqueueActions, sendParent, setup, type AnyActorRef } from 'xstate';
import { accountActors, type ChangeOutcome, type LoginOutcome, type RegisterOutcome } from './accounts.js';
import { closeSocket, outboxOf, unicast } from './broadcast.js';
import { claimActors, type ClaimOutcome } from './claims.js';
import type { ChannelEvent, ChannelJoinedEvent } from './channel.machine.js';
import type { ClientCommand } from './commands.js';
import { errorFrame, type ErrorCode, type RequestId } from './frames.js';
import { MAX_HELD_FRAMES, MAX_LOGIN_FAILURES } from './limits.js';
import { nickKey } from './names.js';
import type { OutboxEvent } from './outbox.js';
import type { HelloAnswer, SessionToServerEvent } from './server.events.js';
import { CloseCode } from './socket.js';

export interface SessionInput {
  /** The connection id: what the server knows this session by, and what its frames are addressed to. */
  id: string;
  nick: string;
  /** The client's address, which wrong passwords are counted against. */
  address: string;
  /** How many channels this session may be in at once. */
  maxChannels: number;
  /** How long a registered nick has to authenticate. */
  authTimeoutMs: number;
  /** One node of several: the nick is claimed cluster-wide before the server is asked for it. */
  claimsNick?: boolean;
}

export interface SessionContext {
  id: string;
  nick: string;
  address: string;
  maxChannels: number;
  authTimeoutMs: number;
  claimsNick: boolean;
  /**
   * Joined channels; the ref is null until the channel has confirmed the join.
   * Replaced, never mutated, on every change: so every session can start from
   * the one shared {@link NO_CHANNELS}, and an idle session holds no map of its own.
   */
  channels: ReadonlyMap<string, AnyActorRef | null>;
  /** The nick is registered and this connection proved it owns it (or registered it). */
  owner: boolean;
  /** Frames that arrived before this session could answer them, replayed in order once it can. */
  held: readonly ClientCommand[];
  /** Failed logins on this connection. */
  failures: number;
  /** The fresh resume token, from a successful login until the server has sent it. */
  token: string | undefined;
  /** The id of the login or registration request being worked on, echoed in its answer. */
  request: RequestId | undefined;
}

const NO_CHANNELS: ReadonlyMap<string, AnyActorRef | null> = new Map();
const NOTHING_HELD: readonly ClientCommand[] = Object.freeze([]);

export type SessionEvent =
  | ClientCommand
  | HelloAnswer
  | ChannelJoinedEvent
  /** The channel failed and was removed; this session is no longer in it. */
  | { type: 'channel.lost'; channel: string }
  | { type: 'session.shutdown' }
  /** The client kept sending after being refused for its rate: it is disconnected. */
  | { type: 'client.flooding' }
  /** The client's unsent output passed the limit: it is disconnected as a slow consumer. */
  | { type: 'socket.overflow' }
  | { type: 'socket.closed'; code: number };

type ChannelCommand = Extract<ClientCommand, { channel: string }>;

/** The request id a client command carried; other events have none. */
const requestIdOf = (event: { type: string }): RequestId | undefined => (event as { id?: RequestId }).id;

export const sessionMachine = setup({
  types: {
    context: {} as SessionContext,
    input: {} as SessionInput,
    events: {} as SessionEvent,
  },
  actors: { ...accountActors, ...claimActors },
  delays: {
    authTimeout: ({ context }) => context.authTimeoutMs,
  },
  actions: {
    sayHello: sendParent(
      ({ context, self }): SessionToServerEvent => ({
        type: 'session.hello',
        id: context.id,
        nick: context.nick,
        session: self,
        owner: context.owner,
        ...(context.token === undefined ? {} : { token: context.token }),
      }),
    ),
    forgetToken: assign({ token: undefined }),
    answerRefusal: enqueueActions(({ context, event, enqueue, system }) => {
      assertEvent(event, 'session.refused');
      unicast(enqueue, system, context.id, errorFrame(event.code));
    }),
    closeSocket: enqueueActions(({ context, enqueue, system }, params: { code: number; reason: string }) => {
      closeSocket(enqueue, system, context.id, params.code, params.reason);
    }),
    reject: enqueueActions(({ context, event, enqueue, system }, params: { code: ErrorCode; message?: string }) => {
      unicast(enqueue, system, context.id, errorFrame(params.code, requestIdOf(event), params.message));
    }),
    answerInvalid: enqueueActions(({ context, event, enqueue, system }) => {
      assertEvent(event, 'client.invalid');
      unicast(enqueue, system, context.id, errorFrame(event.code, event.id, event.message));
    }),
    /** Keeps a frame that came too early; past the bound it is refused like a flood. */
    hold: enqueueActions(({ context, event, enqueue, system }) => {
      if (context.held.length >= MAX_HELD_FRAMES) {
        unicast(enqueue, system, context.id, errorFrame('rate_limited', requestIdOf(event)));
        return;
      }
      enqueue.assign({ held: [...context.held, event as ClientCommand] });
    }),
    /** Replays held frames, in order, into the state just entered. */
    releaseHeld: enqueueActions(({ context, enqueue }) => {
      if (context.held.length === 0) return;
      for (const command of context.held) enqueue.raise(command);
      enqueue.assign({ held: NOTHING_HELD });
    }),
    askForCredentials: enqueueActions(({ context, enqueue, system }) => {
      const seconds = Math.round(context.authTimeoutMs / 1000);
      unicast(
        enqueue,
        system,
        context.id,
        errorFrame(
          'auth_required',
          undefined,
          `The nick ${context.nick} is registered. Send {"type":2,"user":"${context.nick}","password":P}, or {"type":2,"user":"${context.nick}","token":T} with a resume token, within ${seconds} seconds.`,
        ),
      );
    }),
    rememberRequest: assign({ request: ({ event }) => requestIdOf(event) }),
    answerLoginFailure: enqueueActions(({ context, event, enqueue, system }) => {
      const outcome = (event as unknown as { output: LoginOutcome }).output;
      if (outcome.ok) return;
      unicast(enqueue, system, context.id, errorFrame(outcome.code, context.request));
    }),
    countFailure: assign({
      failures: ({ context, event }) => {
        const outcome = (event as unknown as { output: LoginOutcome }).output;
        return !outcome.ok && outcome.code !== 'auth_throttled' ? context.failures + 1 : context.failures;
      },
    }),
    acceptCredentials: assign({
      owner: true,
      failures: 0,
      token: ({ event }) => {
        const outcome = (event as unknown as { output: LoginOutcome }).output;
        return outcome.ok ? outcome.token : undefined;
      },
    }),
    answerUnavailable: enqueueActions(({ context, enqueue, system }) => {
      unicast(enqueue, system, context.id, errorFrame('unavailable', context.request));
    }),
    answerRegistered: enqueueActions(({ context, enqueue, system }, params: { changed: boolean }) => {
      const frame = { type: 1, user: context.nick } as const;
      unicast(enqueue, system, context.id, {
        ...frame,
        ...(params.changed ? { changed: true as const } : {}),
        ...(context.request === undefined ? {} : { id: context.request }),
      });
    }),
    answerAccountFailure: enqueueActions(({ context, event, enqueue, system }) => {
      const outcome = (event as unknown as { output: RegisterOutcome | ChangeOutcome }).output;
      if (!outcome.ok) unicast(enqueue, system, context.id, errorFrame(outcome.code, context.request));
    }),
    becomeOwner: assign({ owner: true }),
    requestJoin: enqueueActions(({ context, event, self, enqueue }) => {
      assertEvent(event, 'client.join');
      enqueue.assign({ channels: new Map(context.channels).set(event.channel, null) });
      enqueue.sendParent({
        type: 'route.join',
        channel: event.channel,
        member: { id: context.id, nick: context.nick, session: self },
        ...(event.since === undefined ? {} : { since: event.since }),
        ...(event.epoch === undefined ? {} : { epoch: event.epoch }),
      } satisfies SessionToServerEvent);
    }),
    rememberChannel: assign(({ context, event }) => {
      assertEvent(event, 'channel.joined');
      // A confirmation for a channel already left again is stale: ignore it.
      if (!context.channels.has(event.channel)) return {};
      return { channels: new Map(context.channels).set(event.channel, event.ref) };
    }),
    requestLeave: enqueueActions(({ context, event, enqueue }) => {
      assertEvent(event, 'client.leave');
      toChannel(enqueue, context, event.channel, { type: 'channel.leave', id: context.id, disconnected: false });
      const channels = new Map(context.channels);
      channels.delete(event.channel);
      enqueue.assign({ channels });
    }),
    relayMessage: enqueueActions(({ context, event, enqueue }) => {
      assertEvent(event, 'client.message');
      toChannel(enqueue, context, event.channel, {
        type: 'channel.say',
        id: context.id,
        message: event.message,
        ...(event.id === undefined ? {} : { requestId: event.id }),
      });
    }),
    /** The outbox answers from the store, after every frame already on its way to this client. */
    requestPage: enqueueActions(({ context, event, enqueue, system }) => {
      assertEvent(event, 'client.history');
      enqueue.sendTo(outboxOf(system), {
        type: 'outbox.page',
        to: context.id,
        channel: event.channel,
        limit: event.limit,
        ...(event.before === undefined ? {} : { before: event.before }),
        ...(event.id === undefined ? {} : { requestId: event.id }),
      } satisfies OutboxEvent);
    }),
    listUsers: enqueueActions(({ context, event, enqueue }) => {
      assertEvent(event, 'client.list');
      const requestId = event.id;
      if (event.channel === undefined) {
        enqueue.sendParent({ type: 'users.list', replyTo: context.id, requestId } satisfies SessionToServerEvent);
        return;
      }
      const ref = context.channels.get(event.channel);
      if (ref) enqueue.sendTo(ref, { type: 'channel.list', replyTo: context.id, requestId } satisfies ChannelEvent);
      else
        enqueue.sendParent({
          type: 'route.list',
          channel: event.channel,
          replyTo: context.id,
          requestId,
        } satisfies SessionToServerEvent);
    }),
    forgetLostChannel: enqueueActions(({ context, event, enqueue, system }) => {
      assertEvent(event, 'channel.lost');
      if (!context.channels.has(event.channel)) return;
      const channels = new Map(context.channels);
      channels.delete(event.channel);
      enqueue.assign({ channels });
      unicast(enqueue, system, context.id, { type: 5, channel: event.channel, user: context.nick });
    }),
    reportEnded: sendParent(
      ({ context }): SessionToServerEvent => ({
        type: 'session.ended',
        id: context.id,
        channels: Array.from(context.channels.keys()),
      }),
    ),
  },
  guards: {
    isMember: ({ context, event }) => context.channels.has((event as ChannelCommand).channel),
    isInTooManyChannels: ({ context }) => context.channels.size >= context.maxChannels,
    isOwner: ({ context }) => context.owner,
    claimsNick: ({ context }) => context.claimsNick,
    claimWon: ({ event }) => (event as unknown as { output: ClaimOutcome }).output.ok,
    isRegistered: ({ event }) => (event as unknown as { output: { registered: boolean } }).output.registered,
    /** A login frame for this nick with exactly one credential. */
    hasCredentials: ({ context, event }) => {
      assertEvent(event, 'client.login');
      return (
        event.user !== undefined &&
        nickKey(event.user) === nickKey(context.nick) &&
        (event.password === undefined) !== (event.token === undefined)
      );
    },
    loginSucceeded: ({ event }) => (event as unknown as { output: LoginOutcome }).output.ok,
    /** The failure just answered is the one that uses up this connection's tries. */
    isLastFailure: ({ context, event }) => {
      const outcome = (event as unknown as { output: LoginOutcome }).output;
      return !outcome.ok && outcome.code !== 'auth_throttled' && context.failures + 1 >= MAX_LOGIN_FAILURES;
    },
    accountDone: ({ event }) => (event as unknown as { output: RegisterOutcome | ChangeOutcome }).output.ok,
    isPasswordChange: ({ event }) => {
      assertEvent(event, 'client.register');
      return event.oldPassword !== undefined;
    },
  },
}).createMachine({
  id: 'session',
  context: ({ input }) => ({
    id: input.id,
    nick: input.nick,
    address: input.address,
    maxChannels: input.maxChannels,
    authTimeoutMs: input.authTimeoutMs,
    claimsNick: input.claimsNick ?? false,
    channels: NO_CHANNELS,
    owner: false,
    held: NOTHING_HELD,
    failures: 0,
    token: undefined,
    request: undefined,
  }),
  initial: 'identifying',
  states: {
    /** Asking the store whether the nick is registered; frames that arrive meanwhile are held. */
    identifying: {
      invoke: {
        src: 'lookupAccount',
        input: ({ context }) => ({ nick: context.nick }),
        onDone: [{ guard: 'isRegistered', target: 'authenticating' }, { target: 'handshaking' }],
        onError: {
          target: 'rejected',
          actions: [
            { type: 'reject', params: { code: 'unavailable' } },
            { type: 'closeSocket', params: { code: CloseCode.tryAgainLater, reason: 'store unavailable' } },
          ],
        },
      },
      on: {
        // Every client command (the exact `client.flooding` below wins over the wildcard).
        'client.*': { actions: 'hold' },
        'client.flooding': {
          target: 'rejected',
          actions: { type: 'closeSocket', params: { code: CloseCode.policyViolation, reason: 'flooding' } },
        },
        'socket.closed': 'closed',
      },
    },
    /** The nick is registered: nothing but a login is answered until the client proves it owns it. */
    authenticating: {
      entry: 'askForCredentials',
      on: {
        // A login is answered by the substate; a malformed frame gets its own error; everything else this.
        'client.*': { actions: { type: 'reject', params: { code: 'auth_required' } } },
        'client.invalid': { actions: 'answerInvalid' },
        'client.flooding': {
          target: 'rejected',
          actions: { type: 'closeSocket', params: { code: CloseCode.policyViolation, reason: 'flooding' } },
        },
        'socket.closed': 'closed',
      },
      initial: 'waiting',
      states: {
        /**
         * The client's turn. Only its own time counts towards the timeout:
         * a password waiting for a busy hasher must not time its owner out.
         */
        waiting: {
          entry: 'releaseHeld',
          after: {
            authTimeout: {
              target: '#session.rejected',
              actions: [
                { type: 'reject', params: { code: 'auth_timeout' } },
                { type: 'closeSocket', params: { code: CloseCode.policyViolation, reason: 'authentication timed out' } },
              ],
            },
          },
          on: {
            'client.login': [
              { guard: 'hasCredentials', target: 'verifying', actions: 'rememberRequest' },
              {
                actions: {
                  type: 'reject',
                  params: {
                    code: 'bad_request',
                    message: 'Log in with {"type":2,"user":NICK,"password":P} or {"type":2,"user":NICK,"token":T}: the nick you connected with, and exactly one of password and token.',
                  },
                },
              },
            ],
          },
        },
        /** A password is being hashed, or a token looked up. */
        verifying: {
          invoke: {
            src: 'logIn',
            input: ({ context, event }) => {
              assertEvent(event, 'client.login');
              return {
                nick: context.nick,
                address: context.address,
                ...(event.password === undefined ? {} : { password: event.password }),
                ...(event.token === undefined ? {} : { token: event.token }),
              };
            },
            onDone: [
              { guard: 'loginSucceeded', target: '#session.handshaking', actions: 'acceptCredentials' },
              {
                guard: 'isLastFailure',
                target: '#session.rejected',
                actions: [
                  'answerLoginFailure',
                  { type: 'closeSocket', params: { code: CloseCode.policyViolation, reason: 'too many failed logins' } },
                ],
              },
              { target: 'waiting', actions: ['answerLoginFailure', 'countFailure'] },
            ],
            onError: { target: 'waiting', actions: 'answerUnavailable' },
          },
          on: {
            'client.login': {
              actions: { type: 'reject', params: { code: 'bad_request', message: 'A login is already being checked on this connection; wait for its answer.' } },
            },
          },
        },
      },
    },
    /** Taking the nick: cluster-wide first when there are several nodes, then from the server. Frames that arrive meanwhile are held. */
    handshaking: {
      initial: 'choosing',
      states: {
        /** On one node the server's registry is the only one: no claim to make. */
        choosing: {
          always: [{ guard: 'claimsNick', target: 'claiming' }, { target: 'greeting' }],
        },
        /** Claiming the nick where every node looks; an owner waits here until whoever held it elsewhere has logged out. */
        claiming: {
          invoke: {
            src: 'claimNick',
            input: ({ context }) => ({ id: context.id, nick: context.nick, owner: context.owner }),
            onDone: [
              { guard: 'claimWon', target: 'greeting' },
              {
                target: '#session.rejected',
                actions: [
                  { type: 'reject', params: { code: 'nick_taken' } },
                  { type: 'closeSocket', params: { code: CloseCode.policyViolation, reason: 'nick_taken' } },
                ],
              },
            ],
            onError: {
              target: '#session.rejected',
              actions: [
                { type: 'reject', params: { code: 'unavailable' } },
                { type: 'closeSocket', params: { code: CloseCode.tryAgainLater, reason: 'cluster unavailable' } },
              ],
            },
          },
        },
        /** Waiting for the server to take the nick. */
        greeting: { entry: 'sayHello' },
      },
      on: {
        'session.accepted': [
          { guard: 'isOwner', target: 'active.owner' },
          { target: 'active.guest' },
        ],
        // The refusal's code doubles as the close reason, which the transport logs.
        'session.refused': {
          target: 'rejected',
          actions: [
            'answerRefusal',
            {
              type: 'closeSocket',
              params: ({ event }) => ({ code: CloseCode.policyViolation, reason: event.type === 'session.refused' ? event.code : 'login refused' }),
            },
          ],
        },
        // Another login of the same owner came after this one, while it waited for the nick.
        'session.takenOver': {
          target: 'rejected',
          actions: { type: 'closeSocket', params: { code: CloseCode.signedInElsewhere, reason: 'signed in elsewhere' } },
        },
        'client.*': { actions: 'hold' },
        'client.flooding': {
          target: 'rejected',
          actions: { type: 'closeSocket', params: { code: CloseCode.policyViolation, reason: 'flooding' } },
        },
        'socket.closed': 'closed',
      },
    },
    /** Never logged in: the client has been told why, and the socket is closing. */
    rejected: {
      on: { 'socket.closed': 'closed' },
    },
    /** Logged in: every command of the protocol is answered here. */
    active: {
      entry: ['forgetToken', 'releaseHeld'],
      // Leaving this state, however it happens, is what logs the user out for everyone else.
      exit: 'reportEnded',
      on: {
        'client.message': [
          { guard: 'isMember', actions: 'relayMessage' },
          { actions: { type: 'reject', params: { code: 'not_member' } } },
        ],
        'client.join': [
          { guard: 'isMember', actions: { type: 'reject', params: { code: 'already_member' } } },
          { guard: 'isInTooManyChannels', actions: { type: 'reject', params: { code: 'too_many_channels' } } },
          { actions: 'requestJoin' },
        ],
        'client.leave': [
          { guard: 'isMember', actions: 'requestLeave' },
          { actions: { type: 'reject', params: { code: 'not_member' } } },
        ],
        'client.history': [
          { guard: 'isMember', actions: 'requestPage' },
          { actions: { type: 'reject', params: { code: 'not_member' } } },
        ],
        'client.list': { actions: 'listUsers' },
        'client.login': { actions: { type: 'reject', params: { code: 'already_logged_in' } } },
        'client.invalid': { actions: 'answerInvalid' },
        'client.logout': {
          target: 'closing',
          actions: { type: 'closeSocket', params: { code: CloseCode.normal, reason: 'logged out' } },
        },
        'session.shutdown': {
          target: 'closing',
          actions: { type: 'closeSocket', params: { code: CloseCode.goingAway, reason: 'server shutting down' } },
        },
        'session.takenOver': {
          target: 'closing',
          actions: { type: 'closeSocket', params: { code: CloseCode.signedInElsewhere, reason: 'signed in elsewhere' } },
        },
        'client.flooding': {
          target: 'closing',
          actions: { type: 'closeSocket', params: { code: CloseCode.policyViolation, reason: 'flooding' } },
        },
        'socket.overflow': {
          target: 'closing',
          actions: { type: 'closeSocket', params: { code: CloseCode.slowConsumer, reason: 'slow consumer' } },
        },
        'channel.joined': { actions: 'rememberChannel' },
        'channel.lost': { actions: 'forgetLostChannel' },
        'socket.closed': 'closed',
      },
      // What this connection may do with its nick's account: register it, or change its password.
      initial: 'guest',
      states: {
        guest: {
          on: {
            'client.register': [
              { guard: 'isPasswordChange', actions: { type: 'reject', params: { code: 'not_registered' } } },
              { target: 'registering', actions: 'rememberRequest' },
            ],
          },
        },
        registering: {
          invoke: {
            src: 'register',
            input: ({ context, event }) => {
              assertEvent(event, 'client.register');
              return { nick: context.nick, password: event.password };
            },
            onDone: [
              { guard: 'accountDone', target: 'owner', actions: ['becomeOwner', { type: 'answerRegistered', params: { changed: false } }] },
              { target: 'guest', actions: 'answerAccountFailure' },
            ],
            onError: { target: 'guest', actions: 'answerUnavailable' },
          },
          on: {
            'client.register': {
              actions: { type: 'reject', params: { code: 'bad_request', message: 'A registration is already under way on this connection; wait for its answer.' } },
            },
          },
        },
        owner: {
          on: {
            'client.register': [
              { guard: 'isPasswordChange', target: 'changingPassword', actions: 'rememberRequest' },
              { actions: { type: 'reject', params: { code: 'already_registered' } } },
            ],
          },
        },
        changingPassword: {
          invoke: {
            src: 'changePassword',
            input: ({ context, event }) => {
              assertEvent(event, 'client.register');
              return { nick: context.nick, address: context.address, oldPassword: event.oldPassword!, newPassword: event.password };
            },
            onDone: [
              { guard: 'accountDone', target: 'owner', actions: { type: 'answerRegistered', params: { changed: true } } },
              { target: 'owner', actions: 'answerAccountFailure' },
            ],
            onError: { target: 'owner', actions: 'answerUnavailable' },
          },
          on: {
            'client.register': {
              actions: { type: 'reject', params: { code: 'bad_request', message: 'A password change is already under way on this connection; wait for its answer.' } },
            },
          },
        },
      },
    },
    /** Logged out; waiting for the closing handshake to finish. */
    closing: {
      on: { 'socket.closed': 'closed' },
    },
    closed: { type: 'final' },
  },
});

/**
 * Sends a channel-bound event straight to the channel once its ref is known;
 * before the join is confirmed, through the server, which forwards by name in
 * the order it received the join.
 */
function toChannel(
  enqueue: { sendTo(ref: AnyActorRef, event: ChannelEvent): void; sendParent(event: SessionToServerEvent): void },
  context: SessionContext,
  channel: string,
  event: ChannelEvent,
): void {
  const ref = context.channels.get(channel);
  if (ref) enqueue.sendTo(ref, event);
  else enqueue.sendParent({ type: 'route.channel', channel, event });
}
