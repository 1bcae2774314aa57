/**
 * @module cli-process: the compiled CLI as a real child process, for tests
 * that must kill it or restart it: each gets a fresh data directory unless
 * given one, and every process is killed after the test.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';

export const CLI = fileURLToPath(new URL('../../dist/src/cli.js', import.meta.url));

export interface Started {
  child: ChildProcess;
  url: string;
  /** Every JSON log line so far. */
  lines: Record<string, unknown>[];
}

/** A fresh data directory, so no test writes into the working tree or sees another's data. */
export function freshDataDir(): string {
  return mkdtempSync(join(tmpdir(), 'xstate-chat-cli-'));
}

/** Registers cleanup with the calling test file and returns a function that starts the CLI. */
export function useCli(): (args: string[], options?: { env?: Record<string, string>; nodeArgs?: string[] }) => Promise<Started> {
  const children: ChildProcess[] = [];
  afterEach(async () => {
    for (const child of children.splice(0)) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  });
  return async (args, { env = {}, nodeArgs = [] } = {}) => {
    const child = spawn(process.execPath, [...nodeArgs, CLI, ...args], {
      // REDIS_URL only when the test gives one: one in the environment of whoever runs the tests would make every server a cluster node.
      env: { ...process.env, DATA_DIR: freshDataDir(), REDIS_URL: '', ...env },
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
  };
}

/** Resolves with the first log line that passes `test`, waiting for lines that follow the one `run` resolved on. */
export async function lineWhere(lines: Record<string, unknown>[], test: (line: Record<string, unknown>) => boolean, timeoutMs = 5_000): Promise<Record<string, unknown>> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 20))) {
    const line = lines.find(test);
    if (line) return line;
  }
  throw new Error(`no such log line within ${timeoutMs} ms; got ${JSON.stringify(lines)}`);
}
