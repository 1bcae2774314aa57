/**
 * @module config: the server's settings, from the command line and the
 * environment over embedded defaults. Every setting is validated up front,
 * and a bad one is refused with a message that names it and says what to give.
 */
import { parseArgs } from 'node:util';
import { LOG_LEVELS, type LogLevel } from './log.js';

export const INSPECT_MODES = ['local', 'stately'] as const;
export type InspectMode = (typeof INSPECT_MODES)[number];

export interface Config {
  port: number;
  host: string;
  logLevel: LogLevel;
  /** Off when undefined: the inspector shows every session's state. */
  inspect: InspectMode | undefined;
  inspectBodies: boolean;
}

export const defaults: Config = {
  port: 8667,
  host: '127.0.0.1',
  logLevel: 'info',
  inspect: undefined,
  inspectBodies: false,
};

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export const usage = `Usage: npm start -- [options]

Options:
  --port N        port to listen on (env PORT; default ${defaults.port}; 0 picks a free one)
  --host ADDR     address to listen on (env HOST; default ${defaults.host})
  --inspect[=local|stately]
                  local (the default): serve the live actor inspector at /inspector,
                  to loopback clients only; stately: feed the Stately inspector
                  through the @statelyai/inspect relay on http://localhost:8080
  --inspect-bodies
                  show chat message bodies in the inspector (redacted otherwise)
  --help          print this help and exit

Environment:
  LOG_LEVEL       one of ${LOG_LEVELS.join(', ')} (default ${defaults.logLevel})
`;

function parsePort(value: string, source: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || !Number.isInteger(port) || port > 65535) {
    throw new ConfigError(`${source} must be a whole number from 0 to 65535, not "${value}".`);
  }
  return port;
}

function parseInspect(value: string): InspectMode {
  if (!(INSPECT_MODES as readonly string[]).includes(value)) {
    throw new ConfigError(`--inspect must be --inspect, --inspect=local or --inspect=stately, not "--inspect=${value}".`);
  }
  return value as InspectMode;
}

function parseLogLevel(value: string): LogLevel {
  if (!(LOG_LEVELS as readonly string[]).includes(value)) {
    throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, not "${value}".`);
  }
  return value as LogLevel;
}

/** Resolves the configuration; throws {@link ConfigError} naming the first bad setting. */
export function loadConfig(argv: string[], env: Record<string, string | undefined>): Config & { help: boolean } {
  let values;
  try {
    ({ values } = parseArgs({
      // A bare --inspect means the built-in inspector; parseArgs needs the value spelled out.
      args: argv.map((arg) => (arg === '--inspect' ? '--inspect=local' : arg)),
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        inspect: { type: 'string' },
        'inspect-bodies': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new ConfigError(`${(error as Error).message}. Run with --help to see the options.`);
  }

  const port = values.port ?? env.PORT;
  const host = values.host ?? env.HOST;
  if (host !== undefined && host.trim() === '') throw new ConfigError('--host (or HOST) must not be empty.');
  const inspect = values.inspect === undefined ? undefined : parseInspect(values.inspect);
  const inspectBodies = values['inspect-bodies'] ?? false;
  if (inspectBodies && inspect === undefined) {
    throw new ConfigError('--inspect-bodies only makes sense with --inspect: add --inspect, or drop --inspect-bodies.');
  }
  return {
    port: port === undefined ? defaults.port : parsePort(port, values.port !== undefined ? '--port' : 'PORT'),
    host: host ?? defaults.host,
    logLevel: env.LOG_LEVEL === undefined || env.LOG_LEVEL === '' ? defaults.logLevel : parseLogLevel(env.LOG_LEVEL),
    inspect,
    inspectBodies,
    help: values.help ?? false,
  };
}
