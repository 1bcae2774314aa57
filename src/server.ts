/**
 * @module server: the chat server as a whole: an HTTP server, its WebSocket
 * transport and the root actor, started and stopped together.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket } from 'ws';
import { createActor, type Actor, type InspectionEvent } from 'xstate';
import { DEFAULT_LIMITS, type ServerLimits } from '../machines/limits.js';
import { serverMachine } from '../machines/server.machine.js';
import { CloseCode } from '../machines/socket.js';
import { Accounts, type AccountsOptions } from './accounts/accounts.js';
import { withEffects, type Effects } from './effects.js';
import { checkHealth, httpStatusOf, type WritesView } from './health.js';
import type { ClusterNode, ClusterNodeOptions } from './cluster/node.js';
import { createClusterOutbox } from '../machines/cluster-outbox.js';
import { defaults } from './config.js';
import type { InspectorHub } from './inspection/hub.js';
import type { StatelyConnection } from './inspection/stately.js';
import type { Logger } from './log.js';
import { silentLogger } from './log.js';
import { isLoopback } from './loopback.js';
import { mayScrape, METRICS_LOOPBACK_ONLY } from './metrics/access.js';
import { ChatCounters, type RefusalKind } from './metrics/counters.js';
import { ChatMetrics } from './metrics/metrics.js';
import { TimedAccountStore, TimedStore } from './metrics/timed-store.js';
import { isOriginAllowed } from './origin.js';
import { isInspectorPath, pageAt, servePage } from './pages.js';
import { refuseUpgrade } from './refuse-upgrade.js';
import { MemoryStore } from './store/memory.js';
import type { Store } from './store/store.js';
import { startWriteProbe, watchWrites, WriteHealth } from './store/write-health.js';
import { Transport } from './transport.js';
import { flushWrites } from './write-batch.js';

export interface ChatServerOptions {
  port?: number;
  host?: string;
  logger?: Logger;
  /** Overrides of the embedded limits. */
  limits?: Partial<ServerLimits>;
  /** Origins allowed to open WebSockets besides the server's own (and clients that send none). */
  allowedOrigins?: Iterable<string>;
  /** The root machine; tests swap in variants (a failing session, say). */
  machine?: typeof serverMachine;
  /**
   * `local`: serve the inspector at `/inspector` (loopback clients only);
   * `stately`: feed the Stately inspector through `@statelyai/inspect`'s relay.
   * Off when absent, and then no inspection observer is attached at all.
   */
  inspect?: 'local' | 'stately';
  /** Show chat message bodies to the inspector; redacted otherwise. */
  inspectBodies?: boolean;
  /** The Stately relay's port (default 8080); tests pass a free one. */
  statelyRelayPort?: number;
  /**
   * Where accounts live; the server owns it from here on and closes it when
   * it stops. An in-memory store when absent (the CLI opens SQLite).
   */
  store?: Store;
  /** Account policy overrides (lockout times, hash costs) and the clock; tests shorten and move them. */
  accounts?: AccountsOptions;
  /** How often history beyond the retention is deleted (default every 10 s); tests shorten it. */
  pruneIntervalMs?: number;
  /** How often a store whose writes fail is tried again (default every second); tests shorten it. */
  writeProbeMs?: number;
  /** Entries kept per actor for the inspector's time travel and traces (`--inspect-history`). */
  inspectHistory?: number;
  /**
   * This server's name in a cluster. There is no cluster yet; the inspector
   * shows the name and traces record it, so each node's inspector says which
   * node it is once there are several.
   */
  nodeName?: string;
  /** Serve `/metrics` to every client, not only to loopback ones (`--metrics-public`). */
  metricsPublic?: boolean;
  /**
   * Cluster mode (`--redis`): accounts, history, offsets, presence and nicks
   * live in this Redis, shared by every node started with the same URL.
   */
  redis?: string;
  /** Cluster tuning tests use: a key prefix of their own, faster heartbeats, a shorter takeover wait. */
  cluster?: Pick<ClusterNodeOptions, 'prefix' | 'liveness' | 'takeoverWaitMs'>;
}

