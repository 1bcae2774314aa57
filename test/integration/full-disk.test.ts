/**
 * @module full-disk.test: a real full filesystem under the SQLite store, where
 * the test can make one (a 4 MiB tmpfs, which needs root and a kernel that
 * lets it mount). SQLite meets ENOSPC in the middle of its own transaction
 * (SQLITE_FULL), not at a seam the test chose: the sender hears
 * `unavailable`, nobody receives the unstored message, `/healthz` is
 * degraded; once space is freed the server recovers by itself, and the
 * history is what the members received, with no gap and no half-written
 * batch.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/store/sqlite.js';
import type { Frame } from '../support/client.js';
import { useServer } from '../support/server.js';

const start = useServer();

/** A 4 MiB tmpfs, or undefined where the test cannot mount one (not root, no permission). */
function mountSmallDisk(): string | undefined {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'xstate-chat-disk-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', dir], { stdio: 'ignore' });
    return dir;
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
}

const disk = mountSmallDisk();
afterAll(() => {
  if (!disk) return;
  execFileSync('umount', [disk]);
  rmSync(disk, { recursive: true, force: true });
});

/** Fills the filesystem with one file until writes fail with ENOSPC; returns its path. */
function fill(dir: string): string {
  const file = join(dir, 'filler');
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(64 * 1024, 1);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    closeSync(fd);
  }
  // Whatever fits in a smaller piece too: the disk is full to the last block.
  const fd2 = openSync(join(dir, 'filler-small'), 'w');
  try {
    for (;;) writeSync(fd2, Buffer.alloc(512, 1));
  } catch {
    // Full.
  } finally {
    closeSync(fd2);
  }
  return file;
}

async function health(url: string): Promise<{ status: number; body: { status: string; reason?: string } }> {
  const response = await fetch(`${url}/healthz`);
  return { status: response.status, body: (await response.json()) as { status: string; reason?: string } };
}

describe.runIf(disk !== undefined)('a full filesystem under the SQLite store', () => {
  it('refuses what it cannot store, delivers none of it, is degraded, and recovers once there is room', async () => {
    const dataDir = join(disk!, 'data');
    mkdirSync(dataDir);
    const engine = new SqliteStore({ dataDir });
    const { server, login } = await start({ store: engine, writeProbeMs: 50, limits: { rateLimit: 0 } });
    const alice = await login('alice');
    const bob = await login('bob');
    for (const [nick, client] of [['alice', alice], ['bob', bob]] as const) {
      client.send({ type: 4, channel: '#x' });
      await client.until((frame) => frame.type === 4 && frame.user === nick && frame.history === undefined);
    }
    const seen: Frame[] = [];
    bob.ws.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as Frame;
      if (frame.dest === '#x' && frame.type === 0) seen.push(frame);
    });

    fill(disk!);
    // Messages of 2 KB until one does not fit: the WAL has some slack, so the first few may still be stored.
    const body = 'x'.repeat(2_000);
    let refusedAt: number | undefined;
    for (let n = 0; n < 2_000 && refusedAt === undefined; n += 1) {
      alice.send({ type: 0, dest: '#x', message: `${n}:${body}`, id: n });
      const answer = await alice.until((frame) => frame.type === -1 || (frame.type === 0 && String(frame.message).startsWith(`${n}:`)));
      if (answer.type === -1) {
        expect(answer).toMatchObject({ code: 'unavailable' });
        refusedAt = n;
      }
    }
    expect(refusedAt).toBeDefined();
    const degraded = await health(server.url);
    console.info(`full disk: ${refusedAt} messages stored after the disk filled, then: ${degraded.body.reason}`);
    expect(degraded).toMatchObject({ status: 503, body: { status: 'degraded', reason: expect.stringMatching(/SQLITE_FULL/) } });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(seen.some((frame) => String(frame.message).startsWith(`${refusedAt}:`))).toBe(false);

    // Room again: the server notices by itself, and the next message is stored and delivered.
    unlinkSync(join(disk!, 'filler'));
    const deadline = Date.now() + 5_000;
    while ((await health(server.url)).status !== 200 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await health(server.url)).body.status).toBe('ok');
    alice.send({ type: 0, dest: '#x', message: 'after' });
    await bob.until((frame) => frame.type === 0 && frame.message === 'after');

    // What bob received is exactly what is stored: dense offsets, same bytes, nothing refused among them.
    const stored = engine.read({ channel: '#x', limit: 200 }).events.filter((event) => event.data.startsWith('{"type":0'));
    expect(stored.map((event) => JSON.parse(event.data) as Frame)).toEqual(seen);
    expect(seen.at(-1)!.message).toBe('after');
    const all = engine.read({ channel: '#x', limit: 200 }).events.map((event) => event.offset);
    expect(all).toEqual(all.map((_, index) => index + 1));
  }, 60_000);
});
