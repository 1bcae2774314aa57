/**
 * @module cli.test: `npm start`'s program as a user runs it: a real process, real signals.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { request } from 'node:http';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { expectAuthRequired, PASSWORD, register, signIn } from './support/auth.js';
import { WebSocket } from 'ws';
import { CLI, freshDataDir, lineWhere, useCli } from './support/cli-process.js';
import { TestClient } from './support/client.js';
import { describeWithRedis, useRedis } from './support/redis.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
// A REDIS_URL in the environment of whoever runs the tests would put every server below in cluster mode; the tests that want one give it.
delete process.env.REDIS_URL;
const children: ChildProcess[] = [];
/** Process groups started by tests: killed whole, so a server left behind by its npm parent dies too. */
const groups: number[] = [];

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  for (const group of groups.splice(0)) {
    try {
      process.kill(-group, 'SIGKILL');
    } catch {
      // Already gone, as it should be.
    }
  }
});

/** Resolves with the first log line's URL, skipping what is not a JSON line (npm's own banner). */
function urlFrom(child: ChildProcess): Promise<string> {
  let buffered = '';
  return new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const match = /"url":"(http:[^"]+)"/.exec(buffered);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code} before listening`)));
  });
}

const startCli = useCli();
/** Runs the compiled CLI on a fresh data directory and resolves with the URL it prints once listening. */
const run = (args: string[], env: Record<string, string> = {}) => startCli(args, { env });

/** A non-loopback IPv4 address of this machine, to be a client that is not on loopback; undefined if it has none. */
function externalAddress(): string | undefined {
  return Object.values(networkInterfaces())
    .flat()
    .find((entry) => entry?.family === 'IPv4' && !entry.internal)?.address;
}

async function exitOf(child: ChildProcess): Promise<{ code: number | null; stderr: string; stdout: string }> {
  let stderr = '';
  let stdout = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stderr, stdout };
}

