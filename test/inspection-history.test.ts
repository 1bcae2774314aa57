/**
 * @module inspection-history.test: what the hub keeps and tells beyond the
 * live stream, over real sockets: nick labels, rosters, error codes, times,
 * dropped counts, ended sessions, per-actor history and downloadable traces.
 */
import { describe, expect, it } from 'vitest';
import { ENDED_KEEP_COUNT, EVENT_WINDOW } from '../src/inspection/hub.js';
import type { HistoryEntry } from '../src/inspection/history.js';
import { REDACTED, summariseContext, summariseEvent, summariseWholeSnapshot } from '../src/inspection/summary.js';
import type { Trace } from '../src/inspection/trace.js';
import { listen } from './support/inspector-stream.js';
import { useServer } from './support/server.js';

const start = useServer();
const socketUrl = (url: string) => `${url.replace('http', 'ws')}/inspector/socket`;

interface Message {
  kind: string;
  [key: string]: unknown;
}
const parse = (frames: string[]) => frames.map((frame) => JSON.parse(frame) as Message);

describe('the inspector stream', () => {
  it('labels sessions with their nick, lists a channel’s roster, and shows error codes and times', async () => {
    const { server, login } = await start({ inspect: 'local' });
    const inspector = await listen(socketUrl(server.url));
    const alice = await login('alice');
    const bob = await login('bob');
    alice.send({ type: 4, channel: '#django' });
    await alice.until((frame) => frame.type === 4);
    bob.send({ type: 4, channel: '#django' });
    await bob.next((frame) => frame.type === 4);
    bob.send({ type: 0, dest: '#flask', message: 'nobody hears this' });
    await bob.expectError('not_member');
    await inspector.until((all) => all.includes('"code":"not_member"') && all.includes('"members":["alice","bob"]'));

    const messages = parse(inspector.frames);
    const labels = messages.flatMap((message) =>
      message.kind === 'actor' ? [(message.actor as { label: string }).label] : message.kind === 'snapshot' ? [message.label as string] : [],
    );
    expect(labels).toContain('session:1 · alice');
    expect(labels).toContain('session:2 · bob');
    const error = messages.find((message) => message.kind === 'event' && (message.event as { code?: string }).code === 'not_member')!;
    expect(error.event).toMatchObject({ type: 'socket.send', to: '2', frameType: -1, data: REDACTED });
    const events = messages.filter((message) => message.kind === 'event');
    for (const event of events) expect(Math.abs((event.at as number) - Date.now())).toBeLessThan(10_000);
    expect(events.map((event) => event.seq as number)).toEqual([...events.map((event) => event.seq as number)].sort((a, b) => a - b));
    inspector.ws.close();
  });

  it('says how many events fell out of its window, to a page that connects late', async () => {
    const { server, login } = await start({ inspect: 'local', limits: { rateLimit: 0 } });
    const alice = await login('alice');
    for (let index = 0; index < EVENT_WINDOW; index += 1) alice.send({ type: 6, id: index });
    await alice.until((frame) => frame.type === 6 && frame.id === EVENT_WINDOW - 1, 10_000);
    const inspector = await listen(socketUrl(server.url));
    await inspector.until((all) => all.includes('"kind":"hello"'));
    const hello = parse(inspector.frames)[0]!;
    expect((hello.events as unknown[]).length).toBe(EVENT_WINDOW);
    // Each list request is at least two events (to the session, then its answer to the outbox).
    expect(hello.droppedEvents).toBeGreaterThanOrEqual(EVENT_WINDOW);
    inspector.ws.close();
  });

  it('keeps an ended session, marked ended, for pages opened after it left', async () => {
    const { server, login } = await start({ inspect: 'local' });
    const alice = await login('alice');
    alice.send({ type: 3 });
    await alice.closed;
    await expect.poll(async () => (await fetch(`${server.url}/inspector/history/session:1`)).status).toBe(200);
    const inspector = await listen(socketUrl(server.url));
    await inspector.until((all) => all.includes('"kind":"hello"'));
    const actors = parse(inspector.frames)[0]!.actors as { id: string; label: string; endedAt: number | null; value: unknown }[];
    await expect.poll(() => actors.find((actor) => actor.id === 'session:1')?.endedAt ?? null).not.toBeNull();
    expect(actors.find((actor) => actor.id === 'session:1')).toMatchObject({ label: 'session:1 · alice', value: 'closed' });
    inspector.ws.close();
  });
});

