/**
 * @module config: the server's settings, from the command line and the
 * environment over embedded defaults. Every setting is validated up front,
 * and a bad one is refused with a message that names it and says what to give.
 */
import { parseArgs } from 'node:util';
import { LOG_LEVELS, type LogLevel } from './log.js';

export interface Config {
  port: number;
  host: string;
  logLevel: LogLevel;
}

export const defaults: Config = {
  port: 8667,
  host: '127.0.0.1',
  logLevel: 'info',
};

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export const usage = `Usage: npm start -- [options]

Options:
  --port N        port to listen on (env PORT; default ${defaults.port}; 0 picks a free one)
  --host ADDR     address to listen on (env HOST; default ${defaults.host})
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
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new ConfigError(`${(error as Error).message}. Run with --help to see the options.`);
  }

  const port = values.port ?? env.PORT;
  const host = values.host ?? env.HOST;
  if (host !== undefined && host.trim() === '') throw new ConfigError('--host (or HOST) must not be empty.');
  return {
    port: port === undefined ? defaults.port : parsePort(port, values.port !== undefined ? '--port' : 'PORT'),
    host: host ?? defaults.host,
    logLevel: env.LOG_LEVEL === undefined || env.LOG_LEVEL === '' ? defaults.logLevel : parseLogLevel(env.LOG_LEVEL),
    help: values.help ?? false,
  };
}
