/**
 * @module web-channel-history.test: the page's bookkeeping of a channel's
 * offsets, which decides what is shown twice (nothing), what a rejoin asks
 * to recover, and whether "Load older" is offered.
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
}
interface Outgoing {
  channel: string;
  text: string;
  id?: number;
}
interface OutgoingMessages {
  add(channel: string, text: string): void;
  flush(canSend: (channel: string) => boolean, send: (message: Outgoing) => number): Outgoing[];
  connectionLost(): void;
  recovered(channel: string, text: string): Outgoing | undefined;
}
const { ChannelHistory } = (await import(new URL('../dist/web/chat/channel-history.js', import.meta.url).href)) as {
  ChannelHistory: new () => History;
};
const { OutgoingMessages } = (await import(new URL('../dist/web/chat/outgoing.js', import.meta.url).href)) as {
  OutgoingMessages: new () => OutgoingMessages;
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
});

describe('unsent messages a recovery shows the server had', () => {
  it('are done rather than sent again; one only typed since is not taken for them', () => {
    const outgoing = new OutgoingMessages();
    outgoing.add('#a', 'hello');
    let id = 0;
    outgoing.flush(() => true, () => ++id);
    outgoing.connectionLost();
    outgoing.add('#a', 'hello');
    expect(outgoing.recovered('#a', 'hello')).toMatchObject({ text: 'hello', id: 1 });
    // The one typed while disconnected was never sent: it is still to go.
    expect(outgoing.recovered('#a', 'hello')).toBeUndefined();
    const sent: string[] = [];
    outgoing.flush(() => true, (message) => (sent.push(message.text), ++id));
    expect(sent).toEqual(['hello']);
  });
});
