/**
 * @module protocol.test: the edge's frame validation and the naming rules, without sockets.
 */
import { describe, expect, it } from 'vitest';
import { canonicalChannel, isValidNick, nickKey } from '../machines/names.js';
import { parseClientFrame } from '../src/protocol.js';

describe('parseClientFrame', () => {
  it('turns each frame type into its session command', () => {
    expect(parseClientFrame('{"type":0,"dest":"#Django","message":"hi"}')).toEqual({
      type: 'client.message',
      channel: '#django',
      message: 'hi',
    });
    expect(parseClientFrame('{"type":1}')).toEqual({ type: 'client.register' });
    expect(parseClientFrame('{"type":2,"user":"x"}')).toEqual({ type: 'client.login' });
    expect(parseClientFrame('{"type":3}')).toEqual({ type: 'client.logout' });
    expect(parseClientFrame('{"type":4,"channel":"##a"}')).toEqual({ type: 'client.join', channel: '#a' });
    expect(parseClientFrame('{"type":5,"channel":"A"}')).toEqual({ type: 'client.leave', channel: '#a' });
    expect(parseClientFrame('{"type":6}')).toEqual({ type: 'client.list' });
    expect(parseClientFrame('{"type":6,"channel":"a","id":"r"}')).toEqual({ type: 'client.list', channel: '#a', id: 'r' });
  });

  it('prefers bad_request over a bad value when a field is also missing', () => {
    expect(parseClientFrame('{"type":0,"dest":"no way"}')).toMatchObject({ type: 'client.invalid', code: 'bad_request' });
  });

  it('keeps the id on errors found after the id was read', () => {
    expect(parseClientFrame('{"type":0,"dest":"x","message":"","id":5}')).toMatchObject({
      code: 'invalid_message',
      id: 5,
    });
  });

  it('refuses ids that are neither short strings nor integers, without echoing them', () => {
    for (const id of ['1.5', 'true', '[1]', `"${'x'.repeat(65)}"`]) {
      const command = parseClientFrame(`{"type":6,"id":${id}}`);
      expect(command).toMatchObject({ type: 'client.invalid', code: 'bad_request' });
      expect(command).not.toHaveProperty('id');
    }
  });
});

describe('names', () => {
  it('counts nick length in characters, not UTF-16 units', () => {
    expect(isValidNick('😀')).toBe(false);
    expect(isValidNick('𝒜'.repeat(32))).toBe(true);
    expect(isValidNick('𝒜'.repeat(33))).toBe(false);
  });

  it('compares nicks regardless of case', () => {
    expect(nickKey('ÉLODIE')).toBe(nickKey('élodie'));
  });

  it('canonicalizes channels to "#" and lower case, and refuses bad names', () => {
    expect(canonicalChannel('##DjAnGo')).toBe('#django');
    expect(canonicalChannel('#')).toBeUndefined();
    expect(canonicalChannel('a#b')).toBeUndefined();
  });
});
