/**
 * @module metrics.test: `/metrics` scraped around a scripted session over real
 * sockets: every counter, gauge and histogram must move by exactly what the
 * traffic accounts for, and nothing else may move.
 */
import { networkInterfaces } from 'node:os';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { mayScrape } from '../../src/metrics/access.js';
import { PASSWORD, expectAuthRequired, register, signIn } from '../support/auth.js';
import { CHEAP_SCRYPT } from '../support/accounts.js';
import type { TestClient } from '../support/client.js';
import { moved, parseScrape, scrape, series } from '../support/metrics.js';
import { useServer } from '../support/server.js';

const start = useServer();

const COUNTERS = [
  'chat_connections_opened_total',
  'chat_connections_closed_total',
  'chat_frames_received_total',
  'chat_frames_sent_total',
  'chat_received_bytes_total',
  'chat_sent_bytes_total',
  'chat_errors_sent_total',
  'chat_http_refusals_total',
  'chat_logins_total',
  'chat_store_operation_duration_seconds_count',
];

/** Resolves once `check` holds: the server sees a socket close a moment after the client does. */
async function eventually(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (const deadline = Date.now() + 3_000; !(await check()); ) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** An upgrade refused with an HTTP status, as a client sees it. */
function refusedUpgrade(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('unexpected-response', (_request, response) => {
      resolve(response.statusCode ?? 0);
      response.resume();
      ws.terminate();
    });
    ws.once('open', () => reject(new Error(`${url} was not refused`)));
    ws.on('error', () => {});
  });
}

/** A non-loopback IPv4 address of this machine, if it has one. */
function externalAddress(): string | undefined {
  return Object.values(networkInterfaces())
    .flat()
    .find((entry) => entry?.family === 'IPv4' && !entry.internal)?.address;
}

