/**
 * @module crash.test: the store's promise under the worst stop there is.
 * The real CLI is killed with SIGKILL in the middle of traffic and started
 * again on the same data directory: every channel event any client had
 * received can be replayed, with the offset and the bytes it had.
 */
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { freshDataDir, useCli } from '../support/cli-process.js';
import { TestClient, type Frame } from '../support/client.js';

const run = useCli();

describe('a server killed with SIGKILL mid-traffic', () => {
  it('replays after a restart every event a client received, with its offset, and recovers from the last one seen', async () => {
    const dataDir = freshDataDir();
    const args = ['--port', '0', '--rate-limit', '0'];
    const first = await run(args, { env: { DATA_DIR: dataDir } });
    const watcher = await TestClient.login(first.url, 'watcher');
    const senders = [await TestClient.login(first.url, 'alice'), await TestClient.login(first.url, 'bob')];
    let epoch: unknown;
    for (const [nick, client] of [['watcher', watcher], ['alice', senders[0]!], ['bob', senders[1]!]] as const) {
      client.send({ type: 4, channel: '#x' });
      const own = await client.until((frame) => frame.type === 4 && frame.user === nick && frame.history === undefined);
      epoch ??= own.epoch;
    }

    // Everything the watcher receives from #x, as it received it.
    const received: Frame[] = [];
    watcher.ws.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as Frame;
      if (frame.channel === '#x' || frame.dest === '#x') received.push(frame);
    });
    let sending = true;
    const loops = senders.map(async (client, who) => {
      for (let n = 0; sending && client.ws.readyState === client.ws.OPEN; n += 1) {
        client.send({ type: 0, dest: '#x', message: `${who}:${n}` });
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    });
    await new Promise((resolve) => setTimeout(resolve, 400));
    first.child.kill('SIGKILL');
    await once(first.child, 'exit');
    sending = false;
    await Promise.all(loops);
    await watcher.closed;

    const live = received.filter((frame) => frame.history === undefined);
    expect(live.filter((frame) => frame.type === 0).length).toBeGreaterThan(50);
    const second = await run(args, { env: { DATA_DIR: dataDir } });
    const back = await TestClient.login(second.url, 'watcher');
    back.send({ type: 4, channel: '#x', since: 0 });
    const replay: Frame[] = [];
    let rejoin: Frame;
    for (;;) {
      const frame = await back.next(undefined, 10_000);
      if (frame.history) replay.push(frame);
      else if (frame.type === 4 && frame.user === 'watcher') {
        rejoin = frame;
        break;
      }
    }
    // Dense from 1: the joins, then every stored message, with nothing skipped or numbered twice.
    expect(replay.map((frame) => frame.offset)).toEqual(replay.map((_, i) => i + 1));
    const byOffset = new Map(replay.map((frame) => [frame.offset, frame]));
    for (const frame of live) {
      const { epoch: _, ...sent } = frame;
      expect(byOffset.get(frame.offset), `offset ${frame.offset}`).toEqual({ ...sent, history: true });
    }
    expect(rejoin!.recovered).toBe(true);
    expect(rejoin!.offset).toBe(replay.length + 1);

    // A client that kept the last offset it saw gets exactly what it had not seen, in the store's same epoch.
    const lastSeen = live.at(-1)!.offset as number;
    expect(rejoin!.epoch).toBe(epoch);
    const resumed = await TestClient.login(second.url, 'resumed');
    resumed.send({ type: 4, channel: '#x', since: lastSeen, epoch });
    const missed: Frame[] = [];
    for (;;) {
      const frame = await resumed.next(undefined, 10_000);
      if (frame.history) missed.push(frame);
      else if (frame.type === 4 && frame.user === 'resumed') {
        expect(frame).toMatchObject({ recovered: true, epoch });
        break;
      }
    }
    // What was stored but never reached the watcher, if anything, and the first watcher's rejoin since.
    expect(missed.map((frame) => frame.offset)).toEqual([...replay.slice(lastSeen).map((frame) => frame.offset), rejoin!.offset]);
    await back.terminate();
    await resumed.terminate();
  });
});
