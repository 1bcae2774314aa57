/**
 * @module limits.test: every limit provoked over a real socket, with the exact
 * close code or error, and a bystander who must not notice.
 */
import { connect as tcpConnect, type Socket } from 'node:net';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { TestClient } from '../support/client.js';
import { useServer, type Harness } from '../support/server.js';

const start = useServer();

/** A bystander logged in and sitting in #calm, to prove others carry on. */
async function bystander(harness: Harness): Promise<TestClient> {
  const client = await harness.login('bystander');
  client.send({ type: 4, channel: 'calm' });
  await client.expect({ type: 4, channel: '#calm', user: 'bystander' });
  return client;
}

/** Proves the bystander is still served, passing over the logins and logouts it hears meanwhile. */
async function stillServes(client: TestClient): Promise<void> {
  client.send({ type: 0, dest: 'calm', message: 'all good' });
  for (;;) {
    const frame = await client.next();
    if (frame.type === 0 && frame.message === 'all good') return;
    if (![2, 3, 4, 5].includes(frame.type)) throw new Error(`unexpected frame ${JSON.stringify(frame)}`);
  }
}

/** Opens a WebSocket with extra handshake headers and reports the HTTP status of a refusal. */
function refusedStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url.replace(/^http/, 'ws') + '/chat/login/someone', { headers });
    ws.on('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
    ws.on('open', () => {
      ws.terminate();
      reject(new Error('the upgrade was accepted'));
    });
    ws.on('error', reject);
  });
}

describe('frame limits', () => {
  it('accepts a frame of exactly 64 KiB and closes with 1009 on one byte more', async () => {
    const harness = await start();
    const calm = await bystander(harness);
    const client = await harness.login('big');
    const frameOf = (bytes: number) => {
      const shell = '{"type":6,"pad":""}';
      return shell.replace('""', `"${'p'.repeat(bytes - shell.length)}"`);
    };
    client.send(frameOf(64 * 1024));
    await client.expect({ type: 6, users: ['bystander', 'big'] });
    client.send(frameOf(64 * 1024 + 1));
    expect((await client.closed).code).toBe(1009);
    await calm.expect({ type: 2, user: 'big' });
    await calm.expect({ type: 3, user: 'big' });
    await stillServes(calm);
  });

  it('closes with 1007 on a text frame that is not valid UTF-8', async () => {
    const harness = await start();
    const calm = await bystander(harness);
    const client = await harness.login('mangled');
    client.ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
    expect((await client.closed).code).toBe(1007);
    await stillServes(calm);
  });
});

describe('origins', () => {
  it('refuses a foreign Origin with HTTP 403 before any WebSocket exists', async () => {
    const { server } = await start();
    expect(await refusedStatus(server.url, { Origin: 'https://evil.example' })).toBe(403);
    expect(server.transport.sockets.size).toBe(0);
  });

  it("accepts no Origin, the server's own origin, and origins allowed by configuration", async () => {
    const { server } = await start({ allowedOrigins: ['https://chat.example.com'] });
    const own = new URL(server.url).origin;
    for (const [nick, origin] of [['none', undefined], ['own', own], ['listed', 'https://chat.example.com']] as const) {
      const ws = new WebSocket(`${server.url.replace('http', 'ws')}/chat/login/${nick}`, origin ? { origin } : {});
      await once(ws, 'open');
      ws.terminate();
    }
  });
});

