/**
 * @module redis-bus: the {@link ClusterBus} on Redis: one connection for
 * commands, one for subscriptions (a subscribed Redis connection can do
 * nothing else).
 *
 * Commands are never queued while Redis is away: they fail at once, so a
 * request that needs Redis is answered `unavailable` instead of hanging, and
 * nothing half-done reaches some members and not others (each step is one
 * Lua script). The client reconnects by itself; once both connections are
 * back, the subscriptions are renewed (ioredis does that) and the outbox is
 * told to fill what it missed from the kept streams.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { ClaimInput, ClaimOutcome } from '../../machines/claims.js';
import type { ClusterBus, ClusterListener, ClusterReadResult, EventKind, PresenceNotice, SequencedEvent, SequenceRequest } from '../../machines/cluster.js';
import type { ReadQuery } from '../../machines/history.js';
import { nickKey } from '../../machines/names.js';
import { Keys } from './keys.js';
import { ClusterStartError, type RedisOperation, type RedisTimer } from './public.js';
import { maskRedisUrl } from './redis-accounts.js';
import { CLAIM, RELEASE, SEQUENCE } from './scripts.js';

export interface RedisBusOptions {
  /** e.g. `redis://127.0.0.1:6379/0`. */
  url: string;
  /** This node's name, unique in the cluster. */
  node: string;
  /** Events kept per channel (approximately: trimming is amortised). */
  maxEvents: number;
  keys?: Keys;
  /** How long an owner waits for the node holding its nick to log the old session out before it goes ahead. */
  takeoverWaitMs?: number;
  /** Told when both connections are up, or one of them is down. */
  onStatus?: (up: boolean) => void;
}

/** A nick this node's connection holds in Redis. */
interface Claim {
  key: string;
  /** `node|conn|nick`: compared before freeing, so a takeover's new holder is never freed. */
  holder: string;
}

type Scripted = Redis & {
  chatSequence(...args: (string | number)[]): Promise<number>;
  chatClaim(...args: (string | number)[]): Promise<[string, string]>;
  chatRelease(...args: (string | number)[]): Promise<number>;
};

const TAKEOVER_WAIT_MS = 5_000;



/** Connection options both connections share: fail fast while Redis is away, and keep trying to reconnect. */
function connectionOptions() {
  return {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    // At most a second between tries, so a node is back within a second or so of Redis.
    retryStrategy: (times: number) => Math.min(50 * times, 1_000),
  };
}

export class RedisBus implements ClusterBus {
  readonly node: string;
  readonly keys: Keys;
  readonly command: Scripted;
  readonly subscriber: Redis;
  epoch = '';
  /** Told how long each Redis round trip took: set by the server to feed `/metrics`. */
  observe: RedisTimer | undefined;
  private listener: ClusterListener | undefined;
  private readonly claims = new Map<string, Claim>();
  /** Claims under way, and the connections that went away during theirs. */
  private readonly claiming = new Set<string>();
  private readonly abandoned = new Set<string>();
  /** Owners waiting for a holder elsewhere to log out, by `node|conn` of the holder. */
  private readonly waitingFor = new Map<string, () => void>();
  /**
   * Releases Redis refused while it was away, tried again when it is back:
   * otherwise the nick would stay taken, and the other nodes would never
   * hear the logout.
   */
  private retries: (() => Promise<void>)[] = [];
  /** Work the bus has started and not finished: what a draining node waits for. */
  private readonly pending = new Set<Promise<unknown>>();
  /** Set once connected: the connections' first 'ready' is not news. */
  private wasUp: boolean | undefined;
  private closed = false;

