#!/usr/bin/env node
/**
 * @module local-cluster: `npm run cluster`: a Redis and two chat nodes on
 * this machine, for trying cluster mode by hand. Each line of output starts
 * with the name of the process that wrote it; Ctrl-C (or SIGTERM) drains
 * both nodes, then stops Redis, which saves its data in its directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { relative, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writeStderr } from './stderr.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = fileURLToPath(new URL('./cli.js', import.meta.url));
const DEFAULT_REDIS_SERVER = '/usr/bin/redis-server';
/** Not 6379: installing Debian's redis-server may already run one there, whose data is not ours. */
const DEFAULT_REDIS_PORT = 6390;
const DEFAULT_PORTS = [8667, 8668] as const;
const DEFAULT_REDIS_DIR = 'data/cluster-redis';
const NODE_NAMES = ['a', 'b'] as const;
/** How long a process may take to say it is ready. */
const START_TIMEOUT_MS = 15_000;
/** A second signal within this long of the first is the same Ctrl-C: npm passes on what the terminal sent us already. */
const REPEAT_SIGNAL_MS = 1_000;

const USAGE = `Usage: npm run cluster [-- options]

Starts a Redis and two chat nodes on it, for trying cluster mode by hand:
  node a   http://127.0.0.1:${DEFAULT_PORTS[0]}  (inspector at /inspector)
  node b   http://127.0.0.1:${DEFAULT_PORTS[1]}  (inspector at /inspector)
  Redis    redis://127.0.0.1:${DEFAULT_REDIS_PORT}, data saved in ./${DEFAULT_REDIS_DIR} on exit
Every line of output starts with the process that wrote it. Ctrl-C (or
SIGTERM) drains both nodes, then stops Redis; a second Ctrl-C stops them at once.

Options:
  --ports A,B        the nodes' ports (default ${DEFAULT_PORTS.join(',')}; 0 picks a free one)
  --redis-port N     Redis's port (default ${DEFAULT_REDIS_PORT}, not 6379, where a system Redis
                     may run; 0 picks a free one)
  --redis-dir DIR    Redis's directory, where it keeps dump.rdb (default ./${DEFAULT_REDIS_DIR})
  --help             print this help and exit

Environment:
  REDIS_SERVER       the redis-server to run (default ${DEFAULT_REDIS_SERVER})
`;

class StartError extends Error {}

interface Settings {
  ports: number[];
  redisPort: number;
  redisDir: string;
  redisServer: string;
}

/** A port from 0 to 65535, or undefined. */
function portOf(value: string): number | undefined {
  const port = Number(value);
  return /^\d+$/.test(value) && port <= 65535 ? port : undefined;
}

function settingsFrom(argv: string[], env: NodeJS.ProcessEnv): Settings | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { ports: { type: 'string' }, 'redis-port': { type: 'string' }, 'redis-dir': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (error) {
    throw new StartError(`${(error as Error).message.split('\n')[0]!.replace(/\.$/, '')}. Run with --help to see the options.`);
  }
  if (values.help) return 'help';
  const ports = values.ports === undefined ? [...DEFAULT_PORTS] : values.ports.split(',').map((port) => portOf(port.trim()));
  if (ports.length !== NODE_NAMES.length || ports.some((port) => port === undefined)) {
    throw new StartError(`--ports must be two whole numbers from 0 to 65535, one per node, such as ${DEFAULT_PORTS.join(',')}, not "${values.ports}".`);
  }
  if (ports[0] !== 0 && ports[0] === ports[1]) throw new StartError(`--ports must be two different ports, one per node, not "${values.ports}".`);
  const redisPort = values['redis-port'] === undefined ? DEFAULT_REDIS_PORT : portOf(values['redis-port']);
  if (redisPort === undefined) throw new StartError(`--redis-port must be a whole number from 0 to 65535, not "${values['redis-port']}".`);
  return {
    ports: ports as number[],
    redisPort,
    redisDir: resolve(values['redis-dir'] ?? resolve(ROOT, DEFAULT_REDIS_DIR)),
    redisServer: env.REDIS_SERVER || DEFAULT_REDIS_SERVER,
  };
}

