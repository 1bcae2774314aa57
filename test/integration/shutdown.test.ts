/**
 * @module shutdown.test: SIGTERM and SIGINT always end the real CLI: within
 * the shutdown grace plus 2 s even when a part of it never finishes closing
 * (exit 1, the reason on standard error), and at once on a second signal
 * (but not on the same Ctrl-C delivered twice).
 */
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { useCli } from '../support/cli-process.js';

const run = useCli();
const HANG = fileURLToPath(new URL('../fixtures/hang-http-close.mjs', import.meta.url));

/** A client that completes the WebSocket upgrade and then never answers anything, the server's close frame included. */
async function silentClient(url: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  await once(socket, 'connect');
  socket.write(
    `GET /chat/login/mute HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
  );
  await once(socket, 'data');
  socket.pause();
  return socket;
}

function stderrOf(child: ChildProcess): () => string {
  let text = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  return () => text;
}

async function signal(child: ChildProcess, name: NodeJS.Signals): Promise<{ ms: number; code: number | null }> {
  const startedAt = performance.now();
  const exited = once(child, 'exit') as Promise<[number | null, string | null]>;
  child.kill(name);
  const [code] = await exited;
  return { ms: performance.now() - startedAt, code };
}

describe('shutdown', () => {
  it('ends at the hard deadline, grace + 2 s, with exit 1 and the reason on stderr, when a part never finishes closing', async () => {
    const grace = 500;
    const { child } = await run(['--port', '0', '--shutdown-grace-ms', String(grace)], { nodeArgs: ['--import', HANG] });
    const stderr = stderrOf(child);
    const stop = await signal(child, 'SIGTERM');
    console.info(`hung close: exit ${stop.code} ${Math.round(stop.ms)} ms after SIGTERM (deadline ${grace + 2000} ms)`);
    expect(stop.code).toBe(1);
    expect(stop.ms).toBeGreaterThanOrEqual(grace + 2_000 - 50);
    expect(stop.ms).toBeLessThan(grace + 2_000 + 1_000);
    expect(stderr().trim().split('\n')).toEqual([expect.stringMatching(/^Shutdown did not finish within 2500 ms .*exiting anyway\.$/)]);
  });

  it('exits at once on a second SIGTERM while a client holds up the drain', async () => {
    const { child, url } = await run(['--port', '0', '--shutdown-grace-ms', '10000']);
    const stderr = stderrOf(child);
    const mute = await silentClient(url);
    child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(child.exitCode).toBeNull();
    const stop = await signal(child, 'SIGTERM');
    console.info(`second SIGTERM: exit ${stop.code} ${Math.round(stop.ms)} ms after it`);
    expect(stop.code).toBe(1);
    expect(stop.ms).toBeLessThan(500);
    expect(stderr()).toMatch(/^SIGTERM again during shutdown: exiting at once/);
    mute.destroy();
  });

  it('exits 0 after a clean drain on SIGINT, with a client that closes', async () => {
    const { child, url } = await run(['--port', '0', '--shutdown-grace-ms', '10000']);
    const stderr = stderrOf(child);
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/chat/login/polite`);
    await once(ws, 'open');
    const stop = await signal(child, 'SIGINT');
    expect(stop.code).toBe(0);
    expect(stop.ms).toBeLessThan(2_000);
    expect(stderr()).toBe('');
  });

  it('drains once on a Ctrl-C that arrives twice at once, as under npm start (the terminal’s and npm’s copy)', async () => {
    const { child, url } = await run(['--port', '0', '--shutdown-grace-ms', '10000']);
    const stderr = stderrOf(child);
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/chat/login/polite`);
    await once(ws, 'open');
    const closed = once(ws, 'close') as Promise<[number, Buffer]>;
    const exited = once(child, 'exit') as Promise<[number | null]>;
    child.kill('SIGINT');
    child.kill('SIGINT');
    expect((await closed)[0]).toBe(1001);
    expect((await exited)[0]).toBe(0);
    expect(stderr()).toBe('');
  });
});
