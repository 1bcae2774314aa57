/**
 * @module local-cluster.test: `npm run cluster`'s script as a user runs it,
 * on ports of its own so it never meets one started by hand: a real
 * redis-server, two real nodes, one chat across them, and nothing left
 * running once it has been stopped.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { TestClient } from './support/client.js';
import { describeWithRedis } from './support/redis.js';

const SCRIPT = fileURLToPath(new URL('../dist/src/local-cluster.js', import.meta.url));

interface Run {
  child: ChildProcess;
  /** Every line of its standard output so far. */
  lines: string[];
  stderr: () => string;
}

const runs: Run[] = [];
/** Pids of the processes the script said it started: killed after each test, in case it left them. */
const started: number[] = [];

afterEach(() => {
  for (const { child } of runs.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const pid of started.splice(0)) {
    if (alive(pid)) process.kill(pid, 'SIGKILL');
  }
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function runScript(args: string[], env: Record<string, string> = {}): Run {
  const child = spawn(process.execPath, [SCRIPT, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  const run: Run = { child, lines: [], stderr: () => stderr };
  let stderr = '';
  let buffered = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const complete = buffered.split('\n');
    buffered = complete.pop()!;
    for (const line of complete) {
      run.lines.push(line);
      const pid = /\(pid (\d+)\)/.exec(line)?.[1];
      if (line.startsWith('cluster') && pid !== undefined) started.push(Number(pid));
    }
  });
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  runs.push(run);
  return run;
}

/** Resolves with the first line matching `pattern`; fails if the script exits first. */
async function lineMatching(run: Run, pattern: RegExp, timeoutMs = 20_000): Promise<RegExpExecArray> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 25))) {
    for (const line of run.lines) {
      const match = pattern.exec(line);
      if (match) return match;
    }
    if (run.child.exitCode !== null) break;
  }
  throw new Error(`no line matching ${pattern}; stdout:\n${run.lines.join('\n')}\nstderr:\n${run.stderr()}`);
}

async function exitOf(run: Run): Promise<number | null> {
  if (run.child.exitCode !== null) return run.child.exitCode;
  const [code] = (await once(run.child, 'exit')) as [number | null];
  return code;
}

describeWithRedis('npm run cluster', () => {
  it('starts Redis and two nodes serving one chat, and on SIGTERM drains both, then stops Redis, leaving nothing running', async () => {
    const redisDir = mkdtempSync(join(tmpdir(), 'xstate-chat-local-cluster-'));
    const run = runScript(['--ports', '0,0', '--redis-port', '0', '--redis-dir', redisDir]);
    const [, redisPid] = await lineMatching(run, /^cluster\| redis-server \(pid (\d+)\) on redis:\/\/127\.0\.0\.1:\d+/);
    const [, aPid, aUrl] = await lineMatching(run, /^cluster\| node a \(pid (\d+)\) on (http:\S+), inspector at \S+\/inspector$/);
    const [, bPid, bUrl] = await lineMatching(run, /^cluster\| node b \(pid (\d+)\) on (http:\S+), inspector at \S+\/inspector$/);
    await lineMatching(run, /^cluster\| ready: /);

    // Each node says who it is, in lines that say which node wrote them, and serves its inspector.
    expect(run.lines).toContainEqual(expect.stringMatching(/^a {6}\| \{.*"msg":"store: redis \(redis:\/\/127\.0\.0\.1:\d+\), cluster node a"/));
    expect(run.lines).toContainEqual(expect.stringMatching(/^b {6}\| \{.*"msg":"store: redis \(redis:\/\/127\.0\.0\.1:\d+\), cluster node b"/));
    expect((await fetch(`${bUrl!}/inspector`)).status).toBe(200);

    const bob = await TestClient.login(bUrl!, 'bob');
    const alice = await TestClient.login(aUrl!, 'alice');
    await bob.expect({ type: 2, user: 'alice' });

    run.child.kill('SIGTERM');
    expect((await Promise.all([alice.closed, bob.closed])).map((close) => close.code)).toEqual([1001, 1001]);
    expect(await exitOf(run)).toBe(0);
    expect(run.lines.at(-1)).toMatch(/^cluster\| stopped: both nodes drained, Redis saved its data in /);
    // The nodes drained before Redis went: each logged its last line, then Redis saved.
    const at = (pattern: RegExp) => run.lines.findIndex((line) => pattern.test(line));
    expect(at(/^a {6}\| .*"msg":"stopped"/)).toBeGreaterThan(-1);
    expect(at(/^b {6}\| .*"msg":"stopped"/)).toBeGreaterThan(-1);
    expect(at(/^redis {2}\| .*SIGTERM/)).toBeGreaterThan(Math.max(at(/^a {6}\| .*"msg":"stopped"/), at(/^b {6}\| .*"msg":"stopped"/)));
    expect(existsSync(join(redisDir, 'dump.rdb'))).toBe(true);
    for (const pid of [redisPid, aPid, bPid]) expect(alive(Number(pid)), `pid ${pid} still running`).toBe(false);
  }, 60_000);

  it('refuses a port in use with one line naming it and the flag to pass, starting nothing', async () => {
    const holder = createServer().listen(0, '127.0.0.1');
    await once(holder, 'listening');
    const { port } = holder.address() as { port: number };
    try {
      const run = runScript(['--ports', `0,${port}`, '--redis-port', '0', '--redis-dir', mkdtempSync(join(tmpdir(), 'xstate-chat-local-cluster-'))]);
      expect(await exitOf(run)).toBe(1);
      expect(run.stderr().trimEnd().split('\n')).toEqual([`Port ${port} is already in use, so node b cannot listen there (an earlier npm run cluster still running?): stop what holds it, or pass --ports.`]);
      expect(run.lines.filter((line) => line.startsWith('cluster'))).toEqual([]);
    } finally {
      holder.close();
    }
  });
});

describe('npm run cluster without redis-server', () => {
  it('says how to install it, in one line, and exits 1', async () => {
    const run = runScript(['--ports', '0,0', '--redis-port', '0'], { REDIS_SERVER: '/nonexistent/redis-server' });
    expect(await exitOf(run)).toBe(1);
    expect(run.stderr().trimEnd().split('\n')).toEqual([
      'There is no redis-server at /nonexistent/redis-server: install it with sudo apt-get install redis-server (Debian, Ubuntu), or set REDIS_SERVER to yours.',
    ]);
  });

  it.each([
    [['--ports', '8667'], '--ports must be two whole numbers from 0 to 65535, one per node, such as 8667,8668, not "8667".'],
    [['--ports', '8667,x'], '--ports must be two whole numbers from 0 to 65535, one per node, such as 8667,8668, not "8667,x".'],
    [['--ports', '8667,8667'], '--ports must be two different ports, one per node, not "8667,8667".'],
    [['--redis-port', '70000'], '--redis-port must be a whole number from 0 to 65535, not "70000".'],
    [['--colour'], "Unknown option '--colour'. Run with --help to see the options."],
  ])('refuses %j in one line with exit code 2', async (args, message) => {
    const run = runScript(args);
    expect(await exitOf(run)).toBe(2);
    expect(run.stderr().trimEnd().split('\n')).toEqual([message]);
  });
});
