/**
 * @module session: one client connection, from handshake to close.
 *
 * Its states are the lifecycle a developer watches in the inspector. Channel
 * membership as this client sees it lives here, so membership errors are
 * answered without a round trip; the roster each channel broadcasts to lives
 * in the channel actor.
 */
import { assign, enqueueActions, sendParent, setup, type AnyActorRef } from 'xstate';
import { closeSocket, unicast } from './broadcast.js';
import type { ChannelEvent, ChannelJoinedEvent } from './channel.machine.js';
import type { ClientCommand } from './commands.js';
import { errorFrame, type ErrorCode } from './frames.js';
import type { HelloAnswer, SessionToServerEvent } from './server.events.js';
import { CloseCode } from './socket.js';

export interface SessionInput {
  /** The connection id: what the server knows this session by, and what its frames are addressed to. */
  id: string;
  nick: string;
  /** How many channels this session may be in at once. */
  maxChannels: number;
}

export interface SessionContext {
  id: string;
  nick: string;
  maxChannels: number;
  /**
   * Joined channels; the ref is null until the channel has confirmed the join.
   * Replaced, never mutated, on every change: so every session can start from
   * the one shared {@link NO_CHANNELS}, and an idle session holds no map of its own.
   */
  channels: ReadonlyMap<string, AnyActorRef | null>;
}

const NO_CHANNELS: ReadonlyMap<string, AnyActorRef | null> = new Map();

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

export const sessionMachine = setup({
  types: {
    context: {} as SessionContext,
    input: {} as SessionInput,
    events: {} as SessionEvent,
  },
  actions: {
    sayHello: sendParent(
      ({ context, self }): SessionToServerEvent => ({
        type: 'session.hello',
        id: context.id,
        nick: context.nick,
        session: self,
      }),
    ),
    answerRefusal: enqueueActions(({ context, event, enqueue, system }) => {
      if (event.type !== 'session.refused') return;
      unicast(enqueue, system, context.id, errorFrame(event.code));
    }),
    closeSocket: enqueueActions(({ context, enqueue, system }, params: { code: number; reason: string }) => {
      closeSocket(enqueue, system, context.id, params.code, params.reason);
    }),
    reject: enqueueActions(({ context, event, enqueue, system }, params: { code: ErrorCode }) => {
      const id = 'id' in event ? event.id : undefined;
      unicast(enqueue, system, context.id, errorFrame(params.code, id));
    }),
    answerInvalid: enqueueActions(({ context, event, enqueue, system }) => {
      if (event.type !== 'client.invalid') return;
      unicast(enqueue, system, context.id, errorFrame(event.code, event.id, event.message));
    }),
    requestJoin: enqueueActions(({ context, event, self, enqueue }) => {
      if (event.type !== 'client.join') return;
      enqueue.assign({ channels: new Map(context.channels).set(event.channel, null) });
      enqueue.sendParent({
        type: 'route.join',
        channel: event.channel,
        member: { id: context.id, nick: context.nick, session: self },
      } satisfies SessionToServerEvent);
    }),
    rememberChannel: assign(({ context, event }) => {
      // A confirmation for a channel already left again is stale: ignore it.
      if (event.type !== 'channel.joined' || !context.channels.has(event.channel)) return {};
      return { channels: new Map(context.channels).set(event.channel, event.ref) };
    }),
    requestLeave: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'client.leave') return;
      toChannel(enqueue, context, event.channel, { type: 'channel.leave', id: context.id, disconnected: false });
      const channels = new Map(context.channels);
      channels.delete(event.channel);
      enqueue.assign({ channels });
    }),
    relayMessage: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'client.message') return;
      toChannel(enqueue, context, event.channel, { type: 'channel.say', id: context.id, message: event.message });
    }),
    listUsers: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'client.list') return;
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
      if (event.type !== 'channel.lost' || !context.channels.has(event.channel)) return;
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
  },
}).createMachine({
  id: 'session',
  context: ({ input }) => ({
    id: input.id,
    nick: input.nick,
    maxChannels: input.maxChannels,
    channels: NO_CHANNELS,
  }),
  initial: 'handshaking',
  states: {
    /** Waiting for the server to accept the nick. */
    handshaking: {
      entry: 'sayHello',
      on: {
        'session.accepted': 'active',
        'session.refused': 'rejected',
        'socket.closed': 'closed',
      },
    },
    /** The nick was refused: the client is told why and the socket closes, with the refusal's code as the reason for logs. */
    rejected: {
      entry: [
        'answerRefusal',
        {
          type: 'closeSocket',
          params: ({ event }) => ({
            code: CloseCode.policyViolation,
            reason: event.type === 'session.refused' ? event.code : 'login refused',
          }),
        },
      ],
      on: { 'socket.closed': 'closed' },
    },
    /** Logged in: every command of the protocol is answered here. */
    active: {
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
        'client.list': { actions: 'listUsers' },
        'client.login': { actions: { type: 'reject', params: { code: 'already_logged_in' } } },
        'client.register': { actions: { type: 'reject', params: { code: 'not_supported' } } },
        'client.invalid': { actions: 'answerInvalid' },
        'client.logout': {
          target: 'closing',
          actions: { type: 'closeSocket', params: { code: CloseCode.normal, reason: 'logged out' } },
        },
        'session.shutdown': {
          target: 'closing',
          actions: { type: 'closeSocket', params: { code: CloseCode.goingAway, reason: 'server shutting down' } },
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
