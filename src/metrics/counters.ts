/**
 * @module counters: what the edges of the server count, as plain numbers.
 *
 * The transport, each connection and the accounts add to these as traffic
 * passes; `/metrics` reads them only when it is scraped (`registry.ts`). So
 * a frame costs a few increments whether or not anything ever scrapes, and
 * no label set is hashed, no object allocated, on the hot path. Every label
 * has a fixed set of values (frame types, error codes, close codes, HTTP
 * statuses, login outcomes): nicks, channel names and bodies never become
 * labels, so the number of series stays bounded whatever clients send.
 */
import type { ClientCommand } from '../../machines/commands.js';
import { ERROR_LABELS, errorCodeAt, errorSlot, OUT_ERROR, OUT_TYPES, outTypeSlot } from './frame-type.js';

/** The `type` label of frames in: the protocol's frame types, then frames refused before or at validation. */
export const IN_TYPES = ['0', '1', '2', '3', '4', '5', '6', '8', 'invalid', 'rate_limited'] as const;
const IN_INVALID = IN_TYPES.indexOf('invalid');
export const IN_RATE_LIMITED = IN_TYPES.indexOf('rate_limited');

/** A validated frame's slot, by the command the transport made of it. */
const IN_SLOTS = new Map<ClientCommand['type'], number>([
  ['client.message', 0],
  ['client.register', 1],
  ['client.login', 2],
  ['client.logout', 3],
  ['client.join', 4],
  ['client.leave', 5],
  ['client.list', 6],
  ['client.history', 7],
]);

export const LOGIN_OUTCOMES = ['guest', 'password', 'token', 'refused'] as const;
export type LoginOutcome = (typeof LOGIN_OUTCOMES)[number];

/**
 * Errors that refuse a login at the door: the nick is invalid or taken, or a
 * registered nick's owner never proved it in time. A wrong password or token
 * is counted where it is checked (the accounts), since the same error codes
 * also answer password changes.
 */
const REFUSES_LOGIN = new Set(['invalid_nick', 'nick_taken', 'auth_timeout']);

/** Close codes are chosen by peers too: those outside the standard range and ours are `other`. */
const OWN_CLOSE_CODES = new Set([4001, 4008]);
export function closeCodeLabel(code: number): string {
  return (code >= 1000 && code <= 1015) || OWN_CLOSE_CODES.has(code) ? String(code) : 'other';
}

/** Whether the server answered an HTTP request or refused a WebSocket upgrade. */
export type RefusalKind = 'request' | 'upgrade';

export class ChatCounters {
  connectionsOpened = 0;
  /** By close code label. */
  readonly connectionsClosed = new Map<string, number>();
  readonly framesIn: number[] = IN_TYPES.map(() => 0);
  bytesIn = 0;
  readonly framesOut: number[] = OUT_TYPES.map(() => 0);
  bytesOut = 0;
  readonly errors: number[] = ERROR_LABELS.map(() => 0);
  /** By `kind status`. */
  readonly httpRefusals = new Map<string, number>();
  readonly logins: Record<LoginOutcome, number> = { guest: 0, password: 0, token: 0, refused: 0 };

  /**
   * A broadcast hands the same string to every recipient in a row, so its
   * UTF-8 length is measured once: comparing the very same string is a
   * pointer check, where measuring it scans every character. Truly private
   * (`#`), so no log line or dump of an object holding these counters can
   * show the last frame's body.
   */
  #lastFrame = '';
  #lastFrameBytes = 0;

  /** The last run of frames counted (see {@link framesOutMany}), with what it adds to the counts. */
  #lastRun: readonly string[] = [];
  #lastRunBytes = 0;
  #lastRunSlots: number[] = [];

  /**
   * Several frames queued for one client at once, all of one run the outbox
   * hands to many clients in a row: what they add up to is worked out once
   * per run. Logins and logouts only, so no error frame is among them.
   */
  framesOutMany(frames: readonly string[]): void {
    if (frames !== this.#lastRun) {
      this.#lastRun = frames;
      this.#lastRunBytes = frames.reduce((sum, data) => sum + Buffer.byteLength(data), 0);
      this.#lastRunSlots = frames.map(outTypeSlot);
    }
    this.bytesOut += this.#lastRunBytes;
    for (const slot of this.#lastRunSlots) this.framesOut[slot]! += 1;
  }

  /** One frame queued for a client; returns its type's slot in {@link OUT_TYPES}. */
  frameOut(data: string): number {
    if (data !== this.#lastFrame) {
      this.#lastFrame = data;
      this.#lastFrameBytes = Buffer.byteLength(data);
    }
    this.bytesOut += this.#lastFrameBytes;
    const slot = outTypeSlot(data);
    this.framesOut[slot]! += 1;
    if (slot === OUT_ERROR) this.errorOut(data);
    return slot;
  }

  /** One frame queued in parts (see `WsConnection.sendSplit`), `bytes` long in all: typed by its head, never an error. */
  splitFrameOut(head: string, bytes: number): void {
    this.bytesOut += bytes;
    this.framesOut[outTypeSlot(head)]! += 1;
  }

  /** One frame from a client, as the command it became (`client.invalid` for a refused one). */
  frameIn(command: ClientCommand['type'], bytes: number): void {
    this.bytesIn += bytes;
    this.framesIn[IN_SLOTS.get(command) ?? IN_INVALID]! += 1;
  }

  /** One frame from a client refused for its rate before it was read. */
  frameRateLimited(bytes: number): void {
    this.bytesIn += bytes;
    this.framesIn[IN_RATE_LIMITED]! += 1;
  }

  opened(): void {
    this.connectionsOpened += 1;
  }

  closed(code: number): void {
    add(this.connectionsClosed, closeCodeLabel(code));
  }

  refused(kind: RefusalKind, status: number): void {
    add(this.httpRefusals, `${kind} ${status}`);
  }

  login(outcome: LoginOutcome): void {
    this.logins[outcome] += 1;
  }

  /**
   * A connection's first login announcement is its own: the server has
   * taken its nick. An owner's carries its new resume token, and was counted
   * as a password or token login when that was checked; one without is a guest.
   */
  ownLogin(data: string): void {
    if (!data.includes('"token":')) this.login('guest');
  }

  private errorOut(data: string): void {
    const slot = errorSlot(data);
    this.errors[slot]! += 1;
    const code = errorCodeAt(slot);
    if (code !== undefined && REFUSES_LOGIN.has(code)) this.login('refused');
  }
}

function add(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}
