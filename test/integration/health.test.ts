/**
 * @module health.test: `/healthz` as a load balancer probes it: the HTTP
 * status decides routing, so it must turn 503 the moment the server drains.
 */
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { useServer } from '../support/server.js';

const start = useServer();

/**
 * A client that completes the upgrade and then never answers the server's
 * close frame, so a shutdown has to wait out its grace period for it.
 */
async function stubbornClient(url: string, nick: string): Promise<Socket> {
  const { port, hostname } = new URL(url);
  const socket = connect(Number(port), hostname);
  socket.on('error', () => {});
  await once(socket, 'connect');
  socket.write(
    `GET /chat/login/${nick} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
  );
  const [head] = (await once(socket, 'data')) as [Buffer];
  expect(head.toString()).toMatch(/^HTTP\/1\.1 101 /);
  return socket;
}

describe('/healthz', () => {
  it('answers GET with 200 and the status, and HEAD with the same status and no body', async () => {
    const { server, login } = await start();
    const alice = await login('alice');
    alice.send({ type: 4, channel: 'x' });
    await alice.next();

    const get = await fetch(`${server.url}/healthz`);
    expect(get.status).toBe(200);
    expect(get.headers.get('content-type')).toBe('application/json');
    expect(await get.json()).toEqual({ status: 'ok', sessions: 1, channels: 1 });

    const head = await fetch(`${server.url}/healthz`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toBe('application/json');
    expect(await head.text()).toBe('');
  });

  it('answers 503 with status draining and a reason while the server shuts down', async () => {
    const { server } = await start({ limits: { shutdownGraceMs: 3_000 } });
    const stubborn = await stubbornClient(server.url, 'stubborn');
    const closing = server.close();
    try {
      const get = await fetch(`${server.url}/healthz`);
      expect(get.status).toBe(503);
      const body = (await get.json()) as Record<string, unknown>;
      expect(body).toMatchObject({ status: 'draining', sessions: 1 });
      expect(body.reason).toMatch(/shutting down/);
      expect((await fetch(`${server.url}/healthz`, { method: 'HEAD' })).status).toBe(503);
    } finally {
      stubborn.destroy();
      await closing;
    }
  });
});
