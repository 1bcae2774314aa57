/**
 * @module worker: one load generator process, forked by the coordinator. It
 * owns a share of the benchmark's WebSocket clients and does what the
 * coordinator's commands say (see `messages.ts`).
 *
 * Receivers count every frame that concerns them: each type 0 frame is checked
 * to be the next one of its sender, so a lost, duplicated or reordered frame
 * is caught where it happens, and `drain` proves the totals.
 */
import { connect as tcpConnect, type Socket } from 'node:net';
import { WebSocket } from 'ws';
import { CONNECT_CONCURRENCY } from './limits.js';
import type { ClientPlan, Command, Expected, Reply, Window } from './messages.js';
import { frameType, messageFrame, nowMicros, readDelivery, readOffset } from './payload.js';

interface Client extends ClientPlan {
  ws: WebSocket;
  /** Messages sent, and the last of them echoed back (the sender's acknowledgement). */
  sent: number;
  acked: number;
  /** Type 0 frames received, and the last sequence number seen from each sender. */
  received: number;
  lastSeq: Map<number, number>;
  /** Logins and logouts of churning users seen since this client logged in. */
  churnLogins: number;
  churnLogouts: number;
  /** With offsets checked: the offset of the last event of its channel, from its own join on. */
  lastOffset: number | undefined;
  /** With offsets checked: the first message's offset, and a hash of every message's offset, sender and seq in order. */
  firstMessageOffset: number;
  orderHash: number;
  /** With `ackByAll`: how many of this worker's members have each of its messages not yet acknowledged. */
  receipts: Map<number, number>;
}

/** What marks a frame of a channel's past, sent to a joiner before its own join. */
const HISTORY_MARK = '"history":true';

/** Which worker this is, so churning nicks from different workers never collide. */
const WORKER_ID = process.env.BENCH_WORKER_ID ?? '0';

const state = {
  clients: [] as Client[],
  rawSockets: [] as Socket[],
  stormClients: [] as StormClient[],
  churners: new Set<WebSocket>(),
  problems: [] as string[],
  mode: 'idle' as 'idle' | 'flood' | 'rate',
  window: 0,
  measure: { from: Infinity, to: -Infinity } as Window,
  delivered: 0,
  latencies: [] as number[],
  churnPrefix: '',
  stopping: false,
  resetting: false,
  timer: undefined as NodeJS.Timeout | undefined,
  churnLoops: [] as Promise<void>[],
  cycles: 0,
  cyclesInWindow: 0,
  checkOffsets: false,
  /** Flood senders wait for every member here, not only their own echo (see the `flood` command). */
  ackByAll: false,
  senders: new Map<number, Client>(),
  membersHere: new Map<string, number>(),
};

function reply(message: Reply): void {
  process.send!(message);
}

function problem(text: string): void {
  // A run with one problem is failed; a few examples are enough to say why.
  if (state.problems.length < 20) state.problems.push(text);
}

function wsUrl(url: string, nick: string): string {
  return `${url.replace(/^http/, 'ws')}/chat/login/${encodeURIComponent(nick)}`;
}

function send(client: Client): void {
  client.sent++;
  client.ws.send(messageFrame(client.channel!, client.sender, client.sent));
}

/** FNV-1a, one number at a time: cheap, and any change of offset, sender or order changes it. */
function mix(hash: number, value: number): number {
  return Math.imul(hash ^ value, 16777619) >>> 0;
}

/** Checks that a channel event comes with the offset after the last one; returns it, or undefined if it has none. */
function checkOffset(client: Client, text: string): number | undefined {
  const offset = readOffset(text);
  if (offset === undefined) {
    problem(`${client.nick}: channel event without an offset ${text.slice(0, 120)}`);
    return undefined;
  }
  if (client.lastOffset !== undefined && offset !== client.lastOffset + 1) {
    problem(`${client.nick}: offset ${offset} after ${client.lastOffset} in ${client.channel}`);
  }
  client.lastOffset = offset;
  return offset;
}

function acknowledge(client: Client, seq: number): void {
  client.acked = seq;
  if (state.mode === 'flood' && !state.stopping) while (client.sent - client.acked < state.window) send(client);
}

