/**
 * @module tracker.test: the client's bookkeeping on the one path a server
 * cannot be made to take on cue: a message sent just before the connection
 * dropped, which the recovery after the reconnect shows did arrive. It must
 * settle from the recovered event and not be sent again (a duplicate), while
 * a message typed after the drop still goes, after the rejoin.
 */
import { describe, expect, it } from 'vitest';
import type { IncomingFrame } from '../../client/frames.js';
import { addRequest, createTracker, onDropped, onFrame, onOnline, type Step, type Tracker } from '../../client/tracker.js';

const TIME = 1_795_574_400_000;

function frame(value: object): IncomingFrame {
  return value as IncomingFrame;
}

describe('the client tracker', () => {
  it('settles a message the recovery shows arrived, sends only what did not, and drops what it delivered already', () => {
    let tracker: Tracker = createTracker('alice');
    const run = (step: Step) => {
      tracker = step.tracker;
      return step;
    };

    expect(run(addRequest(tracker, { type: 4, channel: 'Room', id: 1 }, true)).out).toEqual([{ type: 4, channel: '#room', id: 1 }]);
    run(onFrame(tracker, frame({ type: 4, channel: '#room', user: 'alice', offset: 1, time: TIME, epoch: 'e1' })));
    expect(run(addRequest(tracker, { type: 0, dest: '#room', message: 'hi', id: 2 }, true)).out).toHaveLength(1);

    // The connection drops before the echo of "hi"; "later" is typed while it is down.
    expect(run(onDropped(tracker)).emits).toEqual([]);
    expect(run(addRequest(tracker, { type: 0, dest: '#room', message: 'later', id: 3 }, false)).out).toEqual([]);

    // Back: the channel is rejoined after offset 1 of epoch e1; messages wait for the rejoin.
    expect(run(onOnline(tracker, 'alice')).out).toEqual([{ type: 4, channel: '#room', id: 'rejoin-1', since: 1, epoch: 'e1' }]);
    run(onFrame(tracker, frame({ type: 0, dest: '#room', message: 'hi', user: 'alice', offset: 2, time: TIME, history: true })));
    run(onFrame(tracker, frame({ type: 5, channel: '#room', user: 'alice', offset: 3, time: TIME, history: true })));
    const joined = run(onFrame(tracker, frame({ type: 4, channel: '#room', user: 'alice', offset: 4, time: TIME, epoch: 'e1', recovered: true })));

    expect(joined.emits).toEqual([
      { type: 'recovered', channel: '#room', count: 1 },
      { type: 'settled', id: 2, value: expect.objectContaining({ message: 'hi', offset: 2, source: 'recovered' }) },
      expect.objectContaining({ type: 'message', message: 'hi', offset: 2, source: 'recovered', own: true }),
    ]);
    // "hi" arrived before the drop, so only "later" goes.
    expect(joined.out).toEqual([{ type: 0, dest: '#room', message: 'later', id: 3 }]);

    // A frame at or below the newest offset delivered is a duplicate.
    expect(run(onFrame(tracker, frame({ type: 0, dest: '#room', message: 'hi', user: 'alice', offset: 2, time: TIME }))).emits).toEqual([]);
    const echo = run(onFrame(tracker, frame({ type: 0, dest: '#room', message: 'later', user: 'alice', offset: 5, time: TIME })));
    expect(echo.emits.map((emitted) => emitted.type)).toEqual(['settled', 'message']);
    expect(tracker.requests).toEqual([]);
  });

  it('sends a message again when the recovery does not show it arrived', () => {
    let tracker: Tracker = createTracker('alice');
    tracker = addRequest(tracker, { type: 4, channel: '#room', id: 1 }, true).tracker;
    tracker = onFrame(tracker, frame({ type: 4, channel: '#room', user: 'alice', offset: 1, time: TIME, epoch: 'e1' })).tracker;
    tracker = addRequest(tracker, { type: 0, dest: '#room', message: 'lost', id: 2 }, true).tracker;
    tracker = onDropped(tracker).tracker;
    tracker = onOnline(tracker, 'alice').tracker;
    const joined = onFrame(tracker, frame({ type: 4, channel: '#room', user: 'alice', offset: 2, time: TIME, epoch: 'e1', recovered: true }));
    expect(joined.emits).toEqual([{ type: 'recovered', channel: '#room', count: 0 }]);
    expect(joined.out).toEqual([{ type: 0, dest: '#room', message: 'lost', id: 2 }]);
  });

  it('fails the oldest message waiting for its echo when the store could not keep one (unavailable comes without an id)', () => {
    let tracker: Tracker = createTracker('alice');
    tracker = addRequest(tracker, { type: 4, channel: '#room', id: 1 }, true).tracker;
    tracker = onFrame(tracker, frame({ type: 4, channel: '#room', user: 'alice', offset: 1, time: TIME, epoch: 'e1' })).tracker;
    tracker = addRequest(tracker, { type: 0, dest: '#room', message: 'first', id: 2 }, true).tracker;
    tracker = addRequest(tracker, { type: 0, dest: '#room', message: 'second', id: 3 }, true).tracker;
    const refused = onFrame(tracker, frame({ type: -1, code: 'unavailable', message: 'The server could not store this.' }));
    expect(refused.emits).toEqual([{ type: 'failed', id: 2, code: 'unavailable', message: 'The server could not store this.' }]);
    expect(refused.tracker.requests.map((request) => request.id)).toEqual([3]);
  });
});