  private constructor(private readonly options: RedisBusOptions) {
    this.node = options.node;
    this.keys = options.keys ?? new Keys();
    // Commands issued in one turn (a busy turn sequences many events) leave in one write.
    this.command = new Redis(options.url, { ...connectionOptions(), enableAutoPipelining: true, connectionName: `chat-${options.node}` }) as Scripted;
    this.subscriber = new Redis(options.url, { ...connectionOptions(), connectionName: `chat-${options.node}-sub` });
    this.command.defineCommand('chatSequence', { numberOfKeys: 4, lua: SEQUENCE });
    this.command.defineCommand('chatClaim', { numberOfKeys: 3, lua: CLAIM });
    this.command.defineCommand('chatRelease', { numberOfKeys: 3, lua: RELEASE });
    // Errors also come as 'close' and failed commands; without a listener ioredis would print each one.
    this.command.on('error', () => {});
    this.subscriber.on('error', () => {});
    this.subscriber.on('message', (topic: string, message: string) => this.onMessage(topic, message));
    for (const connection of [this.command, this.subscriber]) {
      connection.on('ready', () => void this.statusChanged());
      connection.on('close', () => void this.statusChanged());
    }
  }

  /** Connects both connections and joins the cluster's topics; throws, naming the URL, if Redis cannot be reached. */
  static async connect(options: RedisBusOptions): Promise<RedisBus> {
    const bus = new RedisBus(options);
    try {
      await Promise.all([bus.command.connect(), bus.subscriber.connect()]);
      await bus.subscriber.subscribe(bus.keys.presenceTopic, bus.keys.nodeTopic(bus.node));
      await bus.loadEpoch();
    } catch (error) {
      bus.command.disconnect();
      bus.subscriber.disconnect();
      throw new ClusterStartError(`Cannot reach Redis at ${maskRedisUrl(options.url)} (${(error as Error).message}): start Redis, or check --redis / REDIS_URL.`);
    }
    bus.wasUp = true;
    return bus;
  }

  get up(): boolean {
    return this.command.status === 'ready' && this.subscriber.status === 'ready';
  }

  listen(listener: ClusterListener): () => void {
    this.listener = listener;
    return () => {
      if (this.listener === listener) this.listener = undefined;
    };
  }

  async subscribe(channel: string): Promise<void> {
    await this.timed('subscribe', this.subscriber.subscribe(this.keys.channelTopic(channel)));
  }

  unsubscribe(channel: string): void {
    this.subscriber.unsubscribe(this.keys.channelTopic(channel)).catch(() => {});
  }

  sequence(request: SequenceRequest): Promise<number> {
    return this.track(this.sequenceAs(this.node, request));
  }

  /** Sequences an event about a member of `node`: this node's own, or a dead node's being announced as gone. */
  sequenceAs(node: string, request: SequenceRequest): Promise<number> {
    const { channel } = request;
    const sequenced = this.command.chatSequence(
      this.keys.offset(channel),
      this.keys.events(channel),
      this.keys.members(channel),
      this.keys.nodeChannels(node),
      request.head,
      request.kind,
      node,
      request.member,
      request.disconnected ? 1 : 0,
      channel,
      this.options.maxEvents,
      this.keys.channelTopic(channel),
    );
    return this.timed('sequence', sequenced).then(Number);
  }

  async read(query: ReadQuery): Promise<ClusterReadResult> {
    const events = this.keys.events(query.channel);
    const end = query.before === undefined ? '+' : `${query.before - 1}-1`;
    const start = query.after === undefined ? '-' : `${query.after + 1}-0`;
    const empty = query.limit <= 0 || (query.before !== undefined && query.before <= (query.after ?? 0) + 1);
    const reads = Promise.all([
      empty ? Promise.resolve([] as [string, string[]][]) : this.command.xrevrange(events, end, start, 'COUNT', query.limit),
      this.command.xrange(events, '-', '+', 'COUNT', 1),
      this.command.get(this.keys.offset(query.channel)),
    ]);
    const [newest, oldest, last] = await this.timed('read', reads);
    const lastOffset = Number(last ?? 0);
    const first = oldest[0] ? offsetOf(oldest[0][0]) : lastOffset + 1;
    return { events: newest.reverse().map(([id, fields]) => storedEvent(query.channel, id, fields)), first, last: lastOffset };
  }

  announce(notice: Omit<PresenceNotice, 'node'>): Promise<void> {
    const message = `${notice.kind}|${this.node}|${notice.id}|${notice.user}`;
    const publish = () => this.timed('publish', this.command.publish(this.keys.presenceTopic, message)).then(() => undefined);
    if (notice.kind === 'login') return this.track(publish());
    const claim = this.claims.get(notice.id);
    this.claims.delete(notice.id);
    if (!claim) return this.track(publish());
    return this.track(this.releaseOrRetry(notice.id, claim, message));
  }

