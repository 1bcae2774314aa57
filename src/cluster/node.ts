/**
 * @module node: one node of a cluster, put together: the Redis bus (the
 * sequencer, presence and nick claims), accounts and login lockouts in the
 * same Redis, and liveness (heartbeats, announcing dead nodes' users as gone).
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Logger } from '../log.js';
import { Keys } from './keys.js';
import { Liveness, type LivenessOptions } from './liveness.js';
import type { ThrottleFactory } from '../accounts/throttle.js';
import { maskRedisUrl, RedisAccounts } from './redis-accounts.js';
import { RedisThrottle } from './redis-throttle.js';
import { RedisBus } from './redis-bus.js';

export interface ClusterNodeOptions {
  /** e.g. `redis://127.0.0.1:6379/0`. */
  url: string;
  /** Unique in the cluster; made up from the host name when absent. */
  node?: string;
  /** Events kept per channel. */
  maxEvents: number;
  logger: Logger;
  /** Every key under this prefix (default `chat:`); tests give each cluster its own. */
  prefix?: string;
  liveness?: LivenessOptions;
  /** How long an owner waits for a session elsewhere to log out before taking its nick anyway. */
  takeoverWaitMs?: number;
}

/** A name for a node started without one: the host's, made unique per process. */
export function defaultNodeName(): string {
  const host = hostname().replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 40) || 'node';
  return `${/^[A-Za-z0-9]/.test(host) ? host : `n${host}`}-${randomBytes(3).toString('hex')}`;
}

export class ClusterNode {
  /** Login lockouts every node shares, for `Accounts`: a nick locked on one node is locked on all. */
  readonly throttles: ThrottleFactory = (scope, policy) =>
    new RedisThrottle(this.bus.command, policy, { keys: this.bus.keys, scope, location: this.url });

  private constructor(
    readonly bus: RedisBus,
    readonly accounts: RedisAccounts,
    private readonly liveness: Liveness,
    readonly url: string,
  ) {}

  static async start(options: ClusterNodeOptions): Promise<ClusterNode> {
    const { logger } = options;
    const keys = new Keys(options.prefix);
    const url = maskRedisUrl(options.url);
    let liveness: Liveness | undefined;
    const bus = await RedisBus.connect({
      url: options.url,
      node: options.node ?? defaultNodeName(),
      maxEvents: options.maxEvents,
      keys,
      ...(options.takeoverWaitMs === undefined ? {} : { takeoverWaitMs: options.takeoverWaitMs }),
      onStatus: (up) => {
        liveness?.statusChanged(up);
        if (up) logger.info({ redis: url }, 'Redis is back: subscriptions renewed, missed channel events are being filled in');
        else logger.error({ redis: url }, 'lost Redis: requests that need it are answered unavailable and new connections refused until it is back');
      },
    });
    const accounts = new RedisAccounts(bus.command, { prefix: keys.prefix, url: options.url });
    liveness = new Liveness(bus, logger, options.liveness);
    try {
      await liveness.start();
    } catch (error) {
      await bus.close();
      throw error;
    }
    return new ClusterNode(bus, accounts, liveness, url);
  }

  get node(): string {
    return this.bus.node;
  }

  /** Both Redis connections are up. */
  get up(): boolean {
    return this.bus.up;
  }

  /** Leaves the cluster once this node's users are logged out: finishes what is under way, stops beating, disconnects. */
  async close(): Promise<void> {
    await this.bus.settle();
    await this.liveness.stop();
    await this.accounts.close();
    await this.bus.close();
  }
}
