/**
 * @module stalled-stdout.test: the server's own standard output as a fault.
 * The real CLI logs to a pipe whose reader stops reading, or exits; the
 * server must go on serving at full speed, keep what it queues for the log
 * bounded, say how many lines it dropped once the reader is back, and still
 * stop within the shutdown grace plus 2 s on SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { CLI, freshDataDir } from '../support/cli-process.js';
import { TestClient } from '../support/client.js';

const GRACE_MS = 1_000;
/** Connections opened and closed: two log lines each, some 2.7 MB in all, well past any pipe's buffer and the 1 MiB log queue. */
const CHURN = 8_000;

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

interface Server {
  child: ChildProcess;
  url: string;
  /** Everything read from its standard output so far. */
  output: () => string;
}

async function start(): Promise<Server> {
  const child = spawn(process.execPath, [CLI, '--port', '0', '--max-connections-per-ip', '0', '--rate-limit', '0', '--shutdown-grace-ms', String(GRACE_MS)], {
    env: { ...process.env, DATA_DIR: freshDataDir(), LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    const check = () => {
      const match = /"url":"(http:[^"]+)"/.exec(output);
      if (match) resolve(match[1]!);
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => reject(new Error(`exited with ${code} before listening`)));
  });
  return { child, url, output: () => output };
}

