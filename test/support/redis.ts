/**
 * @module redis: a real `redis-server` (Debian's, /usr/bin/redis-server) for
 * the cluster tests: one per test file, on a free loopback port, in a fresh
 * temporary directory, with persistence off. Tests can take it away and
 * bring it back (`stop()` then `start()`, or `restart()`), with its data, as
 * an operator's restart would; or crash it (`kill()`), losing what was not
 * saved.
 *
 * Without redis-server the tests that need it are skipped with a one-line
 * notice, except under CI=true, where that is a failure: `.ci/run` installs
 * it, so a missing one there means the install step broke.
 *
 *     describeWithRedis('the redis engine', () => {
 *       const redis = useRedis();
 *       it('…', async () => { const client = redis.client(); … });
 *     });
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis, type RedisOptions } from 'ioredis';
import { afterAll, beforeAll, describe } from 'vitest';
import { freePort } from './ports.js';

export const REDIS_SERVER = '/usr/bin/redis-server';
const INSTALL_HINT = 'install it with apt-get install redis-server';

export const redisInstalled = existsSync(REDIS_SERVER);
/** Run the Redis suites when redis-server is here, or under CI, where its absence must fail loudly. */
export const runRedisTests = redisInstalled || process.env.CI === 'true';

if (!runRedisTests) console.warn(`redis-server is not installed: skipping the cluster tests; ${INSTALL_HINT}.`);

/** `describe`, skipped when redis-server is missing outside CI. */
export const describeWithRedis = describe.runIf(runRedisTests);

/** How long a starting server may take to answer PING (loading a dump included). */
const READY_TIMEOUT_MS = 10_000;

export interface RedisServer {
  /** `redis://127.0.0.1:PORT`: the same across restarts. */
  readonly url: string;
  readonly port: number;
  /** Its working directory: where `dump.rdb` is written by `stop()`. */
  readonly dir: string;
  /** Whether a redis-server process is up (started and not yet stopped or killed). */
  readonly running: boolean;
  /** Starts it again on the same port and directory, loading the data `stop()` saved; resolves once it answers PING. */
  start(): Promise<void>;
  /** Saves the data and shuts down (`SHUTDOWN SAVE`): what an operator's restart does. */
  stop(): Promise<void>;
  /** SIGKILL, as a crash or a lost machine: whatever was not saved is gone. */
  kill(): Promise<void>;
  /** `stop()` then `start()`: the data is kept. */
  restart(): Promise<void>;
  /** An ioredis client on this server, disconnected when the server is disposed. */
  client(options?: RedisOptions): Redis;
  /** Stops the server for good (without saving) and removes its directory. */
  dispose(): Promise<void>;
}