describe('ended sessions', () => {
  it('are forgotten oldest first beyond the number kept', async () => {
    const { server, login } = await start({ inspect: 'local' });
    for (let index = 0; index < ENDED_KEEP_COUNT + 3; index += 1) {
      const client = await login(`user${index}`);
      client.send({ type: 3 });
      await client.closed;
    }
    const status = async (id: string) => (await fetch(`${server.url}/inspector/history/${id}`)).status;
    // The last session ends once the server has seen its socket close, a moment after the client has.
    await expect.poll(() => status('session:3')).toBe(404);
    expect(await status('session:4')).toBe(200);
    expect(await status(`session:${ENDED_KEEP_COUNT + 3}`)).toBe(200);
  });

  it('leave out a session’s finished account calls, whose answers stay in the session’s history', async () => {
    const { server, login } = await start({ inspect: 'local' });
    const inspector = await listen(socketUrl(server.url));
    await login('alice');
    const lookup = '0.session.identifying';
    await inspector.until((all) => all.includes('"kind":"forgotten"'));
    const messages = parse(inspector.frames);
    const shown = messages.find((message) => message.kind === 'actor' && (message.actor as { id: string }).id === lookup);
    const sessionId = (shown?.actor as { sessionId: string } | undefined)?.sessionId;
    expect(sessionId, 'the lookup is shown while it runs').toBeDefined();
    expect(messages).toContainEqual({ kind: 'forgotten', sessionId });
    expect((await fetch(`${server.url}/inspector/history/${lookup}`)).status).toBe(404);
    const history = (await (await fetch(`${server.url}/inspector/history/session:1`)).json()) as { entries: HistoryEntry[] };
    expect(history.entries.find((entry) => entry.type === `xstate.done.actor.${lookup}`)).toMatchObject({ dir: 'in', event: { output: { registered: false } } });
    inspector.ws.close();
  });
});

