/**
 * @module data-dir.test: the real CLI on a data directory it cannot or must
 * not use: a damaged database, a directory it may not write, a schema from a
 * newer release, a directory another server holds. Each is refused at start
 * with exit code 1 and one line on standard error naming the file and what
 * to do, and the database file is left byte for byte as it was. A lock left
 * by a killed server does not block the next start.
 */
import { spawn, type SpawnOptions } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { chmodSync, existsSync, openSync, readFileSync, statSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, freshDataDir, useCli } from '../support/cli-process.js';

const run = useCli();

/**
 * Permissions do not bind root, so as root the CLI runs as `nobody` in the
 * tests that need them (its directories are made reachable for it).
 */
const asRoot = process.getuid?.() === 0;
const unprivileged: SpawnOptions = asRoot ? { uid: 65534, gid: 65534 } : {};

/**
 * `nobody` must also reach the CLI itself: a clone under a private
 * directory (`mktemp -d` makes them 700) would hide it. Each directory above
 * it that others may not pass through gets that one bit for these tests,
 * and loses it again after.
 */
const opened: { dir: string; mode: number }[] = [];
beforeAll(() => {
  if (!asRoot) return;
  for (let dir = dirname(CLI); dir !== dirname(dir); dir = dirname(dir)) {
    const { mode } = statSync(dir);
    if ((mode & 0o001) !== 0) continue;
    chmodSync(dir, mode | 0o001);
    opened.push({ dir, mode });
  }
});
afterAll(() => {
  for (const { dir, mode } of opened.splice(0)) chmodSync(dir, mode & 0o7777);
});

/** Runs the CLI to its end (it is expected to refuse to start) and returns its exit code and standard error. */
async function refusal(dataDir: string, options: SpawnOptions = {}): Promise<{ code: number | null; stderr: string; stdout: string }> {
  const child = spawn(process.execPath, [CLI, '--port', '0'], {
    ...options,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, DATA_DIR: dataDir },
  });
  let stderr = '';
  let stdout = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, stderr, stdout };
}

/** A data directory with a database the real CLI created and then closed cleanly. */
async function populatedDataDir(): Promise<string> {
  const dataDir = freshDataDir();
  const { child } = await run(['--port', '0'], { env: { DATA_DIR: dataDir } });
  child.kill('SIGTERM');
  await once(child, 'exit');
  return dataDir;
}

const digest = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

function expectOneLine(stderr: string, pattern: RegExp): void {
  expect(stderr.trimEnd().split('\n')).toEqual([expect.stringMatching(pattern)]);
}

describe('a data directory the server cannot use', () => {
  it('refuses a damaged database file, naming it, and leaves it as it was', async () => {
    const dataDir = await populatedDataDir();
    const file = join(dataDir, 'chat.db');
    // The schema page, past the 100-byte header: the header (and its version) still reads, the tables do not.
    const fd = openSync(file, 'r+');
    writeSync(fd, Buffer.alloc(2_000, 0x5a), 0, 2_000, 100);
    closeSync(fd);
    const before = digest(file);
    const { code, stderr } = await refusal(dataDir);
    expect(code).toBe(1);
    expectOneLine(stderr, new RegExp(`^${file} is damaged \\(SQLITE_CORRUPT.*\\)\\. Move it aside to start fresh, or restore it from a backup`));
    expect(digest(file)).toBe(before);
    expect(existsSync(join(dataDir, 'chat.lock'))).toBe(false);
  });

  it('refuses a file that is not a database at all', async () => {
    const dataDir = freshDataDir();
    const file = join(dataDir, 'chat.db');
    writeFileSync(file, 'these are not the pages you are looking for\n'.repeat(100));
    const before = digest(file);
    const { code, stderr } = await refusal(dataDir);
    expect(code).toBe(1);
    expectOneLine(stderr, new RegExp(`^${file} is not a usable SQLite database`));
    expect(digest(file)).toBe(before);
  });

  it('refuses a directory it may not write, naming it, and leaves the database in it as it was', async () => {
    const dataDir = await populatedDataDir();
    const file = join(dataDir, 'chat.db');
    const before = digest(file);
    chmodSync(dataDir, 0o555);
    const { code, stderr } = await refusal(dataDir, unprivileged);
    chmodSync(dataDir, 0o755);
    expect(code).toBe(1);
    expectOneLine(stderr, new RegExp(`^Cannot write in the data directory ${dataDir} \\(EACCES\\).*Make it writable by the user the server runs as, or pass another --data-dir\\.$`));
    expect(digest(file)).toBe(before);
  });

  it('refuses a database file it may only read', async () => {
    const dataDir = await populatedDataDir();
    const file = join(dataDir, 'chat.db');
    const before = digest(file);
    chmodSync(dataDir, 0o777);
    chmodSync(file, 0o444);
    const { code, stderr } = await refusal(dataDir, unprivileged);
    expect(code).toBe(1);
    expectOneLine(stderr, new RegExp(`^${file} is read-only for this user.*Make it writable`));
    expect(digest(file)).toBe(before);
    expect(existsSync(join(dataDir, 'chat.lock'))).toBe(false);
  });

  it('refuses a schema from a newer release, naming the file, and leaves it as it was', async () => {
    const dataDir = freshDataDir();
    const file = join(dataDir, 'chat.db');
    const db = new Database(file);
    db.pragma('user_version = 999');
    db.close();
    const before = digest(file);
    const { code, stderr } = await refusal(dataDir);
    expect(code).toBe(1);
    expectOneLine(stderr, new RegExp(`^${file} was written by a newer xstate-chat \\(schema 999; .*Upgrade xstate-chat, or pass another --data-dir`));
    expect(digest(file)).toBe(before);
  });
});

describe('one server per data directory', () => {
  it('refuses a second server on a directory another one holds, naming its pid, and the first serves on', async () => {
    const dataDir = freshDataDir();
    const first = await run(['--port', '0'], { env: { DATA_DIR: dataDir } });
    const { code, stderr } = await refusal(dataDir);
    expect(code).toBe(1);
    expectOneLine(stderr, new RegExp(`^${dataDir} is in use by another xstate-chat \\(pid ${first.child.pid}, per ${join(dataDir, 'chat.lock')}\\)\\. Stop that server first, or pass another --data-dir`));
    expect((await fetch(`${first.url}/healthz`)).status).toBe(200);
    // A clean exit gives the directory back.
    first.child.kill('SIGTERM');
    await once(first.child, 'exit');
    expect(existsSync(join(dataDir, 'chat.lock'))).toBe(false);
    const second = await run(['--port', '0'], { env: { DATA_DIR: dataDir } });
    expect((await fetch(`${second.url}/healthz`)).status).toBe(200);
  });

  it('starts over a lock left by a server killed with SIGKILL', async () => {
    const dataDir = freshDataDir();
    const first = await run(['--port', '0'], { env: { DATA_DIR: dataDir } });
    first.child.kill('SIGKILL');
    await once(first.child, 'exit');
    expect(readFileSync(join(dataDir, 'chat.lock'), 'utf8').trim()).toBe(String(first.child.pid));
    const second = await run(['--port', '0'], { env: { DATA_DIR: dataDir } });
    expect((await fetch(`${second.url}/healthz`)).status).toBe(200);
    expect(readFileSync(join(dataDir, 'chat.lock'), 'utf8').trim()).toBe(String(second.child.pid));
  });
});
