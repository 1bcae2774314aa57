/**
 * @module chat: the chat protocol both baseline servers speak, on bare `ws`,
 * written the way a user would in an afternoon: plain Maps, and only the
 * protocol the scenarios exercise (login, user list, join, message, leave,
 * logout and disconnect), with the checks a careful afternoon adds.
 *
 * How frames reach the sockets is the one thing the baselines differ in, so it
 * is the `Outbox` each passes to `serveChat`: one stringify and `ws.send` per
 * recipient (`ws-server.ts`), or one encoding per event and corked writes
 * (`ws-corked-server.ts`).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { WebSocket, WebSocketServer } from 'ws';

export interface Outbox {
  send(ws: WebSocket, frame: object): void;
  /** The same frame to every socket in `sockets`. */
  sendAll(sockets: Iterable<WebSocket>, frame: object): void;
}

interface User {
  nick: string;
  channels: Set<string>;
}

const NAME = /^[\p{L}\p{N}_-]{1,32}$/u;

/** Listens on `--port` and `--host`; prints its URL (`http://HOST:PORT`) on one line once listening. */
export function serveChat({ send, sendAll }: Outbox): void {
  const users = new Map<WebSocket, User>();
  const nicks = new Map<string, WebSocket>();
  const channels = new Map<string, Set<WebSocket>>();

  function fail(ws: WebSocket, code: string, id?: unknown): void {
    send(ws, id === undefined ? { type: -1, code, message: code } : { type: -1, code, message: code, id });
  }

  function channelName(value: unknown): string | undefined {
    if (typeof value !== 'string') return undefined;
    const name = value.replace(/^#+/, '');
    return NAME.test(name) ? `#${name.toLowerCase()}` : undefined;
  }

  function leave(ws: WebSocket, user: User, name: string, disconnected: boolean): void {
    const members = channels.get(name);
    if (!members) return;
    const frame = { type: 5, channel: name, user: user.nick };
    if (!disconnected) sendAll(members, frame);
    members.delete(ws);
    user.channels.delete(name);
    if (disconnected) sendAll(members, frame);
    if (members.size === 0) channels.delete(name);
  }

  function handle(ws: WebSocket, user: User, text: string): void {
    let frame: Record<string, unknown>;
    try {
      frame = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return fail(ws, 'bad_json');
    }
    if (typeof frame !== 'object' || frame === null) return fail(ws, 'bad_json');
    const id = frame.id;
    switch (frame.type) {
      case 0: {
        const dest = channelName(frame.dest);
        const message = frame.message;
        if (!dest || typeof message !== 'string' || message.length < 1 || message.length > 2048) return fail(ws, 'bad_request', id);
        if (!user.channels.has(dest)) return fail(ws, 'not_member', id);
        return sendAll(channels.get(dest) ?? [], { type: 0, dest, message, user: user.nick });
      }
      case 3:
        return ws.close(1000, 'logged out');
      case 4: {
        const name = channelName(frame.channel);
        if (!name) return fail(ws, 'invalid_channel', id);
        if (user.channels.has(name)) return fail(ws, 'already_member', id);
        let members = channels.get(name);
        if (!members) channels.set(name, (members = new Set()));
        members.add(ws);
        user.channels.add(name);
        return sendAll(members, { type: 4, channel: name, user: user.nick });
      }
      case 5: {
        const name = channelName(frame.channel);
        if (!name || !user.channels.has(name)) return fail(ws, 'not_member', id);
        return leave(ws, user, name, false);
      }
      case 6: {
        if (frame.channel === undefined) {
          const list = [...users.values()].map((u) => u.nick);
          return send(ws, id === undefined ? { type: 6, users: list } : { type: 6, users: list, id });
        }
        const name = channelName(frame.channel);
        if (!name) return fail(ws, 'invalid_channel', id);
        const list = [...(channels.get(name) ?? [])].map((member) => users.get(member)!.nick);
        return send(ws, id === undefined ? { type: 6, channel: name, users: list } : { type: 6, channel: name, users: list, id });
      }
      default:
        return fail(ws, 'unknown_type', id);
    }
  }

  function accept(ws: WebSocket, nick: string): void {
    ws.on('error', () => {});
    if (!NAME.test(nick)) {
      fail(ws, 'invalid_nick');
      return ws.close(1008, 'invalid nick');
    }
    if (nicks.has(nick.toLowerCase())) {
      fail(ws, 'nick_taken');
      return ws.close(1008, 'nick taken');
    }
    const user: User = { nick, channels: new Set() };
    users.set(ws, user);
    nicks.set(nick.toLowerCase(), ws);
    sendAll(users.keys(), { type: 2, user: nick });
    send(ws, { type: 6, users: [...users.values()].map((u) => u.nick) });

    ws.on('message', (data, isBinary) => {
      if (isBinary) fail(ws, 'bad_request');
      else handle(ws, user, data.toString());
    });
    ws.on('close', () => {
      for (const name of [...user.channels]) leave(ws, user, name, true);
      users.delete(ws);
      nicks.delete(nick.toLowerCase());
      sendAll(users.keys(), { type: 3, user: nick });
    });
  }

  const { values } = parseArgs({ options: { port: { type: 'string', default: '8667' }, host: { type: 'string', default: '127.0.0.1' } } });
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  const http = createServer((_request, response) => response.writeHead(404).end());
  http.on('upgrade', (request, socket, head) => {
    socket.on('error', () => socket.destroy());
    const match = /^\/chat\/login\/([^/]*)$/.exec(new URL(request.url ?? '/', 'http://localhost').pathname);
    if (!match) return socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    let nick: string;
    try {
      nick = decodeURIComponent(match[1] ?? '');
    } catch {
      nick = '';
    }
    wss.handleUpgrade(request, socket, head, (ws) => accept(ws, nick));
  });
  http.listen(Number(values.port), values.host, () => {
    const { address, port } = http.address() as AddressInfo;
    process.stdout.write(`http://${address}:${port}\n`);
  });
  process.once('SIGTERM', () => process.exit(0));
  process.once('SIGINT', () => process.exit(0));
}