export interface ChatServer {
  /** The base URL, e.g. `http://127.0.0.1:8667`. */
  url: string;
  port: number;
  actor: Actor<typeof serverMachine>;
  transport: Transport;
  store: Store;
  accounts: Accounts;
  /** What `/metrics` answers. */
  metrics: ChatMetrics;
  /** Where to open the inspector, when one is on: `/inspector` or the Stately relay's page. */
  inspectorUrl?: string;
  /** This node of a cluster, in cluster mode. */
  cluster?: ClusterNode;
  /** Closes every socket with 1001, waits for them (terminating stragglers), then stops. */
  close(): Promise<void>;
}

export async function startChatServer(options: ChatServerOptions = {}): Promise<ChatServer> {
  const logger = options.logger ?? silentLogger();
  const limits: ServerLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const cluster =
    options.redis === undefined
      ? undefined
      : await (await import('./cluster/node.js')).ClusterNode.start({
          url: options.redis,
          ...(options.nodeName === undefined ? {} : { node: options.nodeName }),
          maxEvents: limits.historySize,
          logger,
          ...options.cluster,
        });
  const nodeName = cluster?.node ?? options.nodeName;
  const engine = options.store ?? new MemoryStore();
  const writes = new WriteHealth((failing) =>
    failing === undefined
      ? logger.info('the store writes again; serving as before')
      : logger.error({ reason: failing }, 'the store cannot write; requests that need a write are answered unavailable'),
  );
  // Every write goes through here, so /healthz knows when they fail and when they work again.
  const store = watchWrites(engine, writes);
  // In a cluster, Redis is the store: /healthz is degraded while it is out of reach.
  const health: WritesView = cluster
    ? { get failing() { return cluster.up ? undefined : `Redis at ${cluster.url} is unreachable`; } }
    : writes;
  const counters = new ChatCounters();
  // Read only when scraped; `actor` and `accounts` exist by the time anything is.
  const metrics: ChatMetrics = new ChatMetrics({
    counters,
    population: () => checkHealth(actor.getSnapshot(), health),
    hashesInFlight: () => accounts.hashesInFlight,
    node: nodeName ?? null,
    ...(cluster ? { redisUp: () => cluster.up } : {}),
  });
  if (cluster) cluster.bus.observe = metrics.observeRedis;
  // Everything but closing reaches the store through this, so every call the server waits on is timed.
  const timed = new TimedStore(store, metrics.observeStore);
  const accounts = new Accounts(cluster ? new TimedAccountStore(cluster.accounts, metrics.observeStore) : timed, {
    ...options.accounts,
    ...(cluster ? { throttles: cluster.throttles } : {}),
    onLogin: (attempt) => counters.login(attempt),
  });
  const onError = (error: unknown) => logger.error({ err: error }, 'the store failed; the affected requests were answered unavailable');
  const effects: Effects = cluster
    ? {
        outbox: createClusterOutbox({ bus: cluster.bus, historyOnJoin: limits.historyOnJoin, recoveryLimit: limits.recoveryLimit, onError }),
        claimNick: (input) => cluster.bus.claim(input),
      }
    : {
        outbox: {
          history: timed,
          historyOnJoin: limits.historyOnJoin,
          recoveryLimit: limits.recoveryLimit,
          // The turn's frames are all queued once the outbox has delivered its batch: write them now, not a turn later.
          afterFlush: flushWrites,
          onError,
        },
      };
  const machine = withEffects(options.machine ?? serverMachine, accounts, effects).provide({
    actions: {
      reportFault: (_, { actor, error }) => logger.error({ actor, err: error }, 'actor failed; its session was closed'),
    },
  });
  const bodies = options.inspectBodies ?? false;
  // Loaded only when asked for: its diagram layout (elkjs) alone adds about 30 MiB to every process that imports it.
  const hub: InspectorHub | undefined =
    options.inspect === 'local'
      ? new (await import('./inspection/hub.js')).InspectorHub({ bodies, historySize: options.inspectHistory ?? defaults.inspectHistory, node: nodeName ?? null })
      : undefined;
  const stately: StatelyConnection | undefined =
    options.inspect === 'stately'
      ? await (await import('./inspection/stately.js')).connectStately({ bodies, relayPort: options.statelyRelayPort })
      : undefined;
  const inspect: ((event: InspectionEvent) => void) | undefined = hub?.inspect ?? stately?.inspect;
  // Named, so the inspector shows `server` rather than a generated id at the root of the tree.
  const actor = createActor(machine, {
    id: 'server',
    input: { maxChannelsPerSession: limits.maxChannelsPerSession, authTimeoutMs: limits.authTimeoutMs, clustered: cluster !== undefined },
    ...(inspect ? { inspect } : {}),
  });
  actor.subscribe({ error: (error) => logger.fatal({ err: error }, 'the server actor failed') });
  actor.start();

  // Redis trims its own streams as it appends, and reports its own health.
  const pruner = cluster ? undefined : startPruner(timed, limits, options.pruneIntervalMs ?? PRUNE_INTERVAL_MS, logger);
  const probe = cluster ? undefined : startWriteProbe(store, writes, options.writeProbeMs);

  const allowedOrigins = new Set(options.allowedOrigins);
  const transport = new Transport({
    actor,
    logger,
    limits,
    allowedOrigins,
    counters,
    ...(cluster ? { unavailable: () => (cluster.up ? undefined : 'The chat cluster cannot reach Redis right now. Try again shortly.') } : {}),
  });
  const refused = (kind: RefusalKind, status: number) => counters.refused(kind, status);
  const metricsPublic = options.metricsPublic ?? false;
  const http = createServer(
    // A client that never finishes its upgrade request is dropped after the handshake timeout.
    { connectionsCheckingInterval: Math.max(50, Math.min(limits.handshakeTimeoutMs / 2, 30_000)) },
    (request, response) => handleRequest(request, response, { actor, hub, metrics, metricsPublic, refused, writes: health }),
  );
  http.headersTimeout = limits.handshakeTimeoutMs;
  http.requestTimeout = limits.handshakeTimeoutMs;
  http.on('upgrade', (request, socket, head) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (hub && path === '/inspector/socket') {
      // Loopback alone is not enough: a foreign page in a developer's browser also connects from loopback.
      if (isLoopback(request.socket.remoteAddress) && isOriginAllowed(request, allowedOrigins)) {
        hub.handleUpgrade(request, socket, head);
      } else {
        refused('upgrade', 403);
        refuseUpgrade(socket, 403, 'Forbidden', INSPECTOR_LOOPBACK_ONLY);
      }
      return;
    }
    if (!hub && isInspectorPath(path)) {
      refused('upgrade', 404);
      return refuseUpgrade(socket, 404, 'Not Found', INSPECTOR_OFF);
    }
    transport.handleUpgrade(request, socket, head);
  });
  http.on('clientError', (_error, socket) => socket.destroy());

  try {
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
        http.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    actor.stop();
    stately?.stop();
    clearInterval(pruner);
    clearInterval(probe);
    await cluster?.close();
    await store.close();
    throw error;
  }
  const address = http.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      transport.stopAccepting();
      actor.send({ type: 'server.shutdown' });
      for (const ws of transport.sockets) {
        if (ws.readyState === WebSocket.OPEN) ws.close(CloseCode.goingAway, 'server shutting down');
      }
      await waitForSockets(transport.sockets, limits.shutdownGraceMs);
      for (const ws of transport.sockets) ws.terminate();
      // A terminated socket leaves the set on its 'close' event, a tick later.
      await waitForSockets(transport.sockets, 1_000);
      // Inspector pages hold upgraded connections, which would keep the HTTP server open.
      hub?.close();
      await new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      });
      actor.stop();
      stately?.stop();
      clearInterval(pruner);
      clearInterval(probe);
      // After the sessions' logouts and leaves have gone out to the other nodes.
      await cluster?.close();
      await store.close();
    })());

  const inspectorUrl = hub ? `${url}/inspector` : stately?.url;
  return {
    url,
    port: address.port,
    actor,
    transport,
    store: engine,
    accounts,
    metrics,
    close,
    ...(inspectorUrl ? { inspectorUrl } : {}),
    ...(cluster ? { cluster } : {}),
  };
}

