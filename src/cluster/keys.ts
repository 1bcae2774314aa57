/**
 * @module keys: every Redis key and pub/sub channel cluster mode uses, in one
 * place, under one prefix (so several chats can share a Redis, and an
 * operator can see at a glance what belongs to this one).
 */

/** The default prefix of every key. */
export const DEFAULT_PREFIX = 'chat:';

export class Keys {
  constructor(readonly prefix = DEFAULT_PREFIX) {}

  /** The epoch offsets belong to: drawn once per Redis data set. */
  get epoch(): string {
    return `${this.prefix}epoch`;
  }
  /** A channel's last offset (INCR). */
  offset(channel: string): string {
    return `${this.prefix}offset:${channel}`;
  }
  /** A channel's kept events: a stream whose ids are `OFFSET-1`. */
  events(channel: string): string {
    return `${this.prefix}events:${channel}`;
  }
  /** A channel's members everywhere: a sorted set of `node|conn|nick`, scored by the offset of their join. */
  members(channel: string): string {
    return `${this.prefix}members:${channel}`;
  }
  /** Where a channel's numbered events are published. */
  channelTopic(channel: string): string {
    return `${this.prefix}ch:${channel}`;
  }
  get channelTopicPrefix(): string {
    return `${this.prefix}ch:`;
  }
  /** Nick key to `node|conn|nick`: who holds each nick. */
  get nicks(): string {
    return `${this.prefix}nicks`;
  }
  /** Everyone logged in: a sorted set of `node|conn|nick`, scored by when they claimed their nick. */
  get users(): string {
    return `${this.prefix}users`;
  }
  /** Logins and logouts, for every node. */
  get presenceTopic(): string {
    return `${this.prefix}presence`;
  }
  /** Messages for one node alone (a takeover of one of its sessions). */
  nodeTopic(node: string): string {
    return `${this.prefix}node:${node}`;
  }
  /** Every node that has announced itself. */
  get nodes(): string {
    return `${this.prefix}nodes`;
  }
  /** A node's heartbeat, which expires when it stops beating. */
  alive(node: string): string {
    return `${this.prefix}alive:${node}`;
  }
  /** The claim of the node that announces a dead node's users as gone: one announcer, once. */
  reaping(node: string): string {
    return `${this.prefix}reaping:${node}`;
  }
  /** A node's sessions holding nicks: conn to nick key. */
  sessions(node: string): string {
    return `${this.prefix}sessions:${node}`;
  }
  /** Wrong passwords and lockouts for one nick key or one address (see redis-throttle.ts). */
  throttle(scope: 'nick' | 'address', key: string): string {
    return `${this.prefix}throttle:${scope}:${key}`;
  }
  /** The channels a node has had members in. */
  nodeChannels(node: string): string {
    return `${this.prefix}nodechannels:${node}`;
  }
}
