#!/usr/bin/env node
/**
 * @module cli: `npm start`: reads the configuration, starts the server, and
 * shuts it down cleanly on SIGINT or SIGTERM.
 */
import { ConfigError, loadConfig, usage } from './config.js';
import { explainListenError } from './listen-error.js';
import { createLogger } from './log.js';
import { RelayPortInUseError } from './inspection/stately.js';
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
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
  if (config.help) {
    process.stdout.write(usage);
    return;
  }

  const logger = createLogger(config.logLevel);
  let store: Store;
  try {
    store =
      config.store === 'memory'
        ? new MemoryStore()
        : new SqliteStore({
            dataDir: config.dataDir,
            onMigrate: (version, summary) => logger.info({ version }, `store schema migrated to version ${version}: ${summary}`),
          });
  } catch (error) {
    if (!(error instanceof StoreOpenError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  logger.info({ store: store.engine, location: store.location }, `store: ${store.engine} (${store.location})`);
  let server;
  try {
    server = await startChatServer({
      store,
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
    if (error instanceof RelayPortInUseError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    const explanation = explainListenError(error, config.host, config.port);
    if (explanation === undefined) throw error;
    process.stderr.write(`${explanation}\n`);
    process.exit(1);
  }
  logger.info({ url: server.url, ...(config.nodeName ? { node: config.nodeName } : {}) }, `listening on ${server.url}`);
  // Said at start, since opening them to everyone is a choice an operator should see in the log.
  logger.info(
    { metrics: `${server.url}/metrics`, public: config.metricsPublic },
    `metrics at ${server.url}/metrics, ${config.metricsPublic ? 'to any client (--metrics-public)' : 'to loopback clients only'}`,
  );
  if (server.inspectorUrl) {
    logger.info({ inspector: server.inspectorUrl, bodies: config.inspectBodies }, `inspector at ${server.inspectorUrl}`);
  }

  const shutDown = (signal: string) => {
    logger.info({ signal }, 'shutting down');
    server.close().then(
      () => {
        // The last line: whoever watches the log knows the process is done, not hung.
        logger.info({ signal }, 'stopped');
        process.exit(0);
      },
      (error) => {
        logger.fatal({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', shutDown);
  process.once('SIGTERM', shutDown);
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
