/**
 * @module config: the server's settings, from the command line and the
 * environment over embedded defaults. Every setting is validated up front,
 * and a bad one is refused with a message that names it and says what to give.
 */
import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import { DEFAULT_LIMITS, type ServerLimits } from '../machines/limits.js';
import { LOG_LEVELS, type LogLevel } from './log.js';

export const INSPECT_MODES = ['local', 'stately'] as const;
export type InspectMode = (typeof INSPECT_MODES)[number];

export const STORE_ENGINES = ['sqlite', 'memory'] as const;
export type StoreEngine = (typeof STORE_ENGINES)[number];

export interface Config {
  port: number;
  host: string;
  logLevel: LogLevel;
  limits: ServerLimits;
  allowedOrigins: string[];
  /** Off when undefined: the inspector shows every session's state. */
  inspect: InspectMode | undefined;
  inspectBodies: boolean;
  /** `sqlite` keeps accounts in `dataDir`; `memory` keeps them until the process stops. */
  store: StoreEngine;
  dataDir: string;
  /** Entries kept per actor for the inspector's time travel and traces. */
  inspectHistory: number;
  /** This server's name in a cluster, shown by the inspector and written into traces; null alone. */
  nodeName: string | null;
  /** Serve `/metrics` to any client; loopback clients only when false. */
  metricsPublic: boolean;
  /** Cluster mode: the Redis every node shares; null for the embedded store. */
  redis: string | null;
}

export const defaults: Config = {
  port: 8667,
  host: '127.0.0.1',
  logLevel: 'info',
  limits: { ...DEFAULT_LIMITS },
  allowedOrigins: [],
  inspect: undefined,
  inspectBodies: false,
  store: 'sqlite',
  dataDir: './data',
  inspectHistory: 200,
  nodeName: null,
  metricsPublic: false,
  redis: null,
};

/** The most entries one actor's history may keep: each holds a context summary, and sessions can be thousands. */
export const MAX_INSPECT_HISTORY = 10_000;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

interface LimitFlag {
  key: keyof ServerLimits;
  /** The smallest value that makes sense; 0 where 0 means "no limit". */
  min: number;
  help: string;
}

/** One flag per limit, named after it. */
export const LIMIT_FLAGS: Record<string, LimitFlag> = {
  'max-payload': { key: 'maxPayload', min: 1, help: 'largest frame in bytes; bigger closes with 1009' },
  'max-connections': { key: 'maxConnections', min: 1, help: 'open connections in all; more get HTTP 503' },
  'max-connections-per-ip': { key: 'maxConnectionsPerIp', min: 0, help: 'open connections per address, 0 for no cap; more get HTTP 429' },
  'rate-limit': { key: 'rateLimit', min: 0, help: 'frames per second per session, 0 for none; more get rate_limited' },
  'rate-burst': { key: 'rateBurst', min: 1, help: 'frames a session may send at once above the rate' },
  'flood-refusals': { key: 'floodRefusals', min: 1, help: 'rate_limited refusals within 10 s that close a session with 1008' },
  'max-channels': { key: 'maxChannelsPerSession', min: 1, help: 'channels one session may be in; more get too_many_channels' },
  'max-buffered': { key: 'maxBufferedBytes', min: 1, help: 'unsent bytes for one client before it is closed with 4008' },
  'ping-interval-ms': { key: 'pingIntervalMs', min: 10, help: 'ms between pings; a peer silent until the next is dropped' },
  'shutdown-grace-ms': { key: 'shutdownGraceMs', min: 0, help: 'ms shutdown waits for clients before terminating them' },
  'handshake-timeout-ms': { key: 'handshakeTimeoutMs', min: 10, help: 'ms a client has to send its upgrade request' },
  'auth-timeout-ms': { key: 'authTimeoutMs', min: 10, help: 'ms a registered nick has to authenticate before auth_timeout' },
  'history-on-join': { key: 'historyOnJoin', min: 0, help: 'past events a joiner is sent before its join frame, 0 for none' },
  'recovery-limit': { key: 'recoveryLimit', min: 1, help: 'most events a client rejoining with since is sent' },
  'history-size': { key: 'historySize', min: 1, help: 'events kept per channel; older ones are deleted' },
  'history-days': { key: 'historyDays', min: 1, help: 'days an event is kept' },
};

