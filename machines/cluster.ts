/**
 * @module cluster: the seam between a node's outbox and the cluster it is
 * part of (Redis, provided from `src/cluster`; a fake in machine tests).
 *
 * The cluster, not any node, is the sequencer: a node hands it each channel
 * event of its members, the cluster numbers it (one offset per channel, dense,
 * one order for everyone), keeps it, and hands it back to every node that has
 * members in the channel, the sender's own included. Nodes deliver only what
 * comes back, in offset order, so every member everywhere sees one order.
 * Presence (who is logged in, who is in which channel) lives beside it, apart
 * from the streams of events: its failures and expiry differ.
 */
import type { ReadQuery } from './history.js';

/** What a channel event does to membership: a join or leave changes it, a message does not. */
export type EventKind = 'join' | 'leave' | 'say';

/** A channel event for the sequencer: its frame as JSON without the closing brace, and whose it is. */
export interface SequenceRequest {
  channel: string;
  head: string;
  kind: EventKind;
  /** The connection id of the member it is about, on this node. */
  member: string;
  /** For a leave: the member's socket is gone, so it does not hear its own leave. */
  disconnected: boolean;
}

/** A channel event as the sequencer numbered it. */
export interface SequencedEvent {
  channel: string;
  offset: number;
  /** Milliseconds since the Unix epoch, from the sequencer's clock. */
  time: number;
  /** The complete frame, offset and time included, exactly as every member receives it. */
  data: string;
  kind: EventKind;
  /** The node of the member it is about. */
  node: string;
  member: string;
  disconnected: boolean;
}

export interface ClusterReadResult {
  events: SequencedEvent[];
  /** The oldest offset still kept for the channel; `last + 1` when none is. */
  first: number;
  /** The newest offset the channel ever had. */
  last: number;
}

/** A login or logout somewhere in the cluster. */
export interface PresenceNotice {
  kind: 'login' | 'logout';
  node: string;
  /** The connection id on `node`. */
  id: string;
  user: string;
}

/** What the cluster tells a node, each in the order it happened. */
export interface ClusterListener {
  /** A channel event this node subscribed to, numbered. */
  event(event: SequencedEvent): void;
  presence(notice: PresenceNotice): void;
  /** The owner of the nick held by connection `id` of this node signed in on another node. */
  takenOver(id: string): void;
  /** The cluster was unreachable and is back: events may have been missed, and failed work can be retried. */
  resumed(): void;
}

export interface ClusterBus {
  /** This node's name: events and notices about its own members carry it. */
  readonly node: string;
  /** The epoch offsets belong to; a new one if the cluster lost its data. */
  readonly epoch: string;
  /** Starts handing this node what the cluster tells it; returns how to stop. */
  listen(listener: ClusterListener): () => void;
  /** Resolves once events of `channel` will be handed to this node. */
  subscribe(channel: string): Promise<void>;
  unsubscribe(channel: string): void;
  /** Numbers, keeps and publishes one event, all or nothing; resolves with its offset. */
  sequence(request: SequenceRequest): Promise<number>;
  /** The newest `limit` kept events with `after < offset < before`, oldest first. */
  read(query: ReadQuery): Promise<ClusterReadResult>;
  /** Tells every node of a login or logout here; a logout also frees the nick this connection held. */
  announce(notice: Omit<PresenceNotice, 'node'>): Promise<void>;
  /** Everyone logged in, on every node, in the order they logged in. */
  users(): Promise<string[]>;
  /** A channel's members, on every node, in the order they joined. */
  members(channel: string): Promise<string[]>;
  /** Connection `id` is gone: any nick it still holds without having logged in is freed. */
  forget(id: string): void;
  /**
   * Puts this node's members of `channel` back into the cluster's view of
   * who is where, after the cluster lost its data (a new epoch): the nodes
   * still hold their sessions, Redis no longer knows them.
   */
  restoreMembers(channel: string, members: readonly { id: string; user: string }[]): Promise<void>;
}