function onFrame(client: Client, text: string): void {
  const type = frameType(text);
  if (type === 0) {
    const delivery = readDelivery(text);
    if (!delivery) return problem(`${client.nick}: unreadable message frame ${text.slice(0, 80)}`);
    if (state.checkOffsets) {
      const offset = checkOffset(client, text) ?? -1;
      if (client.firstMessageOffset < 0) client.firstMessageOffset = offset;
      client.orderHash = mix(mix(mix(client.orderHash, offset), delivery.sender), delivery.seq);
    }
    const last = client.lastSeq.get(delivery.sender) ?? 0;
    if (delivery.seq !== last + 1) {
      problem(`${client.nick}: message ${delivery.seq} of sender ${delivery.sender} after ${last}`);
    }
    client.lastSeq.set(delivery.sender, delivery.seq);
    client.received++;
    const now = nowMicros();
    if (now >= state.measure.from && now < state.measure.to) state.delivered++;
    if (state.mode === 'rate' && delivery.sentAt >= state.measure.from && delivery.sentAt < state.measure.to) {
      state.latencies.push(now - delivery.sentAt);
    }
    if (state.ackByAll) {
      // Acknowledged once every member this worker holds has it: a node behind the others holds the senders on every node back.
      const sender = state.senders.get(delivery.sender);
      if (sender) {
        const count = (sender.receipts.get(delivery.seq) ?? 0) + 1;
        if (count < state.membersHere.get(sender.channel!)!) sender.receipts.set(delivery.seq, count);
        else {
          sender.receipts.delete(delivery.seq);
          acknowledge(sender, delivery.seq);
        }
      }
    } else if (delivery.sender === client.sender) acknowledge(client, delivery.seq);
  } else if ((type === 4 || type === 5) && state.checkOffsets) {
    checkOffset(client, text);
  } else if (type === 2 || type === 3) {
    if (state.churnPrefix && text.startsWith(`{"type":${type},"user":"${state.churnPrefix}`)) {
      if (type === 2) client.churnLogins++;
      else client.churnLogouts++;
    }
  } else if (type === -1 || Number.isNaN(type)) {
    problem(`${client.nick}: unexpected frame ${text.slice(0, 120)}`);
  }
}

/** Opens one client and resolves once it is logged in and, if it has a channel, has seen its own join. */
function logIn(url: string, plan: ClientPlan): Promise<Client> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl(plan.url ?? url, plan.nick), { perMessageDeflate: false, skipUTF8Validation: true });
    const client: Client = {
      ...plan,
      ws,
      sent: 0,
      acked: 0,
      received: 0,
      lastSeq: new Map(),
      churnLogins: 0,
      churnLogouts: 0,
      lastOffset: undefined,
      firstMessageOffset: -1,
      orderHash: 2166136261,
      receipts: new Map(),
    };
    let phase: 'login' | 'join' | 'ready' = 'login';
    ws.on('message', (data: Buffer) => {
      const text = data.toString();
      if (phase === 'ready') return onFrame(client, text);
      const type = frameType(text);
      if (type === -1) return reject(new Error(`${plan.nick} refused: ${text}`));
      if (phase === 'login' && type === 6) {
        if (plan.channel === undefined) {
          phase = 'ready';
          return resolve(client);
        }
        phase = 'join';
        ws.send(JSON.stringify({ type: 4, channel: plan.channel }));
      } else if (phase === 'join' && type === 4 && !text.includes(HISTORY_MARK)) {
        // A joiner's own join frame is the first live join frame it receives from its channel: the channel's past (history) comes before it.
        phase = 'ready';
        if (state.checkOffsets) client.lastOffset = readOffset(text);
        resolve(client);
      }
    });
    ws.on('error', (error) => {
      if (!state.resetting) problem(`${plan.nick}: ${error.message}`);
      reject(error);
    });
    ws.on('close', (code) => {
      if (!state.resetting) problem(`${plan.nick}: closed by the server (${code})`);
      reject(new Error(`${plan.nick} closed (${code}) during setup`));
    });
  });
}