describe('the command line', () => {
  it('listens where --port and --host say and prints the URL as a log line', async () => {
    const { url, lines } = await run(['--port', '0', '--host', '127.0.0.1']);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(lines.find((line) => line.url !== undefined)).toMatchObject({ level: 30, msg: `listening on ${url}` });
    const response = await fetch(`${url}/healthz`);
    expect(await response.json()).toEqual({ status: 'ok', sessions: 0, channels: 0 });
  });

  it('keeps accounts in the data directory across restarts, and says where', async () => {
    const dataDir = join(freshDataDir(), 'data');
    const first = await run(['--port', '0'], { DATA_DIR: dataDir });
    expect(first.lines.find((line) => line.store !== undefined)).toMatchObject({ store: 'sqlite', location: join(dataDir, 'chat.db') });
    expect(first.lines.some((line) => /migrated to version 1/.test(String(line.msg)))).toBe(true);
    const alice = await TestClient.login(first.url, 'alice');
    await register(alice, 'alice');
    first.child.kill('SIGTERM');
    await once(first.child, 'exit');

    const second = await run(['--port', '0'], { DATA_DIR: dataDir });
    expect(second.lines.some((line) => /migrated/.test(String(line.msg)))).toBe(false);
    const again = await TestClient.connect(second.url, 'alice');
    await expectAuthRequired(again);
    await signIn(again, 'alice', { password: PASSWORD });
    again.terminate();
  });

  it('says at start that --store memory keeps nothing', async () => {
    const { lines } = await run(['--port', '0', '--store', 'memory']);
    expect(lines.find((line) => line.store !== undefined)?.msg).toMatch(/^store: memory \(in memory: everything is lost when the process stops\)$/);
  });

  it('refuses a data directory written by a newer version, with one line naming the file, and exit code 1', async () => {
    const dataDir = freshDataDir();
    const db = new Database(join(dataDir, 'chat.db'));
    db.pragma('user_version = 999');
    db.close();
    const child = spawn(process.execPath, [CLI, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DATA_DIR: dataDir } });
    children.push(child);
    const { code, stderr } = await exitOf(child);
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toEqual([expect.stringMatching(new RegExp(`${join(dataDir, 'chat.db')} was written by a newer xstate-chat`))]);
  });

  it('takes the port from PORT when no flag is given', async () => {
    const { url } = await run([], { PORT: '0', HOST: '127.0.0.1' });
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it.each(['SIGTERM', 'SIGINT'] as const)('on %s closes every socket with 1001 and exits 0', async (signal) => {
    const { child, url } = await run(['--port', '0']);
    const clients = [await TestClient.login(url, 'alice'), await TestClient.login(url, 'bob')];
    child.kill(signal);
    const closes = await Promise.all(clients.map((client) => client.closed));
    expect(closes.map((close) => close.code)).toEqual([1001, 1001]);
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
  });

  it('logs connections opened and closed with nick and close code, and never a message body or password', async () => {
    const { child, url, lines } = await run(['--port', '0'], { LOG_LEVEL: 'info' });
    const alice = await TestClient.login(url, 'alice');
    alice.send({ type: 4, channel: 'x' });
    await alice.next();
    alice.send({ type: 0, dest: 'x', message: 'a secret body' });
    await alice.next();
    const impostor = await TestClient.connect(url, 'ALICE');
    await impostor.closed;
    await register(alice, 'alice', 'a secret password');
    alice.send({ type: 3 });
    await alice.closed;
    child.kill('SIGTERM');
    await once(child, 'exit');
    expect(lines).toContainEqual(expect.objectContaining({ msg: 'connection opened', nick: 'alice' }));
    expect(lines).toContainEqual(expect.objectContaining({ msg: 'connection closed', nick: 'alice', code: 1000 }));
    expect(lines).toContainEqual(expect.objectContaining({ level: 40, msg: 'login refused', nick: 'ALICE', errorCode: 'nick_taken' }));
    expect(JSON.stringify(lines)).not.toContain('a secret body');
    expect(JSON.stringify(lines)).not.toContain('a secret password');
    // info is the default: the debug lines below stay out.
    expect(lines.some((line) => line.level === 20)).toBe(false);
  });

  it('names the code of a refused login: nick_taken, invalid_nick', async () => {
    const { url, lines } = await run(['--port', '0']);
    const alice = await TestClient.login(url, 'alice');
    await (await TestClient.connect(url, 'Alice')).closed;
    await (await TestClient.connect(url, 'no spaces')).closed;
    await alice.expectQuiet();
    expect(lines).toContainEqual(expect.objectContaining({ level: 40, msg: 'login refused', nick: 'Alice', errorCode: 'nick_taken' }));
    expect(lines).toContainEqual(expect.objectContaining({ level: 40, msg: 'login refused', nick: 'no spaces', errorCode: 'invalid_nick' }));
  });

  it('at LOG_LEVEL=debug logs joins, leaves and refused frames by code, never bodies, and a last line once stopped', async () => {
    const { child, url, lines } = await run(['--port', '0'], { LOG_LEVEL: 'debug' });
    const alice = await TestClient.login(url, 'alice');
    const bob = await TestClient.login(url, 'bob');
    await alice.next();
    alice.send({ type: 4, channel: 'Django' });
    await alice.expect({ type: 4, channel: '#django', user: 'alice' });
    bob.send({ type: 4, channel: '#django' });
    // History on join is on, as shipped: Bob hears Alice's join again, as history, which is no new join to log.
    await bob.expect({ type: 4, channel: '#django', user: 'alice', history: true });
    await bob.expect({ type: 4, channel: '#django', user: 'bob' });
    await alice.expect({ type: 4, channel: '#django', user: 'bob' });
    alice.send({ type: 0, dest: '#django', message: 'a secret body' });
    await alice.next();
    alice.send({ type: 0, dest: '#flask', message: 'another secret', id: 7 });
    await alice.expectError('not_member', 7);
    alice.send({ type: 5, channel: '#django' });
    await alice.expect({ type: 5, channel: '#django', user: 'alice' });
    await bob.terminate();
    await alice.until((frame) => frame.type === 3);
    child.kill('SIGTERM');
    await once(child, 'exit');

    const debug = lines.filter((line) => line.level === 20);
    expect(debug).toContainEqual(expect.objectContaining({ msg: 'joined channel', nick: 'alice', channel: '#django' }));
    expect(debug).toContainEqual(expect.objectContaining({ msg: 'joined channel', nick: 'bob', channel: '#django' }));
    expect(debug).toContainEqual(expect.objectContaining({ msg: 'frame refused', nick: 'alice', errorCode: 'not_member', requestId: 7 }));
    expect(debug).toContainEqual(expect.objectContaining({ msg: 'left channel', nick: 'alice', channel: '#django' }));
    expect(debug).toContainEqual(expect.objectContaining({ msg: 'left channel on disconnect', nick: 'bob', channel: '#django' }));
    // One line per join, though every member is sent the join frame.
    expect(debug.filter((line) => line.msg === 'joined channel' && line.nick === 'bob')).toHaveLength(1);
    const text = JSON.stringify(lines);
    expect(text).not.toContain('secret');
    expect(text).not.toContain('not a member');
    expect(lines.at(-1)).toMatchObject({ level: 30, msg: 'stopped', signal: 'SIGTERM' });
  });

  it.each([
    [['--port', 'eighty'], '--port must be a whole number from 0 to 65535, not "eighty".'],
    [['--port', '70000'], '--port must be a whole number from 0 to 65535'],
    [['--colour'], "Unknown option '--colour'"],
    [['--inspect=sky'], '--inspect must be --inspect, --inspect=local or --inspect=stately, not "--inspect=sky".'],
    [['--inspect-bodies'], '--inspect-bodies only makes sense with --inspect'],
    [['--store', 'redis'], '--store must be sqlite or memory, not "redis".'],
    [['--store', 'memory', '--data-dir', '/tmp/x'], '--data-dir only makes sense with the sqlite store'],
    [['--auth-timeout-ms', '5'], '--auth-timeout-ms must be a whole number'],
    [['--max-payload', '-5'], '--max-payload must be a whole number of at least 1, not "-5".'],
    [['--rate-limit', '-1'], '--rate-limit must be a whole number of at least 0, not "-1".'],
    [['--port'], "Option '--port <value>' argument missing. Run with --help to see the options."],
    [['--host', 'http://example.com'], '--host must be an IP address or a host name'],
    [['--host', ''], '--host must not be empty'],
    [['--inspect', '--inspect-history', '0'], '--inspect-history must be a whole number from 1 to 10000, not "0".'],
    [['--inspect-history', '50'], "--inspect-history sizes the built-in inspector's history: add --inspect"],
    [['--node-name', 'eu west'], '--node-name takes 1 to 63 letters, digits, ".", "_" or "-", starting with a letter or digit, not "eu west".'],
    [['--metrics-public=yes'], "Option '--metrics-public' does not take an argument. Run with --help to see the options."],
    [['--redis', 'localhost:6379'], '--redis takes a Redis URL such as redis://127.0.0.1:6379/0 (or rediss:// for TLS), not "localhost:6379".'],
    [['--redis', 'http://127.0.0.1:6379'], '--redis takes a Redis URL such as redis://127.0.0.1:6379/0'],
    [['--redis', 'redis://127.0.0.1:6379', '--store', 'memory'], '--redis keeps everything in Redis: drop --store and --data-dir, or drop --redis.'],
    [['--redis', 'redis://127.0.0.1:6379', '--data-dir', '/tmp/x'], '--redis keeps everything in Redis: drop --store and --data-dir, or drop --redis.'],
    [['--store', 'sqlite', '--redis', 'redis://127.0.0.1:6379'], '--redis keeps everything in Redis: drop --store and --data-dir, or drop --redis.'],
  ])('refuses %j with one line naming the problem and exit code 2', async (args, message) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    const { code, stderr } = await exitOf(child);
    expect(code).toBe(2);
    expect(stderr).toContain(message);
    expect(stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(stderr).not.toContain('..');
  });

  it.each([
    ['nosuch.invalid', 'Cannot listen on "nosuch.invalid": no such host name.'],
    // TEST-NET-1 (RFC 5737): reserved for documentation, so never an address of this machine.
    ['192.0.2.1', 'Cannot listen on 192.0.2.1: it is not an address of this machine.'],
  ])('explains a --host it cannot listen on (%s) in one line, without a stack trace', async (host, message) => {
    const child = spawn(process.execPath, [CLI, '--host', host, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DATA_DIR: freshDataDir() } });
    children.push(child);
    const { code, stderr } = await exitOf(child);
    expect(code).toBe(1);
    expect(stderr).toContain(message);
    expect(stderr).toContain('Pass --host with an address of this machine');
    expect(stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  it('with --inspect, logs where the inspector is and serves it', async () => {
    const { url, lines } = await run(['--port', '0', '--inspect']);
    // The inspector line follows the listening line that `run` resolves on.
    expect(await lineWhere(lines, (line) => 'inspector' in line)).toMatchObject({ inspector: `${url}/inspector`, bodies: false });
    const page = await fetch(`${url}/inspector`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<script type="module" src="/inspector/inspector.js">');
  });

  it('names its node in the log and in the inspector, and keeps the history size it is given', async () => {
    const { url, lines } = await run(['--port', '0', '--inspect', '--inspect-history', '3', '--node-name', 'eu-1']);
    // The store's lines come first now; the node is named where the server says it listens.
    expect(lines.find((line) => line.url !== undefined)).toMatchObject({ node: 'eu-1', url, msg: `listening on ${url}` });
    const alice = await TestClient.login(url, 'alice');
    alice.send({ type: 6 });
    await alice.next();
    const history = (await (await fetch(`${url}/inspector/history/session:1`)).json()) as { capacity: number; entries: unknown[] };
    expect(history).toMatchObject({ capacity: 3 });
    expect(history.entries).toHaveLength(3);
    const hello = await new Promise<{ node: string }>((resolve, reject) => {
      const ws = new WebSocket(`${url.replace('http', 'ws')}/inspector/socket`);
      ws.once('message', (data) => {
        resolve(JSON.parse(data.toString()) as { node: string });
        ws.close();
      });
      ws.once('error', reject);
    });
    expect(hello.node).toBe('eu-1');
    await alice.terminate();
  });

  it('without --inspect, has no inspector page', async () => {
    const { url, lines } = await run(['--port', '0']);
    expect(lines.some((line) => 'inspector' in line)).toBe(false);
    const page = await fetch(`${url}/inspector`);
    expect(page.status).toBe(404);
    expect(await page.text()).toContain('Start the server with --inspect');
    // The inspector page's socket says the same to whoever opens it by hand.
    const refusal = await new Promise<{ status?: number; body: string }>((resolve, reject) => {
      const req = request(`${url}/inspector/socket`, {
        headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version': '13' },
      });
      req.on('response', (response) => {
        let body = '';
        response.on('data', (chunk) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode, body }));
      });
      req.on('error', reject);
      req.end();
    });
    expect(refusal.status).toBe(404);
    expect(refusal.body).toContain('Start the server with --inspect');
  });

  it('lists --metrics-public in --help', async () => {
    const child = spawn(process.execPath, [CLI, '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    const { code, stdout } = await exitOf(child);
    expect(code).toBe(0);
    expect(stdout).toMatch(/--metrics-public +serve \/metrics to any client \(default: loopback clients only\)/);
  });

  it('serves /metrics labelled with --node-name to loopback only, and with --metrics-public to anyone', async () => {
    const closed = await run(['--port', '0', '--host', '0.0.0.0', '--node-name', 'eu-1']);
    const port = new URL(closed.url).port;
    expect(await lineWhere(closed.lines, (line) => 'metrics' in line)).toMatchObject({ metrics: `${closed.url}/metrics`, public: false });
    const local = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(local.status).toBe(200);
    expect(await local.text()).toContain('chat_sessions{node="eu-1"} 0');
    const external = externalAddress();
    if (external !== undefined) {
      const refused = await fetch(`http://${external}:${port}/metrics`);
      expect(refused.status).toBe(403);
      expect(await refused.text()).toContain('start the server with --metrics-public');
    }

    const open = await run(['--port', '0', '--host', '0.0.0.0', '--metrics-public']);
    expect(await lineWhere(open.lines, (line) => 'metrics' in line)).toMatchObject({ metrics: `${open.url}/metrics`, public: true });
    const scraped = await fetch(`http://${external ?? '127.0.0.1'}:${new URL(open.url).port}/metrics`);
    expect(scraped.status).toBe(200);
    expect(await scraped.text()).toContain('chat_sessions 0');
  });

  it('refuses a bad LOG_LEVEL naming the allowed levels', async () => {
    const child = spawn(process.execPath, [CLI], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LOG_LEVEL: 'loud' } });
    children.push(child);
    const { code, stderr } = await exitOf(child);
    expect(code).toBe(2);
    expect(stderr).toContain('LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, not "loud".');
  });

  it('explains a port that is already in use', async () => {
    const { url } = await run(['--port', '0']);
    const port = new URL(url).port;
    const child = spawn(process.execPath, [CLI, '--port', port], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DATA_DIR: freshDataDir() } });
    children.push(child);
    const { code, stderr } = await exitOf(child);
    expect(code).toBe(1);
    expect(stderr).toContain(`Port ${port} on 127.0.0.1 is already in use`);
  });
});