/** Checks that `port` is free on loopback (0: finds a free one); resolves with the port. */
async function freeLoopbackPort(port: number, whose: string, flag: string): Promise<number> {
  const probe = createServer();
  probe.listen(port, '127.0.0.1');
  try {
    await once(probe, 'listening');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    throw new StartError(`Port ${port} is already in use, so ${whose} cannot listen there (an earlier npm run cluster still running?): stop what holds it, or pass ${flag}.`);
  }
  const { port: found } = probe.address() as { port: number };
  probe.close();
  await once(probe, 'close');
  return found;
}

const colours = process.stdout.isTTY ? { a: 36, b: 35, redis: 31, cluster: 1 } : undefined;

/** `name | ` in the name's colour on a terminal, plain otherwise; names padded so the lines line up. */
function prefixFor(name: keyof NonNullable<typeof colours>): string {
  const label = `${name.padEnd(7)}| `;
  return colours ? `\x1b[${colours[name]}m${label}\x1b[0m` : label;
}

function say(line: string): void {
  process.stdout.write(`${prefixFor('cluster')}${line}\n`);
}

/**
 * Copies each line `child` writes to our own output, prefixed with `name`,
 * and hands it to `watch`. Redis's warning about the kernel's memory
 * overcommit is left out: it concerns a production host's sysctl, not a try on this one.
 */
function relay(child: ChildProcess, name: 'a' | 'b' | 'redis', watch: (line: string) => void): void {
  const prefix = prefixFor(name);
  for (const [stream, out] of [[child.stdout!, process.stdout], [child.stderr!, process.stderr]] as const) {
    createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => {
      watch(line);
      if (name === 'redis' && line.includes('Memory overcommit must be enabled')) return;
      out.write(`${prefix}${line}\n`);
    });
  }
}

/** Resolves with what `ready` makes of the first line it accepts; fails if the process exits first, or takes too long. */
function readyLine<T>(child: ChildProcess, what: string, lines: (watch: (line: string) => void) => void, ready: (line: string) => T | undefined): Promise<T> {
  return new Promise<T>((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new StartError(`${what} did not start within ${START_TIMEOUT_MS / 1000} s.`)), START_TIMEOUT_MS);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new StartError(`${what} exited (${signal ?? `code ${code}`}) before it was ready; its last lines are above.`));
    });
    lines((line) => {
      const value = ready(line);
      if (value === undefined) return;
      clearTimeout(timer);
      resolvePromise(value);
    });
  });
}

/** The URL in a node's `listening on` log line. */
function listeningUrl(line: string): string | undefined {
  try {
    const entry = JSON.parse(line) as { msg?: unknown; url?: unknown };
    return typeof entry.url === 'string' && String(entry.msg).startsWith('listening on') ? entry.url : undefined;
  } catch {
    return undefined;
  }
}

const running = (child: ChildProcess) => child.exitCode === null && child.signalCode === null;

