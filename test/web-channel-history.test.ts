/**
 * @module web-channel-history.test: the page's bookkeeping of a channel's
 * offsets, which decides what is shown twice (nothing) and whether "Load
 * older" is offered.
 */
import { describe, expect, it } from 'vitest';

interface History {
  epoch: string | undefined;
  newest: number;
  oldest: number | undefined;
  more: boolean;
  joined(epoch: string | undefined): boolean;
  take(offset: number): boolean;
  paged(more: boolean): void;
  startedAfresh(): void;
}
const { ChannelHistory } = (await import(new URL('../dist/web/chat/channel-history.js', import.meta.url).href)) as {
  ChannelHistory: new () => History;
};
describe("the page's channel history", () => {
  it('takes each offset once, whatever order history, pages and live frames bring them in', () => {
    const history = new ChannelHistory();
    history.joined('e1');
    expect([20, 21, 22].map((offset) => history.take(offset))).toEqual([true, true, true]);
    expect(history.take(21)).toBe(false);
    expect([10, 19, 22, 23].map((offset) => history.take(offset))).toEqual([true, true, false, true]);
    expect([history.oldest, history.newest, history.more]).toEqual([10, 23, true]);
  });

  it('offers older events until offset 1 is shown or a page says there are no more', () => {
    const history = new ChannelHistory();
    history.joined('e1');
    history.take(5);
    expect(history.more).toBe(true);
    history.paged(false);
    expect(history.more).toBe(false);
    const fromStart = new ChannelHistory();
    fromStart.joined('e1');
    fromStart.take(1);
    expect(fromStart.more).toBe(false);
  });

  it('forgets every offset when the store’s epoch changes, and only then', () => {
    const history = new ChannelHistory();
    expect(history.joined('e1')).toBe(false);
    history.take(7);
    expect(history.joined('e1')).toBe(false);
    expect(history.take(7)).toBe(false);
    expect(history.joined('e2')).toBe(true);
    expect([history.newest, history.oldest]).toEqual([0, undefined]);
    expect(history.take(7)).toBe(true);
  });

  it('forgets every offset when a rejoin reports the store started afresh, and takes the next epoch quietly', () => {
    const history = new ChannelHistory();
    history.joined('e1');
    history.take(3);
    history.startedAfresh();
    expect([history.epoch, history.newest, history.oldest]).toEqual([undefined, 0, undefined]);
    expect(history.take(3)).toBe(true);
    expect(history.joined('e2')).toBe(false);
    expect(history.take(3)).toBe(false);
  });
});

// Whether a recovered message of the page's own is done rather than sent again is the client SDK's to decide
// now (client/tracker.ts), tested with the SDK in test/client/tracker.test.ts and test/client/reconnect.test.ts.
