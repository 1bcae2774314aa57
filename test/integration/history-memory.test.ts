/**
 * @module history-memory.test: a channel with a million stored events costs
 * the server process no more memory than an empty one: history is read from
 * the store a page at a time, never loaded whole.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { DATABASE_FILE, SqliteStore } from '../../src/store/sqlite.js';
import { freshDataDir, useCli } from '../support/cli-process.js';
import { TestClient } from '../support/client.js';

const run = useCli();
const GC_HOOK = fileURLToPath(new URL('../../dist/bench/gc-hook.js', import.meta.url));
const EVENTS = 1_000_000;
/** The store's page cache and allocator noise; a million events of about 90 bytes would be 90 MB. */
const BOUND_BYTES = 12 * 1024 * 1024;

/** Fills `#big` with a million stored messages, straight into the file, as years of chat would. */
async function fillChannel(dataDir: string): Promise<void> {
  await new SqliteStore({ dataDir }).close();
  const db = new Database(join(dataDir, DATABASE_FILE));
  db.exec(`
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${EVENTS})
    INSERT INTO events (channel, offset, time, data)
      SELECT '#big', i, ${Date.now()}, '{"type":0,"dest":"#big","message":"message number ' || i || '","user":"old","offset":' || i || ',"time":${Date.now()}}' FROM n;
    INSERT INTO channels (name, last_offset) VALUES ('#big', ${EVENTS});
  `);
  db.close();
}

const residentBytes = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;

describe('history and memory', () => {
  it(`does not load a channel’s history: joining and paging one of ${EVENTS.toLocaleString('en')} events costs what an empty one does`, { timeout: 60_000 }, async () => {
    const dataDir = freshDataDir();
    await fillChannel(dataDir);
    const { child, url } = await run(['--port', '0'], { env: { DATA_DIR: dataDir }, nodeArgs: ['--expose-gc', '--import', GC_HOOK] });
    const settled = async () => {
      child.kill('SIGUSR2');
      await new Promise((resolve) => setTimeout(resolve, 500));
      return residentBytes(child.pid!);
    };
    const visit = async (client: TestClient, channel: string) => {
      client.send({ type: 4, channel });
      await client.until((frame) => frame.type === 4 && frame.user === 'reader' && frame.history === undefined);
      client.send({ type: 8, channel, limit: 200 });
      const page = await client.until((frame) => frame.type === 8);
      client.send({ type: 5, channel });
      await client.until((frame) => frame.type === 5 && frame.user === 'reader');
      return page;
    };
    const reader = await TestClient.login(url, 'reader');
    // Warm up every code path on an empty channel, then measure the same on the big one.
    for (let i = 0; i < 3; i += 1) await visit(reader, '#empty');
    const before = await settled();
    for (let i = 0; i < 3; i += 1) {
      const page = await visit(reader, '#big');
      expect(page.more).toBe(true);
    }
    const after = await settled();
    expect(after - before).toBeLessThan(BOUND_BYTES);
    await reader.terminate();
  });
});