async function main(): Promise<number> {
  let settings;
  try {
    settings = settingsFrom(process.argv.slice(2), process.env);
  } catch (error) {
    if (!(error instanceof StartError)) throw error;
    writeStderr(error.message);
    return 2;
  }
  if (settings === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  const { redisServer, redisDir } = settings;
  if (!existsSync(redisServer)) {
    writeStderr(`There is no redis-server at ${redisServer}: install it with sudo apt-get install redis-server (Debian, Ubuntu), or set REDIS_SERVER to yours.`);
    return 1;
  }

  const nodes: ChildProcess[] = [];
  let redis: ChildProcess | undefined;
  // Started in process groups of their own, so a Ctrl-C reaches them only through us, in order. Never left behind:
  process.once('exit', () => {
    for (const child of [...nodes, redis]) if (child && running(child)) child.kill('SIGKILL');
  });

  let stopping: Promise<number> | undefined;
  let settle!: (code: number) => void;
  /** Resolves with the exit code once everything has stopped, whatever stopped it. */
  const stopped = new Promise<number>((resolvePromise) => (settle = resolvePromise));
  let firstSignalAt = 0;
  /** Drains the nodes, then stops Redis; resolves with the exit code. */
  const stop = (reason: string, code: number): Promise<number> =>
    (stopping ??= (async (): Promise<number> => {
      if (![...nodes, redis].some((child) => child && running(child))) return code;
      say(`${reason}: draining the nodes, then stopping Redis.`);
      const exits = await Promise.all(nodes.map(async (node, index) => {
        if (running(node)) {
          node.kill('SIGTERM');
          await once(node, 'exit');
        }
        return { name: NODE_NAMES[index]!, code: node.exitCode, signal: node.signalCode };
      }));
      if (redis && running(redis)) {
        redis.kill('SIGTERM');
        await once(redis, 'exit');
      }
      const failed = exits.filter((exit) => exit.code !== 0);
      if (failed.length > 0) {
        say(`stopped; ${failed.map((exit) => `node ${exit.name} exited with ${exit.signal ?? `code ${exit.code}`}`).join(', ')}.`);
        return 1;
      }
      say(redis ? `stopped: both nodes drained, Redis saved its data in ${shown(redisDir)}.` : 'stopped.');
      return code;
    })().then((exitCode) => {
      settle(exitCode);
      return exitCode;
    }));

  const onSignal = (signal: NodeJS.Signals) => {
    const now = Date.now();
    if (firstSignalAt === 0) {
      firstSignalAt = now;
      void stop(signal, 0);
    } else if (now - firstSignalAt > REPEAT_SIGNAL_MS) {
      say(`${signal} again: stopping everything at once.`);
      for (const child of [...nodes, redis]) if (child && running(child)) child.kill('SIGKILL');
    }
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onSignal);

  try {
    const redisPort = await freeLoopbackPort(settings.redisPort, 'Redis', '--redis-port');
    const ports: number[] = [];
    for (const [index, port] of settings.ports.entries()) {
      ports.push(port === 0 ? 0 : await freeLoopbackPort(port, `node ${NODE_NAMES[index]}`, '--ports'));
    }
    mkdirSync(redisDir, { recursive: true });
    // An RDB in its directory, saved on exit (and every minute with changes): accounts survive a restart, as with npm start.
    redis = spawn(
      redisServer,
      ['--port', String(redisPort), '--bind', '127.0.0.1', '--dir', redisDir, '--dbfilename', 'dump.rdb', '--save', '60 1', '--appendonly', 'no', '--daemonize', 'no'],
      { detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const redisProcess = redis;
    await readyLine(redisProcess, 'redis-server', (watch) => relay(redisProcess, 'redis', watch), (line) => (/Ready to accept connections/.test(line) ? true : undefined));
    const redisUrl = `redis://127.0.0.1:${redisPort}`;
    say(`redis-server (pid ${redisProcess.pid}) on ${redisUrl}, data in ${shown(redisDir)}`);
    if (stopping) return await stopping;

    const urls = await Promise.all(
      NODE_NAMES.map((name, index) => {
        const node = spawn(process.execPath, [CLI, '--port', String(ports[index]), '--redis', redisUrl, '--node-name', name, '--inspect'], {
          detached: true,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        nodes.push(node);
        return readyLine(node, `node ${name}`, (watch) => relay(node, name, watch), listeningUrl).then((url) => {
          say(`node ${name} (pid ${node.pid}) on ${url}, inspector at ${url}/inspector`);
          return url;
        });
      }),
    );
    if (stopping) return await stopping;
    say(`ready: open ${urls[0]}/ and ${urls[1]}/ side by side; Ctrl-C stops both nodes, then Redis.`);
    const ended = (who: string) => (code: number | null, signal: NodeJS.Signals | null) => void stop(`${who} exited on its own (${signal ?? `code ${code}`})`, 1);
    for (const [index, node] of nodes.entries()) node.once('exit', ended(`node ${NODE_NAMES[index]}`));
    redisProcess.once('exit', ended('redis-server'));
  } catch (error) {
    // A signal during the start ends what was starting: that is no error to report.
    if (stopping) return await stopping;
    if (!(error instanceof StartError)) throw error;
    writeStderr(error.message);
    return await stop('could not start', 1);
  }
  // Until a signal, or a process that ends on its own, stops the rest.
  return await stopped;
}

/** A directory as the user would type it: relative to where they are, when it is below it. */
function shown(dir: string): string {
  const path = relative(process.cwd(), dir);
  return path && !path.startsWith('..') ? `./${path}` : dir;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    writeStderr(`${(error as Error).stack ?? error}`);
    process.exit(1);
  },
);
