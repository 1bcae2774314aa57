/**
 * @module reconnect.test: the client SDK across a server killed with SIGKILL
 * and restarted on the same port: on the same data directory nothing is lost
 * and nothing is delivered twice; on a fresh one the client says `gap`.
 * The server is the real CLI (test/support/cli-process.ts).
 */
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { ChannelEvent, ChatClient } from '../../client/index.js';
import { freshDataDir, useCli, type Started } from '../support/cli-process.js';
import { TestClient } from '../support/client.js';
import { Recorder, useSdk } from '../support/sdk.js';
import { freePort } from '../support/ports.js';

const cli = useCli();
const sdk = useSdk();
const PASSWORD = 'correct horse battery';

async function kill(started: Started): Promise<void> {
  started.child.kill('SIGKILL');
  await once(started.child, 'exit');
}

/** Each channel event a client delivered, by channel: offsets must be unique and rising. */
function expectNoDuplicates(events: ChannelEvent[]): void {
  const byChannel = new Map<string, number[]>();
  for (const event of events) byChannel.set(event.channel, [...(byChannel.get(event.channel) ?? []), event.offset]);
  for (const [channel, offsets] of byChannel) {
    expect(offsets, `offsets delivered in ${channel}`).toEqual([...new Set(offsets)].sort((a, b) => a - b));
  }
}

function channelEvents(recorder: Recorder): ChannelEvent[] {
  return recorder.events.filter((event): event is ChannelEvent => event.type === 'message' || event.type === 'join' || event.type === 'leave');
}

function texts(recorder: Recorder): string[] {
  return recorder.of('message').map((event) => event.message);
}

describe('the client SDK across a server restart', () => {
  it('survives SIGKILL and a restart on the same data directory: signs back in with its token, recovers, loses and repeats nothing', async () => {
    const port = await freePort();
    const dataDir = freshDataDir();
    const args = ['--port', String(port), '--data-dir', dataDir];
    let server = await cli(args);
    const url = `ws://127.0.0.1:${port}`;

    // The bot's nick is registered, so coming back means signing in, with the token its login got.
    const owner = await sdk({ url, nick: 'bot' }).start();
    await owner.register(PASSWORD);
    await owner.close();
    // A backoff far longer than the test: the bot stays away while carol talks after the restart (so it must
    // recover what she said), and comes back when the test says so, with reconnectNow.
    const bot = sdk({ url, nick: 'bot', password: PASSWORD, backoff: { baseMs: 60_000, maxMs: 60_000 } });
    const heard = new Recorder(bot);
    await bot.start();
    const firstToken = (await heard.waitFor('token')).token;
    const bob: ChatClient = await sdk({ url, nick: 'bob' }).start();
    const bobHeard = new Recorder(bob);

    await bot.join('#room');
    await bob.join('#room');
    for (let i = 1; i <= 5; i += 1) await bob.send('#room', `m${i}`);
    await heard.waitFor('message', (event) => event.message === 'm5');

    await kill(server);
    await heard.waitFor('state', (event) => event.state === 'reconnecting');
    await bobHeard.waitFor('state', (event) => event.state === 'reconnecting');
    // Typed while the server is down: it waits, and goes once bob is back in the channel.
    const whileDown = bob.send('#room', 'while down');

    server = await cli(args);
    const carol = await TestClient.connect(`http://127.0.0.1:${port}`, 'carol');
    carol.send({ type: 4, channel: '#room' });
    await carol.until((frame) => frame.type === 4 && frame.user === 'carol' && frame.history === undefined);
    for (const text of ['c1', 'c2', 'c3']) carol.send({ type: 0, dest: '#room', message: text });
    await carol.until((frame) => frame.type === 0 && frame.message === 'c3');
    expect(bot.state, 'the bot must still be away while carol talks, or this test shows no recovery').toBe('reconnecting');
    bot.reconnectNow();

    const recovered = await heard.waitFor('recovered', (event) => event.channel === '#room', 15_000);
    expect(heard.of('gap')).toEqual([]);
    expect((await whileDown).message).toBe('while down');
    await heard.waitFor('message', (event) => event.message === 'while down', 10_000);

    // Everything bob and carol said, each once, in offset order; what was said while the bot was away came as recovered.
    expect(texts(heard).sort()).toEqual(['c1', 'c2', 'c3', 'm1', 'm2', 'm3', 'm4', 'm5', 'while down']);
    expectNoDuplicates(channelEvents(heard));
    const fromCarol = heard.of('message').filter((event) => event.user === 'carol');
    expect(fromCarol.map((event) => event.source)).toEqual(['recovered', 'recovered', 'recovered']);
    expect(recovered.count).toBeGreaterThanOrEqual(3);
    // The bot signed back in with the token, which handed out another.
    expect(heard.of('token').length).toBe(2);
    expect(bot.token).not.toBe(firstToken);
    // The bot's own leave on dropping and join on coming back are not news to it.
    expect(channelEvents(heard).filter((event) => event.own && event.type !== 'message').map((event) => event.type)).toEqual(['join']);

    expect(texts(bobHeard).filter((text) => text === 'while down')).toEqual(['while down']);
    expectNoDuplicates(channelEvents(bobHeard));
    await carol.close();
  }, 60_000);

  it('says gap when the server comes back with a fresh store, and delivers its new events rather than dropping them as old', async () => {
    const port = await freePort();
    const url = `ws://127.0.0.1:${port}`;
    let server = await cli(['--port', String(port), '--data-dir', freshDataDir()]);
    const bot = sdk({ url, nick: 'bot' });
    const heard = new Recorder(bot);
    await bot.start();
    await bot.join('#room');
    for (let i = 1; i <= 3; i += 1) await bot.send('#room', `before ${i}`);

    await kill(server);
    await heard.waitFor('state', (event) => event.state === 'reconnecting');
    server = await cli(['--port', String(port), '--data-dir', freshDataDir()]);

    const gap = await heard.waitFor('gap', undefined, 10_000);
    expect(gap).toMatchObject({ channel: '#room', reason: 'epoch' });
    // Offset 1 again, in the new epoch: new, not a duplicate of the old offset 1.
    const after = await bot.send('#room', 'after');
    expect(after.offset).toBeLessThan(4);
    await heard.waitFor('message', (event) => event.message === 'after');
    expect(texts(heard)).toEqual(['before 1', 'before 2', 'before 3', 'after']);
  }, 60_000);

  it('stops for good when the nick is taken while it was away', async () => {
    const port = await freePort();
    const url = `ws://127.0.0.1:${port}`;
    const args = ['--port', String(port), '--data-dir', freshDataDir()];
    let server = await cli(args);
    // Away until the test brings it back, so the thief is surely first.
    const bot = sdk({ url, nick: 'bot', backoff: { baseMs: 60_000, maxMs: 60_000 } });
    const heard = new Recorder(bot, ['state']);
    await bot.start();
    await kill(server);
    await heard.waitFor('state', (event) => event.state === 'reconnecting');
    server = await cli(args);
    // Someone else takes the guest nick before the bot is back.
    const thief = await TestClient.login(`http://127.0.0.1:${port}`, 'bot');
    expect(bot.state).toBe('reconnecting');
    bot.reconnectNow();
    const closed = await heard.waitFor('state', (event) => event.state === 'closed', 10_000);
    expect(closed.error?.code).toBe('nick_taken');
    expect(closed.closeCode).toBe(1008);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(bot.state).toBe('closed');
    await thief.close();
  }, 60_000);
});