describe('connection caps', () => {
  it('answers HTTP 503 over the global cap, and admits again once a connection closes', async () => {
    const harness = await start({ limits: { maxConnections: 2 } });
    const first = await harness.login('first');
    await harness.login('second');
    expect(await refusedStatus(harness.server.url)).toBe(503);
    await first.close();
    await expect.poll(() => harness.server.transport.admitted.total).toBe(1);
    await harness.login('third');
  });

  it('answers HTTP 429 over the per-address cap, and 0 means no cap', async () => {
    const capped = await start({ limits: { maxConnectionsPerIp: 2 } });
    await capped.login('a');
    await capped.login('b');
    expect(await refusedStatus(capped.server.url)).toBe(429);

    const open = await start({ limits: { maxConnectionsPerIp: 0 } });
    for (let i = 0; i < 120; i++) await open.connect(`u${i}`);
    expect(open.server.transport.admitted.byAddress.get('127.0.0.1')).toBe(120);
  });

  it('drops a client that stalls in its upgrade request, and releases its slot', async () => {
    const harness = await start({ limits: { handshakeTimeoutMs: 200 } });
    const calm = await bystander(harness);
    const { port } = harness.server;
    const stalled = tcpConnect(port, '127.0.0.1');
    await once(stalled, 'connect');
    stalled.write('GET /chat/login/slowpoke HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n');
    stalled.on('error', () => {});
    await once(stalled, 'close');
    await stillServes(calm);
  });

  it('survives a client that resets its socket in the middle of the upgrade', async () => {
    const harness = await start();
    const calm = await bystander(harness);
    const sockets: Socket[] = [];
    for (let i = 0; i < 20; i++) {
      const socket = tcpConnect(harness.server.port, '127.0.0.1');
      socket.on('error', () => {});
      await once(socket, 'connect');
      socket.write(
        `GET /chat/login/ghost${i} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
      );
      sockets.push(socket);
      if (i % 2 === 0) socket.resetAndDestroy();
      else setImmediate(() => socket.resetAndDestroy());
    }
    await expect.poll(() => harness.server.transport.admitted.total).toBe(1);
    await expect.poll(() => harness.server.actor.getSnapshot().context.sessions.size).toBe(1);
    await stillServes(calm);
  });
});

describe('flood control', () => {
  it('refuses frames over the rate with rate_limited, with their request ids, and does not act on them', async () => {
    const harness = await start({ limits: { rateLimit: 1, rateBurst: 5 } });
    const calm = await bystander(harness);
    const client = await harness.login('eager');
    await calm.expect({ type: 2, user: 'eager' });
    for (let i = 0; i < 8; i++) client.send(i === 7 ? { type: 4, channel: `c${i}` } : { type: 4, channel: `c${i}`, id: i });
    for (let i = 0; i < 5; i++) await client.expect({ type: 4, channel: `#c${i}`, user: 'eager' });
    // The id tells a client which request was not acted upon; a frame without one gets an error without one.
    await client.expectError('rate_limited', 5);
    await client.expectError('rate_limited', 6);
    await client.expectError('rate_limited');
    await new Promise((resolve) => setTimeout(resolve, 1100));
    client.send({ type: 6, channel: 'c5' });
    await client.expect({ type: 6, channel: '#c5', users: [] });
    await stillServes(calm);
  });

  it('closes a session that keeps flooding with 1008, and the others hear it leave', async () => {
    const harness = await start({ limits: { rateLimit: 1, rateBurst: 1, floodRefusals: 10 } });
    const calm = await bystander(harness);
    const flooder = await harness.login('flooder');
    await calm.expect({ type: 2, user: 'flooder' });
    for (let i = 0; i < 30; i++) flooder.send({ type: 6 });
    expect((await flooder.closed).code).toBe(1008);
    await calm.expect({ type: 3, user: 'flooder' });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await stillServes(calm);
  });
});

describe('channels per session', () => {
  it('allows 100 channels by default and answers the 101st join with too_many_channels', async () => {
    const harness = await start({ limits: { rateLimit: 0 } });
    const client = await harness.login('joiner');
    for (let i = 0; i < 100; i++) client.send({ type: 4, channel: `c${i}` });
    for (let i = 0; i < 100; i++) await client.next((frame) => frame.type === 4);
    client.send({ type: 4, channel: 'one-more', id: 'x' });
    await client.expectError('too_many_channels', 'x');
    client.send({ type: 5, channel: 'c0' });
    await client.next((frame) => frame.type === 5);
    client.send({ type: 4, channel: 'one-more' });
    await client.expect({ type: 4, channel: '#one-more', user: 'joiner' });
  });
});

describe('slow consumers', () => {
  it('drops a client that stops reading with 4008, while the others get every frame and memory stays bounded', async () => {
    const maxBufferedBytes = 256 * 1024;
    const harness = await start({ limits: { rateLimit: 0, maxBufferedBytes } });
    const fast = await harness.login('fast');
    const slow = await harness.login('slow');
    await fast.expect({ type: 2, user: 'slow' });
    for (const client of [fast, slow]) {
      client.send({ type: 4, channel: 'busy' });
      await client.next((frame) => frame.type === 4);
    }
    await fast.expect({ type: 4, channel: '#busy', user: 'slow' });
    // Stop reading: the kernel buffers fill, then the server's queue for this client grows.
    (slow.ws as unknown as { _socket: Socket })._socket.pause();

    const text = 'x'.repeat(2000);
    let sent = 0;
    let peakBuffered = 0;
    let slowGone = false;
    while (!slowGone && sent < 30_000) {
      for (let i = 0; i < 50; i++) fast.send({ type: 0, dest: 'busy', message: text });
      sent += 50;
      for (let i = 0; i < 50; i++) {
        const frame = await fast.next();
        if (frame.type === 5 && frame.user === 'slow') {
          slowGone = true;
          i -= 1;
          continue;
        }
        if (frame.type === 3) {
          i -= 1;
          continue;
        }
        expect(frame).toMatchObject({ type: 0, user: 'fast' });
      }
      for (const ws of harness.server.transport.sockets) peakBuffered = Math.max(peakBuffered, ws.bufferedAmount);
    }
    expect(slowGone).toBe(true);
    // Bounded: at most the limit plus the frame that crossed it.
    expect(peakBuffered).toBeLessThanOrEqual(maxBufferedBytes + 4096);

    (slow.ws as unknown as { _socket: Socket })._socket.resume();
    expect((await slow.closed).code).toBe(4008);
    await fast.expectQuiet();
  });
});

describe('dead peers', () => {
  it('terminates a peer that stops answering pings and tells the others it left', async () => {
    const harness = await start({ limits: { pingIntervalMs: 100 } });
    const calm = await bystander(harness);
    const ws = new WebSocket(`${harness.server.url.replace('http', 'ws')}/chat/login/silent`, { autoPong: false });
    ws.on('error', () => {});
    await once(ws, 'open');
    ws.send(JSON.stringify({ type: 4, channel: 'calm' }));
    await calm.expect({ type: 2, user: 'silent' });
    await calm.expect({ type: 4, channel: '#calm', user: 'silent' });
    const [code] = await once(ws, 'close');
    expect(code).toBe(1006);
    await calm.expect({ type: 5, channel: '#calm', user: 'silent' });
    await calm.expect({ type: 3, user: 'silent' });
    // The bystander answers pings, so it outlives several intervals.
    await new Promise((resolve) => setTimeout(resolve, 350));
    await stillServes(calm);
  });
});

describe('shutdown', () => {
  it('closes every socket with 1001 and terminates one that does not finish closing after the grace', async () => {
    const harness = await start({ limits: { shutdownGraceMs: 300 } });
    const polite = await harness.login('polite');
    const stubborn = await harness.login('stubborn');
    (stubborn.ws as unknown as { _socket: Socket })._socket.pause();
    const began = Date.now();
    await harness.server.close();
    // The stubborn client never answered the close frame, so close() waited out the grace and terminated it.
    expect(Date.now() - began).toBeGreaterThanOrEqual(250);
    expect(harness.server.transport.sockets.size).toBe(0);
    expect((await polite.closed).code).toBe(1001);
    // Reading again only now, it finds the server's 1001 and then a connection already gone.
    (stubborn.ws as unknown as { _socket: Socket })._socket.resume();
    expect((await stubborn.closed).code).toBe(1001);
    await expect(refusedStatus(harness.server.url)).rejects.toThrow(/ECONNREFUSED/);
  });
});
