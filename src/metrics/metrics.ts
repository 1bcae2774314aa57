/**
 * @module metrics: what `GET /metrics` answers, in the Prometheus text format.
 *
 * Counters are read from {@link ChatCounters} and gauges from the server
 * actor and the hash pool only when scraped (each prom-client metric's
 * `collect`), so serving pays nothing for metrics nobody reads. Store
 * latencies are the exception: they are observed as they happen, into a
 * histogram, once per store call (a batch of channel events is one call).
 * Every series carries a `node` label, the `--node-name`, when one is set, so
 * the nodes of a cluster can be told apart on one dashboard.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { ERROR_LABELS, OUT_TYPES } from './frame-type.js';
import { ChatCounters, IN_TYPES, LOGIN_OUTCOMES } from './counters.js';
import { processMetrics } from './process.js';
import { STORE_OPERATIONS, type StoreTimer } from './timed-store.js';
import { REDIS_OPERATIONS, type RedisTimer } from '../cluster/public.js';

export interface MetricsSources {
  counters: ChatCounters;
  /** Open sessions and channels with members, now. */
  population: () => { sessions: number; channels: number };
  /** Password hashes running or waiting. */
  hashesInFlight: () => number;
  /** This node's name in a cluster; no `node` label when null. */
  node: string | null;
  /** In cluster mode: whether both Redis connections are up. */
  redisUp?: () => boolean;
}

/**
 * From 10 µs (an indexed SQLite lookup) to over a second (a store in
 * trouble), so a networked store's round trips fall in the middle.
 */
const STORE_BUCKETS = [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** The frame types the server sends, listed at zero before any is, so dashboards see every series from the start. */
const SENT_TYPES: readonly string[] = OUT_TYPES.filter((type) => type !== '7' && type !== 'other');

export class ChatMetrics {
  readonly registry = new Registry();
  /** For the {@link TimedStore} around the server's store. */
  readonly observeStore: StoreTimer;
  /** For the cluster's Redis bus, in cluster mode. */
  readonly observeRedis: RedisTimer;
  private readonly node: string | null;

  constructor(sources: MetricsSources) {
    const { counters } = sources;
    this.node = sources.node;
    // Started now, not at the first scrape, so that scrape's event-loop lag covers the time since the start.
    processMetrics();
    const registers = [this.registry];

    new Gauge({
      name: 'chat_sessions',
      help: 'Open sessions (connections past their upgrade), now.',
      registers,
      collect() {
        this.set(sources.population().sessions);
      },
    });
    new Gauge({
      name: 'chat_channels',
      help: 'Channels with at least one member, now.',
      registers,
      collect() {
        this.set(sources.population().channels);
      },
    });
    new Gauge({
      name: 'chat_auth_hashes_in_flight',
      help: 'Password hashes (logins, registrations, password changes) running or waiting for the hash pool, now.',
      registers,
      collect() {
        this.set(sources.hashesInFlight());
      },
    });

    new Counter({
      name: 'chat_connections_opened_total',
      help: 'WebSocket connections opened (upgrades completed).',
      registers,
      collect() {
        this.reset();
        this.inc(counters.connectionsOpened);
      },
    });
    new Counter({
      name: 'chat_connections_closed_total',
      help: 'WebSocket connections closed, by close code (1006: dropped without a close frame; other: a code outside the standard range and ours).',
      labelNames: ['code'],
      registers,
      collect() {
        this.reset();
        for (const [code, count] of counters.connectionsClosed) this.inc({ code }, count);
      },
    });
    new Counter({
      name: 'chat_frames_received_total',
      help: 'Frames from clients, by frame type; invalid: refused at validation; rate_limited: refused for its rate before being read.',
      labelNames: ['type'],
      registers,
      collect() {
        this.reset();
        IN_TYPES.forEach((type, slot) => this.inc({ type }, counters.framesIn[slot]!));
      },
    });
    new Counter({
      name: 'chat_frames_sent_total',
      help: 'Frames queued for clients, by frame type (-1: error); a broadcast counts once per recipient.',
      labelNames: ['type'],
      registers,
      collect() {
        this.reset();
        OUT_TYPES.forEach((type, slot) => {
          const count = counters.framesOut[slot]!;
          if (count > 0 || SENT_TYPES.includes(type)) this.inc({ type }, count);
        });
      },
    });
    new Counter({
      name: 'chat_received_bytes_total',
      help: 'Payload bytes of the frames counted by chat_frames_received_total.',
      registers,
      collect() {
        this.reset();
        this.inc(counters.bytesIn);
      },
    });
    new Counter({
      name: 'chat_sent_bytes_total',
      help: 'Payload bytes (UTF-8) of the frames counted by chat_frames_sent_total.',
      registers,
      collect() {
        this.reset();
        this.inc(counters.bytesOut);
      },
    });
    new Counter({
      name: 'chat_errors_sent_total',
      help: 'Error frames (type -1) sent, by error code.',
      labelNames: ['code'],
      registers,
      collect() {
        this.reset();
        ERROR_LABELS.forEach((code, slot) => {
          const count = counters.errors[slot]!;
          if (count > 0 || code !== 'other') this.inc({ code }, count);
        });
      },
    });
    new Counter({
      name: 'chat_http_refusals_total',
      help: 'HTTP requests and WebSocket upgrades answered with an error status, by kind (request, upgrade) and status.',
      labelNames: ['kind', 'status'],
      registers,
      collect() {
        this.reset();
        for (const [key, count] of counters.httpRefusals) {
          const [kind, status] = key.split(' ');
          this.inc({ kind, status }, count);
        }
      },
    });
    new Counter({
      name: 'chat_logins_total',
      help: 'Logins by outcome: guest (an unregistered nick taken), password, token (a registered nick signed in), refused (nick invalid or taken, wrong password or token, throttled, timed out).',
      labelNames: ['outcome'],
      registers,
      collect() {
        this.reset();
        for (const outcome of LOGIN_OUTCOMES) this.inc({ outcome }, counters.logins[outcome]);
      },
    });

    const store = new Histogram({
      name: 'chat_store_operation_duration_seconds',
      help: 'Time taken by store operations, by operation: history appends (one per batch of channel events), reads and retention steps; account and token lookups and writes.',
      labelNames: ['operation'],
      buckets: STORE_BUCKETS,
      registers,
    });
    for (const operation of STORE_OPERATIONS) store.zero({ operation });
    this.observeStore = (operation, seconds) => store.observe({ operation }, seconds);

    const redisUp = sources.redisUp;
    const redis = new Histogram({
      name: 'chat_redis_operation_duration_seconds',
      help: 'Cluster mode: round trips to Redis, by operation: sequencing a channel event (one script each), reads, nick claims and releases, presence publishes, user lists, subscriptions.',
      labelNames: ['operation'],
      buckets: STORE_BUCKETS,
      registers: redisUp ? registers : [],
    });
    if (redisUp) {
      for (const operation of REDIS_OPERATIONS) redis.zero({ operation });
      new Gauge({
        name: 'chat_redis_up',
        help: 'Cluster mode: 1 while both Redis connections (commands and subscriptions) are up, 0 while Redis is out of reach.',
        registers,
        collect() {
          this.set(redisUp() ? 1 : 0);
        },
      });
    }
    this.observeRedis = (operation, seconds) => redis.observe({ operation }, seconds);
  }

  /** The scrape: this server's metrics and the process's, every series labelled with the node when there is one. */
  async render(): Promise<string> {
    const all = Registry.merge([this.registry, processMetrics()]);
    if (this.node !== null) all.setDefaultLabels({ node: this.node });
    return all.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