export const usage = `Usage: npm start -- [options]

Options:
  --port N                    port to listen on (env PORT; default ${defaults.port}; 0 picks a free one)
  --host ADDR                 address to listen on (env HOST; default ${defaults.host})
  --allowed-origins A,B       browser origins allowed besides the server's own (default: none)
  --inspect[=local|stately]   local (the default): serve the live actor inspector at /inspector,
                              to loopback clients only; stately: feed the Stately inspector
                              through the @statelyai/inspect relay on http://localhost:8080
  --inspect-bodies            show chat message bodies in the inspector (redacted otherwise)
  --store sqlite|memory       where accounts live (default ${defaults.store}); memory loses them on exit
  --data-dir DIR              the SQLite store's directory (env DATA_DIR; default ${defaults.dataDir})
  --inspect-history N         events kept per actor for time travel and traces (default ${defaults.inspectHistory})
  --node-name NAME            this server's name in a cluster, shown by the inspector and
                              as the node label of every metric (default: none)
  --metrics-public            serve /metrics to any client (default: loopback clients only)
  --redis URL                 cluster mode: keep accounts, history, presence and nicks in this
                              Redis (env REDIS_URL), e.g. redis://127.0.0.1:6379/0; every
                              process given the same URL serves the same chat
${Object.entries(LIMIT_FLAGS)
  .map(([flag, { key, help }]) => `  ${`--${flag} N`.padEnd(26)}  ${help} (default ${DEFAULT_LIMITS[key]})`)
  .join('\n')}
  --help                      print this help and exit

Environment:
  LOG_LEVEL                   one of ${LOG_LEVELS.join(', ')} (default ${defaults.logLevel})
  DATA_DIR                    as --data-dir
  REDIS_URL                   as --redis
`;

function parseRedisUrl(value: string, source: string): string {
  let parsed: URL | undefined;
  try {
    parsed = new URL(value);
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') || parsed.hostname === '') {
    throw new ConfigError(`${source} takes a Redis URL such as redis://127.0.0.1:6379/0 (or rediss:// for TLS), not "${value}".`);
  }
  return value;
}

function parseWholeNumber(value: string, source: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const number = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(number) || number < min || number > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`;
    throw new ConfigError(`${source} must be a whole number ${range}, not "${value}".`);
  }
  return number;
}

/** Host names as DNS spells them (labels of letters, digits and inner hyphens), or IP addresses. */
const HOST_NAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i;

function parseHost(value: string, source: string): string {
  if (value.trim() === '') throw new ConfigError(`${source} must not be empty: give an address such as 127.0.0.1 or 0.0.0.0.`);
  if (isIP(value) === 0 && !HOST_NAME.test(value)) {
    throw new ConfigError(
      `${source} must be an IP address or a host name, such as 127.0.0.1, 0.0.0.0, ::1 or localhost, not "${value}".`,
    );
  }
  return value;
}

/**
 * `--max-payload -5` would make parseArgs take `-5` for an option of its own
 * and answer with a paragraph; as `--max-payload=-5` it reaches the number
 * check, whose one line says what to give instead.
 */
function attachNegativeValues(argv: string[], valueFlags: ReadonlySet<string>): string[] {
  const joined: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const next = argv[i + 1];
    if (valueFlags.has(arg) && next !== undefined && /^-\d/.test(next)) {
      joined.push(`${arg}=${next}`);
      i++;
    } else {
      joined.push(arg);
    }
  }
  return joined;
}

/** parseArgs' first sentence, without its full stop, since ours follows. */
function firstSentence(message: string): string {
  return (message.split('\n')[0] ?? message).replace(/\.+$/, '');
}

function parseInspect(value: string): InspectMode {
  if (!(INSPECT_MODES as readonly string[]).includes(value)) {
    throw new ConfigError(`--inspect must be --inspect, --inspect=local or --inspect=stately, not "--inspect=${value}".`);
  }
  return value as InspectMode;
}

function parseStore(value: string): StoreEngine {
  if (!(STORE_ENGINES as readonly string[]).includes(value)) {
    throw new ConfigError(`--store must be ${STORE_ENGINES.join(' or ')}, not "${value}".`);
  }
  return value as StoreEngine;
}

function parseNodeName(value: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(value)) {
    throw new ConfigError(`--node-name takes 1 to 63 letters, digits, ".", "_" or "-", starting with a letter or digit, not "${value}".`);
  }
  return value;
}

function parseLogLevel(value: string): LogLevel {
  if (!(LOG_LEVELS as readonly string[]).includes(value)) {
    throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, not "${value}".`);
  }
  return value as LogLevel;
}

function parseOrigins(value: string): string[] {
  const origins = value.split(',').map((origin) => origin.trim()).filter(Boolean);
  for (const origin of origins) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      parsed = undefined;
    }
    if (!parsed || parsed.origin !== origin) {
      throw new ConfigError(`--allowed-origins takes origins like https://chat.example.com (scheme, host, optional port), not "${origin}".`);
    }
  }
  return origins;
}

