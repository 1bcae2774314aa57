/**
 * @module inspection.test: what the inspectors are sent, over real sockets:
 * summaries instead of live objects, and message bodies only when allowed.
 */
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { isLoopback } from '../src/loopback.js';
import { expectAuthRequired, register, signIn } from './support/auth.js';
import { listen } from './support/inspector-stream.js';
import { useServer, type Harness } from './support/server.js';
import { freePort } from './support/ports.js';

const start = useServer();

/**
 * Every way a secret passes through the actors: a registration, a password
 * change, a wrong password and a right one, which hands out a resume token.
 * All passwords contain "secret password"; returns the token.
 */
async function passSecretsBy(server: Pick<Harness, 'login' | 'connect'>): Promise<string> {
  const first = await server.login('alice');
  await register(first, 'alice', 'first secret password');
  first.send({ type: 1, password: 'second secret password', old_password: 'first secret password' });
  await first.next((frame) => frame.type === 1);
  await first.close();
  const again = await server.connect('alice');
  await expectAuthRequired(again);
  again.send({ type: 2, user: 'alice', password: 'wrong secret password' });
  await again.expectError('bad_password');
  return signIn(again, 'alice', { password: 'second secret password' });
}

describe('the local inspector stream', () => {
  it.each([
    [false, 'redacts'],
    [true, 'shows'],
  ])('with inspectBodies %s, %s message bodies and sends only JSON summaries', async (bodies) => {
    const { server, login } = await start({ inspect: 'local', inspectBodies: bodies });
    const inspector = await listen(`${server.url.replace('http', 'ws')}/inspector/socket`);
    const alice = await login('alice');
    alice.send({ type: 4, channel: '#django' });
    await alice.next((frame) => frame.type === 4);
    alice.send({ type: 0, dest: '#django', message: 'the secret plan' });
    await alice.next((frame) => frame.type === 0);
    await inspector.until((all) => all.includes('"outbox.list"') && all.includes('"channel.say"'));

    const messages = inspector.frames.map((frame) => JSON.parse(frame) as { kind: string });
    expect(messages[0]?.kind).toBe('hello');
    expect(messages.some((message) => message.kind === 'actor' && JSON.stringify(message).includes('"nick":"alice"'))).toBe(true);
    const all = inspector.frames.join('\n');
    // The outbox is told of each connection; the inspector sees that one exists, not the socket behind it.
    expect(all).toContain('"type":"outbox.attach","id":"1","connection":"connection"');
    if (bodies) expect(all).toContain('the secret plan');
    else {
      expect(all).not.toContain('secret');
      expect(all).toContain('[redacted]');
    }
    inspector.ws.close();
  });

  it.each([false, true])('with inspectBodies %s, never shows a password or a resume token', async (bodies) => {
    const { server, login, connect } = await start({ inspect: 'local', inspectBodies: bodies });
    const inspector = await listen(`${server.url.replace('http', 'ws')}/inspector/socket`);
    const token = await passSecretsBy({ login, connect });
    // Both logins, the hello that carries the token, and the owner's own frame that carries it too. The guest
    // session said hello too, and pages get batches a little after the fact: so wait for the second hello,
    // which comes in the same batch as the frames it sends the owner. A hello goes to the session's supervisor,
    // which forwards it: count the ones that reached the server.
    await inspector.until((all) => (all.match(/"client\.login"/g) ?? []).length >= 2 && (all.match(/"target":"server","type":"session\.hello"/g) ?? []).length >= 2);

    const all = inspector.frames.join('\n');
    expect(all).not.toContain('secret password');
    expect(all).not.toContain(token);
    expect(all).toContain('"password":"[redacted]"');
    expect(all).toContain('"token":"[redacted]"');
    inspector.ws.close();
  });

  it('refuses its socket to a page from another origin, even on loopback, with 403', async () => {
    const { server } = await start({ inspect: 'local' });
    const ws = new WebSocket(`${server.url.replace('http', 'ws')}/inspector/socket`, { origin: 'https://evil.example' });
    const status = await new Promise<number | undefined>((resolve) => {
      ws.once('unexpected-response', (_request, response) => resolve(response.statusCode));
      ws.once('open', () => resolve(undefined));
    });
    expect(status).toBe(403);
  });

  it('is not there without --inspect: the page and its socket are 404', async () => {
    const { server } = await start();
    expect((await fetch(`${server.url}/inspector`)).status).toBe(404);
    const ws = new WebSocket(`${server.url.replace('http', 'ws')}/inspector/socket`);
    const status = await new Promise<number | undefined>((resolve) => {
      ws.once('unexpected-response', (_request, response) => resolve(response.statusCode));
      ws.once('open', () => resolve(undefined));
    });
    expect(status).toBe(404);
  });
});

describe('the Stately relay', () => {
  it('receives the actor system’s events with message bodies redacted', async () => {
    const relayPort = await freePort();
    const { server, login } = await start({ inspect: 'stately', statelyRelayPort: relayPort });
    expect(server.inspectorUrl).toBe(`http://localhost:${relayPort}`);
    const relay = await listen(`ws://127.0.0.1:${relayPort}`);
    const alice = await login('alice');
    alice.send({ type: 4, channel: '#flask' });
    await alice.next((frame) => frame.type === 4);
    alice.send({ type: 0, dest: '#flask', message: 'the secret plan' });
    await alice.next((frame) => frame.type === 0);
    await relay.until((all) => all.includes('channel.say'));
    expect(relay.frames.join('\n')).not.toContain('secret');
    relay.ws.close();
  });

  it.each([false, true])('with inspectBodies %s, never receives a password or a resume token, not even in an account call’s input or output', async (bodies) => {
    const relayPort = await freePort();
    const { server, login, connect } = await start({ inspect: 'stately', statelyRelayPort: relayPort, inspectBodies: bodies });
    const relay = await listen(`ws://127.0.0.1:${relayPort}`);
    const token = await passSecretsBy({ login, connect });
    // The package sends from idle callbacks, in order: once the owner's hello is there, so is the login's output before it.
    const ownersHello = (frame: string) => {
      const message = JSON.parse(frame) as { type?: string; event?: { type?: string; owner?: boolean } };
      return message.type === '@xstate.event' && message.event?.type === 'session.hello' && message.event.owner === true;
    };
    await relay.until(() => relay.frames.some(ownersHello));
    const all = relay.frames.join('\n');
    expect(all).not.toContain('secret password');
    expect(all).not.toContain(token);
    expect(all).toContain('"password":"[redacted]"');
    relay.ws.close();
  });
});

describe('the loopback check', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.8.9.10', true],
    ['::1', true],
    ['::ffff:127.0.0.1', true],
    ['192.168.1.20', false],
    ['::ffff:10.0.0.1', false],
    ['fe80::1', false],
    ['1270.0.0.1', false],
    [undefined, false],
  ])('treats %s as loopback: %s', (address, expected) => {
    expect(isLoopback(address)).toBe(expected);
  });
});

describe('the pages', () => {
  it('serves the chat page with a CSP that forbids inline scripts, keeps /healthz, and 404s the rest', async () => {
    const { server } = await start();
    const page = await fetch(`${server.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.headers.get('content-security-policy')).not.toContain('unsafe-inline');
    expect((await fetch(`${server.url}/chat.js`)).headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect((await fetch(`${server.url}/chat.css`)).headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${server.url}/web/chat/chat.ts`)).status).toBe(404);
    expect((await fetch(`${server.url}/../package.json`)).status).toBe(404);
  });
});
