/**
 * @module errors.test: malformed frames each earn exactly one error and the connection stays open.
 */
import { describe, expect, it } from 'vitest';
import { TestClient } from '../support/client.js';
import { useServer } from '../support/server.js';

const start = useServer();

describe('malformed frames', () => {
  it.each([
    ['text that is not JSON', 'hello', 'bad_json'],
    ['a JSON array', '[1,2]', 'bad_json'],
    ['a JSON string', '"hi"', 'bad_json'],
    ['JSON null', 'null', 'bad_json'],
    ['a frame without a type', '{"channel":"x"}', 'bad_request'],
    ['a string type', '{"type":"4","channel":"x"}', 'bad_request'],
    ['a fractional type', '{"type":4.5,"channel":"x"}', 'bad_request'],
    ['an unknown type', '{"type":7}', 'unknown_type'],
    ['the error type', '{"type":-1}', 'unknown_type'],
    ['a join without a channel', '{"type":4}', 'bad_request'],
    ['a join with a numeric channel', '{"type":4,"channel":5}', 'bad_request'],
    ['a message without text', '{"type":0,"dest":"x"}', 'bad_request'],
    ['a message with a numeric text', '{"type":0,"dest":"x","message":1}', 'bad_request'],
    ['a message to an invalid channel', '{"type":0,"dest":"no way","message":"hi"}', 'invalid_channel'],
    ['a channel list with a bad name', '{"type":6,"channel":"a b"}', 'invalid_channel'],
    ['an id that is an object', '{"type":6,"id":{}}', 'bad_request'],
    ['an id of 65 characters', `{"type":6,"id":"${'i'.repeat(65)}"}`, 'bad_request'],
  ])('answers %s with %s, once, and keeps the connection', async (_, text, code) => {
    const { login } = await start();
    const alice = await login('alice');
    alice.send(text);
    await alice.expectError(code);
    await alice.expectQuiet();
    expect(alice.ws.readyState).toBe(alice.ws.OPEN);
  });

  it('answers a binary frame with bad_request', async () => {
    const { login } = await start();
    const alice = await login('alice');
    alice.ws.send(Buffer.from('{"type":6}'), { binary: true });
    await alice.expectError('bad_request');
    await alice.expectQuiet();
  });

  it('echoes a string or integer id on errors', async () => {
    const { login } = await start();
    const alice = await login('alice');
    alice.send({ type: 9, id: 'abc' });
    await alice.expectError('unknown_type', 'abc');
    alice.send({ type: 5, channel: 'x', id: -3 });
    await alice.expectError('not_member', -3);
    alice.send({ type: 4, id: 'i'.repeat(64) });
    await alice.expectError('bad_request', 'i'.repeat(64));
  });

  it('ignores unknown extra fields', async () => {
    const { login } = await start();
    const alice = await login('alice');
    alice.send({ type: 4, channel: 'x', colour: 'blue', user: 'mallory' });
    await alice.expect({ type: 4, channel: '#x', user: 'alice' });
    alice.send({ type: 0, dest: 'x', message: 'hi', user: 'mallory', extra: [1] });
    await alice.expect({ type: 0, dest: '#x', message: 'hi', user: 'alice' });
  });

  it('keeps serving others while one client sends garbage', async () => {
    const { login } = await start();
    const alice = await login('alice');
    const bob = await login('bob');
    await alice.next();
    for (const client of [alice, bob]) {
      client.send({ type: 4, channel: 'x' });
      await client.expect({ type: 4, channel: '#x', user: client === alice ? 'alice' : 'bob' });
    }
    await alice.next();
    const garbage = ['{', '[]', '{"type":null}', '\u0000', '{"type":4,"channel":{"$gt":""}}', 'x'.repeat(10_000)];
    for (const text of garbage) bob.send(text);
    alice.send({ type: 0, dest: 'x', message: 'still fine' });
    await alice.expect({ type: 0, dest: '#x', message: 'still fine', user: 'alice' });
    for (let i = 0; i < garbage.length; i++) await bob.next((frame) => frame.type === -1);
    await bob.expect({ type: 0, dest: '#x', message: 'still fine', user: 'alice' });
  });
});

describe('the HTTP side', () => {
  it.each(['/', '/chat', '/chat/login', '/chat/login/a/b', '/chat/logout/alice'])(
    'answers an upgrade on %s with 404',
    async (path) => {
      const { server } = await start();
      await expect(TestClient.connect(server.url, 'x', path)).rejects.toThrow('HTTP 404');
    },
  );
});
