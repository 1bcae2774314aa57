/**
 * @module redis: a real `redis-server` for the cluster scenario (Debian's,
 * /usr/bin/redis-server): a free loopback port, a temporary directory, no
 * persistence; and what the coordinator reads from it: its CPU time, and the
 * calls of every command from `INFO commandstats`.
 *
 * `INFO` goes over a socket of its own, in the inline protocol, so reading the
 * counters adds one `info` call and nothing else (a Redis client library
 * would add its ready check and its `CLIENT SETNAME`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SERVER_START_TIMEOUT_MS } from './limits.js';
import { cpuSecondsOf, freePort, HOST, killOnExit, stopChild } from './servers.js';

export const REDIS_SERVER = '/usr/bin/redis-server';

export interface RunningRedis {
  url: string;
  pid: number;
  cpuSeconds(): number;
  /** Calls per command since Redis started, lower-case names (`evalsha`, `xadd`, …), commands run by scripts included. */
  commandCalls(): Promise<Record<string, number>>;
  stop(): Promise<void>;
}

export async function startRedis(): Promise<RunningRedis> {
  if (!existsSync(REDIS_SERVER)) throw new Error(`the cluster scenario needs ${REDIS_SERVER}: apt-get install redis-server`);
  const dir = mkdtempSync(join(tmpdir(), 'xstate-chat-bench-redis-'));
  // Another process may take the free port before Redis binds it: a failed start is tried again.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const child = killOnExit(spawn(REDIS_SERVER, ['--port', String(port), '--bind', HOST, '--dir', dir, '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'warning'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    }));
    let output = '';
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      await untilAnswering(port, child);
    } catch (error) {
      await stopChild(child, false);
      if (attempt < 3) continue;
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`${(error as Error).message}: ${output.trim() || 'no output'}`);
    }
    const pid = child.pid!;
    return {
      url: `redis://${HOST}:${port}`,
      pid,
      cpuSeconds: () => cpuSecondsOf(pid),
      commandCalls: async () => parseCommandStats(await info(port, 'commandstats')),
      stop: async () => {
        await stopChild(child, false);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
}

async function untilAnswering(port: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + SERVER_START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with code ${child.exitCode}`);
    if (await info(port, 'server').then(() => true, () => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`redis-server did not answer on port ${port} within ${SERVER_START_TIMEOUT_MS} ms`);
}

/** `INFO section` on a fresh connection: the bulk string it answers. */
function info(port: number, section: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ port, host: HOST });
    let reply = Buffer.alloc(0);
    socket.setTimeout(5_000, () => socket.destroy(new Error(`no answer to INFO within 5 s`)));
    socket.on('connect', () => socket.write(`INFO ${section}\r\n`));
    socket.on('data', (chunk: Buffer) => {
      reply = Buffer.concat([reply, chunk]);
      const header = reply.indexOf('\r\n');
      if (header < 0) return;
      if (reply[0] !== 0x24 /* $ */) return socket.destroy(new Error(`INFO answered ${reply.toString('latin1', 0, header)}`));
      const length = Number(reply.toString('latin1', 1, header));
      if (reply.length < header + 2 + length) return;
      resolve(reply.toString('utf8', header + 2, header + 2 + length));
      socket.end();
    });
    socket.on('error', reject);
  });
}

/** `cmdstat_xadd:calls=12,usec=…` lines to `{ xadd: 12 }`; subcommands keep their `|` (`config|resetstat`). */
export function parseCommandStats(text: string): Record<string, number> {
  const calls: Record<string, number> = {};
  for (const match of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls[match[1]!] = Number(match[2]);
  return calls;
}

/** What was called between two readings, leaving out the `info` calls that took them. */
export function callsBetween(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const delta: Record<string, number> = {};
  for (const [command, calls] of Object.entries(after)) {
    if (command === 'info') continue;
    const n = calls - (before[command] ?? 0);
    if (n > 0) delta[command] = n;
  }
  return delta;
}
