/**
 * @module log: the server's structured logger (pino JSON lines).
 *
 * What is logged is metadata only: connection ids, nicks, close codes. Message
 * bodies never reach a log line.
 */
import { pino, type Logger } from 'pino';
import { LOG_QUEUE_BYTES } from '../machines/limits.js';
import { createLogDestination, type LogDestination } from './log-destination.js';

export type { Logger };

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * A logger on standard output that never blocks the server (see
 * `log-destination`), and its destination, which the CLI flushes before it
 * exits.
 */
export function createLogger(level: LogLevel): { logger: Logger; destination: LogDestination } {
  const destination = createLogDestination(1, LOG_QUEUE_BYTES);
  return { logger: pino({ level, base: { service: 'xstate-chat' } }, destination), destination };
}

/** A logger that writes nothing, for tests and embedding. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
