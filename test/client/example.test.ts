/**
 * @module example.test: the README's bot (examples/bot.ts, compiled by the
 * build) run as a new user would run it, against the real CLI: it answers
 * `!ping`, and keeps answering after the server is killed and restarted.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { freshDataDir, useCli } from '../support/cli-process.js';
import { TestClient } from '../support/client.js';
import { freePort } from '../support/ports.js';

const cli = useCli();
const BOT = fileURLToPath(new URL('../../dist/examples/bot.js', import.meta.url));
const bots: ChildProcess[] = [];
afterEach(async () => {
  for (const bot of bots.splice(0)) {
    if (bot.exitCode !== null || bot.signalCode !== null) continue;
    bot.kill('SIGKILL');
    await once(bot, 'exit');
  }
});

/** Starts the example bot and resolves once it printed `line`; its output so far is in `output`. */
function startBot(url: string): { output: string[]; printed: (line: string) => Promise<void> } {
  const bot = spawn(process.execPath, [BOT], { env: { ...process.env, CHAT_URL: url }, stdio: ['ignore', 'pipe', 'inherit'] });
  bots.push(bot);
  const output: string[] = [];
  const waiters: (() => void)[] = [];
  bot.stdout!.on('data', (chunk: Buffer) => {
    output.push(...chunk.toString().split('\n').filter(Boolean));
    for (const wake of waiters.splice(0)) wake();
  });
  const printed = async (line: string) => {
    const deadline = Date.now() + 15_000;
    while (!output.includes(line)) {
      if (Date.now() > deadline) throw new Error(`the bot never printed "${line}"; it printed ${JSON.stringify(output)}`);
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
  };
  return { output, printed };
}

async function ping(base: string, nick: string): Promise<void> {
  const tester = await TestClient.login(base, nick);
  tester.send({ type: 4, channel: '#bots' });
  await tester.until((frame) => frame.type === 4 && frame.user === nick && frame.history === undefined);
  tester.send({ type: 0, dest: '#bots', message: '!ping' });
  const pong = await tester.until((frame) => frame.type === 0 && frame.user === 'pingbot', 10_000);
  expect(pong.message).toBe(`pong, ${nick}`);
  await tester.close();
}

describe('the README’s example bot', () => {
  it('is the one in examples/, which the build type-checks: every line the README shows is in it', async () => {
    const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('## The client SDK'));
    const shown = (/```ts\n([\s\S]*?)```/.exec(section)?.[1] ?? '').split('\n').filter((line) => line.trim() !== '');
    expect(shown.length).toBeGreaterThanOrEqual(8);
    expect(shown.length).toBeLessThanOrEqual(10);
    const example = (await readFile(new URL('../../examples/bot.ts', import.meta.url), 'utf8')).split('\n');
    for (const line of shown) expect(example, 'a README line missing from examples/bot.ts').toContain(line);
  });

  it('answers !ping, and still does after the server is killed and restarted on the same port', async () => {
    const port = await freePort();
    const args = ['--port', String(port), '--data-dir', freshDataDir()];
    let server = await cli(args);
    const base = `http://127.0.0.1:${port}`;
    const bot = startBot(`ws://127.0.0.1:${port}`);
    await bot.printed('ready in #bots');
    await ping(base, 'alice');

    server.child.kill('SIGKILL');
    await once(server.child, 'exit');
    await bot.printed('connection: reconnecting');
    server = await cli(args);
    await bot.printed('connection: online');
    await ping(base, 'bob');
    expect(bot.output.filter((line) => line === 'ready in #bots')).toHaveLength(1);
  }, 60_000);
});