describe('/metrics', () => {
  it('moves every counter, gauge and histogram by exactly what a scripted session did', async () => {
    const { server, connect, login } = await start({
      limits: { historyOnJoin: 50 },
      accounts: { policy: { scrypt: CHEAP_SCRYPT } },
      nodeName: 'eu-1',
    });
    const clients: TestClient[] = [];
    const track = (client: TestClient) => (clients.push(client), client);
    /** Bytes and frames this test sent once each socket was open. */
    let sentBytes = 0;
    const send = (client: TestClient, frame: unknown) => {
      const text = typeof frame === 'string' ? frame : JSON.stringify(frame);
      sentBytes += Buffer.byteLength(text);
      client.send(text);
    };

    const before = await scrape(server.url, 'eu-1');
    expect(before.get('chat_sessions')).toBe(0);
    expect(before.get('chat_channels')).toBe(0);

    // A guest takes a nick and registers it, then logs out.
    const guest = track(await login('alice'));
    sentBytes += Buffer.byteLength(JSON.stringify({ type: 1, password: PASSWORD }));
    await register(guest, 'alice');
    send(guest, { type: 3 });
    expect(await guest.closed).toMatchObject({ code: 1000 });

    // The owner signs in with the password, then again elsewhere with the token it got, which takes the nick over.
    const byPassword = track(await connect('alice'));
    await expectAuthRequired(byPassword);
    sentBytes += Buffer.byteLength(JSON.stringify({ type: 2, user: 'alice', password: PASSWORD }));
    const token = await signIn(byPassword, 'alice', { password: PASSWORD });
    const alice = track(await connect('alice'));
    await expectAuthRequired(alice);
    sentBytes += Buffer.byteLength(JSON.stringify({ type: 2, user: 'alice', token }));
    await signIn(alice, 'alice', { token });
    expect(await byPassword.closed).toMatchObject({ code: 4001 });

    // A wrong password is refused; that client gives up and closes without a code.
    const wrong = track(await connect('alice'));
    await expectAuthRequired(wrong);
    send(wrong, { type: 2, user: 'alice', password: 'not the password' });
    await wrong.expectError('bad_password');
    await wrong.close();

    // A guest joins Alice in a channel; both talk, Bob gets one thing wrong twice and pages back.
    const bob = track(await login('bob'));
    await alice.expect({ type: 2, user: 'bob' });
    send(alice, { type: 4, channel: '#room' });
    await alice.next((frame) => frame.type === 4);
    send(bob, { type: 4, channel: '#room' });
    await bob.next((frame) => frame.type === 4 && frame.history === true);
    await bob.next((frame) => frame.type === 4 && frame.user === 'bob');
    await alice.next((frame) => frame.type === 4 && frame.user === 'bob');
    for (const message of ['hello', 'héllo ☃']) {
      send(alice, { type: 0, dest: '#room', message });
      await alice.next((frame) => frame.type === 0);
      await bob.next((frame) => frame.type === 0);
    }
    send(bob, { type: 0, dest: '#elsewhere', message: 'hi' });
    await bob.expectError('not_member');
    send(bob, 'not json');
    await bob.expectError('bad_json');
    send(bob, { type: 8, channel: '#room', limit: 10 });
    await bob.next((frame) => frame.type === 8);

    // A nick in use and an upgrade to no chat path are refused at the door.
    const impostor = track(await connect('BOB'));
    await impostor.expectError('nick_taken');
    expect(await impostor.closed).toMatchObject({ code: 1008 });
    expect(await refusedUpgrade(`${server.url.replace('http', 'ws')}/not/a/chat`)).toBe(404);

    // Bob logs out: Alice hears him leave the channel and log out.
    send(bob, { type: 3 });
    expect(await bob.closed).toMatchObject({ code: 1000 });
    await alice.next((frame) => frame.type === 5);
    await alice.next((frame) => frame.type === 3);
    await eventually(() => server.transport.sockets.size === 1, 'the closed sockets to be gone');

    const after = await scrape(server.url, 'eu-1');

    // What the clients received, frame by frame, is what the server says it sent.
    const received = clients.flatMap((client) => client.received);
    const byType = new Map<number, number>();
    for (const frame of received) byType.set(frame.type, (byType.get(frame.type) ?? 0) + 1);
    const errorsByCode = new Map<string, number>();
    for (const frame of received) if (frame.code) errorsByCode.set(frame.code, (errorsByCode.get(frame.code) ?? 0) + 1);

    expect(moved(before, after, COUNTERS)).toEqual({
      // guest, byPassword, alice, wrong, bob, impostor.
      'chat_connections_opened_total': 6,
      // guest and bob logged out, byPassword was taken over, wrong closed without a code, impostor was refused.
      [series('chat_connections_closed_total', { code: 1000 })]: 2,
      [series('chat_connections_closed_total', { code: 4001 })]: 1,
      [series('chat_connections_closed_total', { code: 1005 })]: 1,
      [series('chat_connections_closed_total', { code: 1008 })]: 1,

      [series('chat_frames_received_total', { type: 0 })]: 3,
      [series('chat_frames_received_total', { type: 1 })]: 1,
      [series('chat_frames_received_total', { type: 2 })]: 3,
      [series('chat_frames_received_total', { type: 3 })]: 2,
      [series('chat_frames_received_total', { type: 4 })]: 2,
      [series('chat_frames_received_total', { type: 8 })]: 1,
      [series('chat_frames_received_total', { type: 'invalid' })]: 1,
      'chat_received_bytes_total': sentBytes,

      ...Object.fromEntries([...byType].map(([type, count]) => [series('chat_frames_sent_total', { type }), count])),
      'chat_sent_bytes_total': received.reduce((sum, frame) => sum + frame.bytes, 0),

      ...Object.fromEntries([...errorsByCode].map(([code, count]) => [series('chat_errors_sent_total', { code }), count])),

      [series('chat_http_refusals_total', { kind: 'upgrade', status: 404 })]: 1,

      [series('chat_logins_total', { outcome: 'guest' })]: 2,
      [series('chat_logins_total', { outcome: 'password' })]: 1,
      [series('chat_logins_total', { outcome: 'token' })]: 1,
      // The wrong password and the nick in use.
      [series('chat_logins_total', { outcome: 'refused' })]: 2,

      // Every connection looks its nick up; registering, and each password check, look the account up again.
      [series('chat_store_operation_duration_seconds_count', { operation: 'account_lookup' })]: 6 + 1 + 2,
      [series('chat_store_operation_duration_seconds_count', { operation: 'account_create' })]: 1,
      // Each sign-in issues a fresh token; the token sign-in looks its token up first.
      [series('chat_store_operation_duration_seconds_count', { operation: 'token_add' })]: 2,
      [series('chat_store_operation_duration_seconds_count', { operation: 'token_lookup' })]: 1,
      // Two joins, two messages and Bob's leave, each stored on its own; each join and the page read the history.
      [series('chat_store_operation_duration_seconds_count', { operation: 'history_append' })]: 5,
      [series('chat_store_operation_duration_seconds_count', { operation: 'history_read' })]: 3,
    });

    // The frame counts the clients saw, spelled out: no frame is counted under the wrong type.
    expect(Object.fromEntries(byType)).toEqual({
      // auth_required three times, bad_password, not_member, bad_json, nick_taken.
      [-1]: 7,
      // Two messages to two members.
      0: 4,
      // The registration's answer.
      1: 1,
      // Own logins: guest, byPassword, alice, bob; bob's login announced to alice.
      2: 5,
      // Bob's logout, to Alice.
      3: 1,
      // Alice's join to herself; Bob's history of it, and his join to both.
      4: 4,
      // Bob's leave, to Alice.
      5: 1,
      // The user list after each of the four logins.
      6: 4,
      8: 1,
    });

    // The gauges: Alice alone is online, in one channel, and no password is being hashed.
    expect(after.get('chat_sessions')).toBe(1);
    expect(after.get('chat_channels')).toBe(1);
    expect(after.get('chat_auth_hashes_in_flight')).toBe(0);

    // Each histogram is whole: cumulative buckets ending in +Inf at its count, and time spent where it was used.
    for (const operation of ['account_lookup', 'history_append', 'history_read', 'token_add']) {
      const count = after.get(series('chat_store_operation_duration_seconds_count', { operation }))!;
      const buckets = [...after]
        .filter(([key]) => key.startsWith('chat_store_operation_duration_seconds_bucket{') && key.includes(`operation="${operation}"`))
        .map(([key, value]) => ({ le: Number(/le="([^"]+)"/.exec(key)![1]!.replace('+Inf', 'Infinity')), value }))
        .sort((a, b) => a.le - b.le);
      expect(buckets.at(-1)).toEqual({ le: Infinity, value: count });
      for (let i = 1; i < buckets.length; i += 1) expect(buckets[i]!.value).toBeGreaterThanOrEqual(buckets[i - 1]!.value);
      expect(after.get(series('chat_store_operation_duration_seconds_sum', { operation }))).toBeGreaterThan(0);
    }

    // The process's own: event-loop lag, among prom-client's default metrics.
    expect(after.has('nodejs_eventloop_lag_p99_seconds')).toBe(true);
    expect(after.has('process_resident_memory_bytes')).toBe(true);
  });

  it('labels nothing with a nick, a channel name or a message', async () => {
    const { server, login } = await start();
    const alice = await login('alice-the-nick');
    alice.send({ type: 4, channel: '#secret-channel' });
    await alice.next();
    alice.send({ type: 0, dest: '#secret-channel', message: 'a secret body' });
    await alice.next();
    const text = await (await fetch(`${server.url}/metrics`)).text();
    expect(text).not.toMatch(/alice-the-nick|secret/);
    // Without --node-name there is no node label at all.
    expect(() => parseScrape(text)).not.toThrow();
  });

  it('answers HEAD with the headers alone, never cached', async () => {
    const { server } = await start();
    const head = await fetch(`${server.url}/metrics`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(head.headers.get('cache-control')).toBe('no-store');
    expect(await head.text()).toBe('');
  });

  it('refuses clients that are not on loopback with 403 and the reason, unless --metrics-public', async () => {
    const address = externalAddress();
    if (address === undefined) {
      // No other interface to come from: the check alone is tested below.
      return;
    }
    const closed = await start({ host: '0.0.0.0' });
    const url = `http://${address}:${closed.server.port}`;
    const refused = await fetch(`${url}/metrics`);
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain('--metrics-public');
    expect((await fetch(`http://127.0.0.1:${closed.server.port}/metrics`)).status).toBe(200);
    const counted = await scrape(`http://127.0.0.1:${closed.server.port}`);
    expect(counted.get(series('chat_http_refusals_total', { kind: 'request', status: 403 }))).toBe(1);

    const open = await start({ host: '0.0.0.0', metricsPublic: true });
    const scraped = await fetch(`http://${address}:${open.server.port}/metrics`);
    expect(scraped.status).toBe(200);
    expect(await scraped.text()).toContain('chat_sessions 0');
  });
});

describe('the scrape check', () => {
  it.each([
    ['127.0.0.1', false, true],
    ['::1', false, true],
    ['::ffff:127.0.0.1', false, true],
    ['192.0.2.7', false, false],
    ['::ffff:10.0.0.1', false, false],
    ['2001:db8::1', false, false],
    [undefined, false, false],
    ['192.0.2.7', true, true],
  ])('lets %s scrape when public is %s: %s', (address, isPublic, expected) => {
    expect(mayScrape(address, isPublic)).toBe(expected);
  });
});