  async users(): Promise<string[]> {
    return nicksOf(await this.timed('users', this.command.zrange(this.keys.users, '0', '-1')));
  }

  async members(channel: string): Promise<string[]> {
    return nicksOf(await this.timed('members', this.command.zrange(this.keys.members(channel), '0', '-1')));
  }

  async restoreMembers(channel: string, members: readonly { id: string; user: string }[]): Promise<void> {
    const entries = members.flatMap(({ id, user }) => [0, `${this.node}|${id}|${user}`]);
    await this.track(
      Promise.all([this.command.zadd(this.keys.members(channel), ...entries), this.command.sadd(this.keys.nodeChannels(this.node), channel)]),
    );
  }

  forget(id: string): void {
    if (this.claiming.has(id)) this.abandoned.add(id);
    const claim = this.claims.get(id);
    if (!claim) return;
    this.claims.delete(id);
    // Never logged in (refused, or gone while waiting): freed quietly, but an owner waiting for it hears.
    this.track(this.releaseOrRetry(id, claim, `release|${this.node}|${id}|${claim.holder.split('|')[2]}`)).catch(() => {});
  }

  /**
   * Claims a nick for connection `id` of this node. An owner taking it from a
   * session on another node waits until that one has logged out (or gone),
   * so everyone hears the old session's logout before the new login.
   */
  async claim(input: ClaimInput): Promise<ClaimOutcome> {
    const key = nickKey(input.nick);
    const holder = `${this.node}|${input.id}|${input.nick}`;
    this.claiming.add(input.id);
    try {
      const claimed = this.command.chatClaim(
        this.keys.nicks,
        this.keys.users,
        this.keys.sessions(this.node),
        key,
        holder,
        input.owner ? 1 : 0,
        input.id,
        this.keys.prefix,
      );
      const [outcome, previous] = await this.timed('claim', claimed);
      if (outcome === 'taken') return { ok: false, code: 'nick_taken' };
      this.claims.set(input.id, { key, holder });
      if (this.abandoned.has(input.id)) this.forget(input.id);
      const [node, conn] = previous.split('|');
      if (outcome === 'took' && node !== this.node && node !== undefined && conn !== undefined) {
        await this.takeOver(node, conn);
      }
      return { ok: true };
    } finally {
      this.claiming.delete(input.id);
      this.abandoned.delete(input.id);
    }
  }