/** Opens and closes `count` connections, `parallel` at a time, each with its own nick. */
async function churn(url: string, count: number, parallel = 50): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const nick = `churn${next++}`;
      const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/chat/login/${nick}`);
      ws.on('error', () => {});
      await new Promise<void>((resolve) => {
        ws.once('open', () => ws.close());
        ws.once('close', () => resolve());
      });
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
}

/** How long a `/healthz` and a message from one client to another take now. */
async function responsiveness(url: string, alice: TestClient, bob: TestClient): Promise<{ healthMs: number; roundTripMs: number }> {
  let startedAt = performance.now();
  const health = await fetch(`${url}/healthz`);
  expect(health.status).toBe(200);
  const healthMs = performance.now() - startedAt;
  startedAt = performance.now();
  alice.send({ type: 0, dest: '#ops', message: 'still there?' });
  await bob.until((frame) => frame.type === 0 && frame.message === 'still there?', 2_000);
  const roundTripMs = performance.now() - startedAt;
  return { healthMs, roundTripMs };
}

async function pair(url: string): Promise<[TestClient, TestClient]> {
  const alice = await TestClient.login(url, 'alice');
  const bob = await TestClient.login(url, 'bob');
  for (const [nick, client] of [['alice', alice], ['bob', bob]] as const) {
    client.send({ type: 4, channel: '#ops' });
    await client.until((frame) => frame.type === 4 && frame.user === nick);
  }
  return [alice, bob];
}

/** Sends SIGTERM and resolves with how long the process took to exit, and its exit code. */
async function terminate(child: ChildProcess): Promise<{ ms: number; code: number | null }> {
  const startedAt = performance.now();
  const exited = once(child, 'exit') as Promise<[number | null, string | null]>;
  child.kill('SIGTERM');
  const [code] = await exited;
  return { ms: performance.now() - startedAt, code };
}

describe('standard output that nobody reads', () => {
  it('does not slow the server, drops what does not fit, says how many once read again, and stops on SIGTERM', async () => {
    const server = await start();
    const [alice, bob] = await pair(server.url);
    const before = await responsiveness(server.url, alice, bob);
    // The pace with a reader, to compare with.
    let startedAt = performance.now();
    await churn(server.url, CHURN / 8);
    const readRate = CHURN / 8 / (performance.now() - startedAt);
    // The reader stops: from here the pipe fills and stays full.
    server.child.stdout!.pause();
    startedAt = performance.now();
    await churn(server.url, CHURN);
    const stalledRate = CHURN / (performance.now() - startedAt);
    const during = await responsiveness(server.url, alice, bob);
    console.info(
      `stalled stdout: ${Math.round(stalledRate * 1000)} connections/s (${Math.round(readRate * 1000)}/s while read); ` +
        `healthz ${during.healthMs.toFixed(1)} ms, round trip ${during.roundTripMs.toFixed(1)} ms (before: ${before.healthMs.toFixed(1)}, ${before.roundTripMs.toFixed(1)})`,
    );
    // Loose, for a shared machine: a server held up by its log would not manage a tenth of this.
    expect(stalledRate).toBeGreaterThan(readRate / 3);
    expect(during.healthMs).toBeLessThan(500);
    expect(during.roundTripMs).toBeLessThan(500);

    // The reader is back: it gets what was queued, then one line counting what was not.
    const readFrom = server.output().length;
    server.child.stdout!.resume();
    const note = await new Promise<Record<string, unknown>>((resolve) => {
      const look = () => {
        const line = server
          .output()
          .slice(readFrom)
          .split('\n')
          .find((text) => text.includes('"dropped"'));
        if (line) resolve(JSON.parse(line) as Record<string, unknown>);
        else setTimeout(look, 20);
      };
      look();
    });
    console.info(`stalled stdout: ${String(note.dropped)} lines dropped and reported`);
    expect(note.dropped).toBeGreaterThan(0);
    expect(note.msg).toMatch(/log lines were dropped/);
    // What was delivered plus what was dropped is every line the churn logged: nothing lost uncounted.
    // Counted once the reader has caught up: on a loaded machine lines (and a later count) can still be on their way.
    const logged = 2 * CHURN + (2 * CHURN) / 8;
    const accounted = () => {
      const lines = server.output().split('\n');
      const delivered = lines.filter((line) => /"msg":"connection (opened|closed)"/.test(line) && /churn\d/.test(line)).length;
      const dropped = lines.filter((line) => line.includes('"dropped"')).reduce((sum, line) => sum + ((JSON.parse(line) as { dropped: number }).dropped ?? 0), 0);
      return delivered + dropped;
    };
    for (const deadline = Date.now() + 5_000; accounted() < logged && Date.now() < deadline; ) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(accounted()).toBeGreaterThanOrEqual(logged);

    server.child.stdout!.pause();
    await churn(server.url, CHURN / 4);
    const stop = await terminate(server.child);
    console.info(`stalled stdout: exit ${stop.code} ${Math.round(stop.ms)} ms after SIGTERM`);
    expect(stop.code).toBe(0);
    expect(stop.ms).toBeLessThan(GRACE_MS + 2_000);
  }, 120_000);

  it('does not slow the server once its reader has exited, and stops on SIGTERM', async () => {
    const server = await start();
    const [alice, bob] = await pair(server.url);
    // The reader exits: every write from here fails with EPIPE.
    server.child.stdout!.destroy();
    await churn(server.url, CHURN / 4);
    const during = await responsiveness(server.url, alice, bob);
    console.info(`stdout gone: healthz ${during.healthMs.toFixed(1)} ms, round trip ${during.roundTripMs.toFixed(1)} ms`);
    expect(during.healthMs).toBeLessThan(500);
    expect(during.roundTripMs).toBeLessThan(500);
    const stop = await terminate(server.child);
    console.info(`stdout gone: exit ${stop.code} ${Math.round(stop.ms)} ms after SIGTERM`);
    expect(stop.code).toBe(0);
    expect(stop.ms).toBeLessThan(GRACE_MS + 2_000);
  }, 120_000);

  it('writes every line to a file, the last one `stopped`, before it exits', async () => {
    const dataDir = freshDataDir();
    const logFile = join(dataDir, 'server.log');
    const fd = openSync(logFile, 'w');
    const child = spawn(process.execPath, [CLI, '--port', '0'], { env: { ...process.env, DATA_DIR: dataDir }, stdio: ['ignore', fd, 'pipe'] });
    closeSync(fd);
    children.push(child);
    let url: string | undefined;
    for (let waited = 0; url === undefined && waited < 10_000; waited += 20) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      url = /"url":"(http:[^"]+)"/.exec(readFileSync(logFile, 'utf8'))?.[1];
    }
    await churn(url!, 200);
    const stop = await terminate(child);
    expect(stop.code).toBe(0);
    const lines = readFileSync(logFile, 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line) as { msg: string });
    expect(lines.filter((line) => line.msg === 'connection closed')).toHaveLength(200);
    expect(lines.at(-1)!.msg).toBe('stopped');
  });
});
