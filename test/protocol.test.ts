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
    expect(parseClientFrame('{"type":1,"password":"correct horse"}')).toEqual({ type: 'client.register', password: 'correct horse' });
    expect(parseClientFrame('{"type":1,"password":"new password","old_password":"x"}')).toEqual({
      type: 'client.register',
      password: 'new password',
      oldPassword: 'x',
    });
    expect(parseClientFrame('{"type":2}')).toEqual({ type: 'client.login' });
    expect(parseClientFrame('{"type":2,"user":"x","password":"p"}')).toEqual({ type: 'client.login', user: 'x', password: 'p' });
    expect(parseClientFrame('{"type":2,"user":"x","token":"t"}')).toEqual({ type: 'client.login', user: 'x', token: 't' });
    expect(parseClientFrame('{"type":3}')).toEqual({ type: 'client.logout' });
    expect(parseClientFrame('{"type":4,"channel":"##a"}')).toEqual({ type: 'client.join', channel: '#a' });
    expect(parseClientFrame('{"type":5,"channel":"A"}')).toEqual({ type: 'client.leave', channel: '#a' });
    expect(parseClientFrame('{"type":6}')).toEqual({ type: 'client.list' });
    expect(parseClientFrame('{"type":6,"channel":"a","id":"r"}')).toEqual({ type: 'client.list', channel: '#a', id: 'r' });
  });

  it('refuses a password to set that is missing, not a string, or outside 8 to 1024 characters', () => {
    expect(parseClientFrame('{"type":1}')).toMatchObject({ type: 'client.invalid', code: 'bad_request' });
    expect(parseClientFrame('{"type":1,"password":12345678}')).toMatchObject({ type: 'client.invalid', code: 'bad_request' });
    expect(parseClientFrame('{"type":1,"password":"1234567","id":4}')).toMatchObject({ code: 'weak_password', id: 4 });
    expect(parseClientFrame(JSON.stringify({ type: 1, password: 'x'.repeat(1025) }))).toMatchObject({ code: 'weak_password' });
    expect(parseClientFrame(JSON.stringify({ type: 1, password: 'x'.repeat(1024) }))).toMatchObject({ type: 'client.register' });
    expect(parseClientFrame('{"type":1,"password":"12345678","old_password":5}')).toMatchObject({ code: 'bad_request' });
  });

  it('refuses login credentials that are not strings', () => {
    expect(parseClientFrame('{"type":2,"user":"x","password":5}')).toMatchObject({ code: 'bad_request' });
    expect(parseClientFrame('{"type":2,"user":"x","token":null}')).toMatchObject({ code: 'bad_request' });
    expect(parseClientFrame('{"type":2,"user":7,"token":"t"}')).toMatchObject({ code: 'bad_request' });
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