/** Resolves the configuration; throws {@link ConfigError} naming the first bad setting. */
export function loadConfig(argv: string[], env: Record<string, string | undefined>): Config & { help: boolean } {
  const options = {
    port: { type: 'string' },
    host: { type: 'string' },
    'allowed-origins': { type: 'string' },
    inspect: { type: 'string' },
    'inspect-bodies': { type: 'boolean' },
    store: { type: 'string' },
    'data-dir': { type: 'string' },
    'inspect-history': { type: 'string' },
    'node-name': { type: 'string' },
    'metrics-public': { type: 'boolean' },
    redis: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
    ...Object.fromEntries(Object.keys(LIMIT_FLAGS).map((flag) => [flag, { type: 'string' as const }])),
  } as const;
  const valueFlags = new Set(
    Object.entries(options)
      .filter(([, option]) => option.type === 'string')
      .map(([name]) => `--${name}`),
  );
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      // A bare --inspect means the built-in inspector; parseArgs needs the value spelled out.
      args: attachNegativeValues(argv, valueFlags).map((arg) => (arg === '--inspect' ? '--inspect=local' : arg)),
      strict: true,
      allowPositionals: false,
      options,
    }));
  } catch (error) {
    throw new ConfigError(`${firstSentence((error as Error).message)}. Run with --help to see the options.`);
  }

  const port = (values.port as string | undefined) ?? env.PORT;
  const hostValue = (values.host as string | undefined) ?? env.HOST;
  const host = hostValue === undefined ? undefined : parseHost(hostValue, values.host !== undefined ? '--host' : 'HOST');

  const limits: ServerLimits = { ...DEFAULT_LIMITS };
  for (const [flag, { key, min }] of Object.entries(LIMIT_FLAGS)) {
    const value = values[flag];
    if (typeof value === 'string') limits[key] = parseWholeNumber(value, `--${flag}`, min);
  }

  const inspect = typeof values.inspect === 'string' ? parseInspect(values.inspect) : undefined;
  const inspectBodies = values['inspect-bodies'] === true;
  if (inspectBodies && inspect === undefined) {
    throw new ConfigError('--inspect-bodies only makes sense with --inspect: add --inspect, or drop --inspect-bodies.');
  }
  const store = typeof values.store === 'string' ? parseStore(values.store) : defaults.store;
  const dataDir = (values['data-dir'] as string | undefined) ?? env.DATA_DIR ?? defaults.dataDir;
  if (dataDir.trim() === '') throw new ConfigError('--data-dir (or DATA_DIR) must not be empty.');
  if (store === 'memory' && typeof values['data-dir'] === 'string') {
    throw new ConfigError('--data-dir only makes sense with the sqlite store: drop --store memory, or drop --data-dir.');
  }
  const redisValue = (values.redis as string | undefined) ?? (env.REDIS_URL === '' ? undefined : env.REDIS_URL);
  const redis = redisValue === undefined ? null : parseRedisUrl(redisValue, values.redis !== undefined ? '--redis' : 'REDIS_URL');
  if (redis !== null && (typeof values.store === 'string' || typeof values['data-dir'] === 'string')) {
    throw new ConfigError('--redis keeps everything in Redis: drop --store and --data-dir, or drop --redis.');
  }
  const inspectHistory =
    typeof values['inspect-history'] === 'string'
      ? parseWholeNumber(values['inspect-history'], '--inspect-history', 1, MAX_INSPECT_HISTORY)
      : defaults.inspectHistory;
  if (values['inspect-history'] !== undefined && inspect !== 'local') {
    throw new ConfigError('--inspect-history sizes the built-in inspector\'s history: add --inspect, or drop --inspect-history.');
  }
  return {
    port: port === undefined ? defaults.port : parseWholeNumber(port, values.port !== undefined ? '--port' : 'PORT', 0, 65535),
    host: host ?? defaults.host,
    logLevel: env.LOG_LEVEL === undefined || env.LOG_LEVEL === '' ? defaults.logLevel : parseLogLevel(env.LOG_LEVEL),
    limits,
    allowedOrigins: typeof values['allowed-origins'] === 'string' ? parseOrigins(values['allowed-origins']) : [],
    inspect,
    inspectBodies,
    store,
    dataDir,
    inspectHistory,
    nodeName: typeof values['node-name'] === 'string' ? parseNodeName(values['node-name']) : null,
    metricsPublic: values['metrics-public'] === true,
    redis,
    help: values.help === true,
  };
}