const PRUNE_INTERVAL_MS = 10_000;
/** Events deleted per step: a step takes a few milliseconds, so delivery never waits long behind one. */
const PRUNE_BUDGET = 1_000;

/**
 * Deletes history beyond the retention in the background: every interval,
 * one bounded step, and further steps on later turns while there is more.
 */
function startPruner(store: Store, limits: ServerLimits, intervalMs: number, logger: Logger): NodeJS.Timeout {
  const retention = { maxEvents: limits.historySize, maxAgeMs: limits.historyDays * 24 * 60 * 60 * 1000 };
  let running = false;
  const step = () => {
    try {
      if (store.prune(retention, Date.now(), PRUNE_BUDGET) >= PRUNE_BUDGET) {
        setImmediate(step);
        return;
      }
    } catch (error) {
      logger.error({ err: error }, 'deleting old history failed; will try again');
    }
    running = false;
  };
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    step();
  }, intervalMs);
  timer.unref();
  return timer;
}

const INSPECTOR_OFF =
  'The inspector is off. Start the server with --inspect (npm start -- --inspect) to serve it here.';

const INSPECTOR_LOOPBACK_ONLY =
  'The inspector shows every session, so it answers only clients on this machine (loopback) and pages of this server.';

/** What answering plain HTTP requests needs of the server. */
interface RequestContext {
  actor: Actor<typeof serverMachine>;
  hub: InspectorHub | undefined;
  metrics: ChatMetrics;
  metricsPublic: boolean;
  refused: (kind: RefusalKind, status: number) => void;
  /** Whether the store can write (or, in a cluster, reach Redis), which /healthz reports. */
  writes: WritesView;
}

