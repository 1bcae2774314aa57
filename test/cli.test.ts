/**
 * @module cli.test: `npm start`'s program as a user runs it: a real process, real signals.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { TestClient } from './support/client.js';

const CLI = fileURLToPath(new URL('../dist/src/cli.js', import.meta.url));
const children: ChildProcess[] = [];

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

interface Started {
  child: ChildProcess;
  url: string;
  lines: Record<string, unknown>[];
}

/** Runs the compiled CLI and resolves with the URL it prints once listening. */
async function run(args: string[], env: Record<string, string> = {}): Promise<Started> {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const lines: Record<string, unknown>[] = [];
  let buffered = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      let newline;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = JSON.parse(buffered.slice(0, newline)) as Record<string, unknown>;
        buffered = buffered.slice(newline + 1);
        lines.push(line);
        if (typeof line.url === 'string') resolve(line.url);
      }
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code}`)));
  });
  return { child, url, lines };
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
    expect(lines[0]).toMatchObject({ level: 30, msg: `listening on ${url}` });
    const response = await fetch(`${url}/healthz`);
    expect(await response.json()).toEqual({ status: 'ok', sessions: 0, channels: 0 });
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

  it('logs connections opened and closed with nick and close code, and never a message body', async () => {
    const { child, url, lines } = await run(['--port', '0'], { LOG_LEVEL: 'info' });
    const alice = await TestClient.login(url, 'alice');
    alice.send({ type: 4, channel: 'x' });
    await alice.next();
    alice.send({ type: 0, dest: 'x', message: 'a secret body' });
    await alice.next();
    const impostor = await TestClient.connect(url, 'ALICE');
    await impostor.closed;
    alice.send({ type: 3 });
    await alice.closed;
    child.kill('SIGTERM');
    await once(child, 'exit');
    expect(lines).toContainEqual(expect.objectContaining({ msg: 'connection opened', nick: 'alice' }));
    expect(lines).toContainEqual(expect.objectContaining({ msg: 'connection closed', nick: 'alice', code: 1000 }));
    expect(lines).toContainEqual(expect.objectContaining({ level: 40, msg: 'connection rejected', nick: 'ALICE' }));
    expect(JSON.stringify(lines)).not.toContain('a secret body');
  });

  it.each([
    [['--port', 'eighty'], '--port must be a whole number from 0 to 65535, not "eighty".'],
    [['--port', '70000'], '--port must be a whole number from 0 to 65535'],
    [['--colour'], "Unknown option '--colour'"],
    [['--inspect=sky'], '--inspect must be --inspect, --inspect=local or --inspect=stately, not "--inspect=sky".'],
    [['--inspect-bodies'], '--inspect-bodies only makes sense with --inspect'],
    [['--inspect', '--inspect-history', '0'], '--inspect-history must be a whole number from 1 to 10000, not "0".'],
    [['--inspect-history', '50'], "--inspect-history sizes the built-in inspector's history: add --inspect"],
    [['--node-name', 'eu west'], '--node-name takes 1 to 63 letters, digits, ".", "_" or "-", starting with a letter or digit, not "eu west".'],
  ])('refuses %j with a message naming the problem and exit code 2', async (args, message) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    const { code, stderr } = await exitOf(child);
    expect(code).toBe(2);
    expect(stderr).toContain(message);
  });

  it('with --inspect, logs where the inspector is and serves it', async () => {
    const { url, lines } = await run(['--port', '0', '--inspect']);
    // The inspector line follows the listening line that `run` resolves on.
    for (const deadline = Date.now() + 5_000; !lines.some((line) => 'inspector' in line) && Date.now() < deadline; ) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(lines).toContainEqual(expect.objectContaining({ inspector: `${url}/inspector`, bodies: false }));
    const page = await fetch(`${url}/inspector`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<script type="module" src="/inspector/inspector.js">');
  });

  it('names its node in the log and in the inspector, and keeps the history size it is given', async () => {
    const { url, lines } = await run(['--port', '0', '--inspect', '--inspect-history', '3', '--node-name', 'eu-1']);
    expect(lines[0]).toMatchObject({ node: 'eu-1', url });
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
    expect((await fetch(`${url}/inspector`)).status).toBe(404);
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
    const child = spawn(process.execPath, [CLI, '--port', port], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    const { code, stderr } = await exitOf(child);
    expect(code).toBe(1);
    expect(stderr).toContain(`Port ${port} on 127.0.0.1 is already in use`);
  });
});
