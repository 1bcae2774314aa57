/**
 * @module frame-type: the type and error code of an outgoing frame, read from
 * its first characters without parsing it.
 *
 * Every frame the server sends starts with `{"type":` (the machines build
 * each with `type` as its first key, and the few written as templates start
 * the same way), and an error frame goes on with `"code":`. Reading a digit
 * or two is what lets the metrics count every frame a broadcast fans out
 * while costing the hot path no more than an increment.
 */
import { ErrorCodes, type ErrorCode } from '../../machines/frames.js';

/** The `type` label of frames out, by slot: `-1` to `8`, then anything else. */
export const OUT_TYPES = ['-1', '0', '1', '2', '3', '4', '5', '6', '7', '8', 'other'] as const;
export const OUT_OTHER = OUT_TYPES.length - 1;
/** The slot of error frames (`-1`) and of login announcements (`2`). */
export const OUT_ERROR = 0;
export const OUT_LOGIN = 3;

/** `{"type":` is 8 characters: the type starts right after it. */
const TYPE_AT = 8;
const MINUS = 45;
const ZERO = 48;
const NINE = 57;

const isDigit = (code: number): boolean => code >= ZERO && code <= NINE;

/** The slot in {@link OUT_TYPES} of an encoded server frame. */
export function outTypeSlot(data: string): number {
  const first = data.charCodeAt(TYPE_AT);
  if (first === MINUS) {
    return data.charCodeAt(TYPE_AT + 1) === ZERO + 1 && !isDigit(data.charCodeAt(TYPE_AT + 2)) ? OUT_ERROR : OUT_OTHER;
  }
  // A second digit would make a type of 10 or more, which the protocol does not have.
  if (!isDigit(first) || isDigit(data.charCodeAt(TYPE_AT + 1))) return OUT_OTHER;
  return first - ZERO + 1;
}

/** `{"type":-1,"code":"` is 19 characters: the code starts right after it. */
const CODE_AT = 19;
const CODE_PREFIX = '{"type":-1,"code":"';

/** The `code` label of error frames: every protocol error code, then anything else. */
export const ERROR_LABELS: readonly string[] = [...ErrorCodes, 'other'];
const ERROR_SLOTS = new Map<string, number>(ErrorCodes.map((code, slot) => [code, slot]));
export const ERROR_OTHER = ErrorCodes.length;

/**
 * The slot in {@link ERROR_LABELS} of an encoded error frame's code. Errors
 * are few next to messages, so slicing the code out is cheap enough; a frame
 * that does not look like one counts as `other`, never as a code it might be.
 */
export function errorSlot(data: string): number {
  if (!data.startsWith(CODE_PREFIX)) return ERROR_OTHER;
  const end = data.indexOf('"', CODE_AT);
  return end < 0 ? ERROR_OTHER : (ERROR_SLOTS.get(data.slice(CODE_AT, end)) ?? ERROR_OTHER);
}

/** The error code in slot `slot`, for code that reacts to particular errors. */
export function errorCodeAt(slot: number): ErrorCode | undefined {
  return slot < ErrorCodes.length ? ErrorCodes[slot] : undefined;
}