/** Runs `task` over `items` with at most `limit` in flight. */
async function pool<T, R>(items: readonly T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

/** One churning user's life: connect, wait for the login to be complete, disconnect. */
function churnOnce(url: string, nick: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl(url, nick), { perMessageDeflate: false, skipUTF8Validation: true });
    state.churners.add(ws);
    let loggedIn = false;
    ws.on('message', (data: Buffer) => {
      if (loggedIn) return;
      const type = frameType(data.toString());
      if (type === 6) {
        loggedIn = true;
        ws.close();
      } else if (type === -1) reject(new Error(`${nick} refused: ${data.toString()}`));
    });
    ws.on('error', reject);
    ws.on('close', () => {
      state.churners.delete(ws);
      if (loggedIn) resolve();
      else reject(new Error(`${nick} closed before its login completed`));
    });
  });
}

async function churnLoop(url: string, prefix: string, lane: number): Promise<void> {
  for (let n = 0; !state.stopping; n++) {
    try {
      await churnOnce(url, `${prefix}${WORKER_ID}l${lane}x${n}`);
    } catch (error) {
      if (!state.resetting) problem(`churn: ${(error as Error).message}`);
      return;
    }
    state.cycles++;
    const now = nowMicros();
    if (now >= state.measure.from && now < state.measure.to) state.cyclesInWindow++;
  }
}

interface StormClient {
  nick: string;
  /** Its own login frame, `{"type":2,"user":"NICK"`, as bytes up to the nick's closing quote. */
  ownLogin: Buffer;
  loggedIn: boolean;
  /** Users in its user list (itself included); -1 until the list has come. */
  listed: number;
  /** Login frames of others. */
  announced: number;
  /** The first frame it did not expect (a refusal, say), which ends its login. */
  refused?: string;
}

const COMMA = 0x2c;
/** Where a server frame's type digit sits: after `{"type":`. */
const TYPE_AT = 8;

/** The frame type of a text frame's payload at `buf[start]`, from its first bytes; NaN if not `{"type":D,`, -1 for an error. */
function rawFrameType(buf: Buffer, start: number, end: number): number {
  if (end - start < TYPE_AT + 2 || buf[start] !== 0x7b || buf[start + 1] !== 0x22) return Number.NaN;
  const c = buf[start + TYPE_AT]!;
  if (c === 0x2d) return -1;
  return c >= 0x30 && c <= 0x39 && buf[start + TYPE_AT + 1] === COMMA ? c - 0x30 : Number.NaN;
}

/**
 * What a storm client does with each frame: a few byte compares, never
 * `JSON.parse`, so ten thousand clients hearing fifty million login frames
 * cost the load generator far less than they cost the server. Nicks have no
 * commas, so a user list's length is its commas: one before the list, and
 * one between each two users.
 */
function onStormFrame(client: StormClient, buf: Buffer, start: number, end: number): void {
  const type = rawFrameType(buf, start, end);
  if (type === 2) {
    // Only the first of its own counts as its own: a second is one more announcement, which the final count catches.
    const own = !client.loggedIn && end - start > client.ownLogin.length && buf.compare(client.ownLogin, 0, client.ownLogin.length, start, start + client.ownLogin.length) === 0;
    if (own) client.loggedIn = true;
    else client.announced++;
  } else if (type === 6 && client.listed < 0) {
    let commas = 0;
    for (let i = start; i < end; i++) if (buf[i] === COMMA) commas++;
    client.listed = commas;
  } else {
    client.refused ??= buf.toString('utf8', start, Math.min(end, start + 120));
    problem(`${client.nick}: unexpected frame ${client.refused}`);
  }
}

/**
 * Reads a stream of server frames (never masked) whole, one chunk at a time,
 * and hands each text frame's payload to `onText` where it lies in the chunk.
 * Pings are answered with a pong as a browser would: a server that drops
 * peers which stop answering pings would otherwise drop idle clients.
 */