describe('an actor’s history', () => {
  it('records each event with the state and context right after it, in a ring of the configured size', async () => {
    const { server, login } = await start({ inspect: 'local', inspectHistory: 6 });
    const alice = await login('alice');
    alice.send({ type: 4, channel: '#django' });
    await alice.next((frame) => frame.type === 4);
    const history = (await (await fetch(`${server.url}/inspector/history/session:1`)).json()) as {
      capacity: number;
      dropped: number;
      entries: HistoryEntry[];
    };
    expect(history.capacity).toBe(6);
    expect(history.entries).toHaveLength(6);
    expect(history.dropped).toBeGreaterThan(0);
    const joined = history.entries.find((entry) => entry.dir === 'in' && entry.type === 'channel.joined')!;
    // A guest: the nick is not registered.
    expect(joined.value).toEqual({ active: 'guest' });
    expect(joined.context).toMatchObject({ nick: 'alice', channels: ['#django'] });
    const sent = history.entries.find((entry) => entry.dir === 'out' && entry.type === 'route.join')!;
    // A session's events for the server go to its supervisor, which forwards them.
    expect(sent).toMatchObject({ source: 'session:1', target: 'supervisor:0' });
  });

  it('answers 404 with a reason for an actor it does not know', async () => {
    const { server } = await start({ inspect: 'local' });
    const response = await fetch(`${server.url}/inspector/history/session:99`);
    expect(response.status).toBe(404);
    expect(await response.text()).toContain('No actor session:99');
  });

  it('downloads a session’s trace from its connection to its close, bodies redacted', async () => {
    const { server, login } = await start({ inspect: 'local', nodeName: 'node-a' });
    const alice = await login('alice');
    alice.send({ type: 4, channel: '#django' });
    await alice.next((frame) => frame.type === 4);
    alice.send({ type: 0, dest: '#django', message: 'the secret plan' });
    await alice.next((frame) => frame.type === 0);
    alice.send({ type: 3 });
    await alice.closed;
    const lastIn = (entries: HistoryEntry[]) => entries.filter((entry) => entry.dir === 'in').at(-1);
    await expect
      .poll(async () => lastIn(((await (await fetch(`${server.url}/inspector/history/session:1`)).json()) as { entries: HistoryEntry[] }).entries)?.value)
      .toBe('closed');

    const response = await fetch(`${server.url}/inspector/trace/session:1`);
    expect(response.headers.get('content-disposition')).toBe('attachment; filename="trace-session-1.json"');
    const text = await response.text();
    expect(text).not.toContain('secret plan');
    const trace = JSON.parse(text) as Trace;
    expect(trace).toMatchObject({ format: 'xstate-chat-trace', version: 1, node: 'node-a', bodies: false, dropped: 0 });
    expect(trace.actor).toEqual({ id: 'session:1', label: 'session:1 · alice', machine: 'session' });
    const incoming = trace.events.filter((entry) => entry.dir === 'in').map((entry) => entry.type);
    // The session looks its nick up (an invoked actor, whose answer it receives) before the server takes the nick.
    expect(incoming.slice(0, 4)).toEqual(['connection.open', 'xstate.init', 'xstate.done.actor.0.session.identifying', 'session.accepted']);
    expect(incoming).toContain('client.message');
    expect(trace.events.find((entry) => entry.type === 'client.message')?.event.message).toBe(REDACTED);
    expect(lastIn(trace.events)).toMatchObject({ type: 'socket.closed', value: 'closed' });
  });
});

describe('redaction of secrets', () => {
  it('hides password, old_password and token at any depth, even when bodies are shown', () => {
    const event = summariseEvent(
      { type: 'client.login', nick: 'alice', password: 'hunter2', change: { old_password: 'a', token: 't', keep: 'k' } },
      true,
    );
    expect(event).toEqual({ type: 'client.login', nick: 'alice', password: REDACTED, change: { old_password: REDACTED, token: REDACTED, keep: 'k' } });
    expect(summariseContext({ nick: 'alice', token: 'abc' })).toEqual({ nick: 'alice', token: REDACTED });
  });

  it('hides them inside a frame’s text by the same rule, before a long frame is cut short', () => {
    const token = 't'.repeat(250);
    const frame = JSON.stringify({ type: 2, user: 'alice', token, account: { newPassword: 'hunter2' } });
    const sent = summariseEvent({ type: 'socket.send', to: '1', data: frame }, true);
    expect(sent.data).toBe(`{"type":2,"user":"alice","token":"${REDACTED}","account":{"newPassword":"${REDACTED}"}}`);
    // A publish carries its frame without the closing brace.
    const published = summariseEvent({ type: 'outbox.publish', channel: '#a', to: [], head: '{"type":0,"dest":"#a","message":"hi","old_password":"hunter2"' }, true);
    expect(published.head).toBe(`{"type":0,"dest":"#a","message":"hi","old_password":"${REDACTED}"`);
    // Words in a message are a body, not a field: shown when bodies are.
    expect(summariseEvent({ type: 'socket.send', to: '1', data: '{"type":0,"message":"my password is long"}' }, true).data).toContain('my password is long');
  });

  it('hides them in an invoked account call’s input and output, for inspectors that take whole snapshots', () => {
    const snapshot = { status: 'done', context: undefined, input: { nick: 'alice', password: 'hunter2' }, output: { ok: true, token: 'abc' } };
    expect(summariseWholeSnapshot(snapshot, true)).toEqual({
      status: 'done',
      context: {},
      input: { nick: 'alice', password: REDACTED },
      output: { ok: true, token: REDACTED },
    });
  });
});
