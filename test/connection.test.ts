/**
 * @module connection.test: `WsConnection` writes frames to the socket itself
 * (one encoding per broadcast, a run in one write, a list in two parts): a
 * real `ws` client on a loopback server must read exactly what was sent.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { WsConnection, type ConnectionOwner } from '../src/connection.js';
import { ChatCounters } from '../src/metrics/counters.js';

const servers: WebSocketServer[] = [];
const clients: WebSocket[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.terminate();
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

/** A server-side connection and a client that collects the text frames it reads. */
async function connected(): Promise<{ connection: WsConnection; counters: ChatCounters; received: (count: number) => Promise<string[]> }> {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  servers.push(server);
  await once(server, 'listening');
  const counters = new ChatCounters();
  const owner: ConnectionOwner = { maxBufferedBytes: 64 * 1024 * 1024, counters, onOverflow() {}, onClose() {} };
  const accepted = once(server, 'connection') as Promise<[WebSocket]>;
  const client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`);
  clients.push(client);
  const texts: string[] = [];
  client.on('message', (data, isBinary) => texts.push(isBinary ? '(binary)' : String(data)));
  const [socket] = await accepted;
  const received = async (count: number) => {
    while (texts.length < count) await new Promise((resolve) => setTimeout(resolve, 5));
    return texts.splice(0);
  };
  return { connection: new WsConnection(socket, owner), counters, received };
}

describe('a WebSocket connection', () => {
  it('sends a frame in two parts as one text frame, at every length the header encodes differently', async () => {
    const { connection, counters, received } = await connected();
    const lengths = [10, 200, 70_000];
    const sent = lengths.map((length) => [`{"type":6,"users":["${'a'.repeat(length)}"`, ',"b"]}'] as const);
    for (const [head, tail] of sent) connection.sendSplit(head, tail);
    expect(await received(sent.length)).toEqual(sent.map(([head, tail]) => head + tail));
    expect(counters.bytesOut).toBe(sent.reduce((sum, [head, tail]) => sum + head.length + tail.length, 0));
  });

  it('keeps frames in the order they were sent, whichever way each was written', async () => {
    const { connection, received } = await connected();
    connection.send('{"type":2,"user":"a"}');
    connection.sendSplit('{"type":6,"users":["a"', ']}');
    connection.sendMany(['{"type":2,"user":"b"}', '{"type":2,"user":"c"}']);
    connection.sendSplit('{"type":6,"users":["a"', ',"b","c"]}');
    expect(await received(5)).toEqual([
      '{"type":2,"user":"a"}',
      '{"type":6,"users":["a"]}',
      '{"type":2,"user":"b"}',
      '{"type":2,"user":"c"}',
      '{"type":6,"users":["a","b","c"]}',
    ]);
  });
});
