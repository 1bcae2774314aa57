/**
 * @module lock: one process per data directory.
 *
 * Two servers on one SQLite file would each keep its own idea of every
 * channel's newest offset and hand out the same offsets twice, so the second
 * one refuses to start. The lock is a file holding the owner's pid, created
 * atomically (`wx`: it fails if the file exists). A lock whose pid no longer
 * runs was left by a process that died without cleaning up (SIGKILL, a
 * power cut): it is taken over. The file is removed on a clean exit.
 */
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { StoreOpenError } from './store.js';

export const LOCK_FILE = 'chat.lock';

export interface DataDirLock {
  readonly file: string;
  release(): void;
}

export function lockDataDir(dataDir: string): DataDirLock {
  const file = join(dataDir, LOCK_FILE);
  // Twice at most: once, and once more after removing a dead owner's lock.
  for (let attempt = 0; ; attempt += 1) {
    let fd: number;
    try {
      fd = openSync(file, 'wx', 0o644);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST') throw cannotWrite(dataDir, code);
      const owner = readOwner(file);
      if (owner !== undefined && owner !== process.pid && isRunning(owner)) {
        throw new StoreOpenError(
          `${dataDir} is in use by another xstate-chat (pid ${owner}, per ${file}). ` +
            `Stop that server first, or pass another --data-dir. If no xstate-chat runs as pid ${owner}, delete ${file}.`,
        );
      }
      if (attempt > 0) throw new StoreOpenError(`Cannot take the lock ${file}: another process keeps recreating it. Pass another --data-dir.`);
      try {
        unlinkSync(file);
      } catch (unlinkError) {
        if ((unlinkError as NodeJS.ErrnoException).code !== 'ENOENT') throw cannotWrite(dataDir, (unlinkError as NodeJS.ErrnoException).code);
      }
      continue;
    }
    try {
      writeSync(fd, `${process.pid}\n`);
    } finally {
      closeSync(fd);
    }
    let held = true;
    return {
      file,
      release() {
        if (!held) return;
        held = false;
        try {
          // Only our own: never a lock another process took over meanwhile.
          if (readOwner(file) === process.pid) unlinkSync(file);
        } catch {
          // Gone already, or the directory went read-only: the next start sees a dead pid and takes over.
        }
      },
    };
  }
}

function readOwner(file: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a process with this pid exists: signal 0 checks without sending anything. */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function cannotWrite(dataDir: string, code: string | undefined): StoreOpenError {
  return new StoreOpenError(
    `Cannot write in the data directory ${dataDir} (${code}): the server keeps its database, journal and lock file there. ` +
      'Make it writable by the user the server runs as, or pass another --data-dir.',
  );
}