  /** Everything the bus has started, settled: what a draining node waits for before it disconnects. */
  async settle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const resolve of this.waitingFor.values()) resolve();
    await this.settle();
    await Promise.allSettled([this.command.quit(), this.subscriber.quit()]);
    this.command.disconnect();
    this.subscriber.disconnect();
  }

  /** Frees `claim` of connection `conn` of `node`, publishing `notice` with it. */
  release(node: string, conn: string, claim: Claim, notice: string): Promise<void> {
    return this.timed(
      'release',
      this.command.chatRelease(this.keys.nicks, this.keys.users, this.keys.sessions(node), claim.key, claim.holder, conn, this.keys.presenceTopic, notice),
    ).then(() => undefined);
  }

  /**
   * Releases a claim of this node's, or keeps it for when Redis is back. A
   * logout tried again is marked late: this node delivered it itself when
   * Redis refused it, so only the others deliver it now.
   */
  private releaseOrRetry(conn: string, claim: Claim, notice: string): Promise<void> {
    return this.release(this.node, conn, claim, notice).catch((error: unknown) => {
      const late = notice.startsWith('logout|') ? `${notice}|late` : notice;
      this.retries.push(() => this.releaseOrRetry(conn, claim, late));
      throw error;
    });
  }

  private async takeOver(node: string, conn: string): Promise<void> {
    const gone = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, this.options.takeoverWaitMs ?? TAKEOVER_WAIT_MS);
      this.waitingFor.set(`${node}|${conn}`, () => {
        clearTimeout(timer);
        resolve();
      });
    });
    await this.command.publish(this.keys.nodeTopic(node), `takeover|${conn}`);
    await gone;
    this.waitingFor.delete(`${node}|${conn}`);
  }

  private timed<T>(operation: RedisOperation, work: Promise<T>): Promise<T> {
    const observe = this.observe;
    if (!observe) return work;
    const start = performance.now();
    const done = () => observe(operation, (performance.now() - start) / 1000);
    work.then(done, done);
    return work;
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.pending.add(work);
    const done = () => this.pending.delete(work);
    work.then(done, done);
    return work;
  }

  private async loadEpoch(): Promise<void> {
    await this.command.set(this.keys.epoch, randomBytes(8).toString('hex'), 'NX');
    const previous = this.epoch;
    this.epoch = (await this.command.get(this.keys.epoch)) ?? this.epoch;
    if (previous !== '' && previous !== this.epoch) await this.restoreClaims();
  }

  /**
   * Redis came back without its data: this node's logged-in users claim
   * their nicks again, so nobody else can take them while they are online.
   * (A nick someone took in the meantime stays theirs.)
   */
  private async restoreClaims(): Promise<void> {
    let score = 0;
    await Promise.all(
      Array.from(this.claims, ([conn, { key, holder }]) =>
        Promise.all([
          this.command.hsetnx(this.keys.nicks, key, holder),
          this.command.zadd(this.keys.users, (score += 1), holder),
          this.command.hset(this.keys.sessions(this.node), conn, key),
        ]),
      ),
    );
  }

  private async statusChanged(): Promise<void> {
    const up = this.up;
    if (this.wasUp === undefined || up === this.wasUp || this.closed) return;
    this.wasUp = up;
    if (up) {
      // Redis may have lost its data while away (no persistence): a new epoch says offsets start over.
      try {
        await this.loadEpoch();
      } catch {
        return;
      }
    }
    this.options.onStatus?.(up);
    if (!up) return;
    const retries = this.retries;
    this.retries = [];
    for (const retry of retries) this.track(retry()).catch(() => {});
    this.listener?.resumed();
  }

  private onMessage(topic: string, message: string): void {
    const listener = this.listener;
    if (topic === this.keys.presenceTopic) {
      const [kind, node, id, user, late] = message.split('|');
      if (node === undefined || id === undefined || user === undefined) return;
      this.waitingFor.get(`${node}|${id}`)?.();
      if (late !== undefined && node === this.node) return;
      if (kind === 'login' || kind === 'logout') listener?.presence({ kind, node, id, user });
      return;
    }
    if (topic === this.keys.nodeTopic(this.node)) {
      const [kind, conn] = message.split('|');
      if (kind === 'takeover' && conn !== undefined) listener?.takenOver(conn);
      return;
    }
    if (!topic.startsWith(this.keys.channelTopicPrefix) || !listener) return;
    const channel = topic.slice(this.keys.channelTopicPrefix.length);
    const first = message.indexOf('\n');
    const second = message.indexOf('\n', first + 1);
    const third = message.indexOf('\n', second + 1);
    listener.event(
      sequenced(channel, Number(message.slice(0, first)), Number(message.slice(first + 1, second)), message.slice(second + 1, third), message.slice(third + 1)),
    );
  }
}

function sequenced(channel: string, offset: number, time: number, meta: string, data: string): SequencedEvent {
  const [kind, node, member, disconnected] = meta.split('|');
  return { channel, offset, time, data, kind: kind as EventKind, node: node ?? '', member: member ?? '', disconnected: disconnected === '1' };
}

function storedEvent(channel: string, id: string, fields: string[]): SequencedEvent {
  const value = (name: string) => fields[fields.indexOf(name) + 1] ?? '';
  return sequenced(channel, offsetOf(id), Number(value('t')), value('m'), value('d'));
}

/** A stream id `OFFSET-1` back to its offset. */
function offsetOf(id: string): number {
  return Number(id.slice(0, id.indexOf('-')));
}

/** `node|conn|nick` entries to their nicks. */
function nicksOf(entries: string[]): string[] {
  return entries.map((entry) => entry.slice(entry.lastIndexOf('|') + 1));
}