/** Every server process this test process started, killed on exit even when a test or hook failed. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** Starts a redis-server for the calling code to dispose of; tests use {@link useRedis}, which does that itself. */
export async function startRedis(): Promise<RedisServer> {
  if (!redisInstalled) throw new Error(`CI=true needs redis-server at ${REDIS_SERVER}: ${INSTALL_HINT} (.ci/run does).`);
  const dir = mkdtempSync(join(tmpdir(), 'xstate-chat-redis-'));
  const clients: Redis[] = [];
  let child: ChildProcess | undefined;
  let port = 0;

  const launch = async (): Promise<void> => {
    const started = spawn(
      REDIS_SERVER,
      // No save points and no AOF: nothing is written unless stop() asks for it. DEBUG SLEEP lets fault tests make Redis slow.
      ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--dbfilename', 'dump.rdb', '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'warning', '--enable-debug-command', 'local'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    live.add(started);
    let output = '';
    started.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    started.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    started.once('exit', () => live.delete(started));
    child = started;
    const gone = () => started.exitCode !== null || started.signalCode !== null;
    try {
      await untilPong(port, gone);
    } catch (error) {
      if (!gone()) started.kill('SIGKILL');
      child = undefined;
      throw new Error(`${(error as Error).message}: ${output.trim() || 'no output'}`);
    }
  };

  const stopWith = async (how: 'save' | 'kill'): Promise<void> => {
    const current = child;
    if (!current || current.exitCode !== null || current.signalCode !== null) return;
    child = undefined;
    const exited = once(current, 'exit');
    if (how === 'kill') current.kill('SIGKILL');
    // SHUTDOWN SAVE writes dump.rdb even with no save points, with no write slipping in between save and exit.
    else {
      // Success closes the connection without a reply; an error reply (a failed save) means it is still up.
      const reply = await sendRaw(port, 'SHUTDOWN SAVE').catch((error: Error) => error.message);
      if (reply !== '') {
        current.kill('SIGKILL');
        await exited;
        throw new Error(`redis-server on port ${port} refused SHUTDOWN SAVE (${reply}): it was killed and its data is lost`);
      }
    }
    await exited;
  };

  // A free port from the kernel; another process may take it before redis binds it, so a failed start is tried again.
  for (let attempt = 1; ; attempt += 1) {
    port = await freePort();
    try {
      await launch();
      break;
    } catch (error) {
      if (attempt >= 3) throw error;
    }
  }

  const server: RedisServer = {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    get running() {
      return child !== undefined;
    },
    async start() {
      if (child) throw new Error('redis-server is already running: stop() or kill() it first');
      await launch();
    },
    stop: () => stopWith('save'),
    kill: () => stopWith('kill'),
    async restart() {
      await stopWith('save');
      await launch();
    },
    client(options = {}) {
      const client = new Redis(server.url, options);
      // A test that takes Redis away expects these; unhandled, ioredis prints each one.
      client.on('error', () => {});
      clients.push(client);
      return client;
    },
    async dispose() {
      for (const client of clients.splice(0)) client.disconnect();
      await stopWith('kill');
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return server;
}

/**
 * A redis-server for the calling describe block: started before its tests,
 * disposed of after them (even when one failed). Its properties are there
 * once the tests run, not while the block is being collected.
 */
export function useRedis(): RedisServer {
  let server: RedisServer | undefined;
  beforeAll(async () => {
    server = await startRedis();
  }, READY_TIMEOUT_MS * 3);
  afterAll(async () => {
    await server?.dispose();
    server = undefined;
  });
  const current = (): RedisServer => {
    if (!server) throw new Error('useRedis(): the server is started in beforeAll; use it inside a test or hook');
    return server;
  };
  return {
    get url() {
      return current().url;
    },
    get port() {
      return current().port;
    },
    get dir() {
      return current().dir;
    },
    get running() {
      return current().running;
    },
    start: () => current().start(),
    stop: () => current().stop(),
    kill: () => current().kill(),
    restart: () => current().restart(),
    client: (options) => current().client(options),
    dispose: () => current().dispose(),
  };
}

/** Sends one inline command on a fresh connection and resolves with the first reply line (or '' if the server closed the connection). */
function sendRaw(port: number, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    let reply = '';
    socket.setTimeout(2_000, () => socket.destroy(new Error(`no answer to ${command} within 2 s`)));
    socket.on('connect', () => socket.write(`${command}\r\n`));
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) {
        socket.end();
        resolve(reply.slice(0, reply.indexOf('\r\n')));
      }
    });
    socket.on('close', () => resolve(reply));
    socket.on('error', reject);
  });
}

/** Resolves once the server on `port` answers PING with PONG (listening, and done loading its dump); fails as soon as it is `gone()`. */
async function untilPong(port: number, gone: () => boolean): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const reply = await sendRaw(port, 'PING').catch(() => '');
    if (reply === '+PONG') return;
    if (gone()) throw new Error(`redis-server on port ${port} exited at start`);
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer PING within ${READY_TIMEOUT_MS} ms (last reply: ${reply || 'none'})`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