function handleRequest(request: IncomingMessage, response: ServerResponse, context: RequestContext): void {
  const { actor, hub, refused, writes } = context;
  const inspector = hub !== undefined;
  const path = new URL(request.url ?? '/', 'http://localhost').pathname;
  const method = request.method ?? 'GET';
  if (inspector && isInspectorPath(path) && !isLoopback(request.socket.remoteAddress)) {
    refused('request', 403);
    response
      .writeHead(403, { 'content-type': 'text/plain' })
      .end(`${INSPECTOR_LOOPBACK_ONLY}\n`);
    return;
  }
  if ((method === 'GET' || method === 'HEAD') && path === '/metrics') {
    serveMetrics(request, response, context, method === 'HEAD');
    return;
  }
  if (hub && method === 'GET' && hub.handleRequest(path, response)) return;
  const page = method === 'GET' || method === 'HEAD' ? pageAt(path, inspector) : undefined;
  if (page) {
    void servePage(page, response, method === 'HEAD');
    return;
  }
  if ((method === 'GET' || method === 'HEAD') && path === '/healthz') {
    const health = checkHealth(actor.getSnapshot(), writes);
    const body = JSON.stringify(health);
    response
      .writeHead(httpStatusOf(health), {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        // A probe must see the status of now, never a cached one.
        'cache-control': 'no-store',
      })
      .end(method === 'HEAD' ? undefined : body);
    return;
  }
  if (!inspector && isInspectorPath(path)) {
    refused('request', 404);
    response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end(`${INSPECTOR_OFF}\n`);
    return;
  }
  refused('request', 404);
  response.writeHead(404, { 'content-type': 'text/plain' }).end('Not found\n');
}

function serveMetrics(request: IncomingMessage, response: ServerResponse, context: RequestContext, head: boolean): void {
  if (!mayScrape(request.socket.remoteAddress, context.metricsPublic)) {
    context.refused('request', 403);
    response.writeHead(403, { 'content-type': 'text/plain; charset=utf-8' }).end(`${METRICS_LOOPBACK_ONLY}\n`);
    return;
  }
  context.metrics.render().then(
    (body) => {
      response
        .writeHead(200, {
          'content-type': context.metrics.contentType,
          'content-length': Buffer.byteLength(body),
          // Every scrape must see the values of now, never a cached copy.
          'cache-control': 'no-store',
        })
        .end(head ? undefined : body);
    },
    (error: unknown) => {
      response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`Collecting the metrics failed: ${(error as Error).message}\n`);
    },
  );
}

async function waitForSockets(sockets: Set<WebSocket>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (sockets.size > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