function frameReader(socket: Socket, onText: (buf: Buffer, start: number, end: number) => void): (chunk: Buffer) => void {
  let carry: Buffer | undefined;
  return (chunk) => {
    const buf = carry ? Buffer.concat([carry, chunk]) : chunk;
    carry = undefined;
    let at = 0;
    for (;;) {
      const left = buf.length - at;
      if (left < 2) break;
      const opcode = buf[at]! & 0x0f;
      let length = buf[at + 1]! & 0x7f;
      let header = 2;
      if (length === 126) {
        if (left < 4) break;
        length = buf.readUInt16BE(at + 2);
        header = 4;
      } else if (length === 127) {
        if (left < 10) break;
        length = Number(buf.readBigUInt64BE(at + 2));
        header = 10;
      }
      if (left < header + length) break;
      const start = at + header;
      if (opcode === 0x1) onText(buf, start, start + length);
      // A client's frames are masked; an all-zero mask leaves the payload as it is.
      else if (opcode === 0x9) socket.write(Buffer.concat([Buffer.from([0x8a, 0x80 | length, 0, 0, 0, 0]), buf.subarray(start, start + length)]));
      at = start + length;
    }
    // Copied, so a partial frame does not hold the whole chunk.
    if (at < buf.length) carry = Buffer.from(buf.subarray(at));
  };
}

/** A raw WebSocket client that logs `nick` in and resolves once it has its own login frame and its user list. */
function openStorm(url: string, nick: string): Promise<StormClient> {
  const { hostname, port } = new URL(url);
  const client: StormClient = { nick, ownLogin: Buffer.from(`{"type":2,"user":${JSON.stringify(nick)}`), loggedIn: false, listed: -1, announced: 0 };
  return new Promise((resolve, reject) => {
    const socket = tcpConnect({ host: hostname, port: Number(port) });
    state.rawSockets.push(socket);
    let upgraded = false;
    let ready = false;
    const read = frameReader(socket, (buf, start, end) => {
      onStormFrame(client, buf, start, end);
      if (!ready && client.refused !== undefined) reject(new Error(`${nick}: ${client.refused}`));
      if (!ready && client.loggedIn && client.listed >= 0) {
        ready = true;
        resolve(client);
      }
    });
    socket.on('connect', () => {
      socket.write(
        `GET /chat/login/${encodeURIComponent(nick)} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\n` +
          'Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
      );
    });
    socket.on('data', (chunk) => {
      if (upgraded) return read(chunk);
      upgraded = true;
      if (chunk.toString('latin1', 0, 12) !== 'HTTP/1.1 101') return reject(new Error(`${nick}: upgrade refused: ${chunk.toString('latin1', 0, 40)}`));
      // Frames may follow the response headers in the same chunk.
      const end = chunk.indexOf('\r\n\r\n');
      if (end >= 0 && end + 4 < chunk.length) read(chunk.subarray(end + 4));
    });
    socket.on('error', (error) => {
      if (!state.resetting) problem(`${nick}: ${error.message}`);
      reject(error);
    });
    socket.on('close', () => {
      if (!state.resetting) problem(`${nick}: storm connection closed by the server`);
      reject(new Error(`${nick} closed`));
    });
  });
}

function checkDrained(expected: Expected): string[] {
  const short: string[] = [];
  let missing = 0;
  let extra = 0;
  for (const client of state.clients) {
    if (expected.messages && client.channel !== undefined) {
      const want = expected.messages[client.channel] ?? 0;
      if (client.received < want) missing += want - client.received;
      if (client.received > want) extra += client.received - want;
    }
    if (expected.logins !== undefined) {
      missing += Math.max(0, expected.logins - client.churnLogins) + Math.max(0, expected.logins - client.churnLogouts);
      extra += Math.max(0, client.churnLogins - expected.logins) + Math.max(0, client.churnLogouts - expected.logins);
    }
  }
  if (expected.users !== undefined) {
    for (const client of state.stormClients) {
      const heard = client.listed + client.announced;
      if (heard < expected.users) missing += expected.users - heard;
      if (heard > expected.users) extra += heard - expected.users;
    }
  }
  if (missing > 0) short.push(`${missing} expected frames never arrived`);
  if (extra > 0) short.push(`${extra} frames more than were sent arrived`);
  return short;
}

