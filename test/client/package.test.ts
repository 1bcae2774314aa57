/**
 * @module package.test: what the SDK promises as a package: importable as
 * `xstate-chat/client`, nothing at run time but `xstate` (the frame types
 * come from the server's zod schemas as types only), and a connection an
 * XState inspector can watch.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { InspectionEvent } from 'xstate';
import { describe, expect, it } from 'vitest';
import { useServer } from '../support/server.js';
import { useSdk } from '../support/sdk.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const start = useServer();
const sdk = useSdk();

/** Every bare module specifier reachable from a compiled file through its relative imports. */
async function runtimeDependencies(entry: string): Promise<Set<string>> {
  const seen = new Set<string>();
  const bare = new Set<string>();
  const visit = async (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const source = await readFile(file, 'utf8');
    for (const [, specifier] of source.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+'([^']+)'|^\s*import\s+'([^']+)'/gm)) {
      if (specifier === undefined) continue;
      if (specifier.startsWith('.')) await visit(resolve(dirname(file), specifier));
      else bare.add(specifier);
    }
  };
  await visit(entry);
  return bare;
}

describe('the client SDK as a package', () => {
  it('needs nothing at run time but xstate', async () => {
    expect([...(await runtimeDependencies(join(ROOT, 'dist/client/index.js')))]).toEqual(['xstate']);
  });

  it('is importable as xstate-chat/client', async () => {
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', "const m = await import('xstate-chat/client'); console.log(typeof m.connect, typeof m.ChatError)"], { cwd: ROOT });
    expect(stdout.trim()).toBe('function function');
  });

  it('uses the global WebSocket when given none, as in browsers (Node’s WHATWG one, behind --experimental-websocket)', async () => {
    const { server } = await start();
    const script = [
      "import { connect } from 'xstate-chat/client';",
      `const chat = await connect({ url: ${JSON.stringify(server.url)}, nick: 'native' });`,
      "await chat.join('#django');",
      "const sent = await chat.send('#django', 'from a standard WebSocket');",
      'console.log(JSON.stringify({ users: await chat.users(), offset: sent.offset }));',
      'await chat.close();',
    ].join('\n');
    const { stdout } = await run(process.execPath, ['--experimental-websocket', '--no-warnings', '--input-type=module', '-e', script], { cwd: ROOT });
    expect(JSON.parse(stdout)).toEqual({ users: ['native'], offset: 2 });
  });

  it('shows its connection machine to an inspector, state by state', async () => {
    const { server } = await start();
    const states: unknown[] = [];
    const inspect = (event: InspectionEvent) => {
      if (event.type === '@xstate.snapshot' && (event.actorRef as { logic?: { id?: string } }).logic?.id === 'chatClient') {
        const value = (event.snapshot as { value?: unknown }).value;
        if (states.at(-1) !== value) states.push(value);
      }
    };
    const client = await sdk({ url: server.url, nick: 'alice', inspect }).start();
    await client.close();
    expect(states).toEqual(['connecting', 'authenticating', 'online', 'closed']);
  });
});
