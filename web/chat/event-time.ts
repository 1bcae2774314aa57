/**
 * @module event-time: when a channel event happened, as the log shows it:
 * the time alone for today, with the date for anything older (history can be
 * days old), from the server's `time` stamp rather than the page's clock.
 */

function sameDay(a: Date, b: Date): boolean {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
}

export function shownTime(ms: number, now = new Date()): string {
  const at = new Date(ms);
  const clock: Intl.DateTimeFormatOptions = { hour: '2-digit', minute: '2-digit' };
  return sameDay(at, now) ? at.toLocaleTimeString([], clock) : at.toLocaleString([], { day: 'numeric', month: 'short', ...clock });
}