async function drain(expected: Expected, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let shortfall = checkDrained(expected);
  while (shortfall.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    shortfall = checkDrained(expected);
  }
  for (const text of shortfall) problem(text);
  const orders: Record<string, string[]> = {};
  if (state.checkOffsets) {
    for (const client of state.clients) {
      if (client.channel !== undefined) (orders[client.channel] ??= []).push(`${client.firstMessageOffset}:${client.received}:${client.orderHash}`);
    }
  }
  reply({ reply: 'drained', ok: state.problems.length === 0, delivered: state.delivered, latencies: state.latencies, problems: state.problems, orders });
}

function stop(): void {
  state.stopping = true;
  clearInterval(state.timer);
  void Promise.all(state.churnLoops).then(() => {
    const sentByChannel: Record<string, number> = {};
    for (const client of state.clients) {
      if (client.channel !== undefined) sentByChannel[client.channel] = (sentByChannel[client.channel] ?? 0) + client.sent;
    }
    reply({ reply: 'stopped', sentByChannel, cycles: state.cycles, cyclesInWindow: state.cyclesInWindow });
  });
}

async function reset(): Promise<void> {
  state.resetting = true;
  clearInterval(state.timer);
  for (const client of state.clients) client.ws.terminate();
  for (const ws of state.churners) ws.terminate();
  for (const socket of state.rawSockets) socket.destroy();
  await Promise.allSettled(state.churnLoops);
  Object.assign(state, {
    clients: [],
    rawSockets: [],
    stormClients: [],
    churners: new Set(),
    problems: [],
    mode: 'idle',
    window: 0,
    measure: { from: Infinity, to: -Infinity },
    delivered: 0,
    latencies: [],
    churnPrefix: '',
    stopping: false,
    timer: undefined,
    churnLoops: [],
    cycles: 0,
    cyclesInWindow: 0,
    checkOffsets: false,
    ackByAll: false,
    senders: new Map(),
    membersHere: new Map(),
  });
  // Let the terminated sockets' close events fire while `resetting` still hides them.
  await new Promise((resolve) => setTimeout(resolve, 50));
  state.resetting = false;
  reply({ reply: 'reset' });
}

async function handle(command: Command): Promise<void> {
  switch (command.cmd) {
    case 'login': {
      state.checkOffsets = command.checkOffsets ?? false;
      state.clients = await pool(command.clients, CONNECT_CONCURRENCY, (plan) => logIn(command.url, plan));
      return reply({ reply: 'ready', clients: state.clients.length });
    }
    case 'flood': {
      Object.assign(state, { mode: 'flood', window: command.window, measure: command.measure, ackByAll: command.ackByAll ?? false });
      for (const client of state.clients) {
        if (client.channel === undefined) continue;
        state.senders.set(client.sender, client);
        state.membersHere.set(client.channel, (state.membersHere.get(client.channel) ?? 0) + 1);
      }
      for (const client of state.clients) while (client.sent < command.window) send(client);
      return;
    }
    case 'rate': {
      Object.assign(state, { mode: 'rate', measure: command.measure });
      const senders = state.clients.filter((client) => client.channel !== undefined);
      const start = nowMicros();
      let sent = 0;
      state.timer = setInterval(() => {
        const due = Math.floor((command.rate * (nowMicros() - start)) / 1e6) - sent;
        for (let i = 0; i < due; i++) send(senders[sent++ % senders.length]!);
      }, command.tickMs);
      return;
    }
    case 'churn': {
      Object.assign(state, { churnPrefix: command.prefix, measure: command.measure });
      state.churnLoops = Array.from({ length: command.concurrency }, (_, lane) => churnLoop(command.url, command.prefix, lane));
      return;
    }
    case 'stop':
      return stop();
    case 'drain':
      return drain(command.expected, command.timeoutMs);
    case 'storm': {
      const nicks = Array.from({ length: command.count }, (_, i) => `${command.prefix}${command.from + i}`);
      // Added to those already open: the storm logs its clients in, in phases.
      const opened = await pool(nicks, command.inFlight, (nick) => openStorm(command.url, nick));
      state.stormClients.push(...opened);
      return reply({ reply: 'ready', clients: opened.length });
    }
    case 'reset':
      return reset();
  }
}

process.on('message', (command: Command) => {
  handle(command).catch((error: unknown) => reply({ reply: 'error', message: (error as Error).message }));
});
process.on('disconnect', () => process.exit(0));
