/**
 * @module frame-type.test: reading a frame's type and error code from its
 * first characters, as the counters do for every frame out.
 */
import { describe, expect, it } from 'vitest';
import { encode, errorFrame, ErrorCodes } from '../../machines/frames.js';
import { asHistory, completeFrame } from '../../machines/history.js';
import { ERROR_LABELS, errorSlot, OUT_TYPES, outTypeSlot } from '../../src/metrics/frame-type.js';

const typeOf = (data: string) => OUT_TYPES[outTypeSlot(data)];

describe('the type of a frame out', () => {
  it.each([
    [encode({ type: 0, dest: '#a', message: '{"type":5}', user: 'u' }), '0'],
    [encode({ type: 6, users: [] }), '6'],
    [encode(errorFrame('not_member', 7)), '-1'],
    [asHistory(completeFrame('{"type":4,"channel":"#a","user":"u"', 3, 1)), '4'],
    ['{"type":8,"channel":"#a","events":[],"more":false}', '8'],
    ['{"type":12}', 'other'],
    ['{"type":-12}', 'other'],
    ['{"type":"0"}', 'other'],
    ['', 'other'],
  ])('reads %s as type %s', (data, type) => {
    expect(typeOf(data)).toBe(type);
  });
});

describe('the code of an error frame', () => {
  it('reads every error code the server can send', () => {
    for (const code of ErrorCodes) expect(ERROR_LABELS[errorSlot(encode(errorFrame(code, 'x')))]).toBe(code);
  });

  it('counts anything else as other, never as a code it might be', () => {
    expect(ERROR_LABELS[errorSlot('{"type":-1,"code":"made_up","message":"m"}')]).toBe('other');
    expect(ERROR_LABELS[errorSlot('{"type":-1,"message":"m","code":"not_member"}')]).toBe('other');
    expect(ERROR_LABELS[errorSlot('{"type":-1,"code":"not_member')]).toBe('other');
  });
});
