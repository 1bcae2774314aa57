/**
 * @module payload: what benchmark clients put in a message, and how they read
 * frames back cheaply.
 *
 * The load generator shares two cores with the server, so receivers avoid
 * `JSON.parse` on the hot path: both servers emit `{"type":T,...}` first, and a
 * message's text carries `sender.seq.sentAtMicros`, which is all a receiver
 * needs to count, order-check and time each delivery.
 */
import { MESSAGE_PADDING } from './limits.js';

/** Microseconds on the machine's monotonic clock, comparable across processes. */
export function nowMicros(): number {
  const [seconds, nanos] = process.hrtime();
  return seconds * 1e6 + Math.floor(nanos / 1e3);
}

/** The frame a client sends for message number `seq` of global sender `sender`. */
export function messageFrame(channel: string, sender: number, seq: number): string {
  return `{"type":0,"dest":"${channel}","message":"${sender}.${seq}.${nowMicros()}.${MESSAGE_PADDING}"}`;
}

/**
 * The frame type of a server frame, read from `{"type":` at the start. NaN
 * for anything else, which a receiver must treat as a protocol failure.
 */
export function frameType(text: string): number {
  if (!text.startsWith('{"type":')) return Number.NaN;
  const c = text.charCodeAt(8);
  if (c === 45 /* - */) return -1;
  return c >= 48 && c <= 57 && text.charCodeAt(9) === 44 /* , */ ? c - 48 : Number.NaN;
}

export interface Delivery {
  sender: number;
  seq: number;
  sentAt: number;
}

const MESSAGE_KEY = '"message":"';

/** Reads the sender, sequence number and send time out of a type 0 frame; undefined if it is not ours. */
export function readDelivery(text: string): Delivery | undefined {
  const start = text.indexOf(MESSAGE_KEY);
  if (start < 0) return undefined;
  let i = start + MESSAGE_KEY.length;
  const fields = [0, 0, 0];
  for (let f = 0; f < 3; f++) {
    let value = 0;
    let digits = 0;
    for (let c = text.charCodeAt(i); c >= 48 && c <= 57; c = text.charCodeAt(++i)) {
      value = value * 10 + (c - 48);
      digits++;
    }
    if (digits === 0 || text.charCodeAt(i) !== 46 /* . */) return undefined;
    fields[f] = value;
    i++;
  }
  return { sender: fields[0]!, seq: fields[1]!, sentAt: fields[2]! };
}

const OFFSET_KEY = '"offset":';

/**
 * The offset of a channel event frame (`…,"offset":N,"time":T}`), read from
 * its end, where the project puts it; undefined if it has none.
 */
export function readOffset(text: string): number | undefined {
  const at = text.lastIndexOf(OFFSET_KEY);
  if (at < 0) return undefined;
  let value = 0;
  let digits = 0;
  for (let i = at + OFFSET_KEY.length, c = text.charCodeAt(i); c >= 48 && c <= 57; c = text.charCodeAt(++i)) {
    value = value * 10 + (c - 48);
    digits++;
  }
  return digits === 0 ? undefined : value;
}
