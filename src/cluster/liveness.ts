/**
 * @module liveness: heartbeats, and announcing a dead node's users as gone.
 *
 * Each node keeps a key with a short expiry alive. Every node checks the
 * others' keys; a node whose key has been missing twice in a row is dead,
 * and the first survivor to claim it (SET NX) announces, once for the whole
 * cluster, each of its members leaving each channel (type 5) and each of its
 * users logging out (type 3), and frees their nicks. A node that has just
 * got Redis back waits before judging anyone, so the others have time to
 * beat again after the same outage.
 */
import type { Logger } from '../log.js';
import type { RedisBus } from './redis-bus.js';

export interface LivenessOptions {
  /** How often this node beats. */
  beatMs?: number;
  /** How long a beat lasts: a node silent this long is missing. */
  ttlMs?: number;
  /** How often the others are checked. */
  checkMs?: number;
  /** How long Redis must have been back before anyone is judged. */
  graceMs?: number;
}

/** How long a claim to announce a dead node's users holds: far longer than announcing takes. */
const REAPING_CLAIM_MS = 60_000;

export class Liveness {
  private readonly beatMs: number;
  private readonly ttlMs: number;
  private readonly checkMs: number;
  private readonly graceMs: number;
  private readonly misses = new Map<string, number>();
  private timers: NodeJS.Timeout[] = [];
  private upSince = Date.now();
  private checking = false;

  constructor(
    private readonly bus: RedisBus,
    private readonly logger: Logger,
    options: LivenessOptions = {},
  ) {
    this.beatMs = options.beatMs ?? 1_000;
    this.ttlMs = options.ttlMs ?? 4_000;
    this.checkMs = options.checkMs ?? 2_000;
    this.graceMs = options.graceMs ?? 3_000;
  }

  /** Announces what a previous run of this node left behind, then starts beating and checking. */
  async start(): Promise<void> {
    const { command, keys, node } = this.bus;
    if (await command.set(keys.reaping(node), node, 'PX', REAPING_CLAIM_MS, 'NX')) {
      const gone = await this.reap(node);
      if (gone.leaves + gone.logouts > 0) this.logger.warn({ node, ...gone }, 'announced the users a previous run of this node left behind as gone');
    }
    await this.beat();
    await command.del(keys.reaping(node));
    const beat = setInterval(() => void this.beat().catch(() => {}), this.beatMs);
    const check = setInterval(() => void this.check(), this.checkMs);
    beat.unref();
    check.unref();
    this.timers = [beat, check];
  }

  /** Redis came back (or went): nobody is judged until it has been back a while. */
  statusChanged(up: boolean): void {
    if (up) this.upSince = Date.now();
    this.misses.clear();
  }

  /** Stops beating and leaves the cluster: after its users have been logged out, when draining. */
  async stop(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    const { command, keys, node } = this.bus;
    await Promise.allSettled([command.del(keys.alive(node)), command.srem(keys.nodes, node)]);
  }

  private async beat(): Promise<void> {
    const { command, keys, node } = this.bus;
    await Promise.all([command.set(keys.alive(node), '1', 'PX', this.ttlMs), command.sadd(keys.nodes, node)]);
  }

  private async check(): Promise<void> {
    if (this.checking || !this.bus.up || Date.now() - this.upSince < this.graceMs) return;
    this.checking = true;
    try {
      const { command, keys } = this.bus;
      for (const node of await command.smembers(keys.nodes)) {
        if (node === this.bus.node) continue;
        if (await command.exists(keys.alive(node))) {
          this.misses.delete(node);
          continue;
        }
        const misses = (this.misses.get(node) ?? 0) + 1;
        this.misses.set(node, misses);
        if (misses < 2) continue;
        this.misses.delete(node);
        if (!(await command.set(keys.reaping(node), this.bus.node, 'PX', REAPING_CLAIM_MS, 'NX'))) continue;
        const gone = await this.reap(node);
        this.logger.warn({ node, ...gone }, 'a node stopped beating: announced its users as gone');
      }
    } catch (error) {
      this.logger.error({ err: error }, 'checking the other nodes failed; will check again');
    } finally {
      this.checking = false;
    }
  }

  /** Announces every member of `node` leaving every channel, then every user of it logging out, and forgets the node. */
  private async reap(node: string): Promise<{ leaves: number; logouts: number }> {
    const { command, keys } = this.bus;
    let leaves = 0;
    let logouts = 0;
    for (const channel of await command.smembers(keys.nodeChannels(node))) {
      for (const entry of await command.zrange(keys.members(channel), '0', '-1')) {
        const [owner, conn, nick] = entry.split('|');
        if (owner !== node || conn === undefined || nick === undefined) continue;
        const head = JSON.stringify({ type: 5, channel, user: nick }).slice(0, -1);
        await this.bus.sequenceAs(node, { channel, head, kind: 'leave', member: conn, disconnected: true });
        leaves += 1;
      }
    }
    for (const [conn, key] of Object.entries(await command.hgetall(keys.sessions(node)))) {
      const holder = await command.hget(keys.nicks, key);
      const nick = holder?.split('|')[2];
      if (holder === null || nick === undefined || !holder.startsWith(`${node}|${conn}|`)) {
        await command.hdel(keys.sessions(node), conn);
        continue;
      }
      await this.bus.release(node, conn, { key, holder }, `logout|${node}|${conn}|${nick}`);
      logouts += 1;
    }
    await Promise.all([command.del(keys.nodeChannels(node)), command.del(keys.sessions(node)), command.srem(keys.nodes, node)]);
    return { leaves, logouts };
  }
}
