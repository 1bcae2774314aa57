#!/usr/bin/env node
/**
 * @module cli: `npm start`: reads the configuration, starts the server, and
 * shuts it down on SIGINT or SIGTERM: cleanly when it can, and always within
 * the shutdown grace plus {@link HARD_DEADLINE_MARGIN_MS}, whatever any part
 * of it is doing (a service manager that waits forever is worse than a cut).
 */
import { ConfigError, loadConfig, usage } from './config.js';
import { explainListenError } from './listen-error.js';
import { createLogger } from './log.js';
import { writeStderr } from './stderr.js';
import { RelayPortInUseError } from './inspection/relay-error.js';
import { ClusterStartError } from './cluster/public.js';
import { startChatServer } from './server.js';
import { MemoryStore } from './store/memory.js';
import { SqliteStore } from './store/sqlite.js';
import { StoreOpenError, type Store } from './store/store.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.argv.slice(2), process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    writeStderr(error.message);
    process.exit(2);
  }
  if (config.help) {
    process.stdout.write(usage);
    return;
  }

  const { logger, destination } = createLogger(config.logLevel);
  let store: Store | undefined;
  try {
    store =
      config.redis !== null
        ? undefined
        : config.store === 'memory'
        ? new MemoryStore()
        : new SqliteStore({
            dataDir: config.dataDir,
            onMigrate: (version, summary) => logger.info({ version }, `store schema migrated to version ${version}: ${summary}`),
            onCheckpointProblem: (message) => logger.warn(message),
          });
  } catch (error) {
    if (!(error instanceof StoreOpenError)) throw error;
    writeStderr(error.message);
    process.exit(1);
  }
  if (store) logger.info({ store: store.engine, location: store.location }, `store: ${store.engine} (${store.location})`);
  let server;
  try {
    server = await startChatServer({
      ...(store ? { store } : {}),
      ...(config.redis !== null ? { redis: config.redis } : {}),
      port: config.port,
      host: config.host,
      logger,
      limits: config.limits,
      allowedOrigins: config.allowedOrigins,
      inspectHistory: config.inspectHistory,
      metricsPublic: config.metricsPublic,
      ...(config.nodeName ? { nodeName: config.nodeName } : {}),
      ...(config.inspect ? { inspect: config.inspect, inspectBodies: config.inspectBodies } : {}),
    });
  } catch (error) {
    if (error instanceof RelayPortInUseError || error instanceof ClusterStartError) {
      writeStderr(error.message);
      process.exit(1);
    }
    const explanation = explainListenError(error, config.host, config.port);
    if (explanation === undefined) throw error;
    writeStderr(explanation);
    process.exit(1);
  }
  let stopping = false;
  let first: { signal: string; at: number } | undefined;
  const shutDown = (signal: string) => {
    // Ctrl-C under `npm start` reaches the server twice: from the terminal, and from npm passing it on.
    if (first && first.signal === signal && Date.now() - first.at < REPEAT_WINDOW_MS) return;
    first ??= { signal, at: Date.now() };
    if (stopping) {
      // Whoever sends it twice wants the process gone now, not after the drain.
      writeStderr(`${signal} again during shutdown: exiting at once, without waiting for clients to close.`);
      process.exit(1);
    }
    stopping = true;
    const deadlineMs = config.limits.shutdownGraceMs + HARD_DEADLINE_MARGIN_MS;
    const started = Date.now();
    // Not unref'd: it is what ends the process when something else keeps it alive.
    setTimeout(() => {
      writeStderr(
        `Shutdown did not finish within ${deadlineMs} ms (shutdown grace ${config.limits.shutdownGraceMs} ms + ${HARD_DEADLINE_MARGIN_MS} ms): exiting anyway.`,
      );
      process.exit(1);
    }, deadlineMs);
    logger.info({ signal }, 'shutting down');
    server.close().then(
      async () => {
        // The last line: whoever watches the log knows the process is done, not hung.
        logger.info({ signal }, 'stopped');
        // Lines still queued get a moment, within the deadline: a reader that has stopped will not take them anyway.
        await destination.flush(Math.max(0, Math.min(LOG_FLUSH_MS, deadlineMs - (Date.now() - started) - 250)));
        process.exit(0);
      },
      (error) => {
        logger.fatal({ err: error }, 'shutdown failed');
        writeStderr(`Shutdown failed: ${(error as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', shutDown);
  process.on('SIGTERM', shutDown);
  if (server.cluster) {
    const { node, url } = server.cluster;
    logger.info({ store: 'redis', location: url, node }, `store: redis (${url}), cluster node ${node}`);
  }
  // Only now: whoever waits for this line may signal the process at once.
  logger.info({ url: server.url, ...(server.cluster ? { node: server.cluster.node } : config.nodeName ? { node: config.nodeName } : {}) }, `listening on ${server.url}`);
  // Said at start, since opening them to everyone is a choice an operator should see in the log.
  logger.info(
    { metrics: `${server.url}/metrics`, public: config.metricsPublic },
    `metrics at ${server.url}/metrics, ${config.metricsPublic ? 'to any client (--metrics-public)' : 'to loopback clients only'}`,
  );
  if (server.inspectorUrl) {
    logger.info({ inspector: server.inspectorUrl, bodies: config.inspectBodies }, `inspector at ${server.inspectorUrl}`);
  }
}

/** A second copy of the same signal this soon after the first is the same request, not a second one. */
const REPEAT_WINDOW_MS = 200;
/** How long after the shutdown grace the process is ended whatever it is doing. */
const HARD_DEADLINE_MARGIN_MS = 2_000;
/** How long a clean exit waits for queued log lines to be read. */
const LOG_FLUSH_MS = 1_000;

main().catch((error) => {
  writeStderr(`${(error as Error).stack ?? error}`);
  process.exit(1);
});
