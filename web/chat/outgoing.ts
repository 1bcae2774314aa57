/**
 * @module outgoing: the messages a person typed that the server has not yet
 * echoed back, so that none is lost to a dropped connection.
 *
 * A message waits here until its channel can take it (connected, and the
 * channel rejoined after a reconnect), goes out in the order typed, and is
 * done when the server's broadcast of it comes back. One the connection lost
 * before its echo arrived is sent again: a rare duplicate is better than a
 * message silently gone.
 */

export interface Outgoing {
  channel: string;
  text: string;
  /** The request id it was last sent with. */
  id?: number;
  /** The line in the channel's log that shows it as not sent yet, while there is one. */
  line?: HTMLElement;
}

export class OutgoingMessages {
  /** Not sent yet, in the order typed. */
  private waiting: Outgoing[] = [];
  /** Sent and not yet echoed, in the order sent. */
  private sent: Outgoing[] = [];

  add(channel: string, text: string): void {
    this.waiting.push({ channel, text });
  }

  /**
   * Sends what may go now, in order: `send` gets each message its channel can
   * take and returns its request id. A channel that cannot take one holds back
   * every later message to it too, so each channel's order is kept.
   * Returns the messages still waiting, for the page to show.
   */
  flush(canSend: (channel: string) => boolean, send: (message: Outgoing) => number): Outgoing[] {
    const held = new Set<string>();
    const still: Outgoing[] = [];
    for (const message of this.waiting) {
      if (held.has(message.channel) || !canSend(message.channel)) {
        held.add(message.channel);
        still.push(message);
        continue;
      }
      message.id = send(message);
      this.sent.push(message);
    }
    this.waiting = still;
    return still;
  }

  /** The server echoed one of our messages: the oldest one sent to that channel with that text is done. */
  echoed(channel: string, text: string): Outgoing | undefined {
    const index = this.sent.findIndex((message) => message.channel === channel && message.text === text);
    return index < 0 ? undefined : this.sent.splice(index, 1)[0];
  }

  /**
   * A recovered event (missed while the connection was down) is one of our
   * messages: the oldest one sent before the drop with that text reached the
   * server, so it is done rather than sent again. Never one only typed since:
   * that one cannot have reached the server yet.
   */
  recovered(channel: string, text: string): Outgoing | undefined {
    const index = this.waiting.findIndex((message) => message.id !== undefined && message.channel === channel && message.text === text);
    return index < 0 ? undefined : this.waiting.splice(index, 1)[0];
  }

  /** The server refused the message sent with `id`: it is no longer ours to send. */
  refused(id: number): Outgoing | undefined {
    const index = this.sent.findIndex((message) => message.id === id);
    return index < 0 ? undefined : this.sent.splice(index, 1)[0];
  }

  /** The connection dropped: what was sent but not echoed goes back first in line, in its order. */
  connectionLost(): void {
    this.waiting = [...this.sent, ...this.waiting];
    this.sent = [];
  }

  /** The channel was left: nothing more goes to it. */
  forget(channel: string): Outgoing[] {
    const dropped = this.waiting.filter((message) => message.channel === channel);
    this.waiting = this.waiting.filter((message) => message.channel !== channel);
    this.sent = this.sent.filter((message) => message.channel !== channel);
    return dropped;
  }

  clear(): void {
    this.waiting = [];
    this.sent = [];
  }
}
