/**
 * @module write-failures.test: a store that cannot write (a full disk, an
 * I/O error), injected through a real SQLite engine wrapped to fail on
 * demand, behind a real server and real sockets. While it fails: senders
 * and registrations get `unavailable`, nobody receives an event that was not
 * stored, `/healthz` says 503 `degraded` with the reason. Once writes work
 * again the server says `ok` by itself and carries on, with no gap or
 * stranger in any channel's history.
 */
import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/store/sqlite.js';
import { CHEAP_SCRYPT } from '../support/accounts.js';
import { PASSWORD, register } from '../support/auth.js';
import { freshDataDir } from '../support/cli-process.js';
import type { Frame, TestClient } from '../support/client.js';
import { FailingStore } from '../support/failing-store.js';
import { useServer } from '../support/server.js';

const start = useServer();

async function health(url: string): Promise<{ status: number; body: { status: string; reason?: string } }> {
  const response = await fetch(`${url}/healthz`);
  return { status: response.status, body: (await response.json()) as { status: string; reason?: string } };
}

async function until<T>(check: () => Promise<T | undefined>, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Every frame of `channel` a client receives from now on, live ones only. */
function record(client: TestClient, channel: string): Frame[] {
  const frames: Frame[] = [];
  client.ws.on('message', (data) => {
    const frame = JSON.parse(data.toString()) as Frame;
    if ((frame.channel === channel || frame.dest === channel) && frame.history === undefined && typeof frame.offset === 'number') frames.push(frame);
  });
  return frames;
}

describe('a store that cannot write', () => {
  it('answers unavailable, delivers nothing unstored, reports degraded, and recovers by itself with no gap in history', async () => {
    const engine = new SqliteStore({ dataDir: freshDataDir() });
    const store = new FailingStore(engine);
    const { server, login } = await start({ store, writeProbeMs: 50, accounts: { policy: { scrypt: CHEAP_SCRYPT } }, limits: { rateLimit: 0 } });
    const alice = await login('alice');
    const bob = await login('bob');
    for (const [nick, client] of [['alice', alice], ['bob', bob]] as const) {
      client.send({ type: 4, channel: '#x' });
      await client.until((frame) => frame.type === 4 && frame.user === nick && frame.history === undefined);
    }
    const seen = record(bob, '#x');
    alice.send({ type: 0, dest: '#x', message: 'before', id: 1 });
    await bob.until((frame) => frame.type === 0 && frame.message === 'before');
    expect(await health(server.url)).toEqual({ status: 200, body: expect.objectContaining({ status: 'ok' }) });

    store.fail('ENOSPC');
    for (let n = 0; n < 5; n += 1) {
      alice.send({ type: 0, dest: '#x', message: `lost ${n}`, id: `m${n}` });
      const refusal = await alice.until((frame) => frame.type === -1);
      expect(refusal).toMatchObject({ code: 'unavailable', id: `m${n}` });
    }
    const degraded = await health(server.url);
    expect(degraded.status).toBe(503);
    expect(degraded.body.status).toBe('degraded');
    expect(degraded.body.reason).toMatch(/ENOSPC: no space left on device/);
    // An account write fails the same way: the registration is answered unavailable, and nothing is registered.
    bob.send({ type: 1, password: PASSWORD, id: 'reg' });
    expect(await bob.until((frame) => frame.type === -1)).toMatchObject({ code: 'unavailable', id: 'reg' });
    expect(await engine.findAccount('bob')).toBeUndefined();
    // Nobody heard what was not stored: a moment for anything that might still arrive.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(seen.map((frame) => frame.message)).toEqual(['before']);
    expect(await health(server.url)).toMatchObject({ status: 503 });

    // The disk has room again: the probe notices with nobody writing, and service goes on.
    store.fail(undefined);
    const recovered = await until(async () => {
      const now = await health(server.url);
      return now.status === 200 ? now : undefined;
    });
    expect(recovered.body.status).toBe('ok');
    alice.send({ type: 0, dest: '#x', message: 'after' });
    await bob.until((frame) => frame.type === 0 && frame.message === 'after');
    await register(bob, 'bob');
    expect(await engine.findAccount('bob')).toMatchObject({ nick: 'bob' });

    // The history guarantee, after the fact: what bob received is exactly what is stored, offset for offset,
    // byte for byte, with no gap where the refused messages would have been.
    expect(seen.map((frame) => frame.message)).toEqual(['before', 'after']);
    const stored = engine.read({ channel: '#x', limit: 100 }).events;
    expect(stored.map((event) => event.offset)).toEqual(stored.map((_, index) => index + 1));
    const [before, after] = seen;
    expect(after!.offset).toBe((before!.offset as number) + 1);
    for (const frame of seen) {
      expect(JSON.parse(stored.find((event) => event.offset === frame.offset)!.data)).toEqual(frame);
    }
    expect(stored.some((event) => event.data.includes('lost'))).toBe(false);
  });

  it('reports degraded from a failing background write too, and ok once a write succeeds', async () => {
    const store = new FailingStore(new SqliteStore({ dataDir: freshDataDir() }));
    const { server } = await start({ store, writeProbeMs: 50, pruneIntervalMs: 20 });
    store.fail('EIO', 'i/o error');
    const degraded = await until(async () => {
      const now = await health(server.url);
      return now.status === 503 ? now : undefined;
    });
    expect(degraded.body).toMatchObject({ status: 'degraded', reason: expect.stringMatching(/EIO: i\/o error/) });
    store.fail(undefined);
    await until(async () => ((await health(server.url)).status === 200 ? true : undefined));
  });
});