describe('the command line in cluster mode', () => {
  it('refuses a bad REDIS_URL as it refuses a bad --redis, and REDIS_URL with --store, with exit code 2', async () => {
    for (const [env, args, message] of [
      [{ REDIS_URL: '127.0.0.1:6379' }, [], 'REDIS_URL takes a Redis URL such as redis://127.0.0.1:6379/0 (or rediss:// for TLS), not "127.0.0.1:6379".'],
      [{ REDIS_URL: 'redis://127.0.0.1:6379' }, ['--store', 'memory'], '--redis keeps everything in Redis: drop --store and --data-dir, or drop --redis.'],
    ] as const) {
      const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
      children.push(child);
      const { code, stderr } = await exitOf(child);
      expect(code).toBe(2);
      expect(stderr.trimEnd().split('\n')).toEqual([message]);
    }
  });

  it('exits 1 with one line naming the Redis it cannot reach (its password hidden) and what to do', async () => {
    // Port 1 (tcpmux) has no listener on any machine these tests run on: connecting is refused at once.
    const child = spawn(process.execPath, [CLI, '--port', '0', '--redis', 'redis://:hunter2@127.0.0.1:1/0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    const { code, stderr, stdout } = await exitOf(child);
    expect(code).toBe(1);
    expect(stderr.trimEnd().split('\n')).toEqual([expect.stringMatching(/^Cannot reach Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:1\/0 \(.+\): start Redis, or check --redis \/ REDIS_URL\.$/)]);
    expect(stderr + stdout).not.toContain('hunter2');
    expect(stdout).not.toContain('listening');
  });
});

describeWithRedis('the command line on a real Redis', () => {
  const redis = useRedis();
  // Every node below uses the default key prefix: a node killed by the previous test must not hold its nicks in this one.
  beforeEach(async () => {
    const client = redis.client();
    await client.flushall();
    client.disconnect();
  });

  it('with --redis, logs the store as that Redis with its node name, and serves', async () => {
    const { url, lines } = await run(['--port', '0', '--redis', redis.url, '--node-name', 'eu-1']);
    expect(lines.find((line) => line.store !== undefined)).toMatchObject({
      level: 30,
      store: 'redis',
      location: redis.url,
      node: 'eu-1',
      msg: `store: redis (${redis.url}), cluster node eu-1`,
    });
    expect(lines.find((line) => line.url !== undefined)).toMatchObject({ node: 'eu-1', msg: `listening on ${url}` });
    expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ status: 'ok', sessions: 0, channels: 0 });
    const alice = await TestClient.login(url, 'alice');
    alice.send({ type: 4, channel: '#django' });
    await alice.expect({ type: 4, channel: '#django', user: 'alice' });
    await alice.terminate();
  });

  it('takes the Redis from REDIS_URL, and without --node-name names its node after the host', async () => {
    const { lines } = await run(['--port', '0'], { REDIS_URL: redis.url });
    const store = lines.find((line) => line.store !== undefined);
    expect(store).toMatchObject({ store: 'redis', location: redis.url, node: expect.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]*-[0-9a-f]{6}$/) });
    expect(store!.msg).toBe(`store: redis (${redis.url}), cluster node ${String(store!.node)}`);
  });

  it('runs as many nodes as are started on one Redis: a login on one is announced on the other, and SIGTERM on one logs its users out once', async () => {
    const a = await run(['--port', '0', '--redis', redis.url, '--node-name', 'a']);
    const b = await run(['--port', '0', '--redis', redis.url, '--node-name', 'b']);
    const bob = await TestClient.login(b.url, 'bob');
    const alice = await TestClient.login(a.url, 'alice');
    await bob.expect({ type: 2, user: 'alice' });
    const taken = await TestClient.connect(b.url, 'Alice');
    await taken.expectError('nick_taken');

    a.child.kill('SIGTERM');
    expect((await alice.closed).code).toBe(1001);
    const [code] = await once(a.child, 'exit');
    expect(code).toBe(0);
    await bob.expect({ type: 3, user: 'alice' });
    await bob.expectQuiet();
    await bob.terminate();
  });
});

describe('npm start', () => {
  it('passes SIGTERM sent to npm on to the server, which closes its clients with 1001 and stops listening', async () => {
    // Detached: npm leads its own process group, so cleanup reaches a server npm left behind.
    const npm = spawn('npm', ['start', '--', '--port', '0'], { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DATA_DIR: freshDataDir() } });
    groups.push(npm.pid!);
    const url = await urlFrom(npm);
    const alice = await TestClient.login(url, 'alice');

    npm.kill('SIGTERM');
    const exited = once(npm, 'exit');
    const stillRunning = new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error('the server kept running after npm got SIGTERM')), 15_000).unref(),
    );
    expect((await Promise.race([alice.closed, stillRunning])).code).toBe(1001);
    await exited;
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  }, 60_000);
});
