/**
 * @module channel: one chat channel, its roster and its broadcasts.
 *
 * All joins, leaves and messages of a channel pass through this one actor's
 * mailbox, which is what gives every member the same order of events.
 */
import { assertEvent, assign, enqueueActions, sendParent, sendTo, setup, type AnyActorRef } from 'xstate';
import { listUsers, outboxOf, publication, publish } from './broadcast.js';
import type { RequestId } from './frames.js';
import type { Member } from './member.js';

export interface ChannelInput {
  /** The canonical name, `#` plus the lower-cased name. */
  name: string;
}

export interface ChannelContext {
  name: string;
  /**
   * Members by connection id. Mutated in place: a roster can hold thousands of
   * members, and copying it on every join would make joining quadratic.
   */
  members: Map<string, Member>;
  /** How many joins this channel has taken; the server compares it before stopping an empty channel. */
  joins: number;
  /**
   * The members' connection ids, as one array shared by every broadcast until
   * the roster changes: a busy channel sends far more than it is joined or
   * left, and an array per message was garbage the heap had to collect.
   * Never mutated: a change makes a new one, so events already sent keep theirs.
   */
  recipients?: readonly string[];
}

export type ChannelEvent =
  /** `since` and `epoch`: what the member saw of this channel before, to recover what it missed. */
  | { type: 'channel.join'; member: Member; since?: number; epoch?: string }
  /**
   * `disconnected`: the member's socket is gone, so only the others hear of it.
   * `unheard`: its join never reached anyone (the cluster refused it), so nobody hears of the leave either.
   */
  | { type: 'channel.leave'; id: string; disconnected: boolean; unheard?: boolean }
  /** `requestId`: the client's id for the message, echoed if it cannot be sent. */
  | { type: 'channel.say'; id: string; message: string; requestId?: RequestId }
  /** `replyTo`: the connection id the answer goes to. */
  | { type: 'channel.list'; replyTo: string; requestId?: RequestId };

/** Sent to the parent when the last member has left. */
export interface ChannelEmptyEvent {
  type: 'channel.empty';
  channel: string;
  ref: AnyActorRef;
  joins: number;
}

/** Sent to a session once its join has taken effect. */
export interface ChannelJoinedEvent {
  type: 'channel.joined';
  channel: string;
  ref: AnyActorRef;
}

/** The connection ids of every member, made once per roster. */
function recipients(context: ChannelContext): readonly string[] {
  context.recipients ??= Array.from(context.members.keys());
  return context.recipients;
}

/** Changes the roster in place (see {@link ChannelContext.members}); the next broadcast gets a new recipient list. */
function admit(context: ChannelContext, member: Member): void {
  context.members.set(member.id, member);
  context.recipients = undefined;
}

function dismiss(context: ChannelContext, id: string): void {
  context.members.delete(id);
  context.recipients = undefined;
}

export const channelMachine = setup({
  types: {
    context: {} as ChannelContext,
    input: {} as ChannelInput,
    events: {} as ChannelEvent,
  },
  actions: {
    addMember: assign(({ context, event }) => {
      assertEvent(event, 'channel.join');
      admit(context, event.member);
      return { joins: context.joins + 1 };
    }),
    announceJoin: enqueueActions(({ context, event, enqueue, system }) => {
      assertEvent(event, 'channel.join');
      const { member, since, epoch } = event;
      publish(enqueue, system, context.name, recipients(context), { type: 4, channel: context.name, user: member.nick }, {
        joiner: { id: member.id, ...(since === undefined ? {} : { since }), ...(epoch === undefined ? {} : { epoch }) },
        from: member.id,
      });
    }),
    confirmJoin: sendTo(
      ({ event }) => (event as Extract<ChannelEvent, { type: 'channel.join' }>).member.session,
      ({ context, self }): ChannelJoinedEvent => ({ type: 'channel.joined', channel: context.name, ref: self }),
    ),
    /**
     * A member who asked to leave hears its own leave frame and nothing after
     * it; one whose socket dropped is removed first, so only the others hear.
     */
    removeMember: enqueueActions(({ context, event, enqueue, system }) => {
      if (event.type !== 'channel.leave') return;
      const member = context.members.get(event.id);
      if (!member) return;
      if (event.unheard) {
        dismiss(context, event.id);
        return;
      }
      const frame = { type: 5, channel: context.name, user: member.nick } as const;
      const leaver = { leaver: { id: event.id, disconnected: event.disconnected } };
      if (!event.disconnected) publish(enqueue, system, context.name, recipients(context), frame, leaver);
      dismiss(context, event.id);
      if (event.disconnected) publish(enqueue, system, context.name, recipients(context), frame, leaver);
    }),
    /** The hottest path of all, one per chat message: a plain `sendTo`, which costs XState less than `enqueueActions`. */
    relayMessage: sendTo(
      ({ system }) => outboxOf(system),
      ({ context, event }) => {
        assertEvent(event, 'channel.say');
        const sender = context.members.get(event.id)!;
        return publication(
          context.name,
          recipients(context),
          { type: 0, dest: context.name, message: event.message, user: sender.nick },
          event.requestId === undefined ? { from: event.id } : { from: event.id, requestId: event.requestId },
        );
      },
    ),
    answerList: enqueueActions(({ context, event, enqueue, system }) => {
      if (event.type !== 'channel.list') return;
      const nicks = Array.from(context.members.values(), (member) => member.nick);
      listUsers(enqueue, system, event.replyTo, event.requestId, { name: context.name, members: nicks });
    }),
    reportEmpty: sendParent(
      ({ context, self }): ChannelEmptyEvent => ({
        type: 'channel.empty',
        channel: context.name,
        ref: self,
        joins: context.joins,
      }),
    ),
  },
  guards: {
    /** A message from a connection that is no member (it left in the meantime) is dropped. */
    isFromMember: ({ context, event }) => {
      assertEvent(event, 'channel.say');
      return context.members.has(event.id);
    },
    /** The leave of the only member: checked on the leave itself rather than after every event, messages included. */
    isLastMemberLeaving: ({ context, event }) => {
      assertEvent(event, 'channel.leave');
      return context.members.size === 1 && context.members.has(event.id);
    },
  },
}).createMachine({
  id: 'channel',
  context: ({ input }) => ({ name: input.name, members: new Map(), joins: 0 }),
  initial: 'opening',
  on: {
    'channel.list': { actions: 'answerList' },
  },
  states: {
    /** Spawned for a first join that is on its way. */
    opening: {
      on: { 'channel.join': { target: 'occupied', actions: ['addMember', 'announceJoin', 'confirmJoin'] } },
    },
    occupied: {
      on: {
        'channel.join': { actions: ['addMember', 'announceJoin', 'confirmJoin'] },
        'channel.say': { guard: 'isFromMember', actions: 'relayMessage' },
        'channel.leave': [{ guard: 'isLastMemberLeaving', target: 'vacant', actions: 'removeMember' }, { actions: 'removeMember' }],
      },
    },
    /** Waiting for the server to stop it; a join that raced the stop reopens it. */
    vacant: {
      entry: 'reportEmpty',
      on: { 'channel.join': { target: 'occupied', actions: ['addMember', 'announceJoin', 'confirmJoin'] } },
    },
  },
});
